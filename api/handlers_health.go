package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

//go:embed openapi.json
var openapiDoc []byte

// OpenAPI returns the OpenAPI 3 document the server serves.
func OpenAPI() []byte { return openapiDoc }

func (s *Server) healthz(c echo.Context) error {
	return respond(c, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(c.Request().Context()); err != nil {
			return problem(CodeNotReady, err.Error())
		}
	}
	return respond(c, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) openapi(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openapiDoc)
}

// NotReadyProblem is the body GET /readyz answers with when the node is
// not ready, for the health listener of a node that serves no API.
func NotReadyProblem(detail string) Problem { return problem(CodeNotReady, detail).p }
