package commands_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
)

func newLog() (*slog.Logger, *natstest.Buffer) {
	b := &natstest.Buffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

// writer decides commands on its own state and appends the events to a
// real journal, three events per record, so that snapshots can be taken
// at exact points of the journal.
type writer struct {
	t    *testing.T
	st   *domain.State
	j    *infra.Journal
	pos  uint64
	last domain.Hash
	cmd  uint64
}

func newWriter(t *testing.T, srv *natstest.Server) *writer {
	return &writer{t: t, st: domain.NewState(), j: infra.NewJournal(srv.JS, srv.Names)}
}

func (w *writer) decide(cmds ...domain.Command) {
	w.t.Helper()
	var events []*domain.Event
	for _, c := range cmds {
		w.cmd++
		c.Ref = domain.CommandRef{Seq: w.cmd}
		if d := w.st.Decide(c, time.Now()); d.Event != nil {
			events = append(events, d.Event)
		}
	}
	records, last, err := commands.EncodeRecords(events, w.last, 3, 1<<20)
	if err != nil {
		w.t.Fatal(err)
	}
	if w.pos, err = w.j.Append(context.Background(), records, w.pos); err != nil {
		w.t.Fatal(err)
	}
	w.last = last
}

// history writes a ledger with accounts, owners, metadata, postings,
// rejections and replays.
func (w *writer) history(from, n int) {
	w.t.Helper()
	if from == 0 {
		w.decide(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}},
			domain.Command{Asset: &domain.Asset{Code: "BTC", Scale: 8}})
	}
	for i := from; i < from+n; i++ {
		id := fmt.Sprintf("acc-%d", i)
		w.decide(
			domain.Command{Account: &domain.Account{ID: id, Asset: "USD", Owner: fmt.Sprintf("user-%d", i%3), OverdraftLimit: []string{"", "5", domain.Unlimited}[i%3]}},
			domain.Command{Transfer: &domain.Transfer{ID: "mint-" + id, From: domain.World, To: id, Amount: "100"}},
			domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprintf("t-%d", i), From: id, To: "acc-0", Amount: "1.5", Metadata: map[string]string{"n": id}}},
			domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprintf("big-%d", i), From: id, To: "acc-0", Amount: "1000"}},
		)
	}
}

// snapshotBytes encodes a snapshot of the writer's state as it stands.
func (w *writer) snapshotBytes() []byte {
	w.t.Helper()
	var buf bytes.Buffer
	if _, err := commands.WriteSnapshot(&buf, w.st.Image(), w.pos, w.last); err != nil {
		w.t.Fatal(err)
	}
	return buf.Bytes()
}

// snapshot stores a snapshot of the writer's state as it stands.
func (w *writer) snapshot(store commands.SnapshotStore) []byte {
	w.t.Helper()
	b := w.snapshotBytes()
	if err := store.Save(context.Background(), w.st.Seq(), bytes.NewReader(b)); err != nil {
		w.t.Fatal(err)
	}
	return b
}

func encoded(t *testing.T, st *domain.State) []byte {
	t.Helper()
	b, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameAsFullReplay restores with store and checks the result against a
// full replay of the same journal: the same state, hash and position.
func sameAsFullReplay(t *testing.T, w *writer, store commands.SnapshotStore) string {
	t.Helper()
	ctx := context.Background()
	log, logs := newLog()
	r, err := commands.Restore(ctx, w.j, store, 1<<30, log)
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, logs)
	}
	st, last, pos := r.State, r.LastHash, r.Position
	if strings.Contains(logs.String(), "state restored from a snapshot") == (r.Snapshot == 0) {
		t.Fatalf("restored from snapshot %d, but the log says:\n%s", r.Snapshot, logs)
	}
	full, fullLast, fullPos, err := commands.Rebuild(ctx, w.j)
	if err != nil {
		t.Fatal(err)
	}
	if last != fullLast || pos != fullPos || last != w.last || pos != w.pos {
		t.Fatalf("restored to %s at %d, full replay %s at %d, journal %s at %d", last, pos, fullLast, fullPos, w.last, w.pos)
	}
	if !bytes.Equal(encoded(t, st), encoded(t, full)) || !bytes.Equal(encoded(t, st), encoded(t, w.st)) {
		t.Fatalf("restored state differs from the full replay\n%s", logs)
	}
	// And it decides like the writer's own state.
	for i, c := range []domain.Command{
		{Transfer: &domain.Transfer{ID: "t-1", From: "acc-1", To: "acc-0", Amount: "1.50", Metadata: map[string]string{"n": "acc-1"}}},
		{Transfer: &domain.Transfer{ID: "t-1", From: "acc-1", To: "acc-0", Amount: "1.5"}},
		{Transfer: &domain.Transfer{ID: "fresh", From: "acc-1", To: "acc-2", Amount: "97.01"}},
		{Transfer: &domain.Transfer{ID: "fresh2", From: "acc-4", To: "acc-2", Amount: "102"}},
		{Account: &domain.Account{ID: "acc-2", Asset: "USD", Owner: "user-2", OverdraftLimit: domain.Unlimited}},
	} {
		c.Ref = domain.CommandRef{Seq: 1 << 40, Item: i}
		a, b := st.Decide(c, time.Unix(0, 0)), full.Decide(c, time.Unix(0, 0))
		if a.Outcome != b.Outcome || a.ReplayOf != b.ReplayOf || (a.Err == nil) != (b.Err == nil) || a.Err != nil && a.Err.Error() != b.Err.Error() {
			t.Fatalf("probe %d: restored decided %+v, full replay %+v", i, a, b)
		}
	}
	return logs.String()
}

func snapshotStore(t *testing.T, srv *natstest.Server) *infra.SnapshotStore {
	t.Helper()
	store, err := infra.EnsureSnapshotStore(context.Background(), srv.JS, srv.Names, 1)
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func TestRestoreFromSnapshotAndTail(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	store := snapshotStore(t, srv)
	w := newWriter(t, srv)
	w.history(0, 20)
	w.snapshot(store)
	snapSeq := w.st.Seq()
	w.history(20, 15)

	logs := sameAsFullReplay(t, w, store)
	want := fmt.Sprintf("snapshot=%d events=%d tail=%d", snapSeq, w.st.Seq(), w.st.Seq()-snapSeq)
	if !strings.Contains(logs, "state restored from a snapshot") || !strings.Contains(logs, want) {
		t.Fatalf("log does not say the snapshot was used (%s):\n%s", want, logs)
	}

	// A snapshot at the journal's very end: nothing to replay after it.
	w.snapshot(store)
	logs = sameAsFullReplay(t, w, store)
	if !strings.Contains(logs, fmt.Sprintf("snapshot=%d", w.st.Seq())) || !strings.Contains(logs, "tail=0") {
		t.Fatalf("the newest snapshot was not used:\n%s", logs)
	}
}

// TestRestoreSkipsBadSnapshots stores, above a good snapshot, one that is
// damaged in each way a start-up must survive, and checks that the
// start-up falls back to the good one, says why, and ends where a full
// replay ends.
func TestRestoreSkipsBadSnapshots(t *testing.T) {
	resum := func(b []byte) []byte { // a valid checksum over changed bytes
		body := b[:len(b)-sha256.Size]
		sum := sha256.Sum256(body)
		return append(bytes.Clone(body), sum[:]...)
	}
	// Each case damages the snapshot of the journal's end; seq is what it
	// is stored as (0: its own sequence).
	for _, c := range []struct {
		name   string
		damage func(w *writer, b []byte) (seq uint64, bad []byte)
		reason string
	}{
		{"flipped byte", func(_ *writer, b []byte) (uint64, []byte) {
			b = bytes.Clone(b)
			b[len(b)/2] ^= 0x40
			return 0, b
		}, "checksum mismatch"},
		{"truncated", func(_ *writer, b []byte) (uint64, []byte) { return 0, b[:len(b)-100] }, "checksum mismatch"},
		{"empty", func(_ *writer, b []byte) (uint64, []byte) { return 0, nil }, "too short"},
		{"wrong container version", func(_ *writer, b []byte) (uint64, []byte) {
			b = bytes.Clone(b)
			binary.BigEndian.PutUint16(b[8:], commands.SnapshotFormatVersion+1)
			return 0, resum(b)
		}, "format version 2"},
		{"wrong state version", func(_ *writer, b []byte) (uint64, []byte) {
			b = bytes.Clone(b)
			at := bytes.Index(b, []byte("LGRSTATE")) + 8
			binary.BigEndian.PutUint16(b[at:], domain.StateFormatVersion+1)
			return 0, resum(b)
		}, "unsupported state format version"},
		{"state of the version before FX positions and rates", func(_ *writer, b []byte) (uint64, []byte) {
			// A snapshot written before cross-currency transfers (state
			// version 1) is refused and the state rebuilt from the journal.
			b = bytes.Clone(b)
			at := bytes.Index(b, []byte("LGRSTATE")) + 8
			binary.BigEndian.PutUint16(b[at:], 1)
			return 0, resum(b)
		}, fmt.Sprintf("unsupported state format version: version 1, this code reads %d", domain.StateFormatVersion)},
		{"state of the version before the posted-id archive", func(_ *writer, b []byte) (uint64, []byte) {
			// A snapshot that carries every posted id and no archive
			// watermark (state version 2) is refused and the state
			// rebuilt from the journal.
			b = bytes.Clone(b)
			at := bytes.Index(b, []byte("LGRSTATE")) + 8
			binary.BigEndian.PutUint16(b[at:], 2)
			return 0, resum(b)
		}, fmt.Sprintf("unsupported state format version: version 2, this code reads %d", domain.StateFormatVersion)},
		{"balance changed, checksum recomputed", func(_ *writer, b []byte) (uint64, []byte) {
			b = bytes.Clone(b)
			i := bytes.Index(b, []byte("acc-7"))
			b[i+len("acc-7")+1+1+15]++
			return 0, resum(b)
		}, "sum to"},
		{"stored under another sequence", func(w *writer, b []byte) (uint64, []byte) {
			return w.st.Seq() + 5, b
		}, "holds sequence"},
		{"newer than the journal", func(w *writer, _ []byte) (uint64, []byte) {
			// Decided, never journaled: only tampering can produce it.
			st := new(domain.State)
			if err := st.UnmarshalBinary(encoded(w.t, w.st)); err != nil {
				w.t.Fatal(err)
			}
			d := st.Decide(domain.Command{Ref: domain.CommandRef{Seq: 1 << 30}, Transfer: &domain.Transfer{ID: "ghost", From: "acc-1", To: "acc-2", Amount: "1"}}, time.Now())
			_, last, err := commands.EncodeRecords([]*domain.Event{d.Event}, w.last, 3, 1<<20)
			if err != nil {
				w.t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := commands.WriteSnapshot(&buf, st.Image(), w.pos+1, last); err != nil {
				w.t.Fatal(err)
			}
			return st.Seq(), buf.Bytes()
		}, "beyond the journal's end"},
		{"does not match the journal", func(w *writer, _ []byte) (uint64, []byte) {
			// Sound in itself, but the journal's record at its position
			// ends with another event.
			var buf bytes.Buffer
			if _, err := commands.WriteSnapshot(&buf, w.st.Image(), w.pos-1, w.last); err != nil {
				w.t.Fatal(err)
			}
			return 0, buf.Bytes()
		}, "ends with sequence"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := natstest.Start(t, t.TempDir())
			store := snapshotStore(t, srv)
			w := newWriter(t, srv)
			w.history(0, 10)
			w.snapshot(store)
			goodSeq := w.st.Seq()
			w.history(10, 10)
			seq, bad := c.damage(w, w.snapshotBytes())
			if seq == 0 {
				seq = w.st.Seq()
			}
			if err := store.Save(context.Background(), seq, bytes.NewReader(bad)); err != nil {
				t.Fatal(err)
			}
			logs := sameAsFullReplay(t, w, store)
			if !strings.Contains(logs, fmt.Sprintf("skipping snapshot\" snapshot=%d", seq)) || !strings.Contains(logs, c.reason) {
				t.Fatalf("the log does not say snapshot %d was skipped for %q:\n%s", seq, c.reason, logs)
			}
			if !strings.Contains(logs, fmt.Sprintf("state restored from a snapshot\" snapshot=%d", goodSeq)) {
				t.Fatalf("did not fall back to snapshot %d:\n%s", goodSeq, logs)
			}
		})
	}

	// With no good snapshot left, the start-up replays the whole journal.
	srv := natstest.Start(t, t.TempDir())
	store := snapshotStore(t, srv)
	w := newWriter(t, srv)
	w.history(0, 5)
	good := w.snapshotBytes()
	if err := store.Save(context.Background(), w.st.Seq(), bytes.NewReader(good[:len(good)-1])); err != nil {
		t.Fatal(err)
	}
	logs := sameAsFullReplay(t, w, store)
	if !strings.Contains(logs, "skipping snapshot") || strings.Contains(logs, "state restored from a snapshot") {
		t.Fatalf("expected a full replay after skipping the only snapshot:\n%s", logs)
	}
}

// TestProcessorSnapshots runs the processor with snapshots every few
// events, restarts it, and checks that it starts from a snapshot and
// carries on exactly where it stopped.
func TestProcessorSnapshots(t *testing.T) {
	dir := t.TempDir()
	srv := natstest.Start(t, dir)
	store := snapshotStore(t, srv)
	log, logs := newLog()
	cfg := commands.Config{Logger: log, Snapshots: store, SnapshotEvery: 4, SnapshotsKept: 2}
	l := startWith(t, srv, nil, cfg)
	setup(t, l)
	var first commands.Result
	for i := range 12 {
		r := l.submit(t, transfer(fmt.Sprintf("t-%d", i), "alice", "bob", "1.00"))[0]
		if r.Outcome != commands.OutcomePosted {
			t.Fatalf("t-%d: %+v", i, r)
		}
		if i == 0 {
			first = r
		}
	}
	// 16 events, a snapshot at least every 4: the newest is past 12.
	waitFor(t, func() bool {
		infos, _ := store.List(context.Background())
		return len(infos) == 2 && infos[0].Seq > 12
	}, "two snapshots, the newest past sequence 12 (the older ones pruned)")
	l.stop()
	srv.Stop()

	srv = natstest.Start(t, dir)
	store = snapshotStore(t, srv)
	log2, logs2 := newLog()
	cfg.Logger, cfg.Snapshots = log2, store
	l = startWith(t, srv, nil, cfg)
	if r := l.submit(t, transfer("t-0", "alice", "bob", "1")); r[0].Outcome != commands.OutcomeReplayed || r[0].Seq != first.Seq {
		t.Fatalf("replay after restart: %+v, want replayed at %d", r[0], first.Seq)
	}
	if r := l.submit(t, transfer("t-next", "alice", "bob", "38.01"))[0]; r.Outcome != commands.OutcomeRejected || r.Code != domain.CodeInsufficientFunds {
		t.Fatalf("over the balance after restart: %+v", r)
	}
	if r := l.submit(t, transfer("t-last", "alice", "bob", "38.00"))[0]; r.Outcome != commands.OutcomePosted || r.Event.Transfer.Entries[0].Balance != "0.00" {
		t.Fatalf("the whole balance after restart: %+v", r)
	}
	if !strings.Contains(logs2.String(), "state restored from a snapshot") {
		t.Fatalf("the restart did not use a snapshot:\n%s", logs2)
	}
	if !strings.Contains(logs.String(), "snapshot saved") || !strings.Contains(logs.String(), "pause=") {
		t.Fatalf("no snapshot logged:\n%s", logs)
	}
}

// TestProcessorSnapshotsOnTime checks the time trigger: a few events and
// then silence still get a snapshot once the interval has passed.
func TestProcessorSnapshotsOnTime(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	store := snapshotStore(t, srv)
	l := startWith(t, srv, nil, commands.Config{Logger: quiet, Snapshots: store, SnapshotInterval: 300 * time.Millisecond})
	setup(t, l)
	waitFor(t, func() bool {
		infos, _ := store.List(context.Background())
		return len(infos) == 1 && infos[0].Seq == 4
	}, "a snapshot at sequence 4 without further commands")
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
