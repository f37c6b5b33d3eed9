# syntax=docker/dockerfile:1
# The ledger's image: one static binary (Pebble and the embedded NATS
# server are pure Go) on Alpine, run as an unprivileged user. Alpine
# rather than distroless for busybox's wget, which the health checks use.
#   docker build -t ledger .
#   docker run -p 8080:8080 -e LEDGER_ADMIN_TOKEN=... ledger

FROM golang:1.26-alpine AS build
WORKDIR /src
# Modules first: a change to the code does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ledger ./cmd/ledger

FROM alpine:3.22
RUN addgroup -S -g 10001 ledger \
 && adduser -S -D -H -u 10001 -G ledger ledger \
 && mkdir -p /data \
 && chown ledger:ledger /data
COPY --from=build /out/ledger /usr/local/bin/ledger
USER 10001:10001
# The data directory: the embedded JetStream store (all-in-one), the read
# model, the data-directory lock and generated keys.
VOLUME /data
ENV LEDGER_DATA_DIR=/data \
    LEDGER_HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD wget -q -O /dev/null http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["ledger"]
CMD ["serve"]
