package projections

import (
	"encoding/base64"
	"math"
	"strconv"
)

// A cursor is the base64url of the last sequence on the page before: the
// next page holds what is strictly older. Sequences are unique within each
// listing (a transfer's, or an account's entries), so no row is skipped or
// repeated between pages even while new rows arrive at the head.

func encodeCursor(seq uint64) *string {
	c := base64.RawURLEncoding.EncodeToString(strconv.AppendUint(nil, seq, 10))
	return &c
}

// decodeCursor returns the sequence to page below: MaxInt64 for the first
// page (empty cursor), or ErrBadCursor.
func decodeCursor(c string) (int64, error) {
	if c == "" {
		return math.MaxInt64, nil
	}
	if len(c) > 32 { // far longer than any encoded sequence
		return 0, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, ErrBadCursor
	}
	seq, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || seq <= 0 || strconv.FormatInt(seq, 10) != string(b) {
		return 0, ErrBadCursor
	}
	return seq, nil
}

func checkLimit(limit int) error {
	if limit < 1 || limit > MaxPageLimit {
		return ErrBadLimit
	}
	return nil
}
