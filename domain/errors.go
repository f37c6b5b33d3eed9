package domain

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable reason. Codes are part of the public
// contract: clients branch on them, so a code is never renamed or reused.
// Only api/ maps codes to HTTP statuses.
type Code string

// The codes the domain decides, all of them here. api/ adds its own for
// transport errors, all of them in api/problem.go.
const (
	CodeValidationFailed    Code = "validation_failed"
	CodeInvalidAmount       Code = "invalid_amount"
	CodeSameAccount         Code = "same_account"
	CodeAccountNotFound     Code = "account_not_found"
	CodeAssetNotFound       Code = "asset_not_found"
	CodeInsufficientFunds   Code = "insufficient_funds"
	CodeAssetMismatch       Code = "asset_mismatch"
	CodeIdempotencyConflict Code = "idempotency_conflict"
	CodeAssetConflict       Code = "asset_conflict"
	CodeAccountConflict     Code = "account_conflict"
	CodeBalanceOverflow     Code = "balance_overflow"
	CodeForbidden           Code = "forbidden"
	// CodeRateNotFound is a conversion without an exchange_rate whose
	// pair of assets has no rate in the table.
	CodeRateNotFound Code = "rate_not_found"
	// CodeBatchAborted marks the items of an atomic batch that were not
	// posted because another item of the batch was rejected.
	CodeBatchAborted Code = "batch_aborted"
	// CodeAccountFrozen is a transfer that a frozen account refuses: a
	// debit of it, or any credit in mode "all" (ADR 0024).
	CodeAccountFrozen Code = "account_frozen"
	// CodeAccountClosed is a transfer or change of a closed account.
	CodeAccountClosed Code = "account_closed"
	// CodeLimitInUse is an overdraft limit lowered below what the balance
	// already draws on it.
	CodeLimitInUse Code = "limit_in_use"
	// CodeAccountNotEmpty is a close of an account with a balance or holds.
	CodeAccountNotEmpty Code = "account_not_empty"
	// Two-phase transfers (ADR 0022).
	CodeHoldNotFound       Code = "hold_not_found"       // no pending transfer has the id
	CodeHoldNotPending     Code = "hold_not_pending"     // the hold was posted or voided otherwise
	CodeHoldExpired        Code = "hold_expired"         // the hold expired
	CodeHoldAmountExceeded Code = "hold_amount_exceeded" // a post above the held amount
	CodeHoldsFull          Code = "holds_full"           // MaxPendingHolds holds are pending
	CodePendingConversion  Code = "pending_conversion"   // a pending transfer between assets
	// CodeReversalExceedsTransfer is a reversal of more than what remains
	// unreversed of its original (or of one reversed too often).
	CodeReversalExceedsTransfer Code = "reversal_exceeds_transfer"
	// CodeTransferNotReversible is a reversal of a reversal, a memo or a
	// conversion (ADR 0023).
	CodeTransferNotReversible Code = "transfer_not_reversible"
	// CodeTransferNotFound is a transfer id that is not posted (the API
	// also answers it for one the read model does not hold).
	CodeTransferNotFound Code = "transfer_not_found"
)

// Codes lists every domain code, for documentation and contract tests.
var Codes = []Code{
	CodeValidationFailed, CodeInvalidAmount, CodeSameAccount,
	CodeAccountNotFound, CodeAssetNotFound, CodeInsufficientFunds,
	CodeAssetMismatch, CodeIdempotencyConflict, CodeAssetConflict,
	CodeAccountConflict, CodeBalanceOverflow, CodeForbidden, CodeBatchAborted,
	CodeRateNotFound,
	CodeAccountFrozen, CodeAccountClosed, CodeLimitInUse, CodeAccountNotEmpty,
	CodeHoldNotFound, CodeHoldNotPending, CodeHoldExpired, CodeHoldAmountExceeded,
	CodeHoldsFull, CodePendingConversion,
	CodeReversalExceedsTransfer, CodeTransferNotReversible, CodeTransferNotFound,
}

// CodedError is an error that carries a stable Code.
type CodedError interface {
	error
	Code() Code
}

// RejectionError is a decided refusal with a code and a human detail.
type RejectionError struct {
	Reason Code
	Detail string
}

func (e *RejectionError) Error() string { return e.Detail }

// Code returns the stable reason.
func (e *RejectionError) Code() Code { return e.Reason }

func reject(code Code, format string, args ...any) *RejectionError {
	return &RejectionError{Reason: code, Detail: fmt.Sprintf(format, args...)}
}

// FieldError says which field of a request is malformed and why.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Code is validation_failed.
func (e *FieldError) Code() Code { return CodeValidationFailed }

// AmountSyntaxError is an amount that is not a plain positive decimal.
type AmountSyntaxError struct {
	Amount string
	Reason string
}

func (e *AmountSyntaxError) Error() string {
	return fmt.Sprintf("amount %q: %s", e.Amount, e.Reason)
}

// Code is invalid_amount.
func (e *AmountSyntaxError) Code() Code { return CodeInvalidAmount }

// AmountScaleError is an amount with more decimal places than its asset allows.
type AmountScaleError struct {
	Amount string
	Places int
	Scale  int
}

func (e *AmountScaleError) Error() string {
	return fmt.Sprintf("amount %s has %d decimal places; the asset allows %d", e.Amount, e.Places, e.Scale)
}

// Code is invalid_amount.
func (e *AmountScaleError) Code() Code { return CodeInvalidAmount }

// Journal consistency errors, returned by Apply.
var (
	ErrSequenceGap    = errors.New("journal sequence gap")
	ErrMissingPayload = errors.New("event payload missing")
	ErrUnknownEvent   = errors.New("unknown event type")
	ErrInconsistent   = errors.New("event inconsistent with the ledger state")
)

// InsufficientFundsError is a debit that would take an account below its
// lower limit. Needed is the lowest balance that would have allowed it.
type InsufficientFundsError struct {
	Account string
	Asset   string
	Scale   int
	Balance Amount
	Needed  Amount
	Held    Amount // the account's pending holds, which Needed includes
}

func (e *InsufficientFundsError) Error() string {
	if !e.Held.IsZero() {
		return fmt.Sprintf("insufficient available balance: balance was %s %s of which %s %s is held, at least %s %s is required",
			e.Balance.Format(e.Scale), e.Asset, e.Held.Format(e.Scale), e.Asset, e.Needed.Format(e.Scale), e.Asset)
	}
	return fmt.Sprintf("insufficient balance: balance was %s %s, at least %s %s is required",
		e.Balance.Format(e.Scale), e.Asset, e.Needed.Format(e.Scale), e.Asset)
}

// Code is insufficient_funds.
func (e *InsufficientFundsError) Code() Code { return CodeInsufficientFunds }
