package subscriber_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra/schematest"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/subscriber"
)

// The event schemas in docs/events/ are checked against real events: every
// line of a journal with every event type and optional field validates
// against its type's schema, and broken variants of those lines do not.

const schemaDir = "../docs/events"

func loadSchema(t *testing.T, typ domain.EventType, version int) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(schemaDir, fmt.Sprintf("%s.v%d.json", typ, version)))
	if err != nil {
		t.Fatalf("schema of %s v%d: %v", typ, version, err)
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("schema of %s v%d: %v", typ, version, err)
	}
	return s
}

func TestEventSchemas(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	j.SeedPayments()
	j.Batch(
		domain.Command{Account: &domain.Account{ID: "open:ended", Asset: "USD", OverdraftLimit: "unlimited"}},
		domain.Command{Account: &domain.Account{ID: "limited", Asset: "USD", OverdraftLimit: "7.5"}},
		domain.Command{Transfer: &domain.Transfer{ID: "meta-1", From: "a1", To: "a2", Amount: "1", Asset: "USD",
			Metadata: map[string]string{"order": "42", "é": "<b>&\"quoted\""}}},
		journaltest.Transfer("ghost-1", "a1", "nobody", "1.234", journaltest.Reference("ref ghost-1")),
		domain.Command{Transfer: &domain.Transfer{ID: "scale-1", From: "a1", To: "a2", Amount: "1.001"}},
		domain.Command{Asset: &domain.Asset{Code: "BTC_8", Scale: 18}},
		domain.Command{Transfer: &domain.Transfer{ID: "memo-1", From: "a1", To: "a2", Amount: "0", Memo: true, Reference: "free"}},
		domain.Command{Transfer: &domain.Transfer{ID: "memo-2", From: "a1", To: "nobody", Amount: "0", Memo: true}},
	)
	// A message that changes nothing: CommandSkipped.
	j.Batch(journaltest.Transfer("t1", "a1", "a2", "10", journaltest.Reference("ref t1")), domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
	// An account's metadata replaced, then cleared.
	j.Batch(domain.Command{Metadata: &domain.MetadataUpdate{Account: "a1", Metadata: map[string]string{"tier": "gold"}}},
		domain.Command{Metadata: &domain.MetadataUpdate{Account: "a2"}})
	// Cross-currency: a rate set, a conversion at the table's rate and one
	// at the request's, one refused with the rate it gave.
	j.Batch(domain.Command{Asset: &domain.Asset{Code: "EUR", Scale: 2}},
		domain.Command{Account: &domain.Account{ID: "eur-1", Asset: "EUR"}},
		domain.Command{Rate: &domain.RateSet{Base: "USD", Quote: "EUR", Rate: "0.9155"}},
		domain.Command{Transfer: &domain.Transfer{ID: "fx-1", From: "a1", To: "eur-1", Amount: "10", Reference: "fx"}},
		domain.Command{Transfer: &domain.Transfer{ID: "fx-2", From: "a1", To: "eur-1", Amount: "1", ExchangeRate: "1.1"}},
		domain.Command{Transfer: &domain.Transfer{ID: "fx-3", From: "a1", To: "eur-1", Amount: "100000", ExchangeRate: "1.1"}})
	// An account's lifecycle (ADR 0024): a limit changed, a freeze that
	// refuses a debit, an unfreeze, and a close at zero.
	lc := func(action, account, frozen, limit string) domain.Command {
		return domain.Command{Lifecycle: &domain.LifecycleRequest{Action: action,
			AccountChange: domain.AccountChange{Account: account, Frozen: frozen, OverdraftLimit: limit}}}
	}
	j.Batch(lc(domain.ActionLimit, "a1", "", "25"), lc(domain.ActionLimit, "limited", "", domain.Unlimited),
		lc(domain.ActionFreeze, "a2", domain.FrozenAll, ""),
		domain.Command{Transfer: &domain.Transfer{ID: "frozen-1", From: "a2", To: "a1", Amount: "1"}},
		lc(domain.ActionUnfreeze, "a2", "", ""),
		domain.Command{Account: &domain.Account{ID: "short-lived", Asset: "USD"}},
		lc(domain.ActionClose, "short-lived", "", ""))
	// A reversal (ADR 0023): a TransferPosted naming its original.
	var meta1 domain.Transfer
	for _, ev := range j.Events {
		if ev.Transfer != nil && ev.Transfer.ID == "meta-1" {
			meta1 = ev.Transfer.Transfer
		}
	}
	if ds := j.Batch(domain.Command{Reversal: &domain.Reversal{ID: "rev-1", Amount: "0.5", Original: meta1}}); ds[0].Outcome != domain.Posted {
		t.Fatalf("rev-1: %+v %v", ds[0], ds[0].Err)
	}
	// Multi-leg transactions (ADR 0023): one posted, one refused at a leg.
	legs := []domain.Leg{{From: "a1", To: "a2", Amount: "1", Reference: "pay", Metadata: map[string]string{"k": "v"}}, {From: "a1", To: "limited", Amount: "0.25"}}
	j.Batch(domain.Command{Transaction: &domain.Transaction{ID: "tx-1", Reference: "order", Legs: legs}},
		domain.Command{Transaction: &domain.Transaction{ID: "tx-2", Legs: []domain.Leg{{From: "a1", To: "a2", Amount: "1"}, {From: "a1", To: "a2", Amount: "1000000"}}}})
	schemas := map[domain.EventType]map[string]any{}
	for _, typ := range domain.EventTypes {
		schemas[typ] = loadSchema(t, typ, domain.SchemaVersion)
	}
	// The lines as stored, read back through a subscriber.
	r, stop := run(t, j.newSubscriber(subscriber.Config{}))
	waitFor(t, r, len(j.Events))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, ev := range r.events {
		var v any
		if err := json.Unmarshal(ev.Line, &v); err != nil {
			t.Fatal(err)
		}
		if errs := validate(schemas[ev.Type], schemas[ev.Type], v, "event"); len(errs) > 0 {
			t.Errorf("event %d (%s) does not match its schema:\n%s\n%s", ev.Seq, ev.Type, ev.Line, strings.Join(errs, "\n"))
		}
		for other, s := range schemas {
			if other != ev.Type && len(validate(s, s, v, "event")) == 0 {
				t.Errorf("event %d (%s) also matches the schema of %s", ev.Seq, ev.Type, other)
			}
		}
		seen[string(ev.Type)]++
		for _, feature := range []string{`"exchange_rate":`, `"rate_from":"table"`, `"rate_from":"request"`, `"metadata":`, `"overdraft_limit":"unlimited"`, `"reference":`, `"owner":`, `"code":"account_not_found"`, `"code":"invalid_amount"`, `"code":"insufficient_funds"`, `"code":"account_frozen"`, `"reverses":`, `"reversal":`} {
			if bytes.Contains(ev.Line, []byte(feature)) {
				seen[feature]++
			}
		}
	}
	for _, want := range []string{"AssetDefined", "AccountOpened", "TransferPosted", "TransferRejected", "CommandSkipped", "AccountMetadataUpdated",
		"TransferConverted", "RateSet", "AccountLimitChanged", "AccountFrozen", "AccountUnfrozen", "AccountClosed", "TransactionPosted", "TransactionRejected", `"code":"account_frozen"`, `"exchange_rate":`, `"rate_from":"table"`, `"rate_from":"request"`,
		`"metadata":`, `"overdraft_limit":"unlimited"`, `"reference":`, `"owner":`, `"code":"account_not_found"`, `"code":"invalid_amount"`, `"code":"insufficient_funds"`, `"reverses":`, `"reversal":`} {
		if seen[want] == 0 {
			t.Errorf("no event with %s was checked", want)
		}
	}

	// Broken variants of real events fail.
	posted := decodeLine(t, r.events[slices.IndexFunc(r.events, func(ev subscriber.Event) bool { return ev.Type == domain.EventTransferPosted })].Line)
	for name, mutate := range map[string]func(map[string]any){
		"amount as a number": func(v map[string]any) { v["transfer"].(map[string]any)["amount"] = 10.5 },
		"negative amount":    func(v map[string]any) { v["transfer"].(map[string]any)["amount"] = "-1.00" },
		"no hash":            func(v map[string]any) { delete(v, "hash") },
		"upper-case hash":    func(v map[string]any) { v["hash"] = strings.ToUpper(v["hash"].(string)) },
		"unknown field":      func(v map[string]any) { v["extra"] = true },
		"version 2":          func(v map[string]any) { v["v"] = 2.0 },
		"seq zero":           func(v map[string]any) { v["seq"] = 0.0 },
		"bad time":           func(v map[string]any) { v["time"] = "yesterday" },
		"credit first": func(v map[string]any) {
			e := v["transfer"].(map[string]any)["entries"].([]any)
			e[0], e[1] = e[1], e[0]
		},
		"one entry":    func(v map[string]any) { v["transfer"].(map[string]any)["entries"] = []any{} },
		"no asset":     func(v map[string]any) { delete(v["transfer"].(map[string]any), "asset") },
		"bad account":  func(v map[string]any) { v["transfer"].(map[string]any)["from"] = "a b" },
		"two payloads": func(v map[string]any) { v["asset"] = map[string]any{"code": "USD", "scale": 2.0} },
	} {
		v := deepCopy(posted)
		mutate(v)
		s := schemas[domain.EventTransferPosted]
		if len(validate(s, s, v, "event")) == 0 {
			t.Errorf("%s: a broken TransferPosted passes its schema", name)
		}
	}
	converted := decodeLine(t, r.events[slices.IndexFunc(r.events, func(ev subscriber.Event) bool { return ev.Type == domain.EventTransferConverted })].Line)
	for name, mutate := range map[string]func(map[string]any){
		"two entries": func(v map[string]any) { c := v["conversion"].(map[string]any); c["entries"] = c["entries"].([]any)[:2] },
		"FX leg elsewhere": func(v map[string]any) {
			v["conversion"].(map[string]any)["entries"].([]any)[1].(map[string]any)["account"] = "a2"
		},
		"no rate_from":     func(v map[string]any) { delete(v["conversion"].(map[string]any), "rate_from") },
		"rate as a number": func(v map[string]any) { v["conversion"].(map[string]any)["exchange_rate"] = 0.9155 },
		"a memo":           func(v map[string]any) { v["conversion"].(map[string]any)["memo"] = true },
	} {
		v := deepCopy(converted)
		mutate(v)
		s := schemas[domain.EventTransferConverted]
		if len(validate(s, s, v, "event")) == 0 {
			t.Errorf("%s: a broken TransferConverted passes its schema", name)
		}
	}
}

func decodeLine(t *testing.T, line []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(line, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func deepCopy(v map[string]any) map[string]any {
	data, _ := json.Marshal(v)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return out
}

// schemaKeywords are the JSON Schema keywords validate implements or
// ignores as annotations; a schema using any other fails the test, so the
// schemas cannot rely on a check this validator would skip.
var schemaKeywords = []string{
	"$schema", "$id", "$defs", "$ref", "title", "description",
	"type", "const", "enum", "properties", "required", "additionalProperties", "maxProperties", "propertyNames",
	"items", "prefixItems", "minItems", "maxItems", "allOf", "anyOf",
	"pattern", "minLength", "maxLength", "format", "minimum", "maximum",
}

// validate checks v against schema (a JSON Schema 2020-12 subset: the
// keywords above; any other fails); root resolves local "#/..." references.
func validate(root map[string]any, schema, v any, at string) []string {
	return schematest.Validator{Root: root, Keywords: schemaKeywords}.Validate(schema, v, at)
}

// TestEventTypesDocumented: docs/journal.md's one table of event types
// names every type with a link to its schema, which exists.
func TestEventTypesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/journal.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range domain.EventTypes {
		row := fmt.Sprintf("| [`%s`](events/%s.v%d.json) | ", typ, typ, domain.SchemaVersion)
		if !bytes.Contains(doc, []byte(row)) {
			t.Errorf("docs/journal.md has no row %q", row)
		}
		loadSchema(t, typ, domain.SchemaVersion)
	}
}
