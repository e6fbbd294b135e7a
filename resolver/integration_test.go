package resolver_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacd/pacd/internal/upstream"
	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/resolver"
)

// The integration tests run the resolver against the real daemons of
// internal/upstream (squid, tinyproxy, dante, microsocks) on loopback
// ports picked at run time, with real clients: http.Client over
// Resolver.Transport, Resolver.DialContext for raw streams, and
// http.Transport over Resolver.ProxyFunc. The origins are on 127.0.0.1,
// which the implicit rule sends DIRECT, so every test that means to go
// through a proxy sets Config.ProxyLoopback, as a user would.
//
// Every connection the resolver makes goes through a dialLog, which
// records it (the proof of where a request went) and refuses anything
// that is not loopback.

const itTimeout = 10 * time.Second

// dialLog is a Config.Dial that records the address of every TCP
// connection the resolver makes and allows loopback only.
type dialLog struct {
	mu    sync.Mutex
	addrs []string
}

func (l *dialLog) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	l.mu.Lock()
	l.addrs = append(l.addrs, addr)
	l.mu.Unlock()
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if a, err := netip.ParseAddr(host); (err != nil || !a.IsLoopback()) && host != "localhost" {
		return nil, fmt.Errorf("integration test: refusing to dial %s, which is not loopback", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// take returns the addresses dialed since the last take.
func (l *dialLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.addrs
	l.addrs = nil
	return a
}

// logBuffer collects what the resolver logs, to check that no password
// ever appears there.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// itResolver builds a resolver for cfg with a fresh dialLog (unless cfg
// has a Dial already) and loopback proxying on.
func itResolver(t *testing.T, cfg resolver.Config) (*resolver.Resolver, *dialLog) {
	t.Helper()
	log := &dialLog{}
	if cfg.Dial == nil {
		cfg.Dial = log.dial
	}
	cfg.ProxyLoopback = true
	return mustNew(t, &cfg), log
}

// pacAnswer is a real PAC script (compiled by package pac) that answers
// answer for every URL.
func pacAnswer(t *testing.T, answer string) resolver.Evaluator {
	t.Helper()
	s, err := pac.Compile(`function FindProxyForURL(url, host) { return `+strconv.Quote(answer)+`; }`, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// client is an http.Client over r's Transport that trusts roots for the
// origins' TLS and opens a new connection for every request, so that
// the dialLog sees each one.
func client(t *testing.T, r *resolver.Resolver, roots *x509.CertPool) (*http.Client, *resolver.Transport) {
	t.Helper()
	tr := r.TransportFrom(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: true})
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: itTimeout}, tr
}

// proxyFuncClient is an http.Client over a plain http.Transport whose
// Proxy is r.ProxyFunc(): net/http itself speaks to the proxy.
func proxyFuncClient(t *testing.T, r *resolver.Resolver, roots *x509.CertPool) *http.Client {
	t.Helper()
	tr := &http.Transport{Proxy: r.ProxyFunc(), TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: itTimeout}
}

// get GETs target and returns the response (body read and closed) and the
// body; it fails the test on an error.
func get(t *testing.T, c *http.Client, target string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(target)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", target, err)
	}
	return resp, string(body)
}

// wantIndex GETs target, an origin's /index.txt, and checks that the
// origin's body came back. It returns the response.
func wantIndex(t *testing.T, c *http.Client, target string) *http.Response {
	t.Helper()
	resp, body := get(t, c, target)
	if resp.StatusCode != http.StatusOK || body != upstream.Body {
		t.Fatalf("GET %s = %s, %.200q; want 200, %q", target, resp.Status, body, upstream.Body)
	}
	return resp
}

// echo GETs target, an origin's /echo, and returns what the origin saw.
func echo(t *testing.T, c *http.Client, target string) upstream.Echo {
	t.Helper()
	resp, body := get(t, c, target)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %s, %.200q", target, resp.Status, body)
	}
	var e upstream.Echo
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("GET %s: decoding the echo: %v", target, err)
	}
	return e
}

// wantVia checks that the response came through the daemon kind ("squid",
// "tinyproxy"), by the Via header it adds.
func wantVia(t *testing.T, resp *http.Response, kind string) {
	t.Helper()
	if via := resp.Header.Get("Via"); !strings.Contains(via, "("+kind+"/") {
		t.Errorf("%s %s: Via %q, want one from %s", resp.Request.Method, resp.Request.URL, via, kind)
	}
}

// rawIndex speaks HTTP/1.1 by hand over c, a stream to the origin at
// host (through TLS first if roots is not nil), and checks that
// /index.txt comes back.
func rawIndex(t *testing.T, c net.Conn, host string, roots *x509.CertPool) {
	t.Helper()
	defer c.Close()
	c.SetDeadline(time.Now().Add(itTimeout))
	if roots != nil {
		tc := tls.Client(c, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
		if err := tc.Handshake(); err != nil {
			t.Fatalf("TLS to the origin through the stream: %v", err)
		}
		c = tc
	}
	fmt.Fprintf(c, "GET /index.txt HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET /index.txt over the stream: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != upstream.Body {
		t.Fatalf("GET /index.txt over the stream = %s, %q; want 200, %q", resp.Status, body, upstream.Body)
	}
}

// dialIndex opens a stream to target with r.DialContext and fetches
// /index.txt over it.
func dialIndex(t *testing.T, r *resolver.Resolver, target string, roots *x509.CertPool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), itTimeout)
	defer cancel()
	c, err := r.DialContext(ctx, "tcp", target)
	if err != nil {
		t.Fatalf("DialContext %s: %v", target, err)
	}
	rawIndex(t, c, target, roots)
}

// dialErr is the error of r.DialContext to target, which must fail.
func dialErr(t *testing.T, r *resolver.Resolver, target string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), itTimeout)
	defer cancel()
	c, err := r.DialContext(ctx, "tcp", target)
	if err == nil {
		c.Close()
		t.Fatalf("DialContext %s succeeded, want an error", target)
	}
	return err
}

// wantAuthError checks that err is a clear credentials error from the
// proxy at proxyAddr: a *ProxyAuthError (not a failure to reach the proxy)
// with the given HadCreds and status, whose message names the proxy and
// says what went wrong, and which shows none of secrets.
func wantAuthError(t *testing.T, err error, proxyAddr string, hadCreds bool, status int, secrets ...string) *resolver.ProxyAuthError {
	t.Helper()
	var ae *resolver.ProxyAuthError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T), want a *resolver.ProxyAuthError", err, err)
	}
	var re *resolver.ReachError
	if errors.As(err, &re) || errors.Is(err, resolver.ErrAllProxiesFailed) {
		t.Errorf("error %v: a refusal reads as a proxy that could not be reached", err)
	}
	if ae.HadCreds != hadCreds || ae.Status != status || ae.Proxy.Addr() != proxyAddr || ae.Proxy.HasCredentials() {
		t.Errorf("ProxyAuthError = %+v, want HadCreds %v, Status %d, proxy %s without credentials", ae, hadCreds, status, proxyAddr)
	}
	msg := err.Error()
	what := "requires credentials"
	if hadCreds {
		what = "rejected the credentials"
	}
	if !strings.Contains(msg, proxyAddr) || !strings.Contains(msg, what) {
		t.Errorf("error %q, want it to name %s and say %q", msg, proxyAddr, what)
	}
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("error %q shows the password %q", msg, s)
		}
	}
	return ae
}

// wantRefused checks that err is a *ProxyRefusedError from the proxy at
// proxyAddr whose reason contains reason.
func wantRefused(t *testing.T, err error, proxyAddr, reason string) *resolver.ProxyRefusedError {
	t.Helper()
	var pe *resolver.ProxyRefusedError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want a *resolver.ProxyRefusedError", err, err)
	}
	var re *resolver.ReachError
	if errors.As(err, &re) || errors.Is(err, resolver.ErrAllProxiesFailed) {
		t.Errorf("error %v: a refusal reads as a proxy that could not be reached", err)
	}
	if pe.Proxy.Addr() != proxyAddr || !strings.Contains(pe.Reason, reason) || !strings.Contains(err.Error(), proxyAddr) {
		t.Errorf("ProxyRefusedError %q (%+v), want one from %s with a reason containing %q", err, pe, proxyAddr, reason)
	}
	return pe
}

// wantBad checks that exactly the proxies want ("http://127.0.0.1:1")
// are tried last.
func wantBad(t *testing.T, r *resolver.Resolver, want ...string) {
	t.Helper()
	var got []string
	for _, b := range r.BadProxies() {
		got = append(got, b.Proxy.String())
		if until := time.Until(b.Until); until <= 0 || until > 5*time.Minute {
			t.Errorf("BadProxies: %s is tried last for %v, want up to the 5 minute retry interval", b.Proxy, until)
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("BadProxies = %q, want %q", got, want)
	}
}

// wantDials checks the addresses dialed since the last take.
func wantDials(t *testing.T, log *dialLog, want ...string) {
	t.Helper()
	if got := log.take(); !slices.Equal(got, want) {
		t.Errorf("dialed %q, want %q", got, want)
	}
}

// withHost replaces the host of addr ("127.0.0.1:port") by host.
func withHost(addr, host string) string {
	_, port, _ := net.SplitHostPort(addr)
	return net.JoinHostPort(host, port)
}

// originAndProxyPool returns a pool with the certificates of o's HTTPS
// server and of s's TLS port, for net/http, which trusts one pool for the
// proxy and the origin.
func originAndProxyPool(o *upstream.Origin, s *upstream.Server) *x509.CertPool {
	p := o.CertPool()
	p.AppendCertsFromPEM(s.CertPEM)
	return p
}

// relay is a TCP forwarder on 127.0.0.1 in front of a daemon: it counts
// the connections it accepts and keeps the first bytes each client sent,
// so that a test can see which proxy was touched and what it was asked.
type relay struct {
	Addr    string
	accepts atomic.Int32
	mu      sync.Mutex
	sent    []*bytes.Buffer
}

func startRelay(t *testing.T, backend string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl := &relay{Addr: ln.Addr().String()}
	var wg sync.WaitGroup
	var cmu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		cmu.Lock()
		conns = append(conns, c)
		cmu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			rl.accepts.Add(1)
			track(c)
			buf := &bytes.Buffer{}
			rl.mu.Lock()
			rl.sent = append(rl.sent, buf)
			rl.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				up, err := net.DialTimeout("tcp4", backend, itTimeout)
				if err != nil {
					return
				}
				track(up)
				defer up.Close()
				done := make(chan struct{})
				go func() {
					io.Copy(c, up)
					c.(*net.TCPConn).CloseWrite()
					close(done)
				}()
				io.Copy(io.MultiWriter(up, &capWriter{rl, buf}), c)
				up.(*net.TCPConn).CloseWrite()
				<-done
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		cmu.Lock()
		for _, c := range conns {
			c.Close()
		}
		cmu.Unlock()
		wg.Wait()
	})
	return rl
}

// lastSent returns the first bytes the client of the last connection
// sent.
func (rl *relay) lastSent() []byte {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if len(rl.sent) == 0 {
		return nil
	}
	return bytes.Clone(rl.sent[len(rl.sent)-1].Bytes())
}

// capWriter keeps the first 512 bytes written, under the relay's lock.
type capWriter struct {
	rl  *relay
	buf *bytes.Buffer
}

func (w *capWriter) Write(p []byte) (int, error) {
	w.rl.mu.Lock()
	defer w.rl.mu.Unlock()
	if n := 512 - w.buf.Len(); n > 0 {
		w.buf.Write(p[:min(n, len(p))])
	}
	return len(p), nil
}

// socks5Request is the SOCKS5 CONNECT request for the address as sent:
// atyp 1 (IPv4) or 3 (a name).
func socks5Request(host string, port uint16) []byte {
	req := []byte{5, 1, 0}
	if a, err := netip.ParseAddr(host); err == nil && a.Is4() {
		b := a.As4()
		req = append(append(req, 1), b[:]...)
	} else {
		req = append(append(req, 3, byte(len(host))), host...)
	}
	return binary.BigEndian.AppendUint16(req, port)
}

func portOf(t *testing.T, addr string) uint16 {
	t.Helper()
	_, ps, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(n)
}

// TestIntegrationSquid runs plain HTTP, CONNECT and HTTPS-proxy traffic
// through a squid without authentication.
func TestIntegrationSquid(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	s := upstream.StartSquid(t, upstream.SquidOptions{TLS: true})
	proxy := "http://" + s.Addr

	t.Run("http GET in absolute form", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{Proxy: proxy})
		c, tr := client(t, r, nil)
		wantVia(t, wantIndex(t, c, o.URL("/index.txt")), "squid")
		wantDials(t, log, s.Addr)
		// The origin saw squid's request: a Via, and the path only
		// (squid turned the absolute form into origin form).
		e := echo(t, c, o.URL("/echo"))
		if !strings.Contains(e.Header.Get("Via"), "squid") || e.RequestURI != "/echo" || e.Host != o.Addr() {
			t.Errorf("origin saw %+v, want squid's forwarded request", e)
		}
		// And the Transport says what carried the request.
		req, _ := http.NewRequest(http.MethodGet, o.URL("/index.txt"), nil)
		d, err := r.Resolve(context.Background(), req.URL)
		if err != nil || d.Source != resolver.FromProxy {
			t.Fatalf("Resolve = %v, %v", d, err)
		}
		resp, p, err := tr.RoundTripDecision(req, d)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if p.String() != proxy {
			t.Errorf("RoundTripDecision carried it through %s, want %s", p, proxy)
		}
	})

	t.Run("https through CONNECT", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{Proxy: proxy})
		c, _ := client(t, r, o.CertPool())
		resp := wantIndex(t, c, o.TLSURL("/index.txt"))
		if resp.TLS == nil {
			t.Errorf("GET %s did not use TLS to the origin", o.TLSURL("/index.txt"))
		}
		// A tunnel: squid sees neither the request nor its headers.
		if e := echo(t, c, o.TLSURL("/echo")); !e.TLS || e.Header.Get("Via") != "" {
			t.Errorf("origin saw %+v, want a TLS request without Via", e)
		}
		wantDials(t, log, s.Addr, s.Addr)
	})

	t.Run("DialContext CONNECT", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{Proxy: proxy})
		dialIndex(t, r, o.Addr(), nil)
		dialIndex(t, r, o.TLSAddr(), o.CertPool())
		wantDials(t, log, s.Addr, s.Addr)
	})

	t.Run("ProxyFunc", func(t *testing.T) {
		t.Parallel()
		r, _ := itResolver(t, resolver.Config{Proxies: map[string]string{"all": proxy}})
		c := proxyFuncClient(t, r, o.CertPool())
		wantVia(t, wantIndex(t, c, o.URL("/index.txt")), "squid")
		wantIndex(t, c, o.TLSURL("/index.txt"))
	})

	t.Run("CONNECT to a closed port is a refusal", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "PROXY "+s.Addr+"; DIRECT")})
		closed := upstream.ClosedAddr(t)
		pe := wantRefused(t, dialErr(t, r, closed), s.Addr, "")
		if pe.Status < 500 || pe.Target != closed {
			t.Errorf("ProxyRefusedError = %+v, want squid's 5xx for %s", pe, closed)
		}
		// squid answered: no DIRECT attempt, and squid is not "bad".
		wantDials(t, log, s.Addr)
		wantBad(t, r)
	})

	t.Run("HTTPS proxy", func(t *testing.T) {
		t.Parallel()
		tlsProxy := "https://" + s.TLSAddr
		r, log := itResolver(t, resolver.Config{Proxy: tlsProxy, TLSConfig: &tls.Config{RootCAs: s.CertPool()}})
		c, _ := client(t, r, o.CertPool())
		// http: absolute form over TLS to squid.
		wantVia(t, wantIndex(t, c, o.URL("/index.txt")), "squid")
		// https: CONNECT over TLS to squid, then TLS to the origin inside.
		wantIndex(t, c, o.TLSURL("/index.txt"))
		dialIndex(t, r, o.TLSAddr(), o.CertPool())
		wantDials(t, log, s.TLSAddr, s.TLSAddr, s.TLSAddr)

		// The same through net/http, which trusts one pool for both.
		r2, _ := itResolver(t, resolver.Config{PAC: pacAnswer(t, "HTTPS "+s.TLSAddr)})
		c2 := proxyFuncClient(t, r2, originAndProxyPool(o, s))
		wantVia(t, wantIndex(t, c2, o.URL("/index.txt")), "squid")
		wantIndex(t, c2, o.TLSURL("/index.txt"))
	})

	t.Run("HTTPS proxy with an untrusted certificate", func(t *testing.T) {
		t.Parallel()
		// The system roots do not know squid's self-signed certificate:
		// the proxy cannot be reached, and nothing else is tried.
		r, log := itResolver(t, resolver.Config{Proxy: "https://" + s.TLSAddr})
		err := dialErr(t, r, o.Addr())
		var re *resolver.ReachError
		var ve *tls.CertificateVerificationError
		if !errors.As(err, &re) || !errors.As(err, &ve) || !errors.Is(err, resolver.ErrAllProxiesFailed) {
			t.Errorf("error %v, want a ReachError for the certificate", err)
		}
		wantDials(t, log, s.TLSAddr)
		wantBad(t, r, "https://"+s.TLSAddr)
	})
}

// TestIntegrationSquidAuth checks Basic proxy authentication against a
// squid that requires it, on its plain and its TLS port.
func TestIntegrationSquidAuth(t *testing.T) {
	t.Parallel()
	const user, pass, wrong = "alice", "s3cret-pw", "n0t-the-pw"
	o := upstream.StartOrigin(t)
	s := upstream.StartSquid(t, upstream.SquidOptions{Username: user, Password: pass, TLS: true})
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if out := logs.String(); strings.Contains(out, pass) || strings.Contains(out, wrong) {
			t.Errorf("the resolver logged a password:\n%s", out)
		}
	})
	squidTLS := &tls.Config{RootCAs: s.CertPool()}
	withCreds := s.URL().String()
	withWrong := s.URLWith(url.UserPassword(user, wrong)).String()

	t.Run("credentials in the proxy URL", func(t *testing.T) {
		t.Parallel()
		for _, proxy := range []string{withCreds, s.TLSURL().String()} {
			r, _ := itResolver(t, resolver.Config{Proxy: proxy, TLSConfig: squidTLS, Logger: logger})
			c, _ := client(t, r, o.CertPool())
			wantVia(t, wantIndex(t, c, o.URL("/index.txt")), "squid")
			wantIndex(t, c, o.TLSURL("/index.txt"))
			dialIndex(t, r, o.Addr(), nil)
			if e := echo(t, c, o.URL("/echo")); e.Header.Get("Proxy-Authorization") != "" {
				t.Errorf("through %s the origin saw Proxy-Authorization", s)
			}
		}
		r, _ := itResolver(t, resolver.Config{Proxy: withCreds, Logger: logger})
		c := proxyFuncClient(t, r, o.CertPool())
		wantIndex(t, c, o.URL("/index.txt"))
		wantIndex(t, c, o.TLSURL("/index.txt"))
	})

	t.Run("a PAC answer borrows Config.Credentials", func(t *testing.T) {
		t.Parallel()
		r, _ := itResolver(t, resolver.Config{PAC: pacAnswer(t, "PROXY "+s.Addr), Credentials: []string{withCreds}, Logger: logger})
		c, _ := client(t, r, o.CertPool())
		wantIndex(t, c, o.URL("/index.txt"))
		wantIndex(t, c, o.TLSURL("/index.txt"))
		dialIndex(t, r, o.Addr(), nil)
	})

	t.Run("missing credentials", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "PROXY "+s.Addr+"; DIRECT"), Logger: logger})
		ae := wantAuthError(t, dialErr(t, r, o.Addr()), s.Addr, false, http.StatusProxyAuthRequired)
		if !strings.Contains(ae.Challenge, `realm="pacd-test"`) {
			t.Errorf("Challenge = %q, want squid's Basic realm", ae.Challenge)
		}
		c, _ := client(t, r, o.CertPool())
		// A plain request is forwarded: squid's 407 is the response.
		resp, _ := get(t, c, o.URL("/index.txt"))
		if resp.StatusCode != http.StatusProxyAuthRequired || !strings.Contains(resp.Header.Get("Proxy-Authenticate"), "Basic") {
			t.Errorf("GET %s = %s %v, want squid's 407", o.URL("/index.txt"), resp.Status, resp.Header)
		}
		// https needs a tunnel, which squid refuses.
		_, err := c.Get(o.TLSURL("/index.txt"))
		wantAuthError(t, err, s.Addr, false, http.StatusProxyAuthRequired)
		// Never DIRECT after squid said no.
		wantDials(t, log, s.Addr, s.Addr, s.Addr)
		wantBad(t, r)
	})

	t.Run("wrong credentials", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{Proxy: withWrong, Logger: logger})
		wantAuthError(t, dialErr(t, r, o.Addr()), s.Addr, true, http.StatusProxyAuthRequired, wrong, pass)
		c, _ := client(t, r, o.CertPool())
		_, err := c.Get(o.TLSURL("/index.txt"))
		wantAuthError(t, err, s.Addr, true, http.StatusProxyAuthRequired, wrong, pass)
		resp, _ := get(t, c, o.URL("/index.txt"))
		if resp.StatusCode != http.StatusProxyAuthRequired {
			t.Errorf("GET %s with a wrong password = %s, want 407", o.URL("/index.txt"), resp.Status)
		}
		wantDials(t, log, s.Addr, s.Addr, s.Addr)

		// The same on the TLS port.
		r, _ = itResolver(t, resolver.Config{Proxy: s.TLSURLWith(url.UserPassword(user, wrong)).String(), TLSConfig: squidTLS, Logger: logger})
		wantAuthError(t, dialErr(t, r, o.TLSAddr()), s.TLSAddr, true, http.StatusProxyAuthRequired, wrong, pass)

		// And the credentials a PAC answer borrowed.
		r, _ = itResolver(t, resolver.Config{PAC: pacAnswer(t, "PROXY "+s.Addr+"; DIRECT"), Credentials: []string{withWrong}, Logger: logger})
		wantAuthError(t, dialErr(t, r, o.Addr()), s.Addr, true, http.StatusProxyAuthRequired, wrong, pass)
	})
}

// TestIntegrationTinyproxy runs traffic through tinyproxy, without and with
// Basic authentication; tinyproxy answers wrong credentials with 401.
func TestIntegrationTinyproxy(t *testing.T) {
	t.Parallel()
	const user, pass, wrong = "tiny", "s3cret-tp", "n0t-the-tp"
	o := upstream.StartOrigin(t)
	open := upstream.StartTinyproxy(t, upstream.TinyproxyOptions{})
	authed := upstream.StartTinyproxy(t, upstream.TinyproxyOptions{Username: user, Password: pass})

	t.Run("plain", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{Proxy: open.URL().String()})
		c, _ := client(t, r, o.CertPool())
		wantVia(t, wantIndex(t, c, o.URL("/index.txt")), "tinyproxy")
		wantIndex(t, c, o.TLSURL("/index.txt"))
		dialIndex(t, r, o.Addr(), nil)
		wantDials(t, log, open.Addr, open.Addr, open.Addr)
		wantIndex(t, proxyFuncClient(t, r, o.CertPool()), o.TLSURL("/index.txt"))
	})

	t.Run("credentials", func(t *testing.T) {
		t.Parallel()
		r, _ := itResolver(t, resolver.Config{Proxy: authed.URL().String()})
		c, _ := client(t, r, o.CertPool())
		wantVia(t, wantIndex(t, c, o.URL("/index.txt")), "tinyproxy")
		wantIndex(t, c, o.TLSURL("/index.txt"))
		dialIndex(t, r, o.TLSAddr(), o.CertPool())
	})

	t.Run("missing credentials", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "PROXY "+authed.Addr+"; DIRECT")})
		wantAuthError(t, dialErr(t, r, o.Addr()), authed.Addr, false, http.StatusProxyAuthRequired)
		wantDials(t, log, authed.Addr)
	})

	t.Run("wrong credentials", func(t *testing.T) {
		t.Parallel()
		// The dead end a leak would take: DIRECT after the refusal.
		r, log := itResolver(t, resolver.Config{
			PAC:         pacAnswer(t, "PROXY "+authed.Addr+"; DIRECT"),
			Credentials: []string{authed.URLWith(url.UserPassword(user, wrong)).String()},
		})
		ae := wantAuthError(t, dialErr(t, r, o.Addr()), authed.Addr, true, http.StatusUnauthorized, wrong, pass)
		if !strings.Contains(ae.Challenge, "Basic") {
			t.Errorf("Challenge = %q, want tinyproxy's WWW-Authenticate", ae.Challenge)
		}
		c, _ := client(t, r, o.CertPool())
		_, err := c.Get(o.TLSURL("/index.txt"))
		wantAuthError(t, err, authed.Addr, true, http.StatusUnauthorized, wrong, pass)
		resp, _ := get(t, c, o.URL("/index.txt"))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong password = %s, want tinyproxy's 401", o.URL("/index.txt"), resp.Status)
		}
		wantDials(t, log, authed.Addr, authed.Addr, authed.Addr)
		wantBad(t, r)
	})
}

// TestIntegrationDante runs SOCKS5 (names resolved by dante or here) and
// SOCKS4 through dante without authentication.
func TestIntegrationDante(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	s := upstream.StartDante(t, upstream.DanteOptions{})
	localhost := withHost(o.Addr(), "localhost")
	port := portOf(t, o.Addr())

	t.Run("socks5h sends the name", func(t *testing.T) {
		t.Parallel()
		rl := startRelay(t, s.Addr) // shows what dante was asked
		r, _ := itResolver(t, resolver.Config{Proxy: "socks5h://" + rl.Addr})
		dialIndex(t, r, localhost, nil)
		want := append([]byte{5, 1, 0}, socks5Request("localhost", port)...)
		if sent := rl.lastSent(); !bytes.HasPrefix(sent, want) {
			t.Errorf("dante was sent % x, want the greeting and a request for the name localhost, % x", sent, want)
		}
		c, _ := client(t, r, o.CertPool())
		wantIndex(t, c, "http://"+localhost+"/index.txt")
		wantIndex(t, c, o.TLSURL("/index.txt"))
	})

	t.Run("socks5 resolves here", func(t *testing.T) {
		t.Parallel()
		rl := startRelay(t, s.Addr) // shows what dante was asked
		r, _ := itResolver(t, resolver.Config{Proxy: "socks5://" + rl.Addr})
		dialIndex(t, r, localhost, nil)
		// localhost is 127.0.0.1 only in the test's /etc/hosts, and the
		// origin listens there.
		want := append([]byte{5, 1, 0}, socks5Request("127.0.0.1", port)...)
		if sent := rl.lastSent(); !bytes.HasPrefix(sent, want) {
			t.Errorf("dante was sent % x, want the greeting and a request for 127.0.0.1, % x", sent, want)
		}
		c, _ := client(t, r, o.CertPool())
		wantIndex(t, c, o.URL("/index.txt"))
		wantIndex(t, c, o.TLSURL("/index.txt"))
		wantIndex(t, proxyFuncClient(t, r, o.CertPool()), o.TLSURL("/index.txt"))
	})

	t.Run("socks4", func(t *testing.T) {
		t.Parallel()
		rl := startRelay(t, s.Addr) // shows what dante was asked
		r, log := itResolver(t, resolver.Config{Proxy: "socks4://pacd@" + rl.Addr})
		// SOCKS4 carries an IPv4 address: localhost is resolved here.
		dialIndex(t, r, localhost, nil)
		want := append([]byte{4, 1, byte(port >> 8), byte(port), 127, 0, 0, 1}, "pacd\x00"...)
		if sent := rl.lastSent(); !bytes.HasPrefix(sent, want) {
			t.Errorf("dante was sent % x, want the SOCKS4 request % x", sent, want)
		}
		c, _ := client(t, r, o.CertPool())
		wantIndex(t, c, o.URL("/index.txt"))
		wantIndex(t, c, o.TLSURL("/index.txt"))
		wantDials(t, log, rl.Addr, rl.Addr, rl.Addr)
		// net/http cannot speak SOCKS4: ProxyFunc says so.
		req, _ := http.NewRequest(http.MethodGet, o.URL("/"), nil)
		if u, err := r.ProxyFunc()(req); err == nil {
			t.Errorf("ProxyFunc for a SOCKS4 proxy = %v, want an error", u)
		}
	})

	t.Run("socks4a is refused", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{Proxy: "socks4a://" + s.Addr})
		wantRefused(t, dialErr(t, r, localhost), s.Addr, "rejected")
		wantDials(t, log, s.Addr)
		wantBad(t, r)
	})

	t.Run("a closed target is a refusal", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "SOCKS5 "+s.Addr+"; DIRECT")})
		wantRefused(t, dialErr(t, r, upstream.ClosedAddr(t)), s.Addr, "")
		wantDials(t, log, s.Addr)
		wantBad(t, r)
	})
}

// TestIntegrationDanteAuth checks SOCKS5 username/password authentication
// (RFC 1929) against dante, which checks the system password database.
func TestIntegrationDanteAuth(t *testing.T) {
	t.Parallel()
	const user, pass, wrong = "pacdsocks", "s3cret-da", "n0t-the-da"
	o := upstream.StartOrigin(t)
	s := upstream.StartDante(t, upstream.DanteOptions{Username: user, Password: pass})

	t.Run("credentials", func(t *testing.T) {
		t.Parallel()
		for _, scheme := range []string{"socks5", "socks5h"} {
			r, _ := itResolver(t, resolver.Config{Proxy: scheme + "://" + user + ":" + pass + "@" + s.Addr})
			c, _ := client(t, r, o.CertPool())
			wantIndex(t, c, o.URL("/index.txt"))
			wantIndex(t, c, o.TLSURL("/index.txt"))
			dialIndex(t, r, o.Addr(), nil)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "SOCKS5 "+s.Addr+"; DIRECT"), Credentials: []string{"socks5://" + user + ":" + wrong + "@" + s.Addr}})
		wantAuthError(t, dialErr(t, r, o.Addr()), s.Addr, true, 0, wrong, pass)
		c, _ := client(t, r, o.CertPool())
		_, err := c.Get(o.URL("/index.txt"))
		wantAuthError(t, err, s.Addr, true, 0, wrong, pass)
		wantDials(t, log, s.Addr, s.Addr)
		wantBad(t, r)
	})

	t.Run("missing credentials", func(t *testing.T) {
		t.Parallel()
		r, _ := itResolver(t, resolver.Config{Proxy: "socks5://" + s.Addr})
		wantAuthError(t, dialErr(t, r, o.Addr()), s.Addr, false, 0)
	})

	t.Run("socks4 is refused", func(t *testing.T) {
		t.Parallel()
		// SOCKS4 cannot carry a password: dante answers 91, a refusal.
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "SOCKS "+s.Addr+"; DIRECT")})
		wantRefused(t, dialErr(t, r, o.Addr()), s.Addr, "rejected")
		wantDials(t, log, s.Addr)
		wantBad(t, r)
	})
}

// TestIntegrationMicrosocks runs SOCKS5 through microsocks, without and
// with username/password authentication.
func TestIntegrationMicrosocks(t *testing.T) {
	t.Parallel()
	const user, pass, wrong = "mic", "s3cret-ms", "n0t-the-ms"
	o := upstream.StartOrigin(t)
	open := upstream.StartMicrosocks(t, upstream.MicrosocksOptions{})
	authed := upstream.StartMicrosocks(t, upstream.MicrosocksOptions{Username: user, Password: pass})

	t.Run("no auth", func(t *testing.T) {
		t.Parallel()
		// Offering credentials to a server that wants none is fine too.
		for _, proxy := range []string{"socks5://" + open.Addr, "socks5h://" + open.Addr, "socks5://x:y@" + open.Addr} {
			r, log := itResolver(t, resolver.Config{Proxy: proxy})
			c, _ := client(t, r, o.CertPool())
			wantIndex(t, c, o.URL("/index.txt"))
			wantIndex(t, c, o.TLSURL("/index.txt"))
			dialIndex(t, r, o.TLSAddr(), o.CertPool())
			wantDials(t, log, open.Addr, open.Addr, open.Addr)
		}
		r, _ := itResolver(t, resolver.Config{PAC: pacAnswer(t, "SOCKS5 "+open.Addr)})
		c := proxyFuncClient(t, r, o.CertPool())
		wantIndex(t, c, o.URL("/index.txt"))
		wantIndex(t, c, o.TLSURL("/index.txt"))
	})

	t.Run("credentials", func(t *testing.T) {
		t.Parallel()
		r, _ := itResolver(t, resolver.Config{Proxy: authed.URL().String()})
		c, _ := client(t, r, o.CertPool())
		wantIndex(t, c, o.URL("/index.txt"))
		wantIndex(t, c, o.TLSURL("/index.txt"))
		dialIndex(t, r, o.Addr(), nil)
		wantIndex(t, proxyFuncClient(t, r, o.CertPool()), o.TLSURL("/index.txt"))
	})

	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "SOCKS5 "+authed.Addr+"; DIRECT"),
			Credentials: []string{authed.URLWith(url.UserPassword(user, wrong)).String()}})
		wantAuthError(t, dialErr(t, r, o.Addr()), authed.Addr, true, 0, wrong, pass)
		c, _ := client(t, r, o.CertPool())
		_, err := c.Get(o.TLSURL("/index.txt"))
		wantAuthError(t, err, authed.Addr, true, 0, wrong, pass)
		wantDials(t, log, authed.Addr, authed.Addr)
		wantBad(t, r)
	})

	t.Run("missing credentials", func(t *testing.T) {
		t.Parallel()
		r, _ := itResolver(t, resolver.Config{Proxy: "socks5h://" + authed.Addr})
		wantAuthError(t, dialErr(t, r, o.Addr()), authed.Addr, false, 0)
	})

	t.Run("socks4 to a SOCKS5-only server", func(t *testing.T) {
		t.Parallel()
		// microsocks hangs up on SOCKS4: the proxy broke off the
		// handshake, so it counts as unreachable and the next entry
		// gets the connection.
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "SOCKS "+open.Addr+"; SOCKS5 "+open.Addr)})
		dialIndex(t, r, o.Addr(), nil)
		wantDials(t, log, open.Addr, open.Addr)
		wantBad(t, r, "socks4://"+open.Addr)
	})
}

// TestIntegrationFailover checks that a proxy that cannot be reached (down,
// or silent) hands the request to the next entry and is tried last
// afterwards, and that a proxy that answers "no" does not.
func TestIntegrationFailover(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	squid := upstream.StartSquid(t, upstream.SquidOptions{})
	squidAuth := upstream.StartSquid(t, upstream.SquidOptions{Username: "alice", Password: "s3cret-fo"})
	socks := upstream.StartMicrosocks(t, upstream.MicrosocksOptions{})
	hole := upstream.StartBlackhole(t)

	t.Run("dead first proxy, Transport", func(t *testing.T) {
		t.Parallel()
		dead := upstream.ClosedAddr(t)
		rl := startRelay(t, socks.Addr)
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "PROXY "+dead+"; SOCKS5 "+rl.Addr)})
		c, tr := client(t, r, o.CertPool())
		wantIndex(t, c, o.URL("/index.txt"))
		wantDials(t, log, dead, rl.Addr)
		wantBad(t, r, "http://"+dead)
		// The next requests go to microsocks first: the dead proxy is
		// not touched again.
		wantIndex(t, c, o.TLSURL("/index.txt"))
		req, _ := http.NewRequest(http.MethodGet, o.URL("/index.txt"), nil)
		d, _ := r.Resolve(context.Background(), req.URL)
		resp, p, err := tr.RoundTripDecision(req, d)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if p.Addr() != rl.Addr {
			t.Errorf("RoundTripDecision went through %s, want the SOCKS5 proxy %s", p, rl.Addr)
		}
		wantDials(t, log, rl.Addr, rl.Addr)
		if n := rl.accepts.Load(); n != 3 {
			t.Errorf("microsocks saw %d connections, want 3", n)
		}
		// ProxyFunc, which gives net/http one proxy, gives the working one.
		wantIndex(t, proxyFuncClient(t, r, o.CertPool()), o.URL("/index.txt"))
		wantBad(t, r, "http://"+dead)
	})

	t.Run("dead first proxy, DialContext", func(t *testing.T) {
		t.Parallel()
		dead := upstream.ClosedAddr(t)
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "SOCKS5 "+dead+"; PROXY "+squid.Addr)})
		dialIndex(t, r, o.Addr(), nil)
		wantDials(t, log, dead, squid.Addr)
		wantBad(t, r, "socks5h://"+dead)
		dialIndex(t, r, o.TLSAddr(), o.CertPool())
		wantDials(t, log, squid.Addr)
	})

	t.Run("dead proxy, then DIRECT", func(t *testing.T) {
		t.Parallel()
		dead := upstream.ClosedAddr(t)
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "PROXY "+dead+"; DIRECT")})
		c, _ := client(t, r, nil)
		if e := echo(t, c, o.URL("/echo")); e.Header.Get("Via") != "" {
			t.Errorf("origin saw Via %q, want a direct request", e.Header.Get("Via"))
		}
		wantDials(t, log, dead, o.Addr())
		echo(t, c, o.URL("/echo"))
		wantDials(t, log, o.Addr())
	})

	t.Run("a request body is sent again", func(t *testing.T) {
		t.Parallel()
		dead := upstream.ClosedAddr(t)
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "PROXY "+dead+"; PROXY "+squid.Addr)})
		c, _ := client(t, r, nil)
		resp, err := c.Post(o.URL("/echo"), "text/plain", strings.NewReader("payload"))
		if err != nil {
			t.Fatal(err)
		}
		var e upstream.Echo
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 200 || e.Method != http.MethodPost || e.Header.Get("Content-Length") != "7" || !strings.Contains(e.Header.Get("Via"), "squid") {
			t.Errorf("POST through the second proxy: %s, origin saw %+v", resp.Status, e)
		}
		wantDials(t, log, dead, squid.Addr)
	})

	t.Run("silent first proxy, short DialTimeout", func(t *testing.T) {
		t.Parallel()
		const timeout = time.Second
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "PROXY "+hole+"; PROXY "+squid.Addr), DialTimeout: timeout})
		start := time.Now()
		dialIndex(t, r, o.Addr(), nil)
		if el := time.Since(start); el < timeout || el > timeout+5*time.Second {
			t.Errorf("failover from the silent proxy took %v, want about the %v dial timeout", el, timeout)
		}
		wantDials(t, log, hole, squid.Addr)
		wantBad(t, r, "http://"+hole)
		// Now squid first: the silent proxy is not dialed again.
		c, _ := client(t, r, o.CertPool())
		wantIndex(t, c, o.TLSURL("/index.txt"))
		wantVia(t, wantIndex(t, c, o.URL("/index.txt")), "squid")
		wantDials(t, log, squid.Addr, squid.Addr)
	})

	t.Run("silent HTTPS proxy, Transport", func(t *testing.T) {
		t.Parallel()
		// A TLS handshake that never ends is a proxy that cannot be reached.
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "HTTPS "+hole+"; SOCKS5 "+socks.Addr), DialTimeout: time.Second})
		c, _ := client(t, r, o.CertPool())
		wantIndex(t, c, o.URL("/index.txt"))
		wantDials(t, log, hole, socks.Addr)
		wantBad(t, r, "https://"+hole)
		wantIndex(t, c, o.TLSURL("/index.txt"))
		wantDials(t, log, socks.Addr)
	})

	t.Run("a refusal does not fail over", func(t *testing.T) {
		t.Parallel()
		rl := startRelay(t, socks.Addr)
		// squid wants credentials, which this resolver does not have.
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "PROXY "+squidAuth.Addr+"; SOCKS5 "+rl.Addr+"; DIRECT")})
		wantAuthError(t, dialErr(t, r, o.Addr()), squidAuth.Addr, false, http.StatusProxyAuthRequired)
		c, _ := client(t, r, o.CertPool())
		_, err := c.Get(o.TLSURL("/index.txt"))
		wantAuthError(t, err, squidAuth.Addr, false, http.StatusProxyAuthRequired)
		// squid says 503 to a CONNECT to a closed port: also an answer.
		r2, log2 := itResolver(t, resolver.Config{PAC: pacAnswer(t, "PROXY "+squid.Addr+"; SOCKS5 "+rl.Addr+"; DIRECT")})
		wantRefused(t, dialErr(t, r2, upstream.ClosedAddr(t)), squid.Addr, "")
		if n := rl.accepts.Load(); n != 0 {
			t.Errorf("the next proxy saw %d connections after a refusal, want none", n)
		}
		wantDials(t, log, squidAuth.Addr, squidAuth.Addr)
		wantDials(t, log2, squid.Addr)
		wantBad(t, r)
		wantBad(t, r2)
	})

	t.Run("nothing reachable", func(t *testing.T) {
		t.Parallel()
		dead1, dead2 := upstream.ClosedAddr(t), upstream.ClosedAddr(t)
		r, log := itResolver(t, resolver.Config{PAC: pacAnswer(t, "PROXY "+dead1+"; SOCKS5 "+dead2)})
		err := dialErr(t, r, o.Addr())
		if !errors.Is(err, resolver.ErrAllProxiesFailed) || !strings.Contains(err.Error(), dead1) || !strings.Contains(err.Error(), dead2) {
			t.Errorf("error %v, want ErrAllProxiesFailed naming both proxies", err)
		}
		wantDials(t, log, dead1, dead2)
		wantBad(t, r, "http://"+dead1, "socks5h://"+dead2)
		// Both are bad: the list keeps its order, and both are tried again.
		c, _ := client(t, r, nil)
		if _, err := c.Get(o.URL("/index.txt")); !errors.Is(err, resolver.ErrAllProxiesFailed) {
			t.Errorf("GET with every proxy down: %v, want ErrAllProxiesFailed", err)
		}
		wantDials(t, log, dead1, dead2)
	})
}

// TestIntegrationBypass checks that bypassed destinations go DIRECT while
// the others go through squid.
func TestIntegrationBypass(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	s := upstream.StartSquid(t, upstream.SquidOptions{})
	proxy := "http://" + s.Addr
	localhostURL := "http://" + withHost(o.Addr(), "localhost") + "/echo"

	// viaSquid reports whether the request for target went through squid,
	// from the origin's view, and checks the dial log agrees.
	viaSquid := func(t *testing.T, c *http.Client, log *dialLog, target string) bool {
		t.Helper()
		e := echo(t, c, target)
		via := strings.Contains(e.Header.Get("Via"), "squid")
		u := mustURL(t, target)
		wantAddr := u.Host
		if via {
			wantAddr = s.Addr
		}
		wantDials(t, log, wantAddr)
		return via
	}

	t.Run("control: loopback through squid", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{Proxy: proxy})
		c, _ := client(t, r, nil)
		if !viaSquid(t, c, log, o.URL("/echo")) || !viaSquid(t, c, log, localhostURL) {
			t.Error("with ProxyLoopback and no bypass, loopback did not go through squid")
		}
	})

	t.Run("implicit rule", func(t *testing.T) {
		t.Parallel()
		log := &dialLog{}
		// Without ProxyLoopback: as every user without the opt-out.
		r := mustNew(t, &resolver.Config{Proxy: proxy, Dial: log.dial})
		c, _ := client(t, r, nil)
		if viaSquid(t, c, log, o.URL("/echo")) || viaSquid(t, c, log, localhostURL) {
			t.Error("loopback went through squid without ProxyLoopback")
		}
		// "<-loopback>" lifts the rule, as ProxyLoopback does.
		r = mustNew(t, &resolver.Config{Proxy: proxy, Bypass: "<-loopback>", Dial: log.dial})
		c, _ = client(t, r, nil)
		if !viaSquid(t, c, log, o.URL("/echo")) {
			t.Error(`with "<-loopback>", loopback did not go through squid`)
		}
	})

	t.Run("address entry", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{Proxy: proxy, Bypass: "127.0.0.1"})
		d, err := r.Resolve(context.Background(), mustURL(t, o.URL("/")))
		if err != nil || d.Source != resolver.FromBypass || !d.Proxies[0].IsDirect() {
			t.Errorf("Resolve %s = %v (%v), %v; want DIRECT from the bypass list", o.URL("/"), d, d.Source, err)
		}
		c, _ := client(t, r, o.CertPool())
		if viaSquid(t, c, log, o.URL("/echo")) {
			t.Error("127.0.0.1 went through squid despite the bypass entry")
		}
		if e := echo(t, c, o.TLSURL("/echo")); !e.TLS {
			t.Errorf("origin saw %+v", e)
		}
		wantDials(t, log, o.TLSAddr())
		dialIndex(t, r, o.Addr(), nil)
		wantDials(t, log, o.Addr())
		// A name is not an address: localhost still goes through squid.
		if !viaSquid(t, c, log, localhostURL) {
			t.Error("localhost was bypassed by an address entry")
		}
	})

	t.Run("address and port entry", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{Proxy: proxy, Bypass: o.Addr()})
		c, _ := client(t, r, o.CertPool())
		if viaSquid(t, c, log, o.URL("/echo")) {
			t.Errorf("%s went through squid despite the bypass entry", o.Addr())
		}
		// The HTTPS origin is on another port: through squid's tunnel.
		wantIndex(t, c, o.TLSURL("/index.txt"))
		wantDials(t, log, s.Addr)
	})

	t.Run("name entry", func(t *testing.T) {
		t.Parallel()
		r, log := itResolver(t, resolver.Config{Proxy: proxy, Bypass: "localhost"})
		c, _ := client(t, r, nil)
		if viaSquid(t, c, log, localhostURL) {
			t.Error("localhost went through squid despite the bypass entry")
		}
		if !viaSquid(t, c, log, o.URL("/echo")) {
			t.Error("127.0.0.1 was bypassed by a name entry")
		}
	})

	t.Run("NO_PROXY", func(t *testing.T) {
		t.Parallel()
		env := map[string]string{"http_proxy": proxy, "NO_PROXY": "example.com, 127.0.0.0/8"}
		r, log := itResolver(t, resolver.Config{Env: resolver.ReadEnv(func(k string) string { return env[k] })})
		c, _ := client(t, r, nil)
		if viaSquid(t, c, log, o.URL("/echo")) {
			t.Error("127.0.0.1 went through squid despite NO_PROXY")
		}
		if !viaSquid(t, c, log, localhostURL) {
			t.Error("localhost did not go through http_proxy")
		}
	})
}
