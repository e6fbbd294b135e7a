package daemon_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacd/pacd/internal/daemon"
	"github.com/pacd/pacd/resolver"
	"golang.org/x/net/proxy"
)

// The daemon's side of issue 8's rule: a client's own credentials, the
// Proxy-Authorization it sends to pacd's HTTP listener (for pacd's client
// authentication, or by mistake) and its RFC 1929 login to the SOCKS
// listener, are pacd's alone, hop by hop: they never reach an upstream
// or an origin, which get the credentials configured for them, or none.
// Every upstream and origin here is a loopback stub that records every
// byte it receives and every credential it is offered.

const (
	clientUser, clientPass = "c-41d8", "cpw-e3b0"
	upUser, upPass         = "up-5f1c", "uppw-88a2"
)

func basicOf(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// credStub is an HTTP proxy (CONNECT and absolute form), a SOCKS5 proxy
// and an origin, whichever the first byte asks for; through a tunnel it
// is the origin. It answers "via <name>" and, in mode "407", asks for
// credentials it is not given.
type credStub struct {
	name string
	mode string
	ln   net.Listener

	mu    sync.Mutex
	raw   []byte
	auths []string // "http <Proxy-Authorization>", "socks5 user:pass", "origin <Proxy-Authorization>"
	conns int
}

func startCredStub(t *testing.T, name, mode string) *credStub {
	t.Helper()
	s := &credStub{name: name, mode: mode, ln: listenLoopback(t)}
	t.Cleanup(func() { s.ln.Close() })
	go func() {
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *credStub) addr() string { return s.ln.Addr().String() }

func (s *credStub) offered(a string) {
	s.mu.Lock()
	s.auths = append(s.auths, a)
	s.mu.Unlock()
}

// take returns what the stub recorded since the last take.
func (s *credStub) take() (raw []byte, auths []string, conns int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw, auths, conns = s.raw, s.auths, s.conns
	s.raw, s.auths, s.conns = nil, nil, 0
	return raw, auths, conns
}

type credRecConn struct {
	net.Conn
	s *credStub
}

func (c *credRecConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.s.mu.Lock()
	c.s.raw = append(c.s.raw, b[:n]...)
	c.s.mu.Unlock()
	return n, err
}

func (s *credStub) serve(c net.Conn) {
	defer c.Close()
	s.mu.Lock()
	s.conns++
	s.mu.Unlock()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	rc := &credRecConn{Conn: c, s: s}
	br := bufio.NewReader(rc)
	first, err := br.Peek(1)
	if err != nil {
		return
	}
	if first[0] == 5 {
		s.serveSOCKS5(c, br)
		return
	}
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	auth := req.Header.Get("Proxy-Authorization")
	if req.Method != http.MethodConnect && !req.URL.IsAbs() {
		// An origin, reached DIRECT.
		if auth != "" {
			s.offered("origin " + auth)
		}
		s.answer(c)
		return
	}
	if auth != "" {
		s.offered("http " + auth)
	}
	if s.mode == "407" && auth == "" {
		io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"upstream\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	}
	if req.Method == http.MethodConnect {
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		s.serveOrigin(c, br)
		return
	}
	s.answer(c)
}

func (s *credStub) serveOrigin(c net.Conn, br *bufio.Reader) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if a := req.Header.Get("Proxy-Authorization"); a != "" {
		s.offered("origin " + a)
	}
	s.answer(c)
}

func (s *credStub) answer(c net.Conn) {
	body := "via " + s.name
	fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
}

func (s *credStub) serveSOCKS5(c net.Conn, br *bufio.Reader) {
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(br, methods); err != nil {
		return
	}
	switch {
	case bytes.IndexByte(methods, 2) >= 0:
		c.Write([]byte{5, 2})
		var v [2]byte
		if _, err := io.ReadFull(br, v[:]); err != nil {
			return
		}
		user := make([]byte, v[1])
		if _, err := io.ReadFull(br, user); err != nil {
			return
		}
		l, err := br.ReadByte()
		if err != nil {
			return
		}
		pass := make([]byte, l)
		if _, err := io.ReadFull(br, pass); err != nil {
			return
		}
		s.offered("socks5 " + string(user) + ":" + string(pass))
		c.Write([]byte{1, 0})
	case s.mode == "407":
		c.Write([]byte{5, 0xff})
		return
	default:
		c.Write([]byte{5, 0})
	}
	var req [4]byte
	if _, err := io.ReadFull(br, req[:]); err != nil {
		return
	}
	skip := 4
	switch req[3] {
	case 4:
		skip = 16
	case 3:
		l, err := br.ReadByte()
		if err != nil {
			return
		}
		skip = int(l)
	}
	if _, err := io.ReadFull(br, make([]byte, skip+2)); err != nil {
		return
	}
	c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	s.serveOrigin(c, br)
}

// noClientSecrets fails t if any stub received the client's credentials,
// in any form.
func noClientSecrets(t *testing.T, raw []byte, who string) {
	t.Helper()
	for _, sec := range []string{clientUser, clientPass, basicOf(clientUser, clientPass)[len("Basic "):]} {
		if bytes.Contains(raw, []byte(sec)) {
			t.Errorf("%s received the client's own credentials (%q in %q)", who, sec, raw)
		}
	}
}

// expectAuths fails t unless a stub was offered exactly want, in order.
func expectAuths(t *testing.T, who string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s was offered %q, want %q", who, got, want)
	}
}

// credRequest sends one raw request to pacd's HTTP listener and returns
// the response's status and body: an absolute-form GET for target, or,
// with connect, a CONNECT to target and a GET through the tunnel. auth,
// when not empty, is the client's Proxy-Authorization.
func credRequest(t *testing.T, pacd, target, auth string, connect bool) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", pacd)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	hdr := ""
	if auth != "" {
		hdr = "Proxy-Authorization: " + auth + "\r\n"
	}
	if connect {
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", target, target, hdr)
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
		if err != nil {
			t.Fatalf("CONNECT %s: %v", target, err)
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", target)
	} else {
		fmt.Fprintf(c, "GET http://%s/ HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n", target, target, hdr)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusProxyAuthRequired && resp.Header.Get("Proxy-Authenticate") != "" {
		t.Errorf("GET %s: the upstream's challenge reached the client: %q", target, resp.Header.Get("Proxy-Authenticate"))
	}
	return resp.StatusCode, string(b)
}

// pacdResolver is a resolver for the daemon whose PAC answers answer, with
// creds as Config.Credentials.
func pacdResolver(t *testing.T, answer string, creds ...string) *resolver.Config {
	return &resolver.Config{
		PAC:           pacFunc(func(string, string) string { return answer }),
		Credentials:   creds,
		ProxyLoopback: true,
		DialTimeout:   3 * time.Second,
	}
}

func TestDaemonCredentials(t *testing.T) {
	clientAuth := basicOf(clientUser, clientPass)
	upAuth := basicOf(upUser, upPass)
	origin := startCredStub(t, "origin", "")
	target := origin.addr()

	t.Run("HTTP listener with client authentication", func(t *testing.T) {
		up := startCredStub(t, "up", "")
		ts := startServer(t, daemon.Config{Username: clientUser, Password: clientPass},
			pacdResolver(t, "PROXY "+up.addr(), "http://"+upUser+":"+upPass+"@"+up.addr()))
		for _, connect := range []bool{false, true} {
			status, body := credRequest(t, ts.http, target, clientAuth, connect)
			if status != http.StatusOK || body != "via up" {
				t.Errorf("connect=%v: %d %q, want 200 via up", connect, status, body)
			}
			raw, auths, _ := up.take()
			noClientSecrets(t, raw, "the upstream")
			expectAuths(t, fmt.Sprintf("the upstream (connect=%v)", connect), auths, []string{"http " + upAuth})
		}
		raw, auths, conns := origin.take()
		noClientSecrets(t, raw, "the origin")
		if conns != 0 || len(auths) != 0 {
			t.Errorf("the origin was reached directly (%d connections, offered %q)", conns, auths)
		}
	})

	t.Run("client credentials sent by mistake", func(t *testing.T) {
		up := startCredStub(t, "up", "")
		ts := startServer(t, daemon.Config{}, pacdResolver(t, "PROXY "+up.addr()))
		for _, connect := range []bool{false, true} {
			status, body := credRequest(t, ts.http, target, clientAuth, connect)
			if status != http.StatusOK || body != "via up" {
				t.Errorf("connect=%v: %d %q, want 200 via up", connect, status, body)
			}
			raw, auths, _ := up.take()
			noClientSecrets(t, raw, "the upstream")
			expectAuths(t, fmt.Sprintf("the upstream (connect=%v)", connect), auths, nil)
		}
	})

	t.Run("client credentials, DIRECT", func(t *testing.T) {
		ts := startServer(t, daemon.Config{}, pacdResolver(t, "DIRECT"))
		origin.take()
		for _, connect := range []bool{false, true} {
			status, body := credRequest(t, ts.http, target, clientAuth, connect)
			if status != http.StatusOK || body != "via origin" {
				t.Errorf("connect=%v: %d %q, want 200 via origin", connect, status, body)
			}
			raw, auths, _ := origin.take()
			noClientSecrets(t, raw, "the origin")
			expectAuths(t, "the origin", auths, nil)
		}
	})

	t.Run("SOCKS5 listener with client authentication", func(t *testing.T) {
		upSOCKS := startCredStub(t, "up-socks", "")
		upHTTP := startCredStub(t, "up-http", "")
		for _, tc := range []struct {
			up   *credStub
			pac  string
			cred string
			want []string
		}{
			{upSOCKS, "SOCKS5 " + upSOCKS.addr(), "socks5://" + upUser + ":" + upPass + "@" + upSOCKS.addr(), []string{"socks5 " + upUser + ":" + upPass}},
			{upSOCKS, "SOCKS5 " + upSOCKS.addr(), "", nil},
			{upHTTP, "PROXY " + upHTTP.addr(), "http://" + upUser + ":" + upPass + "@" + upHTTP.addr(), []string{"http " + upAuth}},
			{upHTTP, "PROXY " + upHTTP.addr(), "", nil},
		} {
			var creds []string
			if tc.cred != "" {
				creds = append(creds, tc.cred)
			}
			ts := startServer(t, daemon.Config{Username: clientUser, Password: clientPass}, pacdResolver(t, tc.pac, creds...))
			d, err := proxy.SOCKS5("tcp", ts.socks, &proxy.Auth{User: clientUser, Password: clientPass}, proxy.Direct)
			if err != nil {
				t.Fatal(err)
			}
			c, err := d.Dial("tcp", target)
			if err != nil {
				t.Fatalf("%s: SOCKS5 dial: %v", tc.pac, err)
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", target)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("%s: %v", tc.pac, err)
			}
			b, _ := io.ReadAll(resp.Body)
			c.Close()
			if want := "via " + tc.up.name; string(b) != want {
				t.Errorf("%s: %q, want %q", tc.pac, b, want)
			}
			raw, auths, _ := tc.up.take()
			noClientSecrets(t, raw, tc.up.name)
			expectAuths(t, tc.up.name+" for "+tc.pac, auths, tc.want)
			ts.shutdown(t, 5*time.Second)
		}
	})

	t.Run("upstream wants credentials pacd does not have", func(t *testing.T) {
		want := startCredStub(t, "wants-auth", "407")
		other := startCredStub(t, "other", "")
		ts := startServer(t, daemon.Config{Username: clientUser, Password: clientPass},
			pacdResolver(t, "PROXY "+want.addr()+"; PROXY "+other.addr(), "http://"+upUser+":"+upPass+"@"+other.addr()))
		for _, connect := range []bool{false, true} {
			status, body := credRequest(t, ts.http, target, clientAuth, connect)
			if status != http.StatusProxyAuthRequired {
				t.Errorf("connect=%v: %d %q, want 407", connect, status, body)
			}
			raw, auths, conns := want.take()
			noClientSecrets(t, raw, "the upstream asking for credentials")
			expectAuths(t, "the upstream asking for credentials", auths, nil)
			if conns == 0 {
				t.Errorf("connect=%v: the upstream was never asked", connect)
			}
			_, auths, conns = other.take()
			if conns != 0 || len(auths) != 0 {
				t.Errorf("connect=%v: the next entry was tried after a 407 (%d connections, offered %q)", connect, conns, auths)
			}
		}
	})

	t.Run("reload removes the credentials", func(t *testing.T) {
		up := startCredStub(t, "up", "")
		ts := startServer(t, daemon.Config{}, pacdResolver(t, "PROXY "+up.addr(), "http://"+upUser+":"+upPass+"@"+up.addr()))
		for _, connect := range []bool{false, true} {
			credRequest(t, ts.http, target, "", connect)
		}
		_, auths, _ := up.take()
		expectAuths(t, "the upstream before the reload", auths, []string{"http " + upAuth, "http " + upAuth})
		ts.srv.SetResolver(newResolver(t, pacdResolver(t, "PROXY "+up.addr())))
		for _, connect := range []bool{false, true} {
			status, body := credRequest(t, ts.http, target, "", connect)
			if status != http.StatusOK || body != "via up" {
				t.Errorf("connect=%v: %d %q, want 200 via up", connect, status, body)
			}
		}
		raw, auths, _ := up.take()
		expectAuths(t, "the upstream after the reload", auths, nil)
		if bytes.Contains(raw, []byte(upPass)) || strings.Contains(string(raw), upAuth[len("Basic "):]) {
			t.Errorf("the upstream received the removed credentials after the reload: %q", raw)
		}
	})
}
