package commands

import (
	"encoding/json"
	"fmt"

	"github.com/nats-ledger/ledger/domain"
)

// WireVersion is the version of the command and reply messages.
const WireVersion = 1

// MaxItemsPerCommand bounds the requests one command message may carry, and
// so the work and memory of deciding one message.
const MaxItemsPerCommand = 10_000

// Envelope is one command message: one or more requests from one API
// instance, decided in order. ID is unique per message and doubles as its
// Nats-Msg-Id; Reply is the subject to send the results to (empty when no
// one waits).
type Envelope struct {
	Version int    `json:"v"`
	ID      string `json:"id"`
	Reply   string `json:"reply,omitempty"`
	// Atomic asks for all of Items (transfers only) to be posted, or none.
	Atomic bool   `json:"atomic,omitempty"`
	Items  []Item `json:"items"`
	// Groups, when set, are the item counts of the requests coalesced into
	// this envelope, in order; the reply is split along them. Informative
	// only: the processor answers item by item either way.
	Groups []int `json:"groups,omitempty"`
}

// Item is one request, as a command message carries it: a domain.Command
// without its Ref (the processor sets that from the message's stream
// sequence). Actor is the authenticated principal the API vouches for;
// the commands stream is inside the trust boundary (see
// docs/security.md).
type Item = domain.Command

// Outcome names what became of a request.
type Outcome string

// The outcomes a Result reports.
const (
	OutcomeCreated  Outcome = "created"  // asset or account created
	OutcomeExisted  Outcome = "existed"  // an identical one already existed
	OutcomePosted   Outcome = "posted"   // transfer posted
	OutcomeReplayed Outcome = "replayed" // transfer id already posted with this body
	OutcomeRejected Outcome = "rejected"
	OutcomeUpdated  Outcome = "updated" // an account's metadata replaced
)

// Result is the processor's answer to one Item.
type Result struct {
	Outcome Outcome       `json:"outcome"`
	Code    domain.Code   `json:"code,omitempty"`
	Detail  string        `json:"detail,omitempty"`
	Seq     uint64        `json:"seq,omitempty"` // the event's sequence, or the original's for a replay
	Event   *domain.Event `json:"event,omitempty"`
}

// Reply carries the results of one Envelope, in item order.
type Reply struct {
	ID      string   `json:"id"`
	Results []Result `json:"results"`
}

// DecodeEnvelope parses and bounds a command message: binary
// (EncodeEnvelope, wirebin.go), or the JSON of version 1 that an earlier
// version stored, told apart by the first byte.
func DecodeEnvelope(data []byte) (*Envelope, error) {
	var env *Envelope
	switch {
	case len(data) > 0 && data[0] == EnvelopeBinaryVersion:
		var err error
		if env, err = decodeBinaryEnvelope(data); err != nil {
			return nil, err
		}
	default:
		env = new(Envelope)
		if err := json.Unmarshal(data, env); err != nil {
			return nil, fmt.Errorf("decode command: %w", err)
		}
		if env.Version != WireVersion {
			return nil, fmt.Errorf("command version %d: unsupported", env.Version)
		}
	}
	if len(env.Items) == 0 || len(env.Items) > MaxItemsPerCommand {
		return nil, fmt.Errorf("command with %d items: must be 1 to %d", len(env.Items), MaxItemsPerCommand)
	}
	return env, nil
}

// CommandAt is it as the processor decides it: named by ref.
func CommandAt(it Item, ref domain.CommandRef) domain.Command {
	it.Ref = ref
	return it
}

// ResultOf is the answer to one decision.
func ResultOf(d domain.Decision) Result {
	r := Result{Event: d.Event}
	if d.Event != nil {
		r.Seq = d.Event.Seq
	}
	switch d.Outcome {
	case domain.Created:
		r.Outcome = OutcomeCreated
	case domain.Existed:
		r.Outcome = OutcomeExisted
	case domain.Posted:
		r.Outcome = OutcomePosted
	case domain.Replayed:
		r.Outcome, r.Seq = OutcomeReplayed, d.ReplayOf
	case domain.Updated:
		r.Outcome = OutcomeUpdated
	default:
		r.Outcome = OutcomeRejected
		r.Code, r.Detail = d.Err.Code(), d.Err.Error()
	}
	return r
}
