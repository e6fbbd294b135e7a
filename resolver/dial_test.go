package resolver_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacd/pacd/resolver"
)

// These tests drive the handshakes against small in-process servers that
// answer exactly as a test needs, including the refusals real proxies
// rarely give on demand; integration_test.go runs the same paths against
// real squid, tinyproxy, dante and microsocks.

// fakeProxy listens on loopback and answers each connection with serve.
func fakeProxy(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// connectProxy is a minimal CONNECT proxy that tunnels to the requested
// address, after checking Proxy-Authorization against auth when auth is
// not empty.
func connectProxy(t *testing.T, auth string, hits *atomic.Int32) string {
	return fakeProxy(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if hits != nil {
			hits.Add(1)
		}
		if req.Method != http.MethodConnect {
			io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
			return
		}
		if auth != "" && req.Header.Get("Proxy-Authorization") != auth {
			io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n\r\n")
			return
		}
		up, err := net.Dial("tcp", req.Host)
		if err != nil {
			io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
			return
		}
		defer up.Close()
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go io.Copy(up, br)
		io.Copy(c, up)
	})
}

// echoServer answers every line it reads with the same line.
func echoServer(t *testing.T) string {
	return fakeProxy(t, func(c net.Conn) { io.Copy(c, c) })
}

func roundTrip(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Fatalf("echo = %q, %v", line, err)
	}
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestDialHTTPConnect(t *testing.T) {
	target := echoServer(t)
	plain := connectProxy(t, "", nil)
	authed := connectProxy(t, "Basic YWxpY2U6czNjcmV0", nil) // alice:s3cret
	tests := []struct {
		name, proxy, wantErr string
	}{
		{"no auth", "http://" + plain, ""},
		{"credentials", "http://alice:s3cret@" + authed, ""},
		{"missing credentials", "http://" + authed, "requires credentials, and none are configured for it (407 Proxy Authentication Required)"},
		{"wrong credentials", "http://alice:wrong@" + authed, "rejected the credentials (407 Proxy Authentication Required)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustNew(t, &resolver.Config{Proxy: tt.proxy, ProxyLoopback: true})
			c, err := r.DialContext(context.Background(), "tcp", target)
			if tt.wantErr != "" {
				var ae *resolver.ProxyAuthError
				if err == nil || !errors.As(err, &ae) || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("DialContext error = %v, want a ProxyAuthError %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			roundTrip(t, c)
		})
	}
}

func TestDialConnectRefusals(t *testing.T) {
	tests := []struct {
		answer, want string
	}{
		{"HTTP/1.1 403 Forbidden\r\n\r\n", "refused the connection to 127.0.0.1:9: 403 Forbidden"},
		{"HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"Tinyproxy\"\r\n\r\n", "requires credentials"},
		{"garbage\r\n\r\n", "handshake"},
	}
	for _, tt := range tests {
		addr := fakeProxy(t, func(c net.Conn) {
			http.ReadRequest(bufio.NewReader(c))
			io.WriteString(c, tt.answer)
		})
		r := mustNew(t, &resolver.Config{Proxy: "http://" + addr, ProxyLoopback: true})
		_, err := r.DialContext(context.Background(), "tcp", "127.0.0.1:9")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("answer %q: error %v, want %q", tt.answer, err, tt.want)
		}
	}
}

// TestDialConnectAnswerBounded: a proxy whose answer to CONNECT never
// ends (a header line without end, or a refusal whose body has none) is
// cut at the answer limit, long before the dial timeout, instead of being
// read into memory until then.
func TestDialConnectAnswerBounded(t *testing.T) {
	for _, prefix := range []string{"HTTP/1.1 200 OK\r\nX-Endless: ", "HTTP/1.1 403 Forbidden\r\nContent-Length: 9999999999\r\n\r\n"} {
		var wrote atomic.Int64
		addr := fakeProxy(t, func(c net.Conn) {
			http.ReadRequest(bufio.NewReader(c))
			n, err := io.WriteString(c, prefix)
			wrote.Add(int64(n))
			filler := []byte(strings.Repeat("a", 64<<10))
			for err == nil && wrote.Load() < 512<<20 {
				n, err = c.Write(filler)
				wrote.Add(int64(n))
			}
		})
		r := mustNew(t, &resolver.Config{Proxy: "http://" + addr, ProxyLoopback: true, DialTimeout: 20 * time.Second})
		start := time.Now()
		_, err := r.DialContext(context.Background(), "tcp", "127.0.0.1:9")
		if err == nil || time.Since(start) > 10*time.Second {
			t.Errorf("answer %q and more: %v after %v, want an error soon", prefix, err, time.Since(start))
		}
		if w := wrote.Load(); w > 16<<20 {
			t.Errorf("answer %q and more: the proxy wrote %d MiB before the dial gave up, want about 1 MiB", prefix, w>>20)
		}
	}
}

// socks5Server is a minimal SOCKS5 server that grants requests to
// reply's code and records the address type and address it was asked
// for.
func socks5Server(t *testing.T, user, pass string, reply byte, asked *atomic.Value) string {
	return fakeProxy(t, func(c net.Conn) {
		var hdr [2]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		methods := make([]byte, hdr[1])
		io.ReadFull(c, methods)
		want := byte(0)
		if user != "" {
			want = 2
		}
		if !strings.Contains(string(methods), string([]byte{want})) {
			c.Write([]byte{5, 0xff})
			return
		}
		c.Write([]byte{5, want})
		if want == 2 {
			var v [2]byte
			io.ReadFull(c, v[:])
			u := make([]byte, v[1])
			io.ReadFull(c, u)
			var pl [1]byte
			io.ReadFull(c, pl[:])
			p := make([]byte, pl[0])
			io.ReadFull(c, p)
			if string(u) != user || string(p) != pass {
				c.Write([]byte{1, 1})
				return
			}
			c.Write([]byte{1, 0})
		}
		var req [4]byte
		io.ReadFull(c, req[:])
		var addr []byte
		switch req[3] {
		case 1:
			addr = make([]byte, 4)
		case 4:
			addr = make([]byte, 16)
		case 3:
			var l [1]byte
			io.ReadFull(c, l[:])
			addr = make([]byte, l[0])
		}
		io.ReadFull(c, addr)
		var port [2]byte
		io.ReadFull(c, port[:])
		if asked != nil {
			asked.Store(string(rune('0'+req[3])) + ":" + string(addr))
		}
		c.Write([]byte{5, reply, 0, 1, 127, 0, 0, 1, 0, 0})
		if reply == 0 {
			io.Copy(c, c) // echo, standing in for the target
		}
	})
}

func TestDialSOCKS5(t *testing.T) {
	var asked atomic.Value
	open := socks5Server(t, "", "", 0, &asked)
	authed := socks5Server(t, "bob", "pw", 0, nil)
	refusing := socks5Server(t, "", "", 5, nil)
	tests := []struct {
		name, proxy, target, wantAsked, wantErr string
	}{
		{"remote names", "socks5h://" + open, "db.example:5432", "3:db.example", ""},
		{"address", "socks5://" + open, "10.1.2.3:22", "1:\x0a\x01\x02\x03", ""},
		{"IPv6 address", "socks5h://" + open, "[2001:db8::1]:22", "4:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", ""},
		{"login", "socks5://bob:pw@" + authed, "10.1.2.3:22", "", ""},
		{"no credentials", "socks5://" + authed, "10.1.2.3:22", "", "requires credentials"},
		{"wrong password", "socks5://bob:nope@" + authed, "10.1.2.3:22", "", "rejected the credentials"},
		{"refused", "socks5://" + refusing, "10.1.2.3:22", "", "refused the connection to 10.1.2.3:22: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustNew(t, &resolver.Config{Proxy: tt.proxy})
			c, err := r.DialContext(context.Background(), "tcp", tt.target)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			roundTrip(t, c)
			if tt.wantAsked != "" && asked.Load() != tt.wantAsked {
				t.Errorf("the server was asked for %q, want %q", asked.Load(), tt.wantAsked)
			}
		})
	}
}

func TestDialFailover(t *testing.T) {
	target := echoServer(t)
	var hits atomic.Int32
	good := connectProxy(t, "", &hits)
	dead := closedAddr(t)
	// A proxy that accepts and never answers: the dial timeout ends it.
	var silentHits atomic.Int32
	silent := fakeProxy(t, func(c net.Conn) {
		silentHits.Add(1)
		c.Read(make([]byte, 1))
	})
	refusing := fakeProxy(t, func(c net.Conn) {
		http.ReadRequest(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 403 Forbidden\r\n\r\n")
	})

	pac := fixedPAC{answer: "PROXY " + dead + "; PROXY " + silent + "; PROXY " + good}
	r := mustNew(t, &resolver.Config{PAC: pac, ProxyLoopback: true, DialTimeout: 300 * time.Millisecond})
	c, err := r.DialContext(context.Background(), "tcp", target)
	if err != nil {
		t.Fatalf("DialContext: %v", err)
	}
	roundTrip(t, c)
	c.Close()
	// The next connection goes to the working proxy first: the other two
	// wait at the end of the list.
	c, err = r.DialContext(context.Background(), "tcp", target)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if hits.Load() != 2 || silentHits.Load() != 1 {
		t.Errorf("the good proxy saw %d tunnels and the silent one %d connections; want 2 and 1", hits.Load(), silentHits.Load())
	}

	// A refusal is an answer, not a reason to try the next proxy.
	r = mustNew(t, &resolver.Config{PAC: fixedPAC{answer: "PROXY " + refusing + "; PROXY " + good}, ProxyLoopback: true})
	if _, err := r.DialContext(context.Background(), "tcp", target); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("after a refusal: %v, want the 403", err)
	}

	// Nothing reachable: every cause is reported.
	r = mustNew(t, &resolver.Config{PAC: fixedPAC{answer: "PROXY " + dead + "; SOCKS5 " + dead}, ProxyLoopback: true})
	_, err = r.DialContext(context.Background(), "tcp", target)
	var oe *net.OpError
	if !errors.Is(err, resolver.ErrAllProxiesFailed) || !errors.As(err, &oe) || oe.Op != "proxy connect" ||
		strings.Count(err.Error(), "cannot reach proxy") != 2 {
		t.Errorf("all dead: %v", err)
	}
}

func TestTransport(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.WriteString(w, "origin saw "+req.Method+" "+req.URL.Path)
	}))
	defer origin.Close()
	var hits atomic.Int32
	good := connectProxy(t, "", &hits)
	dead := closedAddr(t)
	r := mustNew(t, &resolver.Config{PAC: fixedPAC{answer: "SOCKS5 " + dead + "; PROXY " + good + "; DIRECT"}, ProxyLoopback: true})
	client := &http.Client{Transport: r.Transport()}
	defer client.CloseIdleConnections()
	// http:// through an HTTP proxy goes in absolute form, which this
	// CONNECT-only proxy refuses; the answer comes back as a response.
	resp, err := client.Post(origin.URL+"/form", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("absolute-form request through the CONNECT-only proxy: %d %s", resp.StatusCode, body)
	}
	// ProxyFunc skips the proxy that failed.
	req, _ := http.NewRequest("GET", origin.URL, nil)
	if u, err := r.ProxyFunc()(req); err != nil || u == nil || u.Host != good {
		t.Errorf("ProxyFunc = %v, %v; want the good proxy", u, err)
	}
}

// TestTransportForwardFailover checks that a plain-http request fails over
// from an HTTP proxy that accepts the connection and closes it without a
// word, as it does from one that refuses the connection.
func TestTransportForwardFailover(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.WriteString(w, "origin")
	}))
	defer origin.Close()
	closer := fakeProxy(t, func(c net.Conn) {})
	// A forwarding proxy: it answers absolute-form requests itself.
	forwarder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !req.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		io.WriteString(w, "forwarded "+req.URL.String())
	}))
	defer forwarder.Close()
	fwd := strings.TrimPrefix(forwarder.URL, "http://")
	r := mustNew(t, &resolver.Config{PAC: fixedPAC{answer: "PROXY " + closer + "; PROXY " + fwd}, ProxyLoopback: true})
	client := &http.Client{Transport: r.Transport()}
	defer client.CloseIdleConnections()
	resp, err := client.Get(origin.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "forwarded "+origin.URL+"/x" {
		t.Errorf("body = %q", body)
	}
	if bad := r.BadProxies(); len(bad) != 1 || bad[0].Proxy.Addr() != closer {
		t.Errorf("BadProxies = %v, want the proxy that closed", bad)
	}
}
