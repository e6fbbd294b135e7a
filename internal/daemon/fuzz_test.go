package daemon_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacd/pacd/internal/daemon"
	"github.com/pacd/pacd/resolver"
)

// The fuzz targets throw arbitrary bytes at the two listeners of one
// server per fuzzing process. Whatever the bytes ask for, the server may
// only ever dial loopback: its resolver's Dial refuses anything else
// before a name is even looked up.

var (
	fuzzOnce sync.Once
	fuzzHTTP string
	fuzzSOCK string
)

func fuzzServer(t *testing.T) (httpAddr, socksAddr string) {
	fuzzOnce.Do(func() {
		r, err := resolver.New(&resolver.Config{
			ProxyLoopback: true,
			DialTimeout:   200 * time.Millisecond,
			Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				ap, err := netip.ParseAddrPort(addr)
				if err != nil || !ap.Addr().Unmap().IsLoopback() {
					return nil, errors.New("fuzz: only loopback may be dialed")
				}
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		srv := daemon.New(daemon.Config{
			Logger:            slog.New(slog.DiscardHandler),
			ReadHeaderTimeout: 200 * time.Millisecond,
			MaxHeaderBytes:    4 << 10,
		}, r)
		hl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		sl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(hl)
		go srv.ServeSOCKS(sl)
		fuzzHTTP, fuzzSOCK = hl.Addr().String(), sl.Addr().String()
	})
	return fuzzHTTP, fuzzSOCK
}

// exchange writes b to addr and reads what comes back until the server
// closes or a second passes; it fails if the server neither answers nor
// closes within the bound.
func exchange(t *testing.T, addr string, b []byte) []byte {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("the server stopped accepting: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	c.Write(b)
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	out, err := io.ReadAll(io.LimitReader(c, 1<<16))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server held %q for 2 s without answering or closing", b)
	}
	return out
}

// FuzzHTTPProxy sends raw bytes as requests to the HTTP listener: request
// lines, CONNECT targets, absolute-form URLs, headers over the limit,
// conflicting lengths. The server must answer or close within its bounds,
// never panic, and keep serving.
func FuzzHTTPProxy(f *testing.F) {
	for _, s := range []string{
		"GET /status HTTP/1.1\r\nHost: x\r\n\r\n",                                                                          // a page
		"GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n",                                                    // forward to a closed port
		"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",                                                    // forward beyond loopback (refused by Dial)
		"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n",                                                        // tunnel to a closed port
		"CONNECT [::1]:0 HTTP/1.1\r\n\r\n",                                                                                 // port 0
		"CONNECT example.com HTTP/1.1\r\n\r\n",                                                                             // no port
		"POST http://127.0.0.1:1/ HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", // smuggling shape
		"GET http://a/ HTTP/1.1\r\nX: " + strings.Repeat("y", 8000) + "\r\n\r\n",                                           // headers over the limit
		"GET http://a/\r\n\r\n", "\x16\x03\x01\x00\xa5", "GET", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		addr, _ := fuzzServer(t)
		exchange(t, addr, b)
		// The server still serves.
		out := exchange(t, addr, []byte("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
		if !strings.HasPrefix(string(out), "HTTP/1.1 200") {
			t.Fatalf("after %q the server answers %q", b, firstLine(out))
		}
	})
}

// FuzzSOCKS5Handshake sends raw bytes to the SOCKS5 listener.
func FuzzSOCKS5Handshake(f *testing.F) {
	for _, b := range [][]byte{
		{5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 1},                                   // CONNECT 127.0.0.1:1
		{5, 1, 0, 5, 1, 0, 3, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0, 1}, // a name
		{5, 1, 0, 5, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1}, // ::1
		{5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 1},                                   // BIND
		{5, 1, 0, 5, 1, 0, 3, 0, 0, 80},                                             // an empty name
		{5, 0}, {5, 255}, {4, 1, 0, 80, 127, 0, 0, 1, 0},                            // SOCKS4
		{5, 1, 2, 1, 1, 'a', 1, 'b'}, // a login nobody asked for
		{},
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, addr := fuzzServer(t)
		exchange(t, addr, b)
		out := exchange(t, addr, []byte{5, 1, 0})
		if len(out) < 2 || out[0] != 5 || out[1] != 0 {
			t.Fatalf("after %q the SOCKS listener answers a greeting with %q", b, out)
		}
	})
}

func firstLine(b []byte) string {
	line, _, _ := bufio.NewReader(strings.NewReader(string(b))).ReadLine()
	return string(line)
}
