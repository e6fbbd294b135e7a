// Command engines runs the same PAC scripts and URL lists through four PAC
// engines and prints, per script, microseconds per FindProxyForURL call,
// each engine's time as a multiple of pacd's native engine, and whether
// their answers agree (every disagreement is listed). bench/engines.sh
// runs it, from the repository's root (the paths below are relative to
// it); bench/README.md ("PAC engines") has the latest table.
//
// The engines:
//
//   - native: pacd's engine (package pac, goja), in this process;
//   - wasm: pacd's WebAssembly module (bin/pac.wasm) under wazero
//     (package wasm), in this process;
//   - pacparser: Debian's python3-pacparser (pacparser 1.3.x, SpiderMonkey),
//     driven by pacparser_bench.py in a subprocess;
//   - pac-resolver: the npm package on Node (QuickJS in WebAssembly, its
//     PAC helpers in Node), driven by pacresolver_bench.mjs in a
//     subprocess.
//
// Each script comes with an expectation file (a .pactest of testdata/pac),
// whose cases are the URL list and whose settings fix the world the script
// sees: DNS answers, the client's address, the clock and the time zone.
// pacd's engines get them through pac.Options. The peers get the same
// answers by other means, all explicit:
//
//   - every URL and host is first passed through pacd's engine with a
//     script that echoes them, so that all four engines are called with
//     the same strings (pacd strips https URLs to scheme://host/ as
//     Chromium does; the peers are given the stripped URL);
//   - DNS: the file's table, reduced to each name's first IPv4 address
//     (what dnsResolve answers in every engine), goes to pacparser as a
//     JavaScript preamble that redefines dnsResolve, and to pac-resolver
//     as a replacement of node:dns's lookup, under its own helpers;
//   - myIpAddress: the address pacd's engine answers is given to
//     pacparser.setmyip and to pac-resolver's sandbox;
//   - the clock: pacparser runs under libfaketime (LD_PRELOAD, a frozen
//     FAKETIME in the file's zone) and pac-resolver with Date replaced;
//     both with TZ set to the file's zone.
//
// Unless -isolate=false, the peers run in a network namespace of their
// own (unshare -n), with no network at all: a lookup that escaped the
// overrides would fail, and show as a disagreement.
//
// Timing: every engine makes, per script, one pass over the calls (its
// answers), a warm-up, then -runs timed runs of at least -min-run each
// (whole passes over the URL list), in one warm process. -rounds repeats
// that for every script and engine, in turn, so that the noise of a shared
// machine spreads over all of them; the table gives the median over all
// runs of all rounds, and the ratios are of medians from the same
// invocation.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/pac/pactest"
	"github.com/pacd/pacd/wasm"
)

// defaultScripts are the scripts of issue 7: the small PAC, a typical
// corporate one (and its copy that pac-resolver can load), the 5,000-rule
// one, two isInNet-heavy ones with static DNS answers, and two with time
// rules (one of them also at night, where ranges wrap around midnight). An entry is a .pactest, or PAC=PACTEST to run another script
// with a file's cases and settings.
var defaultScripts = []string{
	"testdata/pac/bench-small.pactest",
	"testdata/pac/corporate-split-tunnel.pactest",
	"bench/engines/corporate-split-tunnel-percall.pac=testdata/pac/corporate-split-tunnel.pactest",
	"testdata/pac/corporate-5000.pactest",
	"testdata/pac/isinnet.pactest",
	"testdata/pac/office-subnets.pactest",
	"testdata/pac/time-range.pactest",
	"testdata/pac/time-range-night.pactest",
	"testdata/pac/business-hours.pactest",
}

// The engines, in the table's order.
const (
	engNative      = "native"
	engWASM        = "wasm"
	engPacparser   = "pacparser"
	engPacResolver = "pac-resolver"
)

var allEngines = []string{engNative, engWASM, engPacparser, engPacResolver}

var engineTitle = map[string]string{
	engNative:      "pacd native",
	engWASM:        "pacd WASM (wazero)",
	engPacparser:   "pacparser",
	engPacResolver: "pac-resolver",
}

type config struct {
	scripts     []string
	engines     []string
	rounds      int
	runs        int
	minRun      time.Duration
	warmup      time.Duration
	wasmPath    string
	wasmCache   string
	python      string
	node        string
	nodeModules string
	faketime    string
	isolate     bool
	jsonOut     string
	command     string
	timeout     time.Duration
}

func main() {
	var cfg config
	var scripts, engines, isolate string
	flag.StringVar(&scripts, "scripts", strings.Join(defaultScripts, ","), "comma-separated .pactest files (or PAC=PACTEST)")
	flag.StringVar(&engines, "engines", strings.Join(allEngines, ","), "engines to run: "+strings.Join(allEngines, ","))
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds over every script and engine")
	flag.IntVar(&cfg.runs, "runs", 5, "timed runs per engine, script and round")
	flag.DurationVar(&cfg.minRun, "min-run", 200*time.Millisecond, "least duration of a timed run (whole passes over the URLs)")
	flag.DurationVar(&cfg.warmup, "warmup", time.Second, "warm-up before the timed runs")
	flag.StringVar(&cfg.wasmPath, "wasm", "bin/pac.wasm", "pacd's WebAssembly module (make wasm)")
	flag.StringVar(&cfg.wasmCache, "wasm-cache", "bench/.cache/wazero", "wazero's compilation cache")
	flag.StringVar(&cfg.python, "python", "/usr/bin/python3", "the Python that has python3-pacparser (Debian's)")
	flag.StringVar(&cfg.node, "node", "node", "Node.js")
	flag.StringVar(&cfg.nodeModules, "node-modules", "bench/.cache/node/node_modules", "where pac-resolver and quickjs-wasi are installed")
	flag.StringVar(&cfg.faketime, "faketime", "", "libfaketime.so.1 (default: Debian's libfaketime path)")
	flag.StringVar(&isolate, "isolate", "auto", "run the peers without a network (unshare -n): auto, true or false")
	flag.StringVar(&cfg.jsonOut, "json", "", "also write every result to this file, as JSON")
	flag.StringVar(&cfg.command, "command", "", "the command to show in the report (default: this program's arguments)")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Minute, "limit on one peer subprocess")
	flag.Parse()

	cfg.scripts = splitList(scripts)
	cfg.engines = splitList(engines)
	for _, e := range cfg.engines {
		if !slices.Contains(allEngines, e) {
			fatalf("unknown engine %q (want some of %s)", e, strings.Join(allEngines, ","))
		}
	}
	if cfg.rounds < 1 || cfg.runs < 1 {
		fatalf("-rounds and -runs must be at least 1")
	}
	if cfg.faketime == "" {
		cfg.faketime = findFaketime()
	}
	switch isolate {
	case "auto":
		cfg.isolate = exec.Command("unshare", "-n", "true").Run() == nil
	case "true", "false":
		cfg.isolate = isolate == "true"
	default:
		fatalf("-isolate: want auto, true or false")
	}
	if cfg.command == "" {
		cfg.command = strings.Join(os.Args, " ")
	}
	if err := run(&cfg); err != nil {
		fatalf("%v", err)
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench/engines: "+format+"\n", args...)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "== "+format+"\n", args...)
}

func findFaketime() string {
	for _, p := range []string{
		"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
		"/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
	} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if m, _ := filepath.Glob("/usr/lib/*/faketime/libfaketime.so.1"); len(m) > 0 {
		return m[0]
	}
	return ""
}

// call is one FindProxyForURL call, as every engine receives it.
type call struct {
	URL  string `json:"url"`
	Host string `json:"host"`
}

// job is what a peer script reads on stdin.
type job struct {
	Name      string            `json:"name"`
	Script    string            `json:"script"`
	Preamble  string            `json:"preamble"`
	Calls     []call            `json:"calls"`
	DNS       map[string]string `json:"dns"`
	MyIP      string            `json:"myip"`
	NowMS     int64             `json:"now_ms"`
	Runs      int               `json:"runs"`
	MinPasses int               `json:"min_passes"`
	MinRunMS  float64           `json:"min_run_ms"`
	WarmupMS  float64           `json:"warmup_ms"`
}

// timedRun is one timed run: calls made, wall and CPU nanoseconds.
type timedRun struct {
	Calls int   `json:"calls"`
	NS    int64 `json:"ns"`
	CPUNS int64 `json:"cpu_ns"`
}

// result is what one engine did with one script in one round; the peers
// print it as JSON.
type result struct {
	Engine  string     `json:"engine"`
	Version string     `json:"version,omitempty"`
	Error   string     `json:"error,omitempty"`
	SetupNS int64      `json:"setup_ns,omitempty"`
	Answers []string   `json:"answers,omitempty"`
	Runs    []timedRun `json:"runs,omitempty"`
	Stderr  string     `json:"stderr,omitempty"`
}

// script is one script with its cases, and what every engine made of it.
type script struct {
	Label   string               `json:"label"`
	PAC     string               `json:"pac"`
	Pactest string               `json:"pactest"`
	Calls   []call               `json:"calls"`
	Want    []string             `json:"want"`
	DNS     map[string]string    `json:"dns"`
	MyIP    string               `json:"myip"`
	Now     time.Time            `json:"now"`
	TZ      string               `json:"tz"`
	Results map[string][]*result `json:"results"`

	file *pactest.File
	src  string
}

func loadScript(spec string) (*script, error) {
	pacPath, testPath, ok := strings.Cut(spec, "=")
	label := strings.TrimSuffix(filepath.Base(pacPath), ".pac")
	if !ok {
		testPath, pacPath = spec, ""
		label = strings.TrimSuffix(filepath.Base(testPath), pactest.Ext)
	}
	f, err := pactest.ParseFile(testPath)
	if err != nil {
		return nil, err
	}
	if f.CompileError != "" {
		return nil, fmt.Errorf("%s expects a compile error: nothing to measure", testPath)
	}
	if pacPath == "" {
		pacPath = f.PAC
	}
	src, err := os.ReadFile(pacPath)
	if err != nil {
		return nil, err
	}
	s := &script{
		Label:   label,
		PAC:     pacPath,
		Pactest: testPath,
		Now:     f.Now,
		TZ:      f.Location.String(),
		Results: map[string][]*result{},
		file:    f,
		src:     string(src),
	}
	// What the script sees: the URL and host pacd's engine passes for each
	// case, and myIpAddress.
	echo, err := pac.Compile(`function FindProxyForURL(url, host) { return url + "\n" + host + "\n" + myIpAddress(); }`, f.Options())
	if err != nil {
		return nil, err
	}
	for _, c := range f.Cases {
		got, err := echo.Eval(context.Background(), c.URL, c.Host)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", testPath, c.Line, err)
		}
		parts := strings.SplitN(got, "\n", 3)
		s.Calls = append(s.Calls, call{URL: parts[0], Host: parts[1]})
		s.MyIP = parts[2]
		if c.WantErr != "" {
			s.Want = append(s.Want, "error: "+c.WantErr)
		} else {
			s.Want = append(s.Want, c.Want)
		}
	}
	if len(f.Cases) == 0 {
		s.MyIP = "127.0.0.1"
	}
	// dnsResolve's answers: a name's first IPv4 address.
	s.DNS = map[string]string{}
	for host, addrs := range f.Hosts {
		for _, a := range addrs {
			if a = a.Unmap(); a.Is4() {
				s.DNS[host] = a.String()
				break
			}
		}
	}
	return s, nil
}

// pacparserPreamble redefines pacparser's dnsResolve (a binding to
// getaddrinfo) to answer from the table: a dotted quad answers itself, as
// getaddrinfo's does, a name in the table its address, anything else
// null. pacparser's isInNet and isResolvable call dnsResolve.
func pacparserPreamble(dns map[string]string) string {
	table, _ := json.Marshal(dns)
	return "// bench/engines: fixed DNS answers, as the .pactest's resolve lines give them.\n" +
		"var __pacdBenchDNS = " + string(table) + ";\n" +
		"function dnsResolve(host) {\n" +
		"  var h = String(host).toLowerCase();\n" +
		"  var q = /^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})$/.exec(h);\n" +
		"  if (q && q[1] <= 255 && q[2] <= 255 && q[3] <= 255 && q[4] <= 255) return h;\n" +
		"  return __pacdBenchDNS.hasOwnProperty(h) ? __pacdBenchDNS[h] : null;\n" +
		"}\n"
}

// measureFunc times eval over the calls as the peers do: one pass for the
// answers, a warm-up, then the timed runs.
func measureFunc(cfg *config, calls []call, eval func(url, host string) (string, error)) ([]string, []timedRun) {
	one := func(c call) string {
		got, err := eval(c.URL, c.Host)
		if err != nil {
			return "error: " + err.Error()
		}
		return got
	}
	answers := make([]string, len(calls))
	for i, c := range calls {
		answers[i] = one(c)
	}
	timed := func(d time.Duration) timedRun {
		cpu0 := cpuTime()
		start := time.Now()
		n := 0
		for {
			for _, c := range calls {
				one(c)
			}
			n += len(calls)
			if time.Since(start) >= d {
				break
			}
		}
		return timedRun{Calls: n, NS: int64(time.Since(start)), CPUNS: int64(cpuTime() - cpu0)}
	}
	timed(cfg.warmup)
	runs := make([]timedRun, cfg.runs)
	for i := range runs {
		runs[i] = timed(cfg.minRun)
	}
	return answers, runs
}

// cpuTime is the process's CPU time, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runNative(cfg *config, s *script) *result {
	r := &result{Engine: engNative, Version: "pacd " + pacdVersion() + ", " + runtime.Version()}
	start := time.Now()
	sc, err := pac.Compile(s.src, s.options())
	if err != nil {
		r.Error = "load: " + err.Error()
		return r
	}
	r.SetupNS = int64(time.Since(start))
	ctx := context.Background()
	r.Answers, r.Runs = measureFunc(cfg, s.Calls, func(url, host string) (string, error) {
		return sc.Eval(ctx, url, host)
	})
	return r
}

func runWASM(cfg *config, e *wasm.Engine, s *script) *result {
	r := &result{Engine: engWASM, Version: "pacd " + pacdVersion() + ", bin/pac.wasm on wazero"}
	ctx := context.Background()
	start := time.Now()
	sc, err := e.Compile(ctx, s.src, s.options())
	if err != nil {
		r.Error = "load: " + err.Error()
		return r
	}
	defer sc.Close()
	r.SetupNS = int64(time.Since(start))
	r.Answers, r.Runs = measureFunc(cfg, s.Calls, func(url, host string) (string, error) {
		return sc.Eval(ctx, url, host)
	})
	return r
}

// options are the file's settings, with the URLs passed as given: they
// were already stripped as the file's settings say.
func (s *script) options() *pac.Options {
	o := s.file.Options()
	o.Name = filepath.Base(s.PAC)
	return o
}

func (s *script) job(cfg *config, preamble string) job {
	return job{
		Name:      filepath.Base(s.PAC),
		Script:    s.src,
		Preamble:  preamble,
		Calls:     s.Calls,
		DNS:       s.DNS,
		MyIP:      s.MyIP,
		NowMS:     s.Now.UnixMilli(),
		Runs:      cfg.runs,
		MinPasses: 1,
		MinRunMS:  float64(cfg.minRun) / 1e6,
		WarmupMS:  float64(cfg.warmup) / 1e6,
	}
}

// peerEnv is this process's environment without what would change a
// peer's behaviour (proxy settings, preloads, fake clocks, zone, Node
// options), plus extra.
func peerEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasSuffix(strings.ToLower(k), "_proxy"),
			k == "LD_PRELOAD", strings.HasPrefix(k, "FAKETIME"), k == "TZ",
			k == "NODE_OPTIONS", k == "NODE_PATH", k == "PYTHONPATH", k == "PYTHONHOME":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// cappedBuffer keeps the first max bytes written to it and counts the rest.
type cappedBuffer struct {
	buf     bytes.Buffer
	max     int
	dropped int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.buf.Len()
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		b.buf.Write(p[:room])
	}
	b.dropped += len(p) - max(room, 0)
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	if b.dropped > 0 {
		return fmt.Sprintf("%s… (%d more bytes)", b.buf.String(), b.dropped)
	}
	return b.buf.String()
}

func runPeer(cfg *config, engine string, s *script) *result {
	var argv, env []string
	var j job
	switch engine {
	case engPacparser:
		if cfg.faketime == "" {
			return &result{Engine: engine, Error: "libfaketime not found (Debian: apt-get install faketime; or -faketime)"}
		}
		argv = []string{cfg.python, "bench/engines/pacparser_bench.py"}
		// libfaketime reads an absolute FAKETIME as local time in TZ, and
		// keeps it still; the monotonic clock, which the timing uses, stays
		// real.
		env = peerEnv("TZ="+s.TZ, "LD_PRELOAD="+cfg.faketime,
			"FAKETIME="+s.Now.In(s.file.Location).Format("2006-01-02 15:04:05"),
			"FAKETIME_DONT_FAKE_MONOTONIC=1")
		j = s.job(cfg, pacparserPreamble(s.DNS))
	case engPacResolver:
		argv = []string{cfg.node, "bench/engines/pacresolver_bench.mjs", cfg.nodeModules}
		env = peerEnv("TZ=" + s.TZ)
		j = s.job(cfg, "")
	}
	if cfg.isolate {
		argv = append([]string{"unshare", "-n", "--"}, argv...)
	}
	in, err := json.Marshal(j)
	if err != nil {
		return &result{Engine: engine, Error: err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(in)
	var stdout bytes.Buffer
	stderr := &cappedBuffer{max: 4096}
	cmd.Stdout = &stdout
	cmd.Stderr = stderr
	runErr := cmd.Run()
	r := &result{Engine: engine}
	if err := json.Unmarshal(lastLine(stdout.Bytes()), r); err != nil {
		msg := fmt.Sprintf("%s: no result (%v): %v", strings.Join(argv, " "), runErr, err)
		if e := strings.TrimSpace(stderr.String()); e != "" {
			msg += ": " + firstLines(e, 5)
		}
		return &result{Engine: engine, Error: msg}
	}
	r.Engine = engine
	r.Stderr = stderr.String()
	if runErr != nil && r.Error == "" {
		r.Error = runErr.Error()
	}
	return r
}

func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, "\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, " / ")
}

var pacdVersionOnce string

func pacdVersion() string {
	if pacdVersionOnce == "" {
		out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
		if err != nil {
			pacdVersionOnce = "(this tree)"
		} else {
			pacdVersionOnce = strings.TrimSpace(string(out))
		}
	}
	return pacdVersionOnce
}

func run(cfg *config) error {
	var scripts []*script
	for _, spec := range cfg.scripts {
		s, err := loadScript(spec)
		if err != nil {
			return err
		}
		scripts = append(scripts, s)
	}
	pacdVersion()
	loadStart := loadavg()
	started := time.Now()

	var engine *wasm.Engine
	var wasmSetup time.Duration
	var wasmErr error
	if slices.Contains(cfg.engines, engWASM) {
		logf("compiling %s with wazero (cache %s)", cfg.wasmPath, cfg.wasmCache)
		t := time.Now()
		engine, wasmErr = wasm.New(context.Background(), &wasm.Config{ModulePath: cfg.wasmPath, CacheDir: cfg.wasmCache})
		wasmSetup = time.Since(t)
		if wasmErr == nil {
			defer engine.Close(context.Background())
		}
	}

	for round := 0; round < cfg.rounds; round++ {
		for _, s := range scripts {
			// Start each round's script with a different engine, so that
			// none is always measured right after another's process.
			order := slices.Clone(cfg.engines)
			k := (round + slices.Index(scripts, s)) % len(order)
			order = append(order[k:], order[:k]...)
			for _, e := range order {
				logf("round %d/%d: %s: %s", round+1, cfg.rounds, s.Label, e)
				var r *result
				switch e {
				case engNative:
					r = runNative(cfg, s)
				case engWASM:
					if wasmErr != nil {
						r = &result{Engine: e, Error: "module: " + wasmErr.Error()}
					} else {
						r = runWASM(cfg, engine, s)
					}
				default:
					r = runPeer(cfg, e, s)
				}
				if r.Error != "" {
					logf("%s: %s: %s", s.Label, e, r.Error)
				}
				s.Results[e] = append(s.Results[e], r)
			}
		}
	}

	rep := &report{
		cfg:       cfg,
		scripts:   scripts,
		loadStart: loadStart,
		loadEnd:   loadavg(),
		elapsed:   time.Since(started),
		wasmSetup: wasmSetup,
	}
	rep.write(os.Stdout)
	if cfg.jsonOut != "" {
		b, err := json.MarshalIndent(scripts, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(cfg.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// errAnswer reports whether an answer is an evaluation's error.
func errAnswer(s string) bool { return strings.HasPrefix(s, "error: ") }

// agrees reports whether two engines' answers are the same: the same
// string, or both an error (their messages differ by engine).
func agrees(a, b string) bool {
	return a == b || errAnswer(a) && errAnswer(b)
}

// matchesWant reports whether an answer is what the .pactest expects.
func matchesWant(got, want string) bool {
	if errAnswer(want) {
		return errAnswer(got) && strings.Contains(got, strings.TrimPrefix(want, "error: "))
	}
	return got == want
}

var errNoRuns = errors.New("no runs")

// stats are an engine's figures for one script over all rounds.
type stats struct {
	wall, cpu  float64 // µs per call, medians over every run
	lo, hi     float64 // the fastest and slowest run, µs per call
	setup      float64 // ms, median over rounds
	runs       int
	answers    []string
	unstable   bool // answers differed between rounds
	err        string
	version    string
	stderrNote string
}

func summarize(rs []*result) (stats, error) {
	var st stats
	var wall, cpu, setup []float64
	for _, r := range rs {
		if st.version == "" {
			st.version = r.Version
		}
		if r.Error != "" {
			st.err = r.Error
			continue
		}
		if st.answers == nil {
			st.answers = r.Answers
		} else if !slices.Equal(st.answers, r.Answers) {
			st.unstable = true
		}
		if r.Stderr != "" && st.stderrNote == "" {
			st.stderrNote = r.Stderr
		}
		setup = append(setup, float64(r.SetupNS)/1e6)
		for _, t := range r.Runs {
			if t.Calls == 0 {
				continue
			}
			wall = append(wall, float64(t.NS)/1e3/float64(t.Calls))
			cpu = append(cpu, float64(t.CPUNS)/1e3/float64(t.Calls))
		}
	}
	if len(wall) == 0 {
		return st, errNoRuns
	}
	st.runs = len(wall)
	st.wall = median(wall)
	st.cpu = median(cpu)
	st.lo = slices.Min(wall)
	st.hi = slices.Max(wall)
	st.setup = median(setup)
	return st, nil
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

type report struct {
	cfg       *config
	scripts   []*script
	loadStart string
	loadEnd   string
	elapsed   time.Duration
	wasmSetup time.Duration
}

func (rep *report) write(w io.Writer) {
	cfg := rep.cfg
	versions := map[string]string{}
	all := map[string]map[string]stats{}
	for _, s := range rep.scripts {
		all[s.Label] = map[string]stats{}
		for _, e := range cfg.engines {
			st, _ := summarize(s.Results[e])
			all[s.Label][e] = st
			if st.version != "" && versions[e] == "" {
				versions[e] = st.version
			}
		}
	}

	cpu := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := "?"
	if out, err := exec.Command("uname", "-sr").Output(); err == nil {
		kernel = strings.TrimSpace(string(out))
	}
	fmt.Fprintf(w, "Command: `%s` (%s)\n\n", cfg.command, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "Machine: %d CPUs (%s), %s.\n\n", runtime.NumCPU(), cpu, kernel)
	fmt.Fprintf(w, "Engines:")
	for i, e := range cfg.engines {
		sep := ";"
		if i == len(cfg.engines)-1 {
			sep = "."
		}
		fmt.Fprintf(w, " %s: %s%s", engineTitle[e], orDash(versions[e]), sep)
	}
	fmt.Fprintf(w, "\n\n")
	fmt.Fprintf(w, "Load average (1, 5, 15 min) at the start: %s; at the end: %s. Run time %s.\n\n",
		rep.loadStart, rep.loadEnd, rep.elapsed.Round(time.Second))
	isolated := "in a network namespace of their own (`unshare -n`, no network)"
	if !cfg.isolate {
		isolated = "with the machine's network (`-isolate=false`)"
	}
	fmt.Fprintf(w, "Settings: %d round(s) × %d timed runs of at least %s per engine and script, each after one pass for the answers and a %s warm-up, in one warm process (a new one per round for the peers); medians over all %d runs. Peers ran %s.\n\n",
		cfg.rounds, cfg.runs, cfg.minRun, cfg.warmup, cfg.rounds*cfg.runs, isolated)

	fmt.Fprintln(w, "| script | engine | µs/call | vs native | CPU µs/call | runs: fastest – slowest µs | setup ms | agreement |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---|")
	for _, s := range rep.scripts {
		nat := all[s.Label][engNative]
		for i, e := range cfg.engines {
			st := all[s.Label][e]
			name := ""
			if i == 0 {
				name = fmt.Sprintf("%s (%d URLs)", s.Label, len(s.Calls))
			}
			if st.runs == 0 {
				fmt.Fprintf(w, "| %s | %s | — | — | — | — | — | failed: %s |\n", name, engineTitle[e], mdEscape(short(st.err, 160)))
				continue
			}
			ratio := "—"
			if nat.runs > 0 {
				ratio = fmt.Sprintf("%s×", num(st.wall/nat.wall))
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s – %s | %s | %s |\n", name, engineTitle[e],
				num(st.wall), ratio, num(st.cpu), num(st.lo), num(st.hi), num(st.setup), rep.agreement(s, e, st, nat))
		}
	}
	fmt.Fprintln(w)
	wasmNote := ""
	if slices.Contains(cfg.engines, engWASM) {
		wasmNote = fmt.Sprintf("; WASM's excludes compiling the module, %s ms once", num(float64(rep.wasmSetup)/1e6))
	}
	fmt.Fprintf(w, "µs/call: wall-clock time per FindProxyForURL, median over the runs; vs native: that median over pacd native's for the same script in this run (above 1×, slower than native); CPU µs/call: the process's CPU time (all threads) per call, median; setup: compiling the script, median over rounds (pac-resolver's includes creating its QuickJS instance%s). Agreement: pacd native against the .pactest's expected answers; every other engine against pacd native (an error agrees with an error).\n", wasmNote)
	fmt.Fprintln(w)

	rep.writeDisagreements(w, all)
	rep.writeTargets(w, all)
}

func (rep *report) agreement(s *script, e string, st, nat stats) string {
	n := len(s.Calls)
	if st.answers == nil {
		return "—"
	}
	same := 0
	var note string
	if e == engNative {
		for i, a := range st.answers {
			if matchesWant(a, s.Want[i]) {
				same++
			}
		}
		note = fmt.Sprintf("%d/%d = .pactest", same, n)
	} else if nat.answers != nil {
		for i, a := range st.answers {
			if agrees(a, nat.answers[i]) {
				same++
			}
		}
		note = fmt.Sprintf("%d/%d = native", same, n)
	}
	if st.unstable {
		note += " (answers changed between rounds)"
	}
	return note
}

func (rep *report) writeDisagreements(w io.Writer, all map[string]map[string]stats) {
	cfg := rep.cfg
	fmt.Fprintln(w, "Disagreements (answers that differ from pacd native's, and native answers that differ from the .pactest); the differing answers are in bold:")
	fmt.Fprintln(w)
	count := 0
	for _, s := range rep.scripts {
		nat := all[s.Label][engNative]
		for _, e := range cfg.engines {
			st := all[s.Label][e]
			if st.answers == nil && st.err != "" {
				fmt.Fprintf(w, "- %s: **%s could not run it**: %s\n", s.Label, engineTitle[e], mdEscape(st.err))
				count++
			}
		}
		for i, c := range s.Calls {
			differs := false
			for _, e := range cfg.engines {
				st := all[s.Label][e]
				if st.answers == nil {
					continue
				}
				if e == engNative && !matchesWant(st.answers[i], s.Want[i]) ||
					e != engNative && nat.answers != nil && !agrees(st.answers[i], nat.answers[i]) {
					differs = true
				}
			}
			if !differs {
				continue
			}
			count++
			fmt.Fprintf(w, "- %s: `%s` (host `%s`): .pactest %s", s.Label, c.URL, c.Host, code(s.Want[i]))
			for _, e := range cfg.engines {
				st := all[s.Label][e]
				if st.answers == nil {
					continue
				}
				a := code(st.answers[i])
				if e == engNative && !matchesWant(st.answers[i], s.Want[i]) ||
					e != engNative && nat.answers != nil && !agrees(st.answers[i], nat.answers[i]) {
					a = "**" + a + "**"
				}
				fmt.Fprintf(w, "; %s %s", engineTitle[e], a)
			}
			fmt.Fprintln(w)
		}
	}
	if count == 0 {
		fmt.Fprintln(w, "- none")
	}
	fmt.Fprintln(w)
}

// writeTargets checks issue 7's targets for the PAC engines.
func (rep *report) writeTargets(w io.Writer, all map[string]map[string]stats) {
	fmt.Fprintln(w, "Targets (issue 7):")
	get := func(label, e string) (stats, bool) {
		m, ok := all[label]
		if !ok {
			return stats{}, false
		}
		st, ok := m[e]
		return st, ok && st.runs > 0
	}
	metStr := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	faster := func(peer string, factor float64, labels ...string) {
		for _, label := range labels {
			nat, ok1 := get(label, engNative)
			st, ok2 := get(label, peer)
			if _, exists := all[label]; !exists {
				continue
			}
			if !ok1 || !ok2 {
				fmt.Fprintf(w, "- native ≥ %g× faster than %s on %s: not measured (%s)\n", factor, engineTitle[peer], label, orDash(short(st.err, 100)))
				continue
			}
			r := st.wall / nat.wall
			fmt.Fprintf(w, "- native ≥ %g× faster than %s on %s: %s (%s×; CPU time %s×)\n", factor, engineTitle[peer], label, metStr(r >= factor), num(r), num(st.cpu/nat.cpu))
		}
	}
	corporate := []string{"bench-small", "corporate-split-tunnel", "corporate-split-tunnel-percall"}
	faster(engPacparser, 10, corporate...)
	faster(engPacResolver, 5, corporate...)
	if st, ok := get("corporate-5000", engNative); ok {
		fmt.Fprintf(w, "- native on the 5,000-rule PAC ≤ 100 µs per call: %s (%s µs; fastest run %s µs)\n", metStr(st.wall <= 100), num(st.wall), num(st.lo))
	}
	var slower []string
	measured := 0
	for _, s := range rep.scripts {
		wa, ok1 := get(s.Label, engWASM)
		pp, ok2 := get(s.Label, engPacparser)
		if !ok1 || !ok2 {
			continue
		}
		measured++
		if wa.wall >= pp.wall {
			slower = append(slower, fmt.Sprintf("%s: %s vs %s µs", s.Label, num(wa.wall), num(pp.wall)))
		}
	}
	if measured > 0 {
		detail := fmt.Sprintf("faster on %d of %d scripts", measured-len(slower), measured)
		if len(slower) > 0 {
			detail += "; slower on " + strings.Join(slower, ", ")
		}
		fmt.Fprintf(w, "- WASM under wazero faster per call than pacparser: %s (%s)\n", metStr(len(slower) == 0), detail)
	}
	fmt.Fprintln(w)
}

// num formats a figure with three significant digits, or so.
func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

func code(s string) string {
	q := fmt.Sprintf("%q", s)
	return "`" + strings.ReplaceAll(q, "`", "'") + "`"
}

func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
