#!/usr/bin/env bash
# bench/engines.sh: pacd's PAC engine, natively and as its WebAssembly
# module under wazero, beside pacparser and pac-resolver, on the same PAC
# scripts and URL lists, in one run. See bench/README.md, "PAC engines".
#
#   ./bench/engines.sh               (or: make bench-engines)
#   BENCH_QUICK=1 ./bench/engines.sh a smoke run of about a minute and a
#                                    half (too short for Node's compiler to
#                                    warm up: pac-resolver's figures are off)
#
# pacparser is Debian's python3-pacparser and runs under libfaketime
# (Debian's faketime); scripts/install-deps.sh installs both. pac-resolver
# is installed here, from npm, at the version pinned below, into
# bench/.cache/node (not committed). bin/pac.wasm is built if it is missing
# or older than its sources.
#
# Environment:
#   BENCH_ROUNDS   rounds over every script and engine (default 3)
#   BENCH_RUNS     timed runs per engine, script and round (default 5)
#   BENCH_MIN_RUN  least duration of a timed run (default 200ms)
#   BENCH_WARMUP   warm-up before the timed runs (default 1s)
#   BENCH_SCRIPTS  comma-separated .pactest files, or PAC=PACTEST (default:
#                  the list in bench/engines/main.go)
#   BENCH_ENGINES  some of native,wasm,pacparser,pac-resolver (default all)
#   BENCH_JSON     also write every result to this file
#   BENCH_QUICK=1  one round of 3 runs of 50ms after a 300ms warm-up
#
# Nothing here uses the network but `npm install`, when the package is not
# yet in the cache. The peers run in a network namespace of their own
# (unshare -n) where that is allowed, and their DNS, client address and
# clock are fixed by bench/engines (see its package documentation).
set -euo pipefail

cd "$(dirname "$0")/.."

PAC_RESOLVER_VERSION=9.0.2
QUICKJS_WASI_VERSION=3.7.0

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench/engines.sh: %s\n' "$*" >&2; exit 1; }

cmdline=""
for v in BENCH_QUICK BENCH_ROUNDS BENCH_RUNS BENCH_MIN_RUN BENCH_WARMUP BENCH_SCRIPTS BENCH_ENGINES; do
	if [[ -n "${!v:-}" ]]; then cmdline+="$v=${!v} "; fi
done
cmdline+="./bench/engines.sh"

if [[ "${BENCH_QUICK:-}" == 1 ]]; then
	: "${BENCH_ROUNDS:=1}" "${BENCH_RUNS:=3}" "${BENCH_MIN_RUN:=50ms}" "${BENCH_WARMUP:=300ms}"
fi

for bin in go node npm; do
	command -v "$bin" >/dev/null || die "$bin is not installed (scripts/install-deps.sh)"
done
python=${BENCH_PYTHON:-/usr/bin/python3}
"$python" -c 'import pacparser' 2>/dev/null ||
	die "pacparser is not importable by $python: run scripts/install-deps.sh (Debian: apt-get install python3-pacparser faketime)"
faketime=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)
[[ -n "$faketime" ]] || die "libfaketime is not installed: run scripts/install-deps.sh (Debian: apt-get install faketime)"

cache=bench/.cache
mkdir -p "$cache"

# pac-resolver and its peer dependency quickjs-wasi, at pinned versions.
modules=$cache/node/node_modules
installed() { node -p "require('./$modules/$1/package.json').version" 2>/dev/null || true; }
if [[ $(installed pac-resolver) != "$PAC_RESOLVER_VERSION" || $(installed quickjs-wasi) != "$QUICKJS_WASI_VERSION" ]]; then
	log "installing pac-resolver@$PAC_RESOLVER_VERSION and quickjs-wasi@$QUICKJS_WASI_VERSION into $cache/node"
	npm install --prefix "$cache/node" --save-exact --no-audit --no-fund --loglevel=error \
		"pac-resolver@$PAC_RESOLVER_VERSION" "quickjs-wasi@$QUICKJS_WASI_VERSION" >&2
fi

# bin/pac.wasm, if missing or older than any Go file it is built from.
stale=""
if [[ -s bin/pac.wasm ]]; then
	mapfile -t dirs < <(GOOS=wasip1 GOARCH=wasm go list -deps -f '{{if not .Standard}}{{.Dir}}{{end}}' ./cmd/pac-wasm)
	stale=$(find "${dirs[@]}" go.mod go.sum -maxdepth 1 \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -newer bin/pac.wasm -print -quit)
fi
if [[ ! -s bin/pac.wasm || -n "$stale" ]]; then
	log "building bin/pac.wasm${stale:+ ($stale is newer)}"
	make --no-print-directory wasm >&2
fi

log "building bench/engines"
go build -trimpath -o "$cache/engines" ./bench/engines

args=(-command "$cmdline" -faketime "$faketime" -python "$python"
	-node-modules "$modules" -wasm bin/pac.wasm -wasm-cache "$cache/wazero")
[[ -n "${BENCH_ROUNDS:-}" ]] && args+=(-rounds "$BENCH_ROUNDS")
[[ -n "${BENCH_RUNS:-}" ]] && args+=(-runs "$BENCH_RUNS")
[[ -n "${BENCH_MIN_RUN:-}" ]] && args+=(-min-run "$BENCH_MIN_RUN")
[[ -n "${BENCH_WARMUP:-}" ]] && args+=(-warmup "$BENCH_WARMUP")
[[ -n "${BENCH_SCRIPTS:-}" ]] && args+=(-scripts "$BENCH_SCRIPTS")
[[ -n "${BENCH_ENGINES:-}" ]] && args+=(-engines "$BENCH_ENGINES")
[[ -n "${BENCH_JSON:-}" ]] && args+=(-json "$BENCH_JSON")

log "measuring (the report is also written to $cache/engines-report.md)"
"$cache/engines" "${args[@]}" | tee "$cache/engines-report.md"
