package domain

import "math"

// State is the processor's in-memory view of a ledger: what it needs to
// decide commands and nothing more. It is built by applying the journal's
// events in order and advanced by Decide. State is not safe for concurrent
// use: exactly one processor owns it.
type State struct {
	seq      uint64     // last ledger sequence in the journal
	lastCmd  CommandRef // the latest command an event answers
	assets   map[string]*assetState
	accounts map[string]*accountState // points into accts
	accts    accountStore
	posted   hotSet
	archived uint64              // the archive watermark (hotset.go)
	absent   map[idKey]struct{}  // ids the archive was asked for and lacks (hotset.go)
	rates    map[ratePair]string // the rate table, normalized rates; at most MaxRates
	undo     *undoLog            // set while an atomic batch is being decided
	holds    holdBook            // pending and settled two-phase transfers (hold_state.go)
	// reversed holds what was reversed of each reversed transfer: sparse,
	// one entry per reversed transfer of at most MaxReversals (ADR 0023).
	reversed map[idKey]*reversals
}

// assetState is an asset and its issuer account. Code and scale never
// change once defined; world does.
type assetState struct {
	code  string
	scale int
	world Amount // the issuer account's balance for this asset
	fx    Amount // the FX account's position in this asset
}

// accountState is an open account. Its memory is the processor's memory
// per account, so it holds no more than deciding needs.
type accountState struct {
	id      string
	asset   *assetState // shared: the asset code is not repeated per account
	balance Amount
	floor   Amount // the lowest balance allowed (minus the overdraft limit), or noFloor
	owner   string // who may debit it besides an admin; empty: admins only
	fp      fingerprint
	status  uint8 // statusOpen, frozen or closed (lifecycle.go); 8 bytes more per account, padding included
}

// noFloor is the floor of an account without a lower limit. No parsed
// limit comes near it (limits have at most 38 digits, under 2^127), so it
// marks "unlimited" without a separate field.
var noFloor = Amount{hi: math.MinInt64}

// unlimited reports whether the account has no lower limit.
func (a *accountState) unlimited() bool { return a.floor == noFloor }

// accountStore keeps accounts densely in fixed-size chunks, in the order
// they were opened. A chunk never moves, so pointers to its accounts (the
// accounts map, the undo log) stay valid, and a snapshot copies accounts
// chunk by chunk without walking the map.
type accountStore struct {
	chunks [][]accountState
	n      int
}

// accountChunkLen is the number of accounts per chunk (about 80 KiB).
const accountChunkLen = 1024

func (a *accountStore) add(acc accountState) *accountState {
	if a.n%accountChunkLen == 0 {
		a.chunks = append(a.chunks, make([]accountState, 0, accountChunkLen))
	}
	c := &a.chunks[len(a.chunks)-1]
	*c = append(*c, acc)
	a.n++
	return &(*c)[len(*c)-1]
}

// NewState returns the state of an empty ledger.
func NewState() *State {
	return newState(0, 0)
}

// newState returns an empty state with room for the given numbers of
// assets and accounts.
func newState(assets, accounts int) *State {
	return &State{
		assets:   make(map[string]*assetState, assets),
		accounts: make(map[string]*accountState, accounts),
	}
}

// Seq returns the last ledger sequence applied.
func (s *State) Seq() uint64 { return s.seq }

// LastCommand returns the latest command item an applied event answers.
func (s *State) LastCommand() CommandRef { return s.lastCmd }

// Decided reports whether the command item ref was decided before: it is
// at or before the latest command an event answers. Commands are decided
// in order, so a redelivered command item is recognised by this alone.
func (s *State) Decided(ref CommandRef) bool { return !s.lastCmd.Before(ref) }
