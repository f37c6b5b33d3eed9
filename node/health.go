package node

import (
	"encoding/json"
	"net/http"

	"github.com/nats-ledger/ledger/api"
)

// healthHandler is the HTTP side of a node without the API role: liveness,
// readiness and metrics, as the API serves them, for an orchestrator's
// health checks and a Prometheus scrape.
func (n *Node) healthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, "application/json", http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := n.Ready(r.Context()); err != nil {
			writeJSON(w, "application/problem+json", http.StatusServiceUnavailable, api.NotReadyProblem(err.Error()))
			return
		}
		writeJSON(w, "application/json", http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", n.metrics.Handler())
	return mux
}

func writeJSON(w http.ResponseWriter, contentType string, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
