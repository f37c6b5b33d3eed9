package domain

import (
	"fmt"
	"time"
)

// An account's lifecycle (ADR 0024): its overdraft limit changed, frozen
// (debits only, or everything), unfrozen and closed, each decided here and
// journaled as an event of its own. Who may: changing a limit grants or
// withdraws credit, so only an admin may (ADR 0010); freezing is a hold an
// admin puts on an account, so only an admin freezes or unfreezes (an
// owner who could unfreeze would defeat it); closing an open account at
// zero is its owner's or an admin's decision, a frozen one an admin's.
// Closing is final: a closed id never moves money again.

// The lifecycle's event types.
const (
	EventAccountLimitChanged EventType = "AccountLimitChanged"
	EventAccountFrozen       EventType = "AccountFrozen"
	EventAccountUnfrozen     EventType = "AccountUnfrozen"
	EventAccountClosed       EventType = "AccountClosed"
)

// Lifecycle actions, as a LifecycleRequest names them.
const (
	ActionLimit    = "limit"
	ActionFreeze   = "freeze"
	ActionUnfreeze = "unfreeze"
	ActionClose    = "close"
)

// Freeze modes: what a frozen account refuses.
const (
	FrozenDebits = "debits" // no debits; credits still allowed
	FrozenAll    = "all"    // nothing in or out
)

// Account statuses as views show them.
const (
	AccountOpen   = "open"
	AccountFrozen = "frozen"
	AccountClosed = "closed"
)

// AccountChange is the payload of the lifecycle's events: the account and,
// for AccountFrozen, the mode, for AccountLimitChanged, the new limit (at
// the asset's scale, or "unlimited"). Its field order is its canonical
// order.
type AccountChange struct {
	Account        string `json:"account"`
	Frozen         string `json:"frozen,omitempty"`
	OverdraftLimit string `json:"overdraft_limit,omitempty"`
}

// LifecycleRequest asks for one lifecycle action on an account.
type LifecycleRequest struct {
	Action string `json:"action"`
	AccountChange
}

// Validate checks the request's shape: a known action with exactly the
// fields it takes, and an account that is not the issuer or FX account,
// which have no lifecycle.
func (r *LifecycleRequest) Validate() error {
	if err := ValidateID("account", r.Account); err != nil {
		return err
	}
	if r.Account == World || r.Account == FX {
		return &FieldError{Field: "account", Reason: fmt.Sprintf("%q is a system account: it cannot be frozen, closed or given a limit", r.Account)}
	}
	wantMode, wantLimit := r.Action == ActionFreeze, r.Action == ActionLimit
	switch r.Action {
	case ActionLimit, ActionFreeze, ActionUnfreeze, ActionClose:
	default:
		return &FieldError{Field: "action", Reason: "must be limit, freeze, unfreeze or close"}
	}
	if wantMode != (r.Frozen != "") || wantMode && r.Frozen != FrozenDebits && r.Frozen != FrozenAll {
		return &FieldError{Field: "frozen", Reason: "must be \"debits\" or \"all\" to freeze, and only then"}
	}
	if wantLimit != (r.OverdraftLimit != "") {
		return &FieldError{Field: "overdraft_limit", Reason: "required to change the limit, and only then"}
	}
	if wantLimit && r.OverdraftLimit != Unlimited && CheckAmountLiteral(r.OverdraftLimit) != nil {
		return &FieldError{Field: "overdraft_limit", Reason: "must be a non-negative decimal string or \"unlimited\""}
	}
	return nil
}

// Account status in accountState.status. Open is the zero value.
const (
	statusOpen uint8 = iota
	statusFrozenDebits
	statusFrozenAll
	statusClosed
	statusCount // one past the last: statuses are below it
)

// frozenMode returns the mode of a frozen status, "" otherwise.
func frozenMode(st uint8) string {
	switch st {
	case statusFrozenDebits:
		return FrozenDebits
	case statusFrozenAll:
		return FrozenAll
	}
	return ""
}

// decideLifecycle decides one lifecycle action. An action that would
// change nothing (freezing in the mode it has, unfreezing an open account,
// closing a closed one, setting the limit it has) answers Existed and
// journals nothing, so a retry is harmless.
func (s *State) decideLifecycle(cmd Command, now time.Time) Decision {
	r := *cmd.Lifecycle
	if err := r.Validate(); err != nil {
		return Decision{Outcome: Rejected, Err: asCoded(err)}
	}
	acc, ok := s.accounts[r.Account]
	if r.Action != ActionClose && !cmd.Actor.privileged() {
		return Decision{Outcome: Rejected, Err: reject(CodeForbidden, "a token for %q may not %s an account: an admin right (docs/security.md)", cmd.Actor.Subject, actionVerb(r.Action))}
	}
	if r.Action == ActionClose && !cmd.Actor.privileged() && (!ok || !cmd.Actor.mayAct(acc.owner)) {
		// As for transfers: nobody learns about another's accounts.
		return Decision{Outcome: Rejected, Err: reject(CodeForbidden, "a token for %q may close only accounts it owns", cmd.Actor.Subject)}
	}
	if !ok {
		return Decision{Outcome: Rejected, Err: reject(CodeAccountNotFound, "account %s does not exist", r.Account)}
	}
	if acc.status == statusClosed {
		if r.Action == ActionClose {
			return Decision{Outcome: Existed}
		}
		return Decision{Outcome: Rejected, Err: reject(CodeAccountClosed, "account %s is closed", r.Account)}
	}
	var t EventType
	var err CodedError
	switch r.Action {
	case ActionLimit:
		t, err = s.checkLimitChange(acc, &r.AccountChange)
	case ActionFreeze:
		t = EventAccountFrozen
		if frozenMode(acc.status) == r.Frozen {
			t = ""
		}
	case ActionUnfreeze:
		t = EventAccountUnfrozen
		if acc.status == statusOpen {
			t = ""
		}
	case ActionClose:
		t, err = EventAccountClosed, s.checkClose(cmd.Actor, acc)
	}
	if err != nil {
		return Decision{Outcome: Rejected, Err: err}
	}
	if t == "" {
		return Decision{Outcome: Existed}
	}
	ev := s.newEvent(t, cmd.Ref, now)
	change := r.AccountChange
	ev.Change = &change
	s.mustApply(ev)
	return Decision{Outcome: Updated, Event: ev}
}

func actionVerb(action string) string {
	if action == ActionLimit {
		return "change the overdraft limit of"
	}
	return action
}

// checkLimitChange normalizes c's limit at the account's scale and refuses
// a limit the balance already goes beyond: lowering it below what the
// account has drawn would leave a balance under its floor, which every
// reader of the journal (the audit, the verifier, a snapshot) treats as
// broken. An admin winding credit down freezes debits and lowers the
// limit once the account is repaid. It returns "" when the limit is
// unchanged.
func (s *State) checkLimitChange(acc *accountState, c *AccountChange) (EventType, CodedError) {
	floor := noFloor
	if c.OverdraftLimit != Unlimited {
		limit, err := ParseAmount(c.OverdraftLimit, acc.asset.scale)
		if err != nil {
			return "", &FieldError{Field: "overdraft_limit", Reason: err.Error()}
		}
		c.OverdraftLimit = limit.Format(acc.asset.scale)
		floor = limit.Neg()
	}
	if floor == acc.floor {
		return "", nil
	}
	if floor != noFloor && acc.balance.Cmp(floor) < 0 {
		return "", reject(CodeLimitInUse, "balance of %s is %s %s: the overdraft limit cannot be lowered below %s %s while it is used",
			acc.id, acc.balance.Format(acc.asset.scale), acc.asset.code, acc.balance.Neg().Format(acc.asset.scale), acc.asset.code)
	}
	return EventAccountLimitChanged, nil
}

// checkClose refuses to close an account that holds anything, or a frozen
// one for anyone but an admin: a freeze is an admin's hold, which its
// owner must not end by closing.
func (s *State) checkClose(actor *Actor, acc *accountState) CodedError {
	if acc.status != statusOpen && !actor.privileged() {
		return reject(CodeForbidden, "account %s is frozen: only an admin may close it", acc.id)
	}
	if !acc.balance.IsZero() {
		return reject(CodeAccountNotEmpty, "account %s holds %s %s: only an account at zero with no holds can be closed",
			acc.id, acc.balance.Format(acc.asset.scale), acc.asset.code)
	}
	if s.holds.involves(acc) {
		return reject(CodeAccountNotEmpty, "account %s has a pending hold from or to it: post or void it first; only an account at zero with no holds can be closed", acc.id)
	}
	return nil
}

// checkLifecycle refuses a transfer that a side's status forbids: a
// closed account takes nothing and gives nothing; a frozen one gives
// nothing, and in mode "all" takes nothing either. The issuer and FX
// accounts have no status.
func checkLifecycle(r resolved) CodedError {
	if r.from != nil {
		switch r.from.status {
		case statusClosed:
			return reject(CodeAccountClosed, "account %s is closed", r.from.id)
		case statusFrozenDebits, statusFrozenAll:
			return reject(CodeAccountFrozen, "account %s is frozen (%s): it cannot be debited", r.from.id, frozenMode(r.from.status))
		}
	}
	if r.to != nil {
		switch r.to.status {
		case statusClosed:
			return reject(CodeAccountClosed, "account %s is closed", r.to.id)
		case statusFrozenAll:
			return reject(CodeAccountFrozen, "account %s is frozen (all): it cannot be credited", r.to.id)
		}
	}
	return nil
}

// AccountStatus returns the status of account id ("open", "frozen" or
// "closed") and its freeze mode; ok is false for an unknown account.
func (s *State) AccountStatus(id string) (status, frozen string, ok bool) {
	acc, ok := s.accounts[id]
	if !ok {
		return "", "", false
	}
	return statusName(acc.status), frozenMode(acc.status), true
}

func statusName(st uint8) string {
	switch st {
	case statusOpen:
		return AccountOpen
	case statusClosed:
		return AccountClosed
	}
	return AccountFrozen
}

// lifecycleAccount finds the account an event changes; it must exist and
// not be closed.
func (s *State) lifecycleAccount(ev *Event, c *AccountChange) (*accountState, error) {
	acc, ok := s.accounts[c.Account]
	if !ok || acc.status == statusClosed {
		return nil, fmt.Errorf("event %d: %s of unknown or closed account %s: %w", ev.Seq, ev.Type, c.Account, ErrInconsistent)
	}
	return acc, nil
}

// AccountLimitChanged sets the account's floor.
func (h stateApplier) AccountLimitChanged(ev *Event, c *AccountChange) error {
	acc, err := h.s.lifecycleAccount(ev, c)
	if err != nil {
		return err
	}
	if c.OverdraftLimit == Unlimited {
		acc.floor = noFloor
		return nil
	}
	limit, perr := ParseAmount(c.OverdraftLimit, acc.asset.scale)
	if perr != nil {
		return fmt.Errorf("event %d: overdraft limit: %v: %w", ev.Seq, perr, ErrInconsistent)
	}
	acc.floor = limit.Neg()
	return nil
}

// AccountFrozen sets the account's freeze mode.
func (h stateApplier) AccountFrozen(ev *Event, c *AccountChange) error {
	acc, err := h.s.lifecycleAccount(ev, c)
	if err != nil {
		return err
	}
	acc.status = statusFrozenDebits
	if c.Frozen == FrozenAll {
		acc.status = statusFrozenAll
	}
	return nil
}

// AccountUnfrozen opens the account again.
func (h stateApplier) AccountUnfrozen(ev *Event, c *AccountChange) error {
	acc, err := h.s.lifecycleAccount(ev, c)
	if err != nil {
		return err
	}
	acc.status = statusOpen
	return nil
}

// AccountClosed closes the account for good.
func (h stateApplier) AccountClosed(ev *Event, c *AccountChange) error {
	acc, err := h.s.lifecycleAccount(ev, c)
	if err != nil {
		return err
	}
	acc.status = statusClosed
	return nil
}

// dispatchChange is Dispatch for the lifecycle's types, whose payloads
// share one field.
func (ev *Event) dispatchChange(h EventHandler) error {
	switch ev.Type {
	case EventAccountLimitChanged:
		return h.AccountLimitChanged(ev, ev.Change)
	case EventAccountFrozen:
		return h.AccountFrozen(ev, ev.Change)
	case EventAccountUnfrozen:
		return h.AccountUnfrozen(ev, ev.Change)
	}
	return h.AccountClosed(ev, ev.Change)
}

// ValidateChange checks a lifecycle event's payload against its type: the
// rules of the request it answers.
func ValidateChange(t EventType, c *AccountChange) error {
	r := LifecycleRequest{AccountChange: *c}
	switch t {
	case EventAccountLimitChanged:
		r.Action = ActionLimit
	case EventAccountFrozen:
		r.Action = ActionFreeze
	case EventAccountUnfrozen:
		r.Action = ActionUnfreeze
	case EventAccountClosed:
		r.Action = ActionClose
	default:
		return fmt.Errorf("%q is not a lifecycle event: %w", t, ErrUnknownEvent)
	}
	return r.Validate()
}

func (payloadRules) AccountLimitChanged(ev *Event, c *AccountChange) error {
	return ValidateChange(ev.Type, c)
}

func (payloadRules) AccountFrozen(ev *Event, c *AccountChange) error {
	return ValidateChange(ev.Type, c)
}

func (payloadRules) AccountUnfrozen(ev *Event, c *AccountChange) error {
	return ValidateChange(ev.Type, c)
}

func (payloadRules) AccountClosed(ev *Event, c *AccountChange) error {
	return ValidateChange(ev.Type, c)
}
