package journaltest

import (
	"fmt"

	"github.com/nats-ledger/ledger/domain"
)

// Scenario is a variant of the books scenario Seed writes; the zero value
// is the plain one.
type Scenario struct {
	// Described gives the transfers references ("mint", "invoice 42%",
	// ...) and kenji an owner ("k") and metadata (tier: gold), for the
	// read model's views.
	Described bool
	// Replay ends batch 5 with a replay of t1, answered without an event.
	Replay bool
	// Idle lets minute 6 pass without a batch: later batches are at
	// minute 7 on.
	Idle bool
}

// Seed writes the books scenario, five batches at minutes 1-5:
//
//	seq 1-2   (1) assets USD (scale 2), JPY (scale 0)
//	seq 3-6   (2) accounts alice, bob, carol (overdraft 10), kenji (JPY)
//	seq 7-9   (3) mints m1 world->alice 100, m2 world->bob 50.5, m3 world->kenji 1000 JPY
//	seq 10-13 (4) t1 alice->bob 25.50, t2 bob->carol 10, t3 carol->alice 500
//	              rejected (insufficient), t4 dave->alice rejected (no account)
//	seq 14-15 (5) t3 again carol->alice 15 posted, t5 bob->world 6 (burn)
//
// Final balances: alice 89.50, bob 60.00, carol -5.00, world USD -144.50,
// kenji 1000, world JPY -1000. With Described, the references are t1
// "invoice 42%", t2 "rent_march", t3 "too much" then "retry", t5 "burn",
// and "mint" for m1 and m2.
func (j *Journal) Seed(s Scenario) {
	j.T.Helper()
	ref := func(r string) []TransferOption {
		if !s.Described || r == "" {
			return nil
		}
		return []TransferOption{Reference(r)}
	}
	var kenji []AccountOption
	if s.Described {
		kenji = []AccountOption{Owner("k"), Metadata(map[string]string{"tier": "gold"})}
	}
	j.Batch(DefineAsset("USD", 2), DefineAsset("JPY", 0))
	j.Batch(OpenAccount("alice", "USD", ""), OpenAccount("bob", "USD", ""), OpenAccount("carol", "USD", "10"),
		OpenAccount("kenji", "JPY", "", kenji...))
	j.Batch(Transfer("m1", "world", "alice", "100", ref("mint")...), Transfer("m2", "world", "bob", "50.5", ref("mint")...),
		Transfer("m3", "world", "kenji", "1000", InAsset("JPY")))
	ds := j.Batch(Transfer("t1", "alice", "bob", "25.5", ref("invoice 42%")...), Transfer("t2", "bob", "carol", "10", ref("rent_march")...),
		Transfer("t3", "carol", "alice", "500", ref("too much")...), Transfer("t4", "dave", "alice", "1"))
	if ds[2].Outcome != domain.Rejected || ds[3].Outcome != domain.Rejected {
		j.T.Fatalf("scenario: t3, t4 should be rejected: %+v %+v", ds[2], ds[3])
	}
	last := []domain.Command{Transfer("t3", "carol", "alice", "15", ref("retry")...), Transfer("t5", "bob", "world", "6", ref("burn")...)}
	if s.Replay {
		last = append(last, Transfer("t1", "alice", "bob", "25.50"))
	}
	ds = j.Batch(last...)
	if ds[0].Outcome != domain.Posted || ds[1].Outcome != domain.Posted {
		j.T.Fatalf("scenario: t3, t5 should post: %+v %+v", ds[0], ds[1])
	}
	if s.Replay && ds[2].Outcome != domain.Replayed {
		j.T.Fatalf("scenario: t1 again should be a replay: %+v", ds[2])
	}
	if s.Idle {
		j.Idle()
	}
	if j.Seq() != 15 {
		j.T.Fatalf("scenario ends at %d, want 15", j.Seq())
	}
}

// payment is a transfer of the payments scenario: each names itself in
// its reference.
func payment(id, from, to, amount string) domain.Command {
	return Transfer(id, from, to, amount, Reference("ref "+id))
}

// SeedPayments writes the payments scenario, five batches, 26 events of
// every type, most records holding several events when the journal packs
// few events per record (WithRecordEventsMax):
//
//	(1) seq 1      asset USD
//	(2) seq 2-6    accounts a1..a5, each with an owner ("owner-a1") and metadata (k: v)
//	(3) seq 7-11   mints of 100 to each
//	(4) seq 12-19  transfers, two of them rejected (insufficient funds)
//	(5) seq 20-26  transfers
//
// Every transfer's reference is "ref " and its id.
func (j *Journal) SeedPayments() {
	j.T.Helper()
	n := len(j.Events)
	j.Batch(DefineAsset("USD", 2))
	var cmds []domain.Command
	for i := 1; i <= 5; i++ {
		id := fmt.Sprintf("a%d", i)
		cmds = append(cmds, OpenAccount(id, "USD", "", Owner("owner-"+id), Metadata(map[string]string{"k": "v"})))
	}
	j.Batch(cmds...)
	cmds = nil
	for i := 1; i <= 5; i++ {
		cmds = append(cmds, payment(fmt.Sprintf("m%d", i), domain.World, fmt.Sprintf("a%d", i), "100"))
	}
	j.Batch(cmds...)
	j.Batch(
		payment("t1", "a1", "a2", "10"), payment("t2", "a2", "a3", "1.5"), payment("t3", "a3", "a4", "500"),
		payment("t4", "a4", "a5", "2"), payment("t5", "a5", "a1", "3"), payment("t6", "a1", "a5", "1000"),
		payment("t7", "a2", "a1", "4"), payment("t8", "a3", "a2", "5"),
	)
	cmds = nil
	for i := 1; i <= 7; i++ {
		cmds = append(cmds, payment(fmt.Sprintf("u%d", i), fmt.Sprintf("a%d", i%5+1), fmt.Sprintf("a%d", (i+1)%5+1), "0.25"))
	}
	j.Batch(cmds...)
	if got := len(j.Events) - n; got != 26 {
		j.T.Fatalf("seed wrote %d events, want 26", got)
	}
}

// MorePayments appends a batch of n transfers of 0.01 from a1 to a2 (of
// the payments scenario), named prefix0, prefix1, ...
func (j *Journal) MorePayments(prefix string, n int) {
	j.T.Helper()
	var cmds []domain.Command
	for i := 0; i < n; i++ {
		cmds = append(cmds, payment(fmt.Sprintf("%s%d", prefix, i), "a1", "a2", "0.01"))
	}
	j.Batch(cmds...)
}
