package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/journalio"
	"github.com/nats-ledger/ledger/node"
)

// e2eHoldReadModel holds the read model's writes, as a stuck writer
// would: the projector cannot commit, so the read model stops where it is
// while reads go on. The hold is released by the returned func, or at
// cleanup.
func e2eHoldReadModel(t *testing.T, l *e2eLedger) (release func()) {
	t.Helper()
	release = l.node.Store.HoldWrites()
	t.Cleanup(release)
	return release
}

// A batch retried while the read model lags behind the originals answers
// 202 with the ids to read later, as a single transfer's retry does, and
// never says "not found" of a posted transfer.
func TestE2EBatchRetryWhileReadModelLags(t *testing.T) {
	t.Parallel()
	l := e2eStartWith(t, node.Config{ReadWait: 300 * time.Millisecond})
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.settle(t)
	release := e2eHoldReadModel(t, l)

	batch := map[string]any{"transfers": []map[string]any{tr("lag-1", domain.World, "alice", "5.00")}}
	res := e2eJSON[e2eBatchResponse](t, l.do(t, http.MethodPost, "/v1/transfers/batch", batch), http.StatusOK).Results
	if len(res) != 1 || res[0].Status != http.StatusCreated {
		t.Fatalf("first batch: %+v", res)
	}
	r := l.do(t, http.MethodPost, "/v1/transfers/batch", batch)
	got := e2eJSON[e2eBatchPending](t, r, http.StatusAccepted)
	if got.Status != "pending" || fmt.Sprint(got.IDs) != "[lag-1]" {
		t.Fatalf("batch retried while the read model lags: %s", r)
	}
	// The single-transfer retry answers the same way.
	r = l.do(t, http.MethodPost, "/v1/transfers", tr("lag-1", domain.World, "alice", "5.00"))
	if r.Status != http.StatusAccepted || r.Header.Get("Location") != "/v1/transfers/lag-1" {
		t.Fatalf("transfer retried while the read model lags: %s", r)
	}
	release()
	if p := l.awaitOutcome(t, "/v1/transfers/lag-1"); p.Status != "posted" {
		t.Fatalf("lag-1 once the read model caught up: %+v", p)
	}
}

// Reusing a posted id with another body asynchronously answers 409 when
// the read model already shows the conflict, and otherwise the Location
// reports it to that client, while the client whose body was posted reads
// its transfer.
func TestE2EAsyncConflict(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	l.mint(t, "alice", "100.00")
	async := []string{"Prefer", "respond-async"}

	l.post(t, tr("c-1", "alice", "bob", "10.00"))
	l.settle(t)
	r := l.do(t, http.MethodPost, "/v1/transfers", tr("c-1", "alice", "bob", "20.00"), async...)
	e2eCheckProblem(t, r, http.StatusConflict, "idempotency_conflict", "")
	// The same body is no conflict: a replay, answered 202 as asked.
	r = l.do(t, http.MethodPost, "/v1/transfers", tr("c-1", "alice", "bob", "10"), async...)
	if r.Status != http.StatusAccepted {
		t.Fatalf("async replay of c-1 with the same body: %s", r)
	}

	// Not known at submission: two clients submit c-2 with different
	// bodies while the read model has neither.
	release := e2eHoldReadModel(t, l)
	first := l.do(t, http.MethodPost, "/v1/transfers", tr("c-2", "alice", "bob", "1.00"), async...)
	other := l.as(l.tokenFor(t, "other-client", time.Hour, api.ScopeAdmin))
	second := other.do(t, http.MethodPost, "/v1/transfers", tr("c-2", "alice", "bob", "2.00"), async...)
	if first.Status != http.StatusAccepted || second.Status != http.StatusAccepted {
		t.Fatalf("async submissions of c-2: %s; %s", first, second)
	}
	release()
	if p := l.awaitOutcome(t, "/v1/transfers/c-2"); p.Status != "posted" || p.Amount != "1.00" {
		t.Fatalf("c-2 for the client whose body was posted: %+v", p)
	}
	r = other.do(t, http.MethodGet, "/v1/transfers/c-2", nil)
	e2eCheckProblem(t, r, http.StatusConflict, "idempotency_conflict", "")
}

// e2eStoreUndecided stores items in a stopped ledger's commands stream,
// without waiting, as an API instance answering 202 just before a crash
// leaves them: stored, not yet decided.
func e2eStoreUndecided(t *testing.T, dataDir string, batches ...[]commands.Item) {
	t.Helper()
	_, nc, stop, err := infra.StartServer(infra.ServerConfig{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := infra.NewSubmitter(nc, js, journalio.NamesFor("default"), infra.GroupCommit{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for _, items := range batches {
		if _, err := sub.SubmitEnvelope(context.Background(), items, false, false); err != nil {
			t.Fatalf("store commands: %v", err)
		}
	}
}

// e2eMints is n items minting 0.01 into account, ids prefix-0 ...
func e2eMints(prefix, account string, n int) []commands.Item {
	items := make([]commands.Item, n)
	for i := range items {
		items[i] = commands.Item{Actor: &domain.Actor{Subject: "admin", Admin: true},
			Transfer: &domain.Transfer{ID: fmt.Sprintf("%s-%d", prefix, i), From: domain.World, To: account, Amount: "0.01"}}
	}
	return items
}

// After a restart, a transfer answered 201 or 202 before it reads as
// decided (or pending), never as not found, even while the read model is
// being rebuilt and the processor has yet to decide what was stored: reads
// wait for the journal's end as it was at the start, and a miss answers
// 503 until the commands stored before the start are decided.
func TestE2ERestartReadsAcceptedIDs(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	var posted []string
	for range 5 {
		posted = append(posted, l.mint(t, "alice", "1.00").ID)
	}
	dir := l.dataDir
	l.stop()
	// Commands stored and undecided at the restart (answered 202), and a
	// read model that must be rebuilt from nothing.
	e2eStoreUndecided(t, dir, e2eMints("u", "alice", 500), e2eMints("v", "alice", 500))
	if err := os.RemoveAll(filepath.Join(dir, node.ReadModelDir)); err != nil {
		t.Fatal(err)
	}

	l = e2eLaunch(t, node.Config{DataDir: dir, SyncTimeout: e2eClientWait / 2, ReadWait: e2eClientWait / 2})
	ids := append(append([]string{}, posted...), "u-0", "u-499", "v-0", "v-499")
	for _, id := range ids {
		e2eEventually(t, e2eReadyWait, id+" to read as decided", func() (bool, string) {
			r := l.do(t, http.MethodGet, "/v1/transfers/"+id, nil)
			switch r.Status {
			case http.StatusOK:
				if tr := e2eJSON[e2eTransfer](t, r, http.StatusOK); tr.Status != "posted" {
					t.Fatalf("%s after the restart: %s", id, r)
				}
				return true, ""
			case http.StatusServiceUnavailable:
				if r.Header.Get("Retry-After") == "" {
					t.Fatalf("503 without Retry-After: %s", r)
				}
				return false, r.String()
			}
			t.Fatalf("%s accepted before the restart; after it: %s", id, r)
			return false, ""
		})
	}
	// Once everything stored before the start is decided, not found means
	// never accepted.
	e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/transfers/never-sent", nil), http.StatusNotFound, "transfer_not_found", "")
}

// While the processor rebuilds after a restart, admission counts what is
// stored and undecided: with 1,000 items stored before the start and a
// lag bound of 500, a write is not admitted until the read model has
// applied enough of them, whatever the processor is doing.
func TestE2EAdmissionCountsWhatIsStoredAtStart(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.settle(t)
	dir := l.dataDir
	l.stop()
	e2eStoreUndecided(t, dir, e2eMints("w", "alice", 1000))

	l = e2eLaunch(t, node.Config{DataDir: dir, MaxReadLag: 500, SyncTimeout: 500 * time.Millisecond})
	release := e2eHoldReadModel(t, l) // the read model stays where the start found it
	r := l.do(t, http.MethodPost, "/v1/transfers", tr("late", domain.World, "alice", "1.00"), "Prefer", "respond-async")
	e2eCheckProblem(t, r, http.StatusServiceUnavailable, "unavailable", "")
	release()
	e2eEventually(t, e2eReadyWait, "a write to be admitted once the read model caught up", func() (bool, string) {
		r := l.do(t, http.MethodPost, "/v1/transfers", tr("late", domain.World, "alice", "1.00"))
		return r.Status == http.StatusCreated, r.String()
	})
}
