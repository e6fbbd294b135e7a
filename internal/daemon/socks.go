package daemon

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/pacd/pacd/resolver"
)

// The SOCKS5 listener (RFC 1928), CONNECT only, with username/password
// authentication (RFC 1929) when the server has client credentials.

// SOCKS5 reply codes.
const (
	socksSucceeded          = 0
	socksGeneralFailure     = 1
	socksNotAllowed         = 2
	socksHostUnreachable    = 4
	socksConnectionRefused  = 5
	socksCommandUnsupported = 7
	socksAddressUnsupported = 8
)

var errSOCKSAuth = errors.New("authentication failed")

func (s *Server) serveSOCKS(c net.Conn) {
	l := &requestLog{start: time.Now(), client: c.RemoteAddr().String(), kind: "socks"}
	if !s.allowed(l.client) {
		// Not even a SOCKS answer: nothing to learn for a stranger.
		s.m.request("refused", 0)
		s.log.Warn("client not allowed", "client", l.client, "listener", "socks")
		return
	}
	defer s.logRequest(l)
	c.SetDeadline(time.Now().Add(s.cfg.ReadHeaderTimeout))
	host, port, err := s.socksHandshake(c)
	if err != nil {
		l.err = err
		l.status = http.StatusBadRequest
		if errors.Is(err, errSOCKSAuth) {
			l.status = http.StatusProxyAuthRequired
		}
		return
	}
	l.target = net.JoinHostPort(host, strconv.Itoa(int(port)))
	if s.isSelf(host, port) {
		l.status, l.err = http.StatusLoopDetected, errors.New("the target is this proxy")
		socksReply(c, socksNotAllowed, nil)
		return
	}
	c.SetDeadline(time.Time{})
	st := s.state.Load()
	ctx := context.Background()
	d, err := st.r.ResolveQuery(ctx, resolver.Query{Kind: resolver.TCPStream, Host: host, Port: port})
	if err != nil {
		l.status, l.err = http.StatusBadGateway, err
		socksReply(c, socksGeneralFailure, nil)
		return
	}
	l.decision = d
	up, via, err := st.r.Dial(ctx, d, "tcp", l.target)
	l.proxy = via
	if err != nil {
		l.status, l.err = errorStatus(err), err
		s.m.failed(err)
		socksReply(c, socksCode(err), nil)
		return
	}
	l.status = http.StatusOK
	if err := socksReply(c, socksSucceeded, up.LocalAddr()); err != nil {
		up.Close()
		l.err = err
		return
	}
	l.up, l.down = s.tunnel(c, up, nil)
}

// socksHandshake reads the client's greeting, authenticates it and reads
// its request, answering everything but the final reply.
func (s *Server) socksHandshake(c net.Conn) (string, uint16, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return "", 0, err
	}
	if hdr[0] != 5 {
		return "", 0, errors.New("not SOCKS5 (version " + strconv.Itoa(int(hdr[0])) + ")")
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(c, methods); err != nil {
		return "", 0, err
	}
	want := byte(0) // no authentication
	if s.cfg.Username != "" {
		want = 2 // username/password
	}
	offered := false
	for _, m := range methods {
		offered = offered || m == want
	}
	if !offered {
		c.Write([]byte{5, 0xff})
		return "", 0, errSOCKSAuth
	}
	if _, err := c.Write([]byte{5, want}); err != nil {
		return "", 0, err
	}
	if want == 2 {
		user, pass, err := readSOCKSLogin(c)
		if err != nil {
			return "", 0, err
		}
		if !s.checkCredentials(user, pass) {
			c.Write([]byte{1, 1})
			return "", 0, errSOCKSAuth
		}
		if _, err := c.Write([]byte{1, 0}); err != nil {
			return "", 0, err
		}
	}
	var req [4]byte
	if _, err := io.ReadFull(c, req[:]); err != nil {
		return "", 0, err
	}
	if req[0] != 5 {
		return "", 0, errors.New("bad request version")
	}
	if req[1] != 1 {
		socksReply(c, socksCommandUnsupported, nil)
		return "", 0, errors.New("command " + strconv.Itoa(int(req[1])) + " is not supported (CONNECT only)")
	}
	var host string
	switch req[3] {
	case 1, 4:
		b := make([]byte, 4)
		if req[3] == 4 {
			b = make([]byte, 16)
		}
		if _, err := io.ReadFull(c, b); err != nil {
			return "", 0, err
		}
		a, _ := netip.AddrFromSlice(b)
		host = a.Unmap().String()
	case 3:
		var n [1]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return "", 0, err
		}
		b := make([]byte, n[0])
		if _, err := io.ReadFull(c, b); err != nil {
			return "", 0, err
		}
		host = string(b)
		if host == "" {
			socksReply(c, socksAddressUnsupported, nil)
			return "", 0, errors.New("empty host name")
		}
	default:
		socksReply(c, socksAddressUnsupported, nil)
		return "", 0, errors.New("address type " + strconv.Itoa(int(req[3])) + " is not supported")
	}
	var pb [2]byte
	if _, err := io.ReadFull(c, pb[:]); err != nil {
		return "", 0, err
	}
	return host, binary.BigEndian.Uint16(pb[:]), nil
}

func readSOCKSLogin(c net.Conn) (string, string, error) {
	var v [2]byte
	if _, err := io.ReadFull(c, v[:]); err != nil {
		return "", "", err
	}
	if v[0] != 1 {
		return "", "", errors.New("bad username/password version")
	}
	u := make([]byte, v[1])
	if _, err := io.ReadFull(c, u); err != nil {
		return "", "", err
	}
	var pl [1]byte
	if _, err := io.ReadFull(c, pl[:]); err != nil {
		return "", "", err
	}
	p := make([]byte, pl[0])
	if _, err := io.ReadFull(c, p); err != nil {
		return "", "", err
	}
	return string(u), string(p), nil
}

// socksReply sends a reply with the bound address bound (or 0.0.0.0:0).
func socksReply(c net.Conn, code byte, bound net.Addr) error {
	b := []byte{5, code, 0}
	ap, err := netip.ParseAddrPort(addrString(bound))
	if err != nil {
		ap = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	}
	if a := ap.Addr().Unmap(); a.Is4() {
		v := a.As4()
		b = append(append(b, 1), v[:]...)
	} else {
		v := a.As16()
		b = append(append(b, 4), v[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, ap.Port())
	_, err = c.Write(b)
	return err
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// socksCode maps a failure to reach the target to a SOCKS5 reply.
func socksCode(err error) byte {
	var re *resolver.ProxyRefusedError
	var ae *resolver.ProxyAuthError
	switch {
	case errors.As(err, &ae):
		return socksNotAllowed
	case errors.As(err, &re):
		return socksConnectionRefused
	case errors.Is(err, resolver.ErrAllProxiesFailed):
		return socksHostUnreachable
	}
	return socksGeneralFailure
}
