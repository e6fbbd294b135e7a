package pac

import "github.com/pacd/pacd/internal/proxylist"

// The result grammar lives in an internal package so that package
// resolver can parse PAC answers without depending on the JavaScript
// engine; these are its exported names.

// A Type is the kind of one entry of a PAC result. The zero Type is
// Direct.
type Type = proxylist.Type

// The entry types of a PAC result.
const (
	Direct = proxylist.Direct // "DIRECT": connect to the destination itself
	HTTP   = proxylist.HTTP   // "PROXY host:port": an HTTP proxy
	HTTPS  = proxylist.HTTPS  // "HTTPS host:port": an HTTP proxy reached over TLS
	SOCKS4 = proxylist.SOCKS4 // "SOCKS host:port" or "SOCKS4 host:port"
	SOCKS5 = proxylist.SOCKS5 // "SOCKS5 host:port"
)

// A Proxy is one entry of a PAC result, a comparable value. The zero
// Proxy is DIRECT. Host is canonical: lower case, international names in
// punycode, IPv4 in dotted decimal, IPv6 in RFC 5952 form without
// brackets.
type Proxy = proxylist.Proxy

// A Result is the ordered list of ways to reach a URL that a PAC script
// returned: try the first entry, fall back to the next on failure. A nil
// or empty Result means DIRECT. Its String method gives canonical PAC
// syntax, "PROXY a.example:8080; DIRECT".
type Result = proxylist.Result

// A ResultError lists the entries of a PAC result string that
// [ParseResult] dropped; the Result returned with it is still valid.
type ResultError = proxylist.ResultError

// A DroppedItem is one entry of a PAC result that could not be used, and
// why.
type DroppedItem = proxylist.DroppedItem

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
func ParseResult(s string) (Result, error) { return proxylist.ParseResult(s) }

// MustParseResult is like [ParseResult] but panics on any dropped entry.
// It is meant for tests and for results written in source code.
func MustParseResult(s string) Result { return proxylist.MustParseResult(s) }

// ParseProxy parses one entry of a PAC result, such as "PROXY
// proxy.example:8080" or "DIRECT", with the rules of [ParseResult].
func ParseProxy(s string) (Proxy, error) { return proxylist.ParseProxy(s) }
