# pacd's build and test entry points. `make test` is the one command that
# runs the whole test suite; .ci/run calls exactly it.

GO ?= go
FUZZTIME ?= 5s

.PHONY: all build wasm wasm-embed test check unit corpus fuzz bench deps corpus-gen

all: build

# build builds pacd with the WebAssembly module inside, for --sandbox.
build: wasm-embed
	$(GO) build -trimpath -tags pacd_embedwasm -o bin/pacd ./cmd/pacd

# wasm builds the PAC engine as a WebAssembly reactor (see cmd/pac-wasm).
wasm:
	GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -ldflags='-s -w' -o bin/pac.wasm ./cmd/pac-wasm

# wasm-embed compresses the module into package wasm/embedded, which
# builds it into programs with the tag pacd_embedwasm. The file is
# generated, and not committed.
wasm-embed: wasm
	gzip -9 -n -c bin/pac.wasm > wasm/embedded/pac.wasm.gz.tmp
	mv wasm/embedded/pac.wasm.gz.tmp wasm/embedded/pac.wasm.gz

# deps installs everything the tests need on a fresh Debian machine.
deps:
	./scripts/install-deps.sh

# test runs every check: formatting, vet, the PAC corpus through the CLI,
# short fuzzing runs, and the unit and integration tests with the race
# detector (last, so that its summary closes the output).
test: deps check corpus fuzz unit

check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod verify

corpus:
	$(GO) run ./cmd/pacd test testdata/pac

# fuzz runs every fuzz target for FUZZTIME each (make fuzz FUZZTIME=10m
# for a long run). Their seed corpora are in the tests and in testdata/fuzz.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParseResult$$' -fuzztime=$(FUZZTIME) ./pac
	$(GO) test -run='^$$' -fuzz='^FuzzShExpMatch$$' -fuzztime=$(FUZZTIME) ./pac
	$(GO) test -run='^$$' -fuzz='^FuzzCompile$$' -fuzztime=$(FUZZTIME) ./pac
	$(GO) test -run='^$$' -fuzz='^FuzzParseProxyURL$$' -fuzztime=$(FUZZTIME) ./resolver
	$(GO) test -run='^$$' -fuzz='^FuzzBypassList$$' -fuzztime=$(FUZZTIME) ./resolver
	$(GO) test -run='^$$' -fuzz='^FuzzMount$$' -fuzztime=$(FUZZTIME) ./resolver
	$(GO) test -run='^$$' -fuzz='^FuzzHTTPProxy$$' -fuzztime=$(FUZZTIME) ./internal/daemon
	$(GO) test -run='^$$' -fuzz='^FuzzSOCKS5Handshake$$' -fuzztime=$(FUZZTIME) ./internal/daemon

unit:
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./pac

# corpus-gen rewrites the generated corporate PAC and its expectations.
corpus-gen:
	$(GO) run ./internal/gencorpus -o testdata/pac

# bench-daemon measures pacd serve beside a direct connection, squid and
# tinyproxy on loopback (see bench/README.md).
.PHONY: bench-daemon
bench-daemon:
	./bench/daemon.sh

# bench-engines measures pacd's PAC engine, native and in its WebAssembly
# module, beside pacparser and pac-resolver (see bench/README.md).
.PHONY: bench-engines
bench-engines:
	./bench/engines.sh

# soak runs pacd serve under mixed load, with upstreams killed and
# restarted and SIGHUP reloads, for SOAK_DURATION (10m; SOAK_QUICK=1 for
# 20 s) and reports what it served, the errors and pacd's growth (see
# bench/README.md).
.PHONY: soak
soak:
	./bench/soak.sh
