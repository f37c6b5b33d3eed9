package projections

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/nats-ledger/ledger/domain"
)

// Rows are encoded as a status or flag byte where there is one, then
// each field as a uvarint length and its bytes (strings), 8 bytes (times)
// or a uvarint (sequences). Money stays text, exactly as the events carry
// it; metadata is its JSON (keys sorted), absent when empty.

// errCorruptRow means a stored value does not decode: a bug or damage.
var errCorruptRow = errors.New("stored row does not decode")

// transferRow is a posted or rejected transfer: the request as journaled,
// its time, the rejection's code and detail, or the balances after the
// posting's two entries. A conversion (ADR 0019) is a posting with
// toAsset, toAmount, its rate and the balances after the FX account's two
// entries; creditBalance is then the recipient's, in toAsset. A rejection
// keeps the rate its request gave.
type transferRow struct {
	seq                                    uint64 // from the key
	status                                 byte
	id, from, to, amount, asset, reference string
	meta                                   string // JSON, "" for none
	at                                     int64
	code, detail                           string // rejections only
	debitBalance, creditBalance            string // postings only
	exchangeRate                           string // conversions and rejections that gave one
	toAsset, toAmount                      string // conversions only
	fxCreditBalance, fxDebitBalance        string // conversions only: FX in asset, in toAsset
	reverses                               string // reversals only: the original's id (ADR 0023)
	hash                                   string // the journal hash of the event at seq, lower-case hex; "" when the event had none
}

// converted reports whether the row is a conversion.
func (r *transferRow) converted() bool { return r.toAsset != "" }

// creditAsset is the asset of the recipient's entry.
func (r *transferRow) creditAsset() string {
	if r.converted() {
		return r.toAsset
	}
	return r.asset
}

// rateFields are the optional trailing fields of a transfer row, written
// only when the row has a rate, so that a row of one asset costs nothing
// more than before conversions.
func (r *transferRow) rateFields() [5]*string {
	return [...]*string{&r.exchangeRate, &r.toAsset, &r.toAmount, &r.fxCreditBalance, &r.fxDebitBalance}
}

type accountRow struct {
	asset, overdraftLimit, owner, meta string
	createdAt                          int64
	createdSeq                         uint64
	status                             byte // accountOpen, or frozen or closed (listings.go)
}

// rateRow is a rate of the table: the rate, the RateSet's sequence and
// time.
type rateRow struct {
	rate string
	seq  uint64
	at   int64
}

func (r *rateRow) encode(b []byte) []byte {
	b = appendStr(b, r.rate)
	b = binary.AppendUvarint(b, r.seq)
	return binary.BigEndian.AppendUint64(b, uint64(r.at))
}

func decodeRate(v []byte) (rateRow, error) {
	d := decoder{b: v}
	r := rateRow{rate: d.str()}
	r.seq, r.at = d.uvarint(), d.int64()
	if d.bad || len(d.b) != 0 {
		return r, fmt.Errorf("rate: %w", errCorruptRow)
	}
	return r, nil
}

type assetRow struct {
	scale     int
	seq       uint64
	createdAt int64
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendHash appends an event's journal hash, given in hex as events
// carry it, as its 32 bytes (a length, then the bytes): 0 bytes for an
// event that had none (an event built in memory, never journaled).
func appendHash(b []byte, h string) []byte {
	sum, err := domain.ParseHash(h)
	if h == "" || err != nil {
		return appendStr(b, "")
	}
	return appendStr(b, string(sum[:]))
}

func (r *transferRow) encode(b []byte) []byte {
	b = append(b, r.status)
	for _, s := range [...]string{r.id, r.from, r.to, r.amount, r.asset, r.reference, r.meta} {
		b = appendStr(b, s)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(r.at))
	b = appendHash(b, r.hash)
	for _, s := range [...]string{r.code, r.detail, r.debitBalance, r.creditBalance} {
		b = appendStr(b, s)
	}
	if r.exchangeRate != "" || r.converted() || r.reverses != "" {
		for _, p := range r.rateFields() {
			b = appendStr(b, *p)
		}
	}
	if r.reverses != "" {
		b = appendStr(b, r.reverses) // after the (empty) rate fields: older rows end before it
	}
	return b
}

func decodeTransfer(seq uint64, v []byte) (transferRow, error) {
	r := transferRow{seq: seq}
	d := decoder{b: v}
	r.status = d.byte()
	for _, p := range [...]*string{&r.id, &r.from, &r.to, &r.amount, &r.asset, &r.reference, &r.meta} {
		*p = d.str()
	}
	r.at = d.int64()
	r.hash = d.hash()
	for _, p := range [...]*string{&r.code, &r.detail, &r.debitBalance, &r.creditBalance} {
		*p = d.str()
	}
	if len(d.b) > 0 {
		for _, p := range r.rateFields() {
			*p = d.str()
		}
	}
	if len(d.b) > 0 {
		r.reverses = d.str()
	}
	if d.bad || len(d.b) != 0 || (r.status != statusPosted && r.status != statusRejected) {
		return r, fmt.Errorf("transfer at sequence %d: %w", seq, errCorruptRow)
	}
	return r, nil
}

func (r *accountRow) encode(b []byte) []byte {
	for _, s := range [...]string{r.asset, r.overdraftLimit, r.owner, r.meta} {
		b = appendStr(b, s)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(r.createdAt))
	b = binary.AppendUvarint(b, r.createdSeq)
	if r.status != accountOpen { // an open account's row is as it always was
		b = append(b, r.status)
	}
	return b
}

func decodeAccount(v []byte) (accountRow, error) {
	var r accountRow
	d := decoder{b: v}
	for _, p := range [...]*string{&r.asset, &r.overdraftLimit, &r.owner, &r.meta} {
		*p = d.str()
	}
	r.createdAt, r.createdSeq = d.int64(), d.uvarint()
	r.status = accountOpen
	if len(d.b) > 0 {
		r.status = d.byte()
	}
	if d.bad || len(d.b) != 0 || accountStatusName(r.status) == "" {
		return r, fmt.Errorf("account: %w", errCorruptRow)
	}
	return r, nil
}

func (r *assetRow) encode(b []byte) []byte {
	b = append(b, byte(r.scale))
	b = binary.AppendUvarint(b, r.seq)
	return binary.BigEndian.AppendUint64(b, uint64(r.createdAt))
}

func decodeAsset(v []byte) (assetRow, error) {
	d := decoder{b: v}
	r := assetRow{scale: int(d.byte())}
	r.seq, r.createdAt = d.uvarint(), d.int64()
	if d.bad || len(d.b) != 0 || r.scale > domain.MaxScale {
		return r, fmt.Errorf("asset: %w", errCorruptRow)
	}
	return r, nil
}

// decoder reads fields in order; bad is set at the first that does not fit.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

// hash reads what appendHash wrote, back in hex.
func (d *decoder) hash() string {
	s := d.str()
	switch len(s) {
	case 0:
		return ""
	case domain.HashSize:
		return hex.EncodeToString([]byte(s))
	}
	d.bad = true
	return ""
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) int64() int64 {
	if len(d.b) < 8 {
		d.bad = true
		return 0
	}
	v := int64(binary.BigEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}
