package api

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/domain"
)

// repeatableQuery names the query parameters that may be given more than
// once (the event types of GET /v1/events); every other one is single.
var repeatableQuery = map[string]bool{"type": true}

// singleQuery refuses a request that repeats a single-valued query
// parameter: taking the first value and ignoring the rest would answer a
// question the client did not ask (?account=a&account=b).
func singleQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.QueryString() == "" {
			return next(c) // the usual write: no map of parameters to build
		}
		for name, values := range c.QueryParams() {
			if len(values) > 1 && !repeatableQuery[name] {
				return &domain.FieldError{Field: name, Reason: "given " + strconv.Itoa(len(values)) + " times; give it once"}
			}
		}
		return next(c)
	}
}
