package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
)

// TestPrintPostings runs the example against a real journal: it prints
// each posting from the requested sequence, one line each, and nothing
// else (no account openings, no rejections).
func TestPrintPostings(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	state := domain.NewState()
	now := time.Date(2026, 11, 21, 23, 47, 46, 0, time.UTC)
	var events []*domain.Event
	for i, c := range []domain.Command{
		{Asset: &domain.Asset{Code: "USD", Scale: 2}},
		{Account: &domain.Account{ID: "alice", Asset: "USD"}},
		{Account: &domain.Account{ID: "bob", Asset: "USD"}},
		{Transfer: &domain.Transfer{ID: "mint-1", From: domain.World, To: "alice", Amount: "100"}},
		{Transfer: &domain.Transfer{ID: "lunch-1", From: "alice", To: "bob", Amount: "25.5", Reference: "lunch"}},
		{Transfer: &domain.Transfer{ID: "big-1", From: "alice", To: "bob", Amount: "1000"}},
	} {
		c.Ref = domain.CommandRef{Seq: 1, Item: i}
		if d := state.Decide(c, now); d.Event != nil {
			events = append(events, d.Event)
		}
	}
	records, _, err := commands.EncodeRecords(events, domain.Hash{}, 1_000, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := infra.NewJournal(srv.JS, srv.Names).Append(context.Background(), records, 0); err != nil {
		t.Fatal(err)
	}
	var out natstest.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- printPostings(ctx, srv.NC, options{ledger: srv.Names.Ledger, from: 5}, &out)
	}()
	want := `#5 2026-11-21T23:47:46Z lunch-1: alice -> bob 25.50 USD (alice 74.50, bob 25.50) "lunch"` + "\n"
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "\n") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // nothing more comes
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != want {
		t.Fatalf("printed %q, want %q", got, want)
	}
}
