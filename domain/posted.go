package domain

import "math"

// postedIDs remembers every posted transfer id: its idKey, the ledger
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

// presize makes room for n ids, spread as the shards' shares spread them.
func (p *postedIDs) presize(n int) {
	var share [postedShards]int
	for _, sh := range postedShardOf {
		share[sh]++
	}
	for i := range p.shards {
		if p.shards[i] == nil {
			p.shards[i] = make(map[idKey]uint64, n/len(postedShardOf)*share[i])
		}
	}
}

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
