# fileapi — build, run and test. See README.md.
GO        ?= go
BIN       := bin/fileapi
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
# Packages with concurrency run under the race detector in `make test`.
RACE_PKGS := ./sftpd/... ./keys/... ./batch/... ./audit/...
FUZZTIME  ?= 10s

.PHONY: build run test test-unit test-race test-xcrypto fuzz-short bench bench-go bench-sftp lint clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/fileapi

# Starts the service with embedded defaults: data in ./data, SFTP on :2022,
# health and metrics on 127.0.0.1:8022.
run: build
	./$(BIN) serve

test: lint test-unit test-race test-xcrypto fuzz-short

test-unit: build
	$(GO) test -count=1 -timeout 8m ./...

test-race:
	$(GO) test -race -count=1 -timeout 8m $(RACE_PKGS)

# Upstream's tests of x/crypto/ssh with our patch (third_party/).
test-xcrypto:
	./third_party/test-xcrypto.sh

# A short run of every fuzz target (the corpus lives in testdata/fuzz).
# Go 1.26's fuzzing coordinator can end a run with a bare "context
# deadline exceeded" at the -fuzztime boundary (golang/go#75804, fixed in
# Go 1.27): that, with no failing input written, is not a failure.
fuzz-short:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; \
	    out=$$($(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg 2>&1); rc=$$?; \
	    if [ $$rc -eq 0 ]; then echo "$$out" | tail -1; continue; fi; \
	    echo "$$out"; \
	    if echo "$$out" | grep -q 'Failing input written'; then exit 1; fi; \
	    if [ "$$(echo "$$out" | grep -A1 -- '--- FAIL' | tail -1 | tr -d ' \t')" = "contextdeadlineexceeded" ]; then \
	      echo "fuzz $$f: Go's fuzztime deadline race (golang/go#75804), no failing input: not a failure"; \
	    else exit 1; fi; \
	  done; \
	done

# All benchmarks: the Go ones, then SFTP against OpenSSH (bench/run.sh;
# BENCH_QUICK=1 for a run of minutes). Not part of `make test`.
bench: bench-go bench-sftp

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...

bench-sftp:
	./bench/run.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin
