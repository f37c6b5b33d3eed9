package domain

import (
	"fmt"
	"time"
)

// MaxAtomicBatch bounds an atomic batch: the undo log grows with it, and a
// batch must fit in one journal append.
const MaxAtomicBatch = 1_000

// MaxAtomicRecordBytes bounds the journal record that holds one atomic
// batch's events (the processor writes them as one record, so no reader
// sees part of one): under the journal's largest message (8 MiB) by more
// than the slack a record may overrun its bound by.
const MaxAtomicRecordBytes = 7 << 20

// postedLineBound is an upper bound on the canonical line of the
// TransferPosted event of t: its strings escaped at the worst (6 bytes a
// byte: encoding/json writes '<', '>' and '&' as \u003c), the accounts
// twice (transfer and entries), amounts and balances at their longest, and
// the fixed fields, numbers, time and hashes; a conversion's (its rate,
// to_asset, to_amount and two more entries) fits within it too.
func postedLineBound(t *Transfer) int {
	const fixed, number = 1536, 48
	n := len(t.ID) + 2*len(t.From) + 2*len(t.To) + len(t.Asset) + len(t.Reference)
	for k, v := range t.Metadata {
		n += len(k) + len(v) + 6
	}
	return fixed + 6*n + 9*number
}

// DecideAtomic decides transfers as one unit. When every one is posted or
// replayed, it returns their decisions like Decide would, in order. When any
// is rejected, the state is rolled back to where it was, nothing is to be
// journaled, the rejected items keep their reasons and every other item is
// rejected with batch_aborted. Only transfers may be batched.
func (s *State) DecideAtomic(cmds []Command, now time.Time) []Decision {
	ds := make([]Decision, len(cmds))
	if len(cmds) > MaxAtomicBatch {
		for i := range ds {
			ds[i] = Decision{Outcome: Rejected, Err: reject(CodeValidationFailed, "an atomic batch holds at most %d transfers", MaxAtomicBatch)}
		}
		return ds
	}
	bound := 0
	for _, c := range cmds {
		if c.Transfer != nil {
			bound += postedLineBound(c.Transfer)
		}
	}
	if bound > MaxAtomicRecordBytes {
		for i := range ds {
			ds[i] = Decision{Outcome: Rejected, Err: reject(CodeValidationFailed,
				"an atomic batch must fit one journal record of %d MiB, and these transfers' ids, references and metadata may take up to %d bytes: send fewer, or with less text",
				MaxAtomicRecordBytes>>20, bound)}
		}
		return ds
	}
	s.undo = &undoLog{seq: s.seq, lastCmd: s.lastCmd, postedLen: s.posted.mark()}
	failed := -1
	for i, c := range cmds {
		if c.Transfer == nil {
			ds[i] = Decision{Outcome: Rejected, Err: reject(CodeValidationFailed, "an atomic batch holds only transfers")}
		} else {
			ds[i] = s.Decide(c, now)
		}
		if ds[i].Outcome == Rejected && failed < 0 {
			failed = i
		}
	}
	undo := s.undo
	s.undo = nil
	if failed < 0 {
		return ds
	}
	undo.rollback(s)
	first := ds[failed].Err
	for i := range ds {
		if ds[i].Outcome == Rejected {
			ds[i].Event = nil
			continue
		}
		ds[i] = Decision{Outcome: Rejected, Err: reject(CodeBatchAborted,
			"not posted: item %d of the atomic batch was rejected (%s)", failed, first.Code())}
	}
	return ds
}

// undoLog records what an atomic batch changed, to put it back.
type undoLog struct {
	seq       uint64
	lastCmd   CommandRef
	balances  []balanceUndo
	posted    []idKey
	postedLen uint64  // the posted log's length before the batch
	holds     []idKey // holds placed by the batch
}

type balanceUndo struct {
	at  *Amount
	old Amount
}

func (u *undoLog) balance(at *Amount) {
	if u != nil {
		u.balances = append(u.balances, balanceUndo{at: at, old: *at})
	}
}

func (u *undoLog) post(key idKey) {
	if u != nil {
		u.posted = append(u.posted, key)
	}
}

func (u *undoLog) hold(key idKey) {
	if u != nil {
		u.holds = append(u.holds, key)
	}
}

func (u *undoLog) rollback(s *State) {
	for i := len(u.holds) - 1; i >= 0; i-- {
		s.holds.remove(u.holds[i])
	}
	for i := len(u.balances) - 1; i >= 0; i-- {
		*u.balances[i].at = u.balances[i].old
	}
	s.posted.rollback(u.posted, u.postedLen)
	s.seq, s.lastCmd = u.seq, u.lastCmd
}

// String describes the log, for debugging.
func (u *undoLog) String() string {
	return fmt.Sprintf("undo to seq %d: %d balances, %d ids", u.seq, len(u.balances), len(u.posted))
}
