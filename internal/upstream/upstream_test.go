package upstream_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/proxy"

	"github.com/pacd/pacd/internal/upstream"
)

const timeout = 10 * time.Second

// fetchCase is one request through a proxy with net/http's Transport.
type fetchCase struct {
	name   string
	proxy  *url.URL       // the Transport's Proxy
	roots  *x509.CertPool // trusted for the proxy's and the origin's TLS
	target string
	// wantStatus is the final status; 0 means the request must fail.
	wantStatus int
	// wantConnect, if not 0, is the status the proxy must answer CONNECT
	// with (https targets only).
	wantConnect int
	wantBody    string            // if not "", the exact body
	wantHeader  map[string]string // header → substring of its value
	wantErr     string            // if not "", a substring of the error
}

func (c fetchCase) run(t *testing.T) {
	t.Helper()
	var connect atomic.Int64
	tr := &http.Transport{
		Proxy:             http.ProxyURL(c.proxy),
		TLSClientConfig:   &tls.Config{RootCAs: c.roots},
		DisableKeepAlives: true,
		OnProxyConnectResponse: func(_ context.Context, _ *url.URL, _ *http.Request, resp *http.Response) error {
			connect.Store(int64(resp.StatusCode))
			return nil
		},
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: timeout}).Get(c.target)
	if c.wantConnect != 0 && int(connect.Load()) != c.wantConnect {
		t.Errorf("CONNECT through %s answered %d, want %d", c.proxy.Redacted(), connect.Load(), c.wantConnect)
	}
	if c.wantStatus == 0 {
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s through %s = %s, want an error", c.target, c.proxy.Redacted(), resp.Status)
		}
		if !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("GET %s through %s: error %q, want it to contain %q", c.target, c.proxy.Redacted(), err, c.wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("GET %s through %s: %v", c.target, c.proxy.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	if resp.StatusCode != c.wantStatus {
		t.Errorf("GET %s through %s = %s, want %d; body %.200q", c.target, c.proxy.Redacted(), resp.Status, c.wantStatus, body)
	}
	if c.wantBody != "" && string(body) != c.wantBody {
		t.Errorf("GET %s through %s: body %.200q, want %q", c.target, c.proxy.Redacted(), body, c.wantBody)
	}
	for k, v := range c.wantHeader {
		if got := resp.Header.Values(k); !strings.Contains(strings.Join(got, ", "), v) {
			t.Errorf("GET %s through %s: %s = %q, want it to contain %q", c.target, c.proxy.Redacted(), k, got, v)
		}
	}
}

func runFetchCases(t *testing.T, cases []fetchCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t)
		})
	}
}

// pools returns a new pool with the certificates in the given PEM data.
func pools(pems ...[]byte) *x509.CertPool {
	p := x509.NewCertPool()
	for _, b := range pems {
		if !p.AppendCertsFromPEM(b) {
			panic("no certificate in PEM")
		}
	}
	return p
}

func originPEM(o *upstream.Origin) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: o.HTTPS.Certificate().Raw})
}

// connect opens a CONNECT tunnel to target by hand (net/http only sends
// CONNECT for https), then GETs /index.txt through it. It returns the
// CONNECT status and, if that was 200, the body.
func connect(t *testing.T, proxyAddr string, user *url.Userinfo, target string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", proxyAddr, timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: target}, Host: target, Header: http.Header{}}
	if user != nil {
		pass, _ := user.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user.Username()+":"+pass)))
	}
	if err := req.Write(c); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatalf("CONNECT %s through %s: %v", target, proxyAddr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, ""
	}
	fmt.Fprintf(c, "GET /index.txt HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target)
	inner, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("GET through the tunnel: %v", err)
	}
	defer inner.Body.Close()
	body, _ := io.ReadAll(inner.Body)
	return resp.StatusCode, string(body)
}

func TestSquid(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	s := upstream.StartSquid(t, upstream.SquidOptions{})
	if s.Kind != upstream.KindSquid || s.URL().String() != "http://"+s.Addr || s.TLSURL() != nil || s.CertPool() != nil {
		t.Errorf("Server = %+v, URL %v, TLSURL %v", s, s.URL(), s.TLSURL())
	}
	runFetchCases(t, []fetchCase{
		{name: "GET", proxy: s.URL(), target: o.URL("/index.txt"), wantStatus: 200, wantBody: upstream.Body,
			wantHeader: map[string]string{"Via": "(squid/"}},
		{name: "CONNECT to https", proxy: s.URL(), roots: o.CertPool(), target: o.TLSURL("/index.txt"),
			wantStatus: 200, wantConnect: 200, wantBody: upstream.Body},
	})
	t.Run("CONNECT to a plain port", func(t *testing.T) {
		t.Parallel()
		if status, body := connect(t, s.Addr, nil, o.Addr()); status != 200 || body != upstream.Body {
			t.Errorf("CONNECT %s = %d, %q; want 200, %q", o.Addr(), status, body, upstream.Body)
		}
	})
	t.Run("echo", func(t *testing.T) {
		t.Parallel()
		e := echo(t, s.URL(), o.URL("/echo"))
		if !strings.Contains(e.Header.Get("Via"), "squid") || e.RequestURI != "/echo" {
			t.Errorf("origin saw %+v, want a Via from squid and a path-only request URI", e)
		}
	})
}

func echo(t *testing.T, proxyURL *url.URL, target string) upstream.Echo {
	t.Helper()
	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL), DisableKeepAlives: true}
	resp, err := (&http.Client{Transport: tr, Timeout: timeout}).Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e upstream.Echo
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("decoding /echo: %v", err)
	}
	return e
}

func TestSquidAuthTLS(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	s := upstream.StartSquid(t, upstream.SquidOptions{Username: "alice", Password: "s3cret", TLS: true})
	if got, want := s.URL().String(), "http://alice:s3cret@"+s.Addr; got != want {
		t.Errorf("URL() = %s, want %s", got, want)
	}
	if got, want := s.TLSURL().String(), "https://alice:s3cret@"+s.TLSAddr; got != want {
		t.Errorf("TLSURL() = %s, want %s", got, want)
	}
	if strings.Contains(s.String(), "s3cret") {
		t.Errorf("String() = %q shows the password", s)
	}
	if pem, err := os.ReadFile(s.CertFile); err != nil || !bytes.Equal(pem, s.CertPEM) {
		t.Errorf("CertFile %s: %v, or its content is not CertPEM", s.CertFile, err)
	}
	wrong := url.UserPassword("alice", "wrong")
	both := pools(s.CertPEM, originPEM(o))
	runFetchCases(t, []fetchCase{
		{name: "GET without credentials", proxy: s.URLWith(nil), target: o.URL("/index.txt"), wantStatus: 407,
			wantHeader: map[string]string{"Proxy-Authenticate": `Basic realm="pacd-test"`}},
		{name: "GET with a wrong password", proxy: s.URLWith(wrong), target: o.URL("/index.txt"), wantStatus: 407},
		{name: "GET", proxy: s.URL(), target: o.URL("/index.txt"), wantStatus: 200, wantBody: upstream.Body},
		{name: "CONNECT", proxy: s.URL(), roots: o.CertPool(), target: o.TLSURL("/index.txt"),
			wantStatus: 200, wantConnect: 200, wantBody: upstream.Body},
		{name: "CONNECT without credentials", proxy: s.URLWith(nil), roots: o.CertPool(), target: o.TLSURL("/index.txt"),
			wantConnect: 407, wantErr: "Proxy Authentication Required"},
		{name: "CONNECT with a wrong password", proxy: s.URLWith(wrong), roots: o.CertPool(), target: o.TLSURL("/index.txt"),
			wantConnect: 407, wantErr: "Proxy Authentication Required"},
		{name: "TLS proxy GET", proxy: s.TLSURL(), roots: s.CertPool(), target: o.URL("/index.txt"),
			wantStatus: 200, wantBody: upstream.Body},
		{name: "TLS proxy CONNECT", proxy: s.TLSURL(), roots: both, target: o.TLSURL("/index.txt"),
			wantStatus: 200, wantConnect: 200, wantBody: upstream.Body},
		{name: "TLS proxy without credentials", proxy: s.TLSURLWith(nil), roots: s.CertPool(), target: o.URL("/index.txt"),
			wantStatus: 407},
		{name: "TLS proxy untrusted", proxy: s.TLSURL(), roots: o.CertPool(), target: o.URL("/index.txt"),
			wantErr: "certificate"},
	})
	t.Run("origin does not see the credentials", func(t *testing.T) {
		t.Parallel()
		e := echo(t, s.URL(), o.URL("/echo"))
		if e.Header.Get("Proxy-Authorization") != "" || !strings.Contains(e.Header.Get("Via"), "squid") {
			t.Errorf("origin saw headers %v, want a Via and no Proxy-Authorization", e.Header)
		}
	})
	t.Run("raw CONNECT", func(t *testing.T) {
		t.Parallel()
		if status, _ := connect(t, s.Addr, nil, o.Addr()); status != 407 {
			t.Errorf("CONNECT without credentials = %d, want 407", status)
		}
		if status, body := connect(t, s.Addr, s.URL().User, o.Addr()); status != 200 || body != upstream.Body {
			t.Errorf("CONNECT with credentials = %d, %q; want 200, %q", status, body, upstream.Body)
		}
	})
}

func TestTinyproxy(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	s := upstream.StartTinyproxy(t, upstream.TinyproxyOptions{})
	if s.Kind != upstream.KindTinyproxy || s.URL().String() != "http://"+s.Addr {
		t.Errorf("Server = %+v, URL %v", s, s.URL())
	}
	runFetchCases(t, []fetchCase{
		{name: "GET", proxy: s.URL(), target: o.URL("/index.txt"), wantStatus: 200, wantBody: upstream.Body,
			wantHeader: map[string]string{"Via": "(tinyproxy/"}},
		{name: "CONNECT to https", proxy: s.URL(), roots: o.CertPool(), target: o.TLSURL("/index.txt"),
			wantStatus: 200, wantConnect: 200, wantBody: upstream.Body},
	})
	t.Run("CONNECT to a plain port", func(t *testing.T) {
		t.Parallel()
		if status, body := connect(t, s.Addr, nil, o.Addr()); status != 200 || body != upstream.Body {
			t.Errorf("CONNECT %s = %d, %q; want 200, %q", o.Addr(), status, body, upstream.Body)
		}
	})
}

func TestTinyproxyAuth(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	s := upstream.StartTinyproxy(t, upstream.TinyproxyOptions{Username: "alice", Password: "s3cret"})
	wrong := url.UserPassword("alice", "wrong")
	runFetchCases(t, []fetchCase{
		{name: "GET without credentials", proxy: s.URLWith(nil), target: o.URL("/index.txt"), wantStatus: 407,
			wantHeader: map[string]string{"Proxy-Authenticate": "Basic"}},
		// tinyproxy's quirk: wrong credentials are a 401, not a 407.
		{name: "GET with a wrong password", proxy: s.URLWith(wrong), target: o.URL("/index.txt"), wantStatus: 401,
			wantHeader: map[string]string{"WWW-Authenticate": "Basic"}},
		{name: "GET", proxy: s.URL(), target: o.URL("/index.txt"), wantStatus: 200, wantBody: upstream.Body},
		{name: "CONNECT", proxy: s.URL(), roots: o.CertPool(), target: o.TLSURL("/index.txt"),
			wantStatus: 200, wantConnect: 200, wantBody: upstream.Body},
		{name: "CONNECT without credentials", proxy: s.URLWith(nil), roots: o.CertPool(), target: o.TLSURL("/index.txt"),
			wantConnect: 407, wantErr: "Proxy Authentication Required"},
		{name: "CONNECT with a wrong password", proxy: s.URLWith(wrong), roots: o.CertPool(), target: o.TLSURL("/index.txt"),
			wantConnect: 401, wantErr: "Unauthorized"},
	})
}

// socks5Get fetches target through the SOCKS5 proxy at addr with
// golang.org/x/net/proxy, net/http dialing through it.
func socks5Get(addr string, auth *proxy.Auth, roots *x509.CertPool, target string) (string, error) {
	d, err := proxy.SOCKS5("tcp", addr, auth, &net.Dialer{Timeout: timeout})
	if err != nil {
		return "", err
	}
	tr := &http.Transport{
		DialContext:       d.(proxy.ContextDialer).DialContext,
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: timeout}).Get(target)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return string(body), fmt.Errorf("status %s", resp.Status)
	}
	return string(body), err
}

// socksCase is one SOCKS5 request with golang.org/x/net/proxy.
type socksCase struct {
	name    string
	auth    *proxy.Auth
	target  string
	wantErr string // "" for success with upstream.Body
}

func runSocksCases(t *testing.T, s *upstream.Server, o *upstream.Origin, cases []socksCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			body, err := socks5Get(s.Addr, c.auth, o.CertPool(), c.target)
			switch {
			case c.wantErr == "" && (err != nil || body != upstream.Body):
				t.Errorf("SOCKS5 GET %s through %s = %q, %v; want %q", c.target, s, body, err, upstream.Body)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("SOCKS5 GET %s through %s: error %v, want one containing %q", c.target, s, err, c.wantErr)
			}
		})
	}
}

// socks4 sends a SOCKS4 CONNECT request for target over c and returns the
// reply code (0x5A is "granted"). A target host that is not an IPv4
// literal makes it a SOCKS4a request (DSTIP 0.0.0.1, host after the user).
func socks4(c net.Conn, target, userID string) (byte, error) {
	host, portStr, err := net.SplitHostPort(target)
	if err != nil {
		return 0, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return 0, err
	}
	req := []byte{4, 1} // VN, CD=CONNECT
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	ip := net.ParseIP(host).To4()
	if ip == nil {
		req = append(req, 0, 0, 0, 1)
	} else {
		req = append(req, ip...)
	}
	req = append(append(req, userID...), 0)
	if ip == nil {
		req = append(append(req, host...), 0)
	}
	if _, err := c.Write(req); err != nil {
		return 0, err
	}
	var reply [8]byte // VN=0, CD, DSTPORT, DSTIP
	if _, err := io.ReadFull(c, reply[:]); err != nil {
		return 0, err
	}
	if reply[0] != 0 {
		return reply[1], fmt.Errorf("SOCKS4 reply version %d, want 0", reply[0])
	}
	return reply[1], nil
}

// socks4Get fetches /index.txt from target through the SOCKS4 proxy at
// addr. It returns the reply code and, if granted, the body.
func socks4Get(t *testing.T, addr, target string) (byte, string, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	code, err := socks4(c, target, "pacd")
	if err != nil || code != 0x5A {
		return code, "", err
	}
	fmt.Fprintf(c, "GET /index.txt HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return code, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return code, string(body), err
}

func TestMicrosocks(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	s := upstream.StartMicrosocks(t, upstream.MicrosocksOptions{})
	if s.Kind != upstream.KindMicrosocks || s.URL().String() != "socks5://"+s.Addr {
		t.Errorf("Server = %+v, URL %v", s, s.URL())
	}
	runSocksCases(t, s, o, []socksCase{
		{name: "SOCKS5 http", target: o.URL("/index.txt")},
		{name: "SOCKS5 https", target: o.TLSURL("/index.txt")},
		{name: "SOCKS5 offering a password", auth: &proxy.Auth{User: "alice", Password: "s3cret"}, target: o.URL("/index.txt")},
	})
	runFetchCases(t, []fetchCase{
		{name: "net/http socks5 URL", proxy: s.URL(), roots: o.CertPool(), target: o.TLSURL("/index.txt"),
			wantStatus: 200, wantBody: upstream.Body},
	})
	t.Run("SOCKS4 is not spoken", func(t *testing.T) {
		t.Parallel()
		if code, _, err := socks4Get(t, s.Addr, o.Addr()); err == nil {
			t.Errorf("SOCKS4 CONNECT through microsocks: reply 0x%02X, want a closed connection", code)
		}
	})
}

func TestMicrosocksAuth(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	s := upstream.StartMicrosocks(t, upstream.MicrosocksOptions{Username: "alice", Password: "s3cret"})
	if got, want := s.URL().String(), "socks5://alice:s3cret@"+s.Addr; got != want {
		t.Errorf("URL() = %s, want %s", got, want)
	}
	runSocksCases(t, s, o, []socksCase{
		{name: "SOCKS5", auth: &proxy.Auth{User: "alice", Password: "s3cret"}, target: o.URL("/index.txt")},
		{name: "SOCKS5 https", auth: &proxy.Auth{User: "alice", Password: "s3cret"}, target: o.TLSURL("/index.txt")},
		{name: "wrong password", auth: &proxy.Auth{User: "alice", Password: "wrong"}, target: o.URL("/index.txt"),
			wantErr: "username/password authentication failed"},
		{name: "no credentials", target: o.URL("/index.txt"), wantErr: "no acceptable authentication methods"},
	})
	runFetchCases(t, []fetchCase{
		{name: "net/http socks5 URL", proxy: s.URL(), target: o.URL("/index.txt"), wantStatus: 200, wantBody: upstream.Body},
		{name: "net/http socks5 URL, wrong password", proxy: s.URLWith(url.UserPassword("alice", "wrong")),
			target: o.URL("/index.txt"), wantErr: "authentication failed"},
	})
}

func TestDante(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	s := upstream.StartDante(t, upstream.DanteOptions{})
	if s.Kind != upstream.KindDante || s.URL().String() != "socks5://"+s.Addr {
		t.Errorf("Server = %+v, URL %v", s, s.URL())
	}
	runSocksCases(t, s, o, []socksCase{
		{name: "SOCKS5 http", target: o.URL("/index.txt")},
		{name: "SOCKS5 https", target: o.TLSURL("/index.txt")},
	})
	runFetchCases(t, []fetchCase{
		{name: "net/http socks5 URL", proxy: s.URL(), target: o.URL("/index.txt"), wantStatus: 200, wantBody: upstream.Body},
	})
	t.Run("SOCKS4", func(t *testing.T) {
		t.Parallel()
		code, body, err := socks4Get(t, s.Addr, o.Addr())
		if err != nil || code != 0x5A || body != upstream.Body {
			t.Errorf("SOCKS4 GET through dante = 0x%02X, %q, %v; want 0x5A, %q", code, body, err, upstream.Body)
		}
	})
	t.Run("SOCKS4a is rejected", func(t *testing.T) {
		t.Parallel()
		_, port, _ := net.SplitHostPort(o.Addr())
		code, _, err := socks4Get(t, s.Addr, net.JoinHostPort("localhost", port))
		if err != nil || code != 0x5B {
			t.Errorf("SOCKS4a CONNECT through dante = 0x%02X, %v; want 0x5B (rejected)", code, err)
		}
	})
}

func TestDanteAuth(t *testing.T) {
	t.Parallel()
	hostPasswd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	o := upstream.StartOrigin(t)
	s := upstream.StartDante(t, upstream.DanteOptions{Username: "pacdsocks", Password: "s3cret"})
	t.Cleanup(func() {
		after, err := os.ReadFile("/etc/passwd")
		if err != nil || !bytes.Equal(after, hostPasswd) || bytes.Contains(after, []byte("pacdsocks")) {
			t.Errorf("the host's /etc/passwd changed (or is unreadable: %v)", err)
		}
	})
	runSocksCases(t, s, o, []socksCase{
		{name: "SOCKS5", auth: &proxy.Auth{User: "pacdsocks", Password: "s3cret"}, target: o.URL("/index.txt")},
		{name: "SOCKS5 https", auth: &proxy.Auth{User: "pacdsocks", Password: "s3cret"}, target: o.TLSURL("/index.txt")},
		{name: "wrong password", auth: &proxy.Auth{User: "pacdsocks", Password: "wrong"}, target: o.URL("/index.txt"),
			wantErr: "username/password authentication failed"},
		{name: "unknown user", auth: &proxy.Auth{User: "nosuchuser", Password: "s3cret"}, target: o.URL("/index.txt"),
			wantErr: "username/password authentication failed"},
		{name: "no credentials", target: o.URL("/index.txt"), wantErr: "no acceptable authentication methods"},
	})
	runFetchCases(t, []fetchCase{
		{name: "net/http socks5 URL", proxy: s.URL(), target: o.URL("/index.txt"), wantStatus: 200, wantBody: upstream.Body},
	})
	t.Run("SOCKS4 is rejected", func(t *testing.T) {
		t.Parallel()
		code, _, err := socks4Get(t, s.Addr, o.Addr())
		if err == nil && code == 0x5A {
			t.Errorf("SOCKS4 CONNECT through dante with username auth was granted")
		}
	})
}

func TestOrigin(t *testing.T) {
	t.Parallel()
	o := upstream.StartOrigin(t)
	direct := &http.Client{Timeout: timeout, Transport: &http.Transport{
		Proxy:           nil, // not even the environment's
		TLSClientConfig: &tls.Config{RootCAs: o.CertPool()},
	}}
	for _, addr := range []string{o.Addr(), o.TLSAddr()} {
		if host, _, _ := net.SplitHostPort(addr); !net.ParseIP(host).IsLoopback() {
			t.Errorf("origin listens on %s, not loopback", addr)
		}
	}
	tests := []struct {
		name, url, want string
	}{
		{"http", o.URL("/index.txt"), upstream.Body},
		{"https", o.TLSURL("/index.txt"), upstream.Body},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := direct.Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(body) != tt.want {
				t.Errorf("GET %s = %s, %q; want 200, %q", tt.url, resp.Status, body, tt.want)
			}
		})
	}
	t.Run("echo", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, o.TLSURL("/echo?x=1"), strings.NewReader("ignored"))
		req.Header.Set("X-Test", "yes")
		resp, err := direct.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e upstream.Echo
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			t.Fatal(err)
		}
		if e.Method != "POST" || e.RequestURI != "/echo?x=1" || !e.TLS || e.Header.Get("X-Test") != "yes" || e.Host != o.TLSAddr() {
			t.Errorf("echo = %+v", e)
		}
	})
	t.Run("https untrusted", func(t *testing.T) {
		_, err := (&http.Client{Timeout: timeout}).Get(o.TLSURL("/index.txt"))
		var verr *tls.CertificateVerificationError
		if !errors.As(err, &verr) {
			t.Errorf("GET without the origin's pool: %v, want a certificate verification error", err)
		}
	})
}

func TestBlackhole(t *testing.T) {
	t.Parallel()
	addr := upstream.StartBlackhole(t)
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var b [1]byte
	if n, err := c.Read(b[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read from the blackhole = %d, %v; want a timeout", n, err)
	}
	// As a proxy: the client's own timeout must fire.
	tr := &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: addr})}
	start := time.Now()
	_, err = (&http.Client{Transport: tr, Timeout: 200 * time.Millisecond}).Get("http://127.0.0.1:9/")
	var nerr net.Error
	if !errors.As(err, &nerr) || !nerr.Timeout() || time.Since(start) > 5*time.Second {
		t.Errorf("GET through the blackhole: %v after %v, want a client timeout", err, time.Since(start))
	}
}

func TestClosedAddr(t *testing.T) {
	t.Parallel()
	addr := upstream.ClosedAddr(t)
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
		t.Errorf("ClosedAddr = %s, want 127.0.0.1:port", addr)
	}
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err == nil {
		c.Close()
		t.Fatalf("dial %s succeeded, want connection refused", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial %s: %v, want ECONNREFUSED", addr, err)
	}
}
