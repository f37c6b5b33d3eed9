package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The shapes of request types, as scanBody (decode_scan.go) needs them:
// which objects decode into structs, whose keys encoding/json matches
// ignoring case, and which fields are amounts.

// bodyShape is what scanBody needs to know about the Go value a JSON value
// decodes into. A nil shape is a value of any other kind: its keys, if it
// is an object, are compared exactly.
type bodyShape struct {
	// fold: the object's keys name struct fields, which encoding/json
	// matches case-insensitively, so "Amount" and "amount" are one key.
	fold bool
	// fields are the struct's fields by folded JSON name.
	fields map[string]*bodyShape
	// elem is the shape of a slice's or a map's elements.
	elem *bodyShape
	// amount: the value is an amountField.
	amount bool
}

// bodyShapes caches shapeOf by type: request types are few and fixed.
var bodyShapes sync.Map // reflect.Type -> *bodyShape

var (
	amountFieldType = reflect.TypeFor[amountField]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// shapeOf describes the type v points to.
func shapeOf(v any) *bodyShape {
	t := reflect.TypeOf(v)
	if sh, ok := bodyShapes.Load(t); ok {
		return sh.(*bodyShape)
	}
	sh := shapeOfType(t, map[reflect.Type]*bodyShape{})
	bodyShapes.Store(t, sh)
	return sh
}

// shapeOfType builds t's shape; seen holds the shapes under construction,
// so that a recursive type ends.
func shapeOfType(t reflect.Type, seen map[reflect.Type]*bodyShape) *bodyShape {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return nil
	}
	if sh, ok := seen[t]; ok {
		return sh
	}
	switch {
	case t == amountFieldType:
		return &bodyShape{amount: true}
	case reflect.PointerTo(t).Implements(unmarshalerType):
		return nil // decodes itself from the raw bytes
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map:
		sh := &bodyShape{}
		seen[t] = sh
		sh.elem = shapeOfType(t.Elem(), seen)
		return sh
	case t.Kind() == reflect.Struct:
		sh := &bodyShape{fold: true, fields: map[string]*bodyShape{}}
		seen[t] = sh
		addFields(sh, t, seen)
		return sh
	}
	return nil
}

// addFields adds the JSON fields of struct t to sh, those of embedded
// structs included, as encoding/json promotes them.
func addFields(sh *bodyShape, t reflect.Type, seen map[reflect.Type]*bodyShape) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			addFields(sh, ft, seen)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		sh.fields[foldKey(name)] = shapeOfType(f.Type, seen)
	}
}

// foldKey folds a key as encoding/json does to match it to a struct field
// (fold.go: ASCII upper case; other runes to the smallest of their fold
// set, so "ſ" is "S"), so that two keys meaning one field collide.
func foldKey(k string) string { return string(appendFold(nil, []byte(k))) }

// appendFold appends k folded as foldKey folds it.
func appendFold(b, k []byte) []byte {
	for i := 0; i < len(k); {
		c := k[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(k[i:])
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		b = utf8.AppendRune(b, r)
		i += n
	}
	return b
}
