package e2e_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/domain"
)

// journalWrite is one kind of request of the table "Which requests write
// an event" in docs/journal.md: how to make it, given a ledger seeded by
// seedPayments (alice holds 100.00 USD, bob 0; both own their accounts)
// and a pending hold wh0 of 1.00 from alice to bob.
type journalWrite struct {
	status int
	do     func(t *testing.T, l *e2eLedger) e2eResp
}

// journalWrites drives every row of the table; the keys are its first
// column.
func journalWrites() map[string]journalWrite {
	user := func(t *testing.T, l *e2eLedger) *e2eLedger {
		return l.as(l.tokenFor(t, "alice", time.Hour, userScopes...))
	}
	post := func(body map[string]any, header ...string) func(t *testing.T, l *e2eLedger) e2eResp {
		return func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/transfers", body, header...)
		}
	}
	return map[string]journalWrite{
		"transfer-posted":            {201, post(tr("w1", "alice", "bob", "1.00"))},
		"transfer-async":             {202, post(tr("w2", "alice", "bob", "1.00"), "Prefer", "respond-async")},
		"transfer-replayed":          {200, post(tr("w1", "alice", "bob", "1.00"))},
		"idempotency_conflict":       {409, post(tr("w1", "alice", "bob", "2.00"))},
		"validation_failed":          {400, post(map[string]any{"id": "w3", "from": "alice", "to": "bob", "amount": "1", "nope": 1})},
		"memo-posted":                {201, post(map[string]any{"id": "w1m", "from": "alice", "to": "bob", "amount": "0", "memo": true})},
		"invalid_amount-syntax":      {400, post(tr("w4", "alice", "bob", "0"))},
		"invalid_amount-scale":       {400, post(tr("w5", "alice", "bob", "1.001"))},
		"invalid_amount-scale-asset": {400, post(map[string]any{"id": "w5a", "from": "alice", "to": "bob", "amount": "1.001", "asset": "USD"})},
		"same_account":               {400, post(tr("w6", "alice", "alice", "1"))},
		"account_not_found":          {404, post(tr("w7", "alice", "carol", "1"))},
		"asset_not_found":            {404, post(map[string]any{"id": "w8", "from": "alice", "to": "bob", "amount": "1", "asset": "EUR"})},
		"asset_mismatch": {422, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "w9", "from": "alice", "to": "bob", "amount": "1", "asset": "PTS"})
		}},
		"insufficient_funds": {422, post(tr("w10", "bob", "alice", "1000"))},
		"forbidden-debit": {403, func(t *testing.T, l *e2eLedger) e2eResp {
			return user(t, l).do(t, http.MethodPost, "/v1/transfers", tr("w11", "bob", "alice", "1"))
		}},
		"forbidden-scope": {403, func(t *testing.T, l *e2eLedger) e2eResp {
			return user(t, l).do(t, http.MethodPost, "/v1/assets", map[string]any{"code": "GBP", "scale": 2})
		}},
		"unauthorized": {401, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.as("nope").do(t, http.MethodPost, "/v1/transfers", tr("w12", "alice", "bob", "1"))
		}},
		"payload_too_large": {413, post(map[string]any{"id": "w13", "from": "alice", "to": "bob", "amount": "1", "reference": strings.Repeat("x", api.DefaultMaxBodyBytes)})},
		"batch": {200, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"transfers": []any{tr("w14", "alice", "bob", "1"), tr("w15", "bob", "alice", "1000")}})
		}},
		"batch-aborted": {200, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"atomic": true, "transfers": []any{tr("w16", "alice", "bob", "1"), tr("w17", "bob", "alice", "1000")}})
		}},
		"hold-placed": {201, post(map[string]any{"id": "wh1", "from": "alice", "to": "bob", "amount": "1", "pending": true})},
		"hold-posted": {200, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/transfers/wh1/post", nil)
		}},
		"hold-repeated": {200, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/transfers/wh1/post", nil)
		}},
		"hold_not_pending": {409, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/transfers/wh1/void", nil)
		}},
		"hold-voided": {200, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/transfers/wh0/void", nil)
		}},
		"asset-defined": {201, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/assets", map[string]any{"code": "CHF", "scale": 2})
		}},
		"asset-repeated": {200, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/assets", map[string]any{"code": "CHF", "scale": 2})
		}},
		"asset_conflict": {409, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/assets", map[string]any{"code": "CHF", "scale": 3})
		}},
		"account-opened": {201, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "dave", "asset": "USD"})
		}},
		"account-repeated": {200, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "dave", "asset": "USD"})
		}},
		"account_conflict": {409, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "dave", "asset": "PTS"})
		}},
		"account-forbidden": {403, func(t *testing.T, l *e2eLedger) e2eResp {
			return user(t, l).do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "erin", "asset": "USD", "owner": "erin"})
		}},
		"metadata-updated": {200, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPatch, "/v1/accounts/bob", map[string]any{"metadata": map[string]string{"k": "v"}})
		}},
		"metadata-forbidden": {403, func(t *testing.T, l *e2eLedger) e2eResp {
			return user(t, l).do(t, http.MethodPatch, "/v1/accounts/bob", map[string]any{"metadata": map[string]string{"k": "w"}})
		}},
		"limit-changed": {200, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPut, "/v1/accounts/bob/limit", map[string]any{"overdraft_limit": "20"})
		}},
		"limit-forbidden": {403, func(t *testing.T, l *e2eLedger) e2eResp {
			return user(t, l).do(t, http.MethodPut, "/v1/accounts/bob/limit", map[string]any{"overdraft_limit": "30"})
		}},
		"account-frozen": {200, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/accounts/bob/freeze", map[string]any{"frozen": "debits"})
		}},
		"account_frozen": {422, post(tr("w20", "bob", "alice", "1"))},
		"account-unfrozen": {200, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/accounts/bob/unfreeze", nil)
		}},
		"lifecycle-unchanged": {200, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/accounts/bob/unfreeze", nil)
		}},
		"account_not_empty": {409, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/accounts/bob/close", nil)
		}},
		"webhook-created": {201, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodPost, "/v1/webhooks", map[string]any{"url": "https://hooks.example.com/x", "events": []string{"TransferPosted"}})
		}},
		"read": {200, func(t *testing.T, l *e2eLedger) e2eResp {
			return l.do(t, http.MethodGet, "/v1/accounts/alice", nil)
		}},
	}
}

// describe renders events as the table's journal column does.
func describeEvents(evs []*domain.Event) string {
	if len(evs) == 0 {
		return "none"
	}
	var parts []string
	for _, ev := range evs {
		s := "`" + string(ev.Type) + "`"
		switch {
		case ev.Skip != nil:
			s += " `" + string(ev.Skip.Reason) + "`"
		case ev.Rejection != nil && ev.Rejection.Asset == "":
			s += " without `asset`"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// TestE2EJournalWrites makes a request of every kind docs/journal.md
// lists under "Which requests write an event" and checks its answer and
// what the journal gained against the table, read from the document, so
// that the document and the ledger cannot drift apart. After each request
// a new asset is defined: its AssetDefined closes what the request wrote,
// since commands are decided in the order they are stored.
func TestE2EJournalWrites(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/journal.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "\n## Which requests write an event\n")
	section, _, _ = strings.Cut(section, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `([a-z_-]+)` \\| [^|]+ \\| (\\d{3}) \\| ([^|]+) \\|$")
	rows := row.FindAllStringSubmatch(section, -1)
	cases := journalWrites()
	if len(rows) != len(cases) {
		t.Errorf("the table has %d rows, the test drives %d kinds of request", len(rows), len(cases))
	}
	l := e2eStart(t)
	l.seedPayments(t, 0)
	l.defineAsset(t, "PTS", 0)
	e2eJSON[e2eHold](t, l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "wh0", "from": "alice", "to": "bob", "amount": "1", "pending": true}), http.StatusCreated)
	for i, r := range rows {
		key, wantStatus, want := r[1], r[2], strings.TrimSpace(r[3])
		c, ok := cases[key]
		if !ok {
			t.Errorf("row %q: no request of that kind in the test", key)
			continue
		}
		if strconv.Itoa(c.status) != wantStatus {
			t.Errorf("row %q: the document says %s, the test expects %d", key, wantStatus, c.status)
		}
		before := len(l.journal(t))
		resp := c.do(t, l)
		if resp.Status != c.status {
			t.Errorf("%s: answered %s, want %d", key, resp, c.status)
		}
		barrier := fmt.Sprintf("BAR%d", i)
		l.defineAsset(t, barrier, 0)
		j := l.journal(t)
		end := slices.IndexFunc(j, func(ev *domain.Event) bool { return ev.Asset != nil && ev.Asset.Code == barrier })
		if got := describeEvents(j[before:end]); got != want {
			t.Errorf("%s: the journal gained %s; docs/journal.md says %s", key, got, want)
		}
	}
	checkRecordHeaders(t, l, string(doc), false)
	checkStreams(t, l, string(doc))
}

// docSection is the text of a "## title" section of doc.
func docSection(doc, title string) string {
	_, s, _ := strings.Cut(doc, "\n## "+title+"\n")
	s, _, _ = strings.Cut(s, "\n## ")
	return s
}

// docFirstColumn returns the backquoted first cells of text's table rows.
func docFirstColumn(text string) []string {
	var out []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\|").FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// checkRecordHeaders reads every record with a direct get, as `nats
// stream get` does: its headers are exactly those docs/journal.md lists
// under "Records" (stored, and added by a direct get; and those stored
// only when tracing is on when traced), and its fence header names the
// position before it.
func checkRecordHeaders(t *testing.T, l *e2eLedger, doc string, traced bool) {
	t.Helper()
	records := docSection(doc, "Records")
	stored, rest, _ := strings.Cut(records, "direct-get header")
	stored, tracing, _ := strings.Cut(stored, "header, only when tracing is on")
	direct, _, _ := strings.Cut(rest, "Command messages")
	want := append(docFirstColumn(stored), docFirstColumn(direct)...)
	if traced {
		want = append(want, docFirstColumn(tracing)...)
	}
	slices.Sort(want)
	if len(want) < 9 {
		t.Fatalf("docs/journal.md lists only these record headers: %v", want)
	}
	ctx := context.Background()
	stream, err := l.node.JS.Stream(ctx, l.node.Names.JournalStream)
	if err != nil {
		t.Fatal(err)
	}
	for pos := uint64(1); pos <= stream.CachedInfo().State.LastSeq; pos++ {
		msg, err := stream.GetMsg(ctx, pos)
		if err != nil {
			t.Fatal(err)
		}
		got := slices.Sorted(maps.Keys(msg.Header))
		if !slices.Equal(got, want) || msg.Header.Get("Nats-Expected-Last-Sequence") != strconv.FormatUint(pos-1, 10) ||
			msg.Header.Get("Nats-Expected-Stream") != l.node.Names.JournalStream {
			t.Fatalf("record %d has headers %v, docs/journal.md lists %v", pos, msg.Header, want)
		}
	}
}

// checkStreams lists the streams of a ledger (without the Mixin adapter):
// exactly the streams and buckets docs/journal.md names.
func checkStreams(t *testing.T, l *e2eLedger, doc string) {
	t.Helper()
	var want []string
	for _, line := range strings.Split(docSection(doc, "Streams"), "\n") {
		names := docFirstColumn(line)
		// An adapter's bucket exists only when that adapter is served.
		if len(names) == 1 && strings.Contains(names[0], "_<L>") && !strings.Contains(line, "adapter is served") {
			want = append(want, strings.ReplaceAll(names[0], "<L>", l.node.Names.Ledger))
		}
	}
	var got []string
	names := l.node.JS.StreamNames(context.Background())
	for n := range names.Name() {
		got = append(got, n)
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("the ledger's streams are %v; docs/journal.md names %v", got, want)
	}
}
