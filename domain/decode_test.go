package domain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// canonicalLines returns the stored lines of a journal covering every
// event type, metadata, escapes and non-ASCII text.
func canonicalLines(t testing.TB) ([][]byte, []domain.Hash) {
	t.Helper()
	events := journalEvents(t)
	h := fixture(t)
	h.transfer(domain.Transfer{ID: "r", From: "alice", To: "bob", Amount: "99", Reference: "<x>", Metadata: map[string]string{"k": "v"}})
	h.transfer(domain.Transfer{ID: "plain", From: "alice", To: "bob", Amount: "1.5", Reference: "caf\u00e9 \u4e16", Metadata: map[string]string{"a": "1", "b": "\u00e9"}})
	h.open(domain.Account{ID: "dora", Asset: "USD", OverdraftLimit: domain.Unlimited, Owner: "d\u00f6ra", Metadata: map[string]string{"x": "y"}})
	h.transfer(domain.Transfer{ID: "big", From: "dora", To: "alice", Amount: "123456789.12"})
	events = append(events, h.events...)
	var lines [][]byte
	var hashes []domain.Hash
	var prev domain.Hash
	for i, ev := range events {
		cp := *ev
		cp.Seq = uint64(i + 1)
		line, next, err := domain.AppendEvent(nil, &cp, prev)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line[:len(line)-1])
		hashes = append(hashes, next)
		prev = next
	}
	return lines, hashes
}

// TestDecodeFastCoversCanonicalLines checks that the fast reader takes
// every line the processor writes (escapes aside), so rebuilds do not
// fall back to encoding/json in practice.
func TestDecodeFastCoversCanonicalLines(t *testing.T) {
	lines, _ := canonicalLines(t)
	fast := 0
	for _, l := range lines {
		want, err := domain.DecodeEventJSON(l)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := domain.DecodeEventFast(l)
		if !ok {
			if !bytes.Contains(l, []byte(`\`)) {
				t.Errorf("fast reader refused a line without escapes: %s", l)
			}
			continue
		}
		fast++
		if !reflect.DeepEqual(got, want) {
			t.Errorf("fast reader disagrees with encoding/json on %s:\n fast %+v\n json %+v", l, got, want)
		}
	}
	if fast < len(lines)-3 {
		t.Fatalf("fast reader took %d of %d lines", fast, len(lines))
	}
}

// FuzzDecodeFast is the differential test of the fast reader: whenever it
// accepts a line, encoding/json must decode the same event from it, and
// DecodeEvent must agree with encoding/json on every input.
func FuzzDecodeFast(f *testing.F) {
	lines, _ := canonicalLines(f)
	for _, l := range lines {
		f.Add(l)
	}
	for _, s := range []string{
		`{"seq":1,"type":"x","v":1,"command":{"seq":0,"item":0},"time":"2024-02-29T23:59:59.5Z","prev_hash":""}`,
		`{"seq":1,"type":"x","v":1,"command":{"seq":0,"item":0},"time":"2023-02-29T23:59:59Z","prev_hash":""}`,
		`{"seq":01,"type":"x","v":1,"command":{"seq":0,"item":0},"time":"2024-01-01T00:00:00Z","prev_hash":""}`,
		`{"seq":18446744073709551616,"type":"x","v":1,"command":{"seq":0,"item":0},"time":"2024-01-01T00:00:00Z","prev_hash":""}`,
		// Around the scanner's bounds: 18 digits unchecked, then uint64's
		// and int's largest values and one past them.
		`{"seq":18446744073709551615,"type":"x","v":1,"command":{"seq":99999999999999999999,"item":0},"time":"2024-01-01T00:00:00Z","prev_hash":""}`,
		`{"seq":1,"type":"x","v":9223372036854775807,"command":{"seq":999999999999999999,"item":1000000000000000000},"time":"2024-01-01T00:00:00Z","prev_hash":""}`,
		`{"seq":1,"type":"x","v":9223372036854775808,"command":{"seq":0,"item":0},"time":"2024-01-01T00:00:00Z","prev_hash":""}`,
		`{"seq":1,"type":"x","v":1,"command":{"seq":0,"item":19223372036854775807},"time":"2024-01-01T00:00:00Z","prev_hash":""}`,
		`{"seq":1,"type":"x","v":-1,"command":{"seq":0,"item":0},"time":"2024-01-01T00:00:00+01:00","prev_hash":""}`,
		`{"seq":1,"type":"x","v":1,"command":{"seq":0,"item":0},"time":"2024-01-01T00:00:00.1234567891Z","prev_hash":""}`,
		`{"seq":1,"type":"x","v":1,"command":{"seq":0,"item":0},"time":"2024-01-01T00:00:00Z","account":{"id":"a","asset":"B","metadata":{"b":"1","a":"2"}},"prev_hash":""}`,
		`{"seq":1,"type":"x","v":1,"command":{"seq":0,"item":0},"time":"2024-01-01T00:00:00Z","account":{"id":"a","asset":"B","metadata":{}},"prev_hash":""}`,
		`{"seq":1,"type":"x","v":1,"command":{"seq":0,"item":0},"time":"2024-01-01T00:00:00Z","prev_hash":"","hash":"x"} `,
		`{"seq":1,"type":"x\u00e9","v":1,"command":{"seq":0,"item":0},"time":"2024-01-01T00:00:00Z","prev_hash":""}`,
		`{"seq":1,"type":"TransferRejected","v":1,"command":{"seq":0,"item":0},"time":"2024-01-01T00:00:00Z","rejection":{"id":"m","from":"a","to":"b","amount":"0","memo":true,"code":"c","detail":"d"},"prev_hash":""}`,
		`{"seq":1,"type":"TransferRejected","v":1,"command":{"seq":0,"item":0},"time":"2024-01-01T00:00:00Z","rejection":{"id":"m","from":"a","to":"b","amount":"0","memo":false,"code":"c","detail":"d"},"prev_hash":""}`,
	} {
		f.Add([]byte(s))
	}
	f.Add([]byte("{\"seq\":1,\"type\":\"\xff\",\"v\":1,\"command\":{\"seq\":0,\"item\":0},\"time\":\"2024-01-01T00:00:00Z\",\"prev_hash\":\"\"}"))
	f.Fuzz(func(t *testing.T, line []byte) {
		want, werr := domain.DecodeEventJSON(line)
		got, ok := domain.DecodeEventFast(line)
		if ok {
			if werr != nil {
				t.Fatalf("fast reader accepted what encoding/json refuses (%v): %q", werr, line)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("fast reader disagrees with encoding/json on %q:\n fast %#v\n json %#v", line, got, want)
			}
		}
		ev, err := domain.DecodeEvent(line)
		if (err == nil) != (werr == nil) || err == nil && !reflect.DeepEqual(ev, want) {
			t.Fatalf("DecodeEvent = %+v, %v; encoding/json = %+v, %v", ev, err, want, werr)
		}
		if err != nil && !errors.Is(err, domain.ErrMalformedEvent) {
			t.Fatalf("DecodeEvent error %v does not wrap ErrMalformedEvent", err)
		}
	})
}

// TestReplayerMatchesVerifyDecodeApply feeds the same lines, intact and
// tampered, to VerifyLine+DecodeEvent+Apply and to Line.Prepare and
// Replayer.Apply, and expects the same states and the same errors.
func TestReplayerMatchesVerifyDecodeApply(t *testing.T) {
	lines, hashes := canonicalLines(t)
	type outcome struct {
		at  int
		err error
	}
	slow := func(lines [][]byte) (outcome, *domain.State) {
		st := domain.NewState()
		var prev domain.Hash
		for i, l := range lines {
			h, err := domain.VerifyLine(l, prev)
			if err == nil {
				var ev *domain.Event
				if ev, err = domain.DecodeEvent(l); err == nil {
					err = st.Apply(ev)
				}
			}
			if err != nil {
				return outcome{i, err}, st
			}
			prev = h
		}
		return outcome{-1, nil}, st
	}
	fast := func(lines [][]byte) (outcome, *domain.State) {
		st := domain.NewState()
		r := domain.NewReplayer(st)
		var prev domain.Hash
		var line domain.Line
		for i, l := range lines {
			h, err := line.Prepare(l, prev)
			if err == nil {
				err = r.Apply(&line)
			}
			if err != nil {
				return outcome{i, err}, st
			}
			prev = h
		}
		return outcome{-1, nil}, st
	}
	same := func(name string, lines [][]byte) {
		t.Helper()
		so, ss := slow(lines)
		fo, fs := fast(lines)
		if so.at != fo.at || (so.err == nil) != (fo.err == nil) {
			t.Fatalf("%s: slow path stops at %d (%v), fast at %d (%v)", name, so.at, so.err, fo.at, fo.err)
		}
		for _, sentinel := range []error{domain.ErrHashMismatch, domain.ErrChainBroken, domain.ErrMalformedEvent, domain.ErrSequenceGap, domain.ErrInconsistent} {
			if errors.Is(so.err, sentinel) != errors.Is(fo.err, sentinel) {
				t.Fatalf("%s: slow error %v, fast error %v", name, so.err, fo.err)
			}
		}
		a, _ := ss.MarshalBinary()
		b, _ := fs.MarshalBinary()
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: the states differ", name)
		}
	}
	same("intact", lines)

	clone := func() [][]byte {
		out := make([][]byte, len(lines))
		for i, l := range lines {
			out[i] = bytes.Clone(l)
		}
		return out
	}
	// A line re-encoded with whitespace and its hash recomputed is not
	// canonical: the fast path must hand it to encoding/json.
	spaced := clone()
	spaced[3] = rehash(bytes.Replace(spaced[3], []byte(`"v":1`), []byte(`"v": 1`), 1), hashes[2])
	same("non-canonical line, chain broken after it", spaced)

	wrongPrev := clone()
	wrongPrev[5] = rehash(bytes.Replace(wrongPrev[5], []byte(hashes[3].String()), []byte(hashes[2].String()), 1), hashes[3])
	same("prev_hash names an older event", wrongPrev)

	gap := clone()
	gap = append(gap[:4], gap[5:]...)
	same("a missing event", gap)

	flipped := clone()
	flipped[6][20] ^= 1
	same("a flipped byte", flipped)

	unknown := clone()
	unknown[2] = rehash(bytes.Replace(unknown[2], []byte(`"v":1`), []byte(`"v":1,"x":2`), 1), hashes[1])
	same("an unknown field", unknown)

	// Two JSON values on one line: encoding/json's Decoder would read the
	// first alone, but VerifyLine refuses the line, and so must Prepare.
	trailing := clone()
	last := len(trailing) - 1
	canonical := append(bytes.Clone(trailing[last][:len(trailing[last])-75]), '}')
	two := append(canonical, ` {"prev_hash":"`+hashes[last-1].String()+`","hash":"`+strings.Repeat("0", 64)+`"}`...)
	trailing[last] = rehash(two, hashes[last-1])
	same("two JSON values in one line", trailing)
}

// referenceVerify is VerifyLine as docs/journal.md specifies it, written
// independently: the stored hash checked over the line without its hash
// field, then prev_hash read by encoding/json.
func referenceVerify(line []byte, prev domain.Hash) (domain.Hash, error) {
	const suffix = len(`,"hash":"`) + 64 + len(`"}`)
	if len(line) < suffix+2 || !bytes.HasPrefix(line[len(line)-suffix:], []byte(`,"hash":"`)) || !bytes.HasSuffix(line, []byte(`"}`)) {
		return domain.Hash{}, domain.ErrMalformedEvent
	}
	hexed := string(line[len(line)-suffix+9 : len(line)-2])
	stored, err := domain.ParseHash(hexed)
	if err != nil || stored.String() != hexed {
		return domain.Hash{}, domain.ErrMalformedEvent
	}
	if !bytes.Equal(rehash(line, prev), line) {
		return stored, domain.ErrHashMismatch
	}
	var chained struct {
		PrevHash string `json:"prev_hash"`
	}
	if err := json.Unmarshal(line, &chained); err != nil {
		return stored, domain.ErrMalformedEvent
	}
	if chained.PrevHash != prev.String() {
		return stored, domain.ErrChainBroken
	}
	return stored, nil
}

// FuzzPrepareLine checks Line.Prepare (and so VerifyLine) against the
// specification, on lines whose hash the fuzzer may or may not have fixed
// up, so that both the hash check and what comes after it are exercised;
// and that a prepared line applies as DecodeEvent's event does.
func FuzzPrepareLine(f *testing.F) {
	lines, hashes := canonicalLines(f)
	for i, l := range lines {
		prev := domain.Hash{}
		if i > 0 {
			prev = hashes[i-1]
		}
		f.Add(l[:len(l)-75], prev[:], true)
		f.Add(l, prev[:], false)
	}
	f.Fuzz(func(t *testing.T, body, prevBytes []byte, fix bool) {
		var prev domain.Hash
		copy(prev[:], prevBytes)
		line := body
		if fix { // give the body a correct hash suffix
			line = rehash(append(append(bytes.Clone(body), `,"hash":"`...), strings.Repeat("0", 64)+`"}`...), prev)
		}
		want, werr := referenceVerify(line, prev)
		var l domain.Line
		got, err := l.Prepare(line, prev)
		for _, sentinel := range []error{domain.ErrMalformedEvent, domain.ErrHashMismatch, domain.ErrChainBroken} {
			if errors.Is(err, sentinel) != errors.Is(werr, sentinel) {
				t.Fatalf("Prepare = %v, the specification says %v, for %q", err, werr, line)
			}
		}
		if (err == nil) != (werr == nil) || err == nil && got != want {
			t.Fatalf("Prepare = %s, %v; the specification says %s, %v", got, err, want, werr)
		}
		// Hashed by the caller, through the one hash input, the line
		// prepares in the same way.
		sum, ok := hashOfInput(prev, line)
		var hashed domain.Line
		hgot, herr := hashed.PrepareHashed(line, prev, sum)
		if hgot != got || (herr == nil) != (err == nil) || !ok && !errors.Is(err, domain.ErrMalformedEvent) {
			t.Fatalf("PrepareHashed = %s, %v (hash input %v); Prepare = %s, %v", hgot, herr, ok, got, err)
		}
		if stored, ok := domain.StoredHash(line); stored != got || !ok && !errors.Is(err, domain.ErrMalformedEvent) {
			t.Fatalf("StoredHash = %s, %v; Prepare returned %s, %v", stored, ok, got, err)
		}
		sealedAgrees(t, line, prev, sum)
		sealedAgrees(t, line, prev, domain.Hash{7})
		for _, sentinel := range []error{domain.ErrMalformedEvent, domain.ErrHashMismatch, domain.ErrChainBroken} {
			if errors.Is(herr, sentinel) != errors.Is(err, sentinel) {
				t.Fatalf("PrepareHashed = %v, Prepare = %v, for %q", herr, err, line)
			}
		}
		if err != nil {
			return
		}
		// Its view is DecodeEvent's event.
		var buf domain.EventBuffer
		ev, everr := l.View(&buf)
		dev, derr := domain.DecodeEvent(line)
		if (everr == nil) != (derr == nil) || everr == nil && !reflect.DeepEqual(ev, dev) {
			t.Fatalf("Line.View = %+v, %v; DecodeEvent = %+v, %v", ev, everr, dev, derr)
		}
		// Applied through the Replayer or as DecodeEvent's event, a
		// prepared line changes a state in the same way.
		a, b := newHarness(t), newHarness(t)
		for _, h := range []*harness{a, b} {
			h.must(h.asset("USD", 2), domain.Created)
			h.must(h.open(domain.Account{ID: "alice", Asset: "USD"}), domain.Created)
			h.must(h.open(domain.Account{ID: "bob", Asset: "USD"}), domain.Created)
		}
		errA := domain.NewReplayer(a.s).Apply(&l)
		ev, errB := domain.DecodeEvent(line)
		if errB == nil {
			errB = b.s.Apply(ev)
		}
		if (errA == nil) != (errB == nil) {
			t.Fatalf("Replayer.Apply = %v, DecodeEvent+Apply = %v", errA, errB)
		}
		x, _ := a.s.MarshalBinary()
		y, _ := b.s.MarshalBinary()
		if !bytes.Equal(x, y) {
			t.Fatal("the Replayer and DecodeEvent+Apply left different states")
		}
	})
}

// TestReplayerKeepsNothingOfTheLine checks what makes the Replayer's
// in-place strings safe: once a line is applied, the state holds no part
// of it, so the record's bytes may be reused.
func TestReplayerKeepsNothingOfTheLine(t *testing.T) {
	h := fixture(t)
	h.must(h.open(domain.Account{ID: "dora", Asset: "USD", OverdraftLimit: "5", Owner: "d\u00f6ra", Metadata: map[string]string{"x": "y"}}), domain.Created)
	h.must(h.transfer(domain.Transfer{ID: "t1", From: "alice", To: "dora", Amount: "2", Reference: "r"}), domain.Posted)
	var lines [][]byte
	var prevHash domain.Hash
	for _, ev := range h.events {
		line, next, err := domain.AppendEvent(nil, ev, prevHash)
		if err != nil {
			t.Fatal(err)
		}
		lines, prevHash = append(lines, line[:len(line)-1]), next
	}
	st := domain.NewState()
	r := domain.NewReplayer(st)
	var prev domain.Hash
	for _, raw := range lines {
		raw = bytes.Clone(raw)
		var l domain.Line
		h, err := l.Prepare(raw, prev)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Apply(&l); err != nil {
			t.Fatal(err)
		}
		for i := range raw {
			raw[i] = 'X'
		}
		prev = h
	}
	want := domain.NewState()
	prev = domain.Hash{}
	for _, raw := range lines {
		h, _ := domain.VerifyLine(raw, prev)
		ev, _ := domain.DecodeEvent(raw)
		if err := want.Apply(ev); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
	a, _ := st.MarshalBinary()
	b, _ := want.MarshalBinary()
	if !bytes.Equal(a, b) {
		t.Fatal("overwriting applied lines changed the state: it kept part of them")
	}
	d := st.Decide(domain.Command{Ref: domain.CommandRef{Seq: 1 << 40}, Actor: &domain.Actor{Subject: "d\u00f6ra"},
		Transfer: &domain.Transfer{ID: "after", From: "dora", To: "alice", Amount: "1"}}, testEpoch)
	if d.Outcome != domain.Posted {
		t.Fatalf("the owner of an account applied from a reused line cannot debit it: %+v (%v)", d, d.Err)
	}
}

// TestLineViewIsVerifyLineAndDecodeEvent checks the auditor's one pass:
// Prepare then View give what VerifyLine then DecodeEvent give, on
// canonical lines, a line encoding/json must read and lines that fail
// verification, with one Line and one EventBuffer reused throughout; and
// a canonical line without metadata is viewed without allocating.
func TestLineViewIsVerifyLineAndDecodeEvent(t *testing.T) {
	lines, hashes := canonicalLines(t)
	// A line with whitespace, its hash recomputed: not canonical.
	spaced := rehash(bytes.Replace(lines[3], []byte(`"v":1`), []byte(`"v": 1`), 1), hashes[2])
	if _, ok := domain.DecodeEventFast(spaced); ok {
		t.Fatal("the spaced line is canonical")
	}
	flipped := bytes.Clone(lines[6])
	flipped[20] ^= 1
	type input struct {
		name string
		line []byte
		prev domain.Hash
	}
	var inputs []input
	for i, l := range lines {
		var prev domain.Hash
		if i > 0 {
			prev = hashes[i-1]
		}
		inputs = append(inputs, input{fmt.Sprintf("line %d", i+1), l, prev})
	}
	inputs = append(inputs,
		input{"not canonical", spaced, hashes[2]},
		input{"after the wrong line", lines[5], hashes[3]},
		input{"a flipped byte", flipped, hashes[5]},
		input{"no hash", lines[2][:40], hashes[1]})
	canonical := 0
	var l domain.Line
	var buf domain.EventBuffer
	for _, in := range inputs {
		wantHash, wantErr := domain.VerifyLine(in.line, in.prev)
		h, err := l.Prepare(in.line, in.prev)
		if h != wantHash || (err == nil) != (wantErr == nil) {
			t.Fatalf("%s: Prepare = %s, %v; VerifyLine = %s, %v", in.name, h, err, wantHash, wantErr)
		}
		ev, err := l.View(&buf)
		if wantErr != nil {
			if !errors.Is(err, domain.ErrMalformedEvent) || ev != nil {
				t.Fatalf("%s: View after a failed Prepare = %+v, %v", in.name, ev, err)
			}
			continue
		}
		want, werr := domain.DecodeEvent(in.line)
		if err != nil || werr != nil || !reflect.DeepEqual(ev, want) {
			t.Fatalf("%s: View = %+v, %v; DecodeEvent = %+v, %v", in.name, ev, err, want, werr)
		}
		if _, ok := domain.DecodeEventFast(in.line); ok {
			canonical++
		}
	}
	if canonical < len(lines)-3 {
		t.Fatalf("only %d lines took the one-pass path", canonical)
	}
	var fresh domain.Line
	if _, err := fresh.View(&buf); !errors.Is(err, domain.ErrMalformedEvent) {
		t.Fatalf("View of a line never prepared: %v", err)
	}

	// A posting without metadata, as most are: no allocation.
	posting := -1
	for i, line := range lines {
		if bytes.Contains(line, []byte(`"type":"TransferPosted"`)) && !bytes.Contains(line, []byte(`"metadata"`)) {
			posting = i
			break
		}
	}
	if posting < 1 {
		t.Fatal("no posting without metadata in the fixture")
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := l.Prepare(lines[posting], hashes[posting-1]); err != nil {
			t.Fatal(err)
		}
		if ev, err := l.View(&buf); err != nil || ev.Transfer == nil {
			t.Fatal(ev, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Prepare and View of a posting allocate %.0f times", allocs)
	}
}
