package mercury

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// historyLen is the original's "last 100 transactions" (also the native
// page limit: one page is the whole answer).
const historyLen = 100

// Transaction types as the original names them.
const (
	typeTransaction = "Transaction"
	typeMint        = "Mint"
	typeBurn        = "Burn"
)

// txView is one transaction as the original encoded it. Which fields are
// present depends on the type, as in the seed's example: a Mint has no
// From and no Returns, a Burn no To, a Transaction "Returns": null when
// it has none, and a Burn its Link.
type txView struct {
	Type    string
	Id      string // the original's key, as it spelled it
	Time    int64
	From    string `json:",omitempty"`
	To      string `json:",omitempty"`
	Amount  json.Number
	Note    string
	Link    *string         `json:",omitempty"`
	Returns json.RawMessage `json:",omitempty"`
}

// linkKey is the native metadata key a Burn's Link is read from.
const linkKey = "mercury.link"

// transactions is GET /transactions/{id}: the user's last 100 posted
// transfers in the asset, newest first, "[]" when there are none (also for
// a user that cannot exist).
func (a *Adapter) transactions(w http.ResponseWriter, r *http.Request) {
	user := r.PathValue("id")
	out := []txView{}
	if account, err := compat.AccountID("id", System, user); err == nil {
		page, err := a.l.Transfers(r.Context(), projections.TransferFilter{Account: account, Asset: a.asset.Code, Limit: historyLen})
		switch {
		case err == nil:
		case errors.Is(err, projections.ErrNotFound):
		default:
			// The read model is behind the ledger's answers (or closed):
			// the original's own read failure was a 500; a 503 says the
			// same and that retrying is the remedy.
			fail(w, http.StatusServiceUnavailable, "the ledger could not read the transactions in time; retry")
			return
		}
		for _, v := range page.Data {
			out = append(out, view(v))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out) // the client may have gone; nothing to do then
}

// view translates a posted native transfer: from the issuer account it is
// a Mint, into it a Burn, else a Transaction. A side that is a Mercury
// account shows its user; any other native account shows its id.
func view(v projections.TransferView) txView {
	tv := txView{Id: idOf(v.ID), Amount: minorUnits(v.Amount), Note: v.Reference}
	if v.PostedAt != nil {
		tv.Time = v.PostedAt.UnixMilli()
	}
	returns := json.RawMessage("null")
	if s, ok := v.Metadata[returnsKey]; ok && json.Valid([]byte(s)) {
		returns = json.RawMessage(s)
	}
	switch {
	case v.From == domain.World:
		tv.Type, tv.To = typeMint, userOf(v.To)
	case v.To == domain.World:
		link := v.Metadata[linkKey]
		tv.Type, tv.From, tv.Link, tv.Returns = typeBurn, userOf(v.From), &link, returns
	default:
		tv.Type, tv.From, tv.To, tv.Returns = typeTransaction, userOf(v.From), userOf(v.To), returns
	}
	return tv
}

func userOf(account string) string {
	if u, ok := compat.UserOf(System, account); ok {
		return u
	}
	return account
}
