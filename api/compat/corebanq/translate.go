package corebanq

import (
	"crypto/sha1"
	"encoding/json"
	"strings"
	"time"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// Native metadata keys where the adapter keeps what CoreBanq shows and
// the native transfer has no field for: the client's transaction_id (the
// native id is a hash of it) and the token subject that made the
// transfer. A client's own metadata may not use the prefix.
const (
	metaPrefix        = "corebanq."
	metaTransactionID = metaPrefix + "transaction_id"
	metaCreatedBy     = metaPrefix + "created_by"
)

// accountOf is the native account of a CoreBanq ledger.
func accountOf(ledger string) string { return system + ":" + ledger }

// ledgerOf is the CoreBanq ledger of a native account; an account of no
// CoreBanq ledger (the issuer "world", say) shows as itself.
func ledgerOf(account string) string {
	if u, ok := compat.UserOf(system, account); ok {
		return u
	}
	return account
}

// parseUUID accepts a UUID in its canonical 8-4-4-4-12 hexadecimal form,
// either case, and returns it in lower case: the one spelling of a ledger
// in native account ids and derived transfer ids.
func parseUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return "", false
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return "", false
		}
	}
	return strings.ToLower(s), true
}

// uuidNamespace is the namespace of the UUIDs the adapter derives from
// native transfer ids (RFC 9562 name-based, version 5): fixed, so a
// transfer's ids are the same in every answer and after every restart.
var uuidNamespace = [16]byte{0x6b, 0x1e, 0x2c, 0x50, 0x8f, 0x3d, 0x4e, 0x7a, 0x9c, 0x21, 0x5d, 0x0b, 0xa4, 0x61, 0x37, 0xc8}

// nameUUID is the version-5 UUID of name in uuidNamespace.
func nameUUID(name string) string {
	h := sha1.New()
	h.Write(uuidNamespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[b>>4], hex[b&0x0f])
	}
	return string(out)
}

// transferUUID is CoreBanq's transfer_id of a native transfer.
func transferUUID(nativeID string) string { return nameUUID("transfer:" + nativeID) }

// entryUUID is the id of one side (debit or credit) of a native transfer.
func entryUUID(nativeID, side string) string { return nameUUID("entry:" + nativeID + ":" + side) }

// scaleOf is the scale of an account's asset. Native amounts are decimal
// strings formatted with exactly the asset's scale (domain.Amount.Format),
// so the balance's decimal places are the scale.
func scaleOf(v projections.AccountView) int {
	if _, frac, ok := strings.Cut(v.Balance, "."); ok {
		return len(frac)
	}
	return 0
}

// toNative turns a positive integer of minor units (already checked: a
// run of digits without a leading zero) into the native decimal string at
// scale: 12345 at scale 2 is "123.45", 5 is "0.05". Exact: no arithmetic.
func toNative(minor string, scale int) string {
	if scale == 0 {
		return minor
	}
	if len(minor) <= scale {
		minor = strings.Repeat("0", scale+1-len(minor)) + minor
	}
	return minor[:len(minor)-scale] + "." + minor[len(minor)-scale:]
}

// toMinor turns a native decimal string at scale ("-123.45") into an
// integer of minor units ("-12345"). It reports false for a string not at
// that scale, which a native amount of the asset never is.
func toMinor(amount string, scale int) (json.Number, bool) {
	neg := strings.HasPrefix(amount, "-")
	amount = strings.TrimPrefix(amount, "-")
	whole, frac, _ := strings.Cut(amount, ".")
	if len(frac) != scale || whole == "" {
		return "", false
	}
	digits := strings.TrimLeft(whole+frac, "0")
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", false
		}
	}
	switch {
	case digits == "":
		return "0", true
	case neg:
		return json.Number("-" + digits), true
	}
	return json.Number(digits), true
}

// timestamp renders a time as CoreBanq does: RFC 3339 in UTC, to the second.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Entry is one side of a transfer as CoreBanq shows it: amounts and the
// balance after the entry are integers of minor units.
type Entry struct {
	ID            string            `json:"id"`
	LedgerID      string            `json:"ledger_id"`
	TransactionID string            `json:"transaction_id"`
	Amount        json.Number       `json:"amount"`
	Type          string            `json:"type"`
	Description   string            `json:"description"`
	Balance       json.Number       `json:"balance"`
	Timestamp     string            `json:"timestamp"`
	Metadata      map[string]string `json:"metadata"`
	CreatedAt     string            `json:"created_at"`
	CreatedBy     string            `json:"created_by"`
}

// TransferResult is the answer to a transfer, first or replayed.
type TransferResult struct {
	TransferID       string `json:"transfer_id"`
	SourceEntry      Entry  `json:"source_entry"`
	DestinationEntry Entry  `json:"destination_entry"`
	Timestamp        string `json:"timestamp"`
}

// posting is a native posted transfer, from the processor's answer or
// from the read model.
type posting struct {
	id        string
	reference string
	metadata  map[string]string
	at        time.Time
	entries   [2]domain.Entry // debit, credit
}

func postingOfEvent(ev *domain.Event) (posting, bool) {
	if ev == nil || ev.Transfer == nil {
		return posting{}, false
	}
	t := ev.Transfer
	return posting{id: t.ID, reference: t.Reference, metadata: t.Metadata, at: ev.Time, entries: t.Entries}, true
}

func postingOfView(v projections.TransferView) (posting, bool) {
	if v.Status != projections.StatusPosted || v.PostedAt == nil || len(v.Entries) != 2 {
		return posting{}, false
	}
	return posting{id: v.ID, reference: v.Reference, metadata: v.Metadata, at: *v.PostedAt,
		entries: [2]domain.Entry{v.Entries[0], v.Entries[1]}}, true
}

// entry renders side (0 debit, 1 credit) of p. A transfer not made
// through the adapter (an operator's mint, say) shows its native id as
// transaction_id and no created_by.
func (p posting) entry(side, scale int) (Entry, bool) {
	e := p.entries[side]
	amount, ok1 := toMinor(e.Amount, scale)
	balance, ok2 := toMinor(e.Balance, scale)
	if !ok1 || !ok2 {
		return Entry{}, false
	}
	txID := p.metadata[metaTransactionID]
	if txID == "" {
		txID = p.id
	}
	meta := map[string]string{}
	for k, v := range p.metadata {
		if !strings.HasPrefix(k, metaPrefix) {
			meta[k] = v
		}
	}
	at := timestamp(p.at)
	return Entry{
		ID: entryUUID(p.id, e.Type), LedgerID: ledgerOf(e.Account), TransactionID: txID,
		Amount: amount, Type: e.Type, Description: p.reference, Balance: balance,
		Timestamp: at, Metadata: meta, CreatedAt: at, CreatedBy: p.metadata[metaCreatedBy],
	}, true
}

// result renders p as the answer to a transfer.
func (p posting) result(scale int) (TransferResult, bool) {
	src, ok1 := p.entry(0, scale)
	dst, ok2 := p.entry(1, scale)
	return TransferResult{TransferID: transferUUID(p.id), SourceEntry: src, DestinationEntry: dst,
		Timestamp: timestamp(p.at)}, ok1 && ok2
}
