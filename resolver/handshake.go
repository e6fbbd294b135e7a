package resolver

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// The handshakes that turn a connection to a proxy into a connection to
// the target: HTTP CONNECT (RFC 9110, section 9.3.6), SOCKS4 and SOCKS4a,
// SOCKS5 (RFC 1928) with username/password authentication (RFC 1929).
// An I/O failure in the middle of one means the proxy cannot be used
// (*ReachError); an answer that refuses is a *ProxyRefusedError or a
// *ProxyAuthError.

func handshakeFailed(p Proxy, err error) error {
	return &ReachError{Proxy: p.WithoutCredentials(), Err: fmt.Errorf("handshake: %w", err)}
}

// basicAuth is the value of a Basic Proxy-Authorization header.
func basicAuth(p Proxy) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(p.Username+":"+p.Password))
}

// httpConnect asks the HTTP proxy at the other end of c for a tunnel to
// addr.
func httpConnect(c net.Conn, p Proxy, addr string) (net.Conn, error) {
	var b strings.Builder
	b.WriteString("CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n")
	if p.HasCredentials() {
		b.WriteString("Proxy-Authorization: " + basicAuth(p) + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		return nil, handshakeFailed(p, err)
	}
	// The answer's size is bounded: http.ReadResponse reads a header
	// line of any length, and a hostile or broken proxy could send one
	// without end until the dial timeout.
	lr := &io.LimitedReader{R: c, N: maxConnectAnswer}
	br := bufio.NewReader(lr)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil && lr.N <= 0 {
		err = fmt.Errorf("answer to CONNECT longer than %d bytes", maxConnectAnswer)
	}
	if err != nil {
		return nil, handshakeFailed(p, err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusProxyAuthRequired || resp.StatusCode == http.StatusUnauthorized:
		// tinyproxy answers wrong credentials with 401 and WWW-Authenticate.
		ch := resp.Header.Get("Proxy-Authenticate")
		if ch == "" {
			ch = resp.Header.Get("Www-Authenticate")
		}
		return nil, &ProxyAuthError{Proxy: p.WithoutCredentials(), HadCreds: p.HasCredentials(), Status: resp.StatusCode, Challenge: ch}
	default:
		return nil, &ProxyRefusedError{Proxy: p.WithoutCredentials(), Target: addr, Status: resp.StatusCode, Reason: resp.Status}
	}
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: c, r: br}, nil
	}
	return c, nil
}

// maxConnectAnswer bounds a proxy's answer to CONNECT, its status line
// and headers: net/http's default for a request's headers.
const maxConnectAnswer = 1 << 20

// bufferedConn is a tunnel whose first bytes were read along with the
// proxy's answer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) {
	if c.r.Buffered() > 0 {
		return c.r.Read(b)
	}
	return c.Conn.Read(b)
}

// CloseWrite half-closes the tunnel when the connection under it can be.
func (c *bufferedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

// splitTarget splits host:port for a SOCKS request.
func splitTarget(addr string) (string, uint16, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("resolver: target %q: %v", addr, err)
	}
	n, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("resolver: target %q: invalid port", addr)
	}
	return host, uint16(n), nil
}

// resolveTarget resolves a target name here, for the SOCKS types that do
// not let the proxy do it.
func (d *dialer) resolveTarget(ctx context.Context, network, host string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap(), nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resolver: resolving %s for the SOCKS proxy: %w", host, err)
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("resolver: %s has no address", host)
	}
	return addrs[0].Unmap(), nil
}

var socks4Replies = map[byte]string{
	91: "request rejected or failed",
	92: "request rejected: the proxy cannot reach the client's identd",
	93: "request rejected: identd reports a different user",
}

// socks4 asks the SOCKS4 or SOCKS4a proxy at the other end of c for a
// connection to addr. SOCKS4 takes an IPv4 address, resolved here;
// SOCKS4a takes the name.
func (d *dialer) socks4(ctx context.Context, c net.Conn, p Proxy, addr string) (net.Conn, error) {
	host, port, err := splitTarget(addr)
	if err != nil {
		return nil, err
	}
	req := []byte{4, 1, byte(port >> 8), byte(port)}
	var name string
	a, isIP := netip.ParseAddr(host)
	switch {
	case isIP == nil && !a.Unmap().Is4():
		return nil, fmt.Errorf("resolver: %s cannot carry a connection to the IPv6 address %s", p.WithoutCredentials(), host)
	case isIP == nil:
		b := a.Unmap().As4()
		req = append(req, b[:]...)
	case p.Type == SOCKS4A:
		req = append(req, 0, 0, 0, 1)
		name = host
	default:
		ip, err := d.resolveTarget(ctx, "ip4", host)
		if err != nil {
			return nil, err
		}
		b := ip.As4()
		req = append(req, b[:]...)
	}
	req = append(req, p.Username...)
	req = append(req, 0)
	if name != "" {
		req = append(req, name...)
		req = append(req, 0)
	}
	if _, err := c.Write(req); err != nil {
		return nil, handshakeFailed(p, err)
	}
	var reply [8]byte
	if _, err := io.ReadFull(c, reply[:]); err != nil {
		return nil, handshakeFailed(p, err)
	}
	if reply[0] != 0 {
		return nil, handshakeFailed(p, fmt.Errorf("not a SOCKS4 reply (version %d)", reply[0]))
	}
	if reply[1] != 90 {
		why := socks4Replies[reply[1]]
		if why == "" {
			why = "reply code " + strconv.Itoa(int(reply[1]))
		}
		return nil, &ProxyRefusedError{Proxy: p.WithoutCredentials(), Target: addr, Reason: why}
	}
	return c, nil
}

var socks5Replies = [...]string{
	1: "general SOCKS server failure",
	2: "connection not allowed by ruleset",
	3: "network unreachable",
	4: "host unreachable",
	5: "connection refused",
	6: "TTL expired",
	7: "command not supported",
	8: "address type not supported",
}

// socks5 asks the SOCKS5 proxy at the other end of c for a connection to
// addr, authenticating with username and password (RFC 1929) when p has
// them. SOCKS5H sends the target's name; SOCKS5 resolves it here.
func (d *dialer) socks5(ctx context.Context, c net.Conn, p Proxy, addr string) (net.Conn, error) {
	host, port, err := splitTarget(addr)
	if err != nil {
		return nil, err
	}
	greeting := []byte{5, 1, 0}
	if p.HasCredentials() {
		greeting = []byte{5, 2, 0, 2}
	}
	if _, err := c.Write(greeting); err != nil {
		return nil, handshakeFailed(p, err)
	}
	var sel [2]byte
	if _, err := io.ReadFull(c, sel[:]); err != nil {
		return nil, handshakeFailed(p, err)
	}
	if sel[0] != 5 {
		return nil, handshakeFailed(p, fmt.Errorf("not a SOCKS5 reply (version %d)", sel[0]))
	}
	switch sel[1] {
	case 0:
	case 2:
		if !p.HasCredentials() {
			return nil, &ProxyAuthError{Proxy: p.WithoutCredentials()}
		}
		if len(p.Username) > 255 || len(p.Password) > 255 {
			return nil, fmt.Errorf("resolver: %s: user name or password longer than 255 bytes", p.WithoutCredentials())
		}
		auth := []byte{1, byte(len(p.Username))}
		auth = append(auth, p.Username...)
		auth = append(auth, byte(len(p.Password)))
		auth = append(auth, p.Password...)
		if _, err := c.Write(auth); err != nil {
			return nil, handshakeFailed(p, err)
		}
		var st [2]byte
		if _, err := io.ReadFull(c, st[:]); err != nil {
			return nil, handshakeFailed(p, err)
		}
		if st[1] != 0 {
			return nil, &ProxyAuthError{Proxy: p.WithoutCredentials(), HadCreds: true}
		}
	case 0xff:
		return nil, &ProxyAuthError{Proxy: p.WithoutCredentials(), HadCreds: p.HasCredentials()}
	default:
		return nil, handshakeFailed(p, fmt.Errorf("the proxy chose authentication method %d, which was not offered", sel[1]))
	}

	req := []byte{5, 1, 0}
	a, perr := netip.ParseAddr(host)
	if perr != nil && p.Type == SOCKS5 {
		if a, err = d.resolveTarget(ctx, "ip", host); err != nil {
			return nil, err
		}
		perr = nil
	}
	switch {
	case perr == nil && a.Unmap().Is4():
		b := a.Unmap().As4()
		req = append(append(req, 1), b[:]...)
	case perr == nil:
		b := a.As16()
		req = append(append(req, 4), b[:]...)
	default:
		if len(host) > 255 {
			return nil, fmt.Errorf("resolver: host name %q is too long for SOCKS5", host)
		}
		req = append(append(req, 3, byte(len(host))), host...)
	}
	req = binary.BigEndian.AppendUint16(req, port)
	if _, err := c.Write(req); err != nil {
		return nil, handshakeFailed(p, err)
	}
	var head [4]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		return nil, handshakeFailed(p, err)
	}
	if head[0] != 5 {
		return nil, handshakeFailed(p, fmt.Errorf("not a SOCKS5 reply (version %d)", head[0]))
	}
	if head[1] != 0 {
		why := "reply code " + strconv.Itoa(int(head[1]))
		if int(head[1]) < len(socks5Replies) && socks5Replies[head[1]] != "" {
			why = socks5Replies[head[1]]
		}
		return nil, &ProxyRefusedError{Proxy: p.WithoutCredentials(), Target: addr, Reason: why}
	}
	// The bound address, which nobody needs.
	var skip int
	switch head[3] {
	case 1:
		skip = 4
	case 4:
		skip = 16
	case 3:
		var l [1]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return nil, handshakeFailed(p, err)
		}
		skip = int(l[0])
	default:
		return nil, handshakeFailed(p, errors.New("bad address type in the reply"))
	}
	if _, err := io.ReadFull(c, make([]byte, skip+2)); err != nil {
		return nil, handshakeFailed(p, err)
	}
	return c, nil
}
