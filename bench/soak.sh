#!/usr/bin/env bash
# bench/soak.sh: pacd serve under mixed load for a long time, with its
# upstreams killed and restarted and its configuration reloaded; reports
# requests served, errors by cause, and pacd's goroutine, heap, RSS and
# descriptor growth. See bench/README.md.
#
#   ./bench/soak.sh                  (or: make soak) ten minutes
#   SOAK_QUICK=1 ./bench/soak.sh     a 20 s smoke run
#
# Environment:
#   SOAK_DURATION     how long the load runs (default 10m; 20s with SOAK_QUICK=1)
#   SOAK_CONC         workers of each kind: HTTP, CONNECT, SOCKS5 (default 4)
#   SOAK_KILL_EVERY   how often an upstream (microsocks, squid, in turn) is
#                     killed (default 30s; 5s quick)
#   SOAK_DOWN         how long it stays down (default 3s; 1s quick)
#   SOAK_HUP_EVERY    how often pacd gets SIGHUP (default 5s; 1s quick)
#   SOAK_SAMPLE_EVERY how often pacd's metrics and memory are read (default 30s; 2s quick)
#   SOAK_PACD         a pacd binary to soak instead of building bin/pacd
#   SOAK_KEEP=1       keep the scratch directory (logs, report.json)
#
# Every process started here is stopped on exit. Nothing listens or
# connects anywhere but 127.0.0.1.
set -euo pipefail

cd "$(dirname "$0")/.."
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

if [[ "${SOAK_QUICK:-}" == 1 ]]; then
	: "${SOAK_DURATION:=20s}" "${SOAK_KILL_EVERY:=5s}" "${SOAK_DOWN:=1s}" "${SOAK_HUP_EVERY:=1s}" "${SOAK_SAMPLE_EVERY:=2s}"
	settle=2s
else
	settle=5s
fi

for bin in go squid microsocks; do
	command -v "$bin" >/dev/null || [[ -x /usr/sbin/$bin ]] || {
		echo "bench/soak.sh: $bin is not installed (scripts/install-deps.sh installs it)" >&2
		exit 1
	}
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pacd-soak.XXXXXX")
chmod 755 "$tmp"
cleanup() {
	local rc=$?
	if [[ "${SOAK_KEEP:-}" == 1 || $rc -ne 0 ]]; then
		echo "bench/soak.sh: scratch files kept in $tmp" >&2
	else
		rm -rf "$tmp"
	fi
	exit $rc
}
trap cleanup EXIT

if [[ -n "${SOAK_PACD:-}" ]]; then
	pacd=$SOAK_PACD
else
	echo "== building bin/pacd and the soak driver" >&2
	go build -trimpath -o bin/pacd ./cmd/pacd
	pacd=bin/pacd
fi
go build -trimpath -o "$tmp/soak" ./bench/soak

# The driver starts and stops squid, microsocks and pacd itself, and
# stops them on SIGINT and SIGTERM too.
"$tmp/soak" -pacd "$(realpath "$pacd")" -dir "$tmp" \
	-duration "${SOAK_DURATION:-10m}" -conc "${SOAK_CONC:-4}" \
	-kill-every "${SOAK_KILL_EVERY:-30s}" -down "${SOAK_DOWN:-3s}" \
	-hup-every "${SOAK_HUP_EVERY:-5s}" -sample-every "${SOAK_SAMPLE_EVERY:-30s}" \
	-settle "$settle"
