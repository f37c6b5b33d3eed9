package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// HTTP server limits: slow or oversized clients cannot hold resources.
const (
	// HTTPReadHeaderTimeout bounds reading a request's headers.
	HTTPReadHeaderTimeout = 5 * time.Second
	httpReadTimeout       = 15 * time.Second
	httpWriteTimeout      = 30 * time.Second // longer than the sync timeout
	httpIdleTimeout       = 2 * time.Minute
	// MaxHeaderBytes is the documented limit on a request's header section
	// (request line and header fields, counted as sent: `Name: value` and
	// CRLF each). Over it the API answers 431 headers_too_large as a
	// problem; see headerLimit.
	MaxHeaderBytes = 16 << 10
	// httpHeaderReadMaxBytes is how much header net/http itself reads
	// before it gives up with its own plain-text 431. It is above
	// MaxHeaderBytes so that headerLimit, which answers a problem, sees
	// every request between the two; net/http adds httpHeaderSlackBytes
	// of slack to http.Server.MaxHeaderBytes, which is subtracted here so
	// that the hard limit is exactly this.
	httpHeaderReadMaxBytes = 64 << 10
	httpHeaderSlackBytes   = 4096 // net/http's initialReadLimitSize adds this
)

// NewHTTPServer returns the http.Server that serves h (the handler New
// returns) with the API's timeouts and header limits. ledger serve and the
// end-to-end tests use it, so that the tests meet the limits clients do.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: HTTPReadHeaderTimeout,
		ReadTimeout:       httpReadTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    httpHeaderReadMaxBytes - httpHeaderSlackBytes,
	}
}

// headerBytes is the size of r's header section as a client sends it in
// canonical form: the request line, each field as `Name: value` CRLF
// (Host included, which net/http moves out of Header), and the blank line.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + 2 + len(v) + 2
		}
	}
	return n + 2
}

// headerLimit answers 431 headers_too_large, as a problem, to a request
// whose header section exceeds max bytes. net/http's own limit
// (http.Server.MaxHeaderBytes) can only answer in plain text, before any
// handler runs; it is set higher (httpHeaderReadMaxBytes) so that this is
// the limit clients meet.
func headerLimit(max int) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if n := headerBytes(c.Request()); n > max {
				c.Response().Header().Set("Connection", "close")
				return problem(CodeHeadersTooLarge, "request header section is "+strconv.Itoa(n)+
					" bytes, over the limit of "+formatBytes(int64(max)))
			}
			return next(c)
		}
	}
}

// serveHEAD serves HEAD with the GET route of the same path, which Echo
// would answer 405: the route's handler and middleware run as for GET, and
// net/http, seeing a HEAD request, sends the headers and drops the body. A
// path without a GET route still answers 405 (or 404). It runs after
// routing (Echo.Use), where the route for HEAD has been looked up and not
// found; the request keeps its method, so the body is never sent.
func serveHEAD(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method != http.MethodHead {
			return next(c)
		}
		c.Echo().Router().Find(http.MethodGet, echo.GetPath(r), c)
		return c.Handler()(c)
	}
}

// isHEAD reports whether c is a HEAD request: streaming handlers answer it
// with their headers alone.
func isHEAD(c echo.Context) bool { return c.Request().Method == http.MethodHead }
