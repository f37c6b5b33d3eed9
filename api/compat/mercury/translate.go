package mercury

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"strconv"
	"strings"
)

// idLen and idChars are the original's transaction ids: 15 characters of
// [0-9a-z] (nanoid with that alphabet).
const (
	idLen   = 15
	idChars = "0123456789abcdefghijklmnopqrstuvwxyz"
)

// newID returns a fresh Mercury id from crypto/rand (77 bits: a
// collision is not expected; the processor refuses one anyway, as an
// idempotency conflict, and the caller draws again).
func newID() string {
	var b [idLen]byte
	for i := range b {
		// Rejection sampling keeps the characters uniform: 252 is the
		// largest multiple of 36 that fits in a byte.
		for {
			var r [1]byte
			_, _ = rand.Read(r[:]) // never fails (crypto/rand)
			if r[0] < 252 {
				b[i] = idChars[r[0]%36]
				break
			}
		}
	}
	return string(b[:])
}

// transferID is the native transfer id of the Mercury id.
func transferID(id string) string { return System + "-" + id }

// idOf is the Mercury Id of a native transfer: the 15 characters of an
// adapter's own "mercury-<Id>", else 15 characters derived from the native
// id's SHA-256 (stable, in the original's alphabet) for transfers made
// natively, such as an operator's mint.
func idOf(nativeID string) string {
	if id, ok := strings.CutPrefix(nativeID, System+"-"); ok && validID(id) {
		return id
	}
	sum := sha256.Sum256([]byte(nativeID))
	b := make([]byte, idLen)
	for i := range b {
		b[i] = idChars[sum[i]%36]
	}
	return string(b)
}

func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !strings.ContainsRune(idChars, rune(id[i])) {
			return false
		}
	}
	return true
}

// nativeAmount writes n minor units as a decimal at scale: 5000000 at 6
// is "5.000000".
func nativeAmount(n uint64, scale int) string {
	s := strconv.FormatUint(n, 10)
	if scale == 0 {
		return s
	}
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	return s[:len(s)-scale] + "." + s[len(s)-scale:]
}

// minorUnits is the inverse: a native amount at the asset's scale as an
// integer of minor units. It is a JSON number, exact, even past uint64
// (a native mint may be that large; the original's amounts never were).
func minorUnits(amount string) json.Number {
	s := strings.TrimLeft(strings.Replace(amount, ".", "", 1), "0")
	if s == "" {
		s = "0"
	}
	return json.Number(s)
}

// returnsKey is the native metadata key that keeps a transaction's
// Returns, as compact JSON.
const returnsKey = "mercury.returns"

// maxReturnsBytes bounds Returns as it is kept: a native metadata value
// holds at most 512 characters, and the ledger keeps every transfer's
// metadata forever, so a larger Returns is refused rather than cut.
const maxReturnsBytes = 512

// returns is a request's Returns: absent or null, an object (asset id to
// quantity, the seed's shape) or an array (asset ids, the shape earlier
// clients sent). It reports whether the value is one of those and whether
// it names anything, and gives its compact form to keep.
func returns(raw json.RawMessage) (compact string, nonEmpty, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, true
	}
	switch raw[0] {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return "", false, false
		}
		nonEmpty = len(m) > 0
	case '[':
		var a []json.RawMessage
		if json.Unmarshal(raw, &a) != nil {
			return "", false, false
		}
		nonEmpty = len(a) > 0
	default:
		return "", false, false
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return "", false, false
	}
	return buf.String(), nonEmpty, true
}
