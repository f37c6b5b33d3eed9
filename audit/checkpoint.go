package audit

import (
	"cmp"
	"crypto/ed25519"
	"fmt"
	"slices"

	"github.com/nats-ledger/ledger/domain"
)

// maxCheckpoints bounds the checkpoints one audit takes: each is a flag
// on a command line, and a few, spread over the history, suffice.
const maxCheckpoints = 10_000

// checkpoints are the points the journal must pass through, by sequence,
// and how far the audit has got through them.
type checkpoints struct {
	list   []domain.Checkpoint
	next   int // the first not yet reached
	passed int
	signed int
}

// newCheckpoints checks the list and every signature against pub (when
// the list holds a signature, pub is required). A signature that does
// not verify is a finding, not an error: the auditor learns which
// checkpoint the ledger did not sign.
func newCheckpoints(list []domain.Checkpoint, pub ed25519.PublicKey, find report) (*checkpoints, error) {
	if len(list) > maxCheckpoints {
		return nil, fmt.Errorf("audit: %d checkpoints, at most %d", len(list), maxCheckpoints)
	}
	c := &checkpoints{list: slices.Clone(list)}
	slices.SortStableFunc(c.list, func(a, b domain.Checkpoint) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, cp := range c.list {
		switch {
		case pub == nil && len(cp.Signature) > 0:
			return nil, fmt.Errorf("audit: checkpoint %d is signed: give the ledger's public key to verify it", cp.Seq)
		case pub == nil:
		case len(cp.Signature) == 0:
			return nil, fmt.Errorf("audit: checkpoint %d has no signature, and a public key was given: give SEQ:HASH:SIGNATURE", cp.Seq)
		case cp.Verify(pub) != nil:
			find(Finding{Check: CheckCheckpoint, Seq: cp.Seq, Detail: fmt.Sprintf(
				"the signature of checkpoint %s does not verify against the public key: the ledger did not sign it", cp.String())})
		default:
			c.signed++
		}
	}
	return c, nil
}

// event checks the line at seq with the given stored hash against the
// checkpoints at or before it.
func (c *checkpoints) event(seq uint64, h domain.Hash, find report) {
	for c.next < len(c.list) && c.list[c.next].Seq <= seq {
		cp := c.list[c.next]
		c.next++
		switch {
		case cp.Seq < seq:
			find(Finding{Check: CheckCheckpoint, Seq: cp.Seq, Detail: fmt.Sprintf(
				"the journal has no event %d, where checkpoint %d:%s was taken", cp.Seq, cp.Seq, cp.Hash)})
		case cp.Hash != h:
			find(Finding{Check: CheckCheckpoint, Seq: seq, Detail: fmt.Sprintf(
				"the hash of event %d is %s, checkpoint %d says %s: the journal was rewritten at or before event %d since the checkpoint was taken",
				seq, h, seq, cp.Hash, seq)})
		default:
			c.passed++
		}
	}
}

// skipTo passes over the checkpoints before first, the first sequence of
// an export of a range: they cannot be checked against it.
func (c *checkpoints) skipTo(first uint64, find report) {
	for c.next < len(c.list) && c.list[c.next].Seq < first {
		cp := c.list[c.next]
		c.next++
		find(Finding{Check: CheckCheckpoint, Seq: cp.Seq, Detail: fmt.Sprintf(
			"checkpoint %d is before the export's first event %d: export from sequence %d or earlier to check it", cp.Seq, first, cp.Seq)})
	}
}

// finish reports the checkpoints past the journal's end, last.
func (c *checkpoints) finish(last uint64, find report) string {
	for ; c.next < len(c.list); c.next++ {
		cp := c.list[c.next]
		find(Finding{Check: CheckCheckpoint, Seq: cp.Seq, Detail: fmt.Sprintf(
			"the journal ends at %d, before checkpoint %d:%s: it was truncated", last, cp.Seq, cp.Hash)})
	}
	return fmt.Sprintf("passes through %d of %d checkpoints (%d signatures verified)", c.passed, len(c.list), c.signed)
}
