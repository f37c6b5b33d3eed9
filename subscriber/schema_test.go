package subscriber_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nats-ledger/ledger/domain"
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
	j.seed()
	j.batch(
		domain.Command{OpenAccount: &domain.Account{ID: "open:ended", Asset: "USD", OverdraftLimit: "unlimited"}},
		domain.Command{OpenAccount: &domain.Account{ID: "limited", Asset: "USD", OverdraftLimit: "7.5"}},
		domain.Command{Transfer: &domain.Transfer{ID: "meta-1", From: "a1", To: "a2", Amount: "1", Asset: "USD",
			Metadata: map[string]string{"order": "42", "é": "<b>&\"quoted\""}}},
		transfer("ghost-1", "a1", "nobody", "1.234"),
		domain.Command{Transfer: &domain.Transfer{ID: "scale-1", From: "a1", To: "a2", Amount: "1.001"}},
		domain.Command{DefineAsset: &domain.Asset{Code: "BTC_8", Scale: 18}},
	)
	schemas := map[domain.EventType]map[string]any{}
	for _, typ := range domain.EventTypes {
		schemas[typ] = loadSchema(t, typ, domain.SchemaVersion)
	}
	// The lines as stored, read back through a subscriber.
	r, stop := run(t, j.newSubscriber(subscriber.Config{}))
	waitFor(t, r, len(j.events))
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
		for _, feature := range []string{`"metadata":`, `"overdraft_limit":"unlimited"`, `"reference":`, `"owner":`, `"code":"account_not_found"`, `"code":"invalid_amount"`, `"code":"insufficient_funds"`} {
			if bytes.Contains(ev.Line, []byte(feature)) {
				seen[feature]++
			}
		}
	}
	for _, want := range []string{"AssetDefined", "AccountOpened", "TransferPosted", "TransferRejected",
		`"metadata":`, `"overdraft_limit":"unlimited"`, `"reference":`, `"owner":`, `"code":"account_not_found"`, `"code":"invalid_amount"`, `"code":"insufficient_funds"`} {
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
// keywords above); root resolves local "#/..." references.
func validate(root map[string]any, schema, v any, at string) []string {
	s, ok := schema.(map[string]any)
	if !ok {
		return []string{at + ": schema is not an object"}
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	for k := range s {
		if !slices.Contains(schemaKeywords, k) {
			fail("schema keyword %q is not supported by this validator", k)
		}
	}
	if ref, ok := s["$ref"].(string); ok {
		target, err := resolveRef(root, ref)
		if err != nil {
			return append(errs, at+": "+err.Error())
		}
		errs = append(errs, validate(root, target, v, at)...)
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			errs = append(errs, validate(root, sub, v, at)...)
		}
	}
	if anyOf, ok := s["anyOf"].([]any); ok && !slices.ContainsFunc(anyOf, func(sub any) bool { return len(validate(root, sub, v, at)) == 0 }) {
		fail("matches none of anyOf")
	}
	if c, ok := s["const"]; ok && !reflect.DeepEqual(c, v) {
		fail("%v, want %v", v, c)
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return reflect.DeepEqual(e, v) }) {
		fail("%v is not one of %v", v, enum)
	}
	if typ, ok := s["type"].(string); ok && !hasType(v, typ) {
		fail("%T %v is not of type %s", v, v, typ)
		return errs
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, k := range anySlice(s["required"]) {
			if _, ok := v[fmt.Sprint(k)]; !ok {
				fail("lacks required %q", k)
			}
		}
		if max, ok := s["maxProperties"].(float64); ok && float64(len(v)) > max {
			fail("%d properties, at most %v", len(v), max)
		}
		for k, e := range v {
			if pn, ok := s["propertyNames"]; ok {
				errs = append(errs, validate(root, pn, k, at+" key "+strconv.Quote(k))...)
			}
			if ps, ok := props[k]; ok {
				errs = append(errs, validate(root, ps, e, at+"."+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					fail("unexpected property %q", k)
				}
			case map[string]any:
				errs = append(errs, validate(root, ap, e, at+"."+k)...)
			}
		}
	case []any:
		if min, ok := s["minItems"].(float64); ok && float64(len(v)) < min {
			fail("%d items, at least %v", len(v), min)
		}
		if max, ok := s["maxItems"].(float64); ok && float64(len(v)) > max {
			fail("%d items, at most %v", len(v), max)
		}
		prefix := anySlice(s["prefixItems"])
		for i, e := range v {
			if i < len(prefix) {
				errs = append(errs, validate(root, prefix[i], e, fmt.Sprintf("%s[%d]", at, i))...)
			} else if items, ok := s["items"]; ok {
				errs = append(errs, validate(root, items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case string:
		n := float64(utf8.RuneCountInString(v))
		if min, ok := s["minLength"].(float64); ok && n < min {
			fail("%q is shorter than %v", v, min)
		}
		if max, ok := s["maxLength"].(float64); ok && n > max {
			fail("%q is longer than %v", v, max)
		}
		if p, ok := s["pattern"].(string); ok {
			if re, err := regexp.Compile(p); err != nil {
				fail("pattern %q: %v", p, err)
			} else if !re.MatchString(v) {
				fail("%q does not match %s", v, p)
			}
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				fail("%q is not an RFC 3339 date-time", v)
			}
		}
	case float64:
		if min, ok := s["minimum"].(float64); ok && v < min {
			fail("%v < minimum %v", v, min)
		}
		if max, ok := s["maximum"].(float64); ok && v > max {
			fail("%v > maximum %v", v, max)
		}
	}
	return errs
}

func anySlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func resolveRef(root map[string]any, ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("%s: only local references are used", ref)
	}
	var cur any = root
	for _, tok := range strings.Split(ref[2:], "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %q is inside a non-object", ref, tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("%s: no %q", ref, tok)
		}
	}
	return cur, nil
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	case "number":
		_, ok := v.(float64)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	}
	return false
}
