package projections

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/nats-ledger/ledger/domain"
)

// A transfer's reversals (ADR 0023): each reversal's row names its
// original (transferRow.reverses), and famReversal lists an original's
// reversals in posting order, so that the original's read shows them and
// what remains to reverse without a scan of all transfers.

// ReversalView is one reversal of a transfer, as the original shows it.
type ReversalView struct {
	ID       string `json:"id"`
	Amount   string `json:"amount"`
	Sequence uint64 `json:"sequence"`
}

func reversalPrefix(original string) []byte { return appendEscaped([]byte{famReversal}, original) }

func reversalKey(original string, seq uint64) []byte { return appendSeq(reversalPrefix(original), seq) }

// reversible reports whether a row is a posting a reversal may give back:
// not a reversal, a memo or a conversion.
func (t *transferRow) reversible() bool {
	return t.status == statusPosted && t.reverses == "" && !t.converted() && !domain.IsMemoAmount(t.amount)
}

// addReversals fills v's reversals and what remains to reverse, for a
// reversible posting. At most domain.MaxReversals are read: the processor
// posts no more.
func addReversals(r reader, t *transferRow, v *TransferView) error {
	if !t.reversible() {
		return nil
	}
	as, ok, err := getAsset(r, t.asset)
	if err != nil || !ok {
		return fmt.Errorf("asset %s of transfer %s: %w", t.asset, t.id, firstErr(err, errCorruptRow))
	}
	remains, err := domain.ParseAmount(t.amount, as.scale)
	if err != nil {
		return fmt.Errorf("transfer %s: %w", t.id, errCorruptRow)
	}
	p := reversalPrefix(t.id)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return err
	}
	v.Reversals = []ReversalView{}
	for ok := it.First(); ok && len(v.Reversals) < domain.MaxReversals; ok = it.Next() {
		d := decoder{b: it.Value()}
		rv := ReversalView{ID: d.str(), Amount: d.str(), Sequence: readSeq(it.Key()[len(p):])}
		amount, err := domain.ParseAmount(rv.Amount, as.scale)
		if d.bad || len(d.b) != 0 || err != nil {
			it.Close()
			return fmt.Errorf("reversal of %s: %w", t.id, errCorruptRow)
		}
		remains, _ = remains.Sub(amount)
		v.Reversals = append(v.Reversals, rv)
	}
	v.Reversible = remains.Format(as.scale)
	return errors.Join(it.Error(), it.Close())
}
