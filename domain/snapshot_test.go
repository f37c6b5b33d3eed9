package domain_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// snapshotFixture is a ledger with every kind of account and a few
// transfers, with metadata, owners and an aborted atomic batch.
func snapshotFixture(t testing.TB) *harness {
	t.Helper()
	h := fixture(t)
	h.must(h.open(domain.Account{ID: "carol", Asset: "BTC", Owner: "sub-carol", Metadata: map[string]string{"tier": "gold"}}), domain.Created)
	h.must(h.transfer(domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "4", Reference: "rent", Metadata: map[string]string{"k": "v"}}), domain.Posted)
	h.must(h.transfer(domain.Transfer{ID: "t2", From: "od", To: "unl", Amount: "49.99"}), domain.Posted)
	h.must(h.transfer(domain.Transfer{ID: "t3", From: "unl", To: "bob", Amount: "1000"}), domain.Posted)
	h.must(h.transfer(domain.Transfer{ID: "t4", From: domain.World, To: "carol", Amount: "0.00000001"}), domain.Posted)
	wantCode(t, h.transfer(domain.Transfer{ID: "t5", From: "alice", To: "bob", Amount: "100"}), domain.CodeInsufficientFunds)
	h.cmdSeq++
	ds := h.s.DecideAtomic([]domain.Command{
		{Ref: domain.CommandRef{Seq: h.cmdSeq}, Transfer: &domain.Transfer{ID: "a1", From: "bob", To: "alice", Amount: "1"}},
		{Ref: domain.CommandRef{Seq: h.cmdSeq, Item: 1}, Transfer: &domain.Transfer{ID: "a2", From: "alice", To: "bob", Amount: "999"}},
	}, testEpoch)
	if ds[0].Outcome != domain.Rejected {
		t.Fatalf("atomic batch: %+v", ds)
	}
	return h
}

// probes are commands whose decisions depend on every part of the state:
// balances, limits, owners, remembered ids and their bodies, definitions.
func probes() []domain.Command {
	actor := &domain.Actor{Subject: "sub-carol"}
	return []domain.Command{
		{Transfer: &domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "4.00", Reference: "rent", Metadata: map[string]string{"k": "v"}}},
		{Transfer: &domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "4.00", Reference: "rent"}},
		{Transfer: &domain.Transfer{ID: "t2", From: "od", To: "unl", Amount: "49.99"}},
		{Transfer: &domain.Transfer{ID: "t2", From: "od", To: "unl", Amount: "49.98"}},
		{Transfer: &domain.Transfer{ID: "t5", From: "alice", To: "bob", Amount: "6"}},
		{Transfer: &domain.Transfer{ID: "a1", From: "bob", To: "alice", Amount: "1"}},
		{Transfer: &domain.Transfer{ID: "p1", From: "od", To: "bob", Amount: "0.02"}},
		{Transfer: &domain.Transfer{ID: "p2", From: "od", To: "bob", Amount: "0.01"}},
		{Transfer: &domain.Transfer{ID: "p3", From: "unl", To: "bob", Amount: "1000000"}},
		{Transfer: &domain.Transfer{ID: "p4", From: "carol", To: domain.World, Amount: "0.00000001"}, Actor: actor},
		{Transfer: &domain.Transfer{ID: "p5", From: "bob", To: "alice", Amount: "1"}, Actor: actor},
		{Transfer: &domain.Transfer{ID: "p6", From: "eve", To: "alice", Amount: "1"}},
		{Account: &domain.Account{ID: "carol", Asset: "BTC", Owner: "sub-carol", Metadata: map[string]string{"tier": "gold"}}},
		{Account: &domain.Account{ID: "carol", Asset: "BTC", Owner: "sub-carol"}},
		{Account: &domain.Account{ID: "od", Asset: "USD", OverdraftLimit: "50.00"}},
		{Account: &domain.Account{ID: "od", Asset: "USD", OverdraftLimit: "49"}},
		{Asset: &domain.Asset{Code: "BTC", Scale: 8}},
		{Asset: &domain.Asset{Code: "BTC", Scale: 2}},
	}
}

// sameDecisions decides the probes on both states, one by one, and fails
// at the first difference.
func sameDecisions(t *testing.T, want, got *domain.State) {
	t.Helper()
	for i, c := range probes() {
		c.Ref = domain.CommandRef{Seq: 1_000_000 + uint64(i)}
		w, g := want.Decide(c, testEpoch), got.Decide(c, testEpoch)
		if !sameDecision(g, w) {
			t.Fatalf("probe %d %s: decoded state decided %+v (%v), original %+v (%v)", i, describeCommand(c), g, g.Err, w, w.Err)
		}
	}
}

func TestStateBinaryRoundTrip(t *testing.T) {
	h := snapshotFixture(t)
	data, err := h.s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got domain.State
	if err := got.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if got.Seq() != h.s.Seq() || got.CommandSeq() != h.s.CommandSeq() {
		t.Fatalf("decoded at %d/%d, want %d/%d", got.Seq(), got.CommandSeq(), h.s.Seq(), h.s.CommandSeq())
	}
	again, err := got.MarshalBinary()
	if err != nil || !bytes.Equal(again, data) {
		t.Fatalf("re-encoding differs (%v)", err)
	}
	sameDecisions(t, h.s, &got)

	// The same state rebuilt from the journal encodes to the same bytes,
	// whatever order its maps hold things in.
	rebuilt := domain.NewState()
	for _, ev := range h.events {
		if err := rebuilt.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	// h.s has moved on with the probes; rebuild a fresh copy instead.
	fresh := snapshotFixture(t)
	want, _ := fresh.s.MarshalBinary()
	if b, _ := rebuilt.MarshalBinary(); !bytes.Equal(b, want) {
		t.Fatal("a state rebuilt from the journal encodes differently from the one that wrote it")
	}
}

// TestImageIsACopy checks that an Image encodes the state at the moment it
// was taken, however the state moves on before it is written.
func TestImageIsACopy(t *testing.T) {
	h := snapshotFixture(t)
	want, _ := h.s.MarshalBinary()
	im := h.s.Image()
	h.must(h.transfer(domain.Transfer{ID: "later", From: "alice", To: "bob", Amount: "1"}), domain.Posted)
	h.must(h.open(domain.Account{ID: "later", Asset: "USD"}), domain.Created)
	var buf bytes.Buffer
	if _, err := im.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatal("the image changed with the state")
	}
	if im.Seq() != h.s.Seq()-2 {
		t.Fatalf("image at %d, state at %d", im.Seq(), h.s.Seq())
	}
}

// TestImageWhileTheStateMovesOn encodes an image on another goroutine
// while the state decides transfers, opens accounts and rolls back atomic
// batches, as the processor does; run with -race, it shows that the two
// never touch the same memory.
func TestImageWhileTheStateMovesOn(t *testing.T) {
	h := snapshotFixture(t)
	for i := range 3000 { // several account chunks
		h.must(h.open(domain.Account{ID: fmt.Sprintf("x-%d", i), Asset: "USD", Owner: "o"}), domain.Created)
	}
	want, _ := h.s.MarshalBinary()
	im := h.s.Image()
	done := make(chan []byte)
	go func() {
		var buf bytes.Buffer
		if _, err := im.WriteTo(&buf); err != nil {
			t.Error(err)
		}
		done <- buf.Bytes()
	}()
	for i := range 2000 {
		h.transfer(domain.Transfer{ID: fmt.Sprintf("m-%d", i), From: domain.World, To: fmt.Sprintf("x-%d", i), Amount: "1"})
		h.open(domain.Account{ID: fmt.Sprintf("y-%d", i), Asset: "USD"})
		h.cmdSeq++
		h.s.DecideAtomic([]domain.Command{
			{Ref: domain.CommandRef{Seq: h.cmdSeq}, Transfer: &domain.Transfer{ID: fmt.Sprintf("a-%d", i), From: fmt.Sprintf("x-%d", i), To: "bob", Amount: "1"}},
			{Ref: domain.CommandRef{Seq: h.cmdSeq, Item: 1}, Transfer: &domain.Transfer{ID: fmt.Sprintf("b-%d", i), From: fmt.Sprintf("x-%d", i), To: "bob", Amount: "1"}},
		}, testEpoch)
	}
	if got := <-done; !bytes.Equal(got, want) {
		t.Fatal("the image encoded a state other than the one it was taken of")
	}
}

func TestStateBinaryRefusesDamage(t *testing.T) {
	h := snapshotFixture(t)
	data, _ := h.s.MarshalBinary()
	for n := 0; n < len(data); n++ {
		var st domain.State
		if err := st.UnmarshalBinary(data[:n]); !errors.Is(err, domain.ErrMalformedState) {
			t.Fatalf("truncated to %d of %d bytes: %v, want ErrMalformedState", n, len(data), err)
		}
	}
	var st domain.State
	if err := st.UnmarshalBinary(append(bytes.Clone(data), 0)); !errors.Is(err, domain.ErrMalformedState) {
		t.Fatalf("a trailing byte: %v", err)
	}
	v2 := bytes.Clone(data)
	binary.BigEndian.PutUint16(v2[8:], domain.StateFormatVersion+1)
	if err := st.UnmarshalBinary(v2); !errors.Is(err, domain.ErrStateVersion) {
		t.Fatalf("another version: %v, want ErrStateVersion", err)
	}
	// A count far beyond the input is refused before anything is
	// allocated for it.
	assetsAt := 8 + 2 + 8 + 8 + 8
	huge := append(bytes.Clone(data[:assetsAt]), binary.AppendUvarint(nil, 1<<60)...)
	if err := st.UnmarshalBinary(huge); !errors.Is(err, domain.ErrMalformedState) {
		t.Fatalf("absurd count: %v", err)
	}
	// A balance changed alone breaks the asset's zero sum.
	i := bytes.Index(data, []byte("alice"))
	bal := bytes.Clone(data)
	bal[i+len("alice")+1+1+15]++ // the low byte of alice's balance
	if err := st.UnmarshalBinary(bal); !errors.Is(err, domain.ErrMalformedState) {
		t.Fatalf("a changed balance: %v", err)
	}
	if st.Seq() != 0 {
		t.Fatal("a refused encoding changed the state")
	}
}

// FuzzUnmarshalState: no input panics or allocates beyond its size, and
// whatever decodes re-encodes to the same bytes.
func FuzzUnmarshalState(f *testing.F) {
	h := snapshotFixture(f)
	data, _ := h.s.MarshalBinary()
	f.Add(data)
	empty, _ := domain.NewState().MarshalBinary()
	f.Add(empty)
	f.Fuzz(func(t *testing.T, in []byte) {
		var st domain.State
		if err := st.UnmarshalBinary(in); err != nil {
			if !errors.Is(err, domain.ErrMalformedState) && !errors.Is(err, domain.ErrStateVersion) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		out, err := st.MarshalBinary()
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("accepted input does not re-encode to itself (%v)", err)
		}
	})
}

// imageState returns a state of n accounts (with no posted ids) or, with
// ids, of two accounts and n posted ids.
func imageState(b testing.TB, n int, ids bool) *domain.State {
	b.Helper()
	st := domain.NewState()
	seq := uint64(0)
	apply := func(ev *domain.Event) {
		seq++
		ev.Seq, ev.Command, ev.Version, ev.Time = seq, domain.CommandRef{Seq: seq}, domain.SchemaVersion, testEpoch
		if err := st.Apply(ev); err != nil {
			b.Fatal(err)
		}
	}
	apply(&domain.Event{Type: domain.EventAssetDefined, Asset: &domain.Asset{Code: "USD", Scale: 2}})
	accounts := n
	if ids {
		accounts = 2
	}
	for i := range accounts {
		apply(&domain.Event{Type: domain.EventAccountOpened, Account: &domain.Account{ID: fmt.Sprintf("acc-%08d", i), Asset: "USD", OverdraftLimit: "0.00"}})
	}
	for i := range n {
		if !ids {
			break
		}
		apply(&domain.Event{Type: domain.EventTransferPosted, Transfer: &domain.PostedTransfer{Transfer: domain.Transfer{
			ID: uuidLike(i), From: domain.World, To: "acc-00000001", Amount: "1.00", Asset: "USD"}}})
	}
	return st
}

// BenchmarkSnapshotPause measures the pause a snapshot costs the
// processor: copying (State.Image) a state of 1M accounts, then one of 1M
// posted ids. Encoding and decoding, off the processor's goroutine, are
// measured on the two together.
func BenchmarkSnapshotPause(b *testing.B) {
	accounts, ids := imageState(b, memoryStateSize, false), imageState(b, memoryStateSize, true)
	b.Run("1M-accounts", func(b *testing.B) {
		for b.Loop() {
			accounts.Image()
		}
	})
	b.Run("1M-ids", func(b *testing.B) {
		for b.Loop() {
			ids.Image()
		}
	})
	for _, st := range []*domain.State{accounts, ids} {
		data, _ := st.MarshalBinary()
		name := "accounts"
		if st == ids {
			name = "ids"
		}
		b.Run("encode-1M-"+name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				b.StopTimer()
				im := st.Image()
				b.StartTimer()
				if _, err := im.WriteTo(discard{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("decode-1M-"+name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var s domain.State
				if err := s.UnmarshalBinary(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// A state with enough posted ids that loading them splits across workers
// decodes to the same state, and damage to the ids section is refused
// with the reason.
func TestStateBinaryManyPostedIDs(t *testing.T) {
	// imageState: the asset, two accounts, then id i posted at i+4.
	const ids = 20_000
	st := imageState(t, ids, true)
	seq := st.Seq()
	data, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got domain.State
	if err := got.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if again, err := got.MarshalBinary(); err != nil || !bytes.Equal(again, data) {
		t.Fatalf("re-encoding differs (%v)", err)
	}
	for _, i := range []int{0, 1, ids / 2, ids - 1} {
		d := got.Decide(domain.Command{Ref: domain.CommandRef{Seq: seq + 1}, Transfer: &domain.Transfer{
			ID: uuidLike(i), From: domain.World, To: "acc-00000001", Amount: "1.00"}}, testEpoch)
		if d.Outcome != domain.Replayed || d.ReplayOf != uint64(i)+4 {
			t.Fatalf("id %d after decoding: outcome %v replay of %d, want a replay of %d", i, d.Outcome, d.ReplayOf, i+4)
		}
	}

	// The ids section is the ids*32 bytes before the rate table and the
	// holds and the reversals (here four bytes: no rates, no holds
	// pending or settled, no reversals): key (16), sequence (8),
	// fingerprint (8), sorted by key.
	idsAt := len(data) - 4 - ids*32
	for _, c := range []struct {
		name   string
		damage func(b []byte)
		reason string
	}{
		{"two ids swapped", func(b []byte) {
			r := idsAt + (ids/2)*32
			tmp := bytes.Clone(b[r : r+32])
			copy(b[r:r+32], b[r+32:r+64])
			copy(b[r+32:r+64], tmp)
		}, "out of order"},
		{"an id repeated", func(b []byte) { copy(b[idsAt+(ids-1)*32:], b[idsAt+(ids-2)*32:idsAt+(ids-1)*32]) }, "out of order"},
		{"a sequence of 0", func(b []byte) { binary.BigEndian.PutUint64(b[idsAt+100*32+16:], 0) }, "sequence 0"},
		{"a sequence past the state's", func(b []byte) { binary.BigEndian.PutUint64(b[idsAt+(ids-5)*32+16:], seq+1) }, fmt.Sprintf("sequence %d of %d", seq+1, seq)},
	} {
		bad := bytes.Clone(data)
		c.damage(bad)
		var st domain.State
		err := st.UnmarshalBinary(bad)
		if !errors.Is(err, domain.ErrMalformedState) || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: %v, want ErrMalformedState saying %q", c.name, err, c.reason)
		}
	}
}
