package projections

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/nats-ledger/ledger/domain"
)

// Point reads shared by the applier and the queries.

func getAsset(r reader, code string) (assetRow, bool, error) {
	v, err := getOptional(r, assetKey(code))
	if err != nil || v == nil {
		return assetRow{}, false, err
	}
	row, err := decodeAsset(v)
	return row, err == nil, err
}

func getAccount(r reader, id, asset string) (accountRow, bool, error) {
	v, err := getOptional(r, accountKeyOf(id, asset))
	if err != nil || v == nil {
		return accountRow{}, false, err
	}
	row, err := decodeAccount(v)
	return row, err == nil, err
}

// findAccount finds the account row of id: the issuer account's in asset,
// any other id's only row (an ordinary id has one asset).
func findAccount(r reader, id, asset string) (accountRow, bool, error) {
	if id == domain.World {
		return getAccount(r, id, asset)
	}
	p := accountPrefix(id)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return accountRow{}, false, err
	}
	defer it.Close()
	if !it.First() {
		return accountRow{}, false, it.Error()
	}
	row, err := decodeAccount(it.Value())
	return row, err == nil, err
}

// transferByID returns the row of transfer id.
func transferByID(r reader, id string) (transferRow, bool, error) {
	v, err := getOptional(r, idKey(id))
	if err != nil || v == nil {
		return transferRow{}, false, err
	}
	if len(v) != 8 {
		return transferRow{}, false, fmt.Errorf("transfer %s: %w", id, errCorruptRow)
	}
	return transferAt(r, binary.BigEndian.Uint64(v))
}

func transferAt(r reader, seq uint64) (transferRow, bool, error) {
	v, err := getOptional(r, transferKey(seq))
	if err != nil || v == nil {
		return transferRow{}, false, err
	}
	row, err := decodeTransfer(seq, v)
	return row, err == nil, err
}

// lastClock returns the clock's latest time.
func lastClock(r reader) (int64, bool, error) {
	p := []byte{famClock}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return 0, false, err
	}
	defer it.Close()
	if !it.Last() {
		return 0, false, it.Error()
	}
	return readTime(it.Key()[1:]), true, nil
}

// firstClockFrom returns the first sequence of the first clock time at or
// after nanos.
func firstClockFrom(r reader, nanos int64) (uint64, bool, error) {
	p := []byte{famClock}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: clockKey(nanos), UpperBound: prefixEnd(p)})
	if err != nil {
		return 0, false, err
	}
	defer it.Close()
	if !it.First() {
		return 0, false, it.Error()
	}
	if len(it.Value()) != 8 {
		return 0, false, fmt.Errorf("journal clock: %w", errCorruptRow)
	}
	return binary.BigEndian.Uint64(it.Value()), true, nil
}

// entryAtOrBefore returns the sequence and balance of the account's last
// entry in asset with a sequence at or before seq (for the FX account,
// its last leg of a conversion).
func entryAtOrBefore(r reader, account, asset string, seq uint64) (uint64, string, bool, error) {
	p := positionPrefix(account, asset)
	upper := prefixEnd(p)
	if seq < 1<<63 {
		upper = appendSeq(bytes.Clone(p), seq+1)
	}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: upper})
	if err != nil {
		return 0, "", false, err
	}
	defer it.Close()
	if !it.Last() {
		return 0, "", false, it.Error()
	}
	k := it.Key()
	if len(k) != len(p)+9 {
		return 0, "", false, fmt.Errorf("entry of %s: %w", account, errCorruptRow)
	}
	return binary.BigEndian.Uint64(k[len(p):]), string(it.Value()), true, nil
}

// latestEntry returns the sequence and the balance after the account's
// latest entry, or its opening sequence and a zero balance at the asset's
// scale when it has none.
func latestEntry(r reader, id, asset string, createdSeq uint64, scale int) (uint64, string, error) {
	seq, bal, ok, err := entryAtOrBefore(r, id, asset, 1<<63)
	if err != nil {
		return 0, "", fmt.Errorf("balance of %s: %w", id, err)
	}
	if !ok {
		return createdSeq, domain.Amount{}.Format(scale), nil
	}
	return seq, bal, nil
}

// liveRejection reports whether a rejected row is still its id's row: a
// posting of the id after it takes over the id's entry and leaves the
// rejection behind as a dead row (see applier.TransferPosted).
func liveRejection(r reader, t *transferRow) (bool, error) {
	v, err := getOptional(r, idKey(t.id))
	if err != nil {
		return false, err
	}
	return len(v) == 8 && binary.BigEndian.Uint64(v) == t.seq, nil
}
