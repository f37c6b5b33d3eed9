package domain

import (
	"fmt"
	"time"
)

// EventAccountMetadataUpdated is the event of an account whose metadata
// was replaced. Metadata is description, not value: the account's owner
// may change it, as may an admin.
const EventAccountMetadataUpdated EventType = "AccountMetadataUpdated"

// MetadataUpdate asks to replace an account's metadata whole (an empty map
// clears it). It is also the payload of AccountMetadataUpdated.
type MetadataUpdate struct {
	Account  string            `json:"account"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Validate checks the request's shape.
func (u *MetadataUpdate) Validate() error {
	if err := ValidateID("account", u.Account); err != nil {
		return err
	}
	return ValidateMetadata(u.Metadata)
}

// decideMetadata replaces an account's metadata: its owner's right, or an
// admin's. The issuer account has no metadata to change.
func (s *State) decideMetadata(cmd Command, now time.Time) Decision {
	u := *cmd.Metadata
	if err := u.Validate(); err != nil {
		return Decision{Outcome: Rejected, Err: asCoded(err)}
	}
	acc, ok := s.accounts[u.Account]
	if !ok {
		return Decision{Outcome: Rejected, Err: reject(CodeAccountNotFound, "account %s does not exist", u.Account)}
	}
	if !cmd.Actor.mayAct(acc.owner) {
		return Decision{Outcome: Rejected, Err: reject(CodeForbidden, "a token for %q may change only the metadata of accounts it owns", cmd.Actor.Subject)}
	}
	if len(u.Metadata) == 0 {
		u.Metadata = nil
	}
	ev := s.newEvent(EventAccountMetadataUpdated, cmd.Ref, now)
	ev.Metadata = &u
	s.mustApply(ev)
	return Decision{Outcome: Updated, Event: ev}
}

// AccountMetadataUpdated checks that the account exists. The state keeps
// no metadata: the account's fingerprint stays its opening's, so opening
// it again with the original body still answers "existed".
func (h stateApplier) AccountMetadataUpdated(ev *Event, u *MetadataUpdate) error {
	if _, ok := h.s.accounts[u.Account]; !ok {
		return fmt.Errorf("event %d updates the metadata of unknown account %s: %w", ev.Seq, u.Account, ErrInconsistent)
	}
	return nil
}

func (payloadRules) AccountMetadataUpdated(_ *Event, u *MetadataUpdate) error { return u.Validate() }
