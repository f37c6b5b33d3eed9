package commands

import "github.com/nats-ledger/ledger/domain"

// What the processor publishes of its progress, read by other goroutines
// (the API's status, metrics, the snapshotter) without locks.

// Seq returns the last ledger sequence the processor has appended or read.
func (p *Processor) Seq() uint64 { return p.seq.Load() }

// Head is a point of the journal: an event's sequence and its hash.
type Head struct {
	Seq  uint64
	Hash domain.Hash
}

// Head returns the last event the processor has appended or read, with
// its hash (zero before the first). The two belong together: the hash is
// event Seq's.
func (p *Processor) Head() Head {
	if h := p.head.Load(); h != nil {
		return *h
	}
	return Head{}
}

// setHead publishes the journal's end after an append or a rebuild, and
// the number of posted ids the state holds in memory then.
func (p *Processor) setHead(seq uint64, h domain.Hash) {
	p.head.Store(&Head{Seq: seq, Hash: h})
	p.seq.Store(seq)
	p.hotIDs.Store(int64(p.state.HotIDs()))
}

// HotIDs returns the number of posted ids the processor held in memory
// at its last append or rebuild: at most about Config.HotIDs when an
// archive takes the rest (ADR 0027).
func (p *Processor) HotIDs() int { return int(p.hotIDs.Load()) }

// Decided returns the stream sequence of the last command message whose
// items are decided and journaled (0 until the first batch after start).
func (p *Processor) Decided() uint64 { return p.decided.Load() }
