package resolver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/pacd/pacd/internal/hostname"
	"github.com/pacd/pacd/internal/proxylist"
)

// A Type is the kind of a [Proxy].
type Type uint8

// The kinds of proxy, named after their URL schemes. The zero Type is
// Direct.
const (
	Direct  Type = iota // no proxy: connect to the destination itself
	HTTP                // http://: an HTTP proxy (absolute-form requests, CONNECT tunnels)
	HTTPS               // https://: an HTTP proxy reached over TLS
	SOCKS4              // socks4://: SOCKS4, the target's name resolved here
	SOCKS4A             // socks4a://: SOCKS4a, the name resolved by the proxy
	SOCKS5              // socks5://: SOCKS5, the name resolved here
	SOCKS5H             // socks5h://: SOCKS5, the name resolved by the proxy
)

var typeSchemes = [...]string{Direct: "direct", HTTP: "http", HTTPS: "https", SOCKS4: "socks4", SOCKS4A: "socks4a", SOCKS5: "socks5", SOCKS5H: "socks5h"}

// Scheme returns the URL scheme of t ("http", "socks5h", ...), or "direct"
// for Direct.
func (t Type) Scheme() string {
	if int(t) < len(typeSchemes) {
		return typeSchemes[t]
	}
	return "type" + strconv.Itoa(int(t))
}

// String returns t's scheme.
func (t Type) String() string { return t.Scheme() }

// DefaultPort returns the port a proxy of type t listens on when its URL
// gives none: 80 for HTTP, 443 for HTTPS, 1080 for SOCKS, 0 for Direct.
func (t Type) DefaultPort() uint16 {
	switch t {
	case HTTP:
		return 80
	case HTTPS:
		return 443
	case SOCKS4, SOCKS4A, SOCKS5, SOCKS5H:
		return 1080
	}
	return 0
}

// IsSOCKS reports whether t is one of the SOCKS types.
func (t Type) IsSOCKS() bool { return t >= SOCKS4 && t <= SOCKS5H }

// Capabilities are what a kind of proxy can carry, in the manner of Qt's
// QNetworkProxy capabilities: a query for a kind of connection skips the
// proxies that cannot serve it.
type Capabilities uint8

// The capabilities. pacd's dialer carries TCP streams and HTTP requests;
// UDP and listening sockets always go DIRECT.
const (
	CanTunnel     Capabilities = 1 << iota // a TCP stream to any host and port (CONNECT, SOCKS CONNECT)
	CanForward                             // an HTTP request in absolute form
	ResolvesNames                          // the proxy, not the client, resolves the target's name
)

// Capabilities returns what a proxy of type t can carry. Direct can carry
// anything.
func (t Type) Capabilities() Capabilities {
	switch t {
	case Direct:
		return CanTunnel | CanForward
	case HTTP, HTTPS:
		return CanTunnel | CanForward | ResolvesNames
	case SOCKS4, SOCKS5:
		return CanTunnel
	case SOCKS4A, SOCKS5H:
		return CanTunnel | ResolvesNames
	}
	return 0
}

// A Proxy is one way to reach a destination: DIRECT, or a proxy server
// with, optionally, the credentials to use with it. It is a comparable
// value. The zero Proxy is DIRECT.
//
// Host is canonical: lower case, international names in punycode, IPv4
// in dotted decimal, IPv6 without brackets in RFC 5952 form. Username and
// Password are sent as HTTP Basic Proxy-Authorization to HTTP and HTTPS
// proxies, as the RFC 1929 username and password to SOCKS5 proxies, and
// Username as the user ID to SOCKS4 proxies. A Proxy never prints its
// password: String, URL().Redacted and LogValue leave it out.
type Proxy struct {
	Type     Type
	Host     string
	Port     uint16
	Username string
	Password string
}

// IsDirect reports whether p means "no proxy".
func (p Proxy) IsDirect() bool { return p.Type == Direct }

// Addr returns p's host and port for dialing ("proxy:8080",
// "[2001:db8::1]:1080"), or "" for Direct.
func (p Proxy) Addr() string {
	if p.Type == Direct {
		return ""
	}
	return net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port)))
}

// HasCredentials reports whether p carries a user name or password.
func (p Proxy) HasCredentials() bool { return p.Username != "" || p.Password != "" }

// WithoutCredentials returns p without its user name and password.
func (p Proxy) WithoutCredentials() Proxy {
	p.Username, p.Password = "", ""
	return p
}

// URL returns p as a URL, credentials included ("http://u:pw@p:8080"), as
// net/http's Transport.Proxy wants it. It returns nil for Direct.
func (p Proxy) URL() *url.URL {
	if p.Type == Direct {
		return nil
	}
	u := &url.URL{Scheme: p.Type.Scheme(), Host: p.Addr()}
	switch {
	case p.Password != "":
		u.User = url.UserPassword(p.Username, p.Password)
	case p.Username != "":
		u.User = url.User(p.Username)
	}
	return u
}

// String returns p as a URL without its password ("socks5h://s:1080",
// "http://alice@p:8080"), or "DIRECT".
func (p Proxy) String() string {
	if p.Type == Direct {
		return "DIRECT"
	}
	s := p.Type.Scheme() + "://"
	if p.Username != "" {
		s += url.User(p.Username).String() + "@"
	}
	return s + p.Addr()
}

// PAC returns p in PAC result syntax ("PROXY p:8080", "SOCKS5 s:1080",
// "DIRECT"). PAC cannot say who resolves names or carry credentials, so
// SOCKS4a and SOCKS5 with local resolution print as SOCKS4 and SOCKS5.
func (p Proxy) PAC() string {
	switch p.Type {
	case Direct:
		return "DIRECT"
	case HTTP:
		return "PROXY " + p.Addr()
	case HTTPS:
		return "HTTPS " + p.Addr()
	case SOCKS4, SOCKS4A:
		return "SOCKS4 " + p.Addr()
	case SOCKS5, SOCKS5H:
		return "SOCKS5 " + p.Addr()
	}
	return p.String()
}

// LogValue makes a Proxy log as its String, without the password.
func (p Proxy) LogValue() slog.Value { return slog.StringValue(p.String()) }

// A ProxyError reports a proxy URL that cannot be used.
type ProxyError struct {
	Value  string // the value as given (with any password replaced by "xxxxx")
	Reason string
}

func (e *ProxyError) Error() string {
	return fmt.Sprintf("resolver: invalid proxy %q: %s", e.Value, e.Reason)
}

// ParseProxyURL parses a proxy written as a URL: "http://proxy:8080",
// "socks5h://user:pw@127.0.0.1:1080", "https://[2001:db8::1]". The scheme
// is one of http, https, socks4, socks4a, socks5 and socks5h; a value
// without a scheme is an HTTP proxy ("proxy:3128" is
// "http://proxy:3128"), whatever the scheme of the requests it will
// carry. A missing port is the scheme's default (80, 443, 1080). The
// user information is percent-decoded. It is an error for the URL to have
// no host, a bad port, a path, query or fragment, or a password on a
// SOCKS4 proxy (which can only send a user ID).
func ParseProxyURL(s string) (Proxy, error) {
	orig := s
	fail := func(reason string) (Proxy, error) {
		return Proxy{}, &ProxyError{Value: redactURL(orig), Reason: reason}
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return fail("empty")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fail(err.Error())
	}
	var t Type
	switch strings.ToLower(u.Scheme) {
	case "http":
		t = HTTP
	case "https":
		t = HTTPS
	case "socks4":
		t = SOCKS4
	case "socks4a":
		t = SOCKS4A
	case "socks5":
		t = SOCKS5
	case "socks5h":
		t = SOCKS5H
	default:
		return fail("unknown scheme " + strconv.Quote(u.Scheme) + " (want http, https, socks4, socks4a, socks5 or socks5h)")
	}
	if u.Opaque != "" {
		return fail("not a URL")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fail("a proxy URL has no path, query or fragment")
	}
	host := u.Hostname()
	if host == "" {
		return fail("missing host")
	}
	p := Proxy{Type: t, Port: t.DefaultPort()}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return fail("an IPv6 zone is not allowed")
		}
		p.Host = a.Unmap().String()
	} else {
		h, ok := hostname.Canonical(host)
		if !ok {
			return fail("invalid host " + strconv.Quote(host))
		}
		p.Host = h
	}
	if ps := u.Port(); ps != "" {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || n == 0 {
			return fail("invalid port " + strconv.Quote(ps))
		}
		p.Port = uint16(n)
	} else if strings.HasSuffix(u.Host, ":") {
		return fail("empty port")
	}
	if u.User != nil {
		p.Username = u.User.Username()
		pw, hasPW := u.User.Password()
		if hasPW && (t == SOCKS4 || t == SOCKS4A) {
			return fail("a SOCKS4 proxy takes a user ID, not a password")
		}
		p.Password = pw
	}
	return p, nil
}

// MustParseProxyURL is like [ParseProxyURL] but panics on error. It is
// meant for tests and for proxies written in source code.
func MustParseProxyURL(s string) Proxy {
	p, err := ParseProxyURL(s)
	if err != nil {
		panic(err)
	}
	return p
}

// redactURL hides the password of a URL-shaped value for error messages.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		scheme, rest = "", s
	}
	auth := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		auth = rest[:i]
	}
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return s
	}
	user, _, hasPW := strings.Cut(auth[:at], ":")
	if !hasPW {
		return s
	}
	out := user + ":xxxxx" + rest[at:]
	if ok {
		out = scheme + "://" + out
	}
	return out
}

// fromPAC converts an entry of a PAC answer. PAC's SOCKS5 leaves name
// resolution to the proxy, as in Chromium; its SOCKS (SOCKS4) resolves
// here. An IPv4-mapped IPv6 address becomes the IPv4 address, as in
// ParseProxyURL, so that it is the same proxy, credentials included.
func fromPAC(p proxylist.Proxy) Proxy {
	if a, err := netip.ParseAddr(p.Host); err == nil && a.Is4In6() {
		p.Host = a.Unmap().String()
	}
	switch p.Type {
	case proxylist.HTTP:
		return Proxy{Type: HTTP, Host: p.Host, Port: p.Port}
	case proxylist.HTTPS:
		return Proxy{Type: HTTPS, Host: p.Host, Port: p.Port}
	case proxylist.SOCKS4:
		return Proxy{Type: SOCKS4, Host: p.Host, Port: p.Port}
	case proxylist.SOCKS5:
		return Proxy{Type: SOCKS5H, Host: p.Host, Port: p.Port}
	}
	return Proxy{}
}
