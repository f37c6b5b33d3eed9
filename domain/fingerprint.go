package domain

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"
)

// The processor remembers every posted transfer id forever and a short
// fingerprint of every account and posted transfer, to tell a retry from
// a conflicting reuse. Both are built from hand-written canonical bytes
// (length-prefixed fields in a fixed order, metadata keys sorted), so no
// reflection runs per transfer. Nothing stored in the journal depends on
// them; snapshots store them, so changing a definition here changes
// StateFormatVersion.

// idKey identifies a posted transfer id: the first 128 bits of SHA-256 of
// the id. The processor keeps this fixed-size key rather than the id
// string, which halves its memory per id. Two ids sharing a key would make
// the second look posted already and be refused (never posted twice, never
// lost silently: the client gets an answer naming the first). With 128 bits
// the chance that any two of 10^12 ids collide is below 10^-14, and
// producing a collision on purpose costs about 2^64 SHA-256 evaluations.
type idKey [16]byte

func keyOf(id string) idKey {
	var buf [MaxIDLen]byte
	sum := sha256.Sum256(append(buf[:0], id...))
	return idKey(sum[:16])
}

// fingerprint is the first 64 bits of SHA-256 of a canonical body. It is
// only ever compared between two bodies for the same account or transfer
// id, and a collision can only turn a conflicting reuse of the id
// (rejected, nothing changes) into an idempotent replay (nothing changes
// either): it can never post, move money or open an account. 64 bits make
// even that outcome a 2^-64 chance per conflicting request.
type fingerprint uint64

// Domain separation for the fingerprinted bodies.
const (
	fpTransfer    = 't'
	fpAccount     = 'a'
	fpReversal    = 'r'
	fpTransaction = 'x'
)

// fpBufBytes is the stack buffer for a fingerprinted body; rare larger
// bodies (long references, metadata) spill to the heap.
const fpBufBytes = 384

func fingerprintOf(b []byte) fingerprint {
	sum := sha256.Sum256(b)
	return fingerprint(binary.BigEndian.Uint64(sum[:8]))
}

// transferFingerprint covers what makes two requests with one id the same
// transfer once resolved: the id (by its key), the accounts, the asset, the
// amount at the asset's scale, the reference and the metadata. For the
// usual transfer this is under 56 bytes, one SHA-256 block.
func transferFingerprint(key idKey, t *Transfer, amount Amount) fingerprint {
	var buf [fpBufBytes]byte
	b := append(buf[:0], fpTransfer)
	b = append(b, key[:]...)
	b = appendField(b, t.From)
	b = appendField(b, t.To)
	b = appendField(b, t.Asset)
	b = binary.AppendVarint(b, amount.hi)
	b = binary.AppendUvarint(b, amount.lo)
	b = appendField(b, t.Reference)
	b = appendMetadata(b, t.Metadata)
	if t.Memo {
		// Only a memo has a zero amount, so the amount already tells
		// a memo apart; the byte keeps the rule explicit and costs
		// nothing for the usual transfer, whose bytes are unchanged.
		b = append(b, 'm')
	}
	if t.ExchangeRate != "" {
		// The rate the request gave (normalized): a conversion that
		// took the table's rate has none, so its replay posts nothing
		// new even when the table has changed since.
		b = append(b, 'x')
		b = appendField(b, t.ExchangeRate)
	}
	if t.Pending {
		// A hold and a transfer of the same body are different requests,
		// and so are two holds that expire at different times.
		b = append(b, 'p')
		b = appendField(b, t.ExpiresAt)
	}
	return fingerprintOf(b)
}

// accountFingerprint covers an account's definition as opened: its
// overdraft limit as normalized text ("unlimited" or a literal at the
// asset's scale), so "5" and "5.00" are the same definition.
func accountFingerprint(a *Account) fingerprint {
	var buf [fpBufBytes]byte
	b := append(buf[:0], fpAccount)
	b = appendField(b, a.ID)
	b = appendField(b, a.Asset)
	b = appendField(b, a.OverdraftLimit)
	b = appendField(b, a.Owner)
	b = appendMetadata(b, a.Metadata)
	return fingerprintOf(b)
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendMetadata(b []byte, m map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	if len(m) == 0 {
		return b
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = appendField(b, k)
		b = appendField(b, m[k])
	}
	return b
}

// BodyFingerprint is what Decide compares to tell a replay of a posted
// transfer id from a conflicting reuse, taken of a request before it is
// decided: the accounts, the asset (when the request names one), the
// amount by value, the reference and the metadata. It needs no state and
// no asset scale, so the API can keep it for a request it answered 202
// and tell the client, once the id is decided, whether its body won.
type BodyFingerprint struct {
	sum      fingerprint
	anyAsset bool   // the request left the asset to its accounts
	rate     string // the exchange_rate the request gave, normalized, or ""
	hold     string // "p" and the normalized expiry for a pending transfer, or ""
}

func holdMark(t Transfer) string {
	if !t.Pending {
		return ""
	}
	return "p" + normalizeExpiry(t.ExpiresAt)
}

// FingerprintBody returns the fingerprint of a transfer request's body.
func FingerprintBody(t Transfer) BodyFingerprint {
	rate, _ := ParseRate("exchange_rate", t.ExchangeRate)
	return BodyFingerprint{sum: bodyFingerprint(t.From, t.To, t.Asset, t.Amount, t.Reference, t.Metadata), anyAsset: t.Asset == "", rate: rate,
		hold: holdMark(t)}
}

// Matches reports whether posted, a transfer as it was posted (asset
// resolved, amount at its scale, a conversion's rate the one used), has
// the body f was taken of: what Decide answers as a replay rather than an
// idempotency conflict. A request with a rate matches a conversion at that
// rate; one without matches whatever rate the conversion used (it cannot
// tell a table's rate from a request's that was the same).
func (f BodyFingerprint) Matches(posted Transfer) bool {
	if f.rate != "" && f.rate != posted.ExchangeRate || f.hold != holdMark(posted) {
		return false
	}
	asset := posted.Asset
	if f.anyAsset {
		asset = ""
	}
	return f.sum == bodyFingerprint(posted.From, posted.To, asset, posted.Amount, posted.Reference, posted.Metadata)
}

// bodyFingerprint fingerprints a body with the amount by value: a plain
// decimal literal (checked before) without trailing fractional zeros, so
// "25.50" and "25.5" are one amount, as Decide compares them at scale.
func bodyFingerprint(from, to, asset, amount, reference string, metadata map[string]string) fingerprint {
	if strings.IndexByte(amount, '.') >= 0 {
		amount = strings.TrimSuffix(strings.TrimRight(amount, "0"), ".")
	}
	var buf [fpBufBytes]byte
	b := append(buf[:0], fpTransfer)
	b = appendField(b, from)
	b = appendField(b, to)
	b = appendField(b, asset)
	b = appendField(b, amount)
	b = appendField(b, reference)
	b = appendMetadata(b, metadata)
	return fingerprintOf(b)
}
