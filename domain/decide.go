package domain

import "time"

// Deciding commands against the state: the events each one leaves.

// Command is one request for the processor: exactly one of Asset,
// Account, Transfer, Metadata, Rate and Lifecycle is set. Actor is who asks; nil means the
// ledger itself (tools and tests), which may do anything. Its JSON form,
// without Ref, is an item of a command message (commands.Item): a new
// command is a field here and a case in Decide, and nothing else carries
// it to the processor.
type Command struct {
	Ref      CommandRef `json:"-"` // where the processor took it from; not sent
	Actor    *Actor     `json:"actor,omitempty"`
	Asset    *Asset     `json:"asset,omitempty"`    // define an asset
	Account  *Account   `json:"account,omitempty"`  // open an account
	Transfer *Transfer  `json:"transfer,omitempty"` // post a transfer
	// Metadata replaces an account's metadata.
	Metadata *MetadataUpdate `json:"metadata,omitempty"`
	// Rate sets an exchange rate in the rate table (an admin's right).
	Rate *RateSet `json:"rate,omitempty"`
	// Lifecycle changes an account's limit or status (lifecycle.go).
	Lifecycle *LifecycleRequest `json:"lifecycle,omitempty"`
	// Hold posts or voids a pending transfer (ADR 0022).
	Hold *HoldAction `json:"hold,omitempty"`
	// SameAsset refuses a Transfer between accounts of different assets
	// with asset_mismatch, as every transfer was refused before
	// conversions existed (ADR 0019): the seed adapters set it for the
	// systems they serve, which never convert. It is not journaled.
	SameAsset bool `json:"same_asset,omitempty"`
	// Reversal reverses all or part of a posted transfer (ADR 0023).
	Reversal *Reversal `json:"reversal,omitempty"`
	// Transaction posts several legs as one, all or none (ADR 0023).
	Transaction *Transaction `json:"transaction,omitempty"`
}

// Actor is the authenticated principal behind a command. A non-admin actor
// may open accounts only for itself and without credit (no overdraft
// limit), debit only accounts it owns, and never touch the issuer account:
// it has no owner, so only an admin mints, and only an admin burns. These
// rules are what keep a non-admin from creating money (ADR 0010).
type Actor struct {
	Subject string `json:"sub"`
	Admin   bool   `json:"admin,omitempty"`
}

func (a *Actor) mayAct(owner string) bool {
	return a == nil || a.Admin || owner != "" && owner == a.Subject
}

// privileged reports whether a may do what only an admin may: grant
// credit, mint and burn. Nil is the ledger itself.
func (a *Actor) privileged() bool { return a == nil || a.Admin }

// mayPost is who may post a transfer (or a transaction's leg) from the
// account from to to: an admin, or the owner of from (nil: the issuer,
// which has none, so only an admin mints), who never pays the issuer
// account: burning takes money out of circulation, the issuer's decision
// like minting.
func mayPost(a *Actor, from *accountState, to string) CodedError {
	if a.privileged() {
		return nil
	}
	if from == nil || !a.mayAct(from.owner) {
		return reject(CodeForbidden, "a token for %q may debit only accounts it owns", a.Subject)
	}
	if to == World {
		return reject(CodeForbidden, "a token for %q may not pay the issuer account %q: only an admin burns", a.Subject, World)
	}
	return nil
}

// grantsCredit reports whether an overdraft limit, as a request gives it
// (already checked by Account.Validate), lets the balance go below zero:
// "unlimited" or any non-zero amount. Empty and zero ("0", "0.00") do not.
func grantsCredit(limit string) bool {
	return limit == Unlimited || !isZeroLiteral(limit)
}

// Outcome is what a decision did.
type Outcome int

// Outcomes of Decide.
const (
	Created  Outcome = iota + 1 // an asset or account was created; Event is set
	Existed                     // an identical asset or account existed; nothing changed
	Posted                      // a transfer was posted; Event is set
	Replayed                    // the transfer id was posted before with the same body; ReplayOf is set
	Rejected                    // refused; Err is set, and Event too for a journaled transfer rejection
	Updated                     // an account's metadata, limit or status was changed, or a rate set; Event is set
)

// Decision is the result of deciding one command.
type Decision struct {
	Outcome  Outcome
	Event    *Event     // the event to append, when the state changed or a rejection is journaled
	Err      CodedError // why, when Outcome is Rejected
	ReplayOf uint64     // the sequence of the original posting, when Replayed
}

// Decide checks cmd against the state and, when it changes the ledger,
// applies the resulting event and returns it with the next sequence. The
// caller must append the returned events to the journal in order before
// telling anyone the outcome; if that append fails the state is ahead of the
// journal and must be discarded and rebuilt.
func (s *State) Decide(cmd Command, now time.Time) Decision {
	switch {
	case cmd.Asset != nil:
		return s.decideAsset(cmd, now)
	case cmd.Account != nil:
		return s.decideAccount(cmd, now)
	case cmd.Transfer != nil:
		return s.decideTransfer(cmd, now)
	case cmd.Metadata != nil:
		return s.decideMetadata(cmd, now)
	case cmd.Rate != nil:
		return s.decideRate(cmd, now)
	case cmd.Lifecycle != nil:
		return s.decideLifecycle(cmd, now)
	case cmd.Hold != nil:
		return s.decideHoldAction(cmd, now)
	case cmd.Reversal != nil:
		return s.decideReversal(cmd, now)
	case cmd.Transaction != nil:
		return s.decideTransaction(cmd, now)
	}
	return Decision{Outcome: Rejected, Err: reject(CodeValidationFailed, "empty command")}
}

func (s *State) newEvent(t EventType, ref CommandRef, now time.Time) *Event {
	return &Event{Seq: s.seq + 1, Type: t, Version: SchemaVersion, Command: ref, Time: now.UTC()}
}

func (s *State) decideAsset(cmd Command, now time.Time) Decision {
	a := *cmd.Asset
	if err := a.Validate(); err != nil {
		return Decision{Outcome: Rejected, Err: asCoded(err)}
	}
	if have, ok := s.assets[a.Code]; ok {
		if have.scale == a.Scale {
			return Decision{Outcome: Existed}
		}
		return Decision{Outcome: Rejected, Err: reject(CodeAssetConflict,
			"asset %s exists with scale %d, not %d", a.Code, have.scale, a.Scale)}
	}
	ev := s.newEvent(EventAssetDefined, cmd.Ref, now)
	ev.Asset = &a
	s.mustApply(ev)
	return Decision{Outcome: Created, Event: ev}
}

func (s *State) decideAccount(cmd Command, now time.Time) Decision {
	a := *cmd.Account
	if err := a.Validate(); err != nil {
		return Decision{Outcome: Rejected, Err: asCoded(err)}
	}
	if !cmd.Actor.mayAct(a.Owner) {
		return Decision{Outcome: Rejected, Err: reject(CodeForbidden, "a token for %q may open accounts only with itself as owner", cmd.Actor.Subject)}
	}
	if !cmd.Actor.privileged() && grantsCredit(a.OverdraftLimit) {
		// An overdraft limit is credit: money the account may spend that
		// no one paid into it. Granting it is an admin's decision, checked
		// before anything else about the account (an identical existing
		// account included), so the rule has no path around it. Accounts
		// are never redefined after opening: this is the only place a
		// limit is set.
		return Decision{Outcome: Rejected, Err: reject(CodeForbidden,
			"a token for %q may not set an overdraft limit: granting credit is an admin right (docs/security.md)", cmd.Actor.Subject)}
	}
	asset, ok := s.assets[a.Asset]
	if !ok {
		return Decision{Outcome: Rejected, Err: reject(CodeAssetNotFound, "asset %s is not defined", a.Asset)}
	}
	switch a.OverdraftLimit {
	case "":
		a.OverdraftLimit = Amount{}.Format(asset.scale)
	case Unlimited:
	default:
		limit, err := ParseAmount(a.OverdraftLimit, asset.scale)
		if err != nil {
			return Decision{Outcome: Rejected, Err: &FieldError{Field: "overdraft_limit", Reason: err.Error()}}
		}
		a.OverdraftLimit = limit.Format(asset.scale)
	}
	if len(a.Metadata) == 0 {
		a.Metadata = nil
	}
	if have, ok := s.accounts[a.ID]; ok {
		if have.fp == accountFingerprint(&a) {
			return Decision{Outcome: Existed}
		}
		return Decision{Outcome: Rejected, Err: reject(CodeAccountConflict,
			"account %s exists with a different definition", a.ID)}
	}
	ev := s.newEvent(EventAccountOpened, cmd.Ref, now)
	ev.Account = &a
	s.mustApply(ev)
	return Decision{Outcome: Created, Event: ev}
}

// resolved is a transfer checked against the state.
// checkMove refuses moving r.amount from r.from to r.to (a transfer, a
// reversal, a transaction's leg): a debit below the floor, counting the
// account's holds (checkDebit), or a balance past the largest amount.
// Only the issuer or an unlimited account can overflow on the debit
// side; either way the sums would no longer be exact.
func (s *State) checkMove(r resolved) CodedError {
	if err := s.checkDebit(r); err != nil {
		return err
	}
	_, fromOK := s.debit(r).Sub(r.amount)
	if _, toOK := s.credit(r).Add(r.amount); !fromOK || !toOK {
		side := r.t.To
		if !fromOK {
			side = r.t.From
		}
		return reject(CodeBalanceOverflow, "the balance of %s would exceed the largest representable amount", side)
	}
	return nil
}

// post journals r, decided, as a TransferPosted and moves its amount:
// the event, and its payload with the two entries and balances after.
func (s *State) post(cmd Command, r resolved, now time.Time) (*Event, *PostedTransfer) {
	ev := s.newEvent(EventTransferPosted, cmd.Ref, now)
	p := &PostedTransfer{Transfer: r.t}
	ev.Transfer = p
	s.advance(ev)
	fromBal, toBal := s.move(r)
	p.Entries[0] = Entry{Account: r.t.From, Type: Debit, Amount: r.t.Amount, Balance: fromBal.Format(r.asset.scale)}
	p.Entries[1] = Entry{Account: r.t.To, Type: Credit, Amount: r.t.Amount, Balance: toBal.Format(r.asset.scale)}
	return ev, p
}

type resolved struct {
	t        Transfer // with Asset filled in and Amount at the asset's scale
	asset    *assetState
	from, to *accountState // nil for the issuer account
	amount   Amount
	toAsset  *assetState // the recipient's asset in a conversion, else nil
}

func (s *State) decideTransfer(cmd Command, now time.Time) Decision {
	t := *cmd.Transfer
	if len(t.Metadata) == 0 {
		t.Metadata = nil
	}
	if t.Pending {
		t.ExpiresAt = normalizeExpiry(t.ExpiresAt)
	}
	if err := t.Validate(); err != nil {
		// A malformed request is refused without a journal entry: its
		// fields may not even be safe to record, and no state was consulted.
		return Decision{Outcome: Rejected, Err: asCoded(err)}
	}
	// Checked before anything else about the transfer, replays included,
	// so that nobody learns about another's accounts. The issuer account
	// is not in s.accounts: a debit of it (a mint) is refused here too.
	if err := mayPost(cmd.Actor, s.accounts[t.From], t.To); err != nil {
		return Decision{Outcome: Rejected, Err: err}
	}
	r, err := s.resolve(t)
	if err == nil && r.toAsset != nil && cmd.SameAsset {
		err = reject(CodeAssetMismatch, "account %s holds %s but %s holds %s", t.From, r.asset.code, t.To, r.toAsset.code)
	}
	if err == nil {
		r.t.Amount = r.amount.Format(r.asset.scale)
	}
	key := keyOf(t.ID)
	if prev, ok := s.posted.get(key); ok {
		if err == nil && transferFingerprint(key, &r.t, r.amount) == prev.fp {
			return Decision{Outcome: Replayed, ReplayOf: prev.seq}
		}
		return Decision{Outcome: Rejected, Err: reject(CodeIdempotencyConflict,
			"transfer %s was posted at sequence %d with a different body", t.ID, prev.seq)}
	}
	s.mustBeChecked(key)
	if err != nil {
		return s.rejectTransfer(cmd, t, err, now)
	}
	// From here on the request resolved: a rejection records it with its
	// asset and its amount at the asset's scale.
	t = r.t
	if err := checkLifecycle(r); err != nil {
		return s.rejectTransfer(cmd, t, err, now)
	}
	if t.Pending {
		return s.decidePending(cmd, r, now)
	}
	if r.toAsset != nil {
		return s.decideConversion(cmd, r, now)
	}
	if err := s.checkMove(r); err != nil {
		return s.rejectTransfer(cmd, t, err, now)
	}
	ev, _ := s.post(cmd, r, now)
	s.rememberPosted(key, ev.Seq, &r.t, r.amount)
	s.undo.post(key)
	return Decision{Outcome: Posted, Event: ev}
}

// debit returns the balance that r.from would subtract from.
func (s *State) debit(r resolved) Amount {
	if r.from == nil {
		return r.asset.world
	}
	return r.from.balance
}

// credit returns the balance that r.to would add to.
func (s *State) credit(r resolved) Amount {
	if r.to == nil {
		return r.asset.world
	}
	return r.to.balance
}

// move debits r.from and credits r.to by r.amount and returns both
// balances after. Limits and overflow are the caller's to check first.
func (s *State) move(r resolved) (fromBal, toBal Amount) {
	bal := &r.asset.world
	if r.from != nil {
		bal = &r.from.balance
	}
	s.undo.balance(bal)
	*bal, _ = bal.Sub(r.amount)
	fromBal = *bal
	bal = &r.asset.world
	if r.to != nil {
		bal = &r.to.balance
	}
	s.undo.balance(bal)
	*bal, _ = bal.Add(r.amount)
	return fromBal, *bal
}

func (s *State) rejectTransfer(cmd Command, t Transfer, err CodedError, now time.Time) Decision {
	ev := s.newEvent(EventTransferRejected, cmd.Ref, now)
	ev.Rejection = &RejectedTransfer{Transfer: t, Code: err.Code(), Detail: err.Error()}
	s.mustApply(ev)
	return Decision{Outcome: Rejected, Err: err, Event: ev}
}

// resolve finds the accounts and asset of t and parses its amount. The
// resolved r.t has its asset filled in; its Amount is still the text as
// given, which the caller formats at the asset's scale when it needs it.
func (s *State) resolve(t Transfer) (resolved, CodedError) {
	var r resolved
	if t.Asset != "" {
		a, ok := s.assets[t.Asset]
		if !ok {
			return r, reject(CodeAssetNotFound, "asset %s is not defined", t.Asset)
		}
		r.asset = a
	}
	var code string
	var accs [2]*accountState // from, to
	for i, id := range [2]string{t.From, t.To} {
		if id == World {
			continue
		}
		acc, ok := s.accounts[id]
		if !ok {
			return r, reject(CodeAccountNotFound, "account %s does not exist", id)
		}
		if code == "" {
			code = acc.asset.code
		}
		accs[i] = acc
	}
	r.from, r.to = accs[0], accs[1]
	if r.from != nil && r.to != nil && r.from.asset != r.to.asset {
		// A conversion: the amount and any asset named are the sender's.
		r.toAsset = r.to.asset
	} else if t.ExchangeRate != "" {
		return r, &FieldError{Field: "exchange_rate", Reason: "only a transfer between accounts of different assets converts"}
	}
	if t.ExchangeRate != "" {
		t.ExchangeRate, _ = ParseRate("exchange_rate", t.ExchangeRate)
	}
	switch {
	case code == "" && r.asset == nil:
		return r, &FieldError{Field: "asset", Reason: "required when both sides are the issuer account"}
	case code != "" && t.Asset != "" && code != t.Asset:
		return r, reject(CodeAssetMismatch, "the accounts hold %s, not %s", code, t.Asset)
	case code != "":
		t.Asset = code
		r.asset = s.assets[code]
	}
	amount, err := ParseAmount(t.Amount, r.asset.scale)
	if err != nil {
		return r, asCoded(err)
	}
	r.t, r.amount = t, amount
	return r, nil
}
