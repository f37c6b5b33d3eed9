package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"unsafe"

	"github.com/nats-ledger/ledger/audit/internal/idhash"
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
// ledger's state: a record of 160 bytes (two and a half cache lines) that
// the in-order part reads line after line. A posting the posting reader
// took, in a run that needs no events (compact), is this record alone:
// its sequence, command and time, its keys and numbers, and x nil; the
// books read its strings from the line only for a finding (lazyEvent).
// Every other line has its event and what is wrong with it in x, kept
// apart (room), and its hash is in the batch's hashes.
type lineResult struct {
	nums numbers // a posting's numbers, parsed ahead of the books
	nsec int32   // the event's time: sec, nsec as domain.PostingView's
	link link
	// posting: the line is a TransferPosted that the posting reader took
	// (domain.Line.Posting): canonical, its schema and payload rules
	// checked, nums set from its literals.
	posting bool
	// event: the line is an event (x.ev, or a compact posting's); seq,
	// cmd and the time are its.
	event bool
	seq   uint64
	cmd   uint64 // the command message it answers (CommandRef.Seq)
	sec   int64
	x     *lineEvent // nil for a compact posting
}

// lineEvent is a line's event and what is wrong with it: every line's
// but a compact posting's.
type lineEvent struct {
	ev        *domain.Event // in buf when the line is canonical
	decodeErr error         // the line does not decode as an event
	schemaErr error         // it decodes but breaks its type's schema
	canonErr  error         // it decodes but is not its event's canonical encoding
	canon     []byte
	buf       domain.EventBuffer
}

// at is the line's time, in the books' compact form.
func (r *lineResult) at() instant { return instant{r.sec, r.nsec} }

// schemaOK reports whether the line is an event that passed checkSchema.
func (r *lineResult) schemaOK() bool { return r.event && (r.x == nil || r.x.schemaErr == nil) }

// checker is a worker's state while it checks a chunk's lines.
type checker struct {
	seeds *[2]maphash.Seed
	// hashSeeds are seeds, read out for idhash (keyInto, Sum2x3).
	hashSeeds [2]idhash.Seed
	// compact: a posting the posting reader took needs no event (no read
	// model to compare, no OnChunk), only its record.
	compact bool
	room    *room
	// asset and assetKey are the last posting's asset code, packed
	// (packCode: a copy, in three words, not a view of a line) and its
	// key: most postings name the same, and comparing the code costs less
	// than hashing it.
	asset    packedCode
	assetKey idKey
	view     domain.PostingView // the line's, when it is a posting
	// line is the line being checked, kept from line to line so that it
	// carries what the next may reuse (what the posting reader keeps of
	// a posting: its sequences, its time's second, its asset and
	// reference; see domain.Line.PostingView); nothing of it is read
	// after checkLine.
	line domain.Line
	// ahead is the next piece of the chunk's body to be cut, prefetched
	// as this one is checked (batch.cutAndCheck); empty for a chunk cut
	// before it is checked.
	ahead lookahead
}

// assetKeyOf sets *k to keyOf(c.seeds, code), from the last posting's
// when it is the same code; seeds are c.hashSeedsOf().
//
// The code is compared packed, in three words, not as a string: a string
// compare of a length not known when compiling is a call of
// runtime.memequal (and memeqbody), which took more than the rest of
// this function, and the last code was a view of the first line of the
// chunk that named it. A code longer than packCode takes is hashed
// every time.
func (c *checker) assetKeyOf(k *idKey, code string, seeds *[2]idhash.Seed) {
	if w, ok := packCode(code); !ok || w != c.asset {
		c.asset = w // the zero packedCode, that no code packs to, when !ok
		keyInto(&c.assetKey, seeds, code)
	}
	k[0], k[1] = c.assetKey[0], c.assetKey[1]
}

// makeChecker returns a checker of lines with the run's seeds, its room
// for records, and whether postings the posting reader takes are compact.
func makeChecker(seeds *[2]maphash.Seed, compact bool, r *room) checker {
	return checker{seeds: seeds, hashSeeds: [2]idhash.Seed{idhash.Of(seeds[0]), idhash.Of(seeds[1])}, compact: compact, room: r}
}

// hashSeedsOf returns c.seeds read out for idhash.
func (c *checker) hashSeedsOf() *[2]idhash.Seed { return &c.hashSeeds }

// packedCode is a string of 1 to 16 bytes in three words, one-to-one:
// its length, and its bytes in two words (packCode). The zero value is
// no string's.
type packedCode struct{ n, lo, hi uint64 }

// maxPackedCode is the longest string packCode takes: an asset code's
// longest (domain's maxAssetCodeLen), which the posting reader checks.
const maxPackedCode = 16

// packCode packs s, ok false when it is empty or longer than
// maxPackedCode. Every byte of s is in lo or hi, at a place its length
// fixes, so two strings of one length pack alike only when they are
// equal: 8 to 16 bytes are the first 8 and the last 8 (overlapping);
// 4 to 7, the first 4 and the last 4; 1 to 3, the first, the middle and
// the last byte. Only s's own bytes are read.
func packCode(s string) (packedCode, bool) {
	n := len(s)
	if uint(n-1) >= maxPackedCode {
		return packedCode{}, false
	}
	b := unsafe.Slice(unsafe.StringData(s), n)
	le := binary.LittleEndian
	switch {
	case n >= 8:
		return packedCode{uint64(n), le.Uint64(b[:8]), le.Uint64(b[n-8:])}, true
	case n >= 4:
		return packedCode{uint64(n), uint64(le.Uint32(b[:4])), uint64(le.Uint32(b[n-4:]))}, true
	}
	return packedCode{uint64(n), uint64(b[0]) | uint64(b[n/2])<<8 | uint64(b[n-1])<<16, 0}, true
}

// checkLine verifies one line against the stored hash of the line before
// it and decodes it in one pass (domain.Line: Prepare is VerifyLine, View
// is DecodeEvent without reading the line again), then checks its schema,
// and returns the line's stored hash (zero when it has none). A line that
// fails verification is decoded on its own (domain.DecodeEvent), to say
// what else is wrong with it. It uses only the line itself, so lines are
// checked on every core at once. r may hold an earlier line's result:
// everything is set anew. sum, when not nil, is the line sealed and the
// digest of its hash input after prev, computed by the caller (two lines
// at a time, checkLines); nil hashes the line here.
//
// The event's strings are views of the line's bytes (see Chunk.Lines),
// valid until the chunk is consumed, when the pipeline may reuse both r
// and the bytes: what is kept longer is copied (Books clones what it
// keeps, engine.find what a finding names).
func checkLine(c *checker, line []byte, prev domain.Hash, r *lineResult, sum *lineSum) (hash domain.Hash) {
	// Prepare returns the stored hash whenever the line has a well-formed
	// one, as domain.StoredHash reads it.
	l := &c.line
	var err error
	if sum != nil {
		hash, err = l.PrepareSealed(&sum.seal, prev, sum.digest)
	} else {
		hash, err = l.Prepare(line, prev)
	}
	if err == nil && c.compact && fastNumbers {
		if pv := &c.view; l.PostingView(pv) {
			// Every field set once, in place.
			r.link, r.posting, r.event, r.x = linkOK, true, true, nil
			r.seq, r.cmd, r.sec, r.nsec = pv.Seq, pv.Command.Seq, pv.Unix, pv.Nanos
			r.nums.posting(&pv.Numbers, pv.ID, pv.Asset, pv.From, pv.To, c)
			return hash
		}
	}
	x := c.room.event()
	*r = lineResult{x: x}
	x.schemaErr, x.canonErr = nil, nil
	if err == nil {
		x.ev, x.decodeErr = l.View(&x.buf)
		if pn, ok := l.Posting(); ok && fastNumbers {
			// The posting reader checked its schema and canonical form as
			// it read it (domain.Line.Posting).
			r.link, r.posting = linkOK, true
			r.setEvent(x.ev)
			p := x.ev.Transfer
			r.nums.posting(&pn, p.ID, p.Asset, p.From, p.To, c)
			return hash
		}
	} else {
		x.ev, x.decodeErr = domain.DecodeEvent(line)
	}
	r.checkEvent(c, l, line, hash, err)
	r.link = linkOf(line, prev, hash, err, x)
	return hash
}

// setEvent sets the record's sequence, command and time from ev.
func (r *lineResult) setEvent(ev *domain.Event) {
	at := instantOf(ev.Time)
	r.event, r.seq, r.cmd, r.sec, r.nsec = true, ev.Seq, ev.Command.Seq, at.sec, at.nsec
}

// checkEvent checks a decoded line's schema and canonical form and
// parses a posting's numbers; l is the line as prepared, err its
// preparation's error.
func (r *lineResult) checkEvent(c *checker, l *domain.Line, line []byte, hash domain.Hash, err error) {
	x := r.x
	if x.decodeErr == nil {
		r.setEvent(x.ev)
		x.schemaErr = checkSchema(x.ev)
		if x.schemaErr == nil && x.ev.Type == domain.EventTransferPosted {
			r.nums.parse(x.ev.Transfer, c.seeds)
		}
	}
	switch {
	case x.decodeErr != nil || hash == (domain.Hash{}):
		// Not an event, or no well-formed hash suffix: the schema and hash
		// checks report it.
	case err == nil:
		x.canon, x.canonErr = l.Canonical(x.ev, x.canon)
	default:
		x.canon, x.canonErr = domain.CheckCanonical(line, x.ev, x.canon)
	}
}

// linkOf is how a line that is not a posting the posting reader took
// sits in the chain, given its preparation's error.
func linkOf(line []byte, prev, hash domain.Hash, err error, x *lineEvent) link {
	switch {
	case err == nil:
		return linkOK
	case errors.Is(err, domain.ErrHashMismatch):
		if x.ev != nil {
			// Intact but chained after another event?
			if own, perr := domain.ParseHash(x.ev.PrevHash); perr == nil && own != prev {
				if _, err := domain.VerifyLine(line, own); err == nil {
					return linkElsewhere
				}
			}
		}
		return linkAltered
	case errors.Is(err, domain.ErrChainBroken):
		// The hash was computed after prev, but the line names another
		// predecessor: not written by the ledger.
		return linkAltered
	case hash != (domain.Hash{}) && x.decodeErr != nil:
		// The hash covers the bytes, but they are not an event: the schema
		// check reports it.
		return linkOK
	}
	return linkUnreadable
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
