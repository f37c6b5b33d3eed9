package commands_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
)

// replyFixture decides one of every outcome and journals the events as the
// processor does, returning the reply and each event's journal line.
func replyFixture(t testing.TB) (commands.Reply, map[*domain.Event][]byte) {
	t.Helper()
	st := domain.NewState()
	now := time.Date(2026, 11, 22, 1, 2, 3, 456789000, time.UTC)
	cmds := []domain.Command{
		{Asset: &domain.Asset{Code: "USD", Scale: 2}},
		{Account: &domain.Account{ID: "alice", Asset: "USD", Metadata: map[string]string{"k": "v"}}},
		{Account: &domain.Account{ID: "bob", Asset: "USD"}},
		{Transfer: &domain.Transfer{ID: "mint", From: "world", To: "alice", Amount: "10.00"}},
		{Transfer: &domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "2.50", Reference: "lunch \"x\" é"}},
		{Transfer: &domain.Transfer{ID: "t2", From: "alice", To: "bob", Amount: "99"}},                               // rejected
		{Transfer: &domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "2.50", Reference: "lunch \"x\" é"}}, // replayed
		{Account: &domain.Account{ID: "bob", Asset: "USD"}},                                                          // existed
	}
	var reply commands.Reply
	reply.ID = "env-1"
	var events []*domain.Event
	for i, c := range cmds {
		c.Ref = domain.CommandRef{Seq: 1, Item: i}
		d := st.Decide(c, now)
		if d.Err != nil && d.Outcome != domain.Rejected {
			t.Fatalf("command %d: %v", i, d.Err)
		}
		if d.Event != nil {
			events = append(events, d.Event)
		}
		reply.Results = append(reply.Results, commands.ResultOf(d))
	}
	records, _, err := commands.EncodeRecords(events, domain.Hash{}, 2, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[*domain.Event][]byte{}
	i := 0
	for _, r := range records {
		ls, err := domain.SplitRecord(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			lines[events[i]] = bytes.TrimSuffix(l, []byte{'\n'})
			i++
		}
	}
	return reply, lines
}

func TestReplyRoundTrip(t *testing.T) {
	reply, lines := replyFixture(t)
	outcomes := map[commands.Outcome]int{}
	for _, r := range reply.Results {
		outcomes[r.Outcome]++
	}
	want := map[commands.Outcome]int{commands.OutcomeCreated: 3, commands.OutcomePosted: 2, commands.OutcomeRejected: 1,
		commands.OutcomeReplayed: 1, commands.OutcomeExisted: 1}
	if !reflect.DeepEqual(outcomes, want) {
		t.Fatalf("fixture outcomes %v, want %v", outcomes, want)
	}
	for name, line := range map[string]func(*domain.Event) []byte{
		"journal lines": func(ev *domain.Event) []byte { return lines[ev] },
		"re-encoded":    nil,
	} {
		t.Run(name, func(t *testing.T) {
			data, err := commands.EncodeReply(nil, &reply, line)
			if err != nil {
				t.Fatal(err)
			}
			got, err := commands.DecodeReply(data)
			if err != nil {
				t.Fatalf("%v\n%s", err, data)
			}
			if got.ID != reply.ID || len(got.Results) != len(reply.Results) {
				t.Fatalf("got %s with %d results", got.ID, len(got.Results))
			}
			for i, w := range reply.Results {
				g := got.Results[i]
				if g.Outcome != w.Outcome || g.Code != w.Code || g.Detail != w.Detail || g.Seq != w.Seq || (g.Event == nil) != (w.Event == nil) {
					t.Fatalf("result %d: got %+v, want %+v", i, g, w)
				}
				if w.Event != nil && !reflect.DeepEqual(g.Event, w.Event) {
					t.Fatalf("result %d: event\n got %+v\nwant %+v", i, g.Event, w.Event)
				}
			}
		})
	}
}

func TestDecodeReplyRefusesMalformed(t *testing.T) {
	reply, lines := replyFixture(t)
	data, err := commands.EncodeReply(nil, &reply, func(ev *domain.Event) []byte { return lines[ev] })
	if err != nil {
		t.Fatal(err)
	}
	// One more result announced than the reply holds: the count follows
	// the version byte and the id (one length byte for "env-1").
	fewer := bytes.Clone(data)
	fewer[2+int(data[1])]++
	for name, bad := range map[string]string{
		"empty":                     "",
		"no newline":                `{"v":1,"id":"x","n":0}`,
		"version":                   `{"v":2,"id":"x","n":0}` + "\n",
		"negative count":            `{"v":1,"id":"x","n":-1}` + "\n",
		"huge count":                `{"v":1,"id":"x","n":99999999}` + "\n",
		"truncated":                 string(data[:len(data)-40]),
		"missing event":             `{"v":1,"id":"x","n":1}` + "\nP\n",
		"bad event":                 `{"v":1,"id":"x","n":1}` + "\nP\n{\"type\":1}\n",
		"bad meta":                  `{"v":1,"id":"x","n":1}` + "\n{\n",
		"trailing":                  string(data) + "P\n",
		"fewer results":             string(fewer),
		"fewer results, version 1":  `{"v":1,"id":"x","n":2}` + "\n" + `{"outcome":"created"}` + "\n",
		"binary, unknown tag":       "\x02\x01x\x01Q",
		"binary, bad event marker":  "\x02\x01x\x01M\x07created\x00\x00\x00\x07",
		"binary, bad event":         "\x02\x01x\x01P\x0a{\"type\":1}",
		"binary, line past the end": "\x02\x01x\x01P\x7f{}",
		"binary, huge count":        "\x02\x01x\xff\xff\xff\x7f",
		"binary, trailing":          "\x02\x01x\x00\x00",
	} {
		if _, err := commands.DecodeReply([]byte(bad)); err == nil {
			t.Errorf("%s: decoded %q", name, bad)
		}
	}
}

func FuzzDecodeReply(f *testing.F) {
	reply, lines := replyFixture(f)
	data, err := commands.EncodeReply(nil, &reply, func(ev *domain.Event) []byte { return lines[ev] })
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"v":1,"id":"x","n":1}` + "\n" + `{"outcome":"replayed","seq":3}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := commands.DecodeReply(data)
		if err != nil {
			return
		}
		// What decodes encodes back to a reply that decodes the same.
		again, err := commands.EncodeReply(nil, &r, nil)
		if err != nil {
			return // an event without valid hashes cannot be re-encoded
		}
		r2, err := commands.DecodeReply(again)
		if err != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, r, r2)
		}
	})
}
