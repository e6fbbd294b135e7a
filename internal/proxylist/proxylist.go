// Package proxylist is the grammar of PAC results, "PROXY a:8080;
// DIRECT": the values it describes and the parser, shared by package pac,
// which exports them, and package resolver, which must not depend on the
// JavaScript engine.
package proxylist

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pacd/pacd/internal/hostname"
)

// A Type is the kind of one entry of a PAC result.
type Type uint8

// The entry types of a PAC result. The zero Type is Direct.
const (
	Direct Type = iota // "DIRECT": connect to the destination itself
	HTTP               // "PROXY host:port": an HTTP proxy
	HTTPS              // "HTTPS host:port": an HTTP proxy reached over TLS
	SOCKS4             // "SOCKS host:port" or "SOCKS4 host:port"
	SOCKS5             // "SOCKS5 host:port"
)

// String returns the keyword that introduces t in a PAC result: "DIRECT",
// "PROXY", "HTTPS", "SOCKS4" or "SOCKS5".
func (t Type) String() string {
	switch t {
	case Direct:
		return "DIRECT"
	case HTTP:
		return "PROXY"
	case HTTPS:
		return "HTTPS"
	case SOCKS4:
		return "SOCKS4"
	case SOCKS5:
		return "SOCKS5"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Scheme returns the URL scheme that names a proxy of type t, as
// net/http and curl spell it: "http", "https", "socks4" or "socks5". It
// returns "" for Direct.
func (t Type) Scheme() string {
	switch t {
	case HTTP:
		return "http"
	case HTTPS:
		return "https"
	case SOCKS4:
		return "socks4"
	case SOCKS5:
		return "socks5"
	}
	return ""
}

// DefaultPort returns the port a PAC result implies for type t when the
// entry gives none: 80 for PROXY, 443 for HTTPS, 1080 for SOCKS, and 0
// for Direct.
func (t Type) DefaultPort() uint16 {
	switch t {
	case HTTP:
		return 80
	case HTTPS:
		return 443
	case SOCKS4, SOCKS5:
		return 1080
	}
	return 0
}

// A Proxy is one entry of a PAC result. It is a comparable value type.
// The zero Proxy is DIRECT.
//
// Host is canonical: lower case, international names in punycode, IPv4
// addresses in dotted-decimal form and IPv6 addresses in their RFC 5952
// form, without brackets. Host and Port are empty for Direct.
type Proxy struct {
	Type Type
	Host string
	Port uint16
}

// IsDirect reports whether p means "no proxy".
func (p Proxy) IsDirect() bool { return p.Type == Direct }

// Addr returns p's host and port joined for dialing ("proxy:8080",
// "[2001:db8::1]:3128"), or "" for Direct.
func (p Proxy) Addr() string {
	if p.Type == Direct {
		return ""
	}
	port := strconv.Itoa(int(p.Port))
	if strings.IndexByte(p.Host, ':') >= 0 {
		return "[" + p.Host + "]:" + port
	}
	return p.Host + ":" + port
}

// String returns p in canonical PAC syntax: "DIRECT", "PROXY host:port",
// "HTTPS host:port", "SOCKS4 host:port" or "SOCKS5 host:port".
func (p Proxy) String() string {
	if p.Type == Direct {
		return "DIRECT"
	}
	return p.Type.String() + " " + p.Addr()
}

// LogValue makes a Proxy print as its canonical string in structured logs.
func (p Proxy) LogValue() slog.Value { return slog.StringValue(p.String()) }

// A Result is the ordered list of ways to reach a URL that a PAC script
// returned: try the first entry, fall back to the next on failure. A nil
// or empty Result means DIRECT.
type Result []Proxy

// String returns r in canonical PAC syntax, entries separated by "; ",
// for example "PROXY a.example:8080; DIRECT". An empty Result prints as
// "DIRECT".
func (r Result) String() string {
	if len(r) == 0 {
		return "DIRECT"
	}
	var b strings.Builder
	for i, p := range r {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// IsDirect reports whether r means "no proxy at all": it is empty or its
// first entry is DIRECT.
func (r Result) IsDirect() bool { return len(r) == 0 || r[0].Type == Direct }

// A ResultError lists the entries of a PAC result string that [ParseResult]
// dropped. The Result returned with it is still valid.
type ResultError struct {
	Input   string        // the whole string, as the script returned it
	Dropped []DroppedItem // the entries that were dropped, in order
	Empty   bool          // no valid entry was left, so the result is DIRECT
}

// A DroppedItem is one entry of a PAC result that could not be used.
type DroppedItem struct {
	Entry  string // the entry, blanks trimmed
	Reason string // why, for example "missing host"
}

// Error returns a message naming every dropped entry, for example
// `pac: ParseResult("PROXY; DIRECT"): dropped "PROXY" (missing host)`.
func (e *ResultError) Error() string {
	var b strings.Builder
	b.WriteString("pac: ParseResult(")
	b.WriteString(strconv.Quote(e.Input))
	b.WriteString("):")
	for i, d := range e.Dropped {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " dropped %q (%s)", d.Entry, d.Reason)
	}
	if e.Empty {
		if len(e.Dropped) > 0 {
			b.WriteByte(';')
		}
		b.WriteString(" no valid entry, using DIRECT")
	}
	return b.String()
}

// ParseResult parses s, the string a PAC script returned, the way Chromium
// does. Entries are separated by ';'. Each is a keyword, case-insensitive
// — DIRECT, PROXY (port 80 by default), HTTPS (443), SOCKS (SOCKS4, 1080),
// SOCKS4 (1080) or SOCKS5 (1080) — followed for all but DIRECT by
// host[:port], with IPv6 addresses in brackets. Blanks around entries and
// empty entries are ignored; entries may repeat, and DIRECT may come
// anywhere.
//
// ParseResult always returns a usable Result. Entries it cannot use are
// dropped; then, and when no valid entry is left (in which case the
// Result is DIRECT), it also returns a [*ResultError] that names them.
// An entry is dropped when its keyword is unknown (including QUIC, which
// pacd does not speak), when a proxy has no host or an invalid host or
// port, when DIRECT has a host, and when a host carries user information
// ("user:pass@host"): a script cannot choose where credentials go.
func ParseResult(s string) (Result, error) {
	var (
		r       Result
		dropped []DroppedItem
	)
	rest := s
	for rest != "" {
		var elem string
		if i := strings.IndexByte(rest, ';'); i >= 0 {
			elem, rest = rest[:i], rest[i+1:]
		} else {
			elem, rest = rest, ""
		}
		elem = strings.TrimSpace(elem)
		if elem == "" {
			continue
		}
		p, reason := parseEntry(elem)
		if reason != "" {
			dropped = append(dropped, DroppedItem{Entry: elem, Reason: reason})
			continue
		}
		r = append(r, p)
	}
	if len(r) == 0 {
		return Result{{}}, &ResultError{Input: s, Dropped: dropped, Empty: true}
	}
	if dropped != nil {
		return r, &ResultError{Input: s, Dropped: dropped}
	}
	return r, nil
}

// MustParseResult is like [ParseResult] but panics on any dropped entry.
// It is meant for tests and for results written in source code.
func MustParseResult(s string) Result {
	r, err := ParseResult(s)
	if err != nil {
		panic(err)
	}
	return r
}

// ParseProxy parses one entry of a PAC result, such as "PROXY
// proxy.example:8080" or "DIRECT", with the rules of [ParseResult].
func ParseProxy(s string) (Proxy, error) {
	p, reason := parseEntry(strings.TrimSpace(s))
	if reason != "" {
		return Proxy{}, fmt.Errorf("pac: ParseProxy(%q): %s", s, reason)
	}
	return p, nil
}

// parseEntry parses one trimmed, non-empty entry. It returns a non-empty
// reason when the entry cannot be used.
func parseEntry(elem string) (Proxy, string) {
	kw, arg := elem, ""
	if i := strings.IndexAny(elem, " \t\r\n\f\v"); i >= 0 {
		kw, arg = elem[:i], strings.TrimSpace(elem[i+1:])
	}
	var t Type
	switch {
	case strings.EqualFold(kw, "DIRECT"):
		if arg != "" {
			return Proxy{}, "DIRECT takes no host"
		}
		return Proxy{}, ""
	case strings.EqualFold(kw, "PROXY"):
		t = HTTP
	case strings.EqualFold(kw, "HTTPS"):
		t = HTTPS
	case strings.EqualFold(kw, "SOCKS"), strings.EqualFold(kw, "SOCKS4"):
		t = SOCKS4
	case strings.EqualFold(kw, "SOCKS5"):
		t = SOCKS5
	case strings.EqualFold(kw, "QUIC"):
		return Proxy{}, "QUIC proxies are not supported"
	default:
		return Proxy{}, "unknown type " + strconv.Quote(kw)
	}
	if arg == "" {
		return Proxy{}, "missing host"
	}
	host, port, reason := splitHostPort(arg, t.DefaultPort())
	if reason != "" {
		return Proxy{}, reason
	}
	return Proxy{Type: t, Host: host, Port: port}, ""
}

// splitHostPort parses "host", "host:port", "[v6]" or "[v6]:port" and
// returns the canonical host.
func splitHostPort(s string, defPort uint16) (host string, port uint16, reason string) {
	if strings.IndexByte(s, '@') >= 0 {
		return "", 0, "user information is not allowed"
	}
	portStr := ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, "missing ']'"
		}
		host, s = s[1:end], s[end+1:]
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", 0, "invalid IPv6 address " + strconv.Quote(host)
		}
		host = a.String()
		if s != "" {
			if s[0] != ':' {
				return "", 0, "junk after ']'"
			}
			portStr = s[1:]
			if portStr == "" {
				return "", 0, "empty port"
			}
		}
	} else {
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			if strings.IndexByte(s[:i], ':') >= 0 {
				return "", 0, "IPv6 address without brackets"
			}
			s, portStr = s[:i], s[i+1:]
			if portStr == "" {
				return "", 0, "empty port"
			}
		}
		h, ok := hostname.Canonical(s)
		if !ok {
			return "", 0, "invalid host " + strconv.Quote(s)
		}
		host = h
	}
	port = defPort
	if portStr != "" {
		n, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil || n == 0 || portStr[0] == '+' {
			return "", 0, "invalid port " + strconv.Quote(portStr)
		}
		port = uint16(n)
	}
	return host, port, ""
}
