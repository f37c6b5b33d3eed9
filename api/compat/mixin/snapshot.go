package mixin

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/projections"
)

// Snapshot is Mixin's record of a transfer as one of its two users sees
// it: the amount is negative for the sender, positive for the recipient,
// with that user's balances before and after.
type Snapshot struct {
	Type           string    `json:"type"`
	SnapshotID     string    `json:"snapshot_id"`
	UserID         string    `json:"user_id"`
	OpponentID     string    `json:"opponent_id"`
	AssetID        string    `json:"asset_id"`
	Amount         string    `json:"amount"`
	OpeningBalance string    `json:"opening_balance"`
	ClosingBalance string    `json:"closing_balance"`
	TraceID        string    `json:"trace_id"`
	Memo           string    `json:"memo"`
	CreatedAt      time.Time `json:"created_at"`
}

// snapshotID is the snapshot id of a user's trace: a UUID (version 8,
// RFC 9562's custom layout) made of 122 bits of SHA-256 over the system,
// the user and the trace, so a retry finds the same transfer and two
// users' traces never meet. The native transfer id is "mixin-" and it
// (nativeID), so a snapshot id leads back to its transfer with no table.
func snapshotID(userID, trace string) string {
	h := sha256.New()
	for _, p := range []string{System, userID, trace} {
		fmt.Fprintf(h, "%d:%s;", len(p), p) // length-prefixed: no two part lists give one input
	}
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

// nativeID is the native transfer id of a snapshot id (42 characters).
func nativeID(snapshotID string) string { return System + "-" + snapshotID }

// snapshotOf is a posted transfer as userID sees it; false when it is not
// a Mixin transfer of that user.
func snapshotOf(userID string, t projections.TransferView) (Snapshot, bool) {
	if t.Status != projections.StatusPosted || t.PostedAt == nil || !strings.HasPrefix(t.ID, System+"-") {
		return Snapshot{}, false
	}
	mine := userID + ":" + t.Asset
	fromUser, _ := compat.UserOf(System, t.From)
	toUser, _ := compat.UserOf(System, t.To)
	var own, other string
	sign := decimal.NewFromInt(1)
	switch mine {
	case fromUser:
		own, other, sign = t.From, toUser, decimal.NewFromInt(-1)
	case toUser:
		own, other = t.To, fromUser
	default:
		return Snapshot{}, false
	}
	amount, err := decimal.NewFromString(t.Amount)
	if err != nil {
		return Snapshot{}, false
	}
	var closing decimal.Decimal
	found := false
	for _, e := range t.Entries {
		if e.Account == own {
			closing, err = decimal.NewFromString(e.Balance)
			found = err == nil
		}
	}
	if !found {
		return Snapshot{}, false
	}
	delta := amount.Mul(sign)
	opponent, _, _ := strings.Cut(other, ":")
	return Snapshot{
		Type: "transfer", SnapshotID: strings.TrimPrefix(t.ID, System+"-"), UserID: userID, OpponentID: opponent,
		AssetID: t.Metadata[metaAsset], Amount: delta.String(), OpeningBalance: closing.Sub(delta).String(),
		ClosingBalance: closing.String(), TraceID: t.Metadata[metaTrace], Memo: t.Reference,
		CreatedAt: t.PostedAt.UTC(),
	}, true
}
