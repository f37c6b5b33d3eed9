package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/journalio"
)

// writeReversalScenario decides and appends nine events: an asset, three
// accounts, a mint, t1 (alice -> bob 10.00), r1 reversing 4.00 of it,
// a transaction of two legs (the second spends what the first credited)
// and a transaction refused at its second leg.
func writeReversalScenario(t *testing.T, js jetstream.JetStream, names journalio.Names) domain.Hash {
	t.Helper()
	t1 := domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "10.00", Asset: "USD"}
	return writeCommands(t, js, names, []domain.Command{
		{Asset: &domain.Asset{Code: "USD", Scale: 2}},
		{Account: &domain.Account{ID: "alice", Asset: "USD"}},
		{Account: &domain.Account{ID: "bob", Asset: "USD"}},
		{Account: &domain.Account{ID: "carol", Asset: "USD"}},
		{Transfer: &domain.Transfer{ID: "m1", From: domain.World, To: "alice", Amount: "100"}},
		{Transfer: &t1},
		{Reversal: &domain.Reversal{ID: "r1", Amount: "4", Original: t1}},
		{Transaction: &domain.Transaction{ID: "tx1", Legs: []domain.Leg{{From: "alice", To: "bob", Amount: "1"}, {From: "bob", To: "carol", Amount: "7"}}}},
		{Transaction: &domain.Transaction{ID: "tx2", Legs: []domain.Leg{{From: "carol", To: "bob", Amount: "1"}, {From: "carol", To: "bob", Amount: "7"}}}},
	})
}

// The example verifier and ledger audit agree on reversals and multi-leg
// transactions (ADR 0023), and both catch a reversal whose remainder was
// re-hashed to give back more than was paid, and a leg whose balance was
// changed.
func TestPythonVerifierAgreesOnReversalsAndTransactions(t *testing.T) {
	_, lines := exportBothPass(t, writeReversalScenario, 9,
		`"reverses":"t1"`, `"remaining":"6.00"`, `"type":"TransactionPosted"`, `"type":"TransactionRejected"`)
	for _, c := range []struct{ name, old, new, want string }{
		{"a remainder that gives back more", `"remaining":"6.00"`, `"remaining":"16.00"`, "consistency at sequence 7"},
		{"a leg's balance", `"account":"carol","type":"credit","amount":"7.00","balance":"7.00"`, `"account":"carol","type":"credit","amount":"7.00","balance":"8.00"`, "at sequence 8"},
	} {
		forged := append([][]byte{}, lines...)
		at := slices.IndexFunc(forged, func(l []byte) bool { return bytes.Contains(l, []byte(c.old)) })
		if at < 0 {
			t.Fatalf("%s: %s is in no event", c.name, c.old)
		}
		forged[at] = bytes.ReplaceAll(bytes.Clone(forged[at]), []byte(c.old), []byte(c.new))
		rechain(forged, at)
		path := writeExport(t, forged)
		out, errOut, err := ledgerCmd(t, "audit", "--file", path)
		if err == nil || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%s: ledger audit: %v\n%s%s", c.name, err, out, errOut)
		}
		if out, code := runPython(t, path); code != 1 || !strings.Contains(out, c.want) {
			t.Errorf("%s: the verifier: exit %d\n%s", c.name, code, out)
		}
	}
}
