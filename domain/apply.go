package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Applying journal events to the state, in order.

// Apply advances the state by one journal event. Events must come in
// sequence order with no gap; anything else means the journal is corrupt.
func (s *State) Apply(ev *Event) error {
	if ev.Seq != s.seq+1 {
		return fmt.Errorf("event sequence %d follows %d: %w", ev.Seq, s.seq, ErrSequenceGap)
	}
	if err := ev.Dispatch(stateApplier{s}); err != nil {
		if errors.Is(err, ErrMissingPayload) || errors.Is(err, ErrUnknownEvent) {
			return fmt.Errorf("event %d: %w", ev.Seq, err)
		}
		return err
	}
	s.advance(ev)
	return nil
}

// applyPosted moves the money of a posted transfer and remembers its id:
// Apply's work for a TransferPosted event, but for the sequence checks.
func (s *State) applyPosted(seq uint64, t *Transfer) error {
	r, err := s.resolve(*t)
	if err == nil && r.toAsset != nil {
		err = reject(CodeAssetMismatch, "a posting between accounts of %s and %s", r.asset.code, r.toAsset.code)
	}
	if err != nil {
		return fmt.Errorf("event %d: %v: %w", seq, err, ErrInconsistent)
	}
	s.move(r)
	key := keyOf(r.t.ID)
	s.rememberPosted(key, seq, &r.t, r.amount)
	return nil
}

// applyPostedEvent is Apply for a TransferPosted event given by its parts,
// for the Replayer, which has no Event to build.
func (s *State) applyPostedEvent(seq uint64, cmd CommandRef, t *Transfer) error {
	if seq != s.seq+1 {
		return fmt.Errorf("event sequence %d follows %d: %w", seq, s.seq, ErrSequenceGap)
	}
	if err := s.applyPosted(seq, t); err != nil {
		return err
	}
	s.advanceTo(seq, cmd)
	return nil
}

func (s *State) advance(ev *Event) { s.advanceTo(ev.Seq, ev.Command) }

func (s *State) advanceTo(seq uint64, cmd CommandRef) {
	s.seq = seq
	if s.lastCmd.Before(cmd) {
		s.lastCmd = cmd
	}
}

func (s *State) mustApply(ev *Event) {
	if err := s.Apply(ev); err != nil {
		panic("domain: applying a decided event: " + err.Error())
	}
}

func asCoded(err error) CodedError {
	if c, ok := err.(CodedError); ok {
		return c
	}
	return reject(CodeValidationFailed, "%s", err.Error())
}

// stateApplier is State.Apply's handler of each event type.
type stateApplier struct{ s *State }

func (h stateApplier) AssetDefined(ev *Event, asset *Asset) error {
	s, a := h.s, *asset
	if err := a.Validate(); err != nil {
		return fmt.Errorf("event %d: %v: %w", ev.Seq, err, ErrInconsistent)
	}
	if _, dup := s.assets[a.Code]; dup {
		return fmt.Errorf("event %d redefines asset %s: %w", ev.Seq, a.Code, ErrInconsistent)
	}
	// Events decoded from the journal may share one buffer per line:
	// whatever the state keeps is copied out of it.
	code := strings.Clone(a.Code)
	s.assets[code] = &assetState{code: code, scale: a.Scale}
	return nil
}

func (h stateApplier) AccountOpened(ev *Event, a *Account) error {
	s := h.s
	if err := a.ValidateJournaled(); err != nil {
		return fmt.Errorf("event %d: %v: %w", ev.Seq, err, ErrInconsistent)
	}
	if _, dup := s.accounts[a.ID]; dup {
		return fmt.Errorf("event %d reopens account %s: %w", ev.Seq, a.ID, ErrInconsistent)
	}
	asset, ok := s.assets[a.Asset]
	if !ok {
		return fmt.Errorf("event %d opens %s in undefined asset %s: %w", ev.Seq, a.ID, a.Asset, ErrInconsistent)
	}
	acc := accountState{id: strings.Clone(a.ID), asset: asset, owner: strings.Clone(a.Owner), fp: accountFingerprint(a)}
	if a.OverdraftLimit == Unlimited {
		acc.floor = noFloor
	} else {
		limit, err := ParseAmount(a.OverdraftLimit, asset.scale)
		if err != nil {
			return fmt.Errorf("event %d: overdraft limit: %w", ev.Seq, err)
		}
		acc.floor = limit.Neg()
	}
	s.accounts[acc.id] = s.accts.add(acc)
	return nil
}

func (h stateApplier) TransferPosted(ev *Event, t *PostedTransfer) error {
	if t.Reverses != "" {
		return h.s.applyReversal(ev.Seq, t)
	}
	return h.s.applyPosted(ev.Seq, &t.Transfer)
}

// TransferRejected changes nothing: a rejected id stays free.
func (stateApplier) TransferRejected(*Event, *RejectedTransfer) error { return nil }

func (stateApplier) CommandSkipped(ev *Event, k *SkippedCommand) error {
	if err := k.Validate(); err != nil {
		return fmt.Errorf("event %d: %v: %w", ev.Seq, err, ErrInconsistent)
	}
	return nil
}

func (payloadRules) AssetDefined(_ *Event, a *Asset) error { return a.Validate() }

func (payloadRules) AccountOpened(_ *Event, a *Account) error { return a.ValidateJournaled() }

func (payloadRules) TransferPosted(_ *Event, p *PostedTransfer) error {
	if err := p.Transfer.ValidateJournaled(); err != nil {
		return err
	}
	if p.Asset == "" {
		return errors.New("posted transfer without asset")
	}
	if p.ExchangeRate != "" {
		// Decide never writes one (a transfer that converts is a
		// TransferConverted) and State.Apply refuses one: the audit
		// refuses it too, rather than pass a line the ledger cannot load.
		return errors.New("posted transfer with an exchange_rate: a conversion is TransferConverted")
	}
	if err := reversalRules(p); err != nil {
		return err
	}
	d, c := p.Entries[0], p.Entries[1]
	if d.Account != p.From || d.Type != Debit || d.Amount != p.Amount || d.Balance == "" {
		return fmt.Errorf("first entry %+v is not the debit of %s by %s", d, p.From, p.Amount)
	}
	if c.Account != p.To || c.Type != Credit || c.Amount != p.Amount || c.Balance == "" {
		return fmt.Errorf("second entry %+v is not the credit of %s by %s", c, p.To, p.Amount)
	}
	return nil
}

func (payloadRules) TransferRejected(_ *Event, r *RejectedTransfer) error {
	if err := r.Transfer.ValidateJournaled(); err != nil {
		return err
	}
	if !slices.Contains(Codes, r.Code) {
		return fmt.Errorf("unknown rejection code %q", r.Code)
	}
	if r.Detail == "" {
		return errors.New("rejection without detail")
	}
	return nil
}

func (payloadRules) CommandSkipped(_ *Event, k *SkippedCommand) error { return k.Validate() }

// rememberPosted keeps a posted transfer's id and the fingerprint of its
// body (t as resolved, amount at its scale), for replays and conflicts.
func (s *State) rememberPosted(key idKey, seq uint64, t *Transfer, amount Amount) {
	s.posted.put(key, postedRef{seq: seq, fp: transferFingerprint(key, t, amount)})
}
