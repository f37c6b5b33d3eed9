package domain_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

var testEpoch = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// harness decides commands against a State and checks, on every decision,
// the contract that holds whatever the command: sequences advance by one
// exactly when an event is returned, and the event's shape matches the
// outcome.
type harness struct {
	t      testing.TB
	s      *domain.State
	cmdSeq uint64
	events []*domain.Event
}

func newHarness(t testing.TB) *harness {
	return &harness{t: t, s: domain.NewState()}
}

func (h *harness) do(c domain.Command) domain.Decision {
	h.t.Helper()
	h.cmdSeq++
	c.Ref = domain.CommandRef{Seq: h.cmdSeq, Item: int(h.cmdSeq % 3)}
	now := testEpoch.Add(time.Duration(h.cmdSeq) * time.Millisecond)
	before := h.s.Seq()
	d := h.s.Decide(c, now)
	if err := checkDecision(c, d, before, h.s.Seq(), now); err != nil {
		h.t.Fatalf("command #%d %s: %v", h.cmdSeq, describeCommand(c), err)
	}
	if d.Event != nil {
		h.events = append(h.events, d.Event)
	}
	return d
}

// checkDecision is the decision contract shared by every test that calls
// Decide, including the fuzz target.
func checkDecision(c domain.Command, d domain.Decision, before, after uint64, now time.Time) error {
	switch d.Outcome {
	case domain.Created, domain.Posted, domain.Updated:
		if d.Event == nil || d.Err != nil {
			return fmt.Errorf("outcome %d: event %v, err %v; want an event and no error", d.Outcome, d.Event != nil, d.Err)
		}
	case domain.Existed, domain.Replayed:
		if d.Event != nil || d.Err != nil {
			return fmt.Errorf("outcome %d: event %v, err %v; want neither", d.Outcome, d.Event != nil, d.Err)
		}
		if (d.Outcome == domain.Replayed) != (d.ReplayOf != 0) {
			return fmt.Errorf("outcome %d with ReplayOf %d", d.Outcome, d.ReplayOf)
		}
		if d.ReplayOf >= after+1 {
			return fmt.Errorf("ReplayOf %d is not an earlier sequence (last %d)", d.ReplayOf, after)
		}
	case domain.Rejected:
		if d.Err == nil {
			return errors.New("rejected without an error")
		}
	default:
		return fmt.Errorf("unknown outcome %d", d.Outcome)
	}
	if d.Outcome != domain.Replayed && d.ReplayOf != 0 {
		return fmt.Errorf("outcome %d with ReplayOf %d", d.Outcome, d.ReplayOf)
	}
	if d.Event == nil {
		if after != before {
			return fmt.Errorf("no event, but the sequence moved from %d to %d", before, after)
		}
		return nil
	}
	ev := d.Event
	if ev.Seq != before+1 || after != before+1 {
		return fmt.Errorf("event seq %d, state seq %d -> %d; want both %d", ev.Seq, before, after, before+1)
	}
	if ev.Version != domain.SchemaVersion || ev.Command != c.Ref || !ev.Time.Equal(now) || ev.Time.Location() != time.UTC {
		return fmt.Errorf("event header v=%d command=%+v time=%v", ev.Version, ev.Command, ev.Time)
	}
	if payloads := ev.Payloads(); payloads != 1 {
		return fmt.Errorf("event %s carries %d payloads", ev.Type, payloads)
	}
	var wantType domain.EventType
	switch {
	case d.Outcome == domain.Created && c.Asset != nil:
		wantType = domain.EventAssetDefined
	case d.Outcome == domain.Created && c.Account != nil:
		wantType = domain.EventAccountOpened
	case d.Outcome == domain.Posted && c.Transfer != nil && c.Transfer.Pending:
		wantType = domain.EventTransferPending
	case d.Outcome == domain.Posted && c.Hold != nil:
		wantType = domain.EventHoldPosted
	case d.Outcome == domain.Updated && c.Hold != nil:
		wantType = domain.EventHoldVoided
	case d.Outcome == domain.Posted && c.Transfer != nil && ev.Conversion != nil:
		wantType = domain.EventTransferConverted
	case d.Outcome == domain.Posted && (c.Transfer != nil || c.Reversal != nil):
		wantType = domain.EventTransferPosted
	case d.Outcome == domain.Posted && c.Transaction != nil:
		wantType = domain.EventTransactionPosted
	case d.Outcome == domain.Rejected && c.Transaction != nil:
		wantType = domain.EventTransactionRejected
	case d.Outcome == domain.Updated && c.Rate != nil:
		wantType = domain.EventRateSet
	case d.Outcome == domain.Updated && c.Lifecycle != nil:
		wantType = map[string]domain.EventType{domain.ActionLimit: domain.EventAccountLimitChanged, domain.ActionFreeze: domain.EventAccountFrozen,
			domain.ActionUnfreeze: domain.EventAccountUnfrozen, domain.ActionClose: domain.EventAccountClosed}[c.Lifecycle.Action]
	case d.Outcome == domain.Rejected && (c.Transfer != nil || c.Reversal != nil):
		wantType = domain.EventTransferRejected
		if ev.Rejection == nil || ev.Rejection.Code != d.Err.Code() || ev.Rejection.Detail != d.Err.Error() {
			return fmt.Errorf("rejection payload %+v does not match error %v", ev.Rejection, d.Err)
		}
	default:
		return fmt.Errorf("outcome %d of %s journaled an event", d.Outcome, describeCommand(c))
	}
	if ev.Type != wantType {
		return fmt.Errorf("event type %s, want %s", ev.Type, wantType)
	}
	if p := ev.Transfer; p != nil {
		tr := p.Transfer
		want := [2]domain.Entry{
			{Account: tr.From, Type: domain.Debit, Amount: tr.Amount, Balance: p.Entries[0].Balance},
			{Account: tr.To, Type: domain.Credit, Amount: tr.Amount, Balance: p.Entries[1].Balance},
		}
		if p.Entries != want {
			return fmt.Errorf("entries %+v, want debit of %s then credit of %s", p.Entries, tr.From, tr.To)
		}
	}
	return nil
}

func describeCommand(c domain.Command) string {
	switch {
	case c.Asset != nil:
		return fmt.Sprintf("DefineAsset%+v", *c.Asset)
	case c.Account != nil:
		return fmt.Sprintf("OpenAccount%+v", *c.Account)
	case c.Transfer != nil:
		return fmt.Sprintf("Transfer%+v", *c.Transfer)
	case c.Rate != nil:
		return fmt.Sprintf("SetRate%+v", *c.Rate)
	case c.Lifecycle != nil:
		return fmt.Sprintf("Lifecycle%+v", *c.Lifecycle)
	case c.Hold != nil:
		return fmt.Sprintf("Hold%+v", *c.Hold)
	case c.Reversal != nil:
		return fmt.Sprintf("Reversal%+v", *c.Reversal)
	case c.Transaction != nil:
		return fmt.Sprintf("Transaction%+v", *c.Transaction)
	}
	return "empty command"
}

func (h *harness) asset(code string, scale int) domain.Decision {
	h.t.Helper()
	return h.do(domain.Command{Asset: &domain.Asset{Code: code, Scale: scale}})
}

func (h *harness) open(a domain.Account) domain.Decision {
	h.t.Helper()
	return h.do(domain.Command{Account: &a})
}

func (h *harness) transfer(tr domain.Transfer) domain.Decision {
	h.t.Helper()
	return h.do(domain.Command{Transfer: &tr})
}

func (h *harness) must(d domain.Decision, want domain.Outcome) domain.Decision {
	h.t.Helper()
	if d.Outcome != want {
		h.t.Fatalf("outcome %d (err %v), want %d", d.Outcome, d.Err, want)
	}
	return d
}

// fixture is a small ledger used by the table tests: alice holds 10.00 USD
// minted at sequence 9.
func fixture(t testing.TB) *harness {
	t.Helper()
	h := newHarness(t)
	h.must(h.asset("USD", 2), domain.Created)
	h.must(h.asset("EUR", 2), domain.Created)
	h.must(h.asset("BTC", 8), domain.Created)
	h.must(h.open(domain.Account{ID: "alice", Asset: "USD"}), domain.Created)
	h.must(h.open(domain.Account{ID: "bob", Asset: "USD"}), domain.Created)
	h.must(h.open(domain.Account{ID: "od", Asset: "USD", OverdraftLimit: "50"}), domain.Created)
	h.must(h.open(domain.Account{ID: "unl", Asset: "USD", OverdraftLimit: domain.Unlimited}), domain.Created)
	h.must(h.open(domain.Account{ID: "eve", Asset: "EUR"}), domain.Created)
	h.must(h.transfer(domain.Transfer{ID: "seed", From: domain.World, To: "alice", Amount: "10"}), domain.Posted)
	if h.s.Seq() != 9 {
		t.Fatalf("fixture ends at sequence %d, want 9", h.s.Seq())
	}
	return h
}

func wantCode(t testing.TB, d domain.Decision, code domain.Code) {
	t.Helper()
	if d.Outcome != domain.Rejected {
		t.Fatalf("outcome %d, want Rejected with %s", d.Outcome, code)
	}
	if d.Err.Code() != code {
		t.Fatalf("code %s (%v), want %s", d.Err.Code(), d.Err, code)
	}
}

func TestDecideEmptyCommand(t *testing.T) {
	h := newHarness(t)
	wantCode(t, h.do(domain.Command{}), domain.CodeValidationFailed)
}

func TestDecideAsset(t *testing.T) {
	tests := []struct {
		name  string
		asset domain.Asset
		want  domain.Outcome
		code  domain.Code
	}{
		{"new", domain.Asset{Code: "EUR", Scale: 2}, domain.Created, ""},
		{"scale 0", domain.Asset{Code: "JPY", Scale: 0}, domain.Created, ""},
		{"scale 18", domain.Asset{Code: "ETH", Scale: 18}, domain.Created, ""},
		{"digits and underscore", domain.Asset{Code: "A_1", Scale: 0}, domain.Created, ""},
		{"16 characters", domain.Asset{Code: strings.Repeat("A", 16), Scale: 2}, domain.Created, ""},
		{"identical", domain.Asset{Code: "USD", Scale: 2}, domain.Existed, ""},
		{"different scale", domain.Asset{Code: "USD", Scale: 3}, domain.Rejected, domain.CodeAssetConflict},
		{"different scale 0", domain.Asset{Code: "USD", Scale: 0}, domain.Rejected, domain.CodeAssetConflict},
		{"lower case", domain.Asset{Code: "usd", Scale: 2}, domain.Rejected, domain.CodeValidationFailed},
		{"empty code", domain.Asset{Code: "", Scale: 2}, domain.Rejected, domain.CodeValidationFailed},
		{"leading digit", domain.Asset{Code: "1USD", Scale: 2}, domain.Rejected, domain.CodeValidationFailed},
		{"leading underscore", domain.Asset{Code: "_USD", Scale: 2}, domain.Rejected, domain.CodeValidationFailed},
		{"17 characters", domain.Asset{Code: strings.Repeat("A", 17), Scale: 2}, domain.Rejected, domain.CodeValidationFailed},
		{"space", domain.Asset{Code: "US D", Scale: 2}, domain.Rejected, domain.CodeValidationFailed},
		{"non-ASCII", domain.Asset{Code: "\u00c9UR", Scale: 2}, domain.Rejected, domain.CodeValidationFailed},
		{"scale 19", domain.Asset{Code: "XX", Scale: 19}, domain.Rejected, domain.CodeValidationFailed},
		{"negative scale", domain.Asset{Code: "XX", Scale: -1}, domain.Rejected, domain.CodeValidationFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.must(h.asset("USD", 2), domain.Created)
			d := h.asset(tc.asset.Code, tc.asset.Scale)
			if d.Outcome != tc.want {
				t.Fatalf("outcome %d (%v), want %d", d.Outcome, d.Err, tc.want)
			}
			if tc.code != "" {
				wantCode(t, d, tc.code)
			}
			if d.Outcome == domain.Created && *d.Event.Asset != tc.asset {
				t.Fatalf("event asset %+v, want %+v", *d.Event.Asset, tc.asset)
			}
		})
	}
}

func TestDecideAccount(t *testing.T) {
	tests := []struct {
		name      string
		acc       domain.Account
		want      domain.Outcome
		code      domain.Code
		wantLimit string // the normalised limit recorded in the event
	}{
		{"default limit", domain.Account{ID: "bob", Asset: "USD"}, domain.Created, "", "0.00"},
		{"limit normalised", domain.Account{ID: "bob", Asset: "USD", OverdraftLimit: "5.5"}, domain.Created, "", "5.50"},
		{"limit scale 0", domain.Account{ID: "bob", Asset: "JPY", OverdraftLimit: "100"}, domain.Created, "", "100"},
		{"default limit scale 0", domain.Account{ID: "bob", Asset: "JPY"}, domain.Created, "", "0"},
		{"unlimited", domain.Account{ID: "bob", Asset: "USD", OverdraftLimit: domain.Unlimited}, domain.Created, "", domain.Unlimited},
		{"64-character id", domain.Account{ID: strings.Repeat("a", 64), Asset: "USD"}, domain.Created, "", "0.00"},
		{"id charset", domain.Account{ID: "A-z_0.9:x", Asset: "USD"}, domain.Created, "", "0.00"},
		{"owner and metadata", domain.Account{ID: "bob", Asset: "USD", Owner: "Bob \u00e9", Metadata: map[string]string{"k": "v"}}, domain.Created, "", "0.00"},
		{"unknown asset", domain.Account{ID: "bob", Asset: "XYZ"}, domain.Rejected, domain.CodeAssetNotFound, ""},
		{"identical", domain.Account{ID: "alice", Asset: "USD"}, domain.Existed, "", ""},
		{"identical explicit zero", domain.Account{ID: "alice", Asset: "USD", OverdraftLimit: "0"}, domain.Existed, "", ""},
		{"identical explicit 0.00", domain.Account{ID: "alice", Asset: "USD", OverdraftLimit: "0.00"}, domain.Existed, "", ""},
		{"identical empty metadata", domain.Account{ID: "alice", Asset: "USD", Metadata: map[string]string{}}, domain.Existed, "", ""},
		{"identical limit spelled differently", domain.Account{ID: "od", Asset: "USD", OverdraftLimit: "50.0"}, domain.Existed, "", ""},
		{"identical unlimited", domain.Account{ID: "unl", Asset: "USD", OverdraftLimit: domain.Unlimited}, domain.Existed, "", ""},
		{"different asset", domain.Account{ID: "alice", Asset: "JPY"}, domain.Rejected, domain.CodeAccountConflict, ""},
		{"different limit", domain.Account{ID: "alice", Asset: "USD", OverdraftLimit: "5"}, domain.Rejected, domain.CodeAccountConflict, ""},
		{"limited vs unlimited", domain.Account{ID: "od", Asset: "USD", OverdraftLimit: domain.Unlimited}, domain.Rejected, domain.CodeAccountConflict, ""},
		{"different owner", domain.Account{ID: "alice", Asset: "USD", Owner: "x"}, domain.Rejected, domain.CodeAccountConflict, ""},
		{"different metadata", domain.Account{ID: "alice", Asset: "USD", Metadata: map[string]string{"k": "v"}}, domain.Rejected, domain.CodeAccountConflict, ""},
		{"world reserved", domain.Account{ID: domain.World, Asset: "USD"}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"empty id", domain.Account{ID: "", Asset: "USD"}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"65-character id", domain.Account{ID: strings.Repeat("a", 65), Asset: "USD"}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"space in id", domain.Account{ID: "a b", Asset: "USD"}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"slash in id", domain.Account{ID: "a/b", Asset: "USD"}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"bad asset code", domain.Account{ID: "bob", Asset: "usd"}, domain.Rejected, domain.CodeValidationFailed, ""},
		// The limit's scale is only known once the asset is looked up; the
		// code reports it as a field error, not as invalid_amount.
		{"limit too many decimals", domain.Account{ID: "bob", Asset: "USD", OverdraftLimit: "5.001"}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"limit decimals at scale 0", domain.Account{ID: "bob", Asset: "JPY", OverdraftLimit: "1.5"}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"limit too large for scale", domain.Account{ID: "bob", Asset: "USD", OverdraftLimit: strings.Repeat("9", 37)}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"negative limit", domain.Account{ID: "bob", Asset: "USD", OverdraftLimit: "-5"}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"exponent limit", domain.Account{ID: "bob", Asset: "USD", OverdraftLimit: "1e3"}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"capitalised unlimited", domain.Account{ID: "bob", Asset: "USD", OverdraftLimit: "Unlimited"}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"control character in owner", domain.Account{ID: "bob", Asset: "USD", Owner: "a\nb"}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"invalid UTF-8 owner", domain.Account{ID: "bob", Asset: "USD", Owner: "\xff"}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"owner too long", domain.Account{ID: "bob", Asset: "USD", Owner: strings.Repeat("\u00e9", 129)}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"too many metadata keys", domain.Account{ID: "bob", Asset: "USD", Metadata: manyKeys(33)}, domain.Rejected, domain.CodeValidationFailed, ""},
		{"empty metadata key", domain.Account{ID: "bob", Asset: "USD", Metadata: map[string]string{"": "v"}}, domain.Rejected, domain.CodeValidationFailed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.must(h.asset("USD", 2), domain.Created)
			h.must(h.asset("JPY", 0), domain.Created)
			h.must(h.open(domain.Account{ID: "alice", Asset: "USD"}), domain.Created)
			h.must(h.open(domain.Account{ID: "od", Asset: "USD", OverdraftLimit: "50"}), domain.Created)
			h.must(h.open(domain.Account{ID: "unl", Asset: "USD", OverdraftLimit: domain.Unlimited}), domain.Created)
			d := h.open(tc.acc)
			if d.Outcome != tc.want {
				t.Fatalf("outcome %d (%v), want %d", d.Outcome, d.Err, tc.want)
			}
			if tc.code != "" {
				wantCode(t, d, tc.code)
			}
			if d.Outcome == domain.Created {
				want := tc.acc
				want.OverdraftLimit = tc.wantLimit
				if !reflect.DeepEqual(*d.Event.Account, want) {
					t.Fatalf("event account %+v, want %+v", *d.Event.Account, want)
				}
				// Opening it again, as given, is recognised as the same account.
				h.must(h.open(tc.acc), domain.Existed)
			}
		})
	}
}

func manyKeys(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = "v"
	}
	return m
}

func TestDecideTransfer(t *testing.T) {
	type entries = [2]domain.Entry
	tests := []struct {
		name      string
		tr        domain.Transfer
		want      domain.Outcome
		code      domain.Code
		journaled bool             // for rejections: whether a TransferRejected event is returned
		resolved  *domain.Transfer // for rejections after resolution: what the event records
		detail    string           // exact rejection detail, when set
		entries   *entries
		asset     string // the resolved asset of a posted transfer
	}{
		{
			name: "mint", tr: domain.Transfer{ID: "t", From: domain.World, To: "bob", Amount: "5"},
			want: domain.Posted, asset: "USD",
			entries: &entries{{"world", domain.Debit, "5.00", "-15.00"}, {"bob", domain.Credit, "5.00", "5.00"}},
		},
		{
			name: "mint with asset", tr: domain.Transfer{ID: "t", From: domain.World, To: "eve", Amount: "0.01", Asset: "EUR"},
			want: domain.Posted, asset: "EUR",
			entries: &entries{{"world", domain.Debit, "0.01", "-0.01"}, {"eve", domain.Credit, "0.01", "0.01"}},
		},
		{
			name: "burn", tr: domain.Transfer{ID: "t", From: "alice", To: domain.World, Amount: "3"},
			want: domain.Posted, asset: "USD",
			entries: &entries{{"alice", domain.Debit, "3.00", "7.00"}, {"world", domain.Credit, "3.00", "-7.00"}},
		},
		{
			name: "whole balance", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "10.0", Asset: "USD", Reference: "rent <march> & more"},
			want: domain.Posted, asset: "USD",
			entries: &entries{{"alice", domain.Debit, "10.00", "0.00"}, {"bob", domain.Credit, "10.00", "10.00"}},
		},
		{
			name: "insufficient funds", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "25"},
			want: domain.Rejected, code: domain.CodeInsufficientFunds, journaled: true,
			detail:   "insufficient balance: balance was 10.00 USD, at least 25.00 USD is required",
			resolved: &domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "25.00", Asset: "USD"},
		},
		{
			name: "one cent short", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "10.01"},
			want: domain.Rejected, code: domain.CodeInsufficientFunds, journaled: true,
			detail:   "insufficient balance: balance was 10.00 USD, at least 10.01 USD is required",
			resolved: &domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "10.01", Asset: "USD"},
		},
		{
			name: "overdraft to the limit", tr: domain.Transfer{ID: "t", From: "od", To: "bob", Amount: "50"},
			want: domain.Posted, asset: "USD",
			entries: &entries{{"od", domain.Debit, "50.00", "-50.00"}, {"bob", domain.Credit, "50.00", "50.00"}},
		},
		{
			name: "overdraft beyond the limit", tr: domain.Transfer{ID: "t", From: "od", To: "bob", Amount: "50.01"},
			want: domain.Rejected, code: domain.CodeInsufficientFunds, journaled: true,
			detail:   "insufficient balance: balance was 0.00 USD, at least 0.01 USD is required",
			resolved: &domain.Transfer{ID: "t", From: "od", To: "bob", Amount: "50.01", Asset: "USD"},
		},
		{
			name: "unlimited", tr: domain.Transfer{ID: "t", From: "unl", To: "alice", Amount: "1000000000"},
			want: domain.Posted, asset: "USD",
			entries: &entries{{"unl", domain.Debit, "1000000000.00", "-1000000000.00"}, {"alice", domain.Credit, "1000000000.00", "1000000010.00"}},
		},
		{
			name: "same account", tr: domain.Transfer{ID: "t", From: "alice", To: "alice", Amount: "1"},
			want: domain.Rejected, code: domain.CodeSameAccount,
		},
		{
			name: "world to world", tr: domain.Transfer{ID: "t", From: domain.World, To: domain.World, Amount: "1", Asset: "USD"},
			want: domain.Rejected, code: domain.CodeSameAccount,
		},
		{
			name: "unknown from", tr: domain.Transfer{ID: "t", From: "nobody", To: "bob", Amount: "1"},
			want: domain.Rejected, code: domain.CodeAccountNotFound, journaled: true,
			detail: "account nobody does not exist",
		},
		{
			name: "unknown to", tr: domain.Transfer{ID: "t", From: "alice", To: "nobody", Amount: "1"},
			want: domain.Rejected, code: domain.CodeAccountNotFound, journaled: true,
		},
		{
			name: "mint to unknown", tr: domain.Transfer{ID: "t", From: domain.World, To: "nobody", Amount: "1", Asset: "USD"},
			want: domain.Rejected, code: domain.CodeAccountNotFound, journaled: true,
		},
		{
			name: "undefined asset", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "1", Asset: "XYZ"},
			want: domain.Rejected, code: domain.CodeAssetNotFound, journaled: true,
		},
		{
			name: "mint of undefined asset", tr: domain.Transfer{ID: "t", From: domain.World, To: "bob", Amount: "1", Asset: "XYZ"},
			want: domain.Rejected, code: domain.CodeAssetNotFound, journaled: true,
		},
		{
			name: "accounts of different assets, no rate", tr: domain.Transfer{ID: "t", From: "alice", To: "eve", Amount: "1"},
			want: domain.Rejected, code: domain.CodeRateNotFound, journaled: true,
			resolved: &domain.Transfer{ID: "t", From: "alice", To: "eve", Amount: "1.00", Asset: "USD"},
		},
		{
			name: "asset field differs", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "1", Asset: "EUR"},
			want: domain.Rejected, code: domain.CodeAssetMismatch, journaled: true,
		},
		{
			name: "mint asset field differs", tr: domain.Transfer{ID: "t", From: domain.World, To: "bob", Amount: "1", Asset: "EUR"},
			want: domain.Rejected, code: domain.CodeAssetMismatch, journaled: true,
		},
		{
			name: "too many decimals", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "1.001"},
			want: domain.Rejected, code: domain.CodeInvalidAmount, journaled: true,
		},
		{
			name: "too many digits for the asset", tr: domain.Transfer{ID: "t", From: domain.World, To: "bob", Amount: strings.Repeat("9", 37)},
			want: domain.Rejected, code: domain.CodeInvalidAmount, journaled: true,
		},
		{name: "zero", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "0"}, want: domain.Rejected, code: domain.CodeInvalidAmount},
		{name: "zero with decimals", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "0.00"}, want: domain.Rejected, code: domain.CodeInvalidAmount},
		{name: "zero beyond scale", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "0.000"}, want: domain.Rejected, code: domain.CodeInvalidAmount},
		{name: "empty amount", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: ""}, want: domain.Rejected, code: domain.CodeInvalidAmount},
		{name: "negative", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "-1"}, want: domain.Rejected, code: domain.CodeInvalidAmount},
		{name: "exponent", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "1e3"}, want: domain.Rejected, code: domain.CodeInvalidAmount},
		{name: "empty id", tr: domain.Transfer{ID: "", From: "alice", To: "bob", Amount: "1"}, want: domain.Rejected, code: domain.CodeValidationFailed},
		{name: "bad id", tr: domain.Transfer{ID: "a b", From: "alice", To: "bob", Amount: "1"}, want: domain.Rejected, code: domain.CodeValidationFailed},
		{name: "long id", tr: domain.Transfer{ID: strings.Repeat("x", 65), From: "alice", To: "bob", Amount: "1"}, want: domain.Rejected, code: domain.CodeValidationFailed},
		{name: "empty from", tr: domain.Transfer{ID: "t", From: "", To: "bob", Amount: "1"}, want: domain.Rejected, code: domain.CodeValidationFailed},
		{name: "bad to", tr: domain.Transfer{ID: "t", From: "alice", To: "b\u00f6b", Amount: "1"}, want: domain.Rejected, code: domain.CodeValidationFailed},
		{name: "bad asset code", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "1", Asset: "usd"}, want: domain.Rejected, code: domain.CodeValidationFailed},
		{name: "control character in reference", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "1", Reference: "a\x1bb"}, want: domain.Rejected, code: domain.CodeValidationFailed},
		{name: "line separator in reference", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "1", Reference: "a\u2028b"}, want: domain.Rejected, code: domain.CodeValidationFailed},
		{name: "reference too long", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "1", Reference: strings.Repeat("r", 513)}, want: domain.Rejected, code: domain.CodeValidationFailed},
		{name: "too many metadata keys", tr: domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "1", Metadata: manyKeys(33)}, want: domain.Rejected, code: domain.CodeValidationFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := fixture(t)
			d := h.transfer(tc.tr)
			if d.Outcome != tc.want {
				t.Fatalf("outcome %d (%v), want %d", d.Outcome, d.Err, tc.want)
			}
			if tc.code != "" {
				wantCode(t, d, tc.code)
			}
			if d.Outcome == domain.Rejected {
				if got := d.Event != nil; got != tc.journaled {
					t.Fatalf("journaled %v, want %v", got, tc.journaled)
				}
				if tc.detail != "" && d.Err.Error() != tc.detail {
					t.Fatalf("detail %q, want %q", d.Err.Error(), tc.detail)
				}
				// The rejection records the request as it was made, except
				// that once the accounts resolved (limits, overflow) it
				// carries the resolved asset and the amount at its scale.
				if d.Event != nil {
					want := tc.tr
					if tc.resolved != nil {
						want = *tc.resolved
					}
					if !reflect.DeepEqual(d.Event.Rejection.Transfer, want) {
						t.Fatalf("rejection records %+v, want %+v", d.Event.Rejection.Transfer, want)
					}
				}
			}
			if d.Outcome == domain.Posted {
				p := d.Event.Transfer
				if p.Entries != *tc.entries {
					t.Fatalf("entries\n got %+v\nwant %+v", p.Entries, *tc.entries)
				}
				want := tc.tr
				want.Asset, want.Amount = tc.asset, tc.entries[0].Amount
				if !reflect.DeepEqual(p.Transfer, want) {
					t.Fatalf("posted transfer %+v, want %+v", p.Transfer, want)
				}
			}
		})
	}
}

func TestInsufficientFundsError(t *testing.T) {
	h := fixture(t)
	d := h.transfer(domain.Transfer{ID: "t", From: "alice", To: "bob", Amount: "25"})
	var ife *domain.InsufficientFundsError
	if !errors.As(d.Err, &ife) {
		t.Fatalf("error %T, want *InsufficientFundsError", d.Err)
	}
	if ife.Account != "alice" || ife.Asset != "USD" || ife.Scale != 2 ||
		ife.Balance.Format(2) != "10.00" || ife.Needed.Format(2) != "25.00" {
		t.Fatalf("error fields %+v", ife)
	}
	// With an overdraft limit the required balance is lowered by the limit.
	h.must(h.transfer(domain.Transfer{ID: "t2", From: "od", To: "bob", Amount: "40"}), domain.Posted)
	d = h.transfer(domain.Transfer{ID: "t3", From: "od", To: "bob", Amount: "25"})
	wantCode(t, d, domain.CodeInsufficientFunds)
	if want := "insufficient balance: balance was -40.00 USD, at least -25.00 USD is required"; d.Err.Error() != want {
		t.Fatalf("detail %q, want %q", d.Err.Error(), want)
	}
}

func TestTransferReplay(t *testing.T) {
	h := fixture(t)
	orig := domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "10", Reference: "r"}
	posted := h.must(h.transfer(orig), domain.Posted).Event.Seq

	same := func(mod func(*domain.Transfer)) domain.Transfer {
		tr := orig
		mod(&tr)
		return tr
	}
	tests := []struct {
		name string
		tr   domain.Transfer
		want domain.Outcome
	}{
		{"identical", orig, domain.Replayed},
		{"amount with decimals", same(func(tr *domain.Transfer) { tr.Amount = "10.00" }), domain.Replayed},
		{"amount with one decimal", same(func(tr *domain.Transfer) { tr.Amount = "10.0" }), domain.Replayed},
		{"asset spelled out", same(func(tr *domain.Transfer) { tr.Asset = "USD" }), domain.Replayed},
		{"empty metadata", same(func(tr *domain.Transfer) { tr.Metadata = map[string]string{} }), domain.Replayed},
		{"different amount", same(func(tr *domain.Transfer) { tr.Amount = "9.99" }), domain.Rejected},
		{"different to", same(func(tr *domain.Transfer) { tr.To = "od" }), domain.Rejected},
		{"different from", same(func(tr *domain.Transfer) { tr.From = domain.World }), domain.Rejected},
		{"different reference", same(func(tr *domain.Transfer) { tr.Reference = "" }), domain.Rejected},
		{"metadata added", same(func(tr *domain.Transfer) { tr.Metadata = map[string]string{"k": "v"} }), domain.Rejected},
		{"unknown account", same(func(tr *domain.Transfer) { tr.To = "nobody" }), domain.Rejected},
		{"too many decimals", same(func(tr *domain.Transfer) { tr.Amount = "10.001" }), domain.Rejected},
		{"asset mismatch", same(func(tr *domain.Transfer) { tr.Asset = "EUR" }), domain.Rejected},
	}
	for _, tc := range tests {
		// Alice's balance is now zero: a replay must not be re-checked for
		// funds, and each case runs against the same state.
		d := h.transfer(tc.tr)
		if d.Outcome != tc.want {
			t.Errorf("%s: outcome %d (%v), want %d", tc.name, d.Outcome, d.Err, tc.want)
			continue
		}
		switch tc.want {
		case domain.Replayed:
			if d.ReplayOf != posted {
				t.Errorf("%s: ReplayOf %d, want %d", tc.name, d.ReplayOf, posted)
			}
		case domain.Rejected:
			if d.Err.Code() != domain.CodeIdempotencyConflict || d.Event != nil {
				t.Errorf("%s: %s (journaled %v), want an unjournaled idempotency_conflict", tc.name, d.Err.Code(), d.Event != nil)
			}
		}
	}
	if h.s.Seq() != posted {
		t.Fatalf("replays and conflicts moved the sequence from %d to %d", posted, h.s.Seq())
	}
	// A malformed request is refused as such even if its id was posted.
	wantCode(t, h.transfer(same(func(tr *domain.Transfer) { tr.Amount = "0" })), domain.CodeInvalidAmount)
}

func TestRejectedTransferDoesNotConsumeID(t *testing.T) {
	h := fixture(t)
	tr := domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "25"}
	rejected := h.transfer(tr)
	wantCode(t, rejected, domain.CodeInsufficientFunds)
	// Retrying while still short is rejected again, and journaled again.
	again := h.transfer(tr)
	wantCode(t, again, domain.CodeInsufficientFunds)
	if again.Event == nil || again.Event.Seq != rejected.Event.Seq+1 {
		t.Fatalf("the second rejection was not journaled after the first")
	}
	h.must(h.transfer(domain.Transfer{ID: "fund", From: domain.World, To: "alice", Amount: "15"}), domain.Posted)
	posted := h.must(h.transfer(tr), domain.Posted)
	if got := posted.Event.Transfer.Entries[0].Balance; got != "0.00" {
		t.Fatalf("alice after the retry: %s, want 0.00", got)
	}
	replay := h.must(h.transfer(tr), domain.Replayed)
	if replay.ReplayOf != posted.Event.Seq {
		t.Fatalf("ReplayOf %d, want the posting at %d, not a rejection", replay.ReplayOf, posted.Event.Seq)
	}
}

func TestSequencesGapless(t *testing.T) {
	h := fixture(t)
	h.transfer(domain.Transfer{ID: "a", From: "alice", To: "bob", Amount: "1"})
	h.transfer(domain.Transfer{ID: "a", From: "alice", To: "bob", Amount: "1"})   // replay
	h.transfer(domain.Transfer{ID: "b", From: "alice", To: "bob", Amount: "100"}) // journaled rejection
	h.transfer(domain.Transfer{ID: "c", From: "alice", To: "bob", Amount: "0"})   // unjournaled rejection
	h.asset("USD", 2)                                                             // existed
	h.open(domain.Account{ID: "alice", Asset: "USD"})                             // existed
	h.transfer(domain.Transfer{ID: "a", From: "alice", To: "bob", Amount: "2"})   // conflict
	h.transfer(domain.Transfer{ID: "d", From: domain.World, To: "bob", Amount: "1"})
	for i, ev := range h.events {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d has sequence %d", i, ev.Seq)
		}
	}
	if n := uint64(len(h.events)); h.s.Seq() != n || n != 12 {
		t.Fatalf("state at %d after %d events, want 12", h.s.Seq(), n)
	}
}

// TestApplyRebuildsState checks that a State rebuilt from the journal
// decides exactly as the one that wrote it.
func TestApplyRebuildsState(t *testing.T) {
	h := fixture(t)
	h.transfer(domain.Transfer{ID: "a", From: "alice", To: "bob", Amount: "4"})
	h.transfer(domain.Transfer{ID: "b", From: "alice", To: "bob", Amount: "100"})
	h.transfer(domain.Transfer{ID: "c", From: "od", To: "unl", Amount: "20", Metadata: map[string]string{"x": "y"}})

	rebuilt := domain.NewState()
	for _, ev := range h.events {
		if err := rebuilt.Apply(ev); err != nil {
			t.Fatalf("Apply(%d): %v", ev.Seq, err)
		}
	}
	if rebuilt.Seq() != h.s.Seq() || rebuilt.CommandSeq() != h.s.CommandSeq() {
		t.Fatalf("rebuilt at %d/%d, original at %d/%d", rebuilt.Seq(), rebuilt.CommandSeq(), h.s.Seq(), h.s.CommandSeq())
	}
	probes := []domain.Command{
		{Transfer: &domain.Transfer{ID: "a", From: "alice", To: "bob", Amount: "4.00"}},
		{Transfer: &domain.Transfer{ID: "a", From: "alice", To: "bob", Amount: "5"}},
		{Transfer: &domain.Transfer{ID: "b", From: "alice", To: "bob", Amount: "6"}},
		{Transfer: &domain.Transfer{ID: "e", From: "alice", To: "bob", Amount: "6.01"}},
		{Transfer: &domain.Transfer{ID: "c", From: "od", To: "unl", Amount: "20", Metadata: map[string]string{"x": "y"}}},
		{Transfer: &domain.Transfer{ID: "f", From: "od", To: "bob", Amount: "30.01"}},
		{Transfer: &domain.Transfer{ID: "g", From: "od", To: "bob", Amount: "30"}},
		{Account: &domain.Account{ID: "od", Asset: "USD", OverdraftLimit: "50.00"}},
		{Account: &domain.Account{ID: "od", Asset: "USD"}},
		{Asset: &domain.Asset{Code: "BTC", Scale: 8}},
	}
	for i, c := range probes {
		c.Ref = domain.CommandRef{Seq: 1000 + uint64(i)}
		want := h.s.Decide(c, testEpoch)
		got := rebuilt.Decide(c, testEpoch)
		if !sameDecision(got, want) {
			t.Errorf("probe %s: rebuilt decided %+v, original %+v", describeCommand(c), got, want)
		}
	}
}

// sameDecision compares decisions by value, errors by code and text.
func sameDecision(a, b domain.Decision) bool {
	if a.Outcome != b.Outcome || a.ReplayOf != b.ReplayOf || (a.Err == nil) != (b.Err == nil) || (a.Event == nil) != (b.Event == nil) {
		return false
	}
	if a.Err != nil && (a.Err.Code() != b.Err.Code() || a.Err.Error() != b.Err.Error()) {
		return false
	}
	return a.Event == nil || reflect.DeepEqual(*a.Event, *b.Event)
}

// TestBalanceOverflow covers the 128-bit edge of balances: a transfer whose
// result does not fit must be refused, never posted with a wrapped balance.
func TestBalanceOverflow(t *testing.T) {
	nines := strings.Repeat("9", 38) // the largest amount a request can carry at scale 0
	setup := func(t *testing.T) *harness {
		h := newHarness(t)
		h.must(h.asset("BIG", 0), domain.Created)
		for _, id := range []string{"x", "y"} {
			h.must(h.open(domain.Account{ID: id, Asset: "BIG"}), domain.Created)
		}
		h.must(h.open(domain.Account{ID: "u", Asset: "BIG", OverdraftLimit: domain.Unlimited}), domain.Created)
		return h
	}
	// checkPostedOrOverflow accepts either outcome the ledger can honestly
	// give: a posting whose debit balance is exact, or balance_overflow.
	checkPostedOrOverflow := func(t *testing.T, d domain.Decision, wantDebit string) {
		t.Helper()
		if d.Outcome == domain.Rejected && d.Err.Code() == domain.CodeBalanceOverflow {
			return
		}
		if d.Outcome != domain.Posted {
			t.Fatalf("outcome %d (%v), want Posted or balance_overflow", d.Outcome, d.Err)
		}
		if got := d.Event.Transfer.Entries[0].Balance; got != wantDebit {
			t.Fatalf("BUG: the debit of %s was posted with balance %s, but the exact balance %s does not fit 128 bits;"+
				" Decide checks only the credit side for overflow (state.go decideTransfer/move ignore Sub's ok for the"+
				" issuer and for unlimited accounts), so the balance silently became %s and the asset no longer sums to zero",
				d.Event.Transfer.Entries[0].Account, got, wantDebit, got)
		}
	}

	t.Run("credit", func(t *testing.T) {
		h := setup(t)
		h.must(h.transfer(domain.Transfer{ID: "m1", From: domain.World, To: "x", Amount: nines}), domain.Posted)
		h.must(h.transfer(domain.Transfer{ID: "m2", From: domain.World, To: "y", Amount: "1"}), domain.Posted)
		d := h.transfer(domain.Transfer{ID: "m3", From: "y", To: "x", Amount: "1"})
		// 10^38 still fits; it takes two maximal mints to overflow x.
		h.must(d, domain.Posted)
		d = h.transfer(domain.Transfer{ID: "m4", From: "u", To: "x", Amount: nines})
		wantCode(t, d, domain.CodeBalanceOverflow)
		if d.Event == nil {
			t.Fatal("balance_overflow was not journaled")
		}
	})
	t.Run("burn", func(t *testing.T) {
		h := setup(t)
		h.must(h.transfer(domain.Transfer{ID: "b1", From: "u", To: domain.World, Amount: nines}), domain.Posted)
		d := h.transfer(domain.Transfer{ID: "b2", From: "x", To: domain.World, Amount: "1"})
		wantCode(t, d, domain.CodeInsufficientFunds)
		d = h.transfer(domain.Transfer{ID: "b3", From: domain.World, To: "x", Amount: nines})
		h.must(d, domain.Posted)
		if got := d.Event.Transfer.Entries[0].Balance; got != "0" {
			t.Fatalf("world after mint: %s", got)
		}
	})
	t.Run("mint", func(t *testing.T) {
		h := setup(t)
		h.must(h.transfer(domain.Transfer{ID: "m1", From: domain.World, To: "x", Amount: nines}), domain.Posted)
		d := h.transfer(domain.Transfer{ID: "m2", From: domain.World, To: "y", Amount: nines})
		checkPostedOrOverflow(t, d, "-1"+strings.Repeat("9", 37)+"8")
	})
	t.Run("unlimited", func(t *testing.T) {
		h := setup(t)
		h.must(h.transfer(domain.Transfer{ID: "u1", From: "u", To: "x", Amount: nines}), domain.Posted)
		d := h.transfer(domain.Transfer{ID: "u2", From: "u", To: "y", Amount: nines})
		checkPostedOrOverflow(t, d, "-1"+strings.Repeat("9", 37)+"8")
	})
}
