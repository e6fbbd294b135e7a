package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/pac/pactest"
)

var cmdEval = &command{
	name:  "eval",
	usage: "-p FILE (-u URL [-h HOST] | -f FILE | URL...) [flags]",
	short: "evaluate a PAC script for URLs (pactester-compatible)",
	long: `
Eval compiles the PAC script named by -p ("-" for standard input) and prints
the string its FindProxyForURL (or FindProxyForURLEx) returns for each URL,
as pacparser's pactester does: one line for -u URL, and "URL : RESULT" lines
for the URLs listed in the file of -f (one a line; blank lines are skipped
and lines starting with '#' are echoed). URLs may also follow the flags.

The answer depends on the clock, DNS and the machine's own address; the
--now, --tz, --resolve, --offline and -c flags fix each of them so that an
answer can be reproduced anywhere. https:// and wss:// URLs reach the script
as scheme://host:port/, as in Chromium, unless --full-urls is given.

--sandbox evaluates the script inside pacd's WebAssembly module instead,
under wazero, with a memory cap and a deadline that the host enforces, and
every other flag as without it: both engines give the same answers. --wasm
FILE names the module, for a pacd built without one.

Exit status is 0 when every URL was evaluated, 1 when the script failed to
compile or to answer (the error, as FILE:LINE:COL: MESSAGE, goes to standard
error), and 2 for a usage error.`,
	flags: func(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
		o := &evalFlags{}
		fs.StringVar(&o.pacFile, "p", "", "the PAC `file` to evaluate; - for standard input")
		fs.StringVar(&o.url, "u", "", "the `URL` to evaluate")
		fs.StringVar(&o.host, "h", "", "the `host` passed to FindProxyForURL (default: the URL's host)")
		fs.StringVar(&o.urlFile, "f", "", "a `file` of URLs to evaluate, one a line")
		fs.Bool("e", false, "accepted for pactester compatibility; the Microsoft extensions are always on")
		fs.BoolVar(&o.version, "v", false, "print the version and exit")
		o.env.define(fs)
		o.sandbox.define(fs)
		fs.BoolVar(&o.json, "json", false, "print one JSON object per URL: the raw string, the parsed proxies, warnings")
		fs.BoolVar(&o.trace, "trace", false, "print every PAC function call, with its arguments and result, to standard error")
		return func(ctx context.Context, args []string) error { return o.run(ctx, e, args) }
	},
}

type evalFlags struct {
	pacFile, url, host, urlFile string
	version, json, trace        bool
	env                         pacEnv
	sandbox                     sandboxFlags
}

// pacEnv holds the flags that fix what a PAC script learns from the
// outside world, shared by the commands that run scripts.
type pacEnv struct {
	client, now, tz   string
	hosts             pac.StaticResolver
	offline, fullURLs bool
	timeout           time.Duration
	maxMemoryMiB      int64
}

func (o *pacEnv) define(fs *flag.FlagSet) {
	fs.StringVar(&o.client, "c", "", "the client `IP` that myIpAddress returns (comma-separated list for myIpAddressEx)")
	fs.StringVar(&o.now, "now", "", "evaluate at this `time` (RFC 3339) instead of the current time")
	fs.StringVar(&o.tz, "tz", "", "the time `zone` of the time functions and of the script's Date objects (default: the local zone)")
	fs.Func("resolve", "a fixed DNS answer `HOST=IP[,IP...]` for the script; repeatable", func(s string) error {
		h, addrs, err := pac.ParseHostsEntry(s)
		if err != nil {
			return err
		}
		if o.hosts == nil {
			o.hosts = pac.StaticResolver{}
		}
		o.hosts[h] = append(o.hosts[h], addrs...)
		return nil
	})
	fs.BoolVar(&o.offline, "offline", false, "use no system DNS in the script: only names given with --resolve resolve")
	fs.BoolVar(&o.fullURLs, "full-urls", false, "pass https:// and wss:// URLs to the script whole")
	fs.DurationVar(&o.timeout, "timeout", pac.DefaultTimeout, "the deadline of one evaluation")
	fs.Int64Var(&o.maxMemoryMiB, "max-memory", pac.DefaultMaxMemory>>20, "the `MiB` one evaluation may make the heap grow by, approximately, in the native engine; negative: no bound")
}

func (o *evalFlags) run(ctx context.Context, e *env, args []string) error {
	if o.version {
		fmt.Fprintln(e.stdout, versionString())
		return nil
	}
	if o.pacFile == "" {
		return usagef("no PAC file: give -p FILE")
	}
	inputs := 0
	for _, set := range []bool{o.url != "", o.urlFile != "", len(args) > 0} {
		if set {
			inputs++
		}
	}
	switch {
	case inputs == 0:
		return usagef("no URL: give -u URL, -f FILE or URLs")
	case inputs > 1:
		return usagef("give only one of -u URL, -f FILE and URL arguments")
	case o.host != "" && o.url == "":
		return usagef("-h HOST goes with -u URL")
	}
	opts, err := o.env.options(e)
	if err != nil {
		return usagef("%v", err)
	}
	if opts.Location != nil {
		// goja gives the script's Date objects the process's zone: make
		// it the zone asked for, for the duration of the command.
		defer setLocal(opts.Location)()
	}
	src, name, err := readSource(o.pacFile, e.stdin)
	if err != nil {
		return err
	}
	opts.Name = name
	var script pactest.Evaluator
	if o.sandbox.enabled() {
		eng, err := o.sandbox.engine(ctx, quietLogger(e))
		if err != nil {
			return err
		}
		defer eng.Close(context.Background())
		s, err := eng.Compile(ctx, src, opts)
		if err != nil {
			return err
		}
		defer s.Close()
		script = s
	} else {
		s, err := pac.Compile(src, opts)
		if err != nil {
			return err
		}
		script = s
	}
	ev := &evaluator{script: script, e: e, json: o.json, trace: o.trace}
	switch {
	case o.url != "":
		return ev.one(ctx, o.url, o.host, false)
	case o.urlFile != "":
		return ev.list(ctx, o.urlFile)
	default:
		failed := false
		for _, u := range args {
			if err := ev.one(ctx, u, "", len(args) > 1); err != nil {
				var ee *exitError
				if !errors.As(err, &ee) {
					return err
				}
				failed = true
			}
		}
		if failed {
			return &exitError{1}
		}
		return nil
	}
}

// options builds the engine's options from the flags.
func (o *pacEnv) options(e *env) (*pac.Options, error) {
	opts := &pac.Options{
		Timeout:   o.timeout,
		MaxMemory: o.maxMemoryMiB << 20,
		FullURLs:  o.fullURLs,
		Alert:     func(msg string) { fmt.Fprintf(e.stderr, "alert: %s\n", msg) },
	}
	if o.now != "" {
		t, err := time.Parse(time.RFC3339Nano, o.now)
		if err != nil {
			return nil, fmt.Errorf("--now: %v", err)
		}
		opts.Now = func() time.Time { return t }
	}
	if o.tz != "" {
		loc, err := time.LoadLocation(o.tz)
		if err != nil {
			return nil, fmt.Errorf("--tz: %v", err)
		}
		opts.Location = loc
	}
	if o.client != "" {
		var addrs []netip.Addr
		for _, s := range strings.Split(o.client, ",") {
			a, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("-c: %v", err)
			}
			addrs = append(addrs, a)
		}
		opts.MyIPAddresses = func(context.Context) []netip.Addr { return addrs }
	}
	switch {
	case o.offline:
		if o.hosts == nil {
			o.hosts = pac.StaticResolver{}
		}
		opts.Resolver = o.hosts
	case o.hosts != nil:
		opts.Resolver = chainResolver{o.hosts, pac.SystemResolver(pac.DefaultDNSTimeout)}
	}
	return opts, nil
}

// chainResolver answers from fixed entries first and asks the system for
// every other name.
type chainResolver struct {
	fixed  pac.StaticResolver
	system pac.Resolver
}

func (c chainResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if addrs, err := c.fixed.LookupNetIP(ctx, network, host); err == nil && len(addrs) > 0 {
		return addrs, nil
	}
	return c.system.LookupNetIP(ctx, network, host)
}

// readSource reads the PAC script from a file, or from r for "-". It
// returns the name to use in error positions.
func readSource(path string, r io.Reader) (src, name string, err error) {
	if path == "-" {
		b, err := io.ReadAll(io.LimitReader(r, pac.DefaultMaxScriptSize+1))
		if err != nil {
			return "", "", err
		}
		return string(b), "<stdin>", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	return string(b), path, nil
}

type evaluator struct {
	script pactest.Evaluator // a *pac.Script, or a *wasm.Script
	e      *env
	json   bool
	trace  bool
}

// jsonAnswer is the --json form of one evaluation.
type jsonAnswer struct {
	URL      string      `json:"url"`
	Host     string      `json:"host,omitempty"`
	Result   *string     `json:"result,omitempty"`
	Proxies  []jsonProxy `json:"proxies,omitempty"`
	Warnings []string    `json:"warnings,omitempty"`
	Error    string      `json:"error,omitempty"`
}

type jsonProxy struct {
	Type string `json:"type"`
	Host string `json:"host,omitempty"`
	Port uint16 `json:"port,omitempty"`
}

// one evaluates url and prints the answer; labelled answers read
// "URL : RESULT". A failed evaluation is reported and gives an exitError.
func (ev *evaluator) one(ctx context.Context, url, host string, labelled bool) error {
	if ev.trace {
		fmt.Fprintf(ev.e.stderr, "trace: FindProxyForURL(%q)\n", url)
		ctx = pac.WithTrace(ctx, func(c pac.Call) { fmt.Fprintf(ev.e.stderr, "trace:   %s\n", c) })
	}
	raw, err := ev.script.Eval(ctx, url, host)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if ev.json {
		a := jsonAnswer{URL: url, Host: host}
		if err != nil {
			a.Error = err.Error()
		} else {
			a.Result = &raw
			r, perr := pac.ParseResult(raw)
			for _, p := range r {
				a.Proxies = append(a.Proxies, jsonProxy{Type: p.Type.String(), Host: p.Host, Port: p.Port})
			}
			if perr != nil {
				a.Warnings = append(a.Warnings, perr.Error())
			}
		}
		b, _ := json.Marshal(a)
		fmt.Fprintf(ev.e.stdout, "%s\n", b)
	} else if err == nil {
		if labelled {
			fmt.Fprintf(ev.e.stdout, "%s : %s\n", url, raw)
		} else {
			fmt.Fprintln(ev.e.stdout, raw)
		}
		if _, perr := pac.ParseResult(raw); perr != nil && strings.TrimSpace(raw) != "" {
			fmt.Fprintf(ev.e.stderr, "warning: %s: %v\n", url, perr)
		}
	}
	if err != nil {
		fmt.Fprintf(ev.e.stderr, "%v\n", err)
		return &exitError{1}
	}
	return nil
}

// list evaluates every URL of the file at path.
func (ev *evaluator) list(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	failed := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			continue
		case line[0] == '#':
			if !ev.json {
				fmt.Fprintln(ev.e.stdout, line)
			}
			continue
		}
		if err := ev.one(ctx, line, "", true); err != nil {
			var ee *exitError
			if !errors.As(err, &ee) {
				return err
			}
			failed = true
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if failed {
		return &exitError{1}
	}
	return nil
}

// setLocal makes loc the process's local time zone and returns a function
// that restores the previous one. Only the command line may do this: it
// runs one script at a time.
func setLocal(loc *time.Location) (restore func()) {
	old := time.Local
	time.Local = loc
	return func() { time.Local = old }
}
