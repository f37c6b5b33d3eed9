package client_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/nats-ledger/ledger/client"
	"github.com/nats-ledger/ledger/internal/ledgertest"
)

// newClient is the generated client for a real ledger (embedded
// JetStream, processor, read model, HTTP API), as the admin.
func newClient(t *testing.T) *client.ClientWithResponses {
	t.Helper()
	l := ledgertest.Start(t)
	c, err := client.NewClientWithResponses(l.NativeURL, client.WithRequestEditorFn(
		func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+ledgertest.AdminToken)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClientMovesMoney drives a real server through the generated client
// alone: define an asset, open accounts, fund one from the issuer,
// transfer, read the account and the transfer back, and decode a refusal
// as a problem with its stable code.
func TestClientMovesMoney(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)

	asset, err := c.DefineAssetWithResponse(ctx, client.Asset{Code: "USD", Scale: 2})
	if err != nil || asset.JSON201 == nil {
		t.Fatalf("define asset: %v %d %s", err, asset.StatusCode(), asset.Body)
	}
	for _, id := range []string{"alice", "bob"} {
		acc, err := c.OpenAccountWithResponse(ctx, client.AccountRequest{Id: id, Asset: "USD"})
		if err != nil || acc.JSON201 == nil {
			t.Fatalf("open %s: %v %d %s", id, err, acc.StatusCode(), acc.Body)
		}
		if acc.JSON201.Metadata == nil || len(acc.JSON201.Metadata) != 0 {
			t.Errorf("open %s: metadata %v, want {}", id, acc.JSON201.Metadata)
		}
	}
	asUSD := "USD"
	fund, err := c.CreateTransferWithResponse(ctx, nil, client.TransferRequest{From: "world", To: "alice", Amount: "100.00", Asset: &asUSD})
	if err != nil || fund.JSON201 == nil {
		t.Fatalf("fund: %v %d %s", err, fund.StatusCode(), fund.Body)
	}
	id := "order-1"
	posted, err := c.CreateTransferWithResponse(ctx, nil, client.TransferRequest{Id: &id, From: "alice", To: "bob", Amount: "25.50"})
	if err != nil || posted.JSON201 == nil {
		t.Fatalf("transfer: %v %d %s", err, posted.StatusCode(), posted.Body)
	}
	if e := *posted.JSON201.Entries; len(e) != 2 || e[0].Account != "alice" || e[0].Balance != "74.50" || e[1].Balance != "25.50" {
		t.Errorf("entries %+v, want alice at 74.50 and bob at 25.50", e)
	}

	alice, err := c.GetAccountWithResponse(ctx, "alice", nil)
	if err != nil || alice.JSON200 == nil || alice.JSON200.Balance != "74.50" {
		t.Fatalf("get alice: %v %d %s", err, alice.StatusCode(), alice.Body)
	}
	got, err := c.GetTransferWithResponse(ctx, id, nil)
	if err != nil || got.JSON200 == nil {
		t.Fatalf("get transfer: %v %d %s", err, got.StatusCode(), got.Body)
	}
	view, err := got.JSON200.AsTransferView()
	if err != nil || view.Id != id || view.Status != client.TransferViewStatusPosted || view.Amount != "25.50" {
		t.Errorf("transfer read back: %+v (%v)", view, err)
	}

	// A refusal is a problem whose code clients branch on, and it names
	// the transfer it refused.
	refused, err := c.CreateTransferWithResponse(ctx, nil, client.TransferRequest{From: "bob", To: "alice", Amount: "1000.00"})
	if err != nil {
		t.Fatal(err)
	}
	p := refused.ApplicationproblemJSON422
	if p == nil || p.Code != "insufficient_funds" || p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("overdraw: %d %s, want 422 insufficient_funds", refused.StatusCode(), refused.Body)
	}
	if refused.HTTPResponse.Header.Get("Location") == "" {
		t.Error("the refusal has no Location")
	}
}
