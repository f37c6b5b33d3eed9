package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/apidoc"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/node"
)

// End-to-end tests: each starts a whole ledger in-process (embedded NATS on
// a temporary data directory, the processor, the projections) behind a real
// HTTP server, drives it through HTTP only, and checks that every money
// movement was published to the journal and that each asset's balances,
// the issuer account's included, sum to zero.

// Bounds of the harness: how long to wait for readiness and for an
// asynchronous outcome, and how often to poll.
const (
	e2eReadyWait    = 15 * time.Second
	e2eOutcomeWait  = 5 * time.Second
	e2ePollInterval = 20 * time.Millisecond
	e2eClientWait   = 30 * time.Second
)

// e2eLedger is one ledger running in-process behind an HTTP server.
type e2eLedger struct {
	node    *node.Node
	base    string
	client  *http.Client
	token   string // sent as the bearer token unless a request overrides it
	dataDir string
	stop    func() // stops the HTTP server, then the node; once
}

// openAPIFile is the API's OpenAPI document, which the server embeds,
// relative to this package.
const openAPIFile = "../../api/openapi.json"

// oaLoadDoc parses the OpenAPI document.
func oaLoadDoc(t *testing.T) map[string]any {
	t.Helper()
	return apidoc.LoadFile(t, openAPIFile)
}

// e2eAdminToken is the static admin token every e2e ledger accepts.
const e2eAdminToken = "e2e-admin-token"

// e2eStart starts a ledger on a fresh data directory and waits until
// /readyz answers 200. Everything stops in t.Cleanup: the HTTP server
// first, so that requests in flight still get their outcomes, then the node.
func e2eStart(t *testing.T) *e2eLedger {
	t.Helper()
	return e2eStartWith(t, node.Config{})
}

// e2eStartWith is e2eStart with some of the node's configuration set; the
// logger and admin token are filled in, and the data directory unless set
// (a restart starts on the same one, after the first ledger's stop).
func e2eStartWith(t *testing.T, cfg node.Config) *e2eLedger {
	t.Helper()
	l := e2eLaunch(t, cfg)
	e2eEventually(t, e2eReadyWait, "GET /readyz to answer 200", func() (bool, string) {
		r, err := l.send(http.MethodGet, "/readyz", nil)
		if err != nil {
			return false, err.Error()
		}
		return r.Status == http.StatusOK, fmt.Sprintf("%d %s", r.Status, r.Body)
	})
	return l
}

// e2eLaunch is e2eStartWith without waiting for readiness: HTTP is served
// as soon as the node has started, as `ledger serve` does.
func e2eLaunch(t *testing.T, cfg node.Config) *e2eLedger {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.AdminToken = e2eAdminToken
	// Generous waits: these tests check outcomes, not latency, and CI
	// machines are small and busy. Timeouts are tested on their own.
	if cfg.SyncTimeout == 0 {
		cfg.SyncTimeout = e2eClientWait / 2
	}
	if cfg.ReadWait == 0 {
		cfg.ReadWait = e2eClientWait / 2
	}
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	srv := httptest.NewServer(n.Handler)
	client := &http.Client{
		Timeout:   e2eClientWait,
		Transport: &http.Transport{MaxIdleConnsPerHost: 128},
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			client.CloseIdleConnections()
			srv.Close()
			select {
			case err := <-n.Failed():
				t.Errorf("node component stopped while running: %v", err)
			default:
			}
			if err := n.Close(); err != nil {
				t.Errorf("close node: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &e2eLedger{node: n, base: srv.URL, client: client, token: e2eAdminToken, dataDir: cfg.DataDir, stop: stop}
}

// settle waits until the ledger is ready (/readyz 200) and its read
// models have applied the whole journal (GET /v1/status: the read model
// at the journal's position): every write answered before the call is
// then visible to reads. (A 201 transfer is answered before the read
// model applies it; TestE2EReadYourWrites checks that separately. /readyz
// alone allows a lag up to the admission bound.) It waits as long as a
// start may take to be ready: on a loaded machine the processor's lease
// can lapse and be taken back, and the processor then rebuilds.
func (l *e2eLedger) settle(t *testing.T) {
	t.Helper()
	e2eEventually(t, e2eReadyWait, "the read models to catch up", func() (bool, string) {
		r := l.do(t, http.MethodGet, "/readyz", nil)
		if r.Status != http.StatusOK {
			return false, r.String()
		}
		r = l.do(t, http.MethodGet, "/v1/status", nil, "Authorization", "Bearer "+e2eAdminToken)
		var s e2eStatus
		if r.Status != http.StatusOK || json.Unmarshal(r.Body, &s) != nil {
			return false, r.String()
		}
		return s.Processor.Ready && s.ReadModel.Position >= s.Journal.Position, r.String()
	})
}

// e2eEventually polls cond every e2ePollInterval until it holds or the
// deadline passes, then fails with cond's last description.
func e2eEventually(t *testing.T, wait time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; last: %s", wait, what, last)
		}
		time.Sleep(e2ePollInterval)
	}
}

// e2eResp is a whole HTTP response.
type e2eResp struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte
}

func (r e2eResp) String() string {
	return fmt.Sprintf("%s %s: %d %s", r.Method, r.Path, r.Status, bytes.TrimSpace(r.Body))
}

// send performs one request and reads the whole answer; it is safe to call
// from any goroutine. body is nil (no body), a string or []byte (sent as
// is, with its length), an io.Reader (sent chunked, without a length), or
// anything else (JSON-encoded). header is name, value pairs; a body is sent
// as application/json unless header says otherwise.
func (l *e2eLedger) send(method, path string, body any, header ...string) (e2eResp, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = struct{ io.Reader }{b} // hide any length: chunked
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return e2eResp{}, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, l.base+path, rd)
	if err != nil {
		return e2eResp{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if l.token != "" {
		req.Header.Set("Authorization", "Bearer "+l.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i]) // e.g. "Authorization", "": send none
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	res, err := l.client.Do(req)
	if err != nil {
		return e2eResp{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return e2eResp{}, err
	}
	return e2eResp{Method: method, Path: path, Status: res.StatusCode, Header: res.Header, Body: data}, nil
}

// do is send for the test's goroutine: a transport error fails the test.
func (l *e2eLedger) do(t *testing.T, method, path string, body any, header ...string) e2eResp {
	t.Helper()
	r, err := l.send(method, path, body, header...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// e2eMediaType returns the response's media type without parameters.
func e2eMediaType(r e2eResp) string {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt
}

// e2eJSON checks the status and the JSON content type and decodes the body.
func e2eJSON[T any](t *testing.T, r e2eResp, status int) T {
	t.Helper()
	var v T
	if r.Status != status {
		t.Fatalf("want %d, got %s", status, r)
	}
	if mt := e2eMediaType(r); mt != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, want application/json", r.Method, r.Path, r.Header.Get("Content-Type"))
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("%s: decode: %v", r, err)
	}
	return v
}

// e2eProblem is an RFC 9457 problem with the ledger's code and field.
type e2eProblem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
	Code     string `json:"code"`
	Field    string `json:"field"`
	// RequestID is the answer's X-Request-Id, in every problem.
	RequestID string `json:"request_id"`
}

// e2eCheckProblem asserts that r is a problem with the status and code,
// and with the field when field is not empty. It reports with t.Errorf so
// a table can list every failure.
func e2eCheckProblem(t *testing.T, r e2eResp, status int, code, field string) e2eProblem {
	t.Helper()
	var p e2eProblem
	if r.Status != status {
		t.Errorf("want %d %s, got %s", status, code, r)
		return p
	}
	if mt := e2eMediaType(r); mt != "application/problem+json" {
		t.Errorf("%s: Content-Type %q, want application/problem+json", r, r.Header.Get("Content-Type"))
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Errorf("%s: decode problem: %v", r, err)
		return p
	}
	if p.Code != code {
		t.Errorf("%s: code %q, want %q", r, p.Code, code)
	}
	if p.Status != status {
		t.Errorf("%s: body status %d, want %d", r, p.Status, status)
	}
	if !strings.HasSuffix(p.Type, "#"+code) {
		t.Errorf("%s: type %q does not name the code %q", r, p.Type, code)
	}
	if field != "" && p.Field != field {
		t.Errorf("%s: field %q, want %q", r, p.Field, field)
	}
	if id := r.Header.Get("X-Request-Id"); id == "" || p.RequestID != id {
		t.Errorf("%s: request_id %q, want the X-Request-Id header %q", r, p.RequestID, id)
	}
	return p
}

// e2eTransfer is a transfer as the API answers it.
type e2eTransfer struct {
	ID        string            `json:"id"`
	Status    string            `json:"status"`
	From      string            `json:"from"`
	To        string            `json:"to"`
	Amount    string            `json:"amount"`
	Asset     string            `json:"asset"`
	Reference string            `json:"reference"`
	Metadata  map[string]string `json:"metadata"`
	Memo      bool              `json:"memo"`
	// A conversion's (ADR 0019), and a rejected request's rate.
	ExchangeRate string     `json:"exchange_rate"`
	ToAsset      string     `json:"to_asset"`
	ToAmount     string     `json:"to_amount"`
	Sequence     uint64     `json:"sequence"`
	PostedAt     *time.Time `json:"posted_at"`
	Entries      []e2eEntry `json:"entries"`
	Code         string     `json:"code"`
	Detail       string     `json:"detail"`
	RejectedAt   *time.Time `json:"rejected_at"`
}

// e2eEntry is one side of a posted transfer in a transfer body.
type e2eEntry struct {
	Account string `json:"account"`
	Type    string `json:"type"`
	Amount  string `json:"amount"`
	Balance string `json:"balance"`
}

// e2eAccount is an account as GET /v1/accounts/{id} answers it.
type e2eAccount struct {
	ID             string            `json:"id"`
	Asset          string            `json:"asset"`
	Balance        string            `json:"balance"`
	OverdraftLimit string            `json:"overdraft_limit"`
	Owner          string            `json:"owner"`
	Metadata       map[string]string `json:"metadata"`
	CreatedAt      time.Time         `json:"created_at"`
}

// e2eAccountEntry is one item of GET /v1/accounts/{id}/entries.
type e2eAccountEntry struct {
	TransferID string    `json:"transfer_id"`
	Sequence   uint64    `json:"sequence"`
	Type       string    `json:"type"`
	Amount     string    `json:"amount"`
	Balance    string    `json:"balance"`
	Reference  string    `json:"reference"`
	PostedAt   time.Time `json:"posted_at"`
}

// e2eBalance is GET /v1/accounts/{id}/balance.
type e2eBalance struct {
	Account string `json:"account"`
	Asset   string `json:"asset"`
	Balance string `json:"balance"`
	AsOf    struct {
		Sequence uint64     `json:"sequence"`
		Time     *time.Time `json:"time"`
	} `json:"as_of"`
}

// e2ePage is one page of a listing.
type e2ePage[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// e2ePageOf decodes a listing page and checks that next_cursor is present
// (null on the last page, not absent).
func e2ePageOf[T any](t *testing.T, r e2eResp) e2ePage[T] {
	t.Helper()
	raw := e2eJSON[map[string]json.RawMessage](t, r, http.StatusOK)
	for _, k := range []string{"data", "next_cursor"} {
		if _, ok := raw[k]; !ok {
			t.Fatalf("%s: no %q", r, k)
		}
	}
	return e2eJSON[e2ePage[T]](t, r, http.StatusOK)
}

// defineAsset defines an asset and expects 201.
func (l *e2eLedger) defineAsset(t *testing.T, code string, scale int) {
	t.Helper()
	r := l.do(t, http.MethodPost, "/v1/assets", map[string]any{"code": code, "scale": scale})
	if r.Status != http.StatusCreated {
		t.Fatalf("define asset %s: %s", code, r)
	}
}

// openAccount opens an account and expects 201.
func (l *e2eLedger) openAccount(t *testing.T, id, asset string) e2eAccount {
	t.Helper()
	r := l.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": id, "asset": asset})
	return e2eJSON[e2eAccount](t, r, http.StatusCreated)
}

// post submits a transfer and expects 201 posted.
func (l *e2eLedger) post(t *testing.T, body any, header ...string) e2eTransfer {
	t.Helper()
	r := l.do(t, http.MethodPost, "/v1/transfers", body, header...)
	tr := e2eJSON[e2eTransfer](t, r, http.StatusCreated)
	if tr.Status != "posted" || tr.ID == "" || tr.Sequence == 0 || tr.PostedAt == nil || len(tr.Entries) != 2 {
		t.Fatalf("incomplete posted transfer: %s", r)
	}
	return tr
}

// mint moves amount from the issuer account into id.
func (l *e2eLedger) mint(t *testing.T, id, amount string) e2eTransfer {
	t.Helper()
	return l.post(t, map[string]any{"from": domain.World, "to": id, "amount": amount})
}

// accountPath is the account's path with the asset query the issuer and
// FX accounts need.
func e2eAccountPath(id, asset, suffix string) string {
	p := "/v1/accounts/" + id + suffix
	if id == domain.World || id == domain.FX {
		p += "?asset=" + asset
	}
	return p
}

// account reads an account's view once the read models have caught up.
func (l *e2eLedger) account(t *testing.T, id, asset string) e2eAccount {
	t.Helper()
	l.settle(t)
	return e2eJSON[e2eAccount](t, l.do(t, http.MethodGet, e2eAccountPath(id, asset, ""), nil), http.StatusOK)
}

// e2eMoney matches an amount at scale 2, the scale of every test asset.
var e2eMoney = regexp.MustCompile(`^-?[0-9]+\.[0-9]{2}$`)

// checkZeroSum asserts that the balances of accounts and of the issuer
// account of asset sum to zero, each written at the asset's scale (2).
func (l *e2eLedger) checkZeroSum(t *testing.T, asset string, accounts ...string) {
	t.Helper()
	sum := new(big.Rat)
	for _, id := range append([]string{domain.World}, accounts...) {
		a := l.account(t, id, asset)
		if a.Asset != asset {
			t.Errorf("account %s holds %q, want %s", id, a.Asset, asset)
		}
		if !e2eMoney.MatchString(a.Balance) {
			t.Errorf("account %s: balance %q is not a decimal at scale 2", id, a.Balance)
			continue
		}
		v, _ := new(big.Rat).SetString(a.Balance)
		sum.Add(sum, v)
	}
	if sum.Sign() != 0 {
		t.Errorf("%s balances of world and %v sum to %s, want 0", asset, accounts, sum.FloatString(2))
	}
}

// e2eJournal is every event of the journal, in order.
type e2eJournal []*domain.Event

// journal reads the whole journal from JetStream, checking on the way that
// sequences are gapless from 1 and the hash chain is unbroken.
func (l *e2eLedger) journal(t *testing.T) e2eJournal {
	t.Helper()
	return journaltest.ReadEvents(t, l.node.JS, l.node.Names)
}

// postedEvents returns the TransferPosted events of transfer id.
func (j e2eJournal) postedEvents(id string) []*domain.Event {
	var out []*domain.Event
	for _, ev := range j {
		if ev.Type == domain.EventTransferPosted && ev.Transfer != nil && ev.Transfer.ID == id {
			out = append(out, ev)
		}
	}
	return out
}

// rejectedEvents returns the TransferRejected events of transfer id.
func (j e2eJournal) rejectedEvents(id string) []*domain.Event {
	var out []*domain.Event
	for _, ev := range j {
		if ev.Type == domain.EventTransferRejected && ev.Rejection != nil && ev.Rejection.ID == id {
			out = append(out, ev)
		}
	}
	return out
}

// checkPosted asserts that exactly one TransferPosted event was published
// for tr, at its sequence, with its fields and entries.
func (j e2eJournal) checkPosted(t *testing.T, tr e2eTransfer) {
	t.Helper()
	evs := j.postedEvents(tr.ID)
	if len(evs) != 1 {
		t.Errorf("journal has %d TransferPosted events for %s, want 1", len(evs), tr.ID)
		return
	}
	ev := evs[0]
	p := ev.Transfer
	if ev.Seq != tr.Sequence || p.From != tr.From || p.To != tr.To || p.Amount != tr.Amount || p.Asset != tr.Asset || p.Reference != tr.Reference {
		t.Errorf("journal event %d for %s (%s→%s %s %s %q) differs from the answer (seq %d, %s→%s %s %s %q)",
			ev.Seq, tr.ID, p.From, p.To, p.Amount, p.Asset, p.Reference, tr.Sequence, tr.From, tr.To, tr.Amount, tr.Asset, tr.Reference)
	}
	if tr.PostedAt != nil && !ev.Time.Equal(*tr.PostedAt) {
		t.Errorf("journal event for %s at %v, answer says posted_at %v", tr.ID, ev.Time, *tr.PostedAt)
	}
	for i, e := range p.Entries {
		if i < len(tr.Entries) && (e2eEntry{e.Account, e.Type, e.Amount, e.Balance}) != tr.Entries[i] {
			t.Errorf("journal entry %d of %s is %+v, answer says %+v", i, tr.ID, e, tr.Entries[i])
		}
	}
}

// checkRejected asserts that a TransferRejected event with code was
// published for id.
func (j e2eJournal) checkRejected(t *testing.T, id, code string) {
	t.Helper()
	for _, ev := range j.rejectedEvents(id) {
		if string(ev.Rejection.Code) == code {
			return
		}
	}
	t.Errorf("journal has no TransferRejected event for %s with code %s", id, code)
}

// TestE2EReadmeSession runs the README's curl session and checks every
// answer in full.
func TestE2EReadmeSession(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	start := time.Now()

	r := l.do(t, http.MethodPost, "/v1/assets", `{"code":"USD","scale":2}`)
	if a := e2eJSON[map[string]any](t, r, http.StatusCreated); a["code"] != "USD" || a["scale"] != float64(2) {
		t.Errorf("define USD: %s", r)
	}
	r = l.do(t, http.MethodPost, "/v1/assets", `{"code":"USD","scale":2}`)
	if a := e2eJSON[map[string]any](t, r, http.StatusOK); a["code"] != "USD" || a["scale"] != float64(2) {
		t.Errorf("define USD again: %s", r)
	}
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/assets", `{"code":"USD","scale":3}`), http.StatusConflict, "asset_conflict", "")

	accounts := map[string]e2eAccount{}
	for _, id := range []string{"alice", "bob"} {
		body := `{"id":"` + id + `","asset":"USD"}`
		r := l.do(t, http.MethodPost, "/v1/accounts", body)
		a := e2eJSON[e2eAccount](t, r, http.StatusCreated)
		raw := e2eJSON[map[string]any](t, r, http.StatusCreated)
		for _, k := range []string{"id", "asset", "balance", "overdraft_limit", "owner", "metadata", "created_at"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("open %s: no %q in %s", id, k, r)
			}
		}
		if a.ID != id || a.Asset != "USD" || a.Balance != "0.00" || a.OverdraftLimit != "0.00" || a.Owner != "" || len(a.Metadata) != 0 {
			t.Errorf("open %s: %s", id, r)
		}
		if a.CreatedAt.Before(start.Add(-time.Second)) || a.CreatedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("open %s: created_at %v is not now", id, a.CreatedAt)
		}
		accounts[id] = a
		again := e2eJSON[e2eAccount](t, l.do(t, http.MethodPost, "/v1/accounts", body), http.StatusOK)
		if !again.CreatedAt.Equal(a.CreatedAt) || again.Balance != "0.00" {
			t.Errorf("open %s again: %+v, want the original %+v", id, again, a)
		}
	}
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/accounts", `{"id":"alice","asset":"USD","owner":"someone else"}`),
		http.StatusConflict, "account_conflict", "")

	before := time.Now()
	mint := l.post(t, `{"id":"mint-1","from":"world","to":"alice","amount":"100.00"}`)
	wantMint := []e2eEntry{{"world", "debit", "100.00", "-100.00"}, {"alice", "credit", "100.00", "100.00"}}
	if mint.ID != "mint-1" || mint.From != "world" || mint.To != "alice" || mint.Amount != "100.00" || mint.Asset != "USD" ||
		fmt.Sprint(mint.Entries) != fmt.Sprint(wantMint) {
		t.Errorf("mint: %+v", mint)
	}

	r = l.do(t, http.MethodPost, "/v1/transfers", `{"id":"lunch-1","from":"alice","to":"bob","amount":"25.50","reference":"lunch"}`)
	after := time.Now()
	lunch := e2eJSON[e2eTransfer](t, r, http.StatusCreated)
	raw := e2eJSON[map[string]json.RawMessage](t, r, http.StatusCreated)
	for _, k := range []string{"id", "status", "from", "to", "amount", "asset", "reference", "metadata", "sequence", "posted_at", "entries"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("201 transfer body has no %q: %s", k, r)
		}
	}
	if got := string(raw["metadata"]); got != "{}" {
		t.Errorf("201 transfer metadata is %s, want {}", got)
	}
	wantLunch := e2eTransfer{
		ID: "lunch-1", Status: "posted", From: "alice", To: "bob", Amount: "25.50", Asset: "USD",
		Reference: "lunch", Metadata: map[string]string{}, Sequence: mint.Sequence + 1, PostedAt: lunch.PostedAt,
		Entries: []e2eEntry{{"alice", "debit", "25.50", "74.50"}, {"bob", "credit", "25.50", "25.50"}},
	}
	if fmt.Sprintf("%+v", lunch) != fmt.Sprintf("%+v", wantLunch) {
		t.Errorf("201 transfer:\n got %+v\nwant %+v", lunch, wantLunch)
	}
	if lunch.PostedAt == nil || lunch.PostedAt.Before(before.Add(-time.Second)) || lunch.PostedAt.After(after.Add(time.Second)) {
		t.Errorf("posted_at %v is not between %v and %v", lunch.PostedAt, before, after)
	}
	if loc := r.Header.Get("Location"); loc != "/v1/transfers/lunch-1" {
		t.Errorf("Location %q, want /v1/transfers/lunch-1", loc)
	}
	if h := r.Header.Get("Idempotent-Replayed"); h == "true" {
		t.Errorf("a first posting says Idempotent-Replayed: %q", h)
	}

	p := e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", `{"id":"big-1","from":"alice","to":"bob","amount":"1000"}`),
		http.StatusUnprocessableEntity, "insufficient_funds", "")
	const bigDetail = "insufficient balance: balance was 74.50 USD, at least 1000.00 USD is required"
	if p.Detail != bigDetail {
		t.Errorf("insufficient_funds detail %q, want %q", p.Detail, bigDetail)
	}
	l.settle(t)
	big1 := e2eJSON[e2eTransfer](t, l.do(t, http.MethodGet, "/v1/transfers/big-1", nil), http.StatusOK)
	if big1.Status != "rejected" || big1.Code != "insufficient_funds" || big1.Detail != bigDetail || len(big1.Entries) != 0 {
		t.Errorf("GET big-1: %+v", big1)
	}
	got := e2eJSON[e2eTransfer](t, l.do(t, http.MethodGet, "/v1/transfers/lunch-1", nil), http.StatusOK)
	if got.PostedAt == nil || !got.PostedAt.Equal(*lunch.PostedAt) {
		t.Errorf("GET lunch-1 posted_at %v, want %v", got.PostedAt, lunch.PostedAt)
	}
	got.PostedAt = lunch.PostedAt
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", lunch) {
		t.Errorf("GET lunch-1:\n got %+v\nwant %+v", got, lunch)
	}

	alice := l.account(t, "alice", "")
	if alice.ID != "alice" || alice.Asset != "USD" || alice.Balance != "74.50" || alice.OverdraftLimit != "0.00" ||
		!alice.CreatedAt.Equal(accounts["alice"].CreatedAt) {
		t.Errorf("GET alice: %+v", alice)
	}
	if bob := l.account(t, "bob", ""); bob.Balance != "25.50" {
		t.Errorf("GET bob: balance %s, want 25.50", bob.Balance)
	}

	entries := e2ePageOf[e2eAccountEntry](t, l.do(t, http.MethodGet, "/v1/accounts/alice/entries", nil))
	wantEntries := []e2eAccountEntry{
		{TransferID: "lunch-1", Sequence: lunch.Sequence, Type: "debit", Amount: "25.50", Balance: "74.50", Reference: "lunch", PostedAt: *lunch.PostedAt},
		{TransferID: "mint-1", Sequence: mint.Sequence, Type: "credit", Amount: "100.00", Balance: "100.00", Reference: "", PostedAt: *mint.PostedAt},
	}
	e2eCheckEntries(t, "alice", entries.Data, wantEntries)
	if entries.NextCursor != nil {
		t.Errorf("alice's entries: next_cursor %q on the only page", *entries.NextCursor)
	}

	for _, c := range []struct {
		query, want string
		seq         uint64
	}{
		{"?as_of=" + fmt.Sprint(mint.Sequence), "100.00", mint.Sequence},
		{"?as_of=" + fmt.Sprint(lunch.Sequence), "74.50", lunch.Sequence},
		{"", "74.50", 0},
	} {
		b := e2eJSON[e2eBalance](t, l.do(t, http.MethodGet, "/v1/accounts/alice/balance"+c.query, nil), http.StatusOK)
		if b.Account != "alice" || b.Balance != c.want || (c.seq != 0 && b.AsOf.Sequence != c.seq) {
			t.Errorf("alice's balance%s: %+v, want %s as of %d", c.query, b, c.want, c.seq)
		}
	}

	list := e2ePageOf[e2eTransfer](t, l.do(t, http.MethodGet, "/v1/transfers?account=alice", nil))
	var posted []string
	for _, tr := range list.Data {
		if tr.Status == "posted" {
			posted = append(posted, tr.ID)
		} else if tr.ID != "big-1" || tr.Status != "rejected" {
			t.Errorf("transfers?account=alice lists %+v", tr)
		}
	}
	if fmt.Sprint(posted) != "[lunch-1 mint-1]" || list.NextCursor != nil {
		t.Errorf("transfers?account=alice: posted %v (next_cursor %v), want [lunch-1 mint-1] and null", posted, list.NextCursor)
	}

	world := l.account(t, "world", "USD")
	if world.ID != "world" || world.Asset != "USD" || world.Balance != "-100.00" {
		t.Errorf("GET world?asset=USD: %+v, want balance -100.00", world)
	}
	e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/accounts/world", nil), http.StatusBadRequest, "validation_failed", "asset")

	j := l.journal(t)
	j.checkPosted(t, mint)
	j.checkPosted(t, lunch)
	j.checkRejected(t, "big-1", "insufficient_funds")
	l.checkZeroSum(t, "USD", "alice", "bob")
}

// e2eCheckEntries compares an account's entries with the expected ones.
func e2eCheckEntries(t *testing.T, account string, got, want []e2eAccountEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s has %d entries, want %d:\n got %+v\nwant %+v", account, len(got), len(want), got, want)
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.PostedAt.Equal(w.PostedAt) {
			t.Errorf("%s entry %d: posted_at %v, want %v", account, i, g.PostedAt, w.PostedAt)
		}
		g.PostedAt = w.PostedAt
		if g != w {
			t.Errorf("%s entry %d:\n got %+v\nwant %+v", account, i, g, w)
		}
	}
}
