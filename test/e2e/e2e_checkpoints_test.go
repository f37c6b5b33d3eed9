package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/node"
)

// e2eCheckpoint is a checkpoint as the API serves it.
type e2eCheckpoint struct {
	Seq        uint64    `json:"seq"`
	Hash       string    `json:"hash"`
	Time       time.Time `json:"time"`
	Signature  string    `json:"signature"`
	PublicKey  string    `json:"public_key"`
	Checkpoint string    `json:"checkpoint"`
	Position   uint64    `json:"position"`
}

// verify checks that c is the signed checkpoint of event seq with hash,
// under the public key the node wrote beside its signing key.
func (c e2eCheckpoint) verify(t *testing.T, dataDir string, seq uint64, hash string) {
	t.Helper()
	pub, err := os.ReadFile(filepath.Join(dataDir, "checkpoint.key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := domain.ParsePublicKey(string(pub))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := domain.ParseCheckpoint(c.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if c.Seq != seq || c.Hash != hash || cp.Seq != seq || cp.Hash.String() != hash || cp.SignatureString() != c.Signature ||
		c.PublicKey != strings.TrimSpace(string(pub)) || c.Time.IsZero() || c.Position == 0 {
		t.Fatalf("checkpoint %+v, want event %d with hash %s", c, seq, hash)
	}
	if err := cp.Verify(key); err != nil {
		t.Fatal(err)
	}
}

// TestE2ECheckpoints: transfer answers and GET /v1/status carry the
// journal hash; the ledger signs its head on demand and at its interval;
// the checkpoints it serves verify with its public key, and the journal
// passes through every one of them.
func TestE2ECheckpoints(t *testing.T) {
	doc := oaLoadDoc(t)
	witness := filepath.Join(t.TempDir(), "witness.jsonl")
	l := e2eStartWith(t, node.Config{CheckpointInterval: 20 * time.Millisecond, CheckpointFile: witness})
	reader := l.as(l.tokenFor(t, "alice", time.Hour, api.ScopeTransfersRead))

	e2eCheckProblem(t, reader.do(t, http.MethodGet, "/v1/checkpoints/latest", nil), http.StatusNotFound, "checkpoint_not_found", "")
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/checkpoints", nil), http.StatusServiceUnavailable, "unavailable", "")

	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	l.mint(t, "alice", "100.00")
	r := l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "cp-1", "from": "alice", "to": "bob", "amount": "1.00"})
	tr := e2eJSON[struct {
		e2eTransfer
		Hash string `json:"hash"`
	}](t, r, http.StatusCreated)
	ev := l.journal(t).postedEvents("cp-1")
	if len(ev) != 1 || tr.Hash != ev[0].Hash || ev[0].Seq != tr.Sequence {
		t.Fatalf("the answer's hash %q, the journal's event %+v", tr.Hash, ev)
	}
	l.settle(t)
	s := l.status(t, doc)
	if h := e2eStatusHash(t, l); s.Journal.Sequence != tr.Sequence || h != tr.Hash {
		t.Fatalf("status at %d with hash %q; the last transfer is %d with %s", s.Journal.Sequence, h, tr.Sequence, tr.Hash)
	}

	// On demand: an admin only.
	e2eCheckProblem(t, reader.do(t, http.MethodPost, "/v1/checkpoints", nil), http.StatusForbidden, "forbidden", "")
	cp := e2eJSON[e2eCheckpoint](t, l.do(t, http.MethodPost, "/v1/checkpoints", nil), http.StatusCreated)
	cp.verify(t, l.dataDir, tr.Sequence, tr.Hash)

	// At the interval, once the journal has grown.
	tr2 := l.post(t, map[string]any{"id": "cp-2", "from": "alice", "to": "bob", "amount": "2.00"})
	var latest e2eCheckpoint
	e2eEventually(t, e2eOutcomeWait, "a checkpoint of the new head", func() (bool, string) {
		r := reader.do(t, http.MethodGet, "/v1/checkpoints/latest", nil)
		latest = e2eJSON[e2eCheckpoint](t, r, http.StatusOK)
		return latest.Seq == tr2.Sequence, r.String()
	})
	latest.verify(t, l.dataDir, tr2.Sequence, l.journal(t)[tr2.Sequence-1].Hash)
	e2eReplaysCarryTheHash(t, l, tr.Sequence, tr.Hash)

	// The list, a page at a time, oldest first.
	var all []e2eCheckpoint
	path := "/v1/checkpoints?limit=1"
	for range 100 {
		page := e2eJSON[struct {
			Data       []e2eCheckpoint `json:"data"`
			NextCursor *string         `json:"next_cursor"`
		}](t, reader.do(t, http.MethodGet, path, nil), http.StatusOK)
		all = append(all, page.Data...)
		if page.NextCursor == nil {
			break
		}
		path = "/v1/checkpoints?limit=1&cursor=" + *page.NextCursor
	}
	listed := map[uint64]bool{}
	for i, c := range all {
		listed[c.Position] = true
		if i > 0 && (c.Position <= all[i-1].Position || c.Seq < all[i-1].Seq) {
			t.Fatalf("the list is not in the order taken: %+v", all)
		}
	}
	if !listed[cp.Position] || !listed[latest.Position] {
		t.Fatalf("listed %+v; taken %+v and %+v", all, cp, latest)
	}

	// The witness file holds a copy of each, in the same order.
	data, err := os.ReadFile(witness)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < len(all) {
		t.Fatalf("the witness file has %d checkpoints, the stream %d", len(lines), len(all))
	}
	for i, c := range all {
		var w e2eCheckpoint
		if err := json.Unmarshal([]byte(lines[i]), &w); err != nil || w.Checkpoint != c.Checkpoint || w.Position != c.Position {
			t.Fatalf("witness line %d: %s, the stream's %+v (%v)", i, lines[i], c, err)
		}
	}

	// The journal passes through every checkpoint the ledger served.
	opts := audit.Options{}
	for _, c := range all {
		p, err := domain.ParseCheckpoint(c.Checkpoint)
		if err != nil {
			t.Fatal(err)
		}
		opts.Checkpoints = append(opts.Checkpoints, p)
	}
	if opts.PublicKey, _ = domain.ParsePublicKey(cp.PublicKey); opts.PublicKey == nil {
		t.Fatal("no public key")
	}
	res, err := audit.Run(context.Background(), &audit.JetStreamSource{JS: l.node.JS, Names: l.node.Names}, opts)
	if err != nil || !res.Report.OK {
		t.Fatalf("audit through the served checkpoints: %v %+v", err, res.Report.Findings)
	}
}

// e2eStatusHash reads journal.hash from GET /v1/status.
func e2eStatusHash(t *testing.T, l *e2eLedger) string {
	t.Helper()
	s := e2eJSON[struct {
		Journal struct {
			Hash string `json:"hash"`
		} `json:"journal"`
	}](t, l.do(t, http.MethodGet, "/v1/status", nil), http.StatusOK)
	return s.Journal.Hash
}

// e2eReplaysCarryTheHash checks that every answer naming transfer cp-1,
// posted at seq with hash, carries that hash: its retry (a replay, from
// the read model), a batch's replayed item and a read; and that a
// rejection's read carries its own event's hash.
func e2eReplaysCarryTheHash(t *testing.T, l *e2eLedger, seq uint64, hash string) {
	t.Helper()
	type hashed struct {
		e2eTransfer
		Hash string `json:"hash"`
	}
	r := l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "cp-1", "from": "alice", "to": "bob", "amount": "1.00"})
	if got := e2eJSON[hashed](t, r, http.StatusOK); r.Header.Get("Idempotent-Replayed") != "true" || got.Sequence != seq || got.Hash != hash {
		t.Fatalf("the retry's answer: %s; want the hash %s of sequence %d", r, hash, seq)
	}
	r = l.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"transfers": []any{
		map[string]any{"id": "cp-1", "from": "alice", "to": "bob", "amount": "1.00"}}})
	batch := e2eJSON[struct {
		Results []struct {
			Replayed bool    `json:"replayed"`
			Transfer *hashed `json:"transfer"`
		} `json:"results"`
	}](t, r, http.StatusOK)
	if len(batch.Results) != 1 || !batch.Results[0].Replayed || batch.Results[0].Transfer == nil || batch.Results[0].Transfer.Hash != hash {
		t.Fatalf("the batch's replayed item: %s; want the hash %s", r, hash)
	}
	if got := e2eJSON[hashed](t, l.do(t, http.MethodGet, "/v1/transfers/cp-1", nil), http.StatusOK); got.Hash != hash {
		t.Fatalf("the read of cp-1 has hash %q, want %s", got.Hash, hash)
	}
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "cp-r", "from": "bob", "to": "alice", "amount": "9.00"}),
		http.StatusUnprocessableEntity, "insufficient_funds", "")
	rej := l.journal(t).rejectedEvents("cp-r")
	if len(rej) != 1 {
		t.Fatalf("rejections of cp-r: %+v", rej)
	}
	l.settle(t)
	if got := e2eJSON[hashed](t, l.do(t, http.MethodGet, "/v1/transfers/cp-r", nil), http.StatusOK); got.Status != "rejected" || got.Sequence != rej[0].Seq || got.Hash != rej[0].Hash {
		t.Fatalf("the read of rejected cp-r: %+v; want the hash %s of sequence %d", got, rej[0].Hash, rej[0].Seq)
	}
}
