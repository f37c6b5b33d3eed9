# The default target lists the others. `make check` is what CI runs.
GO ?= go
PKGS := ./...

.PHONY: help run build test test-purego test-mixin-sdk check fmt vet lint fuzz clean

# staticcheck is fetched through the Go module proxy at a pinned version.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: ## run the ledger on ./data (HTTP on 127.0.0.1:8080)
	$(GO) run ./cmd/ledger serve

build: ## build ./ledger
	$(GO) build -o ledger ./cmd/ledger

test: lint ## what CI runs: gofmt, go vet, staticcheck, and every test with the race detector
	$(GO) test -race -count=1 -timeout 12m $(PKGS)
	$(MAKE) test-purego
	$(MAKE) test-mixin-sdk

test-purego: ## the audit's hashing and keys built purego (hash/maphash and crypto/sha256 in plain Go)
	$(GO) test -count=1 -tags purego ./audit/internal/...
	$(GO) test -count=1 -tags purego -run 'TestWorkerKeysAgreeWithKeyOf|TestFastPathAgreesWithGeneralPath|TestPairedHashingAgrees|TestSpec' ./audit/

test-mixin-sdk: ## the Mixin SDK against a real ledger serve (its own module: test/mixinsdk)
	cd test/mixinsdk && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 5m ./...

check: test ## alias of test: fmt, vet, lint and tests with -race

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^tools/')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	GOFLAGS= $(GO) run $(STATICCHECK) $(PKGS)

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	@for p in domain commands audit/internal/sha256x audit/internal/idhash; do for t in $$(grep -ho '^func Fuzz[A-Za-z]*' $$p/*_test.go | sed 's/func //'); do \
		$(GO) test -run=NONE -fuzz=^$$t$$ -fuzztime=$${FUZZTIME:-30s} ./$$p/ || exit 1; done; done

clean: ## remove build outputs (not ./data)
	rm -f ledger
