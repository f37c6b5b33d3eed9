package testbank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// txView is a transaction as the adapter shows it, from a posting's
// event or the read model.
type txView struct {
	ID, From, To, Amount, Reference, ExchangeRate string
	At                                            time.Time
}

func viewOfTransfer(t projections.TransferView) txView {
	v := txView{ID: t.ID, From: t.From, To: t.To, Amount: t.Amount, Reference: t.Reference, ExchangeRate: t.ExchangeRate}
	if t.PostedAt != nil {
		v.At = *t.PostedAt
	}
	return v
}

type transactionAttributes struct {
	Amount    string `json:"amount"`
	Reference string `json:"reference"`
}

// MetaUser is the native transfer's metadata key naming the Testbank user
// who made it: the journal itself says who minted through ROOT.
const MetaUser = "testbank_user"

// transactionPrefix starts the native id of every transaction the
// adapter makes; the Testbank id is the rest.
const transactionPrefix = System + "-"

// resourceOf is v in Testbank's shape: ids without the native prefixes,
// the issuer as ROOT, meta.exchangeRate only for a conversion.
func resourceOf(v txView) resource {
	meta := map[string]any{"createdAt": isoTime(v.At)}
	if v.ExchangeRate != "" {
		meta["exchangeRate"] = json.Number(v.ExchangeRate)
	}
	return resource{Type: "transactions", ID: strings.TrimPrefix(v.ID, transactionPrefix),
		Attributes: transactionAttributes{Amount: v.Amount, Reference: v.Reference},
		Relationships: map[string]relationship{
			"sender":    rel("accounts", testbankAccountID(v.From)),
			"recipient": rel("accounts", testbankAccountID(v.To)),
		},
		Meta: meta}
}

// testbankAccountID is a native account as Testbank names it.
func testbankAccountID(native string) string {
	if native == domain.World {
		return Root
	}
	if id, ok := strings.CutPrefix(native, System+":"); ok {
		return id
	}
	return native
}

// createTransaction is POST /transactions: the document is checked
// whole, the sides resolved under Testbank's rules, and one native
// transfer submitted (a conversion when the currencies differ).
func (h *handler) createTransaction(w http.ResponseWriter, r *http.Request, u User, body []byte) {
	ctx := r.Context()
	doc, e := decodeDocument(body, "transactions")
	if e != nil {
		writeError(w, e)
		return
	}
	item, e := h.translate(ctx, u, doc)
	if e != nil {
		writeError(w, e)
		return
	}
	rs, err := h.l.Submit(ctx, []commands.Item{item})
	if err != nil {
		writeError(w, h.ledgerError(err))
		return
	}
	res := rs[0]
	switch res.Outcome {
	case commands.OutcomePosted:
		writeJSON(w, http.StatusOK, map[string]any{"data": resourceOf(viewOfTransfer(projections.PostedView(res.Event)))})
	case commands.OutcomeReplayed:
		// A random id met again: answer what the journal has.
		t, err := h.l.Transfer(ctx, item.Transfer.ID)
		if err != nil {
			writeError(w, h.ledgerError(err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": resourceOf(viewOfTransfer(t))})
	default:
		writeError(w, rejection(res))
	}
}

// side is one end of a transaction: ROOT or one of the adapter's accounts.
type side struct {
	root    bool
	account Account
}

func (s side) native() string {
	if s.root {
		return domain.World
	}
	return nativeAccount(s.account.ID)
}

// translate checks the document and makes the native command.
func (h *handler) translate(ctx context.Context, u User, doc *inbound) (commands.Item, *Error) {
	amount, e := amountAttr(doc)
	if e != nil {
		return commands.Item{}, e
	}
	ref, _, e := doc.stringAttr("reference")
	if e != nil {
		return commands.Item{}, e
	}
	senderID, e := doc.relID("sender", "accounts")
	if e != nil {
		return commands.Item{}, e
	}
	recipientID, e := doc.relID("recipient", "accounts")
	if e != nil {
		return commands.Item{}, e
	}
	if senderID == recipientID {
		return commands.Item{}, invalid("/data/relationships/recipient", "The sender and the recipient must be different accounts.")
	}
	from, e := h.sender(ctx, u, senderID)
	if e != nil {
		return commands.Item{}, e
	}
	to, e := h.recipient(ctx, u, recipientID, from.root)
	if e != nil {
		return commands.Item{}, e
	}
	cur := from.account.Currency
	if from.root {
		cur = to.account.Currency // a mint is in the recipient's currency
	}
	a, err := domain.ParseAmount(amount, currencies[cur].Scale)
	if err != nil || a.Sign() <= 0 {
		return commands.Item{}, invalid("/data/attributes/amount", fmt.Sprintf(
			"amount must be a positive decimal in %s with at most %d decimals.", cur, currencies[cur].Scale))
	}
	t := &domain.Transfer{ID: transactionPrefix + newID(), From: from.native(), To: to.native(),
		Amount: a.Format(currencies[cur].Scale), Asset: cur, Reference: ref,
		Metadata: map[string]string{MetaUser: u.ID}}
	if err := t.Validate(); err != nil {
		return commands.Item{}, invalid("/data/attributes/reference", err.Error())
	}
	actor := &domain.Actor{Subject: ownerOf(u.ID)}
	if from.root || to.root {
		// ROOT is a mint or a burn, an admin's right: granted to this
		// user by an operator (User.Root), and only with the user's own
		// account on the other side (ADR 0020).
		own := from.account
		if from.root {
			own = to.account
		}
		if e := h.checkOwner(ctx, u, own); e != nil {
			return commands.Item{}, e
		}
		actor.Admin = true
	}
	return commands.Item{Actor: actor, Transfer: t}, nil
}

// amountAttr reads attributes.amount: a decimal string or a JSON number,
// taken literally (never through a float).
func amountAttr(doc *inbound) (string, *Error) {
	raw, ok := doc.Data.Attributes["amount"]
	if !ok || string(raw) == "null" {
		return "", invalid("/data/attributes/amount", "amount is required.")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", invalid("/data/attributes/amount", "amount must be a decimal string, such as \"100.00\".")
}

// sender resolves the sender: ROOT for a user allowed it, else one of
// the caller's accounts. Anything else is one answer, so that it tells
// nothing of others' accounts.
func (h *handler) sender(ctx context.Context, u User, id string) (side, *Error) {
	if id == Root {
		if !u.Root {
			return side{}, forbidden("Crediting from ROOT is not enabled for this user: an operator grants it (ledger testbank user create --root).")
		}
		return side{root: true}, nil
	}
	a, e := h.lookup(ctx, id)
	if e != nil {
		return side{}, e
	}
	if a == nil || a.Owner != u.ID {
		return side{}, forbidden(fmt.Sprintf("You can send only from your own accounts: %q is not one of them.", id))
	}
	return side{account: *a}, nil
}

// recipient resolves the recipient: ROOT (a burn) for a user allowed it,
// one of the caller's accounts, or anyone's PUBLIC or UNLISTED account;
// a PRIVATE one of someone else is answered as one that does not exist.
// A mint (fromRoot) goes only to the caller's own accounts.
func (h *handler) recipient(ctx context.Context, u User, id string, fromRoot bool) (side, *Error) {
	if id == Root {
		if !u.Root {
			return side{}, forbidden("Emptying into ROOT is not enabled for this user: an operator grants it (ledger testbank user create --root).")
		}
		return side{root: true}, nil
	}
	a, e := h.lookup(ctx, id)
	if e != nil {
		return side{}, e
	}
	if a == nil || a.Owner != u.ID && a.Visibility == VisibilityPrivate {
		return side{}, invalid("/data/relationships/recipient/data/id", fmt.Sprintf("The recipient account %q was not found.", id))
	}
	if fromRoot && a.Owner != u.ID {
		return side{}, forbidden("Credit from ROOT goes only to your own accounts.")
	}
	return side{account: *a}, nil
}

// checkOwner confirms, before a ROOT leg is submitted with an admin's
// right (under which the processor checks no owner), that the native
// account is the user's as the ledger records it, not only as the
// adapter's store says.
func (h *handler) checkOwner(ctx context.Context, u User, a Account) *Error {
	v, err := h.l.Account(ctx, nativeAccount(a.ID), a.Currency)
	switch {
	case errors.Is(err, projections.ErrNotFound):
		return invalid("/data/relationships", fmt.Sprintf("The account %q is not open on the ledger.", a.ID))
	case err != nil:
		return h.ledgerError(err)
	case v.Owner != ownerOf(u.ID):
		return forbidden(fmt.Sprintf("The account %q is not yours on the ledger.", a.ID))
	}
	return nil
}

// lookup reads an account by id; nil when there is none (or the id
// could be none of the adapter's).
func (h *handler) lookup(ctx context.Context, id string) (*Account, *Error) {
	if len(id) != idLen || strings.Trim(id, idAlphabet) != "" {
		return nil, nil
	}
	a, err := h.store.Account(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		h.log.Warn("testbank account lookup", "err", err)
		return nil, errUnavailable
	}
	return &a, nil
}

// rejection maps a native refusal to Testbank's error.
func rejection(r commands.Result) *Error {
	switch r.Code {
	case domain.CodeInsufficientFunds:
		return invalid("/data/attributes/amount", "Insufficient funds: the sender's balance does not cover this amount ("+r.Detail+").")
	case domain.CodeRateNotFound:
		return invalid("/data/relationships/recipient", "No exchange rate is set between these currencies on this ledger ("+r.Detail+").")
	case domain.CodeInvalidAmount:
		return invalid("/data/attributes/amount", "The amount is not valid here ("+r.Detail+").")
	case domain.CodeForbidden:
		return forbidden("You are not authorized to perform this action (" + r.Detail + ").")
	}
	return invalid("", fmt.Sprintf("%s: %s", r.Code, r.Detail))
}

// ledgerError is a Ledger error in Testbank's shape: 503, retry later.
func (h *handler) ledgerError(err error) *Error {
	h.log.Warn("testbank ledger", "err", err)
	return errUnavailable
}
