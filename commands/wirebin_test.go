package commands_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
)

// randomString is empty, short ASCII, other UTF-8, or now and then bytes
// of any value (the binary envelope carries them as they are, JSON does
// not).
func randomString(rng *rand.Rand) string {
	switch n := rng.IntN(400); {
	case n < 100:
		return ""
	case n < 150:
		return "é—✓ \"quoted\"\n" + strconv.Itoa(n)
	case n == 150:
		b := make([]byte, rng.IntN(300))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return string(b)
	}
	return "s-" + strconv.Itoa(rng.IntN(1_000_000))
}

func randomMap(rng *rand.Rand) map[string]string {
	n := rng.IntN(4)
	if n == 0 {
		return nil
	}
	m := map[string]string{}
	for range n {
		m[randomString(rng)] = randomString(rng)
	}
	return m
}

func randomItem(rng *rand.Rand) commands.Item {
	var it commands.Item
	if rng.IntN(3) > 0 {
		it.Actor = &domain.Actor{Subject: randomString(rng), Admin: rng.IntN(2) == 0}
	}
	s := func() string { return randomString(rng) }
	// Requests other than transfers travel as JSON, which carries valid
	// UTF-8 only (the API admits nothing else).
	v := func() string {
		for {
			if x := randomString(rng); utf8.ValidString(x) {
				return x
			}
		}
	}
	validMap := func() map[string]string {
		m := randomMap(rng)
		for k, x := range m {
			if !utf8.ValidString(k) || !utf8.ValidString(x) {
				delete(m, k)
			}
		}
		if len(m) == 0 {
			return nil
		}
		return m
	}
	switch rng.IntN(6) {
	case 0:
		it.Asset = &domain.Asset{Code: v(), Scale: rng.IntN(40) - 20}
	case 1:
		it.Account = &domain.Account{ID: v(), Asset: v(), OverdraftLimit: v(), Owner: v(), Metadata: validMap()}
	case 2:
		it.Transfer = &domain.Transfer{ID: s(), From: s(), To: s(), Amount: s(), Asset: s(), Reference: s(), Metadata: randomMap(rng),
			Memo: rng.IntN(2) == 0, ExchangeRate: s()}
		if rng.IntN(3) == 0 {
			it.Transfer.Pending, it.Transfer.ExpiresAt = true, s()
		}
		it.SameAsset = rng.IntN(2) == 0
	case 3:
		it.Rate = &domain.RateSet{Base: v(), Quote: v(), Rate: v()}
	case 4:
		it.Hold = &domain.HoldAction{ID: v(), Action: v(), Amount: v()}
	default:
		it.Metadata = &domain.MetadataUpdate{Account: v(), Metadata: validMap()}
	}
	return it
}

func randomEnvelope(rng *rand.Rand) *commands.Envelope {
	env := &commands.Envelope{Version: commands.WireVersion, ID: randomString(rng), Reply: randomString(rng), Atomic: rng.IntN(2) == 0}
	for range rng.IntN(3) {
		env.Groups = append(env.Groups, rng.IntN(1000))
	}
	for range 1 + rng.IntN(20) {
		env.Items = append(env.Items, randomItem(rng))
	}
	return env
}

// validUTF8 reports whether every string of env survives encoding/json
// unchanged (it replaces invalid UTF-8).
func validUTF8(env *commands.Envelope) bool {
	data, _ := json.Marshal(env)
	var back commands.Envelope
	return json.Unmarshal(data, &back) == nil && reflect.DeepEqual(&back, env)
}

// Any envelope decodes from its binary encoding to itself; one that JSON
// carries unchanged decodes the same from the JSON an earlier version
// stored.
func TestBinaryEnvelopeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	viaJSON := 0
	for i := range 3000 {
		env := randomEnvelope(rng)
		data, err := commands.EncodeEnvelope(nil, env)
		if err != nil {
			t.Fatal(err)
		}
		if data[0] != commands.EnvelopeBinaryVersion {
			t.Fatalf("first byte %#x", data[0])
		}
		got, err := commands.DecodeEnvelope(data)
		if err != nil {
			t.Fatalf("envelope %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, env) {
			t.Fatalf("envelope %d:\n got %+v\nwant %+v", i, got, env)
		}
		if !validUTF8(env) {
			continue
		}
		js, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		fromJSON, err := commands.DecodeEnvelope(js)
		if err != nil {
			t.Fatalf("envelope %d as JSON: %v", i, err)
		}
		if !reflect.DeepEqual(fromJSON, got) {
			t.Fatalf("envelope %d: JSON and binary differ:\n%+v\n%+v", i, fromJSON, got)
		}
		viaJSON++
	}
	if viaJSON < 100 {
		t.Fatalf("only %d envelopes compared with their JSON", viaJSON)
	}
}

// A command stored as JSON by the previous version is decided as before.
func TestJSONEnvelopeOfThePreviousVersionDecodes(t *testing.T) {
	old := `{"v":1,"id":"e1","reply":"r","items":[{"actor":{"sub":"ops","admin":true},` +
		`"transfer":{"id":"t1","from":"world","to":"alice","amount":"1.00","metadata":{"k":"v"}}}]}`
	env, err := commands.DecodeEnvelope([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	want := &commands.Envelope{Version: 1, ID: "e1", Reply: "r", Items: []commands.Item{{
		Actor:    &domain.Actor{Subject: "ops", Admin: true},
		Transfer: &domain.Transfer{ID: "t1", From: "world", To: "alice", Amount: "1.00", Metadata: map[string]string{"k": "v"}},
	}}}
	if !reflect.DeepEqual(env, want) {
		t.Fatalf("got %+v", env)
	}
}

// The binary envelope writes a transfer's fields by hand and every other
// request as JSON: a field added to a transfer, or to the item itself,
// must be added to the encoding too (the round trip above compares every
// field, but only of the values randomItem sets).
func TestBinaryEnvelopeCoversEveryField(t *testing.T) {
	for typ, n := range map[reflect.Type]int{
		reflect.TypeFor[commands.Envelope](): 6,
		reflect.TypeFor[commands.Item]():     12,
		reflect.TypeFor[domain.Actor]():      2,
		// Reverses is refused rather than written (a reversal is its own item).
		reflect.TypeFor[domain.Transfer](): 12,
	} {
		if typ.NumField() != n {
			t.Errorf("%s has %d fields, the binary envelope (commands/wirebin.go) writes %d", typ, typ.NumField(), n)
		}
	}
}

func TestBinaryEnvelopeRefusesMalformed(t *testing.T) {
	env := &commands.Envelope{Version: 1, ID: "e", Items: []commands.Item{{Transfer: &domain.Transfer{ID: "t", From: "a", To: "b", Amount: "1"}}}}
	good, err := commands.EncodeEnvelope(nil, env)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"truncated":              good[:len(good)-1],
		"trailing":               append(append([]byte{}, good...), 0),
		"no items":               {2, 0, 0, 0, 0, 0},
		"unknown kind":           {2, 0, 0, 0, 0, 1, 9, 0, 0},
		"unknown transfer flags": {2, 0, 0, 0, 0, 1, 3, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0},
		"JSON transfer":          append([]byte{2, 0, 0, 0, 0, 1, 5, 0, 46}, `{"transfer":{"id":"t","from":"a","to":"b","amount":"1"}}`[:46]...),
		"JSON not JSON":          {2, 0, 0, 0, 0, 1, 5, 0, 1, '{'},
		"unknown actor":          {2, 0, 0, 0, 0, 1, 3, 7, 0},
		"unknown flags":          {2, 0, 0, 4, 0, 0},
		"huge count":             {2, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"huge string":            {2, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"huge group":             {2, 0, 0, 0, 1, 0xff, 0xff, 0x7f, 1, 3, 0, 0},
	} {
		if got, err := commands.DecodeEnvelope(bad); err == nil {
			t.Errorf("%s: decoded %+v", name, got)
		}
	}
	if _, err := commands.EncodeEnvelope(nil, &commands.Envelope{Items: []commands.Item{{}}}); err == nil {
		t.Error("encoded an item with no request")
	}
}

// maxAllocPerInputByte bounds what decoding may allocate per byte of
// input: an item of 3 bytes becomes an Item, a Transfer and its strings.
const maxAllocPerInputByte = 128

func FuzzDecodeEnvelope(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 8 {
		data, err := commands.EncodeEnvelope(nil, randomEnvelope(rng))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"v":1,"id":"e","items":[{"asset":{"code":"USD","scale":2}}]}`))
	f.Add([]byte{2, 0, 0, 0, 0, 0xff, 0xff, 0x03})
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		env, err := commands.DecodeEnvelope(data)
		runtime.ReadMemStats(&after)
		if len(data) > 0 && data[0] == commands.EnvelopeBinaryVersion {
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(maxAllocPerInputByte*len(data)+64<<10) {
				t.Fatalf("decoding %d bytes allocated %d", len(data), alloc)
			}
		}
		if err != nil {
			return
		}
		if len(env.Items) == 0 || len(env.Items) > commands.MaxItemsPerCommand {
			t.Fatalf("decoded %d items", len(env.Items))
		}
		// What decodes encodes back to an envelope that decodes the same,
		// unless an item carries no request or several (JSON allows it;
		// the processor skips such an item).
		again, err := commands.EncodeEnvelope(nil, env)
		if err != nil {
			return
		}
		env2, err := commands.DecodeEnvelope(again)
		if err != nil || !reflect.DeepEqual(normalize(env), env2) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, env, env2)
		}
	})
}

// normalize is env as the binary envelope carries it: empty maps are nil,
// and the version is the one field it does not carry.
func normalize(env *commands.Envelope) *commands.Envelope {
	out := *env
	out.Version = commands.WireVersion
	if len(out.Groups) == 0 {
		out.Groups = nil
	}
	out.Items = make([]commands.Item, len(env.Items))
	for i, it := range env.Items {
		c := it
		switch {
		case it.Account != nil:
			a := *it.Account
			a.Metadata = nilIfEmpty(a.Metadata)
			c.Account = &a
		case it.Transfer != nil:
			tr := *it.Transfer
			tr.Metadata = nilIfEmpty(tr.Metadata)
			c.Transfer = &tr
		case it.Metadata != nil:
			m := *it.Metadata
			m.Metadata = nilIfEmpty(m.Metadata)
			c.Metadata = &m
		}
		out.Items[i] = c
	}
	return &out
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// benchEnvelope is a group-commit message of 64 single transfers, as the
// API sends under load.
func benchEnvelope() *commands.Envelope {
	env := &commands.Envelope{Version: commands.WireVersion, ID: "Zx3mQ9KJdL2vB8nT4pR7sW", Reply: "ledger.default.outcomes.abc123"}
	for i := range 64 {
		env.Groups = append(env.Groups, 1)
		env.Items = append(env.Items, commands.Item{Actor: &domain.Actor{Subject: "bench", Admin: true},
			Transfer: &domain.Transfer{ID: "bench-1a2b3c4d-7-" + strconv.Itoa(i), From: "bench-12", To: "bench-873",
				Amount: "0.57", Asset: "BENCH", Reference: "bench-run-1a2b3c4d"}})
	}
	return env
}

// Per item: go test ./commands -run '^$' -bench 'Envelope' -benchtime 2000x
func BenchmarkEnvelope(b *testing.B) {
	env := benchEnvelope()
	js, _ := json.Marshal(env)
	bin, _ := commands.EncodeEnvelope(nil, env)
	for name, fn := range map[string]func(){
		"encode-json":   func() { _, _ = json.Marshal(env) },
		"encode-binary": func() { _, _ = commands.EncodeEnvelope(nil, env) },
		"decode-json":   func() { _, _ = commands.DecodeEnvelope(js) },
		"decode-binary": func() { _, _ = commands.DecodeEnvelope(bin) },
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fn()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(env.Items)), "ns/item")
		})
	}
}
