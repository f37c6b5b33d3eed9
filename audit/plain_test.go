package audit

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// TestPlainPostingsAgreeWithLine is the differential test of the
// in-order part's short path for clean compact postings (engine.posting):
// journals of postings the posting reader takes, whose sequences and
// commands now and then skip, repeat or go back, audited in full and from
// a later sequence (AllowPartial), with compact postings (most through
// engine.posting, the rest through engine.line) and with every posting's
// event (all through engine.line), give the same report and books.
func TestPlainPostingsAgreeWithLine(t *testing.T) {
	for round := range 20 {
		rng := rand.New(rand.NewPCG(uint64(round), 11))
		lines := disorderedJournal(t, rng, 400+rng.IntN(200))
		from := 1 + rng.IntN(len(lines)/2)
		for _, c := range []struct {
			lines [][]byte
			opts  Options
		}{
			{lines, Options{MaxFindings: 1 << 20}},
			{lines[from:], Options{MaxFindings: 1 << 20, AllowPartial: true}},
		} {
			path := filepath.Join(t.TempDir(), "journal.jsonl")
			var data []byte
			for _, l := range c.lines {
				data = append(data, l...)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			a, b := runCompactAndNot(t, path, c.opts)
			ab, atot := a.Books.Balances()
			bb, btot := b.Books.Balances()
			if !reflect.DeepEqual(a.Report, b.Report) || !reflect.DeepEqual(ab, bb) || !reflect.DeepEqual(atot, btot) {
				t.Fatalf("round %d, partial %v: with and without the postings' events, the runs differ: %s",
					round, c.opts.AllowPartial, firstDifference(a.Report, b.Report))
			}
			if round == 0 && !c.opts.AllowPartial && (a.Report.OK || a.Report.Postings == 0) {
				t.Fatalf("the disordered journal has no findings or no postings: %+v", a.Report)
			}
		}
	}
}

// disorderedJournal is about n events, one per line, chained: an asset,
// accounts, then postings between them with their balances right, whose
// sequences now and then skip ahead, repeat or go back, and whose
// commands now and then stay, skip ahead or go back.
func disorderedJournal(t *testing.T, rng *rand.Rand, n int) [][]byte {
	t.Helper()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var lines [][]byte
	var prev domain.Hash
	seq, cmd := uint64(0), uint64(0)
	emit := func(ev *domain.Event) {
		switch rng.IntN(40) {
		case 0:
			seq += 2 + uint64(rng.IntN(2))
		case 1:
		case 2:
			seq = max(1, seq-1)
		default:
			seq++
		}
		switch rng.IntN(40) {
		case 0, 1, 2, 3:
		case 4:
			cmd += 3
		case 5:
			cmd = max(1, cmd-2)
		default:
			cmd++
		}
		ev.Seq, ev.Version, ev.Time, ev.Command = max(seq, 1), domain.SchemaVersion, at.Add(time.Duration(len(lines))*time.Second), domain.CommandRef{Seq: max(cmd, 1)}
		line, h, err := domain.AppendEvent(nil, ev, prev)
		if err != nil {
			t.Fatal(err)
		}
		lines, prev = append(lines, line), h
	}
	emit(&domain.Event{Type: domain.EventAssetDefined, Asset: &domain.Asset{Code: "USD", Scale: 2}})
	accounts := []string{domain.World}
	balances := map[string]domain.Amount{domain.World: {}}
	for i := range 8 {
		id := fmt.Sprintf("acc-%d", i)
		emit(&domain.Event{Type: domain.EventAccountOpened, Account: &domain.Account{ID: id, Asset: "USD", OverdraftLimit: domain.Unlimited}})
		accounts, balances[id] = append(accounts, id), domain.Amount{}
	}
	for i := 0; len(lines) < n; i++ {
		from := accounts[rng.IntN(len(accounts))]
		to := accounts[rng.IntN(len(accounts))]
		if from == to {
			continue
		}
		a := domain.AmountFromInt64(1 + rng.Int64N(100000))
		fromAfter, _ := balances[from].Sub(a)
		toAfter, _ := balances[to].Add(a)
		balances[from], balances[to] = fromAfter, toAfter
		amount := a.Format(2)
		emit(&domain.Event{Type: domain.EventTransferPosted, Transfer: &domain.PostedTransfer{
			Transfer: domain.Transfer{ID: fmt.Sprintf("t-%d", i), From: from, To: to, Amount: amount, Asset: "USD"},
			Entries: [2]domain.Entry{{Account: from, Type: domain.Debit, Amount: amount, Balance: fromAfter.Format(2)},
				{Account: to, Type: domain.Credit, Amount: amount, Balance: toAfter.Format(2)}}}})
	}
	return lines
}
