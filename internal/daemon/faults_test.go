package daemon_test

// Fault tests: upstreams that die mid-transfer, hang or answer garbage; a
// PAC server that is down, slow, failing, endless or broken; slowloris
// clients; oversized, malformed and ambiguous requests; malformed SOCKS
// handshakes. Each one checks that the client gets a meaningful answer
// (a status, a SOCKS reply or a clean close) within a bound, that a
// healthy client keeps being served while the fault lasts, and that the
// goroutines and the live heap come back to what they were before it.
//
// These tests are not parallel: they count the process's goroutines, and
// the testing package runs them before, and never beside, the parallel
// ones. Every address is on loopback.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"runtime"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacd/pacd/internal/daemon"
	"github.com/pacd/pacd/internal/upstream"
	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/resolver"
)

// ---------------------------------------------------------------------
// Leaks

// leakBase is the process's goroutines and live heap before a fault.
type leakBase struct {
	goroutines int
	heap       uint64
}

const (
	// goroutineSlack is how many more goroutines than before the fault
	// are tolerated after it (timers and pollers of the runtime and the
	// testing package come and go).
	goroutineSlack = 4
	// heapSlack is how much more live heap is tolerated.
	heapSlack = 16 << 20
)

func liveHeap() uint64 {
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

// baseline records the goroutines and the live heap after a collection.
func baseline() leakBase {
	runtime.GC()
	return leakBase{runtime.NumGoroutine(), liveHeap()}
}

// check waits up to 15 s, collecting garbage, for the goroutines and the
// live heap to come back near b, and fails the test with the goroutines'
// stacks if they do not.
func (b leakBase) check(t *testing.T, what string) {
	t.Helper()
	var n int
	var h uint64
	if waitFor(15*time.Second, func() bool {
		runtime.GC()
		n, h = runtime.NumGoroutine(), liveHeap()
		return n <= b.goroutines+goroutineSlack && h <= b.heap+heapSlack
	}) {
		t.Logf("%s: goroutines %d (before: %d), live heap %.1f MiB (before: %.1f MiB)", what, n, b.goroutines, mib(h), mib(b.heap))
		return
	}
	var stacks bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&stacks, 1)
	t.Errorf("%s: leak: goroutines %d (before: %d, slack %d), live heap %.1f MiB (before: %.1f MiB, slack %d MiB)\n%s",
		what, n, b.goroutines, goroutineSlack, mib(h), mib(b.heap), heapSlack>>20, stacks.String())
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// dropPooled makes the daemon let go of its pooled upstream connections,
// as a reload does, so that a goroutine count does not depend on how
// many happen to be idle.
func dropPooled(ts *testServer) { ts.srv.SetResolver(ts.srv.Resolver()) }

// ---------------------------------------------------------------------
// Servers for faults

// tailBuffer is a log sink that keeps the last 8 KiB: fault tests log
// thousands of lines, which must not count as heap growth.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *tailBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	if over := len(l.b) - 8<<10; over > 0 {
		l.b = append(l.b[:0], l.b[over:]...)
	}
	return len(p), nil
}

func (l *tailBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// startFaultServer is startServer with a bounded log of warnings, shown
// if the test fails, and a resolver that dials nothing but loopback
// addresses (a name is refused before it is looked up).
func startFaultServer(t *testing.T, cfg daemon.Config, rc *resolver.Config) *testServer {
	t.Helper()
	tail := &tailBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(tail, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if rc == nil {
		rc = &resolver.Config{}
	}
	if rc.Dial == nil {
		rc.Dial = loopbackOnly
	}
	ts := startServer(t, cfg, rc)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daemon log (tail):\n%s", tail)
		}
	})
	return ts
}

func loopbackOnly(ctx context.Context, network, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return nil, fmt.Errorf("fault tests dial loopback addresses only, not %q", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// routes is a PAC script that sends the healthy origin DIRECT and
// everything else where fault says.
func routes(healthy *upstream.Origin, fault func(url, host string) string) pacFunc {
	return func(u, host string) string {
		if strings.Contains(u, healthy.Addr()) {
			return "DIRECT"
		}
		return fault(u, host)
	}
}

// healthyClient fetches the healthy origin's /index.txt through the
// daemon, over its HTTP and its SOCKS5 listener in turn, with keep-alive,
// until finish: the client that a fault must not affect.
type healthyClient struct {
	stop, done chan struct{}
	ok         atomic.Int64
	mu         sync.Mutex
	errs       []string
	trs        []*http.Transport
	names      []string
}

func startHealthy(t *testing.T, ts *testServer, o *upstream.Origin) *healthyClient {
	t.Helper()
	h := &healthyClient{stop: make(chan struct{}), done: make(chan struct{})}
	for _, p := range []string{ts.proxyURL(), "socks5://" + ts.socks} {
		u, _ := url.Parse(p)
		h.trs = append(h.trs, &http.Transport{Proxy: http.ProxyURL(u)})
		h.names = append(h.names, p)
	}
	go func() {
		defer close(h.done)
		for i := 0; ; i++ {
			select {
			case <-h.stop:
				return
			default:
			}
			tr := h.trs[i%len(h.trs)]
			c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			resp, err := c.Get(o.URL("/index.txt"))
			if err == nil {
				var b []byte
				b, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil && (resp.StatusCode != http.StatusOK || string(b) != upstream.Body) {
					err = fmt.Errorf("%s %q", resp.Status, b)
				}
			}
			if err != nil {
				h.mu.Lock()
				h.errs = append(h.errs, fmt.Sprintf("request %d (via %s): %v", i, h.names[i%len(h.names)], err))
				h.mu.Unlock()
			} else {
				h.ok.Add(1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { h.halt() })
	return h
}

func (h *healthyClient) halt() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	<-h.done
	for _, tr := range h.trs {
		tr.CloseIdleConnections()
	}
}

// finish stops the client and fails the test if any of its requests
// failed, or if it made fewer than two.
func (h *healthyClient) finish(t *testing.T) {
	t.Helper()
	waitFor(5*time.Second, func() bool { return h.ok.Load() >= 2 }) // a fault that was over at once
	h.halt()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.errs) > 0 {
		t.Errorf("the healthy client failed %d times during the fault (%d successes); first: %s", len(h.errs), h.ok.Load(), h.errs[0])
	}
	if h.ok.Load() < 2 {
		t.Errorf("the healthy client made only %d requests during the fault", h.ok.Load())
	}
}

// bigOrigin serves /big?n=N: N bytes with a Content-Length, written
// until the reader goes away. It counts what it wrote.
type bigOrigin struct {
	srv   *httptest.Server
	wrote atomic.Int64
}

func startBigOrigin(t *testing.T) *bigOrigin {
	t.Helper()
	o := &bigOrigin{}
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 2048) // 32 KiB
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		for n > 0 {
			m, err := w.Write(chunk[:min(int64(len(chunk)), n)])
			o.wrote.Add(int64(m))
			n -= int64(m)
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *bigOrigin) addr() string { return o.srv.Listener.Addr().String() }

// localProxy is an HTTP CONNECT proxy in this process that kill takes
// down mid-flight, closing every connection it has.
type localProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startLocalProxy(t *testing.T) *localProxy {
	t.Helper()
	p := &localProxy{ln: listenLoopback(t), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := p.ln.Accept()
			if err != nil {
				return
			}
			if !p.add(c) {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.serve(c)
			}()
		}
	}()
	t.Cleanup(p.kill)
	return p
}

func (p *localProxy) add(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *localProxy) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		return
	}
	up, err := net.Dial("tcp", req.Host)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	if !p.add(up) {
		return
	}
	defer up.Close()
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() {
		io.Copy(up, br)
		up.Close()
	}()
	io.Copy(c, up)
}

func (p *localProxy) addr() string { return p.ln.Addr().String() }

// kill closes the listener and every connection, and waits for the
// proxy's goroutines.
func (p *localProxy) kill() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// garbageServer answers every connection with prefix, then with filler
// over and over until it has written limit bytes (or the peer is gone),
// then waits for the peer to close. It counts the bytes it wrote.
type garbageServer struct {
	addr  string
	wrote atomic.Int64
}

func startGarbage(t *testing.T, prefix, filler []byte, limit int64) *garbageServer {
	t.Helper()
	ln := listenLoopback(t)
	g := &garbageServer{addr: ln.Addr().String()}
	serveConns(t, ln, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 4096)
		c.Read(buf) // what the client says first
		c.SetReadDeadline(time.Time{})
		n, err := c.Write(prefix)
		g.wrote.Add(int64(n))
		for err == nil && len(filler) > 0 && g.wrote.Load() < limit {
			n, err = c.Write(filler)
			g.wrote.Add(int64(n))
		}
		if len(filler) == 0 {
			return // garbage, then close
		}
		io.Copy(io.Discard, c)
	})
	return g
}

// socksHandshake sends a SOCKS5 greeting and a CONNECT request for target
// over c and returns the reply code.
func socksConnectCode(c net.Conn, target string) (byte, error) {
	host, ps, _ := net.SplitHostPort(target)
	p, _ := strconv.Atoi(ps)
	req := []byte{5, 1, 0, 5, 1, 0, 3, byte(len(host))}
	req = append(req, host...)
	req = append(req, byte(p>>8), byte(p))
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(req); err != nil {
		return 0, err
	}
	var b [12]byte
	if _, err := io.ReadFull(c, b[:2]); err != nil {
		return 0, fmt.Errorf("method reply: %w", err)
	}
	if _, err := io.ReadFull(c, b[2:]); err != nil { // VER REP RSV ATYP=1 ADDR(4) PORT(2)
		return 0, fmt.Errorf("reply: %w", err)
	}
	return b[3], nil
}

// readsToEnd reads c until it ends and reports how, failing if it does
// not end within d.
func readsToEnd(t *testing.T, r io.Reader, c net.Conn, d time.Duration) (int64, error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	n, err := io.Copy(io.Discard, r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection was still open %v later, after %d bytes", d, n)
	}
	return n, err
}

// ---------------------------------------------------------------------
// Gauges

// TestMetricsRuntimeGauges: /metrics has pacd_goroutines and
// pacd_heap_bytes, and the first follows open tunnels.
func TestMetricsRuntimeGauges(t *testing.T) {
	echo := startEcho(t)
	ts := startFaultServer(t, daemon.Config{}, nil)
	gauge := func(name string) int64 {
		t.Helper()
		for _, line := range strings.Split(metrics(t, ts.http), "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatalf("%s: %q", name, line)
				}
				return n
			}
		}
		t.Fatalf("/metrics has no %s", name)
		return 0
	}
	if h := gauge("pacd_heap_bytes"); h <= 0 {
		t.Errorf("pacd_heap_bytes %d, want > 0", h)
	}
	before := gauge("pacd_goroutines")
	if before <= 0 {
		t.Fatalf("pacd_goroutines %d", before)
	}
	const n = 20
	var conns []net.Conn
	for range n {
		c := tunnel(t, ts.http, echo)
		if err := echoOnce(c, "x"); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// Two copying goroutines per tunnel, and the echo server's one.
	if during := gauge("pacd_goroutines"); during < before+2*n {
		t.Errorf("pacd_goroutines %d with %d tunnels open, %d before: want at least %d more", during, n, before, 2*n)
	}
	for _, c := range conns {
		c.Close()
	}
	var after int64
	if !waitFor(5*time.Second, func() bool { after = gauge("pacd_goroutines"); return after <= before+goroutineSlack }) {
		t.Errorf("pacd_goroutines %d after the tunnels closed, %d before", after, before)
	}
}

// ---------------------------------------------------------------------
// Upstreams

// TestFaultUpstreamDiesMidTransfer kills the upstream while a large body
// streams through it: tinyproxy under a forwarded GET, microsocks under a
// CONNECT tunnel, a local CONNECT proxy under a SOCKS5 tunnel. The client
// sees its transfer end short, with an error or a close, within seconds.
func TestFaultUpstreamDiesMidTransfer(t *testing.T) {
	healthy := upstream.StartOrigin(t)
	bigA, bigB, bigC := startBigOrigin(t), startBigOrigin(t), startBigOrigin(t)
	tiny := upstream.StartTinyproxy(t, upstream.TinyproxyOptions{})
	ms := upstream.StartMicrosocks(t, upstream.MicrosocksOptions{})
	local := startLocalProxy(t)
	ts := startFaultServer(t, daemon.Config{}, &resolver.Config{ProxyLoopback: true,
		PAC: routes(healthy, func(u, _ string) string {
			switch {
			case strings.Contains(u, bigA.addr()):
				return "PROXY " + tiny.Addr
			case strings.Contains(u, bigB.addr()):
				return "SOCKS5 " + ms.Addr
			case strings.Contains(u, bigC.addr()):
				return "PROXY " + local.addr()
			}
			return "DIRECT"
		})})
	mustCurl(t, upstream.Body, "-x", ts.proxyURL(), healthy.URL("/index.txt"))
	dropPooled(ts)
	base := baseline()
	h := startHealthy(t, ts, healthy)

	const total = 1 << 30 // far more than can be carried before the kill
	const first = 1 << 20
	get := "GET /big?n=" + strconv.Itoa(total) + " HTTP/1.1\r\nHost: big\r\n\r\n"

	t.Run("forward through tinyproxy", func(t *testing.T) {
		c, err := net.Dial("tcp", ts.http)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET http://%s/big?n=%d HTTP/1.1\r\nHost: %s\r\n\r\n", bigA.addr(), total, bigA.addr())
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET through tinyproxy: %v %v", resp, err)
		}
		if _, err := io.ReadFull(resp.Body, make([]byte, first)); err != nil {
			t.Fatal(err)
		}
		tiny.Kill(t)
		n, err := readsToEnd(t, resp.Body, c, 10*time.Second)
		if n+first >= total || err == nil {
			t.Errorf("after tinyproxy died the client read %d more bytes, ending with %v: want a short body and an error", n, err)
		}
	})
	t.Run("CONNECT through microsocks", func(t *testing.T) {
		c := tunnel(t, ts.http, bigB.addr())
		io.WriteString(c, get)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET through the tunnel: %v %v", resp, err)
		}
		if _, err := io.ReadFull(resp.Body, make([]byte, first)); err != nil {
			t.Fatal(err)
		}
		ms.Kill(t)
		if n, err := readsToEnd(t, resp.Body, c, 10*time.Second); n+first >= total {
			t.Errorf("after microsocks died the tunnel carried the whole body (%v)", err)
		}
		c.Close()
	})
	t.Run("SOCKS5 through a local proxy", func(t *testing.T) {
		c, err := socksDial(ts.socks, bigC.addr(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, get)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET through the SOCKS tunnel: %v %v", resp, err)
		}
		if _, err := io.ReadFull(resp.Body, make([]byte, first)); err != nil {
			t.Fatal(err)
		}
		local.kill()
		if n, err := readsToEnd(t, resp.Body, c, 10*time.Second); n+first >= total {
			t.Errorf("after the proxy died the tunnel carried the whole body (%v)", err)
		}
	})
	h.finish(t)
	if !waitFor(5*time.Second, func() bool { return strings.Contains(metrics(t, ts.http), "pacd_tunnels_open 0") }) {
		t.Errorf("tunnels still open after their upstreams died and the clients closed")
	}
	dropPooled(ts)
	base.check(t, "upstreams killed mid-transfer")
	mustCurl(t, upstream.Body, "-x", ts.proxyURL(), healthy.URL("/index.txt"))
}

// TestFaultUpstreamSilent: an HTTP proxy, a SOCKS5 proxy and an origin
// that accept connections and never answer. Twenty clients at once get
// 504 (or a SOCKS failure) within the timeouts.
func TestFaultUpstreamSilent(t *testing.T) {
	healthy := upstream.StartOrigin(t)
	holeHTTP, holeSOCKS, holeOrigin := upstream.StartBlackhole(t), upstream.StartBlackhole(t), upstream.StartBlackhole(t)
	target := upstream.ClosedAddr(t) // never reached: the proxies hang first
	// A tunnel to the silent origin that the client closes lingers for
	// IdleTimeout at most.
	ts := startFaultServer(t, daemon.Config{IdleTimeout: 300 * time.Millisecond}, &resolver.Config{ProxyLoopback: true,
		DialTimeout: 300 * time.Millisecond, ResponseHeaderTimeout: 300 * time.Millisecond,
		PAC: routes(healthy, func(u, host string) string {
			switch {
			case strings.Contains(u, holeOrigin):
				return "DIRECT"
			case strings.HasPrefix(u, "http://"):
				return "PROXY " + holeHTTP
			}
			return "SOCKS5 " + holeSOCKS
		})})
	mustCurl(t, upstream.Body, "-x", ts.proxyURL(), healthy.URL("/index.txt"))
	dropPooled(ts)
	base := baseline()
	h := startHealthy(t, ts, healthy)

	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			var what string
			var ok bool
			switch i % 4 {
			case 0: // forwarded to the silent HTTP proxy
				c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(mustURL(ts.proxyURL()))}, Timeout: 10 * time.Second}
				resp, err := c.Get("http://" + target + "/")
				what = fmt.Sprintf("GET via the silent proxy: %v", err)
				if err == nil {
					resp.Body.Close()
					what, ok = "GET via the silent proxy: "+resp.Status, resp.StatusCode == http.StatusGatewayTimeout
				}
			case 1: // forwarded DIRECT to the silent origin
				c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(mustURL(ts.proxyURL()))}, Timeout: 10 * time.Second}
				resp, err := c.Get("http://" + holeOrigin + "/")
				what = fmt.Sprintf("GET to the silent origin: %v", err)
				if err == nil {
					resp.Body.Close()
					what, ok = "GET to the silent origin: "+resp.Status, resp.StatusCode == http.StatusGatewayTimeout
				}
			case 2: // CONNECT through the silent SOCKS proxy
				c, resp := connect(t, ts.http, target, nil)
				c.Close()
				what, ok = "CONNECT via the silent SOCKS proxy: "+resp.Status, resp.StatusCode == http.StatusGatewayTimeout
			case 3: // SOCKS5 through the silent SOCKS proxy
				c, err := net.Dial("tcp", ts.socks)
				if err != nil {
					what = err.Error()
					break
				}
				code, err := socksConnectCode(c, target)
				c.Close()
				what, ok = fmt.Sprintf("SOCKS5 via the silent SOCKS proxy: reply %d, %v", code, err), err == nil && code != 0
			}
			if el := time.Since(start); !ok || el > 5*time.Second {
				errs <- fmt.Sprintf("%s after %v", what, el.Round(time.Millisecond))
			}
		}()
	}
	// A tunnel to the silent origin opens (the TCP connection does), and
	// goes when the client does.
	c := tunnel(t, ts.http, holeOrigin)
	io.WriteString(c, "hello?")
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("the silent origin answered through the tunnel: %d, %v", n, err)
	}
	c.Close()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	h.finish(t)
	dropPooled(ts)
	base.check(t, "silent upstreams")
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestFaultUpstreamGarbage: upstreams and origins that answer with
// something that is not the protocol: a line of junk, an endless header
// line, endless interim responses, random bytes to a SOCKS greeting. Each
// client gets 502 (or a SOCKS failure), and pacd reads no more of an
// endless answer than its limits allow.
func TestFaultUpstreamGarbage(t *testing.T) {
	healthy := upstream.StartOrigin(t)
	const limit = 256 << 20 // what an endless server writes at most
	junk := startGarbage(t, []byte("this is not HTTP at all\r\n\r\n"), nil, 0)
	endless := startGarbage(t, []byte("HTTP/1.1 200 OK\r\nX-Endless: "), bytes.Repeat([]byte("a"), 64<<10), limit)
	interim := startGarbage(t, nil, []byte("HTTP/1.1 100 Continue\r\n\r\n"), 1<<20)
	socksJunk := startGarbage(t, nil, []byte{0x05, 0x99, 0xde, 0xad, 0xbe, 0xef}, 1<<20)
	ts := startFaultServer(t, daemon.Config{}, &resolver.Config{ProxyLoopback: true,
		DialTimeout: time.Second, ResponseHeaderTimeout: time.Second,
		PAC: routes(healthy, func(u, host string) string {
			// The PAC script sees the target's port: each garbage
			// server gets its own.
			for _, g := range []*garbageServer{junk, endless, interim} {
				if strings.Contains(u, "/"+g.addr+"/") {
					return "PROXY " + g.addr
				}
			}
			if strings.Contains(u, "/"+socksJunk.addr+"/") {
				return "SOCKS5 " + socksJunk.addr
			}
			return "DIRECT" // origins
		})})
	mustCurl(t, upstream.Body, "-x", ts.proxyURL(), healthy.URL("/index.txt"))
	dropPooled(ts)
	base := baseline()
	h := startHealthy(t, ts, healthy)

	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(mustURL(ts.proxyURL()))}, Timeout: 10 * time.Second}
	defer client.Transport.(*http.Transport).CloseIdleConnections()
	for _, g := range []struct {
		name string
		g    *garbageServer
	}{{"junk", junk}, {"endless header", endless}, {"endless 100 Continue", interim}, {"SOCKS junk", socksJunk}} {
		t.Run(g.name, func(t *testing.T) {
			before := g.g.wrote.Load()
			// A garbage answer is a 502; one that never ends is cut by
			// a limit (a 502) or by the timeout (a 504), within it.
			bad := func(what string, status int, start time.Time) {
				t.Helper()
				el := time.Since(start)
				t.Logf("%s: %d after %v", what, status, el.Round(time.Millisecond))
				if status != http.StatusBadGateway && status != http.StatusGatewayTimeout || el > 2500*time.Millisecond {
					t.Errorf("%s via the %s proxy: %d after %v, want 502 or 504 within the 1 s timeout", what, g.name, status, el)
				}
			}
			// The garbage server is the proxy for its own address:
			// forwarded, tunnelled and over SOCKS.
			if !strings.Contains(g.name, "SOCKS") {
				start := time.Now()
				resp, err := client.Get("http://" + g.g.addr + "/")
				if err != nil {
					t.Errorf("GET via the %s proxy: %v", g.name, err)
				} else {
					resp.Body.Close()
					bad("GET", resp.StatusCode, start)
				}
			}
			start := time.Now()
			c, resp := connect(t, ts.http, g.g.addr, nil)
			c.Close()
			bad("CONNECT", resp.StatusCode, start)
			start = time.Now()
			sc, err := net.Dial("tcp", ts.socks)
			if err != nil {
				t.Fatal(err)
			}
			code, err := socksConnectCode(sc, g.g.addr)
			sc.Close()
			t.Logf("SOCKS5: reply %d after %v", code, time.Since(start).Round(time.Millisecond))
			if err != nil || code == 0 || time.Since(start) > 2500*time.Millisecond {
				t.Errorf("SOCKS5 via the %s proxy: reply %d, %v, after %v; want a failure reply within the timeout", g.name, code, err, time.Since(start))
			}
			if w := g.g.wrote.Load() - before; w > 32<<20 {
				t.Errorf("the %s server wrote %d MiB before pacd gave up: pacd reads an endless answer without a limit", g.name, w>>20)
			}
		})
	}
	t.Run("origin junk", func(t *testing.T) {
		o := startGarbage(t, []byte("SSH-2.0-OpenSSH_9.2\r\n"), nil, 0)
		resp, err := client.Get("http://" + o.addr + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("GET to an origin that speaks SSH: %s, want 502", resp.Status)
		}
	})
	h.finish(t)
	client.Transport.(*http.Transport).CloseIdleConnections()
	dropPooled(ts)
	base.check(t, "garbage upstreams")
}

// TestFaultPACResultNoHost: a PAC script whose answer names a proxy host
// made only of characters that IDNA maps to nothing. Parsing it panicked
// (found by FuzzParseProxyURL), which on the SOCKS listener took the
// whole process down; the entry is now dropped as an invalid host, and
// the rest of the answer is used.
func TestFaultPACResultNoHost(t *testing.T) {
	healthy := upstream.StartOrigin(t)
	o := upstream.StartOrigin(t)
	ts := startFaultServer(t, daemon.Config{}, &resolver.Config{ProxyLoopback: true,
		PAC: routes(healthy, func(u, _ string) string {
			if strings.Contains(u, ":1/") {
				return "PROXY \u034f:8080" // nothing else
			}
			return "PROXY \u034f:8080; PROXY \u00ad\u200b; DIRECT"
		})})
	mustCurl(t, upstream.Body, "-x", ts.proxyURL(), healthy.URL("/index.txt"))
	dropPooled(ts)
	base := baseline()
	h := startHealthy(t, ts, healthy)

	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(mustURL(ts.proxyURL()))}, Timeout: 10 * time.Second}
	defer client.Transport.(*http.Transport).CloseIdleConnections()
	if resp, body := get(t, client, o.URL("/index.txt")); resp.StatusCode != http.StatusOK || body != upstream.Body {
		t.Errorf("GET: %s %q, want DIRECT, the answer's last entry", resp.Status, body)
	}
	c := tunnel(t, ts.http, o.Addr())
	c.Close()
	sc, err := net.Dial("tcp", ts.socks)
	if err != nil {
		t.Fatal(err)
	}
	if code, err := socksConnectCode(sc, o.Addr()); err != nil || code != 0 {
		t.Errorf("SOCKS5: reply %d, %v; want DIRECT", code, err)
	}
	sc.Close()
	// An answer with no usable entry at all.
	resp, err := client.Get("http://127.0.0.1:1/")
	if err != nil {
		t.Errorf("GET with no usable proxy: %v", err)
	} else {
		resp.Body.Close()
		t.Logf("GET with no usable proxy: %s", resp.Status)
	}
	sc, err = net.Dial("tcp", ts.socks)
	if err != nil {
		t.Fatal(err)
	}
	code, err := socksConnectCode(sc, "127.0.0.1:1")
	sc.Close()
	t.Logf("SOCKS5 with no usable proxy: reply %d, %v", code, err)
	if err != nil {
		t.Errorf("SOCKS5 with no usable proxy: no reply: %v", err)
	}
	h.finish(t)
	client.Transport.(*http.Transport).CloseIdleConnections()
	dropPooled(ts)
	base.check(t, "PAC answers without a host")
}

// ---------------------------------------------------------------------
// The PAC server

// pacServer serves a PAC script at a fixed loopback address in one of
// several modes, and can go down and come back on the same port.
type pacServer struct {
	addr  string
	mode  atomic.Value // string
	good  atomic.Value // string: the script of mode "good"
	wrote atomic.Int64
	mu    sync.Mutex
	srv   *httptest.Server
}

const badPAC = "function FindProxyForURL(url, host) { return 'DIRECT' +; }\n"

func startPACServer(t *testing.T) *pacServer {
	t.Helper()
	p := &pacServer{}
	p.mode.Store("good")
	p.up(t, "127.0.0.1:0")
	t.Cleanup(p.down)
	return p
}

func (p *pacServer) handler(w http.ResponseWriter, r *http.Request) {
	wait := func(d time.Duration) {
		select {
		case <-r.Context().Done():
		case <-time.After(d):
		}
	}
	switch p.mode.Load().(string) {
	case "good":
		w.Header().Set("Content-Type", "application/x-ns-proxy-autoconfig")
		io.WriteString(w, p.good.Load().(string))
	case "500":
		http.Error(w, "the PAC server is broken", http.StatusInternalServerError)
	case "slow headers":
		wait(10 * time.Second)
	case "slow body":
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "function ")
		w.(http.Flusher).Flush()
		wait(10 * time.Second)
	case "2 GB", "2 GB declared":
		if p.mode.Load() == "2 GB declared" {
			w.Header().Set("Content-Length", strconv.Itoa(2<<30))
		}
		line := []byte("// " + strings.Repeat("x", 1020) + "\n")
		for total := 0; total < 2<<30; total += len(line) {
			n, err := w.Write(line)
			p.wrote.Add(int64(n))
			if err != nil {
				return
			}
		}
	case "broken":
		io.WriteString(w, badPAC)
	}
}

func (p *pacServer) up(t *testing.T, addr string) {
	t.Helper()
	var ln net.Listener
	if !waitFor(5*time.Second, func() bool {
		var err error
		ln, err = net.Listen("tcp4", addr)
		return err == nil
	}) {
		t.Fatalf("cannot listen on %s again", addr)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(p.handler))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	p.mu.Lock()
	p.srv, p.addr = srv, ln.Addr().String()
	p.mu.Unlock()
}

func (p *pacServer) down() {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	p.mu.Unlock()
	if srv != nil {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// TestFaultPACServer: the PAC server goes down, hangs past the fetch
// timeout (before its headers, and in its body), answers 500, streams 2 GB
// (with and without a Content-Length), and serves a script that does not
// compile. Each reload fails with a reason, the last good script keeps
// deciding and /proxy.pac keeps serving it, and a good script after all
// that is picked up.
func TestFaultPACServer(t *testing.T) {
	healthy := upstream.StartOrigin(t)
	ps := startPACServer(t)
	scriptA := "function FindProxyForURL(url, host) {\n  if (host == \"marker.example\") return \"PROXY 127.0.0.1:1\";\n  return \"DIRECT\";\n}\n"
	scriptB := strings.Replace(scriptA, "127.0.0.1:1", "127.0.0.1:2", 1)
	ps.good.Store(scriptA)
	pf := &resolver.PACFile{
		Location: "http://" + ps.addr + "/proxy.pac",
		Compile: func(b []byte, name string) (resolver.Evaluator, error) {
			return pac.Compile(string(b), &pac.Options{Name: name})
		},
		// The fetch timeout, shortened from Chromium's 30 s.
		Client: &http.Client{Transport: &http.Transport{}, Timeout: 500 * time.Millisecond},
	}
	if err := pf.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	defer pf.Client.Transport.(*http.Transport).CloseIdleConnections()
	ts := startFaultServer(t, daemon.Config{PAC: pf}, &resolver.Config{PAC: pf})
	decision := func() string {
		st := getStatus(t, ts.http, "http://marker.example/")
		if st.Query == nil {
			return ""
		}
		return st.Query.Decision
	}
	if d := decision(); d != "PROXY 127.0.0.1:1" {
		t.Fatalf("decision %q with the first script", d)
	}
	mustCurl(t, upstream.Body, "-x", ts.proxyURL(), healthy.URL("/index.txt"))
	pf.Client.Transport.(*http.Transport).CloseIdleConnections()
	dropPooled(ts)
	base := baseline()
	h := startHealthy(t, ts, healthy)

	for _, tc := range []struct {
		mode, want string
		max        time.Duration
	}{
		{"down", "connection refused", 2 * time.Second},
		{"slow headers", "Timeout", 3 * time.Second},
		{"slow body", "reading the body", 3 * time.Second},
		{"500", "500", 2 * time.Second},
		{"2 GB", "larger than 1 MiB", 3 * time.Second},
		{"2 GB declared", "larger than 1 MiB", 3 * time.Second},
		{"broken", "SyntaxError", 2 * time.Second},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			addr := ps.addr
			if tc.mode == "down" {
				ps.down()
				defer ps.up(t, addr)
			}
			ps.mode.Store(tc.mode)
			defer ps.mode.Store("good")
			wrote := ps.wrote.Load()
			start := time.Now()
			err := pf.Reload(context.Background())
			el := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Reload: %v, want an error saying %q", err, tc.want)
			}
			if el > tc.max {
				t.Errorf("Reload took %v, want at most %v", el, tc.max)
			}
			if w := ps.wrote.Load() - wrote; w > 32<<20 {
				t.Errorf("the PAC server wrote %d MiB before the fetch stopped: want it cut at the 1 MiB limit", w>>20)
			}
			if d := decision(); d != "PROXY 127.0.0.1:1" {
				t.Errorf("decision %q after the failed reload, want the last good script's", d)
			}
			if resp, body := get(t, http.DefaultClient, "http://"+ts.http+"/proxy.pac"); resp.StatusCode != http.StatusOK || body != scriptA {
				t.Errorf("/proxy.pac after the failed reload: %s, %.80q; want the last good script", resp.Status, body)
			}
			st := getStatus(t, ts.http, "")
			if st.PAC == nil || !st.PAC.Loaded || st.PAC.Failures == 0 || st.PAC.LastError == "" {
				t.Errorf("/status pac after the failed reload: %+v", st.PAC)
			}
		})
	}
	ps.good.Store(scriptB)
	if err := pf.Reload(context.Background()); err != nil {
		t.Errorf("Reload of a good script after the faults: %v", err)
	}
	if d := decision(); d != "PROXY 127.0.0.1:2" {
		t.Errorf("decision %q after a good script came back, want the new script's", d)
	}
	h.finish(t)
	pf.Client.Transport.(*http.Transport).CloseIdleConnections()
	dropPooled(ts)
	base.check(t, "PAC server faults")
}

// ---------------------------------------------------------------------
// Clients

// TestFaultSlowloris: clients that trickle their request headers one byte
// at a time, that send nothing at all, and that trickle a SOCKS5
// handshake, eighty at once. Each is cut at ReadHeaderTimeout, while a
// healthy client is served.
func TestFaultSlowloris(t *testing.T) {
	healthy := upstream.StartOrigin(t)
	const timeout = 400 * time.Millisecond
	ts := startFaultServer(t, daemon.Config{ReadHeaderTimeout: timeout}, nil)
	mustCurl(t, upstream.Body, "-x", ts.proxyURL(), healthy.URL("/index.txt"))
	dropPooled(ts)
	base := baseline()
	h := startHealthy(t, ts, healthy)

	httpReq := []byte("GET " + healthy.URL("/index.txt") + " HTTP/1.1\r\nHost: " + healthy.Addr() + "\r\nUser-Agent: slowloris\r\nX-Padding: " + strings.Repeat("p", 200) + "\r\n\r\n")
	socksReq := []byte{5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 80}
	kinds := []struct {
		name    string
		addr    string
		trickle []byte
	}{
		{"HTTP headers", ts.http, httpReq},
		{"HTTP nothing", ts.http, nil},
		{"SOCKS5 handshake", ts.socks, socksReq},
		{"SOCKS5 nothing", ts.socks, nil},
	}
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := range 80 {
		k := kinds[i%len(kinds)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", k.addr)
			if err != nil {
				errs <- fmt.Sprintf("%s: %v", k.name, err)
				return
			}
			defer c.Close()
			start := time.Now()
			closed := make(chan time.Duration, 1)
			go func() {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				io.Copy(io.Discard, c) // the server's answers, if any, until it closes
				closed <- time.Since(start)
			}()
			var sent int
		trickle:
			for sent < len(k.trickle) {
				select {
				case <-closed:
					closed <- time.Since(start)
					break trickle
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := c.Write(k.trickle[sent : sent+1]); err != nil {
					break
				}
				sent++
			}
			el := <-closed
			if sent == len(k.trickle) && len(k.trickle) > 0 {
				errs <- fmt.Sprintf("%s: the whole request went through, one byte each 50 ms, over %v", k.name, el)
			}
			if el < timeout-50*time.Millisecond || el > timeout+3*time.Second {
				errs <- fmt.Sprintf("%s: cut after %v, want soon after %v", k.name, el, timeout)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	h.finish(t)
	dropPooled(ts)
	base.check(t, "slowloris")
}

// rawExchange sends raw to addr and returns the status of the answer (0
// if none) and whether the server then closed the connection.
func rawExchange(t *testing.T, addr string, raw []byte, keep bool) (status int, closed bool, body string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	go c.Write(raw) // the server may answer before it has read everything
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, true, err.Error()
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if keep {
		return resp.StatusCode, false, string(b)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = br.ReadByte()
	var ne net.Error
	return resp.StatusCode, !(errors.As(err, &ne) && ne.Timeout()), string(b)
}

// TestFaultOversizedAndMalformed sends request lines and headers over the
// limit, and request lines and headers that do not parse: each gets the
// status net/http gives (431, 400, 501, 505) or pacd's own 400, and the
// connection is closed after it.
func TestFaultOversizedAndMalformed(t *testing.T) {
	healthy := upstream.StartOrigin(t)
	ts := startFaultServer(t, daemon.Config{MaxHeaderBytes: 8 << 10}, nil)
	mustCurl(t, upstream.Body, "-x", ts.proxyURL(), healthy.URL("/index.txt"))
	dropPooled(ts)
	base := baseline()
	h := startHealthy(t, ts, healthy)

	o := healthy.Addr()
	abs := "http://" + o + "/index.txt"
	// The cases run at once, in a group that ends when they all have.
	t.Run("requests", func(t *testing.T) { malformedRequests(t, ts, o, abs) })
	h.finish(t)
	dropPooled(ts)
	base.check(t, "oversized and malformed requests")
}

func malformedRequests(t *testing.T, ts *testServer, o, abs string) {
	for _, tc := range []struct {
		name   string
		raw    string
		status int
		keep   bool // pacd's own answer to a request that parsed: the connection may stay open
	}{
		{"request line of 1 MiB", "GET " + abs + "?" + strings.Repeat("a", 1<<20) + " HTTP/1.1\r\nHost: " + o + "\r\n\r\n", 431, false},
		{"header value of 64 KiB", "GET " + abs + " HTTP/1.1\r\nHost: " + o + "\r\nX-Big: " + strings.Repeat("b", 64<<10) + "\r\n\r\n", 431, false},
		{"10000 headers", "GET " + abs + " HTTP/1.1\r\nHost: " + o + "\r\n" + strings.Repeat("X-H: v\r\n", 10000) + "\r\n", 431, false},
		{"CONNECT with 64 KiB of headers", "CONNECT " + o + " HTTP/1.1\r\nHost: " + o + "\r\nX-Big: " + strings.Repeat("b", 64<<10) + "\r\n\r\n", 431, false},
		{"method only", "GET\r\n\r\n", 400, false},
		{"no version", "GET " + abs + "\r\n\r\n", 400, false},
		{"HTTP/9.9", "GET " + abs + " HTTP/9.9\r\nHost: " + o + "\r\n\r\n", 505, false},
		{"binary", "\x00\x01\x02\x03\xff\xfe\r\n\r\n", 400, false},
		{"space in the URL", "GET http://" + o + "/a b HTTP/1.1\r\nHost: " + o + "\r\n\r\n", 400, false},
		{"no Host", "GET " + abs + " HTTP/1.1\r\n\r\n", 400, false},
		{"two Hosts", "GET " + abs + " HTTP/1.1\r\nHost: " + o + "\r\nHost: other.example\r\n\r\n", 400, false},
		{"header without a colon", "GET " + abs + " HTTP/1.1\r\nHost: " + o + "\r\nNoColon\r\n\r\n", 400, false},
		{"space before the colon", "GET " + abs + " HTTP/1.1\r\nHost : " + o + "\r\n\r\n", 400, false},
		// net/http replaces the fold with a space, as RFC 9112 lets a
		// proxy do, and the request is forwarded.
		{"obsolete line folding", "GET " + abs + " HTTP/1.1\r\nHost: " + o + "\r\nX-A: one\r\n two\r\n\r\n", 200, true},
		{"NUL in a header", "GET " + abs + " HTTP/1.1\r\nHost: " + o + "\r\nX-A: a\x00b\r\n\r\n", 400, false},
		{"bad header name", "GET " + abs + " HTTP/1.1\r\nHost: " + o + "\r\nX(A): b\r\n\r\n", 400, false},
		{"CONNECT without a target", "CONNECT  HTTP/1.1\r\n\r\n", 400, true},
		{"CONNECT to port 0", "CONNECT 127.0.0.1:0 HTTP/1.1\r\nHost: 127.0.0.1:0\r\n\r\n", 400, true},
		{"CONNECT to a bad port", "CONNECT 127.0.0.1:99999 HTTP/1.1\r\nHost: 127.0.0.1:99999\r\n\r\n", 400, true},
		{"CONNECT to an unclosed bracket", "CONNECT [::1:80 HTTP/1.1\r\nHost: [::1:80\r\n\r\n", 400, false},
		{"ftp URL", "GET ftp://" + o + "/ HTTP/1.1\r\nHost: " + o + "\r\n\r\n", 400, true},
		{"unknown transfer coding", "POST " + abs + " HTTP/1.1\r\nHost: " + o + "\r\nTransfer-Encoding: gzip\r\n\r\n", 501, false},
		{"negative length", "POST " + abs + " HTTP/1.1\r\nHost: " + o + "\r\nContent-Length: -1\r\n\r\n", 400, false},
		{"length not a number", "POST " + abs + " HTTP/1.1\r\nHost: " + o + "\r\nContent-Length: 1e3\r\n\r\n", 400, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, closed, body := rawExchange(t, ts.http, []byte(tc.raw), tc.keep)
			t.Logf("%s: %d", tc.name, status)
			if status != tc.status || !closed && !tc.keep {
				t.Errorf("%s: status %d, closed %v (%.100q); want %d and the connection closed", tc.name, status, closed, body, tc.status)
			}
		})
	}
}

// rawOrigin is an HTTP/1.1 origin that reads requests strictly, byte by
// byte as they arrive, and records each request's header lines and body
// as framed, and whether the framing was ambiguous. It answers each with
// 200 "ok".
type rawOrigin struct {
	addr string
	mu   sync.Mutex
	reqs []rawRequest
	raw  bytes.Buffer // everything received
}

type rawRequest struct {
	line      string
	headers   []string
	body      string
	ambiguous string // why the framing was ambiguous, or ""
	truncated bool   // the connection ended within the body
}

func startRawOrigin(t *testing.T) *rawOrigin {
	t.Helper()
	ln := listenLoopback(t)
	o := &rawOrigin{addr: ln.Addr().String()}
	serveConns(t, ln, o.serve)
	return o
}

type teeConn struct {
	net.Conn
	o *rawOrigin
}

func (c teeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.o.mu.Lock()
	c.o.raw.Write(p[:n])
	c.o.mu.Unlock()
	return n, err
}

func (o *rawOrigin) serve(c net.Conn) {
	br := bufio.NewReader(teeConn{c, o})
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		r := rawRequest{line: strings.TrimRight(line, "\r\n")}
		var cls, tes []string
		for {
			h, err := br.ReadString('\n')
			if err != nil {
				return
			}
			h = strings.TrimRight(h, "\r\n")
			if h == "" {
				break
			}
			r.headers = append(r.headers, h)
			name, value, _ := strings.Cut(h, ":")
			switch strings.ToLower(name) {
			case "content-length":
				cls = append(cls, strings.TrimSpace(value))
			case "transfer-encoding":
				tes = append(tes, strings.TrimSpace(value))
			}
		}
		switch {
		case len(cls) > 0 && len(tes) > 0:
			r.ambiguous = "both Content-Length and Transfer-Encoding"
		case len(cls) > 1:
			r.ambiguous = "more than one Content-Length"
		case len(tes) > 1 || len(tes) == 1 && !strings.EqualFold(tes[0], "chunked"):
			r.ambiguous = fmt.Sprintf("Transfer-Encoding %q", tes)
		}
		var body bytes.Buffer
		switch {
		case r.ambiguous != "":
		case len(tes) == 1:
			for {
				sz, err := br.ReadString('\n')
				if err != nil {
					r.truncated = true
					break
				}
				sz, _, _ = strings.Cut(strings.TrimRight(sz, "\r\n"), ";")
				n, err := strconv.ParseUint(sz, 16, 32)
				if err != nil {
					r.ambiguous = fmt.Sprintf("chunk size %q", sz)
					break
				}
				chunk := make([]byte, n+2)
				if _, err := io.ReadFull(br, chunk); err != nil {
					r.truncated = true
					break
				}
				if n == 0 {
					break
				}
				body.Write(chunk[:n])
			}
		case len(cls) == 1:
			n, err := strconv.ParseUint(cls[0], 10, 32)
			if err != nil {
				r.ambiguous = fmt.Sprintf("Content-Length %q", cls[0])
				break
			}
			chunk := make([]byte, n)
			if _, err := io.ReadFull(br, chunk); err != nil {
				r.truncated = true
			}
			body.Write(chunk)
		}
		r.body = body.String()
		o.mu.Lock()
		o.reqs = append(o.reqs, r)
		o.mu.Unlock()
		if r.ambiguous != "" || r.truncated {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	}
}

func (o *rawOrigin) take() ([]rawRequest, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, raw := o.reqs, o.raw.String()
	o.reqs = nil
	o.raw.Reset()
	return r, raw
}

// TestFaultSmuggling sends the request-smuggling shapes through pacd to
// a strict raw origin: Content-Length beside Transfer-Encoding (in both
// orders), duplicate lengths (equal and not), invalid chunk sizes,
// obfuscated codings. pacd either refuses the request (4xx/5xx) or
// forwards it with one framing, re-encoded, that the origin reads as
// the client meant; a request hidden in a body never reaches the origin.
func TestFaultSmuggling(t *testing.T) {
	healthy := upstream.StartOrigin(t)
	o := startRawOrigin(t)
	ts := startFaultServer(t, daemon.Config{}, nil)
	mustCurl(t, upstream.Body, "-x", ts.proxyURL(), healthy.URL("/index.txt"))
	dropPooled(ts)
	base := baseline()
	h := startHealthy(t, ts, healthy)

	head := "POST http://" + o.addr + "/a HTTP/1.1\r\nHost: " + o.addr + "\r\n"
	hidden := "GET http://" + o.addr + "/smuggled HTTP/1.1\r\nHost: " + o.addr + "\r\n\r\n"
	for _, tc := range []struct {
		name   string
		raw    string
		refuse bool   // whether pacd must refuse it
		body   string // the body the origin must see, when forwarded
	}{
		// A chunk size that does not parse is found when the body is
		// read, after the headers went to the origin: the origin sees
		// a truncated request and a close, the client a 400.
		{"CL then TE", head + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false, "hello"},
		{"TE then CL", head + "Transfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false, "hello"},
		{"CL.TE hiding a request", head + "Content-Length: " + strconv.Itoa(len("0\r\n\r\n"+hidden)) + "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + hidden, false, ""},
		{"TE.CL hiding a request", head + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(hidden), hidden), false, hidden},
		{"two different lengths", head + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", true, ""},
		{"two equal lengths", head + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", false, "hello"},
		{"a list of lengths", head + "Content-Length: 5, 5\r\n\r\nhello", true, ""},
		{"length with a plus", head + "Content-Length: +5\r\n\r\nhello", true, ""},
		{"chunk size not hex", head + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", true, ""},
		{"chunk size overflowing", head + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nhello\r\n0\r\n\r\n", true, ""},
		{"chunk size with a sign", head + "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", true, ""},
		{"chunk extension", head + "Transfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n", false, "hello"},
		{"TE xchunked", head + "Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\nhello", true, ""},
		{"TE chunked, identity", head + "Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n", true, ""},
		{"two TE headers", head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n", true, ""},
		{"TE with a space before the colon", head + "Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello", true, ""},
		{"TE in upper case", head + "Transfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false, "hello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", ts.http)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			go io.WriteString(c, tc.raw)
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			t.Logf("%s: %s", tc.name, resp.Status)
			// What follows the body on the connection is the client's
			// next request, answered too.
			var more []int
			for strings.HasPrefix(tc.name, "CL.TE") {
				c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
				r, err := http.ReadResponse(br, nil)
				if err != nil {
					break
				}
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
				more = append(more, r.StatusCode)
			}
			reqs, raw := o.take()
			if tc.refuse {
				if resp.StatusCode < 400 || strings.HasPrefix(tc.name, "chunk size") && resp.StatusCode != http.StatusBadRequest {
					t.Errorf("pacd answered %s, want it refused (with 400 for a chunk size)", resp.Status)
				}
			} else if resp.StatusCode != http.StatusOK {
				t.Errorf("pacd answered %s, want it forwarded", resp.Status)
			}
			forwarded := 0
			for _, r := range reqs {
				if r.ambiguous != "" {
					t.Errorf("the origin got an ambiguous request (%s): %q %q", r.ambiguous, r.line, r.headers)
				}
				if strings.HasPrefix(r.line, "POST ") && !r.truncated {
					forwarded++
					if tc.refuse {
						t.Errorf("the origin got the refused request: %q %q body %q", r.line, r.headers, r.body)
					} else if r.body != tc.body {
						t.Errorf("the origin got the body %q, want %q", r.body, tc.body)
					}
				}
			}
			if !tc.refuse && forwarded != 1 {
				t.Errorf("the origin got %d POSTs (%d requests in all), want 1:\n%s", forwarded, len(reqs), raw)
			}
			if strings.Contains(tc.name, "hiding") && strings.HasPrefix(tc.name, "TE.CL") {
				// The hidden request is the body: it reaches the
				// origin inside the chunk, never as a request.
				for _, r := range reqs {
					if strings.Contains(r.line, "/smuggled") {
						t.Errorf("the origin got the request hidden in the body as a request")
					}
				}
			}
			if strings.HasPrefix(tc.name, "CL.TE") {
				// The bytes after the chunked body are the client's next
				// request on this connection, which pacd forwards as
				// one: legitimate, and with one framing.
				n := 0
				for _, r := range reqs {
					if strings.Contains(r.line, "/smuggled") {
						n++
					}
				}
				if n > 1 || len(more) != n {
					t.Errorf("the request after the body: %d at the origin, answers %v", n, more)
				}
			}
		})
	}
	h.finish(t)
	dropPooled(ts)
	base.check(t, "smuggling shapes")
}

// TestFaultSOCKSMalformed sends handshakes that are wrong in each field:
// every one gets the reply RFC 1928 has for it, or a close, within the
// handshake timeout.
func TestFaultSOCKSMalformed(t *testing.T) {
	healthy := upstream.StartOrigin(t)
	const timeout = 500 * time.Millisecond
	ts := startFaultServer(t, daemon.Config{ReadHeaderTimeout: timeout}, nil)
	auth := startFaultServer(t, daemon.Config{ReadHeaderTimeout: timeout, Username: "u", Password: "p"}, nil)
	mustCurl(t, upstream.Body, "-x", ts.proxyURL(), healthy.URL("/index.txt"))
	dropPooled(ts)
	base := baseline()
	h := startHealthy(t, ts, healthy)

	closed := upstream.ClosedAddr(t)
	cp, _ := strconv.Atoi(port(t, closed))
	hp, _ := strconv.Atoi(port(t, healthy.Addr()))
	random := make([]byte, 1000)
	for i := range random {
		random[i] = byte(i*7 + 3)
	}
	// The cases run at once, in a group that ends when they all have.
	t.Run("handshakes", func(t *testing.T) { malformedSOCKS(t, ts, auth, cp, hp, random) })
	h.finish(t)
	dropPooled(ts)
	base.check(t, "malformed SOCKS handshakes")
}

func malformedSOCKS(t *testing.T, ts, auth *testServer, cp, hp int, random []byte) {
	const timeout = 500 * time.Millisecond
	for _, tc := range []struct {
		name  string
		srv   *testServer
		send  []byte
		want  []byte // the bytes the server answers before it closes
		stall bool   // the server waits for more, until the timeout
	}{
		{"SOCKS4", ts, []byte{4, 1, 0, 80, 127, 0, 0, 1, 0}, nil, false},
		{"HTTP on the SOCKS port", ts, []byte("GET / HTTP/1.1\r\n\r\n"), nil, false},
		{"no methods", ts, []byte{5, 0}, []byte{5, 0xff}, false},
		{"fewer methods than announced", ts, []byte{5, 255, 0, 1, 2}, nil, true},
		{"only username/password, none configured", ts, []byte{5, 1, 2}, []byte{5, 0xff}, false},
		{"no authentication, login required", auth, []byte{5, 1, 0}, []byte{5, 0xff}, false},
		{"login of a wrong version", auth, []byte{5, 1, 2, 9, 1, 'u', 1, 'p'}, []byte{5, 2}, false},
		{"wrong login", auth, []byte{5, 1, 2, 1, 1, 'u', 1, 'x'}, []byte{5, 2, 1, 1}, false},
		{"truncated login", auth, []byte{5, 1, 2, 1, 10, 'u'}, []byte{5, 2}, true},
		{"request of a wrong version", ts, []byte{5, 1, 0, 4, 1, 0, 1, 127, 0, 0, 1, 0, 80}, []byte{5, 0}, false},
		{"BIND", ts, []byte{5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 80}, []byte{5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0}, false},
		{"UDP ASSOCIATE", ts, []byte{5, 1, 0, 5, 3, 0, 1, 127, 0, 0, 1, 0, 80}, []byte{5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0}, false},
		{"unknown command", ts, []byte{5, 1, 0, 5, 0x42, 0, 1, 127, 0, 0, 1, 0, 80}, []byte{5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0}, false},
		{"unknown address type", ts, []byte{5, 1, 0, 5, 1, 0, 9, 127, 0, 0, 1, 0, 80}, []byte{5, 0, 5, 8, 0, 1, 0, 0, 0, 0, 0, 0}, false},
		{"empty name", ts, []byte{5, 1, 0, 5, 1, 0, 3, 0, 0, 80}, []byte{5, 0, 5, 8, 0, 1, 0, 0, 0, 0, 0, 0}, false},
		{"truncated IPv4", ts, []byte{5, 1, 0, 5, 1, 0, 1, 127, 0}, []byte{5, 0}, true},
		{"truncated IPv6", ts, []byte{5, 1, 0, 5, 1, 0, 4, 0, 0, 0}, []byte{5, 0}, true},
		{"name longer than sent", ts, []byte{5, 1, 0, 5, 1, 0, 3, 200, 'a', 'b'}, []byte{5, 0}, true},
		{"no port", ts, []byte{5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1}, []byte{5, 0}, true},
		{"to a closed port", ts, []byte{5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, byte(cp >> 8), byte(cp)}, []byte{5, 0, 5, 4, 0, 1, 0, 0, 0, 0, 0, 0}, false},
		{"to itself", ts, append([]byte{5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1}, byte(portNum(t, ts.socks)>>8), byte(portNum(t, ts.socks))), []byte{5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0}, false},
		{"random bytes", ts, random, nil, false},
		{"the right one, for contrast", ts, []byte{5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, byte(hp >> 8), byte(hp)}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := net.Dial("tcp", tc.srv.socks)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			c.Write(tc.send)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if tc.name == "the right one, for contrast" {
				b := make([]byte, 12)
				if _, err := io.ReadFull(c, b); err != nil || b[1] != 0 {
					t.Errorf("a correct handshake: %v, %v", b, err)
				}
				return
			}
			got, err := io.ReadAll(c)
			el := time.Since(start)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("still open after 5 s, having answered %v", got)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("answered %v, want %v", got, tc.want)
			}
			if tc.stall && (el < timeout-50*time.Millisecond || el > timeout+2*time.Second) {
				t.Errorf("closed after %v, want at the handshake timeout %v", el, timeout)
			}
			if !tc.stall && el > timeout {
				t.Errorf("closed after %v, want at once", el)
			}
		})
	}
}

func portNum(t *testing.T, hostport string) int {
	n, _ := strconv.Atoi(port(t, hostport))
	return n
}
