// Package schematest checks JSON values against the subset of JSON Schema
// that the project's documents use: the event schemas in docs/events/ and
// the OpenAPI document in api/. It exists for tests, so that both sets of
// documents are held to one validator.
package schematest

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Validator checks values against schemas inside Root, which local
// references ("#/...") resolve against. With Keywords set, a schema using
// a keyword outside it is an error, so that a document cannot rely on a
// check the validator does not make; without, unknown keywords are taken
// as annotations.
type Validator struct {
	Root     map[string]any
	Keywords []string
}

// Validate checks v against schema and returns one line per failure, each
// starting with the path at (extended with ".key" and "[i]" below it).
// Implemented: $ref, allOf, anyOf, oneOf, not, const, enum, type (a name
// or a list), properties, required, additionalProperties, maxProperties,
// propertyNames, items, prefixItems, minItems, maxItems, pattern (with
// ECMA-262 \uXXXX escapes), minLength, maxLength, the date-time format,
// minimum, maximum and exclusiveMinimum.
func (val Validator) Validate(schema, v any, at string) []string {
	s, ok := schema.(map[string]any)
	if !ok {
		return []string{at + ": schema is not an object"}
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	if val.Keywords != nil {
		for k := range s {
			if !slices.Contains(val.Keywords, k) {
				fail("schema keyword %q is not supported by this validator", k)
			}
		}
	}
	if ref, ok := s["$ref"].(string); ok {
		target, err := Resolve(val.Root, ref)
		if err != nil {
			return append(errs, at+": "+err.Error())
		}
		errs = append(errs, val.Validate(target, v, at)...)
	}
	for _, sub := range anySlice(s["allOf"]) {
		errs = append(errs, val.Validate(sub, v, at)...)
	}
	if anyOf, ok := s["anyOf"].([]any); ok && val.countValid(anyOf, v, at) == 0 {
		fail("matches none of anyOf")
	}
	if oneOf, ok := s["oneOf"].([]any); ok {
		if n := val.countValid(oneOf, v, at); n != 1 {
			fail("matches %d of oneOf, want 1", n)
		}
	}
	if not, ok := s["not"]; ok && len(val.Validate(not, v, at)) == 0 {
		fail("matches a schema it must not")
	}
	if c, ok := s["const"]; ok && !reflect.DeepEqual(c, v) {
		fail("%v, want %v", v, c)
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return reflect.DeepEqual(e, v) }) {
		fail("%v is not one of %v", v, enum)
	}
	if typ, ok := s["type"]; ok {
		types := anySlice(typ)
		if name, ok := typ.(string); ok {
			types = []any{name}
		}
		if !slices.ContainsFunc(types, func(t any) bool { return hasType(v, fmt.Sprint(t)) }) {
			fail("%T %v is not of type %v", v, v, typ)
			return errs
		}
	}
	switch v := v.(type) {
	case map[string]any:
		errs = append(errs, val.object(s, v, at)...)
	case []any:
		errs = append(errs, val.array(s, v, at)...)
	case string:
		errs = append(errs, stringErrs(s, v, at)...)
	case float64:
		errs = append(errs, numberErrs(s, v, at)...)
	}
	return errs
}

// array checks an array's keywords.
func (val Validator) array(s map[string]any, v []any, at string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	if min, ok := s["minItems"].(float64); ok && float64(len(v)) < min {
		fail("%d items, at least %v", len(v), min)
	}
	if max, ok := s["maxItems"].(float64); ok && float64(len(v)) > max {
		fail("%d items, at most %v", len(v), max)
	}
	prefix := anySlice(s["prefixItems"])
	for i, e := range v {
		if i < len(prefix) {
			errs = append(errs, val.Validate(prefix[i], e, at+"["+strconv.Itoa(i)+"]")...)
		} else if items, ok := s["items"]; ok {
			errs = append(errs, val.Validate(items, e, at+"["+strconv.Itoa(i)+"]")...)
		}
	}
	return errs
}

// stringErrs checks a string's keywords.
func stringErrs(s map[string]any, v, at string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	n := float64(utf8.RuneCountInString(v))
	if min, ok := s["minLength"].(float64); ok && n < min {
		fail("%q is shorter than %v", v, min)
	}
	if max, ok := s["maxLength"].(float64); ok && n > max {
		fail("%q is longer than %v", v, max)
	}
	if p, ok := s["pattern"].(string); ok {
		if re, err := regexp.Compile(ecmaToRE2(p)); err != nil {
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
	return errs
}

// numberErrs checks a number's keywords.
func numberErrs(s map[string]any, v float64, at string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	if min, ok := s["minimum"].(float64); ok && v < min {
		fail("%v < minimum %v", v, min)
	}
	if max, ok := s["maximum"].(float64); ok && v > max {
		fail("%v > maximum %v", v, max)
	}
	if min, ok := s["exclusiveMinimum"].(float64); ok && v <= min {
		fail("%v <= exclusiveMinimum %v", v, min)
	}
	return errs
}

// object checks an object's keywords.
func (val Validator) object(s, v map[string]any, at string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	for _, k := range anySlice(s["required"]) {
		if _, ok := v[fmt.Sprint(k)]; !ok {
			fail("lacks required %q", k)
		}
	}
	if max, ok := s["maxProperties"].(float64); ok && float64(len(v)) > max {
		fail("%d properties, at most %v", len(v), max)
	}
	props, _ := s["properties"].(map[string]any)
	for k, e := range v {
		if pn, ok := s["propertyNames"]; ok {
			errs = append(errs, val.Validate(pn, k, at+" key "+strconv.Quote(k))...)
		}
		if ps, ok := props[k]; ok {
			errs = append(errs, val.Validate(ps, e, at+"."+k)...)
			continue
		}
		switch ap := s["additionalProperties"].(type) {
		case bool:
			if !ap {
				fail("unexpected property %q", k)
			}
		case map[string]any:
			errs = append(errs, val.Validate(ap, e, at+"."+k)...)
		}
	}
	return errs
}

func (val Validator) countValid(schemas []any, v any, at string) int {
	n := 0
	for _, sub := range schemas {
		if len(val.Validate(sub, v, at)) == 0 {
			n++
		}
	}
	return n
}

// Resolve follows a local JSON pointer such as "#/components/schemas/X"
// inside root.
func Resolve(root map[string]any, ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("%s: only local references are used", ref)
	}
	var cur any = root
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
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
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	}
	return false
}

func anySlice(v any) []any {
	s, _ := v.([]any)
	return s
}

var ecmaUnicodeEscape = regexp.MustCompile(`\\u([0-9a-fA-F]{4})`)

// ecmaToRE2 rewrites the ECMA-262 \uXXXX escapes of a pattern into RE2's
// \x{XXXX}.
func ecmaToRE2(p string) string { return ecmaUnicodeEscape.ReplaceAllString(p, `\x{$1}`) }
