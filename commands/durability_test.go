package commands_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
)

// Accepted commands are always decided: the faults of a fault-injection
// review (issue "Durability"), each against a real JetStream.

// dropOnce loses the first delivery of the command message at seq, as a
// NATS client does when a subscription overflows its pending limits
// ("slow consumer, messages dropped"): the server counts it delivered, the
// processor never sees it.
type dropOnce struct {
	commands.CommandSource
	mu      sync.Mutex
	seq     uint64
	dropped bool
}

func (d *dropOnce) Next(ctx context.Context, max int) ([]commands.CommandMessage, error) {
	msgs, err := d.CommandSource.Next(ctx, max)
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, m := range msgs {
		if m.Seq == d.seq && !d.dropped {
			d.dropped = true
			return append(msgs[:i:i], msgs[i+1:]...), err
		}
	}
	return msgs, err
}

func (d *dropOnce) wasDropped() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dropped
}

// publishAsync stores n transfers without waiting, one command message
// each, with the processor stopped, and returns their ids.
func publishAsync(t *testing.T, srv *natstest.Server, prefix string, n int, item func(id string) commands.Item) []string {
	t.Helper()
	sub, err := infra.NewSubmitter(srv.NC, srv.JS, srv.Names, infra.GroupCommit{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", prefix, i)
		if _, err := sub.SubmitEnvelope(ctx, []commands.Item{item(ids[i])}, false, false); err != nil {
			t.Fatalf("store %s: %v", ids[i], err)
		}
	}
	return ids
}

// decidedIDs returns the transfer ids the journal answers, posted or
// rejected.
func decidedIDs(t *testing.T, srv *natstest.Server) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for _, ev := range journalEvents(t, srv) {
		switch {
		case ev.Transfer != nil:
			seen[ev.Transfer.ID] = true
		case ev.Rejection != nil:
			seen[ev.Rejection.ID] = true
		}
	}
	return seen
}

// decideWait bounds the wait for the processor to decide what was stored:
// generous, since it is only how long a failure takes to show (a heavy
// flood under the race detector on a busy machine takes tens of seconds).
const decideWait = 2 * time.Minute

// waitDecided waits until the processor has decided every stored command.
func waitDecided(t *testing.T, srv *natstest.Server, l *ledger) {
	t.Helper()
	stream, err := srv.JS.Stream(context.Background(), srv.Names.CommandsStream)
	if err != nil {
		t.Fatal(err)
	}
	last := stream.CachedInfo().State.LastSeq
	deadline := time.Now().Add(decideWait)
	for l.proc.Decided() < last {
		if time.Now().After(deadline) {
			t.Fatalf("the processor decided up to command %d of %d", l.proc.Decided(), last)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// nextCommandSeq is the sequence the next command message will take. Tests
// take the first undecided command from it, not from the stream's first
// sequence: interest retention removes acknowledged messages when the
// server gets to it, so right after a stop the first may still be a
// decided one.
func nextCommandSeq(t *testing.T, srv *natstest.Server) uint64 {
	t.Helper()
	stream, err := srv.JS.Stream(context.Background(), srv.Names.CommandsStream)
	if err != nil {
		t.Fatal(err)
	}
	return stream.CachedInfo().State.LastSeq + 1
}

// A command the client dropped is delivered again, never acknowledged
// with the ones after it: before, AckAll of a later message acknowledged
// (and the stream removed) the dropped one undecided.
func TestDroppedCommandIsDeliveredAgain(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	l := start(t, srv, nil)
	setup(t, l)
	l.stop()
	first := nextCommandSeq(t, srv)
	ids := publishAsync(t, srv, "a", 40, func(id string) commands.Item { return transfer(id, "alice", "bob", "0.01") })
	drop := &dropOnce{seq: first + 10}
	l = start(t, srv, func(s commands.CommandSource) commands.CommandSource {
		drop.CommandSource = s
		return drop
	})
	waitDecided(t, srv, l)
	if !drop.wasDropped() {
		t.Fatal("the command to drop was never delivered")
	}
	seen := decidedIDs(t, srv)
	for _, id := range ids {
		if !seen[id] {
			t.Errorf("%s was accepted and never decided", id)
		}
	}
	if rep := auditOf(t, srv); !rep.OK {
		t.Fatalf("audit: %v", rep.Findings)
	}
}

// A flood of heavy commands (32 metadata values of 500 bytes on each of
// 12 transfers, ~190 KB a message) is decided whole: the source bounds
// what it holds by bytes, so the client never drops one.
func TestFloodOfHeavyCommandsIsDecided(t *testing.T) {
	const messages = 300 // ~57 MB: bounded, and past the source's byte bound several times
	srv := natstest.Start(t, t.TempDir())
	l := start(t, srv, nil)
	setup(t, l)
	l.stop()
	meta := map[string]string{}
	for k := range 32 {
		meta[fmt.Sprintf("k%02d", k)] = strings.Repeat("x", 500)
	}
	sub, err := infra.NewSubmitter(srv.NC, srv.JS, srv.Names, infra.GroupCommit{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var ids []string
	for m := range messages {
		items := make([]commands.Item, 12)
		for i := range items {
			id := fmt.Sprintf("h-%d-%d", m, i)
			ids = append(ids, id)
			items[i] = commands.Item{Transfer: &domain.Transfer{ID: id, From: "alice", To: "bob", Amount: "0.01", Metadata: meta}}
		}
		if _, err := sub.SubmitEnvelope(ctx, items, false, false); err != nil {
			t.Fatalf("store message %d: %v", m, err)
		}
	}
	l = start(t, srv, nil)
	waitDecided(t, srv, l)
	seen := decidedIDs(t, srv)
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("%s was accepted and never decided", id)
		}
	}
}

// A command deleted from the stream before it was decided stops the
// processor with ErrCommandsLost, whether it was the first undecided one
// or one in the middle: deciding on would hide the loss.
func TestLostCommandStopsTheProcessor(t *testing.T) {
	for _, where := range []string{"first", "middle"} {
		t.Run(where, func(t *testing.T) {
			srv := natstest.Start(t, t.TempDir())
			l := start(t, srv, nil)
			setup(t, l)
			l.stop()
			lost := nextCommandSeq(t, srv)
			publishAsync(t, srv, "a", 5, func(id string) commands.Item { return transfer(id, "alice", "bob", "0.01") })
			stream, err := srv.JS.Stream(context.Background(), srv.Names.CommandsStream)
			if err != nil {
				t.Fatal(err)
			}
			if where == "middle" {
				lost += 2
			}
			if err := stream.DeleteMsg(context.Background(), lost); err != nil {
				t.Fatal(err)
			}
			l = start(t, srv, nil)
			select {
			case err := <-l.done:
				l.cancel = nil
				if !errors.Is(err, commands.ErrCommandsLost) || !strings.Contains(err.Error(), fmt.Sprintf("command %d", lost)) &&
					!strings.Contains(err.Error(), fmt.Sprintf("commands %d to %d", lost, lost)) {
					t.Fatalf("processor stopped with %v, want ErrCommandsLost naming %d", err, lost)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the processor went on past a lost command")
			}
		})
	}
}

// Every command message leaves an event: a replay, an aborted atomic
// batch and a malformed message are journaled as CommandSkipped, so the
// audit can tell that no acknowledged command went missing.
func TestEveryCommandLeavesAnEvent(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	l := start(t, srv, nil)
	setup(t, l)
	l.submit(t, transfer("t-1", "alice", "bob", "1.00"))
	before := len(journalEvents(t, srv))

	if r := l.submit(t, transfer("t-1", "alice", "bob", "1.00"))[0]; r.Outcome != commands.OutcomeReplayed {
		t.Fatalf("replay: %+v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rs, err := l.sub.SubmitEnvelope(ctx, []commands.Item{transfer("x-1", "alice", "bob", "1.00"), transfer("x-2", "alice", "bob", "1000.00")}, true, true)
	if err != nil || rs[1].Code != domain.CodeInsufficientFunds || rs[0].Code != domain.CodeBatchAborted {
		t.Fatalf("atomic: %+v %v", rs, err)
	}
	if _, err := srv.JS.Publish(ctx, srv.Names.CommandsSubject, []byte(`{"v":1,"items":"not a list"}`)); err != nil {
		t.Fatal(err)
	}
	if r := l.submit(t, transfer("t-2", "alice", "bob", "1.00"))[0]; r.Outcome != commands.OutcomePosted {
		t.Fatalf("t-2 after the malformed command: %+v", r)
	}
	evs := journalEvents(t, srv)[before:]
	var got []string
	for _, ev := range evs {
		if ev.Skip != nil {
			got = append(got, fmt.Sprintf("%s/%d", ev.Skip.Reason, ev.Skip.Items))
		} else {
			got = append(got, string(ev.Type))
		}
	}
	want := []string{"unchanged/1", "batch_aborted/2", "malformed/0", "TransferPosted"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if rep := auditOf(t, srv); !rep.OK || rep.LastCommand != evs[len(evs)-1].Command.Seq {
		t.Fatalf("audit: ok %v, last command %d, findings %v", rep.OK, rep.LastCommand, rep.Findings)
	}

	// After a restart with no acknowledgement kept, nothing is skipped twice.
	l.stop()
	l = start(t, srv, func(s commands.CommandSource) commands.CommandSource { return s })
	l.submit(t, transfer("t-3", "alice", "bob", "1.00"))
	if n := len(journalEvents(t, srv)); n != before+len(want)+1 {
		t.Fatalf("journal has %d events after the restart, want %d", n, before+len(want)+1)
	}
}

// An atomic batch is one journal record, whatever the record bounds, so
// that no reader ever sees part of one.
func TestAtomicBatchIsOneRecord(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	l := startWith(t, srv, nil, commands.Config{Logger: quiet, MaxRecordEvents: 2})
	setup(t, l)
	items := make([]commands.Item, 7)
	for i := range items {
		items[i] = transfer(fmt.Sprintf("at-%d", i), "alice", "bob", "1.00")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rs, err := l.sub.SubmitEnvelope(ctx, items, true, true)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if r.Outcome != commands.OutcomePosted {
			t.Fatalf("item %d: %+v", i, r)
		}
	}
	var records []domain.Record
	if _, err := infra.NewJournal(srv.JS, srv.Names).Replay(ctx, func(r domain.Record) error {
		records = append(records, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	last := records[len(records)-1]
	if last.FirstSeq != rs[0].Seq || last.LastSeq != rs[6].Seq {
		t.Fatalf("the atomic batch (sequences %d-%d) ends in a record of %d-%d", rs[0].Seq, rs[6].Seq, last.FirstSeq, last.LastSeq)
	}
}

// auditOf audits the test server's journal and commands stream.
func auditOf(t *testing.T, srv *natstest.Server) *audit.Report {
	t.Helper()
	res, err := audit.Run(context.Background(), &audit.JetStreamSource{JS: srv.JS, Names: srv.Names}, audit.Options{})
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	return res.Report
}

// With the operator's word (SkipLostThrough), lost commands are journaled
// as CommandSkipped (lost), the processor goes on, and the audit holds.
func TestLostCommandSkippedByTheOperator(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	l := start(t, srv, nil)
	setup(t, l)
	l.stop()
	first := nextCommandSeq(t, srv)
	ids := publishAsync(t, srv, "a", 6, func(id string) commands.Item { return transfer(id, "alice", "bob", "0.01") })
	stream, err := srv.JS.Stream(context.Background(), srv.Names.CommandsStream)
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{first, first + 3} { // the first undecided one, and one in the middle
		if err := stream.DeleteMsg(context.Background(), seq); err != nil {
			t.Fatal(err)
		}
	}
	l = startWith(t, srv, nil, commands.Config{Logger: quiet, SkipLostThrough: first + 3})
	waitDecided(t, srv, l)
	var lost []uint64
	for _, ev := range journalEvents(t, srv) {
		if ev.Skip != nil && ev.Skip.Reason == domain.SkipLost {
			lost = append(lost, ev.Command.Seq)
		}
	}
	if fmt.Sprint(lost) != fmt.Sprint([]uint64{first, first + 3}) {
		t.Fatalf("lost commands journaled: %v, want %d and %d", lost, first, first+3)
	}
	seen := decidedIDs(t, srv)
	for i, id := range ids {
		if want := i != 0 && i != 3; seen[id] != want {
			t.Errorf("%s decided: %v, want %v", id, seen[id], want)
		}
	}
	if rep := auditOf(t, srv); !rep.OK {
		t.Fatalf("audit: %v", rep.Findings)
	}
}
