package projections

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/nats-ledger/ledger/domain"
)

// The key layout of the read model (docs/adr/0014-read-model-on-pebble.md).
// Every key starts with one byte naming its family. Sequences are 8 bytes
// big-endian, so a family's keys for one account or asset sort by
// sequence and a reverse scan is newest first; strings inside a key are
// escaped (see appendEscaped) so that no string is a prefix of another
// and their order is kept. A value is the row (codec.go) or, for an index,
// what a listing needs to skip a row without reading it.
const (
	famMeta      = 'm' // m<name>: schema version, checkpoint
	famAsset     = 'a' // a<code> -> asset row
	famAccount   = 'c' // c<id><asset> -> account row (one per id; world: one per asset)
	famAccountBy = 'C' // C<asset><id> -> (empty): accounts by asset and id, for the audit
	famTransfer  = 't' // t<seq> -> transfer row, posted or rejected
	famID        = 'i' // i<id, raw> -> seq of the id's row
	famFrom      = 'f' // f<from><seq> -> status byte + asset: rejections by sender
	famTo        = 'o' // o<to><seq> -> status byte + asset: rejections by recipient
	famByAsset   = 's' // s<asset><seq> -> status byte: listings by asset
	famRejected  = 'r' // r<seq> -> (empty): rejected transfers
	famEntry     = 'e' // e<account><asset><seq><side> -> balance after: posted entries, postings by account
	famClock     = 'k' // k<time> -> first seq at that time
	famFXEntry   = 'x' // x<asset><seq><side> -> balance after: the FX account's legs of conversions
	famRate      = 'R' // R<base><quote> -> rate row: the rate table
	famOwner     = 'O' // O<owner><id> -> asset: accounts by owner, for listings
	famReversal  = 'v' // v<original id><seq> -> reversal id, amount: a transfer's reversals (ADR 0023)
	famTxn       = 'n' // n<seq> -> transaction row (JSON): a multi-leg transaction, posted or rejected (ADR 0023)
	famTxnID     = 'N' // N<id> -> seq of the id's transaction row
)

var (
	keySchema     = []byte{famMeta, 's'}
	keyCheckpoint = []byte{famMeta, 'c'}
)

// Entry sides inside an entry key: a transfer from an account to itself
// would have both at one sequence.
const (
	sideDebit  = 0
	sideCredit = 1
)

// Status bytes in rows and index values.
const (
	statusPosted   byte = 'p'
	statusRejected byte = 'r'
)

// appendEscaped appends s so that the encoding is order-preserving and
// prefix-free: 0x00 becomes 0x00 0xFF and the string ends with 0x00 0x01.
func appendEscaped(b []byte, s string) []byte {
	for {
		i := indexZero(s)
		if i < 0 {
			break
		}
		b = append(b, s[:i]...)
		b = append(b, 0x00, 0xFF)
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, 0x00, 0x01)
}

func indexZero(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
}

// readEscaped reads an escaped string from the start of b and returns it
// with the rest of b; ok is false when b holds no complete string.
func readEscaped(b []byte) (s string, rest []byte, ok bool) {
	var out []byte
	for {
		i := bytes.IndexByte(b, 0)
		if i < 0 || i+1 >= len(b) {
			return "", nil, false
		}
		out = append(out, b[:i]...)
		switch b[i+1] {
		case 0x01:
			return string(out), b[i+2:], true
		case 0xFF:
			out = append(out, 0)
			b = b[i+2:]
		default:
			return "", nil, false
		}
	}
}

func appendSeq(b []byte, seq uint64) []byte { return binary.BigEndian.AppendUint64(b, seq) }

// appendTime appends Unix nanoseconds so that byte order is time order.
func appendTime(b []byte, nanos int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(nanos)^(1<<63))
}

func readTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

func transferKey(seq uint64) []byte { return appendSeq([]byte{famTransfer}, seq) }

func idKey(id string) []byte { return append([]byte{famID}, id...) }

func assetKey(code string) []byte { return append([]byte{famAsset}, code...) }

func accountKeyOf(id, asset string) []byte {
	return appendEscaped(appendEscaped([]byte{famAccount}, id), asset)
}

func ownerKey(owner, id string) []byte {
	return appendEscaped(appendEscaped([]byte{famOwner}, owner), id)
}

func accountByAssetKey(asset, id string) []byte {
	return appendEscaped(appendEscaped([]byte{famAccountBy}, asset), id)
}

// accountPrefix is the prefix of every account row of id.
func accountPrefix(id string) []byte { return appendEscaped([]byte{famAccount}, id) }

// sidePrefix is the prefix of an account's keys in famFrom or famTo.
func sidePrefix(fam byte, account string) []byte { return appendEscaped([]byte{fam}, account) }

func assetIndexPrefix(asset string) []byte { return appendEscaped([]byte{famByAsset}, asset) }

// entryPrefix is the prefix of an account's entries in one asset.
func entryPrefix(account, asset string) []byte {
	return appendEscaped(appendEscaped([]byte{famEntry}, account), asset)
}

func entryKey(account, asset string, seq uint64, side byte) []byte {
	return append(appendSeq(entryPrefix(account, asset), seq), side)
}

// fxEntryPrefix is the prefix of the FX account's entries in one asset:
// the legs of conversions (ADR 0019), a family of their own so that an
// account opened as "fx" before the id was reserved keeps its own
// entries apart.
func fxEntryPrefix(asset string) []byte { return appendEscaped([]byte{famFXEntry}, asset) }

func fxEntryKey(asset string, seq uint64, side byte) []byte {
	return append(appendSeq(fxEntryPrefix(asset), seq), side)
}

// positionPrefix is the prefix of the entries that make up account's
// balance in asset: the conversions' legs for the FX account, the
// account's entries for any other.
func positionPrefix(account, asset string) []byte {
	if account == domain.FX {
		return fxEntryPrefix(asset)
	}
	return entryPrefix(account, asset)
}

func rateKey(base, quote string) []byte {
	return appendEscaped(appendEscaped([]byte{famRate}, base), quote)
}

func clockKey(nanos int64) []byte { return appendTime([]byte{famClock}, nanos) }

// prefixEnd returns the smallest key above every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // no upper bound
}

// seqBound is prefix + seq, clamped: seq beyond MaxInt64 (the cursor's
// and the clock's "past everything") is the end of the prefix.
func seqBound(prefix []byte, seq uint64) []byte {
	if seq > math.MaxInt64 {
		return prefixEnd(prefix)
	}
	return appendSeq(bytes.Clone(prefix), seq)
}

func readSeq(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
