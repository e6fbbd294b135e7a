#!/usr/bin/env bash
# bench/daemon.sh: pacd serve beside a direct connection, squid and
# tinyproxy, in one run, all on 127.0.0.1. See bench/README.md.
#
#   ./bench/daemon.sh            (or: make bench-daemon)
#   BENCH_QUICK=1 ./bench/daemon.sh   a smoke run of a few seconds
#
# Environment:
#   BENCH_DURATION  each HTTP and connect-rate measurement (default 10s)
#   BENCH_CONC      HTTP keep-alive workers (default 32); latency is also
#                   measured with one worker
#   BENCH_BYTES     bytes per tunnel measurement, split over its streams
#                   (default 1073741824, 1 GiB)
#   BENCH_IDLE      idle tunnels per proxy (default 5000)
#   BENCH_REPEAT    tunnel runs per proxy, the median counts (default 5)
#   BENCH_CONNECT_CONC  connect-rate workers (default 8)
#   BENCH_PACD      a pacd binary to measure instead of building bin/pacd
#   BENCH_KEEP=1    keep the scratch directory (logs, configs, results)
#   BENCH_QUICK=1   2 s runs, 64 MiB tunnels, 200 idle tunnels
#
# Every process started here is stopped on exit. Nothing listens or
# connects anywhere but 127.0.0.1.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

# The proxies must not see the caller's proxy settings, and neither must
# pacd (it also gets --no-env below).
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

# The command as given, for the report's header.
cmdline=""
for v in BENCH_QUICK BENCH_DURATION BENCH_CONC BENCH_BYTES BENCH_IDLE BENCH_REPEAT BENCH_CONNECT_CONC BENCH_PACD; do
	if [[ -n "${!v:-}" ]]; then cmdline+="$v=${!v} "; fi
done
cmdline+="./bench/daemon.sh"

if [[ "${BENCH_QUICK:-}" == 1 ]]; then
	: "${BENCH_DURATION:=2s}" "${BENCH_BYTES:=67108864}" "${BENCH_IDLE:=200}" "${BENCH_REPEAT:=1}"
	warmup=200ms
	settle=500ms
else
	warmup=1s
	settle=2s
fi
duration=${BENCH_DURATION:-10s}
conc=${BENCH_CONC:-32}
bytes=${BENCH_BYTES:-1073741824}
idle=${BENCH_IDLE:-5000}
repeat=${BENCH_REPEAT:-5}
cconc=${BENCH_CONNECT_CONC:-8}

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench/daemon.sh: %s\n' "$*" >&2; exit 1; }

for bin in go squid tinyproxy; do
	command -v "$bin" >/dev/null || die "$bin is not installed (Debian: apt-get install -y squid tinyproxy)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pacd-bench.XXXXXX")
chmod 755 "$tmp"
pids=()
squid_name=pacdbench$$

cleanup() {
	local rc=$?
	set +e
	# Stop each process we started, by its PID. squid takes seconds to
	# stop on SIGTERM; SIGKILL it and remove its shared memory.
	for pid in "${pids[@]}"; do
		kill -0 "$pid" 2>/dev/null || continue
		if [[ "$pid" == "${squid_pid:-}" ]]; then
			kill -KILL "$pid" 2>/dev/null
		else
			kill -TERM "$pid" 2>/dev/null
		fi
	done
	for pid in "${pids[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -f /dev/shm/"$squid_name"-*
	if [[ "${BENCH_KEEP:-}" == 1 || $rc -ne 0 ]]; then
		printf 'bench/daemon.sh: scratch files kept in %s\n' "$tmp" >&2
	else
		rm -rf "$tmp"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# squid and tinyproxy run unprivileged: as root, squid would switch to
# the proxy user and tinyproxy would keep root (notes §5).
unpriv=()
if [[ $(id -u) == 0 ]]; then
	command -v setpriv >/dev/null || die "running as root needs setpriv (util-linux) to start squid and tinyproxy as nobody"
	unpriv=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi

hardfiles=$(ulimit -Hn)
if [[ $hardfiles == unlimited ]]; then hardfiles=1048576; fi
ulimit -n "$hardfiles"
need=$((2 * idle + 1024))
if ((need > hardfiles)); then
	log "warning: $idle idle tunnels need about $need open files per proxy; the hard limit is $hardfiles"
fi

if [[ -n "${BENCH_PACD:-}" ]]; then
	pacd=$BENCH_PACD
	[[ -x "$pacd" ]] || die "BENCH_PACD=$pacd is not an executable"
	log "building the load tool; measuring $pacd"
	pacd_desc="pacd $pacd"
else
	pacd=bin/pacd
	log "building bin/pacd and the load tool"
	go build -trimpath -o bin/pacd ./cmd/pacd
	pacd_desc="pacd built from $(git describe --always --dirty 2>/dev/null || echo 'this tree')"
fi
go build -trimpath -o "$tmp/load" ./bench/load
load=$tmp/load

log "starting the origin"
"$load" origin -listen 127.0.0.1:0 -addr-file "$tmp/origin.addr" >"$tmp/origin.json" 2>"$tmp/origin.log" &
pids+=($!)
for _ in $(seq 100); do
	[[ -s "$tmp/origin.addr" ]] && break
	sleep 0.05
done
[[ -s "$tmp/origin.addr" ]] || die "the origin did not start: $(cat "$tmp/origin.log")"
origin_http=$(sed -n 's/^HTTP=//p' "$tmp/origin.addr")
origin_source=$(sed -n 's/^SOURCE=//p' "$tmp/origin.addr")
origin_hold=$(sed -n 's/^HOLD=//p' "$tmp/origin.addr")
small=http://$origin_http/small

mapfile -t ports < <("$load" freeport -n 3)
pacd_addr=127.0.0.1:${ports[0]}
squid_addr=127.0.0.1:${ports[1]}
tiny_addr=127.0.0.1:${ports[2]}

# pacd: --proxy-loopback lifts the implicit rule that sends localhost and
# loopback destinations DIRECT before any PAC runs. Without it every
# request to the 127.0.0.1 origin would skip the PAC script; with it,
# bench/load.pac is evaluated for every forwarded request and every
# CONNECT, as for any other host, and answers DIRECT for 127.0.0.1.
# --max-conns: sized to the idle-tunnel count, whatever the default;
# --log-level error: no line per request.
log "starting pacd serve on $pacd_addr"
"$pacd" serve --listen "$pacd_addr" --pac bench/load.pac --proxy-loopback --no-env \
	--max-conns $((idle + 1024)) --drain 1s --log-level error 2>"$tmp/pacd.log" &
pacd_pid=$!
pids+=("$pacd_pid")

# squid: the notes' minimal configuration (§5.1), no cache, its logs in
# the scratch directory, enough file descriptors for the idle tunnels.
mkdir -p "$tmp/squid"
squid_fds=$need
if ((squid_fds > hardfiles)); then squid_fds=$hardfiles; fi
cat >"$tmp/squid/squid.conf" <<EOF
http_port $squid_addr
pid_filename $tmp/squid/squid.pid
cache_log $tmp/squid/cache.log
access_log stdio:$tmp/squid/access.log
coredump_dir $tmp/squid
netdb_filename none
pinger_enable off
cache deny all
cache_mem 8 MB
shutdown_lifetime 1 seconds
max_filedescriptors $squid_fds
visible_hostname pacd-bench-squid
http_access allow localhost
http_access deny all
EOF
# tinyproxy: the notes' configuration (§5.2); MaxClients above the idle
# tunnels, a Timeout longer than any measurement, and no line per
# request (LogLevel Warning) as for pacd.
mkdir -p "$tmp/tinyproxy"
cat >"$tmp/tinyproxy/tinyproxy.conf" <<EOF
Port ${tiny_addr##*:}
Listen 127.0.0.1
Timeout 600
MaxClients $((idle + 100))
Allow 127.0.0.1
LogLevel Warning
LogFile "$tmp/tinyproxy/tinyproxy.log"
PidFile "$tmp/tinyproxy/tinyproxy.pid"
EOF
if ((${#unpriv[@]})); then
	chown -R nobody:nogroup "$tmp/squid" "$tmp/tinyproxy"
fi

log "starting squid on $squid_addr"
rm -f /dev/shm/"$squid_name"-*
"${unpriv[@]}" squid -n "$squid_name" -N -f "$tmp/squid/squid.conf" >"$tmp/squid/stderr.log" 2>&1 &
squid_pid=$!
pids+=("$squid_pid")
disown "$squid_pid" # it is SIGKILLed on exit: no "Killed" line from bash

log "starting tinyproxy on $tiny_addr"
"${unpriv[@]}" tinyproxy -d -c "$tmp/tinyproxy/tinyproxy.conf" >"$tmp/tinyproxy/stderr.log" 2>&1 &
tiny_pid=$!
pids+=("$tiny_pid")

for p in "pacd $pacd_addr $tmp/pacd.log" "squid $squid_addr $tmp/squid/cache.log" "tinyproxy $tiny_addr $tmp/tinyproxy/stderr.log"; do
	read -r name addr logf <<<"$p"
	"$load" wait -proxy "http://$addr" -target "$small" -connect "$origin_source" -timeout 20s ||
		die "$name does not proxy: $(tail -20 "$logf" 2>/dev/null)"
done
# squid -N stays one process, and setpriv execs it: $! is squid.
if [[ -s "$tmp/squid/squid.pid" ]] && [[ $(tr -d ' \n' <"$tmp/squid/squid.pid") != "$squid_pid" ]]; then
	log "note: squid's pid file says $(cat "$tmp/squid/squid.pid"), \$! was $squid_pid"
	squid_pid=$(tr -d ' \n' <"$tmp/squid/squid.pid")
	pids+=("$squid_pid")
fi
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
log "all proxies answer; measuring (duration $duration, c=$conc, $bytes bytes per tunnel run, $idle idle tunnels)"

targets=(direct pacd squid tinyproxy)
declare -A addr_of=([direct]=none [pacd]=$pacd_addr [squid]=$squid_addr [tinyproxy]=$tiny_addr)
declare -A pid_of=([pacd]=$pacd_pid [squid]=$squid_pid [tinyproxy]=$tiny_pid)
results=$tmp/results.jsonl
: >"$results"

# measure runs one measurement, appending its JSON line to the results;
# a failed one is reported and the run goes on (the table shows a dash),
# but the script then exits non-zero.
failed=0
measure() {
	if ! "$load" "$@" >>"$results"; then
		log "FAILED: load $*"
		failed=$((failed + 1))
	fi
}

# Each kind of measurement runs for every target in turn, so that noise
# of the shared machine over time spreads over all of them.
for c in "$conc" 1; do
	for t in "${targets[@]}"; do
		p=${addr_of[$t]}
		if [[ $p != none ]]; then p=http://$p; fi
		measure http -label "$t" -proxy "$p" -target "$small" -origin-stats "http://$origin_http/stats" \
			-c "$c" -d "$duration" -warmup "$warmup"
	done
done
# Tunnel runs are short (a GiB takes about a second), so rounds go
# over the proxies in turn and the report takes each one's median.
for s in 1 4; do
	for ((i = 0; i < repeat; i++)); do
		for t in "${targets[@]}"; do
			measure tunnel -label "$t" -proxy "${addr_of[$t]}" -target "$origin_source" \
				-bytes $((bytes / s)) -streams "$s" -repeat 1
		done
	done
done
for t in "${targets[@]}"; do
	measure connect-rate -label "$t" -proxy "${addr_of[$t]}" -target "$origin_hold" -c "$cconc" -d "$duration"
done
for t in pacd squid tinyproxy; do
	measure idle -label "$t" -proxy "${addr_of[$t]}" -target "$origin_hold" -n "$idle" -pid "${pid_of[$t]}" -settle "$settle"
	# Let the proxy see the tunnels close before the next one starts.
	sleep 1
done

dead=()
for p in "${pids[@]}"; do
	kill -0 "$p" 2>/dev/null || dead+=("$p")
done

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
	echo "Command: \`$cmdline\` ($(date -u '+%Y-%m-%d %H:%M UTC'))"
	echo
	echo "Machine: $(nproc) CPUs ($cpu), $(uname -sr), $(go version | cut -d' ' -f3-4);" \
		"$pacd_desc, $(squid -v | sed -n 's/^Squid Cache: Version /squid /p'), $(tinyproxy -v 2>&1 | head -1)"
	echo
	echo "Load average (1, 5, 15 min) at the start: $load_start; at the end: $load_end."
	echo
	echo "Settings: HTTP GET /small (64 bytes) for $duration with keep-alive, c=$conc and c=1;" \
		"tunnels: $bytes bytes per run over 1 and 4 streams, median of $repeat;" \
		"connect-rate: $cconc workers for $duration; idle: $idle tunnels."
	echo
	"$load" report "$results"
} | tee "$tmp/report.md"
if ((${#dead[@]})); then
	die "processes ${dead[*]} exited during the run (origin, pacd, squid, tinyproxy: ${pids[*]})"
fi
if ((failed)); then
	die "$failed measurement(s) failed; see the lines marked FAILED above"
fi
