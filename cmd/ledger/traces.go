package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// tracesShutdownTimeout bounds flushing the spans still queued at exit: a
// collector that is down must not hold the ledger's shutdown.
const tracesShutdownTimeout = 5 * time.Second

// tracerName names the ledger's instrumentation scope.
const tracerName = "github.com/nats-ledger/ledger"

// otlpTracesURL turns --otlp-endpoint, a base URL as the standard
// OTEL_EXPORTER_OTLP_ENDPOINT is (http://collector:4318), into the URL
// the traces are posted to: its path followed by /v1/traces.
func otlpTracesURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", usagef("--otlp-endpoint %q: use a URL such as http://127.0.0.1:4318 (OTLP over HTTP)", endpoint)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	return u.String(), nil
}

// startTracing exports spans over OTLP/HTTP to endpoint (checked by
// otlpTracesURL), in batches from a bounded queue (the SDK's, 2,048
// spans: past it, spans are dropped rather than slow the ledger). The
// standard OTEL_* variables tune what the flag does not set: headers,
// timeout, compression and certificates of the exporter, the sampler
// (parent-based, always on by default), the service name and resource
// attributes. It returns the tracer and the function that flushes and
// stops the export.
func startTracing(ctx context.Context, endpoint, ledger string) (trace.Tracer, func(), error) {
	target, err := otlpTracesURL(endpoint)
	if err != nil {
		return nil, nil, err
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(target))
	if err != nil {
		return nil, nil, fmt.Errorf("otlp exporter: %w", err)
	}
	// Later options win: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
	// over the defaults.
	res, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", "ledger"),
		attribute.String("ledger.name", ledger)), resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil {
		return nil, nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), tracesShutdownTimeout)
		defer cancel()
		_ = tp.Shutdown(ctx)
	}
	return tp.Tracer(tracerName), stop, nil
}
