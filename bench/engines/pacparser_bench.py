"""pacparser_bench.py: the pacparser side of bench/engines (see
bench/README.md, "PAC engines").

It reads one JSON job on stdin (the PAC script, a preamble, the calls, the
client address, how long to run) and prints one JSON object on stdout: the
answers of the first pass over the calls and, for each timed run, the calls
made, the nanoseconds they took and the process's CPU time in them.

It runs Debian's python3-pacparser (pacparser 1.3.x, SpiderMonkey) through
its Python module: init, parse_pac_string, then find_proxy(url, host) for
every call, as the notes' measurements did. The outside world is fixed by
the caller:

  - DNS: job["preamble"], prepended to the script, redefines dnsResolve in
    JavaScript to answer from a fixed table (pacparser's own binding calls
    getaddrinfo, i.e. the system resolver). pacparser's isInNet and
    isResolvable are JavaScript that call dnsResolve, so they use the
    table too.
  - myIpAddress: pacparser.setmyip(job["myip"]), pacparser's own override
    (pactester's -c).
  - the clock and zone: the environment (bench/engines runs this under
    libfaketime, LD_PRELOAD with a frozen FAKETIME, and sets TZ).
    time.perf_counter is CLOCK_MONOTONIC, which FAKETIME_DONT_FAKE_MONOTONIC
    leaves real.

pacparser's context is global to the process: one job per process.

Usage: python3 pacparser_bench.py < job.json
"""

import json
import resource
import sys
import time


def cpu_ns():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return int((r.ru_utime + r.ru_stime) * 1e9)


def pacparser_version(pacparser):
    """pacparser's version; Debian's build reports none, so its package's."""
    v = pacparser.version()
    if v:
        return v
    try:
        import subprocess

        deb = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "python3-pacparser"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        return "%s (Debian python3-pacparser %s)" % (deb.split("-")[0], deb)
    except (OSError, subprocess.CalledProcessError):
        return "?"


def main():
    job = json.load(sys.stdin)
    out = {"engine": "pacparser"}
    try:
        import pacparser
    except ImportError as e:
        out["error"] = "import pacparser: %s (Debian: apt-get install python3-pacparser)" % e
        print(json.dumps(out))
        return 1
    out["version"] = "pacparser %s, Python %s" % (pacparser_version(pacparser), sys.version.split()[0])

    t0 = time.perf_counter_ns()
    try:
        pacparser.init()
        pacparser.setmyip(job["myip"])
        pacparser.parse_pac_string(job.get("preamble", "") + job["script"])
    except Exception as e:  # pacparser.error, mostly
        out["error"] = "load: %s: %s" % (type(e).__name__, e)
        print(json.dumps(out))
        return 0
    out["setup_ns"] = time.perf_counter_ns() - t0

    calls = [(c["url"], c["host"]) for c in job["calls"]]
    find = pacparser.find_proxy
    err = getattr(pacparser, "error", None) or pacparser._pacparser.error

    def one(url, host):
        try:
            return find(url, host)
        except err as e:
            # The JavaScript error itself goes to stderr, from the C library.
            return "error: %s" % e

    out["answers"] = [one(u, h) for u, h in calls]

    min_passes = max(1, job.get("min_passes", 1))

    def run(ms):
        start = time.perf_counter_ns()
        c0 = cpu_ns()
        deadline = start + int(ms * 1e6)
        n = 0
        passes = 0
        while True:
            for u, h in calls:
                one(u, h)
            n += len(calls)
            passes += 1
            now = time.perf_counter_ns()
            if now >= deadline and passes >= min_passes:
                break
        return {"calls": n, "ns": now - start, "cpu_ns": cpu_ns() - c0}

    run(job.get("warmup_ms", 0))
    out["runs"] = [run(job.get("min_run_ms", 0)) for _ in range(job.get("runs", 1))]
    pacparser.cleanup()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
