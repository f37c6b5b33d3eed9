package audit

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// The books' rules that every path shares (the posting's common case
// inline, the findings' apart: Books.state, Books.post), held to their
// findings on small journals, with and without the postings' events:
// the differential tests compare the paths with each other, and so
// cannot see a rule that all of them break alike.

// ruleJournal is a journal of events, one per line, chained, numbered
// from 1, each answering its own command.
type ruleJournal struct {
	t    *testing.T
	data []byte
	prev domain.Hash
	seq  uint64
}

func (j *ruleJournal) emit(ev *domain.Event) {
	j.seq++
	ev.Seq, ev.Version, ev.Time, ev.Command = j.seq, domain.SchemaVersion, time.Date(2026, 3, 1, 0, 0, int(j.seq), 0, time.UTC), domain.CommandRef{Seq: j.seq}
	line, h, err := domain.AppendEvent(nil, ev, j.prev)
	if err != nil {
		j.t.Fatal(err)
	}
	j.data, j.prev = append(j.data, line...), h
}

func (j *ruleJournal) asset(code string) {
	j.emit(&domain.Event{Type: domain.EventAssetDefined, Asset: &domain.Asset{Code: code, Scale: 2}})
}

func (j *ruleJournal) open(id, asset string) {
	j.emit(&domain.Event{Type: domain.EventAccountOpened, Account: &domain.Account{ID: id, Asset: asset, OverdraftLimit: domain.Unlimited}})
}

func (j *ruleJournal) post(id, asset, from, to, amount, fromAfter, toAfter string) {
	j.emit(&domain.Event{Type: domain.EventTransferPosted, Transfer: &domain.PostedTransfer{
		Transfer: domain.Transfer{ID: id, From: from, To: to, Amount: amount, Asset: asset},
		Entries: [2]domain.Entry{{Account: from, Type: domain.Debit, Amount: amount, Balance: fromAfter},
			{Account: to, Type: domain.Credit, Amount: amount, Balance: toAfter}}}})
}

// findings audits the journal with and without the postings' events and
// returns the findings of check, the same both ways.
func (j *ruleJournal) findings(check Check) []Finding {
	path := filepath.Join(j.t.TempDir(), "journal.jsonl")
	if err := os.WriteFile(path, j.data, 0o600); err != nil {
		j.t.Fatal(err)
	}
	var got [2][]Finding
	for i, compact := range []bool{true, false} {
		was := compactPostings
		compactPostings = compact
		res, err := Run(context.Background(), &FileSource{Path: path}, Options{MaxFindings: 100})
		compactPostings = was
		if err != nil {
			j.t.Fatal(err)
		}
		for _, f := range res.Report.Findings {
			if f.Check == check {
				got[i] = append(got[i], f)
			}
		}
	}
	if !reflect.DeepEqual(got[0], got[1]) {
		j.t.Fatalf("with and without the postings' events, the %s findings differ: %v, %v", check, got[0], got[1])
	}
	return got[0]
}

// TestBalanceDriftReportedAgainAfterItWasRight: an entry that states a
// wrong balance is reported; one that states the right balance after it
// ends the difference, so the same difference stated again later is a new
// one, reported too (a difference is reported where it appears or
// changes, Books.state). With and without the postings' events.
func TestBalanceDriftReportedAgainAfterItWasRight(t *testing.T) {
	j := &ruleJournal{t: t}
	j.asset("USD")
	j.open("a", "USD")
	j.open("b", "USD")
	j.post("t1", "USD", domain.World, "a", "10.00", "-10.00", "10.00") // seq 4
	j.post("t2", "USD", "a", "b", "1.00", "9.50", "1.00")              // seq 5: a is 9.00
	j.post("t3", "USD", "a", "b", "1.00", "8.00", "2.00")              // seq 6: right again
	j.post("t4", "USD", "a", "b", "1.00", "7.50", "3.00")              // seq 7: a is 7.00
	got := j.findings(CheckBalance)
	if len(got) != 2 || got[0].Seq != 5 || got[1].Seq != 7 || got[0].Account != "a" || got[1].Account != "a" {
		t.Fatalf("balance findings %v, want account a's at 5 and 7", got)
	}
}

// TestPostingToAClosedAccountOrAnotherAssetIsReported: a credit to a
// closed account whose debit account is open, and a transfer to an
// account of another asset, are reported.
func TestPostingToAClosedAccountOrAnotherAssetIsReported(t *testing.T) {
	t.Run("closed", func(t *testing.T) {
		j := &ruleJournal{t: t}
		j.asset("USD")
		j.open("a", "USD")
		j.open("b", "USD")
		j.emit(&domain.Event{Type: domain.EventAccountClosed, Change: &domain.AccountChange{Account: "b"}})
		j.post("t1", "USD", "a", "b", "1.00", "-1.00", "1.00") // seq 5
		got := j.findings(CheckLimit)
		if len(got) != 1 || got[0].Seq != 5 || got[0].Account != "b" || !strings.Contains(got[0].Detail, "credits account b, which is closed") {
			t.Fatalf("limit findings %v, want one of the credit to b at 5", got)
		}
	})
	t.Run("another asset", func(t *testing.T) {
		j := &ruleJournal{t: t}
		j.asset("USD")
		j.asset("EUR")
		j.open("a", "USD")
		j.open("e", "EUR")
		j.post("t1", "USD", "a", "e", "1.00", "-1.00", "1.00") // seq 5
		got := j.findings(CheckConsistent)
		if len(got) != 1 || got[0].Seq != 5 || got[0].Account != "e" || !strings.Contains(got[0].Detail, "the account holds EUR") {
			t.Fatalf("consistency findings %v, want one of e at 5", got)
		}
	})
}

// TestPostingOfNoAmountIsReported: a posting of zero that is no memo, or
// of a negative amount, is a schema finding, and the books neither apply
// it nor report it again (the books' own check of the amount, amountOf,
// is a second line behind the schema's), with and without the postings'
// events.
func TestPostingOfNoAmountIsReported(t *testing.T) {
	for amount, detail := range map[string]string{
		"0.00":  `amount "0.00": must be greater than zero`,
		"-1.00": `amount "-1.00": must be positive`,
	} {
		t.Run(amount, func(t *testing.T) {
			j := &ruleJournal{t: t}
			j.asset("USD")
			j.open("a", "USD")
			j.open("b", "USD")
			j.post("t1", "USD", domain.World, "a", "10.00", "-10.00", "10.00") // seq 4
			j.post("t2", "USD", "a", "b", amount, "10.00", "0.00")             // seq 5
			j.post("t3", "USD", "a", "b", "1.00", "9.00", "1.00")              // seq 6: t2 moved nothing
			got := j.findings(CheckSchema)
			if len(got) != 1 || got[0].Seq != 5 || !strings.Contains(got[0].Detail, detail) {
				t.Fatalf("schema findings %v, want one of t2's amount at 5", got)
			}
			for _, c := range []Check{CheckConsistent, CheckBalance, CheckZeroSum} {
				if got := j.findings(c); len(got) != 0 {
					t.Fatalf("%s findings %v, want none: the books do not apply t2", c, got)
				}
			}
		})
	}
}
