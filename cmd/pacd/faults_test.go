package main

// Fault tests of the whole process: pacd serve, built from this package,
// run as a child with a lowered descriptor limit, under a storm of
// SIGHUPs, and stopped with SIGTERM under load; and, in-process, a PAC
// URL that breaks in every way while --pac-refresh keeps checking it.
// What leaks is read from the child's /metrics and /proc/PID. Every
// address is on loopback.
//
// The storm and the descriptor test are brief by default; PACD_FAULT_LONG=1
// makes them long (thousands of signals, more connections).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pacd/pacd/internal/upstream"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pacdBin.dir != "" {
		os.RemoveAll(pacdBin.dir)
	}
	os.Exit(code)
}

var pacdBin struct {
	once      sync.Once
	dir, path string
	err       error
}

// pacdBinary builds pacd from this package once per test process.
func pacdBinary(t *testing.T) string {
	t.Helper()
	pacdBin.once.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			pacdBin.err = err
			return
		}
		if pacdBin.dir, err = os.MkdirTemp("", "pacd-faults"); err != nil {
			pacdBin.err = err
			return
		}
		pacdBin.path = filepath.Join(pacdBin.dir, "pacd")
		out, err := exec.Command(goBin, "build", "-o", pacdBin.path, ".").CombinedOutput()
		if err != nil {
			pacdBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if pacdBin.err != nil {
		t.Fatal(pacdBin.err)
	}
	return pacdBin.path
}

// longFaults reports whether the long versions of the storm and
// descriptor tests were asked for.
func longFaults() bool { return os.Getenv("PACD_FAULT_LONG") == "1" }

// pacdProc is `pacd serve` running as a child process.
type pacdProc struct {
	cmd         *exec.Cmd
	http, socks string
	log         *serveBuffer
	done        chan struct{}
	exit        int
}

// startPacdProc runs the built pacd serve, with its descriptor limit
// (soft and hard) lowered to nofile by the shell if nofile > 0, and
// returns once it serves. The test's end stops it.
func startPacdProc(t *testing.T, nofile int, args ...string) *pacdProc {
	t.Helper()
	argv := append([]string{pacdBinary(t), "serve", "--no-env", "--listen", "127.0.0.1:0", "--socks", "127.0.0.1:0", "--log-level", "info"}, args...)
	if nofile > 0 {
		argv = append([]string{"/bin/sh", "-c", fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, nofile)}, argv...)
	}
	p := &pacdProc{log: &serveBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	p.cmd.Stdout, p.cmd.Stderr = io.Discard, p.log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.exit = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.alive() {
			p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(15 * time.Second):
				p.cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			log := p.log.String()
			if len(log) > 8<<10 {
				log = "...\n" + log[len(log)-8<<10:]
			}
			t.Logf("pacd serve's log:\n%s", log)
		}
	})
	if !pollUntil(15*time.Second, func() bool {
		m := servingLine.FindStringSubmatch(p.log.String())
		if m != nil {
			p.http, p.socks = m[1], m[2]
		}
		return m != nil || !p.alive()
	}) || p.http == "" {
		t.Fatalf("pacd serve did not start (alive %v):\n%s", p.alive(), p.log)
	}
	return p
}

func (p *pacdProc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *pacdProc) pid() int { return p.cmd.Process.Pid }

func (p *pacdProc) proxyURL() string { return "http://" + p.http }

// fds counts the child's open descriptors. The listing is not atomic:
// a number closed and opened again while it is read would come twice.
func (p *pacdProc) fds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.pid()))
	if err != nil {
		t.Fatalf("pacd's descriptors: %v", err)
	}
	seen := map[string]bool{}
	for _, e := range ents {
		seen[e.Name()] = true
	}
	return len(seen)
}

// gauge reads one gauge from the child's /metrics.
func (p *pacdProc) gauge(t *testing.T, name string) int64 {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + p.http + "/metrics")
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// settles waits up to 15 s for the child's goroutines and descriptors to
// come back near the baseline, and its live heap within 16 MiB of it.
func (p *pacdProc) settles(t *testing.T, what string, goroutines int64, fds int, heap int64) {
	t.Helper()
	var g, h int64
	var f int
	if !pollUntil(15*time.Second, func() bool {
		g, f, h = p.gauge(t, "pacd_goroutines"), p.fds(t), p.gauge(t, "pacd_heap_bytes")
		return g <= goroutines+6 && f <= fds+4 && h <= heap+16<<20
	}) {
		t.Errorf("%s: pacd has %d goroutines (%d before), %d descriptors (%d before), %.1f MiB of live heap (%.1f before)",
			what, g, goroutines, f, fds, float64(h)/(1<<20), float64(heap)/(1<<20))
		return
	}
	t.Logf("%s: %d goroutines (%d before), %d descriptors (%d before), %.1f MiB of live heap (%.1f before)",
		what, g, goroutines, f, fds, float64(h)/(1<<20), float64(heap)/(1<<20))
}

// getVia fetches u through proxyURL on a connection of its own.
func getVia(proxyURL, u string) (int, string, error) {
	pu, _ := url.Parse(proxyURL)
	tr := &http.Transport{Proxy: http.ProxyURL(pu), DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(u)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestFaultDescriptorExhaustion runs pacd serve with 64 descriptors and
// more clients than that: tunnels that cannot get a descriptor for their
// upstream are answered 502, connections over --max-conns 503 (or closed,
// on the SOCKS listener), the rest wait in the kernel's queue; pacd keeps
// running, the tunnels it has keep working, and when the clients go it
// serves again with its descriptors and goroutines back where they were.
func TestFaultDescriptorExhaustion(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	echo := echoServer(t)
	const nofile = 64
	p := startPacdProc(t, nofile, "--max-conns", "48")
	limits, _ := os.ReadFile(fmt.Sprintf("/proc/%d/limits", p.pid()))
	if m := regexp.MustCompile(`Max open files\s+(\d+)\s+(\d+)`).FindSubmatch(limits); m == nil || string(m[1]) != "64" || string(m[2]) != "64" {
		t.Fatalf("pacd's descriptor limit is not 64:\n%s", limits)
	}
	for _, pu := range []string{p.proxyURL(), "socks5://" + p.socks} {
		if code, body, err := getVia(pu, o.URL("/index.txt")); err != nil || code != http.StatusOK || body != upstream.Body {
			t.Fatalf("before: GET via %s: %d %q %v", pu, code, body, err)
		}
	}
	baseG, baseF, baseH := p.gauge(t, "pacd_goroutines"), p.fds(t), p.gauge(t, "pacd_heap_bytes")

	// Tunnels until descriptors run out: each holds two.
	var tunnels []net.Conn
	refused := 0
	defer func() {
		for _, c := range tunnels {
			c.Close()
		}
	}()
	nTunnels := 40
	if longFaults() {
		nTunnels = 200
	}
	queued := false
	for range nTunnels {
		c, resp, err := tryConnect(p.http, echo, 2*time.Second)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			// pacd could not even accept it: the connection waits in
			// the kernel's queue until a descriptor is free.
			c.Close()
			queued = true
			break
		}
		if err != nil {
			t.Fatalf("CONNECT without descriptors left: %v", err)
		}
		if resp.StatusCode == http.StatusOK {
			tunnels = append(tunnels, c)
			continue
		}
		c.Close()
		if resp.StatusCode != http.StatusBadGateway && resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("CONNECT without descriptors left: %s (%s), want 502 or 503", resp.Status, resp.Header.Get("X-Pacd-Error"))
		}
		refused++
	}
	if refused == 0 && !queued {
		t.Errorf("%d tunnels with 64 descriptors all opened", len(tunnels))
	}
	t.Logf("%d tunnels open, %d refused (502: no descriptor for the upstream), queued %v; pacd has %d descriptors", len(tunnels), refused, queued, p.fds(t))
	// And more clients on both listeners than pacd can take.
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for i := range 2 * nofile {
		addr := p.http
		if i%2 == 1 {
			addr = p.socks
		}
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			break // the kernel's queue is full: refused, which is fine
		}
		idle = append(idle, c)
	}
	time.Sleep(500 * time.Millisecond)
	if !p.alive() || strings.Contains(p.log.String(), "shutting down") {
		t.Fatalf("pacd serve stopped (alive %v) when it ran out of descriptors", p.alive())
	}
	if f := p.fds(t); f < nofile-4 {
		t.Errorf("pacd has %d descriptors, not near its limit of %d: the test did not exhaust them", f, nofile)
	}
	// The tunnels it has still carry bytes.
	for i, c := range tunnels {
		if err := roundTrip(c, fmt.Sprintf("still there %d", i)); err != nil {
			t.Errorf("tunnel %d while out of descriptors: %v", i, err)
			break
		}
	}
	// Everything goes; pacd serves again.
	for _, c := range append(tunnels, idle...) {
		c.Close()
	}
	tunnels, idle = nil, nil
	for _, pu := range []string{p.proxyURL(), "socks5://" + p.socks} {
		var code int
		var err error
		if !pollUntil(10*time.Second, func() bool {
			code, _, err = getVia(pu, o.URL("/index.txt"))
			return err == nil && code == http.StatusOK
		}) {
			t.Errorf("after the clients went: GET via %s: %d %v", pu, code, err)
		}
	}
	c := openTunnel(t, p.http, echo)
	if err := roundTrip(c, "again"); err != nil {
		t.Errorf("a tunnel after the clients went: %v", err)
	}
	c.Close()
	if !p.alive() {
		t.Fatalf("pacd serve exited (status %d)", p.exit)
	}
	p.settles(t, "after descriptor exhaustion", baseG, baseF, baseH)
}

// TestFaultSIGHUPStorm sends pacd serve hundreds of SIGHUPs while HTTP
// (DIRECT and through squid), SOCKS5 and tunnel clients run: no client
// sees an error, the tunnels opened before the storm keep working, and
// afterwards pacd has no more goroutines, descriptors or heap than
// before.
func TestFaultSIGHUPStorm(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	sq := upstream.StartSquid(t, upstream.SquidOptions{})
	echo := echoServer(t)
	pacPath := writeFile(t, t.TempDir(), "proxy.pac", pacReturning(`  if (host == "localhost") return "PROXY `+sq.Addr+`";
  return "DIRECT";`))
	p := startPacdProc(t, 0, "--proxy-loopback", "--pac", pacPath)
	viaSquid := "http://localhost:" + portOf(t, o.Addr()) + "/index.txt"
	for _, pu := range []string{p.proxyURL(), "socks5://" + p.socks} {
		for _, u := range []string{o.URL("/index.txt"), viaSquid} {
			if code, body, err := getVia(pu, u); err != nil || code != http.StatusOK || body != upstream.Body {
				t.Fatalf("before: GET %s via %s: %d %q %v", u, pu, code, body, err)
			}
		}
	}
	var old []net.Conn
	for range 4 {
		old = append(old, openTunnel(t, p.http, echo))
	}
	hup := func() { syscall.Kill(p.pid(), syscall.SIGHUP) }
	reloads := func() int { return strings.Count(p.log.String(), "msg=reloaded") }
	hup() // the first reload drops the pools of the warm-up
	if !pollUntil(5*time.Second, func() bool { return reloads() >= 1 }) {
		t.Fatal("pacd serve did not reload on SIGHUP")
	}
	baseG, baseF, baseH := p.gauge(t, "pacd_goroutines"), p.fds(t), p.gauge(t, "pacd_heap_bytes")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ok atomic.Int64
	var mu sync.Mutex
	var errs []string
	fail := func(format string, args ...any) {
		mu.Lock()
		errs = append(errs, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	var trs []*http.Transport
	for _, pu := range []string{p.proxyURL(), p.proxyURL(), "socks5://" + p.socks} {
		u, _ := url.Parse(pu)
		trs = append(trs, &http.Transport{Proxy: http.ProxyURL(u)})
	}
	for i, tr := range trs {
		target := o.URL("/index.txt")
		if i == 1 {
			target = viaSquid
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Get(target)
				if err != nil {
					fail("GET %s: %v", target, err)
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || string(b) != upstream.Body {
					fail("GET %s: %s %q %v", target, resp.Status, b, err)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	for i, c := range old {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
				if err := roundTrip(c, fmt.Sprintf("tunnel %d message %d", i, n)); err != nil {
					fail("tunnel %d: %v", i, err)
					return
				}
				ok.Add(1)
			}
		}()
	}
	wg.Add(1)
	go func() { // new tunnels, one after another
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			c, resp := connectTo(t, p.http, echo)
			if resp.StatusCode != http.StatusOK {
				fail("CONNECT during the storm: %s", resp.Status)
			} else if err := roundTrip(c, "new"); err != nil {
				fail("a new tunnel during the storm: %v", err)
			} else {
				ok.Add(1)
			}
			c.Close()
		}
	}()

	signals := 300
	if longFaults() {
		signals = 5000
	}
	for range signals {
		hup()
		time.Sleep(3 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	for _, tr := range trs {
		tr.CloseIdleConnections()
	}
	n := reloads()
	t.Logf("%d SIGHUPs, %d reloads, %d requests and echoes served", signals, n, ok.Load())
	for i, e := range errs {
		if i == 5 {
			t.Errorf("... and %d more", len(errs)-5)
			break
		}
		t.Error(e)
	}
	if n < 20 {
		t.Errorf("only %d reloads for %d SIGHUPs", n, signals)
	}
	if !p.alive() {
		t.Fatalf("pacd serve exited (status %d) during the storm", p.exit)
	}
	for i, c := range old {
		if err := roundTrip(c, "after the storm"); err != nil {
			t.Errorf("tunnel %d opened before the storm: %v", i, err)
		}
	}
	if errs := strings.Count(p.log.String(), "level=ERROR"); errs > 0 {
		t.Errorf("pacd logged %d errors during the storm", errs)
	}
	hup() // let go of the pools the load filled
	pollUntil(5*time.Second, func() bool { return reloads() > n })
	p.settles(t, "after the SIGHUP storm", baseG, baseF, baseH)
}

// TestFaultShutdownUnderLoad sends SIGTERM to pacd serve (--drain 2s)
// while requests, tunnels and SOCKS connections run: requests that end
// within the drain get their whole answer, those that would not and the
// tunnels are closed at the drain's end, new connections are refused, and
// pacd exits 0 within the drain.
func TestFaultShutdownUnderLoad(t *testing.T) {
	t.Parallel()
	const drain = 2 * time.Second
	echo := echoServer(t)
	// /slow?ms=N answers its headers at once and its 100 KiB body over
	// N ms.
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		chunk := strings.Repeat("x", 1024)
		w.Header().Set("Content-Length", strconv.Itoa(100*len(chunk)))
		w.WriteHeader(http.StatusOK)
		for range 100 {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Duration(ms) * time.Millisecond / 100):
			}
			io.WriteString(w, chunk)
		}
	}))
	defer origin.Close()
	p := startPacdProc(t, 0, "--drain", drain.String())

	type result struct {
		what string
		n    int64
		err  error
		at   time.Duration
	}
	var term time.Time
	var termMu sync.Mutex
	since := func() time.Duration {
		termMu.Lock()
		defer termMu.Unlock()
		if term.IsZero() {
			return 0
		}
		return time.Since(term)
	}
	results := make(chan result, 100)
	var wg sync.WaitGroup
	request := func(what, proxyURL string, ms int) {
		defer wg.Done()
		pu, _ := url.Parse(proxyURL)
		tr := &http.Transport{Proxy: http.ProxyURL(pu)}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 15 * time.Second}).Get(origin.URL + "/slow?ms=" + strconv.Itoa(ms))
		if err != nil {
			results <- result{what, 0, err, since()}
			return
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = errors.New(resp.Status)
		}
		results <- result{what, n, err, since()}
	}
	for range 6 {
		wg.Add(2)
		go request("short", p.proxyURL(), 800)
		go request("short over SOCKS5", "socks5://"+p.socks, 800)
	}
	for range 2 {
		wg.Add(1)
		go request("long", p.proxyURL(), 8000)
	}
	tunnelEnds := make(chan result, 10)
	for i := range 6 {
		var c net.Conn
		if i%2 == 0 {
			c = openTunnel(t, p.http, echo)
		} else {
			var err error
			if c, err = socksDialer(p.socks, echo); err != nil {
				t.Fatal(err)
			}
			defer c.Close()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int64
			for {
				if err := roundTrip(c, "ping"); err != nil {
					tunnelEnds <- result{"tunnel", n, err, since()}
					return
				}
				n++
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond) // everything is under way
	termMu.Lock()
	term = time.Now()
	termMu.Unlock()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if !pollUntil(2*time.Second, func() bool { return strings.Contains(p.log.String(), "shutting down") }) {
		t.Fatalf("no shutting down line")
	}
	for _, a := range []string{p.http, p.socks} {
		// The line comes just before the listeners close.
		if !pollUntil(time.Second, func() bool {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
			}
			return err != nil
		}) {
			t.Errorf("%s accepts connections while pacd drains", a)
		}
	}
	select {
	case <-p.done:
	case <-time.After(drain + 5*time.Second):
		t.Fatalf("pacd serve did not exit %v after SIGTERM with --drain %v", time.Since(term), drain)
	}
	exited := time.Since(term)
	if p.exit != 0 {
		t.Errorf("pacd serve exited with %d after SIGTERM, want 0", p.exit)
	}
	if exited < drain-200*time.Millisecond || exited > drain+2*time.Second {
		t.Errorf("pacd serve exited %v after SIGTERM, want at the drain timeout %v (tunnels were open)", exited, drain)
	}
	wg.Wait()
	close(results)
	close(tunnelEnds)
	for r := range results {
		switch {
		case strings.HasPrefix(r.what, "short") && (r.err != nil || r.n != 100<<10):
			t.Errorf("%s request, in flight at SIGTERM: %d bytes, %v; want its whole answer", r.what, r.n, r.err)
		case r.what == "long" && (r.err == nil || r.n == 100<<10):
			t.Errorf("long request: %d bytes, %v; want an error before its end", r.n, r.err)
		case r.what == "long" && (r.at < drain-200*time.Millisecond || r.at > drain+2*time.Second):
			t.Errorf("long request ended %v after SIGTERM (%v), want at the drain timeout", r.at, r.err)
		}
	}
	for r := range tunnelEnds {
		if r.at < drain-200*time.Millisecond || r.at > drain+2*time.Second {
			t.Errorf("a tunnel ended %v after SIGTERM (%v, %d echoes), want at the drain timeout %v", r.at, r.err, r.n, drain)
		}
	}
	if !strings.Contains(p.log.String(), "msg=stopped") {
		t.Errorf("no stopped line")
	}
}

// tryConnect sends CONNECT target to the proxy at addr and waits at most
// d for the answer. The caller closes the connection.
func tryConnect(addr, target string, d time.Duration) (net.Conn, *http.Response, error) {
	c, err := net.DialTimeout("tcp", addr, d)
	if err != nil {
		return nil, nil, err
	}
	c.SetDeadline(time.Now().Add(d))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	c.SetDeadline(time.Time{})
	return &readerConn{Conn: c, r: br}, resp, err
}

// socksDialer opens a SOCKS5 tunnel to target through the proxy at addr,
// with the handshake written out (no authentication).
func socksDialer(addr, target string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	host, ps, _ := net.SplitHostPort(target)
	port, _ := strconv.Atoi(ps)
	ip := net.ParseIP(host).To4()
	req := append([]byte{5, 1, 0, 5, 1, 0, 1}, ip...)
	req = append(req, byte(port>>8), byte(port))
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(req); err != nil {
		c.Close()
		return nil, err
	}
	b := make([]byte, 12)
	if _, err := io.ReadFull(c, b); err != nil || b[1] != 0 || b[3] != 0 {
		c.Close()
		return nil, fmt.Errorf("SOCKS5 handshake: %v %v", b, err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// TestFaultServePACURL: the PAC URL of a running pacd serve (with a
// --pac-refresh of 100 ms) serves a script that does not compile, a web
// page instead of a script, an endless body and an empty one; each check
// fails, the last good script keeps deciding and /proxy.pac keeps serving
// it, and a good script afterwards is picked up.
func TestFaultServePACURL(t *testing.T) {
	t.Parallel()
	good := pacReturning(`  if (host == "marker.example") return "PROXY 127.0.0.1:1";
  return "DIRECT";`)
	var mode atomic.Value
	mode.Store("good")
	var served atomic.Value
	served.Store(good)
	var most atomic.Int64 // the most bytes one answer wrote
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load().(string) {
		case "good":
			io.WriteString(w, served.Load().(string))
		case "broken":
			io.WriteString(w, "function FindProxyForURL(url, host) { return 'DIRECT' +; }\n")
		case "html":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<!doctype html><html><body>Please log in to the captive portal</body></html>\n")
		case "endless":
			line := "// " + strings.Repeat("y", 1020) + "\n"
			var n int64
			for n < 2<<30 {
				m, err := io.WriteString(w, line)
				n += int64(m)
				if err != nil {
					break
				}
			}
			for old := most.Load(); n > old && !most.CompareAndSwap(old, n); old = most.Load() {
			}
		case "empty":
		}
	}))
	defer srv.Close()
	p := startServe(t, "--pac", srv.URL+"/proxy.pac", "--pac-refresh", "100ms")
	decision := func() string {
		st := statusOf(t, p.http, "http://marker.example/")
		if st.Query == nil {
			return ""
		}
		return st.Query.Decision
	}
	if d := decision(); d != "PROXY 127.0.0.1:1" {
		t.Fatalf("decision %q with the first script", d)
	}
	for _, m := range []string{"broken", "html", "endless", "empty"} {
		before := statusOf(t, p.http, "").PAC.Failures
		mode.Store(m)
		var st serveStatus
		if !pollUntil(10*time.Second, func() bool {
			st = statusOf(t, p.http, "")
			return st.PAC != nil && st.PAC.Failures >= before+2
		}) {
			t.Errorf("%s: the checks do not fail: %+v", m, st.PAC)
		}
		if d := decision(); d != "PROXY 127.0.0.1:1" {
			t.Errorf("%s: decision %q, want the last good script's", m, d)
		}
		if _, body := page(t, p.http, "/proxy.pac"); body != good {
			t.Errorf("%s: /proxy.pac %.80q, want the last good script", m, body)
		}
		t.Logf("%s: %d failures, last error %q", m, st.PAC.Failures, st.PAC.LastError)
		mode.Store("good")
		if !pollUntil(5*time.Second, func() bool { return statusOf(t, p.http, "").PAC.Failures == 0 }) {
			t.Errorf("%s: the good script does not check out again", m)
		}
	}
	if n := most.Load(); n > 32<<20 {
		t.Errorf("one endless answer wrote %d MiB before the fetch stopped: want it cut at the 1 MiB limit", n>>20)
	}
	served.Store(strings.Replace(good, "127.0.0.1:1", "127.0.0.1:2", 1))
	if !pollUntil(5*time.Second, func() bool { return decision() == "PROXY 127.0.0.1:2" }) {
		t.Errorf("a new good script was not picked up: %q", decision())
	}
	if _, ok := metricsWith(t, p.http, "pacd_pac_loaded 1"); !ok {
		t.Errorf("/metrics: the PAC is not loaded")
	}
}
