package main

// End-to-end tests of `pacd serve`, run in-process through run(...) with
// real clients (curl, net/http) and real upstreams (squid, microsocks).
// Every listener is on loopback.

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
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
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

// ---------------------------------------------------------------------
// Helpers

// serveBuffer collects what pacd serve logs.
type serveBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *serveBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *serveBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// servedPacd is a `pacd serve` running in a goroutine.
type servedPacd struct {
	http, socks string // listen addresses, 127.0.0.1:port
	log         *serveBuffer
	cancel      context.CancelFunc
	done        chan int // the exit code, once run returns
}

var servingLine = regexp.MustCompile(`msg="pacd serving" http=(\S+)(?: socks=(\S+))?`)

// startServe runs `pacd serve --no-env --listen 127.0.0.1:0 args...` and
// returns once it logs its addresses. It stops the command, and checks
// that it exited 0, when the test ends.
func startServe(t *testing.T, args ...string) *servedPacd {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &servedPacd{log: &serveBuffer{}, cancel: cancel, done: make(chan int, 1)}
	argv := append([]string{"serve", "--no-env", "--listen", "127.0.0.1:0", "--drain", "2s", "--log-level", "debug"}, args...)
	go func() { p.done <- run(ctx, argv, strings.NewReader(""), io.Discard, p.log) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := servingLine.FindStringSubmatch(p.log.String()); m != nil {
			p.http, p.socks = m[1], m[2]
			break
		}
		select {
		case code := <-p.done:
			cancel()
			t.Fatalf("pacd %s exited with %d before serving:\n%s", strings.Join(argv, " "), code, p.log)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("pacd %s did not log its addresses:\n%s", strings.Join(argv, " "), p.log)
		}
	}
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-p.done:
			if code != 0 {
				t.Errorf("pacd serve exited with %d after its context ended", code)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("pacd serve did not return after its context ended")
		}
		if t.Failed() {
			t.Logf("pacd serve's log:\n%s", p.log)
		}
	})
	return p
}

func (p *servedPacd) proxyURL() string { return "http://" + p.http }

// waitLog waits up to 5 s for the log to mention s.
func (p *servedPacd) waitLog(s string) bool {
	return pollUntil(5*time.Second, func() bool { return strings.Contains(p.log.String(), s) })
}

func pollUntil(d time.Duration, cond func() bool) bool {
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

func logMentions(path, s string) bool {
	return pollUntil(3*time.Second, func() bool {
		b, _ := os.ReadFile(path)
		return strings.Contains(string(b), s)
	})
}

// curlPath returns curl's path, skipping the test when it is missing, or
// failing it when CI is "true".
func curlPath(t *testing.T) string {
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

type curlOut struct {
	exit, status, connect int
	body, stderr          string
}

// curl runs curl with a clean environment and returns what it did.
func curl(t *testing.T, args ...string) curlOut {
	t.Helper()
	argv := append([]string{"-q", "-sS", "--max-time", "15", "-w", "\n%{http_code} %{http_connect}"}, args...)
	cmd := exec.Command(curlPath(t), argv...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := curlOut{stderr: errb.String()}
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
		t.Fatalf("curl %q: no status line in %q", args, s)
	}
	r.body = s[:i]
	fmt.Sscanf(s[i+1:], "%d %d", &r.status, &r.connect)
	return r
}

// curlOK runs curl and fails the test unless it got 200 and, if want is
// not empty, the body want.
func curlOK(t *testing.T, want string, args ...string) curlOut {
	t.Helper()
	r := curl(t, args...)
	if r.exit != 0 || r.status != http.StatusOK || (want != "" && r.body != want) {
		t.Fatalf("curl %s: exit %d, status %d, body %.300q, stderr %q; want 200 and %q",
			strings.Join(args, " "), r.exit, r.status, r.body, r.stderr, want)
	}
	return r
}

func proxyClient(t *testing.T, proxyURL string, roots *x509.CertPool) *http.Client {
	t.Helper()
	u, err := url.Parse(proxyURL)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{Proxy: http.ProxyURL(u), TLSClientConfig: &tls.Config{RootCAs: roots}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

func fetch(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp, string(b)
}

// viaOf fetches base+"/echo" through c and returns the Via header the
// origin saw.
func viaOf(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	resp, body := fetch(t, c, base+"/echo")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/echo: %s: %.300s", base, resp.Status, body)
	}
	var e upstream.Echo
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("GET %s/echo: %v", base, err)
	}
	return strings.Join(e.Header.Values("Via"), ", ")
}

func certFile(t *testing.T, o *upstream.Origin) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "origin.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: o.HTTPS.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func portOf(t *testing.T, hostport string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// echoServer starts a TCP echo server on 127.0.0.1.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
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
				io.Copy(c, c)
				c.Close()
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
	return ln.Addr().String()
}

type readerConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// connectTo sends CONNECT target to the HTTP proxy at addr and returns
// the connection and the answer; the caller closes the connection.
func connectTo(t *testing.T, addr, target string) (net.Conn, *http.Response) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(15 * time.Second))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		t.Fatalf("CONNECT %s: %v", target, err)
	}
	c.SetDeadline(time.Time{})
	return &readerConn{Conn: c, r: br}, resp
}

// openTunnel opens a CONNECT tunnel, failing the test if it is refused.
func openTunnel(t *testing.T, addr, target string) net.Conn {
	t.Helper()
	c, resp := connectTo(t, addr, target)
	if resp.StatusCode != http.StatusOK {
		c.Close()
		t.Fatalf("CONNECT %s via %s: %s (%s)", target, addr, resp.Status, resp.Header.Get("X-Pacd-Error"))
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func roundTrip(c net.Conn, msg string) error {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, msg); err != nil {
		return err
	}
	b := make([]byte, len(msg))
	if _, err := io.ReadFull(c, b); err != nil {
		return err
	}
	if string(b) != msg {
		return fmt.Errorf("echoed %q, want %q", b, msg)
	}
	return nil
}

type serveStatus struct {
	BadProxies []struct {
		Proxy string `json:"proxy"`
	} `json:"bad_proxies"`
	PAC *struct {
		Location  string `json:"location"`
		Loaded    bool   `json:"loaded"`
		Version   string `json:"version"`
		LastError string `json:"last_error"`
		Failures  int    `json:"failures"`
	} `json:"pac"`
	Query *struct {
		Decision string `json:"decision"`
		Explain  string `json:"explain"`
	} `json:"query"`
}

func statusOf(t *testing.T, addr, query string) serveStatus {
	t.Helper()
	u := "http://" + addr + "/status?format=json"
	if query != "" {
		u += "&url=" + url.QueryEscape(query)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st serveStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", u, resp.Status, err)
	}
	return st
}

func page(t *testing.T, addr, path string) (*http.Response, string) {
	t.Helper()
	return fetch(t, http.DefaultClient, "http://"+addr+path)
}

// metricsWith polls /metrics for up to 3 s until it has every line of
// wants, and returns the last text and whether it did.
func metricsWith(t *testing.T, addr string, wants ...string) (string, bool) {
	t.Helper()
	var m string
	ok := pollUntil(3*time.Second, func() bool {
		_, m = page(t, addr, "/metrics")
		for _, w := range wants {
			if !strings.Contains(m, w) {
				return false
			}
		}
		return true
	})
	return m, ok
}

// writePAC writes a PAC file and makes sure its modification time moves
// forward, so that a refresh sees the change even within a clock tick.
func writePAC(t *testing.T, path, src string) {
	t.Helper()
	var next time.Time
	if fi, err := os.Stat(path); err == nil {
		next = fi.ModTime().Add(2 * time.Second)
	}
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if !next.IsZero() {
		if err := os.Chtimes(path, next, next); err != nil {
			t.Fatal(err)
		}
	}
}

func pacReturning(body string) string {
	return "function FindProxyForURL(url, host) {\n" + body + "\n}\n"
}

// stopSquid kills the squid behind s, found by its pid file and checked
// against its command line and process group.
func stopSquid(t *testing.T, s *upstream.Server) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Dir, "squid.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		t.Fatalf("squid.pid: %q", b)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(s.Dir)) {
		t.Fatalf("pid %d is not the squid in %s", pid, s.Dir)
	}
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
		t.Fatalf("squid %d does not lead its process group", pid)
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !pollUntil(5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}) {
		t.Fatalf("squid at %s still accepts connections", s.Addr)
	}
}

// ---------------------------------------------------------------------
// Tests

// TestServeClients: curl over HTTP, HTTPS through CONNECT and SOCKS5 with
// remote DNS, and net/http, all DIRECT; and pacd's own pages.
func TestServeClients(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	cert := certFile(t, o)
	src := pacReturning(`  if (dnsDomainIs(host, ".corp.example")) return "PROXY 127.0.0.1:9; DIRECT";
  return "DIRECT";`)
	pacPath := writeFile(t, t.TempDir(), "proxy.pac", src)
	p := startServe(t, "--socks", "127.0.0.1:0", "--pac", pacPath)
	if p.socks == "" {
		t.Fatalf("no SOCKS address in the log:\n%s", p.log)
	}

	curlOK(t, upstream.Body, "-x", p.proxyURL(), o.URL("/index.txt"))
	curlOK(t, upstream.Body, "-x", p.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt"))
	curlOK(t, upstream.Body, "--socks5-hostname", p.socks, "http://localhost:"+portOf(t, o.Addr())+"/index.txt")
	curlOK(t, upstream.Body, "-x", "socks5h://"+p.socks, "--cacert", cert, o.TLSURL("/index.txt"))
	c := proxyClient(t, p.proxyURL(), o.CertPool())
	for _, u := range []string{o.URL("/index.txt"), o.TLSURL("/index.txt")} {
		if resp, body := fetch(t, c, u); resp.StatusCode != http.StatusOK || body != upstream.Body {
			t.Errorf("net/http GET %s: %s %q", u, resp.Status, body)
		}
	}
	if via := viaOf(t, c, o.HTTP.URL); !strings.HasPrefix(via, "1.1 pacd-") {
		t.Errorf("Via %q, want pacd's", via)
	}

	resp, body := page(t, p.http, "/proxy.pac")
	if resp.Header.Get("Content-Type") != "application/x-ns-proxy-autoconfig" || body != src {
		t.Errorf("/proxy.pac: %s, %q; want application/x-ns-proxy-autoconfig and the PAC file", resp.Header.Get("Content-Type"), body)
	}
	// Tunnels are counted when they end, which may be just after curl
	// exits.
	if m, ok := metricsWith(t, p.http, `pacd_requests_total{kind="http",code="200"}`, `pacd_requests_total{kind="connect",code="200"}`,
		`pacd_requests_total{kind="socks",code="200"}`, "pacd_pac_loaded 1"); !ok {
		t.Errorf("/metrics lacks a count:\n%s", m)
	}
	st := statusOf(t, p.http, "https://build.corp.example/x")
	if st.Query == nil || st.Query.Decision != "PROXY 127.0.0.1:9; DIRECT" || st.PAC == nil || !st.PAC.Loaded || st.PAC.Location != pacPath {
		t.Errorf("/status: query %+v, pac %+v", st.Query, st.PAC)
	}
	if !p.waitLog("msg=request") || !strings.Contains(p.log.String(), "kind=socks") {
		t.Errorf("no request lines in the log")
	}
}

// TestServeSquidAuth: squid with Basic auth as the upstream, with the
// credentials in --proxy, or lent to a PAC answer by --credentials; and a
// PAC answer without them, which gets the client a 407 with the reason.
func TestServeSquidAuth(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	cert := certFile(t, o)
	sq := upstream.StartSquid(t, upstream.SquidOptions{Username: "alice", Password: "s3cret"})
	access := filepath.Join(sq.Dir, "access.log")
	toSquid := writeFile(t, t.TempDir(), "squid.pac", pacReturning(`return "PROXY `+sq.Addr+`";`))

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"proxy", []string{"--proxy", sq.URL().String()}},
		{"pac and credentials", []string{"--pac", toSquid, "--credentials", sq.URL().String()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startServe(t, append([]string{"--proxy-loopback", "--socks", "127.0.0.1:0"}, tc.args...)...)
			if via := viaOf(t, proxyClient(t, p.proxyURL(), nil), o.HTTP.URL); !strings.Contains(via, "pacd-upstream-squid") {
				t.Errorf("Via %q, want squid's", via)
			}
			curlOK(t, upstream.Body, "-x", p.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt"))
			curlOK(t, upstream.Body, "--socks5-hostname", p.socks, o.URL("/index.txt"))
			for _, want := range []string{"GET " + o.URL("/echo") + " alice", "CONNECT " + o.TLSAddr() + " alice", "CONNECT " + o.Addr() + " alice"} {
				if !logMentions(access, want) {
					t.Errorf("squid's access.log lacks %q", want)
				}
			}
			if strings.Contains(p.log.String(), "s3cret") {
				t.Errorf("pacd logged the upstream's password")
			}
		})
	}
	t.Run("no credentials", func(t *testing.T) {
		p := startServe(t, "--proxy-loopback", "--pac", toSquid)
		c, resp := connectTo(t, p.http, o.TLSAddr())
		c.Close()
		if reason := resp.Header.Get("X-Pacd-Error"); resp.StatusCode != http.StatusProxyAuthRequired || !strings.Contains(reason, "requires credentials") {
			t.Errorf("CONNECT: %s, reason %q; want 407 saying the proxy requires credentials", resp.Status, reason)
		}
		r := curl(t, "-x", p.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt"))
		if r.connect != http.StatusProxyAuthRequired {
			t.Errorf("curl https: CONNECT status %d, want 407", r.connect)
		}
		if r := curl(t, "-x", p.proxyURL(), o.URL("/index.txt")); r.status != http.StatusProxyAuthRequired {
			t.Errorf("curl http: status %d, want 407", r.status)
		}
	})
}

// TestServePACPerHost: a PAC file sends localhost to squid, 127.0.0.1 to
// microsocks and the rest (an origin on ::1) DIRECT.
func TestServePACPerHost(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	sq := upstream.StartSquid(t, upstream.SquidOptions{Username: "alice", Password: "pw"})
	ms := upstream.StartMicrosocks(t, upstream.MicrosocksOptions{})
	pacPath := writeFile(t, t.TempDir(), "proxy.pac", pacReturning(`  if (host == "localhost") return "PROXY `+sq.Addr+`";
  if (shExpMatch(host, "127.*")) return "SOCKS5 `+ms.Addr+`";
  return "DIRECT";`))
	p := startServe(t, "--proxy-loopback", "--pac", pacPath, "--credentials", sq.URL().String())
	c := proxyClient(t, p.proxyURL(), nil)
	originPort := portOf(t, o.Addr())
	socksLog := filepath.Join(ms.Dir, "microsocks.out")

	if via := viaOf(t, c, "http://localhost:"+originPort); !strings.Contains(via, "pacd-upstream-squid") {
		t.Errorf("localhost: Via %q, want squid's", via)
	}
	if !logMentions(filepath.Join(sq.Dir, "access.log"), "GET http://localhost:"+originPort+"/echo alice") {
		t.Errorf("squid did not carry the localhost request")
	}
	if via := viaOf(t, c, o.HTTP.URL); strings.Contains(via, "squid") {
		t.Errorf("127.0.0.1: Via %q, want no squid", via)
	}
	curlOK(t, upstream.Body, "-x", p.proxyURL(), "--cacert", certFile(t, o), o.TLSURL("/index.txt"))
	for _, want := range []string{"connected to " + o.Addr(), "connected to " + o.TLSAddr()} {
		if !logMentions(socksLog, want) {
			b, _ := os.ReadFile(socksLog)
			t.Errorf("microsocks.out lacks %q:\n%s", want, b)
		}
	}

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
	if via := viaOf(t, c, o6.URL); strings.Contains(via, "squid") || !strings.Contains(via, "pacd-") {
		t.Errorf("[::1]: Via %q, want pacd's alone", via)
	}
	if b, _ := os.ReadFile(socksLog); strings.Contains(string(b), ":"+portOf(t, ln.Addr().String())) {
		t.Errorf("the DIRECT request went through microsocks:\n%s", b)
	}
	for u, want := range map[string]string{
		o6.URL + "/":                    "DIRECT",
		"http://localhost:1/":           "PROXY " + sq.Addr,
		"https://127.0.0.1/":            "SOCKS5 " + ms.Addr,
		"http://www.example.invalid/a/": "DIRECT",
	} {
		if st := statusOf(t, p.http, u); st.Query == nil || st.Query.Decision != want {
			t.Errorf("/status?url=%s: %+v, want %s", u, st.Query, want)
		}
	}
}

// TestServeFailover: PAC "PROXY A; PROXY B"; A is killed mid-run and the
// next requests go through B.
func TestServeFailover(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	a := upstream.StartSquid(t, upstream.SquidOptions{})
	b := upstream.StartSquid(t, upstream.SquidOptions{})
	pacPath := writeFile(t, t.TempDir(), "proxy.pac", pacReturning(`return "PROXY `+a.Addr+`; PROXY `+b.Addr+`";`))
	p := startServe(t, "--proxy-loopback", "--pac", pacPath)
	c := proxyClient(t, p.proxyURL(), nil)
	cert := certFile(t, o)

	viaOf(t, c, o.HTTP.URL)
	if !logMentions(filepath.Join(a.Dir, "access.log"), "GET "+o.URL("/echo")) {
		t.Fatalf("the first request did not go through A")
	}
	stopSquid(t, a)
	for range 3 {
		if via := viaOf(t, c, o.HTTP.URL); !strings.Contains(via, "squid") {
			t.Errorf("after A died: Via %q, want squid B's", via)
		}
		curlOK(t, upstream.Body, "-x", p.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt"))
	}
	blog := filepath.Join(b.Dir, "access.log")
	if !logMentions(blog, "GET "+o.URL("/echo")) || !logMentions(blog, "CONNECT "+o.TLSAddr()) {
		bb, _ := os.ReadFile(blog)
		t.Errorf("squid B did not carry the requests:\n%s", bb)
	}
	if st := statusOf(t, p.http, ""); len(st.BadProxies) != 1 || !strings.Contains(st.BadProxies[0].Proxy, a.Addr) {
		t.Errorf("/status bad_proxies %+v, want A", st.BadProxies)
	}
	if _, m := page(t, p.http, "/metrics"); !strings.Contains(m, "pacd_bad_proxies 1") {
		t.Errorf("/metrics does not count A as bad:\n%s", m)
	}
}

// TestServePACRefresh: the PAC file changes under a running pacd with a
// short --pac-refresh. An open tunnel keeps carrying bytes; new requests
// follow the new script.
func TestServePACRefresh(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	echo := echoServer(t)
	sq := upstream.StartSquid(t, upstream.SquidOptions{})
	pacPath := filepath.Join(t.TempDir(), "proxy.pac")
	writePAC(t, pacPath, pacReturning(`return "DIRECT";`))
	p := startServe(t, "--proxy-loopback", "--pac", pacPath, "--pac-refresh", "200ms")
	c := proxyClient(t, p.proxyURL(), nil)
	if via := viaOf(t, c, o.HTTP.URL); strings.Contains(via, "squid") {
		t.Fatalf("before the change: Via %q, want DIRECT", via)
	}
	old := openTunnel(t, p.http, echo)
	if err := roundTrip(old, "before"); err != nil {
		t.Fatal(err)
	}

	writePAC(t, pacPath, pacReturning(`  // now through squid
  return "PROXY `+sq.Addr+`";`))
	if !pollUntil(5*time.Second, func() bool {
		st := statusOf(t, p.http, "http://x.example/")
		return st.Query != nil && st.Query.Decision == "PROXY "+sq.Addr
	}) {
		t.Fatalf("the new PAC file was not picked up:\n%s", p.log)
	}
	for i := range 3 {
		if err := roundTrip(old, fmt.Sprintf("after %d", i)); err != nil {
			t.Errorf("the tunnel opened before the change: %v", err)
		}
	}
	c.Transport.(*http.Transport).CloseIdleConnections()
	if via := viaOf(t, c, o.HTTP.URL); !strings.Contains(via, "pacd-upstream-squid") {
		t.Errorf("after the change: Via %q, want squid's", via)
	}
	if _, body := page(t, p.http, "/proxy.pac"); !strings.Contains(body, "now through squid") {
		t.Errorf("/proxy.pac still serves the old script: %q", body)
	}
	if !p.waitLog(`msg="PAC loaded"`) {
		t.Errorf("no PAC loaded line")
	}
}

// TestServeSIGHUP: SIGHUP reloads the PAC file (with the default, long
// refresh) and rebuilds the configuration; the open tunnel survives. It
// is not parallel: the signal reaches every pacd serve in the process,
// and only this one runs while it does.
func TestServeSIGHUP(t *testing.T) {
	// Keep the process's own SIGHUP disposition from mattering while
	// pacd's handler is not yet (or no longer) registered.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, syscall.SIGHUP)
	defer signal.Stop(guard)

	o := upstream.StartOrigin(t)
	echo := echoServer(t)
	sq := upstream.StartSquid(t, upstream.SquidOptions{})
	pacPath := filepath.Join(t.TempDir(), "proxy.pac")
	writePAC(t, pacPath, pacReturning(`return "DIRECT";`))
	p := startServe(t, "--proxy-loopback", "--pac", pacPath)
	c := proxyClient(t, p.proxyURL(), nil)
	old := openTunnel(t, p.http, echo)
	if err := roundTrip(old, "before"); err != nil {
		t.Fatal(err)
	}
	writePAC(t, pacPath, pacReturning(`return "PROXY `+sq.Addr+`";`))

	// pacd registers for SIGHUP just after it logs its addresses: send
	// until it says it reloaded.
	if !pollUntil(5*time.Second, func() bool {
		syscall.Kill(os.Getpid(), syscall.SIGHUP)
		return pollUntil(200*time.Millisecond, func() bool { return strings.Contains(p.log.String(), "msg=reloaded") })
	}) {
		t.Fatalf("pacd serve did not reload on SIGHUP:\n%s", p.log)
	}
	if err := roundTrip(old, "after"); err != nil {
		t.Errorf("the tunnel opened before the reload: %v", err)
	}
	if via := viaOf(t, c, o.HTTP.URL); !strings.Contains(via, "pacd-upstream-squid") {
		t.Errorf("after SIGHUP: Via %q, want squid's", via)
	}

	// A configuration that no longer builds keeps the old one.
	writePAC(t, pacPath, "function FindProxyForURL(url, host) { return 'DIRECT' +; }\n")
	n := strings.Count(p.log.String(), "PAC check failed")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	if !pollUntil(5*time.Second, func() bool { return strings.Count(p.log.String(), "PAC check failed") > n }) {
		t.Errorf("a broken PAC file on SIGHUP was not reported")
	}
	if via := viaOf(t, c, o.HTTP.URL); !strings.Contains(via, "pacd-upstream-squid") {
		t.Errorf("after a broken PAC: Via %q, want the last good script's squid", via)
	}
}

// TestServePACURLDown: the PAC comes from a URL that starts failing (500)
// and then goes away; pacd keeps the last good script and /status says
// what went wrong.
func TestServePACURLDown(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	sq := upstream.StartSquid(t, upstream.SquidOptions{})
	src := pacReturning(`  if (host == "localhost") return "PROXY ` + sq.Addr + `";
  return "DIRECT";`)
	var failing atomic.Bool
	var fetches atomic.Int64
	pacSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if failing.Load() {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/x-ns-proxy-autoconfig")
		io.WriteString(w, src)
	}))
	closed := false
	defer func() {
		if !closed {
			pacSrv.Close()
		}
	}()
	pacURL := pacSrv.URL + "/proxy.pac"
	p := startServe(t, "--proxy-loopback", "--pac", pacURL, "--pac-refresh", "200ms")
	c := proxyClient(t, p.proxyURL(), nil)
	local := "http://localhost:" + portOf(t, o.Addr())
	check := func(when string) {
		t.Helper()
		c.Transport.(*http.Transport).CloseIdleConnections()
		if via := viaOf(t, c, local); !strings.Contains(via, "pacd-upstream-squid") {
			t.Errorf("%s: localhost Via %q, want squid's (the last good PAC)", when, via)
		}
		if via := viaOf(t, c, o.HTTP.URL); strings.Contains(via, "squid") {
			t.Errorf("%s: 127.0.0.1 Via %q, want DIRECT", when, via)
		}
		if _, body := page(t, p.http, "/proxy.pac"); body != src {
			t.Errorf("%s: /proxy.pac %q, want the last good script", when, body)
		}
	}
	check("at first")
	if st := statusOf(t, p.http, ""); st.PAC == nil || !st.PAC.Loaded || st.PAC.Location != pacURL || st.PAC.Failures != 0 {
		t.Fatalf("/status pac at first: %+v", st.PAC)
	}

	failing.Store(true)
	var st serveStatus
	if !pollUntil(5*time.Second, func() bool {
		st = statusOf(t, p.http, "")
		return st.PAC != nil && st.PAC.Failures >= 2
	}) {
		t.Fatalf("/status pac while the URL answers 500: %+v", st.PAC)
	}
	if !st.PAC.Loaded || !strings.Contains(st.PAC.LastError, "500") {
		t.Errorf("/status pac while the URL answers 500: %+v, want loaded and the 500 in last_error", st.PAC)
	}
	check("while the URL answers 500")

	pacSrv.Close()
	closed = true
	if !pollUntil(5*time.Second, func() bool {
		st = statusOf(t, p.http, "")
		return st.PAC != nil && st.PAC.Failures >= 4 && !strings.Contains(st.PAC.LastError, "500")
	}) {
		t.Fatalf("/status pac after the URL went away: %+v", st.PAC)
	}
	if !st.PAC.Loaded || st.PAC.LastError == "" {
		t.Errorf("/status pac after the URL went away: %+v", st.PAC)
	}
	check("after the URL went away")
	_, m := page(t, p.http, "/metrics")
	if !strings.Contains(m, "pacd_pac_loaded 1") || regexp.MustCompile(`pacd_pac_failures [1-9]`).FindString(m) == "" {
		t.Errorf("/metrics does not show the PAC failures:\n%s", m)
	}
	if _, body := page(t, p.http, "/status"); !strings.Contains(body, "last check failed") {
		t.Errorf("the /status page does not show the failure")
	}
	if !p.waitLog(`msg="PAC check failed"`) {
		t.Errorf("no PAC check failed line in the log")
	}
}

// TestServeAuth: --auth makes HTTP clients send Proxy-Authorization and
// SOCKS5 clients log in.
func TestServeAuth(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	cert := certFile(t, o)
	p := startServe(t, "--auth", "alice:pw1", "--socks", "127.0.0.1:0")
	if r := curl(t, "-x", p.proxyURL(), o.URL("/index.txt")); r.status != http.StatusProxyAuthRequired {
		t.Errorf("HTTP without credentials: %d, want 407", r.status)
	}
	if r := curl(t, "-x", p.proxyURL(), "--cacert", cert, o.TLSURL("/index.txt")); r.connect != http.StatusProxyAuthRequired {
		t.Errorf("CONNECT without credentials: %d, want 407", r.connect)
	}
	if r := curl(t, "-x", "http://alice:nope@"+p.http, o.URL("/index.txt")); r.status != http.StatusProxyAuthRequired {
		t.Errorf("HTTP with a wrong password: %d, want 407", r.status)
	}
	curlOK(t, upstream.Body, "-x", "http://alice:pw1@"+p.http, o.URL("/index.txt"))
	curlOK(t, upstream.Body, "-x", "http://alice:pw1@"+p.http, "--cacert", cert, o.TLSURL("/index.txt"))
	if r := curl(t, "--socks5-hostname", p.socks, o.URL("/index.txt")); r.exit == 0 {
		t.Errorf("SOCKS5 without a login worked")
	}
	if r := curl(t, "-x", "socks5h://alice:nope@"+p.socks, o.URL("/index.txt")); r.exit == 0 {
		t.Errorf("SOCKS5 with a wrong password worked")
	}
	curlOK(t, upstream.Body, "-x", "socks5h://alice:pw1@"+p.socks, o.URL("/index.txt"))
	c := proxyClient(t, "http://alice:pw1@"+p.http, o.CertPool())
	if resp, body := fetch(t, c, o.TLSURL("/index.txt")); resp.StatusCode != http.StatusOK || body != upstream.Body {
		t.Errorf("net/http with credentials: %s %q", resp.Status, body)
	}
	if strings.Contains(p.log.String(), "pw1") {
		t.Errorf("pacd logged the client password")
	}
}

// TestServeLoop: a request for pacd itself through pacd is refused.
func TestServeLoop(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--socks", "127.0.0.1:0")
	for _, target := range []string{"http://" + p.http + "/status", "http://localhost:" + portOf(t, p.http) + "/metrics", "http://" + p.socks + "/"} {
		if r := curl(t, "-x", p.proxyURL(), target); r.status != http.StatusLoopDetected {
			t.Errorf("curl -x pacd %s: %d, want 508", target, r.status)
		}
	}
	if r := curl(t, "-x", p.proxyURL(), "--proxytunnel", "http://"+p.http+"/status"); r.connect != http.StatusLoopDetected {
		t.Errorf("CONNECT to itself: %d, want 508", r.connect)
	}
	if r := curl(t, "--socks5-hostname", p.socks, "http://"+p.http+"/status"); r.exit == 0 {
		t.Errorf("SOCKS5 to itself worked: status %d", r.status)
	}
}

// TestServeAllDown: every upstream refuses connections: 502, with the
// reason.
func TestServeAllDown(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	d1, d2 := upstream.ClosedAddr(t), upstream.ClosedAddr(t)
	pacPath := writeFile(t, t.TempDir(), "proxy.pac", pacReturning(`return "PROXY `+d1+`; SOCKS5 `+d2+`";`))
	p := startServe(t, "--proxy-loopback", "--pac", pacPath)
	if r := curl(t, "-x", p.proxyURL(), o.URL("/index.txt")); r.status != http.StatusBadGateway {
		t.Errorf("GET: %d %q, want 502", r.status, r.body)
	}
	c, resp := connectTo(t, p.http, o.TLSAddr())
	c.Close()
	if reason := resp.Header.Get("X-Pacd-Error"); resp.StatusCode != http.StatusBadGateway || !strings.Contains(reason, d1) || !strings.Contains(reason, d2) {
		t.Errorf("CONNECT: %s, reason %q; want 502 naming both proxies", resp.Status, reason)
	}
	if m, ok := metricsWith(t, p.http, `pacd_requests_total{kind="connect",code="502"} 1`); !ok {
		t.Errorf("/metrics does not count the 502:\n%s", m)
	}
}

// TestServeShutdown: when the context ends, pacd stops accepting, lets an
// open tunnel work during --drain, and returns at the drain timeout.
func TestServeShutdown(t *testing.T) {
	t.Parallel()
	echo := echoServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &serveBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--no-env", "--listen", "127.0.0.1:0", "--socks", "127.0.0.1:0", "--drain", "1s"}, strings.NewReader(""), io.Discard, log)
	}()
	var m []string
	if !pollUntil(10*time.Second, func() bool { m = servingLine.FindStringSubmatch(log.String()); return m != nil }) {
		t.Fatalf("pacd serve did not start:\n%s", log)
	}
	tun := openTunnel(t, m[1], echo)
	if err := roundTrip(tun, "before"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cancel()
	if !pollUntil(2*time.Second, func() bool { return strings.Contains(log.String(), "shutting down") }) {
		t.Fatalf("no shutting down line:\n%s", log)
	}
	time.Sleep(100 * time.Millisecond)
	if err := roundTrip(tun, "draining"); err != nil {
		t.Errorf("the tunnel while draining: %v", err)
	}
	for _, a := range []string{m[1], m[2]} {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("%s accepts connections while shutting down", a)
		}
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d, want 0", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("pacd serve did not return %v after its context ended, with --drain 1s", time.Since(start))
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Errorf("returned after %v, before --drain with a tunnel open", el)
	}
	if !strings.Contains(log.String(), "msg=stopped") {
		t.Errorf("no stopped line:\n%s", log)
	}
	if err := roundTrip(tun, "after"); err == nil {
		t.Errorf("the tunnel still works after pacd serve returned")
	}
}

// TestServeUsage: settings that would make pacd an open proxy, or that do
// not parse, are refused before anything listens.
func TestServeUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "0.0.0.0:0"}, "not loopback"},
		{[]string{"--listen", "127.0.0.1:0", "--socks", "[::]:0"}, "not loopback"},
		{[]string{"--auth", "nocolon"}, "--auth"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--allow", "not-a-network"}, "allow"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"--proxy", "gopher://x:1"}, "gopher"},
	} {
		var errb serveBuffer
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		code := run(ctx, append([]string{"serve", "--no-env"}, tc.args...), strings.NewReader(""), io.Discard, &errb)
		cancel()
		if code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("pacd serve %s: exit %d, stderr %q; want 2 and %q", strings.Join(tc.args, " "), code, errb.String(), tc.want)
		}
	}
}
