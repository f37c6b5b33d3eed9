package testbank

import (
	"context"
	"errors"
	"time"
)

// Store keeps the adapter's own state durably: users with their hashed
// tokens, and accounts with their name, visibility and currency. Money
// is never here: balances and transactions are the ledger's, in the
// native accounts testbank:<account id>. infra/testbankstore implements
// it on a JetStream KV bucket.
type Store interface {
	// CreateUser stores a new user and its token hash. It returns
	// ErrExists when the id or the token hash is taken.
	CreateUser(ctx context.Context, u User) error
	// UserByTokenHash returns the user of a token's hash, or ErrNotFound.
	UserByTokenHash(ctx context.Context, hash string) (User, error)
	// CreateAccount stores a new account and adds it to its owner's
	// list. It returns ErrExists when the id is taken, ErrFull when the
	// owner has MaxAccountsPerUser accounts, ErrNotFound for no such
	// owner.
	CreateAccount(ctx context.Context, a Account) error
	// Account returns an account by id, or ErrNotFound.
	Account(ctx context.Context, id string) (Account, error)
	// Accounts lists a user's accounts, oldest first (at most
	// MaxAccountsPerUser).
	Accounts(ctx context.Context, userID string) ([]Account, error)
}

// Errors of a Store.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrFull     = errors.New("too many accounts")
)

// MaxAccountsPerUser bounds a user's accounts: listing the user's
// transactions merges one read per account, so their number bounds that
// request's cost.
const MaxAccountsPerUser = 50

// User is a Testbank user. Only the SHA-256 of the token is kept.
type User struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	TokenHash string `json:"token_hash"`
	// Root is the operator's grant to use ROOT as sender (mint) or
	// recipient (burn) with the user's own accounts (ADR 0020).
	Root      bool      `json:"root,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Account visibilities, as Testbank names them.
const (
	VisibilityPublic   = "PUBLIC"
	VisibilityUnlisted = "UNLISTED"
	VisibilityPrivate  = "PRIVATE"
)

// Account is a Testbank account: the native account testbank:<ID> in the
// native asset of its currency, owned by testbank:<Owner>.
type Account struct {
	ID         string    `json:"id"`
	Owner      string    `json:"owner"`
	Name       string    `json:"name"`
	Visibility string    `json:"visibility"`
	Currency   string    `json:"currency"`
	CreatedAt  time.Time `json:"created_at"`
}
