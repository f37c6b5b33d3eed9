package api

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// Asynchronous idempotency conflicts. A transfer submitted with Prefer:
// respond-async is answered before the processor decides it, so a reuse
// of a posted id with another body cannot be refused by the processor's
// answer. The API refuses it itself when the read model already has the
// id posted with another body, and otherwise remembers the fingerprint of
// what each client submitted (pendingSet) so that the Location reports the
// conflict to that client once the id is decided with another body.

// bodyFingerprint is a fingerprint of a transfer's body over what the
// processor compares to tell a replay from a conflicting reuse
// (domain/fingerprint.go): the accounts, the asset, the amount by value,
// the reference and the metadata. anyAsset is set when the request left
// the asset to the accounts, so any asset matches it.
type bodyFingerprint struct {
	sum      uint64
	anyAsset bool
}

// fingerprintOf returns the fingerprint of t's body.
func fingerprintOf(t domain.Transfer) bodyFingerprint {
	return bodyFingerprint{sum: bodySum(t.From, t.To, t.Asset, t.Amount, t.Reference, t.Metadata), anyAsset: t.Asset == ""}
}

// matches reports whether the decided transfer v has the body f was taken
// of.
func (f bodyFingerprint) matches(v projections.TransferView) bool {
	asset := v.Asset
	if f.anyAsset {
		asset = ""
	}
	return f.sum == bodySum(v.From, v.To, asset, v.Amount, v.Reference, v.Metadata)
}

// bodySum hashes length-prefixed fields in a fixed order, metadata keys
// sorted, the amount by value ("25.50" and "25.5" are one amount: the
// processor compares amounts at the asset's scale).
func bodySum(from, to, asset, amount, reference string, metadata map[string]string) uint64 {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	field := func(s string) {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	for _, s := range []string{from, to, asset, amountValue(amount), reference} {
		field(s)
	}
	keys := make([]string, 0, len(metadata))
	for k := range metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	field(strconv.Itoa(len(keys)))
	for _, k := range keys {
		field(k)
		field(metadata[k])
	}
	return binary.BigEndian.Uint64(h.Sum(nil))
}

// amountValue is a plain decimal literal without trailing fractional
// zeros: one spelling per value. (Literals are checked before this:
// digits with at most one point, no sign or exponent.)
func amountValue(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// conflictProblem is the 409 of a reused id whose posted body differs.
func conflictProblem(id string, v projections.TransferView) error {
	return problem(domain.CodeIdempotencyConflict,
		"transfer "+id+" was posted at sequence "+strconv.FormatUint(v.Sequence, 10)+" with a different body")
}

// knownConflict returns the 409 for an asynchronous submission of t when
// the read model already has t's id posted with another body that the
// principal may read (anyone else learns nothing here; the processor
// decides for them). Any other case returns nil: the processor decides.
func (s *Server) knownConflict(c echo.Context, t domain.Transfer) error {
	v, err := s.read.Transfer(c.Request().Context(), t.ID)
	if err != nil || v.Status != projections.StatusPosted || fingerprintOf(t).matches(v) {
		if err != nil && !errors.Is(err, projections.ErrNotFound) && !errors.Is(err, context.Canceled) {
			s.log.Warn("conflict check", "id", t.ID, "err", err)
		}
		return nil
	}
	if ok, err := s.involves(c, v.From, v.To, v.Asset); err != nil || !ok {
		return nil
	}
	return conflictProblem(t.ID, v)
}
