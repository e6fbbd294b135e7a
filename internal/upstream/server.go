package upstream

import (
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"
)

// Kind names the daemon behind a [Server].
type Kind string

// The daemons this package can start.
const (
	KindSquid      Kind = "squid"
	KindTinyproxy  Kind = "tinyproxy"
	KindDante      Kind = "dante"
	KindMicrosocks Kind = "microsocks"
)

// Server is a running upstream proxy. Its fields must not be modified.
type Server struct {
	// Kind is the daemon that serves Addr.
	Kind Kind
	// Addr is the plain (non-TLS) listener, "127.0.0.1:port".
	Addr string
	// Username and Password are the credentials the proxy requires; both
	// are empty if it requires none.
	Username, Password string
	// TLSAddr is squid's https_port, "127.0.0.1:port"; it is empty unless
	// SquidOptions.TLS was set.
	TLSAddr string
	// CertPEM is the PEM-encoded self-signed certificate TLSAddr presents
	// (valid for 127.0.0.1, ::1 and localhost); nil without TLS.
	CertPEM []byte
	// CertFile is the path of CertPEM on disk, for tools such as
	// curl --proxy-cacert; empty without TLS.
	CertFile string
	// Dir is the directory holding the daemon's configuration and logs.
	// It is removed when the test ends.
	Dir string

	scheme    string // "http" or "socks5"
	pgid      int    // process group of the daemon
	squidName string // squid's -n service name
}

// URL returns the proxy's URL with its credentials, as
// http://alice:s3cret@127.0.0.1:port or socks5://127.0.0.1:port; it suits
// [net/http.Transport]'s Proxy field and [golang.org/x/net/proxy.FromURL].
// Each call returns a new URL.
func (s *Server) URL() *url.URL {
	return s.URLWith(s.userinfo())
}

// URLWith returns the proxy's URL with the given user information instead
// of its own, for tests of missing (nil) or wrong credentials.
func (s *Server) URLWith(user *url.Userinfo) *url.URL {
	return &url.URL{Scheme: s.scheme, User: user, Host: s.Addr}
}

// TLSURL returns the https:// URL of squid's TLS port with the proxy's
// credentials, or nil if the server has no TLS port. A client must trust
// [Server.CertPool] to use it.
func (s *Server) TLSURL() *url.URL {
	return s.TLSURLWith(s.userinfo())
}

// TLSURLWith is [Server.TLSURL] with the given user information instead of
// the proxy's own; it returns nil if the server has no TLS port.
func (s *Server) TLSURLWith(user *url.Userinfo) *url.URL {
	if s.TLSAddr == "" {
		return nil
	}
	return &url.URL{Scheme: "https", User: user, Host: s.TLSAddr}
}

// CertPool returns a new pool holding only the certificate of the TLS
// port, or nil if the server has no TLS port.
func (s *Server) CertPool() *x509.CertPool {
	if s.CertPEM == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CertPEM)
	return pool
}

// String describes the server without its password, for test logs.
func (s *Server) String() string {
	u := s.URLWith(nil)
	if s.Username != "" {
		u.User = url.UserPassword(s.Username, "xxxxx")
	}
	str := string(s.Kind) + " at " + u.String()
	if t := s.TLSURLWith(nil); t != nil {
		str += " and " + t.String()
	}
	return str
}

// finish fills in what the daemon's start decided.
func (s *Server) finish(st started, tls bool) {
	s.Dir, s.pgid = st.dir, st.pgid
	s.Addr = hostPort(st.ports[0])
	if tls {
		s.TLSAddr = hostPort(st.ports[1])
	}
}

func (s *Server) userinfo() *url.Userinfo {
	if s.Username == "" {
		return nil
	}
	return url.UserPassword(s.Username, s.Password)
}

// checkCredentials reports a problem with credentials that the daemons'
// configuration syntaxes cannot carry, or "" if there is none.
func checkCredentials(user, pass string) string {
	switch {
	case user == "" && pass == "":
		return ""
	case user == "" || pass == "":
		return "username and password must be given together"
	case strings.Contains(user, ":"):
		return "username must not contain ':'"
	case len(user) > 255 || len(pass) > 255:
		return "credentials longer than 255 bytes do not fit SOCKS5 (RFC 1929)"
	}
	for _, r := range user + pass {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) || unicode.IsSpace(r) || r == '"' || r == '\\' || r == '#' {
			return "credentials must be printable ASCII without blanks, quotes, backslashes or '#'"
		}
	}
	return ""
}

// Kill kills the daemon's whole process group with SIGKILL, as a crash
// would, and waits until its port refuses connections: for tests of an
// upstream that dies mid-transfer. Connections it had open are closed by
// the kernel. The test's cleanup still runs, and finds it dead.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	if s.pgid <= 1 {
		t.Fatalf("upstream: Kill: %s has no process group", s)
	}
	if err := syscall.Kill(-s.pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("upstream: Kill %s: %v", s, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("upstream: %s still accepts connections after SIGKILL", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
