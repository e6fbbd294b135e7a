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
	"testing"
	"time"

	"github.com/pacd/pacd/internal/daemon"
	"github.com/pacd/pacd/internal/recproxy"
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

// startCredStub starts a recording stub named name: an HTTP proxy
// (CONNECT and absolute form), a SOCKS5 proxy and an origin, whichever
// the first byte asks for; through a tunnel it is the origin. It answers
// "via <name>" and, in mode "407", asks for credentials it is not given.
func startCredStub(t *testing.T, name string, mode recproxy.Mode) *recproxy.Stub {
	return recproxy.Start(t, "127.0.0.1:0", recproxy.Options{Name: name, Mode: mode})
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
// tunnelled, a CONNECT to target (by connect) and a GET through the
// tunnel. auth, when not empty, is the client's Proxy-Authorization.
func credRequest(t *testing.T, pacd, target, auth string, tunnelled bool) (int, string) {
	t.Helper()
	var c net.Conn
	if tunnelled {
		var hdr http.Header
		if auth != "" {
			hdr = http.Header{"Proxy-Authorization": {auth}}
		}
		var resp *http.Response
		c, resp = connect(t, pacd, target, hdr)
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", target)
	} else {
		var err error
		if c, err = net.Dial("tcp", pacd); err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		hdr := ""
		if auth != "" {
			hdr = "Proxy-Authorization: " + auth + "\r\n"
		}
		fmt.Fprintf(c, "GET http://%s/ HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n", target, target, hdr)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
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
	target := origin.Addr()

	t.Run("HTTP listener with client authentication", func(t *testing.T) {
		up := startCredStub(t, "up", "")
		ts := startServer(t, daemon.Config{Username: clientUser, Password: clientPass},
			pacdResolver(t, "PROXY "+up.Addr(), "http://"+upUser+":"+upPass+"@"+up.Addr()))
		for _, connect := range []bool{false, true} {
			status, body := credRequest(t, ts.http, target, clientAuth, connect)
			if status != http.StatusOK || body != "via up" {
				t.Errorf("connect=%v: %d %q, want 200 via up", connect, status, body)
			}
			raw, auths, _ := up.Take()
			noClientSecrets(t, raw, "the upstream")
			expectAuths(t, fmt.Sprintf("the upstream (connect=%v)", connect), auths, []string{"http " + upAuth})
		}
		raw, auths, conns := origin.Take()
		noClientSecrets(t, raw, "the origin")
		if conns != 0 || len(auths) != 0 {
			t.Errorf("the origin was reached directly (%d connections, offered %q)", conns, auths)
		}
	})

	t.Run("client credentials sent by mistake", func(t *testing.T) {
		up := startCredStub(t, "up", "")
		ts := startServer(t, daemon.Config{}, pacdResolver(t, "PROXY "+up.Addr()))
		for _, connect := range []bool{false, true} {
			status, body := credRequest(t, ts.http, target, clientAuth, connect)
			if status != http.StatusOK || body != "via up" {
				t.Errorf("connect=%v: %d %q, want 200 via up", connect, status, body)
			}
			raw, auths, _ := up.Take()
			noClientSecrets(t, raw, "the upstream")
			expectAuths(t, fmt.Sprintf("the upstream (connect=%v)", connect), auths, nil)
		}
	})

	t.Run("client credentials, DIRECT", func(t *testing.T) {
		ts := startServer(t, daemon.Config{}, pacdResolver(t, "DIRECT"))
		origin.Take()
		for _, connect := range []bool{false, true} {
			status, body := credRequest(t, ts.http, target, clientAuth, connect)
			if status != http.StatusOK || body != "via origin" {
				t.Errorf("connect=%v: %d %q, want 200 via origin", connect, status, body)
			}
			raw, auths, _ := origin.Take()
			noClientSecrets(t, raw, "the origin")
			expectAuths(t, "the origin", auths, nil)
		}
	})

	t.Run("SOCKS5 listener with client authentication", func(t *testing.T) {
		upSOCKS := startCredStub(t, "up-socks", "")
		upHTTP := startCredStub(t, "up-http", "")
		for _, tc := range []struct {
			up   *recproxy.Stub
			pac  string
			cred string
			want []string
		}{
			{upSOCKS, "SOCKS5 " + upSOCKS.Addr(), "socks5://" + upUser + ":" + upPass + "@" + upSOCKS.Addr(), []string{"socks5 " + upUser + ":" + upPass}},
			{upSOCKS, "SOCKS5 " + upSOCKS.Addr(), "", nil},
			{upHTTP, "PROXY " + upHTTP.Addr(), "http://" + upUser + ":" + upPass + "@" + upHTTP.Addr(), []string{"http " + upAuth}},
			{upHTTP, "PROXY " + upHTTP.Addr(), "", nil},
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
			if want := "via " + tc.up.Name(); string(b) != want {
				t.Errorf("%s: %q, want %q", tc.pac, b, want)
			}
			raw, auths, _ := tc.up.Take()
			noClientSecrets(t, raw, tc.up.Name())
			expectAuths(t, tc.up.Name()+" for "+tc.pac, auths, tc.want)
			ts.shutdown(t, 5*time.Second)
		}
	})

	t.Run("upstream wants credentials pacd does not have", func(t *testing.T) {
		want := startCredStub(t, "wants-auth", "407")
		other := startCredStub(t, "other", "")
		ts := startServer(t, daemon.Config{Username: clientUser, Password: clientPass},
			pacdResolver(t, "PROXY "+want.Addr()+"; PROXY "+other.Addr(), "http://"+upUser+":"+upPass+"@"+other.Addr()))
		for _, connect := range []bool{false, true} {
			status, body := credRequest(t, ts.http, target, clientAuth, connect)
			if status != http.StatusProxyAuthRequired {
				t.Errorf("connect=%v: %d %q, want 407", connect, status, body)
			}
			raw, auths, conns := want.Take()
			noClientSecrets(t, raw, "the upstream asking for credentials")
			expectAuths(t, "the upstream asking for credentials", auths, nil)
			if conns == 0 {
				t.Errorf("connect=%v: the upstream was never asked", connect)
			}
			_, auths, conns = other.Take()
			if conns != 0 || len(auths) != 0 {
				t.Errorf("connect=%v: the next entry was tried after a 407 (%d connections, offered %q)", connect, conns, auths)
			}
		}
	})

	t.Run("reload removes the credentials", func(t *testing.T) {
		up := startCredStub(t, "up", "")
		ts := startServer(t, daemon.Config{}, pacdResolver(t, "PROXY "+up.Addr(), "http://"+upUser+":"+upPass+"@"+up.Addr()))
		for _, connect := range []bool{false, true} {
			credRequest(t, ts.http, target, "", connect)
		}
		_, auths, _ := up.Take()
		expectAuths(t, "the upstream before the reload", auths, []string{"http " + upAuth, "http " + upAuth})
		ts.srv.SetResolver(newResolver(t, pacdResolver(t, "PROXY "+up.Addr())))
		for _, connect := range []bool{false, true} {
			status, body := credRequest(t, ts.http, target, "", connect)
			if status != http.StatusOK || body != "via up" {
				t.Errorf("connect=%v: %d %q, want 200 via up", connect, status, body)
			}
		}
		raw, auths, _ := up.Take()
		expectAuths(t, "the upstream after the reload", auths, nil)
		if bytes.Contains(raw, []byte(upPass)) || strings.Contains(string(raw), upAuth[len("Basic "):]) {
			t.Errorf("the upstream received the removed credentials after the reload: %q", raw)
		}
	})
}
