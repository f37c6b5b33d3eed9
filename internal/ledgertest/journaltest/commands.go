package journaltest

import "github.com/nats-ledger/ledger/domain"

// DefineAsset is the command that defines an asset.
func DefineAsset(code string, scale int) domain.Command {
	return domain.Command{Asset: &domain.Asset{Code: code, Scale: scale}}
}

// AccountOption sets a field of an account OpenAccount opens.
type AccountOption func(*domain.Account)

// Owner gives the account an owner.
func Owner(owner string) AccountOption { return func(a *domain.Account) { a.Owner = owner } }

// Metadata gives the account metadata.
func Metadata(m map[string]string) AccountOption { return func(a *domain.Account) { a.Metadata = m } }

// OpenAccount is the command that opens account id in asset, with an
// overdraft limit (none when empty).
func OpenAccount(id, asset, limit string, opts ...AccountOption) domain.Command {
	a := &domain.Account{ID: id, Asset: asset, OverdraftLimit: limit}
	for _, o := range opts {
		o(a)
	}
	return domain.Command{Account: a}
}

// TransferOption sets a field of a transfer.
type TransferOption func(*domain.Transfer)

// Reference gives the transfer a reference.
func Reference(ref string) TransferOption { return func(t *domain.Transfer) { t.Reference = ref } }

// InAsset names the transfer's asset, as a transfer from the issuer
// account must.
func InAsset(code string) TransferOption { return func(t *domain.Transfer) { t.Asset = code } }

// Transfer is the command that moves amount from one account to another.
func Transfer(id, from, to, amount string, opts ...TransferOption) domain.Command {
	t := &domain.Transfer{ID: id, From: from, To: to, Amount: amount}
	for _, o := range opts {
		o(t)
	}
	return domain.Command{Transfer: t}
}
