package audit

import (
	"errors"
	"fmt"
	"hash/maphash"

	"github.com/nats-ledger/ledger/domain"
)

// link is how a stored line sits in the hash chain.
type link uint8

const (
	// linkOK: the line's hash covers its bytes and chains to the line
	// before it.
	linkOK link = iota
	// linkElsewhere: the line is intact (its hash covers its bytes after
	// its own prev_hash) but its prev_hash is not the hash of the line
	// before it: an event was removed, inserted or moved here.
	linkElsewhere
	// linkAltered: the stored hash does not cover the line's bytes: the
	// event or its hash was changed after it was written.
	linkAltered
	// linkUnreadable: the line has no well-formed hash suffix.
	linkUnreadable
)

// lineResult is what a worker learns of one line without knowing the
// ledger's state.
type lineResult struct {
	ev   *domain.Event // in buf when the line is canonical
	buf  domain.EventBuffer
	nums numbers     // a posting's numbers, parsed ahead of the books
	hash domain.Hash // the stored hash; zero when unreadable
	link link
	// posting: the line is a TransferPosted that the posting reader took
	// (domain.Line.Posting): canonical, its schema and payload rules
	// checked, nums set from its literals; ev is built all the same.
	posting   bool
	decodeErr error // the line does not decode as an event
	schemaErr error // it decodes but breaks its type's schema
	canonErr  error // it decodes but is not its event's canonical encoding
	canon     []byte
}

// checkLine verifies one line against the stored hash of the line before
// it and decodes it in one pass (domain.Line: Prepare is VerifyLine, View
// is DecodeEvent without reading the line again), then checks its schema.
// A line that fails verification is decoded on its own
// (domain.DecodeEvent), to say what else is wrong with it. It uses only
// the line itself, so lines are checked on every core at once. r may hold
// an earlier line's result: everything is set anew. sum, when not nil, is
// the digest of the line's hash input after prev, computed by the caller
// (two lines at a time, checkLines); nil hashes the line here.
//
// The event's strings are views of the line's bytes (see Chunk.Lines),
// valid until the chunk is consumed, when the pipeline may reuse both r
// and the bytes: what is kept longer is copied (Books clones what it
// keeps, engine.find what a finding names).
func checkLine(line []byte, prev domain.Hash, r *lineResult, seeds *[2]maphash.Seed, sum *domain.Hash) {
	// Prepare returns the stored hash whenever the line has a well-formed
	// one, as domain.StoredHash reads it.
	var l domain.Line
	var err error
	r.posting = false
	if sum != nil {
		r.hash, err = l.PrepareHashed(line, prev, *sum)
	} else {
		r.hash, err = l.Prepare(line, prev)
	}
	if err == nil {
		r.ev, r.decodeErr = l.View(&r.buf)
		if pn, ok := l.Posting(); ok && fastNumbers {
			// The posting reader checked its schema and canonical form as
			// it read it (domain.Line.Posting).
			r.schemaErr, r.canonErr, r.link, r.posting = nil, nil, linkOK, true
			r.nums.posting(&pn, r.ev.Transfer, seeds)
			return
		}
	} else {
		r.ev, r.decodeErr = domain.DecodeEvent(line)
	}
	r.schemaErr, r.nums = nil, numbers{}
	if r.decodeErr == nil {
		r.schemaErr = checkSchema(r.ev)
		if r.schemaErr == nil && r.ev.Type == domain.EventTransferPosted {
			r.nums.parse(r.ev.Transfer, seeds)
		}
	}
	r.canonErr = nil
	switch {
	case r.decodeErr != nil || r.hash == (domain.Hash{}):
		// Not an event, or no well-formed hash suffix: the schema and hash
		// checks report it.
	case err == nil:
		r.canon, r.canonErr = l.Canonical(r.ev, r.canon)
	default:
		r.canon, r.canonErr = domain.CheckCanonical(line, r.ev, r.canon)
	}
	switch {
	case err == nil:
		r.link = linkOK
	case errors.Is(err, domain.ErrHashMismatch):
		r.link = linkAltered
		if r.ev != nil {
			// Intact but chained after another event?
			if own, perr := domain.ParseHash(r.ev.PrevHash); perr == nil && own != prev {
				if _, err := domain.VerifyLine(line, own); err == nil {
					r.link = linkElsewhere
				}
			}
		}
	case errors.Is(err, domain.ErrChainBroken):
		// The hash was computed after prev, but the line names another
		// predecessor: not written by the ledger.
		r.link = linkAltered
	case r.hash != (domain.Hash{}) && r.decodeErr != nil:
		// The hash covers the bytes, but they are not an event: the schema
		// check reports it.
		r.link = linkOK
	default:
		r.link = linkUnreadable
	}
}

// checkSchema checks what domain.DecodeEvent leaves to the reader: the
// version, the type and its payload, and each payload's own rules.
func checkSchema(ev *domain.Event) error {
	if ev.Version != domain.SchemaVersion {
		return fmt.Errorf("schema version %d, want %d", ev.Version, domain.SchemaVersion)
	}
	if ev.Seq == 0 {
		return errors.New("sequence 0")
	}
	if ev.Time.IsZero() {
		return errors.New("no time")
	}
	if n := ev.Payloads(); n != 1 {
		return fmt.Errorf("%d payloads, want exactly one", n)
	}
	return ev.ValidatePayload()
}
