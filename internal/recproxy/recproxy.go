// Package recproxy is a recording proxy stub for tests: a listener on
// loopback that plays an HTTP proxy (absolute form and CONNECT), an
// HTTPS proxy, a SOCKS4 or SOCKS5 proxy or an origin, whichever the
// first bytes of a connection ask for, and records every byte it
// receives and every credential it is offered. Through a tunnel, and for
// a request in origin form, it is an origin, and it answers every
// request it serves with a 200 whose body is "via <name>": a test
// learns from the body which stub carried a connection, and from the
// record what each stub was given.
//
// A stub listens only on a loopback address (127.0.0.0/8 or ::1) and
// refuses any other: what a test offers it may be credentials, and it
// never reaches beyond the machine.
//
// Only tests import this package (internal/deptest checks that).
package recproxy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mode is how a stub answers the proxy requests it is given. An origin
// (a request in origin form, or one inside a tunnel) is always served.
type Mode string

const (
	// Serve carries every request.
	Serve Mode = ""
	// Want asks for credentials it is not given: an HTTP request
	// without Proxy-Authorization gets a 407 with a Basic challenge; a
	// SOCKS5 client that offers no login gets "no acceptable methods";
	// SOCKS4 is rejected.
	Want Mode = "407"
	// Refuse refuses every request: HTTP 403, SOCKS5 reply 2 (not
	// allowed by the rule set), SOCKS4 rejected.
	Refuse Mode = "403"
	// Hangup reads the HTTP request or the SOCKS greeting, then closes
	// the connection without a word.
	Hangup Mode = "hangup"
)

// The prefixes of the credentials a stub records, as returned by Seen
// and Take: "http " and the Proxy-Authorization of a proxy request,
// "origin " and the Proxy-Authorization of a request in origin form or
// inside a tunnel, "socks5 user:pass" for an RFC 1929 login, "socks4
// user" for a SOCKS4 user ID that is not empty.
const (
	AuthHTTP   = "http "
	AuthOrigin = "origin "
	AuthSOCKS5 = "socks5 "
	AuthSOCKS4 = "socks4 "
)

// Options are a stub's name, mode and TLS configuration.
type Options struct {
	// Name is what the stub answers: "via <Name>".
	Name string
	Mode Mode
	// TLS, when not nil, makes a connection that opens with a TLS
	// handshake an HTTPS proxy's: the stub completes the handshake and
	// serves HTTP inside, recording the TLS records and their plaintext
	// both. With nil, such a connection is not understood.
	TLS *tls.Config
}

// connDeadline bounds every connection a stub serves.
const connDeadline = 5 * time.Second

// Stub is one recording listener. Its methods are safe for concurrent
// use.
type Stub struct {
	opts Options
	ln   net.Listener

	mu    sync.Mutex
	raw   []byte
	auths []string
	conns int
}

// Listen starts a stub on addr, a loopback IP address and a port
// ("127.0.0.1:0", "[::1]:0"). It refuses any other address, a name such
// as localhost included. Close stops it.
func Listen(addr string, o Options) (*Stub, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("recproxy: %w", err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("recproxy: %q is not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("recproxy: %w", err)
	}
	if a, ok := ln.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("recproxy: listening on %s, not loopback", ln.Addr())
	}
	s := &Stub{opts: o, ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s, nil
}

// Start is Listen for a test: it fails t if the stub cannot listen, and
// closes the stub when t ends.
func Start(t testing.TB, addr string, o Options) *Stub {
	t.Helper()
	s, err := Listen(addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Addr is the address the stub listens on.
func (s *Stub) Addr() string { return s.ln.Addr().String() }

// Name is the stub's name, as it answers "via <name>".
func (s *Stub) Name() string { return s.opts.Name }

// Close stops the stub listening. Connections it is serving end at
// their deadline, at the latest.
func (s *Stub) Close() error { return s.ln.Close() }

// Seen returns what the stub has recorded so far: every byte it
// received, the credentials it was offered, in order (see AuthHTTP), and
// how many connections it accepted.
func (s *Stub) Seen() (raw []byte, auths []string, conns int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.raw), slices.Clone(s.auths), s.conns
}

// Take is Seen, and forgets it: the next Take returns only what comes
// after.
func (s *Stub) Take() (raw []byte, auths []string, conns int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw, auths, conns = s.raw, s.auths, s.conns
	s.raw, s.auths, s.conns = nil, nil, 0
	return raw, auths, conns
}

func (s *Stub) record(b []byte) {
	s.mu.Lock()
	s.raw = append(s.raw, b...)
	s.mu.Unlock()
}

func (s *Stub) offered(a string) {
	s.mu.Lock()
	s.auths = append(s.auths, a)
	s.mu.Unlock()
}

// recConn records what is read from it.
type recConn struct {
	net.Conn
	s *Stub
}

func (c *recConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.s.record(b[:n])
	return n, err
}

// readerConn reads through r, which has buffered the connection's first
// bytes.
type readerConn struct {
	net.Conn
	r io.Reader
}

func (c *readerConn) Read(b []byte) (int, error) { return c.r.Read(b) }

func (s *Stub) serve(c net.Conn) {
	defer c.Close()
	s.mu.Lock()
	s.conns++
	s.mu.Unlock()
	c.SetDeadline(time.Now().Add(connDeadline))
	var conn net.Conn = &recConn{Conn: c, s: s}
	br := bufio.NewReader(conn)
	first, err := br.Peek(1)
	if err != nil {
		return
	}
	switch {
	case first[0] == 0x16 && s.opts.TLS != nil: // a TLS handshake: an HTTPS proxy
		tc := tls.Server(&readerConn{Conn: conn, r: br}, s.opts.TLS)
		if tc.Handshake() != nil {
			return
		}
		conn = &recConn{Conn: tc, s: s}
		s.serveHTTP(conn, bufio.NewReader(conn))
	case first[0] == 5:
		s.serveSOCKS5(conn, br)
	case first[0] == 4:
		s.serveSOCKS4(conn, br)
	default:
		s.serveHTTP(conn, br)
	}
}

func (s *Stub) serveHTTP(c net.Conn, br *bufio.Reader) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	auth := req.Header.Get("Proxy-Authorization")
	if req.Method != http.MethodConnect && !req.URL.IsAbs() {
		s.answerOrigin(c, req)
		return
	}
	if auth != "" {
		s.offered(AuthHTTP + auth)
	}
	switch {
	case s.opts.Mode == Hangup:
		return
	case s.opts.Mode == Want && auth == "":
		io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"stub\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	case s.opts.Mode == Refuse:
		io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	}
	if req.Method == http.MethodConnect {
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		s.serveOrigin(c, br)
		return
	}
	s.answer(c)
}

// serveOrigin answers one request inside a tunnel.
func (s *Stub) serveOrigin(c net.Conn, br *bufio.Reader) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	s.answerOrigin(c, req)
}

// answerOrigin answers req as an origin, recording the
// Proxy-Authorization it should not carry.
func (s *Stub) answerOrigin(c net.Conn, req *http.Request) {
	if a := req.Header.Get("Proxy-Authorization"); a != "" {
		s.offered(AuthOrigin + a)
	}
	s.answer(c)
}

func (s *Stub) answer(c net.Conn) {
	body := "via " + s.opts.Name
	fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
}

// readShort reads a byte string preceded by its length in one byte, as
// SOCKS5 sends its methods, user names and passwords.
func readShort(br *bufio.Reader) ([]byte, error) {
	n, err := br.ReadByte()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	_, err = io.ReadFull(br, b)
	return b, err
}

func (s *Stub) serveSOCKS5(c net.Conn, br *bufio.Reader) {
	if _, err := br.ReadByte(); err != nil { // the version
		return
	}
	methods, err := readShort(br)
	if err != nil || s.opts.Mode == Hangup {
		return
	}
	switch {
	case bytes.IndexByte(methods, 2) >= 0:
		c.Write([]byte{5, 2})
		if _, err := br.ReadByte(); err != nil { // the subnegotiation's version
			return
		}
		user, err := readShort(br)
		if err != nil {
			return
		}
		pass, err := readShort(br)
		if err != nil {
			return
		}
		s.offered(AuthSOCKS5 + string(user) + ":" + string(pass))
		c.Write([]byte{1, 0})
	case s.opts.Mode == Want:
		c.Write([]byte{5, 0xff})
		return
	default:
		c.Write([]byte{5, 0})
	}
	var req [4]byte
	if _, err := io.ReadFull(br, req[:]); err != nil {
		return
	}
	var skip int
	switch req[3] {
	case 1:
		skip = 4
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
	if s.opts.Mode == Refuse {
		c.Write([]byte{5, 2, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	s.serveOrigin(c, br)
}

func (s *Stub) serveSOCKS4(c net.Conn, br *bufio.Reader) {
	var req [8]byte
	if _, err := io.ReadFull(br, req[:]); err != nil {
		return
	}
	user, err := br.ReadString(0)
	if err != nil {
		return
	}
	if user = strings.TrimSuffix(user, "\x00"); user != "" {
		s.offered(AuthSOCKS4 + user)
	}
	if req[4] == 0 && req[5] == 0 && req[6] == 0 && req[7] != 0 {
		if _, err := br.ReadString(0); err != nil { // SOCKS4a's name
			return
		}
	}
	switch s.opts.Mode {
	case Hangup:
		return
	case Refuse, Want:
		c.Write([]byte{0, 91, 0, 0, 0, 0, 0, 0})
		return
	}
	c.Write([]byte{0, 90, 0, 0, 0, 0, 0, 0})
	s.serveOrigin(c, br)
}
