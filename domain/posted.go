package domain

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// postedIDs is one generation of the hot set of posted transfer ids
// (generations.go, hotset.go, ADR 0027).
//
// postedIDs remembers each posted transfer id it holds: its idKey, the ledger
// sequence of the posting and the fingerprint of the posted body. The
// sequence and fingerprint go to a dense log, in posting order; the maps
// hold only key and log position, so that a map slot takes 24 bytes, the
// layout where Go's maps waste least. About 60 bytes per id in all.
//
// The keys are spread over postedShards maps of deliberately unequal
// shares. A Go map grows by doubling, and with uniform keys all of one
// map's tables double at the same moment, so a single map's memory per id
// swings between about 35 and 56 bytes as it grows. Shards whose shares
// differ by factors spread evenly between 1 and 2 reach their doubling
// points at different times, which holds the whole near its average, about
// 44 bytes per id, at every size.
type postedIDs struct {
	shards [postedShards]map[idKey]uint64 // key -> position in log
	log    postedLog
}

// postedRef is what is remembered of a posted transfer id: where it was
// posted and a fingerprint of its body, to tell a replay from a
// conflicting reuse of the id.
type postedRef struct {
	seq uint64
	fp  fingerprint
}

const postedShards = 64

// postedShardOf maps the top 12 bits of an idKey to its shard. Shard i
// takes a share of the key space proportional to 2^(i/postedShards).
var postedShardOf = func() (t [1 << 12]uint8) {
	var weights [postedShards]float64
	sum := 0.0
	for i := range weights {
		weights[i] = math.Exp2(float64(i) / postedShards)
		sum += weights[i]
	}
	shard, upper := 0, weights[0]/sum
	for i := range t {
		for float64(i)+0.5 > upper*float64(len(t)) && shard < postedShards-1 {
			shard++
			upper += weights[shard] / sum
		}
		t[i] = uint8(shard)
	}
	return t
}()

func shardOf(k idKey) int { return int(postedShardOf[int(k[0])<<4|int(k[1]>>4)]) }

func (p *postedIDs) get(k idKey) (postedRef, bool) {
	i, ok := p.shards[shardOf(k)][k]
	if !ok {
		return postedRef{}, false
	}
	return p.log.at(i), true
}

// put remembers k as posted with ref. A key already there (a journal that
// posts an id twice, which Decide never writes) now means the new ref.
func (p *postedIDs) put(k idKey, ref postedRef) {
	m := &p.shards[shardOf(k)]
	if *m == nil {
		*m = make(map[idKey]uint64)
	}
	(*m)[k] = p.log.n
	p.log.add(ref)
}

// rollback forgets keys, which were the last ones put, and truncates the
// log to n entries.
func (p *postedIDs) rollback(keys []idKey, n uint64) {
	for _, k := range keys {
		delete(p.shards[shardOf(k)], k)
	}
	p.log.truncate(n)
}

// len returns the number of ids remembered.
func (p *postedIDs) len() int {
	n := 0
	for _, m := range p.shards {
		n += len(m)
	}
	return n
}

// postedLog is the postedRefs in posting order, in chunks that never move.
type postedLog struct {
	chunks [][]postedRef
	n      uint64
}

const postedLogChunkLen = 1 << 12 // 64 KiB per chunk

func (l *postedLog) add(r postedRef) {
	if l.n%postedLogChunkLen == 0 && l.n/postedLogChunkLen == uint64(len(l.chunks)) {
		l.chunks = append(l.chunks, make([]postedRef, postedLogChunkLen))
	}
	l.chunks[l.n/postedLogChunkLen][l.n%postedLogChunkLen] = r
	l.n++
}

func (l *postedLog) at(i uint64) postedRef {
	return l.chunks[i/postedLogChunkLen][i%postedLogChunkLen]
}

// truncate drops the entries from n on; their chunks are kept for reuse.
func (l *postedLog) truncate(n uint64) {
	if n < l.n {
		l.n = n
	}
}

// loadWorkers is how many goroutines fill the maps when a snapshot is
// loaded: filling 10M ids into the maps was 1.8 s of a 5.6 s restart on one
// core (docs/BENCHMARKS.md), and the shards are independent.
const loadWorkers = 2

// load remembers the n ids of a snapshot, raw being n records of
// postedBytes (key, sequence, fingerprint; big-endian) sorted by key, into
// an empty postedIDs. Log positions follow the records' order, as puts
// one by one would make them. It refuses keys out of order and sequences
// outside 1..maxSeq (the first bad record's reason). Sorted keys fall into
// the shards in shard order, so each worker fills whole shards of its own.
func (p *postedIDs) load(raw []byte, n int, maxSeq uint64) error {
	key := func(i int) idKey { return idKey(raw[i*postedBytes : i*postedBytes+16]) }
	// Check every record first, in order, and fill the log: the workers
	// below rely on the order (each range's shards are its own only if the
	// keys are sorted), so nothing reaches the maps before it is proven.
	if err := checkPostedRecords(raw, n, maxSeq); err != nil {
		return err
	}
	for i := range n {
		rec := raw[i*postedBytes:]
		p.log.add(postedRef{seq: binary.BigEndian.Uint64(rec[16:]), fp: fingerprint(binary.BigEndian.Uint64(rec[24:]))})
	}
	// Cut the records into ranges of whole shards, about equal in size.
	cuts := []int{0}
	for w := 1; w < loadWorkers; w++ {
		i := max(n*w/loadWorkers, cuts[len(cuts)-1])
		for i < n && i > 0 && shardOf(key(i)) == shardOf(key(i-1)) {
			i++
		}
		cuts = append(cuts, i)
	}
	cuts = append(cuts, n)
	var share [postedShards]int
	for _, sh := range postedShardOf {
		share[sh]++
	}
	var wg sync.WaitGroup
	for w := range loadWorkers {
		from, to := cuts[w], cuts[w+1]
		if from == to {
			continue
		}
		wg.Go(func() {
			// The keys are sorted, so the shards from the first key's to
			// the last's are this range's alone.
			for sh := shardOf(key(from)); sh <= shardOf(key(to-1)); sh++ {
				p.shards[sh] = make(map[idKey]uint64, n/len(postedShardOf)*share[sh])
			}
			for i := from; i < to; i++ {
				k := key(i)
				p.shards[shardOf(k)][k] = uint64(i)
			}
		})
	}
	wg.Wait()
	for i := range p.shards {
		if p.shards[i] == nil {
			p.shards[i] = make(map[idKey]uint64)
		}
	}
	return nil
}

// checkPostedRecords refuses n records of postedBytes (a snapshot's
// posted ids) whose keys are not in strictly increasing order or whose
// sequences are outside 1..maxSeq, with the first bad record's reason.
func checkPostedRecords(raw []byte, n int, maxSeq uint64) error {
	if len(raw) != n*postedBytes {
		return fmt.Errorf("%d posted ids in %d bytes", n, len(raw))
	}
	for i := range n {
		rec := raw[i*postedBytes:]
		if i > 0 && bytes.Compare(raw[(i-1)*postedBytes:(i-1)*postedBytes+16], rec[:16]) >= 0 {
			return fmt.Errorf("posted ids out of order")
		}
		if seq := binary.BigEndian.Uint64(rec[16:]); seq == 0 || seq > maxSeq {
			return fmt.Errorf("posted id at sequence %d of %d", seq, maxSeq)
		}
	}
	return nil
}

// each calls fn with every id of p, in no order. It is how the hot set's
// ids are walked (an eviction's write, a snapshot image), and counts the
// ids it visits in walked, for the test that an eviction's part on the
// state's own goroutine walks none.
func (p *postedIDs) each(fn func(k idKey, ref postedRef)) {
	n := 0
	for _, m := range p.shards {
		for k, pos := range m {
			fn(k, p.log.at(pos))
		}
		n += len(m)
	}
	idsWalked.Add(uint64(n))
}

// idsWalked counts the ids that postedIDs.each visited, in the whole
// process (export_test.go).
var idsWalked atomic.Uint64
