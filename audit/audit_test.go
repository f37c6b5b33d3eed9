package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
)

func TestAuditGoodJournal(t *testing.T) {
	l := newLedger(t)
	seedScenario(l)
	rep := run(t, l.source(), audit.Options{}).Report
	mustOK(t, rep)
	if rep.FirstSeq != 1 || rep.LastSeq != 15 || rep.Events != 15 || rep.Postings != 7 || rep.Rejections != 2 ||
		rep.Assets != 2 || rep.Accounts != 4 || rep.Partial {
		t.Fatalf("report: %+v", rep)
	}
	if rep.LastHash != l.W.Last.String() || rep.FirstPrevHash != (domain.Hash{}).String() {
		t.Fatalf("hashes: first prev %s last %s, want zeros and %s", rep.FirstPrevHash, rep.LastHash, l.W.Last)
	}
	for _, c := range rep.Checks {
		want := audit.StatusOK
		if c.Check == audit.CheckHead || c.Check == audit.CheckCheckpoint || c.Check == audit.CheckReadModel {
			want = audit.StatusSkipped
		}
		if c.Status != want {
			t.Errorf("check %s: %s, want %s", c.Check, c.Status, want)
		}
	}
	// The same journal, exported and read back, with its head expected.
	head := audit.Head{Seq: 15, Hash: l.W.Last}
	rep = run(t, &audit.FileSource{Path: writeLines(t, l.export(1, 0))}, audit.Options{ExpectHead: &head}).Report
	mustOK(t, rep)
	if c := rep.Checks[indexOf(audit.CheckHead)]; c.Status != audit.StatusOK {
		t.Fatalf("expected head: %+v", c)
	}
}

func indexOf(c audit.Check) int {
	for i, k := range audit.Checks {
		if k == c {
			return i
		}
	}
	return -1
}

func TestAuditEmptyJournal(t *testing.T) {
	l := newLedger(t)
	rep := run(t, l.source(), audit.Options{}).Report
	mustOK(t, rep)
	if rep.Events != 0 {
		t.Fatalf("events %d", rep.Events)
	}
}

// TestExportRange checks that a range not starting at 1 verifies its chain
// from the first line's prev_hash and skips what needs the prefix.
func TestExportRange(t *testing.T) {
	l := newLedger(t)
	seedScenario(l)
	all := l.export(1, 0)
	if len(all) != 15 {
		t.Fatalf("export has %d lines", len(all))
	}
	part := l.export(5, 11)
	if len(part) != 7 || !bytes.Equal(part[0], all[4]) || !bytes.Equal(part[6], all[10]) {
		t.Fatalf("range 5-11: %d lines", len(part))
	}
	rep := run(t, &audit.FileSource{Path: writeLines(t, part)}, audit.Options{AllowPartial: true}).Report
	mustOK(t, rep)
	var ev struct {
		Hash string `json:"hash"`
	}
	if err := json.Unmarshal(all[3], &ev); err != nil {
		t.Fatal(err)
	}
	if !rep.Partial || rep.FirstSeq != 5 || rep.LastSeq != 11 || rep.FirstPrevHash != ev.Hash {
		t.Fatalf("partial report: %+v (prev of 5 should be %s)", rep, ev.Hash)
	}
	for _, c := range rep.Checks {
		skipped := c.Status == audit.StatusSkipped
		wantSkipped := c.Check != audit.CheckSequence && c.Check != audit.CheckHashChain && c.Check != audit.CheckCanonical && c.Check != audit.CheckSchema &&
			c.Check != audit.CheckCommands // in order from the range's first command
		if skipped != wantSkipped {
			t.Errorf("check %s: %s", c.Check, c.Status)
		}
	}
	// Without AllowPartial (a journal stream must start at 1), the same
	// lines are a gap.
	rep = run(t, &audit.FileSource{Path: writeLines(t, part)}, audit.Options{}).Report
	if f, ok := rep.First(audit.CheckSequence); rep.OK || !ok || f.Seq != 1 {
		t.Fatalf("a journal starting at 5: %+v", rep.Findings)
	}
}

// TestTamper alters an export in the ways a forger would and checks that
// each is found, with the first finding naming the sequence tampered with.
func TestTamper(t *testing.T) {
	l := newLedger(t)
	seedScenario(l)
	lines := l.export(1, 0)
	head := audit.Head{Seq: 15, Hash: l.W.Last}

	// forge appends a posting decided against the real final state and
	// chained after the real head: a forger who knows the algorithm.
	forge := func(tr domain.Transfer, balances ...string) []byte {
		t.Helper()
		ev := &domain.Event{Seq: 16, Type: domain.EventTransferPosted, Version: 1, Command: domain.CommandRef{Seq: 6},
			Time: minute(7), Transfer: &domain.PostedTransfer{Transfer: tr}}
		ev.Transfer.Entries[0] = domain.Entry{Account: tr.From, Type: domain.Debit, Amount: tr.Amount, Balance: balances[0]}
		ev.Transfer.Entries[1] = domain.Entry{Account: tr.To, Type: domain.Credit, Amount: tr.Amount, Balance: balances[1]}
		line, _, err := domain.AppendEvent(nil, ev, l.W.Last)
		if err != nil {
			t.Fatal(err)
		}
		return line
	}
	cases := []struct {
		name   string
		edit   func([][]byte) [][]byte
		opts   audit.Options
		check  audit.Check
		seq    uint64
		detail string
		also   []audit.Check
	}{
		{
			name: "amount changed",
			edit: func(ls [][]byte) [][]byte {
				ls[9] = bytes.ReplaceAll(ls[9], []byte(`"25.50"`), []byte(`"35.50"`))
				return ls
			},
			check: audit.CheckHashChain, seq: 10, detail: "altered",
			also: []audit.Check{audit.CheckBalance},
		},
		{
			name:  "event deleted",
			edit:  func(ls [][]byte) [][]byte { return append(ls[:10:10], ls[11:]...) },
			check: audit.CheckSequence, seq: 11, detail: "sequence 11 is missing",
			also: []audit.Check{audit.CheckHashChain},
		},
		{
			name: "events swapped",
			edit: func(ls [][]byte) [][]byte {
				ls[9], ls[10] = ls[10], ls[9]
				return ls
			},
			check: audit.CheckSequence, seq: 10, detail: "sequence 10 is missing",
			also: []audit.Check{audit.CheckHashChain},
		},
		{
			name: "hash changed",
			edit: func(ls [][]byte) [][]byte {
				line := ls[10]
				i := bytes.LastIndex(line, []byte(`"hash":"`)) + len(`"hash":"`)
				if line[i] == '0' {
					line[i] = '1'
				} else {
					line[i] = '0'
				}
				return ls
			},
			check: audit.CheckHashChain, seq: 11, detail: "altered",
		},
		{
			name: "forged event that overdraws",
			edit: func(ls [][]byte) [][]byte {
				return append(ls, forge(domain.Transfer{ID: "x1", From: "alice", To: "bob", Amount: "500.00", Asset: "USD"}, "89.50", "560.00"))
			},
			check: audit.CheckLimit, seq: 16, detail: "below the lower limit",
			also: []audit.Check{audit.CheckBalance},
		},
		{
			name: "forged event that reuses a transfer id",
			edit: func(ls [][]byte) [][]byte {
				return append(ls, forge(domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "1.00", Asset: "USD"}, "88.50", "61.00"))
			},
			check: audit.CheckUnique, seq: 16, detail: "posted at sequence 10",
		},
		{
			name: "forged event that adds up, against the expected head",
			edit: func(ls [][]byte) [][]byte {
				return append(ls, forge(domain.Transfer{ID: "x2", From: "alice", To: "bob", Amount: "1.00", Asset: "USD"}, "88.50", "61.00"))
			},
			opts:  audit.Options{ExpectHead: &head},
			check: audit.CheckHead, seq: 16, detail: "past the expected head 15",
		},
		{
			name: "forged event with a made-up hash",
			edit: func(ls [][]byte) [][]byte {
				line := forge(domain.Transfer{ID: "x3", From: "alice", To: "bob", Amount: "1.00", Asset: "USD"}, "88.50", "61.00")
				return append(ls, append(line[:len(line)-67:len(line)-67], []byte(strings.Repeat("ab", 32)+"\"}\n")...))
			},
			check: audit.CheckHashChain, seq: 16, detail: "altered",
		},
		{
			name: "balance after changed, chain recomputed",
			edit: func(ls [][]byte) [][]byte {
				// A forger who rewrites event 11's balances and every hash
				// after it: the chain holds, the books do not.
				out := make([][]byte, 0, len(ls))
				var prev domain.Hash
				for i, line := range ls {
					ev, err := domain.DecodeEvent(bytes.TrimSuffix(line, []byte{'\n'}))
					if err != nil {
						t.Fatal(err)
					}
					if i == 10 {
						ev.Transfer.Entries[1].Balance = "20.00"
					}
					var enc []byte
					if enc, prev, err = domain.AppendEvent(nil, ev, prev); err != nil {
						t.Fatal(err)
					}
					out = append(out, enc)
				}
				return out
			},
			opts:  audit.Options{ExpectHead: &head},
			check: audit.CheckBalance, seq: 11, detail: "recomputed from the journal it is 10.00",
			also: []audit.Check{audit.CheckZeroSum, audit.CheckHead},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			copied := make([][]byte, len(lines))
			for i, l := range lines {
				copied[i] = bytes.Clone(l)
			}
			path := writeLines(t, tc.edit(copied))
			rep := run(t, &audit.FileSource{Path: path}, tc.opts).Report
			if rep.OK || len(rep.Findings) == 0 {
				t.Fatalf("tampering not detected: %+v", rep)
			}
			first := rep.Findings[0]
			if first.Check != tc.check || first.Seq != tc.seq || !strings.Contains(first.Detail, tc.detail) {
				t.Fatalf("first finding %s, want %s at %d containing %q; all: %v", first, tc.check, tc.seq, tc.detail, rep.Findings)
			}
			for _, c := range tc.also {
				if _, ok := rep.First(c); !ok {
					t.Errorf("no %s finding; findings: %v", c, rep.Findings)
				}
			}
		})
	}
}

func TestMalformedLines(t *testing.T) {
	l := newLedger(t)
	seedScenario(l)
	lines := l.export(1, 0)
	lines[4] = []byte("{\"seq\":5,\"not\":\"an event\"}\n")
	lines = append(lines[:8:8], append([][]byte{[]byte("\n")}, lines[8:]...)...)
	rep := run(t, &audit.FileSource{Path: writeLines(t, lines)}, audit.Options{}).Report
	f, ok := rep.First(audit.CheckSchema)
	if rep.OK || !ok || f.Seq != 5 {
		t.Fatalf("findings: %v", rep.Findings)
	}
	var found bool
	for _, f := range rep.Findings {
		found = found || f.Check == audit.CheckSchema && f.Seq == 9
	}
	if !found {
		t.Fatalf("the empty line before 9 is not reported: %v", rep.Findings)
	}
}

// TestBalancesAsOf compares the balances recomputed from the journal at
// every sequence and at times around every batch with the test's
// reference model.
func TestBalancesAsOf(t *testing.T) {
	l := newLedger(t)
	seedScenario(l)
	src := l.source()
	ctx := context.Background()
	check := func(t *testing.T, at audit.AsOf, want point) {
		t.Helper()
		st, _, err := audit.BalancesAsOf(ctx, src, at, audit.Options{})
		if err != nil {
			t.Fatalf("as of %+v: %v", at, err)
		}
		if st.AsOf.Sequence != want.seq {
			t.Fatalf("as of %+v: sequence %d, want %d", at, st.AsOf.Sequence, want.seq)
		}
		got := map[[2]string]string{}
		for _, b := range st.Accounts {
			got[[2]string{b.Account, b.Asset}] = b.Balance
		}
		if len(got) != len(want.balances) {
			t.Fatalf("as of %+v: %d accounts, want %d: %v", at, len(got), len(want.balances), got)
		}
		totals := map[string]decimal.Decimal{}
		for k, v := range want.balances {
			d, err := decimal.NewFromString(got[k])
			if err != nil || !d.Equal(v) {
				t.Fatalf("as of %+v: %v is %q, want %s", at, k, got[k], v)
			}
			if k[0] != domain.World {
				totals[k[1]] = totals[k[1]].Add(v)
			}
		}
		for _, tot := range st.Totals {
			d, _ := decimal.NewFromString(tot.Total)
			if w := totals[tot.Asset]; !d.Equal(w) {
				t.Fatalf("as of %+v: total %s %s, want %s", at, tot.Asset, tot.Total, w)
			}
			if s, _ := decimal.NewFromString(tot.Sum); !s.IsZero() {
				t.Fatalf("as of %+v: %s sums to %s", at, tot.Asset, tot.Sum)
			}
		}
	}
	// By sequence: the reference after the batch that ends at or after it
	// is exact only at batch ends, so check those and the end.
	points := l.points()
	for _, p := range points {
		if p.seq > 0 {
			check(t, audit.AsOf{Seq: p.seq}, p)
		}
	}
	check(t, audit.AsOf{}, points[len(points)-1])
	// By time: minute(n) is batch n's time; half a minute later is the same
	// point; before the first event there is nothing.
	for i, p := range points {
		check(t, audit.AsOf{Time: p.at}, p)
		check(t, audit.AsOf{Time: p.at.Add(30 * time.Second)}, p)
		if i == 0 {
			check(t, audit.AsOf{Time: p.at.Add(-time.Second)}, point{})
		}
	}
	if _, _, err := audit.BalancesAsOf(ctx, src, audit.AsOf{Seq: 16}, audit.Options{}); !errors.Is(err, audit.ErrNotYet) {
		t.Fatalf("as of 16: %v", err)
	}
	// CSV and JSON as the command prints them.
	st, _, err := audit.BalancesAsOf(ctx, src, audit.AsOf{Seq: 9}, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var csv bytes.Buffer
	if err := st.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	want := "kind,account,asset,balance\naccount,kenji,JPY,1000\naccount,world,JPY,-1000\n" +
		"account,alice,USD,100.00\naccount,bob,USD,50.50\naccount,carol,USD,0.00\naccount,world,USD,-150.50\n" +
		"total,,JPY,1000\ntotal,,USD,150.50\n"
	if csv.String() != want {
		t.Fatalf("csv:\n%s\nwant:\n%s", csv.String(), want)
	}
	var js bytes.Buffer
	if err := st.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back audit.Statement
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.AsOf.Sequence != 9 || len(back.Accounts) != 6 ||
		!back.AsOf.EventTime.Equal(minute(3)) {
		t.Fatalf("json %s: %v", js.String(), err)
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]audit.AsOf{
		"":                     {},
		"42":                   {Seq: 42},
		"0":                    {Start: true}, // before the first event
		"2026-03-01T00:05:00Z": {Time: minute(5)},
	} {
		got, err := audit.ParseAsOf(in)
		if err != nil || got.Seq != want.Seq || !got.Time.Equal(want.Time) || got.Start != want.Start {
			t.Errorf("ParseAsOf(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"-1", "yesterday", "2026-03-01"} {
		if _, err := audit.ParseAsOf(bad); err == nil {
			t.Errorf("ParseAsOf(%q) accepted", bad)
		}
	}
	h := strings.Repeat("0a", 32)
	if got, err := audit.ParseHead("15:" + h); err != nil || got.Seq != 15 || got.Hash.String() != h {
		t.Errorf("ParseHead: %+v %v", got, err)
	}
	for _, bad := range []string{"15", "x:" + h, "0:" + h, "15:abc"} {
		if _, err := audit.ParseHead(bad); err == nil {
			t.Errorf("ParseHead(%q) accepted", bad)
		}
	}
	if got := fmt.Sprint(audit.Finding{Check: audit.CheckLimit, Seq: 3, Account: "a", Asset: "USD", Detail: "d"}); got != "limit at sequence 3, account a (USD): d" {
		t.Errorf("finding string %q", got)
	}
}
