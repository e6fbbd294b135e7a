package recproxy_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pacd/pacd/internal/recproxy"
)

func TestListenLoopbackOnly(t *testing.T) {
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "localhost:0", "192.0.2.1:0", "[2001:db8::1]:0", "example.com:0", "127.0.0.1"} {
		if s, err := recproxy.Listen(addr, recproxy.Options{}); err == nil {
			s.Close()
			t.Errorf("Listen(%q): listening on %s, want an error", addr, s.Addr())
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "127.0.0.2:0", "[::1]:0"} {
		s, err := recproxy.Listen(addr, recproxy.Options{})
		if err != nil {
			if addr == "[::1]:0" {
				t.Logf("Listen(%q): %v (no IPv6 loopback here)", addr, err)
				continue
			}
			t.Errorf("Listen(%q): %v", addr, err)
			continue
		}
		s.Close()
	}
}

// exchange sends raw to s and returns the answer's status and body.
func exchange(t *testing.T, s *recproxy.Stub, raw string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, raw)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRecording(t *testing.T) {
	s := recproxy.Start(t, "127.0.0.1:0", recproxy.Options{Name: "p", Mode: recproxy.Want})
	if st, _ := exchange(t, s, "GET http://o.example/ HTTP/1.1\r\nHost: o.example\r\n\r\n"); st != http.StatusProxyAuthRequired {
		t.Errorf("without credentials: %d, want 407", st)
	}
	st, body := exchange(t, s, "GET http://o.example/ HTTP/1.1\r\nHost: o.example\r\nProxy-Authorization: Basic eA==\r\n\r\n")
	if st != http.StatusOK || body != "via p" {
		t.Errorf("with credentials: %d %q, want 200 via p", st, body)
	}
	exchange(t, s, "GET / HTTP/1.1\r\nHost: o.example\r\nProxy-Authorization: Basic eQ==\r\n\r\n")
	raw, auths, conns := s.Take()
	if want := []string{"http Basic eA==", "origin Basic eQ=="}; !slices.Equal(auths, want) || conns != 3 || !strings.Contains(string(raw), "Basic eA==") {
		t.Errorf("recorded %q, %d connections, %d bytes; want %q, 3", auths, conns, len(raw), want)
	}
	if raw, auths, conns := s.Seen(); len(raw) != 0 || len(auths) != 0 || conns != 0 {
		t.Errorf("after Take: %q, %q, %d; want nothing", raw, auths, conns)
	}
}
