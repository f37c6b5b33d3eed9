package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/domain"
)

// decodeBody reads the request body as exactly one JSON object into v,
// refusing unknown fields, trailing data, and a non-JSON content type.
// Before decoding, scanBody refuses with validation_failed what
// encoding/json would accept silently or guess at: duplicate keys, deep
// nesting, invalid UTF-8, a top level that is not an object; and it hands a
// bare malformed number in an amount field (+1, 00.5) to the field as text,
// so that the handler refuses it as the malformed amount it is.
func decodeBody(c echo.Context, v any) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeJSON(body, v)
}

// readBody checks the content type and reads the whole body. The usual
// exact "application/json" needs no parsing (which builds a map of
// parameters).
func readBody(c echo.Context) ([]byte, error) {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" && ct != echo.MIMEApplicationJSON {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != echo.MIMEApplicationJSON {
			return nil, problem(CodeUnsupportedMediaType, "Content-Type must be application/json")
		}
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, problem(CodePayloadTooLarge, "request body exceeds the limit of "+formatBytes(mbe.Limit))
		}
		return nil, problem(domain.CodeValidationFailed, "could not read the request body")
	}
	return body, nil
}

// decodeJSON is decodeBody's decoding of a body already read.
func decodeJSON(body []byte, v any) error {
	body, err := scanBody(body, shapeOf(v))
	if err != nil {
		return err
	}
	if f, ok := v.(fastDecoder); ok && f.decodeFast(body) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return problem(domain.CodeValidationFailed, "malformed JSON body: "+jsonErrorText(err))
	}
	if dec.More() {
		return problem(domain.CodeValidationFailed, "malformed JSON body: data after the object")
	}
	return nil
}

// fastDecoder is a request type with a decoder for its common case
// (fast_transfer.go): it reports false, leaving itself zero, for any body
// it does not decode exactly as encoding/json would.
type fastDecoder interface {
	decodeFast(body []byte) bool
}

func jsonErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q must be %s", te.Field, te.Type.String())
	}
	if errors.Is(err, io.EOF) {
		return "empty body"
	}
	return err.Error()
}

// amountField accepts an amount as a JSON string or a JSON number and keeps
// its exact decimal text: numbers are never read through a float. A bare
// token that is not a JSON number (+1, 00.5, NaN) reaches it quoted by
// scanBody, so its text is refused by the handler's amount check.
type amountField struct {
	text string
	set  bool
}

func (a *amountField) UnmarshalJSON(b []byte) error {
	a.set = true
	switch {
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &a.text)
	case bytes.Equal(b, []byte("null")):
		a.set = false
		return nil
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		a.text = string(b)
		return nil
	}
	return errAmountType
}

var errAmountType = errors.New("amount must be a decimal string or a JSON number")

func formatBytes(n int64) string {
	if n%(1<<10) == 0 {
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
