package daemon_test

// End-to-end tests of the daemon with real clients (curl, net/http,
// golang.org/x/net/proxy) and real upstreams (squid, microsocks, dante,
// local origins). Every address is on loopback, or inside network
// namespaces the netns test creates and removes itself.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pacd/pacd/internal/daemon"
	"github.com/pacd/pacd/internal/upstream"
	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/resolver"
	"golang.org/x/net/proxy"
)

// ---------------------------------------------------------------------
// Helpers

// needCurl returns the path of curl, skipping the test when it is
// missing, or failing it when CI is "true".
func needCurl(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/curl", "curl"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("curl is not installed (apt-get install curl); CI must not skip")
	}
	t.Skip("curl is not installed (apt-get install curl)")
	return ""
}

// curlResult is what one curl run gave.
type curlResult struct {
	exit    int    // curl's exit status
	status  int    // %{http_code}: the final response's status, 0 if none
	connect int    // %{http_connect}: the status of the answer to CONNECT
	body    string // the response body
	stderr  string
}

// runCurl runs curl with args and a clean environment (no proxy
// variables, no .curlrc).
func runCurl(t *testing.T, args ...string) curlResult {
	t.Helper()
	bin := needCurl(t)
	argv := append([]string{"-q", "-sS", "--max-time", "15", "-w", "\n%{http_code} %{http_connect}"}, args...)
	cmd := exec.Command(bin, argv...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := curlResult{stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.exit = ee.ExitCode()
	case err != nil:
		t.Fatalf("curl: %v", err)
	}
	s := out.String()
	i := strings.LastIndexByte(s, '\n')
	if i < 0 {
		t.Fatalf("curl %q: output %q has no status line", args, s)
	}
	r.body = s[:i]
	fmt.Sscanf(s[i+1:], "%d %d", &r.status, &r.connect)
	return r
}

// mustCurl runs curl and fails the test unless it exits 0 with status 200
// and the body want.
func mustCurl(t *testing.T, want string, args ...string) curlResult {
	t.Helper()
	r := runCurl(t, args...)
	if r.exit != 0 || r.status != http.StatusOK || (want != "" && r.body != want) {
		t.Fatalf("curl %s: exit %d, status %d, body %.300q, stderr %q; want exit 0, 200, %q",
			strings.Join(args, " "), r.exit, r.status, r.body, r.stderr, want)
	}
	return r
}

// syncBuffer is a log sink shared by goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// pacFunc is a PAC script written in Go: the daemon tests decide which
// upstreams a URL gets without a JavaScript engine in the way.
type pacFunc func(url, host string) string

func (f pacFunc) Eval(_ context.Context, url, host string) (string, error) { return f(url, host), nil }

// testServer is a daemon serving on loopback.
type testServer struct {
	srv   *daemon.Server
	http  string // the HTTP listener, 127.0.0.1:port
	socks string // the SOCKS5 listener, 127.0.0.1:port
	log   *syncBuffer
	errc  chan error
	once  sync.Once
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func newResolver(t *testing.T, rc *resolver.Config) *resolver.Resolver {
	t.Helper()
	r, err := resolver.New(rc)
	if err != nil {
		t.Fatalf("resolver.New: %v", err)
	}
	return r
}

// startServer starts a daemon with cfg deciding with rc, on an HTTP and a
// SOCKS5 listener on 127.0.0.1, and shuts it down when the test ends.
func startServer(t *testing.T, cfg daemon.Config, rc *resolver.Config) *testServer {
	t.Helper()
	ts := &testServer{log: &syncBuffer{}, errc: make(chan error, 2)}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(ts.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ts.srv = daemon.New(cfg, newResolver(t, rc))
	hln, sln := listenLoopback(t), listenLoopback(t)
	ts.http, ts.socks = hln.Addr().String(), sln.Addr().String()
	go func() { ts.errc <- ts.srv.Serve(hln) }()
	go func() { ts.errc <- ts.srv.ServeSOCKS(sln) }()
	t.Cleanup(func() {
		ts.shutdown(t, 10*time.Second)
		if t.Failed() {
			t.Logf("daemon log:\n%s", ts.log)
		}
	})
	return ts
}

// shutdown shuts the daemon down (once) and checks that both listeners
// stopped with ErrServerClosed.
func (ts *testServer) shutdown(t *testing.T, within time.Duration) {
	ts.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		if err := ts.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		for range 2 {
			select {
			case err := <-ts.errc:
				if !errors.Is(err, daemon.ErrServerClosed) {
					t.Errorf("Serve after Shutdown: %v, want ErrServerClosed", err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("Serve did not return after Shutdown")
				return
			}
		}
	})
}

func (ts *testServer) proxyURL() string { return "http://" + ts.http }

// httpClient returns a client whose proxy is proxyURL, trusting roots for
// TLS to origins.
func httpClient(t *testing.T, proxyURL string, roots *x509.CertPool) *http.Client {
	t.Helper()
	u, err := url.Parse(proxyURL)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{
		Proxy:           http.ProxyURL(u),
		TLSClientConfig: &tls.Config{RootCAs: roots},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

// get fetches u with c and returns the response and its body.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", u, err)
	}
	return resp, string(b)
}

// echoVia fetches origin's /echo at base through c and returns its Via
// header values, joined.
func echoVia(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	resp, body := get(t, c, base+"/echo")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/echo: %s: %s", base, resp.Status, body)
	}
	var e upstream.Echo
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("GET %s/echo: %v: %q", base, err, body)
	}
	return strings.Join(e.Header.Values("Via"), ", ")
}

// originCert writes the origin's TLS certificate to a PEM file for curl's
// --cacert.
func originCert(t *testing.T, o *upstream.Origin) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "origin.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: o.HTTPS.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startEcho starts a TCP server on 127.0.0.1 that echoes what it reads,
// and returns its address.
func startEcho(t *testing.T) string {
	t.Helper()
	ln := listenLoopback(t)
	serveConns(t, ln, func(c net.Conn) { io.Copy(c, c) })
	return ln.Addr().String()
}

// serveConns accepts connections on ln until the test ends, each served
// by handle on a goroutine of its own and closed when handle returns. At
// the end of the test it closes ln and every connection still open, and
// waits for the handlers.
func serveConns(t *testing.T, ln net.Listener, handle func(net.Conn)) {
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// bufConn is a connection whose first bytes were read into a
// bufio.Reader.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// connect sends CONNECT target to the HTTP proxy at addr, with extra
// header lines, and returns the connection and the answer. The caller
// closes the connection.
func connect(t *testing.T, addr, target string, header http.Header) (net.Conn, *http.Response) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", target, target)
	header.Write(&b)
	b.WriteString("\r\n")
	c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(c, b.String()); err != nil {
		c.Close()
		t.Fatalf("CONNECT %s: %v", target, err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		t.Fatalf("CONNECT %s: reading the answer: %v", target, err)
	}
	c.SetDeadline(time.Time{})
	return &bufConn{Conn: c, r: br}, resp
}

// tunnel opens a CONNECT tunnel and fails the test unless it is
// established.
func tunnel(t *testing.T, addr, target string) net.Conn {
	t.Helper()
	c, resp := connect(t, addr, target, nil)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		c.Close()
		t.Fatalf("CONNECT %s via %s: %s: %s", target, addr, resp.Status, b)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// echoOnce sends msg through c, to an echo server, and checks that it
// comes back.
func echoOnce(c net.Conn, msg string) error {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if string(buf) != msg {
		return fmt.Errorf("echo: got %q, want %q", buf, msg)
	}
	return nil
}

// socksDial opens a SOCKS5 connection to target through the proxy at
// addr.
func socksDial(addr, target string, auth *proxy.Auth) (net.Conn, error) {
	d, err := proxy.SOCKS5("tcp", addr, auth, &net.Dialer{Timeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	return d.(proxy.ContextDialer).DialContext(context.Background(), "tcp", target)
}

// waitFor polls cond every 20 ms until it is true or d has passed.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fileContains reports whether the file at path mentions s, waiting up to
// 3 s for a daemon's buffered log line.
func fileContains(path, s string) bool {
	return waitFor(3*time.Second, func() bool {
		b, _ := os.ReadFile(path)
		return strings.Contains(string(b), s)
	})
}

func port(t *testing.T, hostport string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// statusJSON is the part of /status?format=json the tests read.
type statusJSON struct {
	Listeners  []string `json:"listeners"`
	BadProxies []struct {
		Proxy string `json:"proxy"`
	} `json:"bad_proxies"`
	Tunnels int64 `json:"tunnels_open"`
	PAC     *struct {
		Location  string `json:"location"`
		Loaded    bool   `json:"loaded"`
		LastError string `json:"last_error"`
		Failures  int    `json:"failures"`
	} `json:"pac"`
	Query *struct {
		URL      string `json:"url"`
		Decision string `json:"decision"`
		Explain  string `json:"explain"`
		Error    string `json:"error"`
	} `json:"query"`
}

func getStatus(t *testing.T, pacdAddr, query string) statusJSON {
	t.Helper()
	u := "http://" + pacdAddr + "/status?format=json"
	if query != "" {
		u += "&url=" + url.QueryEscape(query)
	}
	resp, err := http.Get(u) // origin form: a page of pacd's own, no proxy
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	var st statusJSON
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s, %s: %s", u, resp.Status, resp.Header.Get("Content-Type"), b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return st
}

// killSquid kills the squid behind s (its whole process group, as the
// upstream package's cleanup does) and waits until its port refuses
// connections: the proxy dies mid-run.
func killSquid(t *testing.T, s *upstream.Server) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Dir, "squid.pid"))
	if err != nil {
		t.Fatalf("squid's pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		t.Fatalf("squid's pid file says %q", b)
	}
	// Make sure the pid is the squid this test started: its command line
	// names its own directory, and it leads its process group.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(s.Dir)) {
		t.Fatalf("pid %d is not the squid in %s (%v, %q)", pid, s.Dir, err, cmdline)
	}
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
		t.Fatalf("squid %d does not lead its process group (%d, %v)", pid, pgid, err)
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing squid: %v", err)
	}
	if !waitFor(5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return false
		}
		return true
	}) {
		t.Fatalf("squid at %s still accepts connections after SIGKILL", s.Addr)
	}
}

// ---------------------------------------------------------------------
// Real clients, DIRECT

// TestClientsDirect drives the daemon with curl (HTTP, HTTPS through
// CONNECT, SOCKS5 with remote DNS) and net/http; loopback origins are
// DIRECT by the implicit rule.
func TestClientsDirect(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	ts := startServer(t, daemon.Config{}, nil)
	cert := originCert(t, o)
	originPort := port(t, o.Addr())

	t.Run("curl http", func(t *testing.T) {
		mustCurl(t, upstream.Body, "-x", ts.proxyURL(), o.URL("/index.txt"))
		r := mustCurl(t, "", "-x", ts.proxyURL(), o.URL("/echo"))
		var e upstream.Echo
		if err := json.Unmarshal([]byte(r.body), &e); err != nil {
			t.Fatal(err)
		}
		if via := e.Header.Get("Via"); !strings.Contains(via, "pacd-") {
			t.Errorf("origin saw Via %q, want pacd's token", via)
		}
		if e.RequestURI != "/echo" {
			t.Errorf("origin saw request target %q, want origin form /echo", e.RequestURI)
		}
		if h := e.Header.Get("Proxy-Connection"); h != "" {
			t.Errorf("hop-by-hop Proxy-Connection %q reached the origin", h)
		}
	})
	t.Run("curl http POST", func(t *testing.T) {
		r := mustCurl(t, "", "-x", ts.proxyURL(), "--data-binary", "abc=def", o.URL("/echo"))
		var e upstream.Echo
		if err := json.Unmarshal([]byte(r.body), &e); err != nil {
			t.Fatal(err)
		}
		if e.Method != http.MethodPost || e.Header.Get("Content-Length") != "7" {
			t.Errorf("origin saw %s with Content-Length %q, want POST and 7", e.Method, e.Header.Get("Content-Length"))
		}
	})
	t.Run("curl https via CONNECT", func(t *testing.T) {
		mustCurl(t, upstream.Body, "-x", ts.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt"))
		// --proxytunnel: a tunnel for plain http too.
		mustCurl(t, upstream.Body, "-x", ts.proxyURL(), "--proxytunnel", o.URL("/index.txt"))
	})
	t.Run("curl socks5 remote DNS", func(t *testing.T) {
		mustCurl(t, upstream.Body, "--socks5-hostname", ts.socks, "http://localhost:"+originPort+"/index.txt")
		mustCurl(t, upstream.Body, "-x", "socks5h://"+ts.socks, "--cacert", cert, o.TLSURL("/index.txt"))
		mustCurl(t, upstream.Body, "-x", "socks5://"+ts.socks, o.URL("/index.txt"))
	})
	t.Run("net/http", func(t *testing.T) {
		c := httpClient(t, ts.proxyURL(), o.CertPool())
		for _, u := range []string{o.URL("/index.txt"), o.TLSURL("/index.txt"), "http://localhost:" + originPort + "/index.txt"} {
			for range 3 { // keep-alive connections are reused
				if resp, body := get(t, c, u); resp.StatusCode != http.StatusOK || body != upstream.Body {
					t.Errorf("GET %s: %s %q", u, resp.Status, body)
				}
			}
		}
		sc := httpClient(t, "socks5://"+ts.socks, o.CertPool())
		for _, u := range []string{o.URL("/index.txt"), o.TLSURL("/index.txt")} {
			if resp, body := get(t, sc, u); resp.StatusCode != http.StatusOK || body != upstream.Body {
				t.Errorf("GET %s via SOCKS5: %s %q", u, resp.Status, body)
			}
		}
	})
	t.Run("origin 404 passes through", func(t *testing.T) {
		r := runCurl(t, "-x", ts.proxyURL(), o.URL("/nothing-here"))
		if r.exit != 0 || r.status != http.StatusNotFound {
			t.Errorf("exit %d, status %d; want the origin's 404", r.exit, r.status)
		}
	})
	t.Run("https URL in absolute form", func(t *testing.T) {
		// A client asking pacd to speak TLS for it gets 400, not a
		// plain-text request to a TLS port.
		resp, body := get(t, http.DefaultClient, "http://"+ts.http+"/status")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "pacd status") {
			t.Fatalf("origin-form /status: %s", resp.Status)
		}
		c, err := net.Dial("tcp", ts.http)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", o.TLSURL("/index.txt"), o.TLSAddr())
		r, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("GET https://... in absolute form: %s, want 400", r.Status)
		}
	})
}

// ---------------------------------------------------------------------
// Real upstreams

// TestUpstreams carries curl's and net/http's requests through squid
// (Basic auth, plain and TLS), microsocks (with and without a login) and
// dante (SOCKS5 and SOCKS4), and checks on the upstream's side that they
// went that way.
func TestUpstreams(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	cert := originCert(t, o)
	originPort := port(t, o.Addr())

	t.Run("squid basic auth", func(t *testing.T) {
		t.Parallel()
		sq := upstream.StartSquid(t, upstream.SquidOptions{Username: "alice", Password: "s3cret"})
		ts := startServer(t, daemon.Config{}, &resolver.Config{Proxy: sq.URL().String(), ProxyLoopback: true})
		mustCurl(t, upstream.Body, "-x", ts.proxyURL(), o.URL("/index.txt"))
		c := httpClient(t, ts.proxyURL(), o.CertPool())
		via := echoVia(t, c, o.HTTP.URL)
		if !strings.Contains(via, "pacd-") || !strings.Contains(via, "pacd-upstream-squid") {
			t.Errorf("Via %q: want pacd's and then squid's", via)
		}
		mustCurl(t, upstream.Body, "-x", ts.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt"))
		if resp, body := get(t, c, o.TLSURL("/index.txt")); resp.StatusCode != http.StatusOK || body != upstream.Body {
			t.Errorf("net/http https: %s %q", resp.Status, body)
		}
		mustCurl(t, upstream.Body, "--socks5-hostname", ts.socks, "http://localhost:"+originPort+"/index.txt")
		log := filepath.Join(sq.Dir, "access.log")
		for _, want := range []string{
			"GET " + o.URL("/index.txt") + " alice",
			"CONNECT " + o.TLSAddr() + " alice",
			"CONNECT localhost:" + originPort + " alice",
		} {
			if !fileContains(log, want) {
				b, _ := os.ReadFile(log)
				t.Errorf("squid's access.log lacks %q:\n%s", want, b)
			}
		}
		if strings.Contains(ts.log.String(), "s3cret") {
			t.Errorf("the daemon logged the upstream's password")
		}
	})
	t.Run("squid over TLS", func(t *testing.T) {
		t.Parallel()
		sq := upstream.StartSquid(t, upstream.SquidOptions{Username: "bob", Password: "pw2", TLS: true})
		ts := startServer(t, daemon.Config{}, &resolver.Config{
			Proxy: sq.TLSURL().String(), ProxyLoopback: true,
			TLSConfig: &tls.Config{RootCAs: sq.CertPool()},
		})
		mustCurl(t, upstream.Body, "-x", ts.proxyURL(), o.URL("/index.txt"))
		mustCurl(t, upstream.Body, "-x", ts.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt"))
		if !fileContains(filepath.Join(sq.Dir, "access.log"), "CONNECT "+o.TLSAddr()+" bob") {
			t.Errorf("squid's access.log lacks the CONNECT")
		}
	})
	t.Run("microsocks", func(t *testing.T) {
		t.Parallel()
		ms := upstream.StartMicrosocks(t, upstream.MicrosocksOptions{})
		u := "socks5h://" + ms.Addr
		ts := startServer(t, daemon.Config{}, &resolver.Config{Proxy: u, ProxyLoopback: true})
		mustCurl(t, upstream.Body, "-x", ts.proxyURL(), "http://localhost:"+originPort+"/index.txt")
		mustCurl(t, upstream.Body, "-x", ts.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt"))
		mustCurl(t, upstream.Body, "--socks5-hostname", ts.socks, o.URL("/index.txt"))
		out := filepath.Join(ms.Dir, "microsocks.out")
		for _, want := range []string{"connected to localhost:" + originPort, "connected to " + o.TLSAddr(), "connected to " + o.Addr()} {
			if !fileContains(out, want) {
				b, _ := os.ReadFile(out)
				t.Errorf("microsocks.out lacks %q:\n%s", want, b)
			}
		}
		via := echoVia(t, httpClient(t, ts.proxyURL(), nil), o.HTTP.URL)
		if strings.Contains(via, "squid") || !strings.Contains(via, "pacd-") {
			t.Errorf("Via %q, want pacd's alone", via)
		}
	})
	t.Run("microsocks login", func(t *testing.T) {
		t.Parallel()
		ms := upstream.StartMicrosocks(t, upstream.MicrosocksOptions{Username: "carol", Password: "pw3"})
		ts := startServer(t, daemon.Config{}, &resolver.Config{Proxy: ms.URL().String(), ProxyLoopback: true})
		mustCurl(t, upstream.Body, "-x", ts.proxyURL(), o.URL("/index.txt"))
		mustCurl(t, upstream.Body, "-x", ts.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt"))
	})
	t.Run("dante socks5 and socks4", func(t *testing.T) {
		t.Parallel()
		dn := upstream.StartDante(t, upstream.DanteOptions{})
		ts5 := startServer(t, daemon.Config{}, &resolver.Config{Proxy: "socks5://" + dn.Addr, ProxyLoopback: true})
		ts4 := startServer(t, daemon.Config{}, &resolver.Config{Proxy: "socks4://" + dn.Addr, ProxyLoopback: true})
		for _, ts := range []*testServer{ts5, ts4} {
			mustCurl(t, upstream.Body, "-x", ts.proxyURL(), o.URL("/index.txt"))
			mustCurl(t, upstream.Body, "-x", ts.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt"))
			mustCurl(t, upstream.Body, "--socks5-hostname", ts.socks, "http://localhost:"+originPort+"/index.txt")
		}
		log := filepath.Join(dn.Dir, "danted.log")
		if !fileContains(log, " 127.0.0.1."+port(t, o.TLSAddr())) {
			b, _ := os.ReadFile(log)
			t.Errorf("danted.log does not show the connection to the TLS origin:\n%s", b)
		}
	})
}

// ---------------------------------------------------------------------
// Routing per host, failover, reload

// TestPACPerHost sends one host to squid, another to microsocks and the
// rest DIRECT, and checks each path from the upstream's and the origin's
// side.
func TestPACPerHost(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	sq := upstream.StartSquid(t, upstream.SquidOptions{Username: "alice", Password: "pw"})
	ms := upstream.StartMicrosocks(t, upstream.MicrosocksOptions{})
	script := pacFunc(func(_, host string) string {
		switch host {
		case "localhost":
			return "PROXY " + sq.Addr
		case "127.0.0.1":
			return "SOCKS5 " + ms.Addr
		}
		return "DIRECT"
	})
	ts := startServer(t, daemon.Config{}, &resolver.Config{
		PAC: script, ProxyLoopback: true,
		Credentials: []string{sq.URL().String()}, // a PAC answer cannot carry them
	})
	c := httpClient(t, ts.proxyURL(), nil)
	originPort := port(t, o.Addr())

	if via := echoVia(t, c, "http://localhost:"+originPort); !strings.Contains(via, "pacd-upstream-squid") {
		t.Errorf("localhost: Via %q, want squid's", via)
	}
	if via := echoVia(t, c, o.HTTP.URL); strings.Contains(via, "squid") {
		t.Errorf("127.0.0.1: Via %q, want no squid", via)
	}
	if !fileContains(filepath.Join(ms.Dir, "microsocks.out"), "connected to "+o.Addr()) {
		t.Errorf("microsocks did not carry the request to %s", o.Addr())
	}
	if !fileContains(filepath.Join(sq.Dir, "access.log"), "GET http://localhost:"+originPort+"/echo alice") {
		t.Errorf("squid did not carry the request to localhost")
	}

	// The rest: an origin on ::1.
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	o6 := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(upstream.Echo{Method: r.Method, Host: r.Host, Header: r.Header})
	}))
	o6.Listener.Close()
	o6.Listener = ln
	o6.Start()
	defer o6.Close()
	if via := echoVia(t, c, o6.URL); strings.Contains(via, "squid") || !strings.Contains(via, "pacd-") {
		t.Errorf("[::1]: Via %q, want pacd's alone", via)
	}
	if b, _ := os.ReadFile(filepath.Join(ms.Dir, "microsocks.out")); strings.Contains(string(b), port(t, ln.Addr().String())) {
		t.Errorf("the DIRECT request went through microsocks:\n%s", b)
	}
	if st := getStatus(t, ts.http, o6.URL+"/"); st.Query == nil || st.Query.Decision != "DIRECT" {
		t.Errorf("/status for %s: %+v, want DIRECT", o6.URL, st.Query)
	}
	if st := getStatus(t, ts.http, "http://localhost:1/"); st.Query == nil || st.Query.Decision != "PROXY "+sq.Addr {
		t.Errorf("/status for localhost: %+v, want PROXY %s", st.Query, sq.Addr)
	}
}

// TestFailover kills the first of two squids mid-run: requests and
// tunnels move on to the second, and /status lists the dead one.
func TestFailover(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	echo := startEcho(t)
	a := upstream.StartSquid(t, upstream.SquidOptions{})
	b := upstream.StartSquid(t, upstream.SquidOptions{})
	ts := startServer(t, daemon.Config{}, &resolver.Config{
		PAC:           pacFunc(func(_, _ string) string { return "PROXY " + a.Addr + "; PROXY " + b.Addr }),
		ProxyLoopback: true,
	})
	c := httpClient(t, ts.proxyURL(), o.CertPool())
	alog, blog := filepath.Join(a.Dir, "access.log"), filepath.Join(b.Dir, "access.log")

	if via := echoVia(t, c, o.HTTP.URL); !strings.Contains(via, "squid") {
		t.Fatalf("Via %q, want squid's", via)
	}
	if !fileContains(alog, "GET "+o.URL("/echo")) {
		t.Fatalf("the first request did not go through squid A")
	}
	old := tunnel(t, ts.http, echo) // through A
	if err := echoOnce(old, "before"); err != nil {
		t.Fatal(err)
	}

	killSquid(t, a)

	// The tunnel through A is gone with A.
	if err := echoOnce(old, "after"); err == nil {
		t.Errorf("a tunnel through the dead squid still works")
	}
	// New requests (over pooled connections to A, which are now dead, or
	// new ones) go through B.
	for i := range 3 {
		resp, body := get(t, c, o.URL("/index.txt"))
		if resp.StatusCode != http.StatusOK || body != upstream.Body {
			t.Errorf("GET %d after A died: %s %q", i, resp.Status, body)
		}
	}
	if !fileContains(blog, "GET "+o.URL("/index.txt")) {
		b, _ := os.ReadFile(blog)
		t.Errorf("squid B's access.log lacks the request:\n%s", b)
	}
	mustCurl(t, upstream.Body, "-x", ts.proxyURL(), "--cacert", originCert(t, o), o.TLSURL("/index.txt"))
	if !fileContains(blog, "CONNECT "+o.TLSAddr()) {
		t.Errorf("squid B did not carry the CONNECT")
	}
	nt := tunnel(t, ts.http, echo)
	if err := echoOnce(nt, "through B"); err != nil {
		t.Error(err)
	}
	nt.Close() // squid logs a tunnel when it ends
	if !fileContains(blog, "CONNECT "+echo) {
		t.Errorf("squid B did not carry the new tunnel")
	}
	st := getStatus(t, ts.http, "")
	if len(st.BadProxies) != 1 || !strings.Contains(st.BadProxies[0].Proxy, a.Addr) {
		t.Errorf("/status bad_proxies %+v, want squid A (%s)", st.BadProxies, a.Addr)
	}
}

// TestReload replaces the resolver while a CONNECT and a SOCKS tunnel are
// open: they keep carrying bytes the way they were opened, and new
// requests follow the new resolver.
func TestReload(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	echo := startEcho(t)
	sq := upstream.StartSquid(t, upstream.SquidOptions{})
	ts := startServer(t, daemon.Config{}, &resolver.Config{
		PAC: pacFunc(func(_, _ string) string { return "DIRECT" }), ProxyLoopback: true,
	})
	c := httpClient(t, ts.proxyURL(), nil)
	if via := echoVia(t, c, o.HTTP.URL); strings.Contains(via, "squid") {
		t.Fatalf("before the reload: Via %q, want DIRECT", via)
	}
	ct := tunnel(t, ts.http, echo)
	st, err := socksDial(ts.socks, echo, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, conn := range []net.Conn{ct, st} {
		if err := echoOnce(conn, "before"); err != nil {
			t.Fatal(err)
		}
	}

	ts.srv.SetResolver(newResolver(t, &resolver.Config{
		PAC: pacFunc(func(_, _ string) string { return "PROXY " + sq.Addr }), ProxyLoopback: true,
	}))

	for i, conn := range []net.Conn{ct, st} {
		for j := range 3 {
			if err := echoOnce(conn, fmt.Sprintf("after reload %d", j)); err != nil {
				t.Errorf("tunnel %d after the reload: %v", i, err)
			}
		}
	}
	c.Transport.(*http.Transport).CloseIdleConnections()
	if via := echoVia(t, c, o.HTTP.URL); !strings.Contains(via, "pacd-upstream-squid") {
		t.Errorf("after the reload: Via %q, want squid's", via)
	}
	nt := tunnel(t, ts.http, echo)
	if err := echoOnce(nt, "new"); err != nil {
		t.Error(err)
	}
	if s := getStatus(t, ts.http, "http://x.example/"); s.Query == nil || s.Query.Decision != "PROXY "+sq.Addr || s.Tunnels != 3 {
		t.Errorf("/status after the reload: query %+v, tunnels %d; want PROXY %s and 3 tunnels", s.Query, s.Tunnels, sq.Addr)
	}
	nt.Close() // squid logs a tunnel when it ends
	if !fileContains(filepath.Join(sq.Dir, "access.log"), "CONNECT "+echo) {
		t.Errorf("the new tunnel did not go through squid")
	}
	// The old tunnels still work after the new one ended.
	for i, conn := range []net.Conn{ct, st} {
		if err := echoOnce(conn, "still"); err != nil {
			t.Errorf("tunnel %d: %v", i, err)
		}
	}
}

// ---------------------------------------------------------------------
// Who may use the proxy

// TestClientAllowList calls ServeHTTP with a non-loopback client address:
// 403 unless Config.Allow names its network.
func TestClientAllowList(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	r := newResolver(t, nil)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	refuse := daemon.New(daemon.Config{Logger: quiet}, r)
	allow := daemon.New(daemon.Config{Logger: quiet, Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}, r)
	reqs := []struct {
		name string
		req  func() *http.Request
	}{
		{"page", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/status", nil) }},
		{"forward", func() *http.Request { return httptest.NewRequest(http.MethodGet, o.URL("/index.txt"), nil) }},
		{"connect", func() *http.Request {
			req := httptest.NewRequest(http.MethodConnect, "/", nil)
			req.URL = &url.URL{Host: o.TLSAddr()}
			req.Host, req.RequestURI = o.TLSAddr(), o.TLSAddr()
			return req
		}},
	}
	for _, rq := range reqs {
		for _, remote := range []string{"192.0.2.10:1234", "[2001:db8::1]:1234", "198.51.100.7:80"} {
			req := rq.req()
			req.RemoteAddr = remote
			w := httptest.NewRecorder()
			refuse.ServeHTTP(w, req)
			if w.Code != http.StatusForbidden {
				t.Errorf("%s from %s: %d, want 403", rq.name, remote, w.Code)
			}
		}
	}
	for _, remote := range []string{"192.0.2.10:1234", "[::ffff:192.0.2.10]:1234"} {
		req := httptest.NewRequest(http.MethodGet, "/status?format=json", nil)
		req.RemoteAddr = remote
		w := httptest.NewRecorder()
		allow.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Errorf("allowed page from %s: %d, want 200", remote, w.Code)
		}
		req = httptest.NewRequest(http.MethodGet, o.URL("/index.txt"), nil)
		req.RemoteAddr = remote
		w = httptest.NewRecorder()
		allow.ServeHTTP(w, req)
		if w.Code != http.StatusOK || w.Body.String() != upstream.Body {
			t.Errorf("allowed forward from %s: %d %q, want 200 and the origin's body", remote, w.Code, w.Body)
		}
	}
	// Outside the allowed network, and not an address at all.
	for _, remote := range []string{"192.0.3.1:1", "@", ""} {
		req := httptest.NewRequest(http.MethodGet, "/status", nil)
		req.RemoteAddr = remote
		w := httptest.NewRecorder()
		allow.ServeHTTP(w, req)
		if w.Code != http.StatusForbidden {
			t.Errorf("page from %q: %d, want 403", remote, w.Code)
		}
	}
}

// TestClientNetns is the allow-list end to end: curl in one network
// namespace, the daemon's listeners in another, joined by a veth pair with
// 10.200.x.x addresses that exist only inside them. It needs root and
// ip(8), and skips otherwise.
func TestClientNetns(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	ipBin, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("ip(8) is not installed")
	}
	needCurl(t)
	o := upstream.StartOrigin(t)

	id := os.Getpid() % 200
	nsA, nsB := fmt.Sprintf("pacdtA%d", os.Getpid()), fmt.Sprintf("pacdtB%d", os.Getpid())
	addrA, addrB := fmt.Sprintf("10.200.%d.1", id), fmt.Sprintf("10.200.%d.2", id)
	ip := func(args ...string) error {
		out, err := exec.Command(ipBin, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	t.Cleanup(func() {
		ip("netns", "del", nsA) // the veth pair goes with it
		ip("netns", "del", nsB)
	})
	for _, args := range [][]string{
		{"netns", "add", nsA},
		{"netns", "add", nsB},
		{"link", "add", "pacdva", "netns", nsA, "type", "veth", "peer", "name", "pacdvb", "netns", nsB},
		{"-n", nsA, "addr", "add", addrA + "/24", "dev", "pacdva"},
		{"-n", nsB, "addr", "add", addrB + "/24", "dev", "pacdvb"},
		{"-n", nsA, "link", "set", "pacdva", "up"},
		{"-n", nsB, "link", "set", "pacdvb", "up"},
		{"-n", nsA, "link", "set", "lo", "up"},
		{"-n", nsB, "link", "set", "lo", "up"},
	} {
		if err := ip(args...); err != nil {
			t.Skipf("cannot set up the namespaces: %v", err)
		}
	}
	listenIn := func(addr string) net.Listener {
		ln, err := listenInNetns("/run/netns/"+nsA, addr)
		if err != nil {
			t.Skipf("cannot listen inside %s: %v", nsA, err)
		}
		return ln
	}
	serve := func(cfg daemon.Config) (httpAddr, socksAddr string, log *syncBuffer) {
		log = &syncBuffer{}
		cfg.Logger = slog.New(slog.NewTextHandler(log, nil))
		srv := daemon.New(cfg, newResolver(t, nil))
		hln, sln := listenIn(addrA+":0"), listenIn(addrA+":0")
		go srv.Serve(hln)
		go srv.ServeSOCKS(sln)
		t.Cleanup(func() { srv.Shutdown(context.Background()) })
		return hln.Addr().String(), sln.Addr().String(), log
	}
	curlNS := func(args ...string) (exit, status int, body string) {
		argv := append([]string{"netns", "exec", nsB, needCurl(t), "-q", "-sS", "--max-time", "5", "-w", "\n%{http_code}"}, args...)
		cmd := exec.Command(ipBin, argv...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
		out, err := cmd.Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			exit = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		s := string(out)
		i := strings.LastIndexByte(s, '\n')
		if i >= 0 {
			body = s[:i]
			status, _ = strconv.Atoi(strings.TrimSpace(s[i+1:]))
		}
		return exit, status, body
	}

	// The daemon reaches the origin on its own (host) loopback; the client
	// only knows the daemon's address in the namespace.
	hA, sA, logA := serve(daemon.Config{})
	if exit, status, body := curlNS("-x", "http://"+hA, o.URL("/index.txt")); status != http.StatusForbidden {
		t.Errorf("client %s without --allow: exit %d, status %d, body %q; want 403", addrB, exit, status, body)
	}
	if exit, status, _ := curlNS("--socks5-hostname", sA, o.URL("/index.txt")); exit == 0 || status == http.StatusOK {
		t.Errorf("SOCKS client %s without --allow: exit %d, status %d; want a failure", addrB, exit, status)
	}
	if !strings.Contains(logA.String(), "client not allowed") || !strings.Contains(logA.String(), addrB) {
		t.Errorf("the daemon did not log the refusal:\n%s", logA)
	}

	hB, sB, _ := serve(daemon.Config{Allow: []netip.Prefix{netip.MustParsePrefix(addrB + "/32")}})
	if exit, status, body := curlNS("-x", "http://"+hB, o.URL("/index.txt")); status != http.StatusOK || body != upstream.Body {
		t.Errorf("client %s with --allow: exit %d, status %d, body %q; want 200", addrB, exit, status, body)
	}
	if exit, status, body := curlNS("--socks5-hostname", sB, o.URL("/index.txt")); status != http.StatusOK || body != upstream.Body {
		t.Errorf("SOCKS client %s with --allow: exit %d, status %d, body %q; want 200", addrB, exit, status, body)
	}
}

// listenInNetns opens a TCP listener inside the network namespace at
// nsPath; the socket stays there while the process goes on in its own.
func listenInNetns(nsPath, addr string) (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked if restoring fails: the thread dies with the goroutine
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer orig.Close()
		ns, err := os.Open(nsPath)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer ns.Close()
		if err := setns(ns); err != nil {
			ch <- result{err: fmt.Errorf("setns: %w", err)}
			return
		}
		ln, lerr := net.Listen("tcp4", addr)
		if err := setns(orig); err != nil {
			if ln != nil {
				ln.Close()
			}
			ch <- result{err: fmt.Errorf("setns back: %w", err)}
			return
		}
		runtime.UnlockOSThread()
		ch <- result{ln, lerr}
	}()
	r := <-ch
	return r.ln, r.err
}

func setns(f *os.File) error {
	const cloneNewNet = 0x40000000
	nr, ok := map[string]uintptr{"amd64": 308, "arm64": 268, "386": 346, "riscv64": 268}[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("setns: system call number unknown on %s", runtime.GOARCH)
	}
	if _, _, e := syscall.Syscall(nr, f.Fd(), cloneNewNet, 0); e != 0 {
		return e
	}
	return nil
}

// TestClientAuth requires credentials on both listeners.
func TestClientAuth(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	ts := startServer(t, daemon.Config{Username: "u1", Password: "p@ss:word"}, nil)
	cert := originCert(t, o)
	good := "http://u1:p%40ss%3Aword@" + ts.http

	r := runCurl(t, "-x", ts.proxyURL(), o.URL("/index.txt"))
	if r.status != http.StatusProxyAuthRequired {
		t.Errorf("HTTP without credentials: status %d, want 407", r.status)
	}
	r = runCurl(t, "-x", "http://u1:wrong@"+ts.http, o.URL("/index.txt"))
	if r.status != http.StatusProxyAuthRequired {
		t.Errorf("HTTP with a wrong password: status %d, want 407", r.status)
	}
	r = runCurl(t, "-x", ts.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt"))
	if r.exit == 0 || r.connect != http.StatusProxyAuthRequired {
		t.Errorf("CONNECT without credentials: exit %d, CONNECT status %d; want a failure and 407", r.exit, r.connect)
	}
	mustCurl(t, upstream.Body, "-x", good, o.URL("/index.txt"))
	mustCurl(t, upstream.Body, "-x", good, "--cacert", cert, o.TLSURL("/index.txt"))
	// curl answers the challenge itself with --proxy-anyauth.
	mustCurl(t, upstream.Body, "-x", ts.proxyURL(), "--proxy-user", "u1:p@ss:word", "--proxy-anyauth", o.URL("/index.txt"))

	c, resp := connect(t, ts.http, o.TLSAddr(), nil)
	c.Close()
	if resp.StatusCode != http.StatusProxyAuthRequired || resp.Header.Get("Proxy-Authenticate") != `Basic realm="pacd"` {
		t.Errorf("CONNECT without credentials: %s, Proxy-Authenticate %q", resp.Status, resp.Header.Get("Proxy-Authenticate"))
	}

	// SOCKS5: the login is required.
	if r := runCurl(t, "-x", "socks5h://"+ts.socks, o.URL("/index.txt")); r.exit == 0 {
		t.Errorf("SOCKS5 without a login: curl exit 0, status %d", r.status)
	}
	if r := runCurl(t, "-x", "socks5h://u1:nope@"+ts.socks, o.URL("/index.txt")); r.exit == 0 {
		t.Errorf("SOCKS5 with a wrong password: curl exit 0, status %d", r.status)
	}
	mustCurl(t, upstream.Body, "-x", "socks5h://u1:p%40ss%3Aword@"+ts.socks, o.URL("/index.txt"))
	if _, err := socksDial(ts.socks, o.Addr(), nil); err == nil {
		t.Errorf("x/net/proxy SOCKS5 without a login connected")
	}
	sc, err := socksDial(ts.socks, o.Addr(), &proxy.Auth{User: "u1", Password: "p@ss:word"})
	if err != nil {
		t.Errorf("x/net/proxy SOCKS5 with the login: %v", err)
	} else {
		sc.Close()
	}

	// Go's net/http sends the credentials of the proxy URL.
	gc := httpClient(t, good, o.CertPool())
	for _, u := range []string{o.URL("/index.txt"), o.TLSURL("/index.txt")} {
		if resp, body := get(t, gc, u); resp.StatusCode != http.StatusOK || body != upstream.Body {
			t.Errorf("net/http %s with credentials: %s %q", u, resp.Status, body)
		}
	}
	// The credentials stop at pacd.
	r = mustCurl(t, "", "-x", good, o.URL("/echo"))
	if strings.Contains(r.body, "Proxy-Authorization") {
		t.Errorf("the client's Proxy-Authorization reached the origin: %s", r.body)
	}
	if m := metrics(t, ts.http); !strings.Contains(m, `pacd_requests_total{kind="auth",code="407"}`) {
		t.Errorf("/metrics does not count the 407s:\n%s", m)
	}
}

// TestLoop asks the daemon for itself through itself, and makes two
// daemons each other's upstream.
func TestLoop(t *testing.T) {
	t.Parallel()
	ts := startServer(t, daemon.Config{}, nil)
	_, p, _ := net.SplitHostPort(ts.http)
	for _, target := range []string{"http://" + ts.http + "/status", "http://localhost:" + p + "/status", "http://[::1]:" + p + "/"} {
		if r := runCurl(t, "-x", ts.proxyURL(), target); r.status != http.StatusLoopDetected {
			t.Errorf("curl -x pacd %s: status %d, want 508", target, r.status)
		}
	}
	if r := runCurl(t, "-x", ts.proxyURL(), "--proxytunnel", "http://"+ts.http+"/status"); r.connect != http.StatusLoopDetected {
		t.Errorf("CONNECT to itself: CONNECT status %d, want 508", r.connect)
	}
	if c, err := socksDial(ts.socks, ts.http, nil); err == nil {
		c.Close()
		t.Errorf("SOCKS5 to its own HTTP listener connected")
	}
	if c, err := socksDial(ts.socks, ts.socks, nil); err == nil {
		c.Close()
		t.Errorf("SOCKS5 to its own SOCKS listener connected")
	}

	// Two daemons that send everything to each other: the request comes
	// back to the first with its Via token.
	o := upstream.StartOrigin(t)
	lnA, lnB := listenLoopback(t), listenLoopback(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := daemon.New(daemon.Config{Logger: quiet}, newResolver(t, &resolver.Config{Proxy: "http://" + lnB.Addr().String(), ProxyLoopback: true}))
	b := daemon.New(daemon.Config{Logger: quiet}, newResolver(t, &resolver.Config{Proxy: "http://" + lnA.Addr().String(), ProxyLoopback: true}))
	go a.Serve(lnA)
	go b.Serve(lnB)
	t.Cleanup(func() {
		a.Shutdown(context.Background())
		b.Shutdown(context.Background())
	})
	r := runCurl(t, "-x", "http://"+lnA.Addr().String(), o.URL("/index.txt"))
	if r.status != http.StatusLoopDetected {
		t.Errorf("a request looping between two daemons: status %d (body %.200q), want 508", r.status, r.body)
	}
}

// ---------------------------------------------------------------------
// Errors

// TestUpstreamErrors: an upstream that wants credentials pacd lacks (407
// with the reason), upstreams that are all down (502), one that accepts
// and never answers (504 within the dial timeout).
func TestUpstreamErrors(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	cert := originCert(t, o)

	t.Run("credentials missing", func(t *testing.T) {
		t.Parallel()
		sq := upstream.StartSquid(t, upstream.SquidOptions{Username: "alice", Password: "pw"})
		ts := startServer(t, daemon.Config{}, &resolver.Config{
			PAC: pacFunc(func(_, _ string) string { return "PROXY " + sq.Addr }), ProxyLoopback: true,
		})
		c, resp := connect(t, ts.http, o.TLSAddr(), nil)
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		c.Close()
		reason := resp.Header.Get("X-Pacd-Error")
		if resp.StatusCode != http.StatusProxyAuthRequired || !strings.Contains(reason, sq.Addr) || !strings.Contains(reason, "credentials") {
			t.Errorf("CONNECT: %s, X-Pacd-Error %q, body %q; want 407 naming %s and credentials", resp.Status, reason, body, sq.Addr)
		}
		if h := resp.Header.Get("Proxy-Authenticate"); h != "" {
			t.Errorf("CONNECT: pacd passed on a challenge %q it cannot answer for", h)
		}
		r := runCurl(t, "-x", ts.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt"))
		if r.exit == 0 || r.connect != http.StatusProxyAuthRequired {
			t.Errorf("curl https: exit %d, CONNECT status %d; want 407", r.exit, r.connect)
		}
		// A forwarded request gets squid's own 407, without its
		// challenge: it is not pacd that asks.
		gc := httpClient(t, ts.proxyURL(), nil)
		hr, hbody := get(t, gc, o.URL("/index.txt"))
		if hr.StatusCode != http.StatusProxyAuthRequired || hr.Header.Get("Proxy-Authenticate") != "" {
			t.Errorf("GET: %s, Proxy-Authenticate %q; want 407 without a challenge", hr.Status, hr.Header.Get("Proxy-Authenticate"))
		}
		if hbody == "" {
			t.Errorf("GET: 407 without a reason")
		}
		if _, err := socksDial(ts.socks, o.Addr(), nil); err == nil {
			t.Errorf("SOCKS5 through a squid that wants credentials connected")
		}
		if m := metrics(t, ts.http); !strings.Contains(m, "pacd_upstream_refused_total 3") {
			t.Errorf("/metrics: want pacd_upstream_refused_total 3 (two CONNECTs and a SOCKS):\n%s", m)
		}
	})
	t.Run("all upstreams down", func(t *testing.T) {
		t.Parallel()
		d1, d2 := upstream.ClosedAddr(t), upstream.ClosedAddr(t)
		ts := startServer(t, daemon.Config{}, &resolver.Config{
			PAC: pacFunc(func(_, _ string) string { return "PROXY " + d1 + "; SOCKS5 " + d2 }), ProxyLoopback: true,
		})
		r := runCurl(t, "-x", ts.proxyURL(), o.URL("/index.txt"))
		if r.status != http.StatusBadGateway || !strings.Contains(r.body, "no proxy could be reached") {
			t.Errorf("GET: status %d, body %q; want 502 saying no proxy could be reached", r.status, r.body)
		}
		c, resp := connect(t, ts.http, o.TLSAddr(), nil)
		c.Close()
		reason := resp.Header.Get("X-Pacd-Error")
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(reason, d1) || !strings.Contains(reason, d2) {
			t.Errorf("CONNECT: %s, X-Pacd-Error %q; want 502 naming %s and %s", resp.Status, reason, d1, d2)
		}
		if _, err := socksDial(ts.socks, o.Addr(), nil); err == nil || !strings.Contains(err.Error(), "host unreachable") {
			t.Errorf("SOCKS5: %v, want host unreachable", err)
		}
		if st := getStatus(t, ts.http, ""); len(st.BadProxies) != 2 {
			t.Errorf("/status bad_proxies %+v, want both", st.BadProxies)
		}
	})
	t.Run("blackhole times out", func(t *testing.T) {
		t.Parallel()
		hole := upstream.StartBlackhole(t)
		ts := startServer(t, daemon.Config{}, &resolver.Config{
			PAC: pacFunc(func(_, _ string) string { return "PROXY " + hole }), ProxyLoopback: true,
			DialTimeout: 300 * time.Millisecond, ResponseHeaderTimeout: 300 * time.Millisecond,
		})
		start := time.Now()
		c, resp := connect(t, ts.http, o.TLSAddr(), nil)
		c.Close()
		if resp.StatusCode != http.StatusGatewayTimeout || time.Since(start) > 5*time.Second {
			t.Errorf("CONNECT: %s after %v, X-Pacd-Error %q; want 504 soon after 300ms", resp.Status, time.Since(start), resp.Header.Get("X-Pacd-Error"))
		}
		start = time.Now()
		r := runCurl(t, "-x", ts.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt"))
		if r.connect != http.StatusGatewayTimeout {
			t.Errorf("curl https: CONNECT status %d, want 504", r.connect)
		}
		if _, err := socksDial(ts.socks, o.Addr(), nil); err == nil {
			t.Errorf("SOCKS5 through a blackhole connected")
		}
	})
	t.Run("blackhole times out forwarding http", func(t *testing.T) {
		t.Parallel()
		// A plain-http request forwarded to an HTTP proxy that accepts
		// the connection and never answers.
		hole := upstream.StartBlackhole(t)
		ts := startServer(t, daemon.Config{}, &resolver.Config{
			PAC: pacFunc(func(_, _ string) string { return "PROXY " + hole }), ProxyLoopback: true,
			DialTimeout: 300 * time.Millisecond, ResponseHeaderTimeout: 300 * time.Millisecond,
		})
		start := time.Now()
		r := runCurl(t, "--max-time", "3", "-x", ts.proxyURL(), o.URL("/index.txt"))
		if r.status != http.StatusGatewayTimeout {
			t.Errorf("GET through a blackhole proxy: curl exit %d, status %d after %v; want 504 within the dial timeout's order of magnitude",
				r.exit, r.status, time.Since(start).Round(100*time.Millisecond))
		}
	})
	t.Run("silent proxy fails over", func(t *testing.T) {
		t.Parallel()
		// A silent first proxy is skipped after the dial timeout, for
		// tunnels: the answer comes from the second.
		hole := upstream.StartBlackhole(t)
		sq := upstream.StartSquid(t, upstream.SquidOptions{})
		ts := startServer(t, daemon.Config{}, &resolver.Config{
			PAC: pacFunc(func(_, _ string) string { return "PROXY " + hole + "; PROXY " + sq.Addr }), ProxyLoopback: true,
			DialTimeout: 300 * time.Millisecond,
		})
		mustCurl(t, upstream.Body, "-x", ts.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt"))
	})
}

// ---------------------------------------------------------------------
// Pages

func metrics(t *testing.T, pacdAddr string) string {
	t.Helper()
	resp, err := http.Get("http://" + pacdAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	return string(b)
}

// TestPages checks /proxy.pac, /wpad.dat, /metrics and /status with a PAC
// file loaded by resolver.PACFile and compiled by the pac package.
func TestPages(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	src := "function FindProxyForURL(url, host) {\n  if (dnsDomainIs(host, \".corp.example\")) return \"PROXY 127.0.0.1:9; DIRECT\";\n  return \"DIRECT\";\n}\n"
	path := filepath.Join(t.TempDir(), "proxy.pac")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	pf := &resolver.PACFile{
		Location: path,
		Compile: func(b []byte, name string) (resolver.Evaluator, error) {
			return pac.Compile(string(b), &pac.Options{Name: name})
		},
	}
	if err := pf.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	ts := startServer(t, daemon.Config{PAC: pf}, &resolver.Config{PAC: pf})

	for _, p := range []string{"/proxy.pac", "/wpad.dat"} {
		resp, err := http.Get("http://" + ts.http + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ns-proxy-autoconfig" || string(b) != src {
			t.Errorf("%s: %s, %q, %q; want 200, application/x-ns-proxy-autoconfig, the PAC file", p, resp.Status, resp.Header.Get("Content-Type"), b)
		}
	}
	// curl fetches it too, as a browser would.
	if r := mustCurl(t, "", "http://"+ts.http+"/proxy.pac"); r.body+"\n" != src && r.body != src {
		t.Errorf("curl /proxy.pac: %q", r.body)
	}

	mustCurl(t, upstream.Body, "-x", ts.proxyURL(), o.URL("/index.txt"))
	mustCurl(t, upstream.Body, "-x", ts.proxyURL(), "--cacert", originCert(t, o), o.TLSURL("/index.txt"))
	// A tunnel is counted when it ends, which may be just after curl
	// exits.
	wants := []string{
		"# TYPE pacd_requests_total counter",
		`pacd_requests_total{kind="http",code="200"} 1`,
		`pacd_requests_total{kind="connect",code="200"} 1`,
		`pacd_decisions_total{source="implicit"} 2`,
		"pacd_pac_loaded 1",
		`pacd_bytes_total{direction="down"}`,
		"pacd_tunnels_open 0",
	}
	var m string
	waitFor(3*time.Second, func() bool {
		m = metrics(t, ts.http)
		for _, want := range wants {
			if !strings.Contains(m, want) {
				return false
			}
		}
		return true
	})
	for _, want := range wants {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, m)
		}
	}

	st := getStatus(t, ts.http, "https://wiki.corp.example/page")
	if st.Query == nil || st.Query.Decision != "PROXY 127.0.0.1:9; DIRECT" || !strings.Contains(st.Query.Explain, "PAC returned") {
		t.Errorf("/status?url=https://wiki.corp.example/page: %+v", st.Query)
	}
	if st.PAC == nil || !st.PAC.Loaded || st.PAC.Location != path {
		t.Errorf("/status pac: %+v", st.PAC)
	}
	if len(st.Listeners) != 2 {
		t.Errorf("/status listeners %v, want two", st.Listeners)
	}
	if st := getStatus(t, ts.http, "http://127.0.0.1:1/"); st.Query == nil || st.Query.Decision != "DIRECT" || !strings.Contains(st.Query.Explain, "implicit") {
		t.Errorf("/status?url=http://127.0.0.1:1/: %+v", st.Query)
	}
	if st := getStatus(t, ts.http, "not a url"); st.Query == nil || st.Query.Error == "" {
		t.Errorf("/status?url=not a url: %+v, want an error", st.Query)
	}
	// The HTML page, through curl.
	if r := mustCurl(t, "", "http://"+ts.http+"/status?url=http%3A%2F%2Fwiki.corp.example%2F"); !strings.Contains(r.body, "PROXY 127.0.0.1:9; DIRECT") {
		t.Errorf("/status HTML does not show the decision:\n%s", r.body)
	}

	// Without a PAC, /proxy.pac sends everything through pacd.
	bare := startServer(t, daemon.Config{}, nil)
	r := mustCurl(t, "", "http://"+bare.http+"/proxy.pac")
	if !strings.Contains(r.body, `"PROXY `+bare.http+`"`) {
		t.Errorf("/proxy.pac without a PAC: %q, want PROXY %s", r.body, bare.http)
	}
}

// ---------------------------------------------------------------------
// Shutdown

// TestShutdown: open tunnels keep working while Shutdown drains, new
// connections are refused, and Shutdown returns at the drain timeout
// when a tunnel stays open.
func TestShutdown(t *testing.T) {
	t.Parallel()
	echo := startEcho(t)
	const drain = time.Second
	ts := startServer(t, daemon.Config{DrainTimeout: drain}, nil)
	ct := tunnel(t, ts.http, echo)
	sc, err := socksDial(ts.socks, echo, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	for _, c := range []net.Conn{ct, sc} {
		if err := echoOnce(c, "before"); err != nil {
			t.Fatal(err)
		}
	}

	start := time.Now()
	done := make(chan struct{})
	go func() {
		ts.shutdown(t, 30*time.Second)
		close(done)
	}()
	time.Sleep(100 * time.Millisecond)
	for i, c := range []net.Conn{ct, sc} {
		if err := echoOnce(c, "while draining"); err != nil {
			t.Errorf("tunnel %d while draining: %v", i, err)
		}
	}
	for _, addr := range []string{ts.http, ts.socks} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s accepts connections after Shutdown began", addr)
		}
	}
	select {
	case <-done:
	case <-time.After(drain + 3*time.Second):
		t.Fatalf("Shutdown has not returned %v after it began, with a drain timeout of %v", time.Since(start), drain)
	}
	if el := time.Since(start); el < drain-100*time.Millisecond {
		t.Errorf("Shutdown returned after %v, before the drain timeout %v, with tunnels open", el, drain)
	}
	for i, c := range []net.Conn{ct, sc} {
		if err := echoOnce(c, "after"); err == nil {
			t.Errorf("tunnel %d still works after Shutdown returned", i)
		}
	}
}

// TestShutdownIdle: with no tunnel left, Shutdown does not wait for the
// drain timeout; a tunnel the client closes while draining ends it.
func TestShutdownIdle(t *testing.T) {
	t.Parallel()
	echo := startEcho(t)
	ts := startServer(t, daemon.Config{DrainTimeout: 20 * time.Second}, nil)
	ct := tunnel(t, ts.http, echo)
	if err := echoOnce(ct, "x"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	done := make(chan struct{})
	go func() {
		ts.shutdown(t, 30*time.Second)
		close(done)
	}()
	time.Sleep(200 * time.Millisecond)
	ct.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("Shutdown has not returned %v after the last tunnel closed", time.Since(start))
	}
}
