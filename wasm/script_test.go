package wasm_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/wasm"
)

// TestCompileErrors compiles broken scripts in both engines and requires
// the same errors.
func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		opts *pac.Options
		kind string
	}{
		{"syntax", "function FindProxyForURL(url, host) {\n  return \"DIRECT\" +;\n}", &pac.Options{Name: "broken.pac"}, "syntax"},
		{"no entry", "var x = 1;", nil, "no entry point"},
		{"top level throws", "throw new Error('boom');", nil, "script"},
		{"too large", strings.Repeat(" ", 100) + "function FindProxyForURL(){}", &pac.Options{MaxScriptSize: 64}, "too large"},
		{"top level loops", "for (;;) {}", &pac.Options{Timeout: 100 * time.Millisecond}, "timeout"},
		{"top level recursion", "function f() { return f(); } f();", &pac.Options{MaxCallStackSize: 50}, "script"},
		{"unknown zone", "function FindProxyForURL(){ return 'DIRECT'; }", &pac.Options{Location: time.FixedZone("Nowhere/Zone", 3600)}, ""},
	}
	e := testEngine(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, werr := e.Compile(context.Background(), tt.src, tt.opts)
			if tt.kind == "" {
				// Only the module knows zones by name.
				if werr == nil || !strings.Contains(werr.Error(), "Nowhere/Zone") {
					t.Errorf("Compile = %v, want an error naming the zone", werr)
				}
				return
			}
			_, nerr := pac.Compile(tt.src, tt.opts)
			if got, want := describe("", werr), describe("", nerr); got != want {
				t.Errorf("module: %s\nnative: %s", got, want)
			}
			if errKind(werr) != tt.kind {
				t.Errorf("kind %q, want %q", errKind(werr), tt.kind)
			}
		})
	}
}

// TestEvalErrors evaluates failing scripts in both engines.
func TestEvalErrors(t *testing.T) {
	src := `function FindProxyForURL(url, host) {
  if (host == "throw") throw new TypeError("bad " + host);
  if (host == "undef") return undefined;
  if (host == "num") return 42;
  if (host == "ref") return nosuch(host);
  if (host == "utf") return "PROXY \u00e9:1";
  return "DIRECT";
}`
	latin1 := "\ufeff// caf\xe9: a script in Latin-1\nfunction FindProxyForURL(url, host) { if (host == 'latin1') return 'caf\xe9'; return 'DIRECT'; }\n"
	for _, host := range []string{"throw", "undef", "num", "ref", "utf", "ok", "latin1"} {
		t.Run(host, func(t *testing.T) {
			src := src
			if host == "latin1" {
				src = latin1
			}
			var got []string
			for _, eng := range engines {
				s, err := eng.compile(t)(src, &pac.Options{Name: "e.pac"})
				if err != nil {
					t.Fatal(err)
				}
				res, err := s.Eval(context.Background(), "http://"+host+"/", "")
				got = append(got, describe(res, err))
			}
			if got[0] != got[1] {
				t.Errorf("native %s\nmodule %s", got[0], got[1])
			}
		})
	}
}

// TestContext checks the errors of evaluations whose context ends: before
// the call, during it (canceled, and with a cause), and at a deadline
// earlier than the timeout.
func TestContext(t *testing.T) {
	e := testEngine(t)
	// The script asks for a name, and then loops: the resolver ends the
	// context of the call, which is then surely running.
	var cancelNow func()
	opts := &pac.Options{
		Timeout: 5 * time.Second,
		Resolver: resolverFunc(func(context.Context, string, string) ([]netip.Addr, error) {
			cancelNow()
			return nil, errors.New("no such host")
		}),
	}
	s := mustCompile(t, e, `function FindProxyForURL(url, host) {
  if (host == "cancel") { dnsResolve("now.example"); for (;;) {} }
  if (host == "loop") for (;;) {}
  return "DIRECT";
}`, opts)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Eval(ctx, "http://ok/", ""); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled before: %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancelNow = cancel
	start := time.Now()
	if _, err := s.Eval(ctx, "http://cancel/", ""); !errors.Is(err, context.Canceled) || errors.Is(err, pac.ErrTimeout) {
		t.Errorf("canceled during: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("canceled during: took %v", took)
	}

	cause := errors.New("the user gave up")
	cctx, ccancel := context.WithCancelCause(context.Background())
	cancelNow = func() { ccancel(cause) }
	if _, err := s.Eval(cctx, "http://cancel/", ""); err != cause {
		t.Errorf("canceled with a cause: %v, want the cause", err)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer dcancel()
	start = time.Now()
	_, err := s.Eval(dctx, "http://loop/", "")
	if !errors.Is(err, pac.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("deadline: took %v", took)
	}

	if res, err := s.Eval(context.Background(), "http://ok/", ""); res != "DIRECT" || err != nil {
		t.Errorf("afterwards: %q, %v", res, err)
	}
}

// TestOptions checks that the module gets what the options supply: DNS,
// the client's addresses, the clock, the zone (also of Date objects),
// alerts, full URLs and the limits.
func TestOptions(t *testing.T) {
	e := testEngine(t)
	var lookups []string
	var mu sync.Mutex
	resolver := resolverFunc(func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		mu.Lock()
		lookups = append(lookups, network+" "+host)
		mu.Unlock()
		if _, ok := ctx.Deadline(); !ok {
			return nil, errors.New("lookup without a deadline")
		}
		switch host {
		case "intranet.example":
			return []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("2001:db8::1")}, nil
		}
		return nil, errors.New("no such host")
	})
	var alerts []string
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zoneinfo on this machine:", err)
	}
	now := time.Date(2026, 7, 1, 8, 30, 0, 0, time.UTC)
	opts := &pac.Options{
		Name:     "opts.pac",
		Resolver: resolver,
		MyIPAddresses: func(context.Context) []netip.Addr {
			return []netip.Addr{netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("2001:db8::7")}
		},
		Now:      func() time.Time { return now },
		Location: berlin,
		Alert:    func(msg string) { alerts = append(alerts, msg) },
		FullURLs: true,
	}
	src := `function FindProxyForURL(url, host) {
  alert("asked for " + host);
  switch (host) {
  case "dns": return dnsResolve("intranet.example") + " " + dnsResolveEx("intranet.example") + " " + isResolvable("nowhere.example");
  case "me": return myIpAddress() + " " + myIpAddressEx();
  case "time": return timeRange(10) + " " + timeRange(8, "GMT") + " " + weekdayRange("WED");
  case "date": return new Date().toString();
  case "url": return url;
  }
  return "DIRECT";
}`
	s := mustCompile(t, e, src, opts)
	ns, err := pac.Compile(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer setLocal(berlin)() // for the native engine's Date objects
	for _, host := range []string{"dns", "me", "time", "date", "url"} {
		u := "https://user:pw@" + host + "/path?q=1#frag"
		want, werr := ns.Eval(context.Background(), u, "")
		got, err := s.Eval(context.Background(), u, "")
		if got != want || errKind(err) != errKind(werr) {
			t.Errorf("%s: module %q, %v; native %q, %v", host, got, err, want, werr)
		}
	}
	if len(alerts) != 10 || alerts[0] != "asked for dns" {
		t.Errorf("alerts = %q", alerts)
	}
	if got := strings.Join(lookups, ","); !strings.Contains(got, "ip4 intranet.example") || !strings.Contains(got, "ip intranet.example") {
		t.Errorf("lookups = %s", got)
	}
}

func setLocal(loc *time.Location) func() {
	old := time.Local
	time.Local = loc
	return func() { time.Local = old }
}

type resolverFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

func (f resolverFunc) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return f(ctx, network, host)
}

// TestTrace checks EvalTraced and Eval under pac.WithTrace against the
// native engine's trace.
func TestTrace(t *testing.T) {
	src := `function FindProxyForURL(url, host) {
  if (isPlainHostName(host)) return "DIRECT";
  if (dnsDomainIs(host, ".example.com") && isInNet(dnsResolve(host), "10.0.0.0", "255.0.0.0")) return "PROXY in:1";
  if (host == "loop") for (;;) {}
  return "PROXY out:1";
}`
	opts := &pac.Options{Resolver: pac.StaticResolver{"a.example.com": {netip.MustParseAddr("10.1.1.1")}}, Timeout: 200 * time.Millisecond}
	e := testEngine(t)
	s := mustCompile(t, e, src, opts)
	ns, err := pac.Compile(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"a.example.com", "b.example.com", "plain", "loop"} {
		var want []string
		wres, werr := ns.Eval(pac.WithTrace(context.Background(), func(c pac.Call) { want = append(want, c.String()) }), "http://"+host+"/", "")
		res, calls, err := s.EvalTraced(context.Background(), "http://"+host+"/", "")
		var got []string
		for _, c := range calls {
			got = append(got, c.String())
		}
		if describe(res, err) != describe(wres, werr) || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: module %s %q\nnative %s %q", host, describe(res, err), got, describe(wres, werr), want)
		}
		var viaCtx []string
		res, err = s.Eval(pac.WithTrace(context.Background(), func(c pac.Call) { viaCtx = append(viaCtx, c.String()) }), "http://"+host+"/", "")
		if describe(res, err) != describe(wres, werr) || strings.Join(viaCtx, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: Eval with WithTrace: %s %q", host, describe(res, err), viaCtx)
		}
	}
	if len(calls(t, s, "a.example.com")) != 4 {
		t.Errorf("a.example.com: want 4 calls")
	}
}

func calls(t *testing.T, s *wasm.Script, host string) []pac.Call {
	_, c, err := s.EvalTraced(context.Background(), "http://"+host+"/", "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFindProxyForURL checks the parsed form against the native engine.
func TestFindProxyForURL(t *testing.T) {
	src := `function FindProxyForURL(url, host) { return host == "x.example" ? "PROXY a:1; JUNK; SOCKS5 b:2" : "PROXY " + host + ":3; DIRECT"; }`
	e := testEngine(t)
	s := mustCompile(t, e, src, nil)
	ns, err := pac.Compile(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"http://x.example/", "https://[2001:DB8::1]:8443/p", "http://Upper.Example/"} {
		u, _ := url.Parse(raw)
		got, err := s.FindProxyForURL(context.Background(), u)
		want, nerr := ns.FindProxyForURL(context.Background(), u)
		if got.String() != want.String() || err != nil || nerr != nil {
			t.Errorf("%s: module %v, %v; native %v, %v", raw, got, err, want, nerr)
		}
	}
	if s.Name() != "proxy.pac" {
		t.Errorf("Name = %q", s.Name())
	}
}

// TestConcurrent evaluates from several goroutines at once, more than
// there are instances, with timeouts among them, and checks every answer
// against the native engine's.
func TestConcurrent(t *testing.T) {
	f, src := benchCases(t, "bench-small")
	e := newEngine(t, wasm.Config{MaxInstances: 2})
	src += "\nvar FindProxyForURLNative = FindProxyForURL;\nFindProxyForURL = function (url, host) { if (host == 'loop') for (;;) {} return FindProxyForURLNative(url, host); };\n"
	opts := f.Options()
	opts.Timeout = 100 * time.Millisecond
	s := mustCompile(t, e, src, opts)
	ns, err := pac.Compile(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var timeouts atomic.Int32
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				c := f.Cases[(g*7+i)%len(f.Cases)]
				host := c.Host
				if g == 0 && i%10 == 0 {
					host = "loop"
				}
				got, err := s.Eval(context.Background(), c.URL, host)
				want, werr := ns.Eval(context.Background(), c.URL, host)
				if describe(got, err) != describe(want, werr) {
					t.Errorf("%s %s: module %s, native %s", c.URL, host, describe(got, err), describe(want, werr))
				}
				if errors.Is(err, pac.ErrTimeout) {
					timeouts.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if timeouts.Load() != 3 {
		t.Errorf("%d timeouts, want 3", timeouts.Load())
	}
	if _, n := s.InstancePages(); n > 2 {
		t.Errorf("%d instances, want at most 2", n)
	}
}

// TestPoolWait checks that a caller waits for a busy instance only as
// long as its context lets it.
func TestPoolWait(t *testing.T) {
	e := newEngine(t, wasm.Config{MaxInstances: 1})
	started := make(chan struct{})
	var once sync.Once
	opts := &pac.Options{
		Timeout: time.Second,
		Resolver: resolverFunc(func(context.Context, string, string) ([]netip.Addr, error) {
			once.Do(func() { close(started) })
			return nil, errors.New("no such host")
		}),
	}
	s := mustCompile(t, e, `function FindProxyForURL(url, host) {
  if (host == "busy") { dnsResolve("started.example"); for (;;) {} }
  return "DIRECT";
}`, opts)
	done := make(chan error)
	go func() {
		_, err := s.Eval(context.Background(), "http://busy/", "")
		done <- err
	}()
	<-started // the only instance is looping
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Eval(ctx, "http://ok/", ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting for the busy instance: %v, want the context's deadline", err)
	}
	if err := <-done; !errors.Is(err, pac.ErrTimeout) {
		t.Errorf("busy: %v", err)
	}
	if res, err := s.Eval(context.Background(), "http://ok/", ""); res != "DIRECT" || err != nil {
		t.Errorf("afterwards: %q, %v", res, err)
	}
}

// TestClose checks that closed scripts and engines refuse work.
func TestClose(t *testing.T) {
	e := newEngine(t, wasm.Config{})
	s, err := e.Compile(context.Background(), hostilePAC, nil)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := e.Compile(context.Background(), hostilePAC, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Eval(context.Background(), "http://ok/", ""); !errors.Is(err, wasm.ErrClosed) {
		t.Errorf("Eval after Script.Close: %v", err)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Eval(context.Background(), "http://ok/", ""); !errors.Is(err, wasm.ErrClosed) {
		t.Errorf("Eval after Engine.Close: %v", err)
	}
	if _, err := e.Compile(context.Background(), hostilePAC, nil); !errors.Is(err, wasm.ErrClosed) {
		t.Errorf("Compile after Engine.Close: %v", err)
	}
}

// TestLogger checks that the guest's output reaches the logger, capped,
// and that alerts go there when Options.Alert is nil.
func TestLogger(t *testing.T) {
	var buf syncBuffer
	e := newEngine(t, wasm.Config{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	s := mustCompile(t, e, `alert("loaded"); `+hostilePAC, &pac.Options{Name: "noisy.pac", Timeout: 20 * time.Second})
	if _, err := s.Eval(context.Background(), "http://bomb/", ""); !errors.Is(err, wasm.ErrMemoryLimit) {
		t.Fatalf("bomb: %v", err)
	}
	out := buf.String()
	for _, want := range []string{`msg="wasm: alert" script=noisy.pac msg=loaded`, `stream=stderr line="fatal error: out of memory"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if len(out) > 32<<10 {
		t.Errorf("%d bytes logged for one crash", len(out))
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
