package testbank

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// resource is a JSON:API resource object.
type resource struct {
	Type          string                  `json:"type"`
	ID            string                  `json:"id"`
	Attributes    any                     `json:"attributes"`
	Relationships map[string]relationship `json:"relationships,omitempty"`
	Meta          map[string]any          `json:"meta,omitempty"`
}

// relationship is a to-one relationship: {"data":{"type","id"}}.
type relationship struct {
	Data identifier `json:"data"`
}

type identifier struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

func rel(typ, id string) relationship { return relationship{Data: identifier{Type: typ, ID: id}} }

// isoTime is Testbank's timestamp: ISO 8601 in UTC with milliseconds.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// inbound is a request document: {"data": {type, attributes, relationships}}.
type inbound struct {
	Data *struct {
		Type          string                     `json:"type"`
		ID            string                     `json:"id"`
		Attributes    map[string]json.RawMessage `json:"attributes"`
		Relationships map[string]struct {
			Data *identifier `json:"data"`
		} `json:"relationships"`
	} `json:"data"`
}

// decodeDocument parses a JSON:API request document of type typ.
func decodeDocument(body []byte, typ string) (*inbound, *Error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, invalid("", "The body must be a JSON:API document: {\"data\": {...}}.")
	}
	var doc inbound
	if err := json.Unmarshal(body, &doc); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, invalid("/"+jsonPath(te.Field), fmt.Sprintf("%s has the wrong type.", te.Field))
		}
		return nil, invalid("", "The body is not valid JSON.")
	}
	if doc.Data == nil {
		return nil, invalid("/data", "data is required.")
	}
	if doc.Data.Type != typ {
		return nil, invalid("/data/type", fmt.Sprintf("data.type must be %q.", typ))
	}
	return &doc, nil
}

func jsonPath(field string) string {
	return string(bytes.ReplaceAll([]byte(field), []byte("."), []byte("/")))
}

// stringAttr reads an optional string attribute; present but not a
// string is an error.
func (d *inbound) stringAttr(name string) (string, bool, *Error) {
	raw, ok := d.Data.Attributes[name]
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, invalid("/data/attributes/"+name, name+" must be a string.")
	}
	return s, true, nil
}

// relID reads a to-one relationship's id of type typ.
func (d *inbound) relID(name, typ string) (string, *Error) {
	r, ok := d.Data.Relationships[name]
	pointer := "/data/relationships/" + name
	if !ok || r.Data == nil || r.Data.ID == "" {
		return "", invalid(pointer, name+" is required: {\"data\": {\"type\": \""+typ+"\", \"id\": ...}}.")
	}
	if r.Data.Type != typ {
		return "", invalid(pointer+"/data/type", fmt.Sprintf("%s must be of type %q.", name, typ))
	}
	return r.Data.ID, nil
}
