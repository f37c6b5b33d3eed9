package domain

// Hooks for the hold tests in package domain_test.

// HoldBalances returns an account's balance and the sum of its pending
// holds, at the asset's scale ("" for an unknown account).
func (s *State) HoldBalances(id string) (balance, held string) {
	acc, ok := s.accounts[id]
	if !ok {
		return "", ""
	}
	return acc.balance.Format(acc.asset.scale), s.holds.heldBy(acc).Format(acc.asset.scale)
}

// PendingHolds returns the number of pending holds.
func (s *State) PendingHolds() int { return s.holds.pendingCount() }
