package domain

import (
	"fmt"
	"strings"
	"time"
)

// EventCommandSkipped is the event of a command message that was decided
// without any other event: every item was answered without changing the
// ledger (a replay, an asset or account that already existed, a refusal
// that is not journaled), an atomic batch was rolled back, or the message
// could not be read. It makes every command message the processor has
// taken leave a trace in the journal, so an auditor can check that none
// was acknowledged and lost (docs/audit.md, "Commands").
const EventCommandSkipped EventType = "CommandSkipped"

// Reasons a command message is skipped.
const (
	// SkipUnchanged: every item was answered without changing the ledger.
	SkipUnchanged = "unchanged"
	// SkipBatchAborted: an atomic batch had a rejected item and was rolled
	// back whole.
	SkipBatchAborted = "batch_aborted"
	// SkipMalformed: the message could not be decoded; no item of it can
	// ever be decided.
	SkipMalformed = "malformed"
	// SkipLost: the message was no longer in the commands stream when its
	// turn came (deleted by hand), and the operator said to go on without
	// it.
	SkipLost = "lost"
)

// maxSkipDetail bounds the detail of a skipped command: it quotes a
// decoding error or a rejection, and one line of the journal must stay
// small whatever a malformed message held.
const maxSkipDetail = 512

// maxSkipItems is the most items a command message holds
// (commands.MaxItemsPerCommand, which domain cannot import).
const maxSkipItems = 10_000

// unread reports whether the reason is one for which the message's items
// are unknown: it was not decoded, or not there.
func (k *SkippedCommand) unread() bool { return k.Reason == SkipMalformed || k.Reason == SkipLost }

// SkippedCommand is the payload of CommandSkipped.
type SkippedCommand struct {
	// Items is the number of items the message held (0 when malformed or
	// lost).
	Items  int    `json:"items"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

// Validate checks a skipped command's payload.
func (k *SkippedCommand) Validate() error {
	switch {
	case k.Reason != SkipUnchanged && k.Reason != SkipBatchAborted && k.Reason != SkipMalformed && k.Reason != SkipLost:
		return &FieldError{Field: "reason", Reason: fmt.Sprintf("%q is not a reason a command is skipped for", k.Reason)}
	case k.Items < 0 || k.Items > maxSkipItems || k.unread() != (k.Items == 0):
		return &FieldError{Field: "items", Reason: fmt.Sprintf("%d items for reason %s", k.Items, k.Reason)}
	case len(k.Detail) > maxSkipDetail:
		return &FieldError{Field: "detail", Reason: fmt.Sprintf("longer than %d bytes", maxSkipDetail)}
	}
	return nil
}

// SkipRef is the command item a CommandSkipped event answers: the
// message's last item, so that every item of it reads as decided when the
// message is redelivered (State.Decided).
func SkipRef(seq uint64, items int) CommandRef {
	return CommandRef{Seq: seq, Item: max(items-1, 0)}
}

// Skip records that the command message at seq, holding items items, was
// decided without any other event, and returns the event to append. The
// detail is cut to a bounded length. Like Decide, it applies the event to
// the state at once.
func (s *State) Skip(seq uint64, items int, reason, detail string, now time.Time) *Event {
	// A detail may quote what a malformed message held: valid UTF-8
	// only, or the line would not be canonical (docs/journal-spec.md).
	detail = strings.ToValidUTF8(detail, "\uFFFD")
	if len(detail) > maxSkipDetail {
		detail = truncateUTF8(detail, maxSkipDetail)
	}
	ev := s.newEvent(EventCommandSkipped, SkipRef(seq, items), now)
	ev.Skip = &SkippedCommand{Items: items, Reason: reason, Detail: detail}
	s.mustApply(ev)
	return ev
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
