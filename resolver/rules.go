package resolver

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pacd/pacd/internal/hostname"
)

// A Mount maps a URL pattern to a proxy, as HTTPX's mounts do.
//
// Pattern is "scheme://host[:port]": scheme is a URL scheme or "all"; host
// is empty or "*" for every host, "example.com" for that host only,
// "*.example.com" for the names below it (not itself), and "*example.com"
// for it and the names below it; a port must equal the URL's (a scheme's
// default port is the same as none). Proxy is a proxy URL (see
// [ParseProxyURL]), or "none" (or "") for a direct connection.
type Mount struct {
	Pattern string
	Proxy   string
}

// A mount is a parsed Mount.
type mount struct {
	pattern string
	scheme  string // "" for all
	host    string // "" for any
	hostRe  *regexp.Regexp
	port    int // -1 for any
	proxy   Proxy
	index   int // position in the configuration, for stable ordering
}

// schemePorts are the default ports that HTTPX's URLs leave out.
var schemePorts = map[string]int{"ftp": 21, "http": 80, "https": 443, "ws": 80, "wss": 443}

// DefaultPort returns the port a URL with scheme implies when it gives
// none: 80 for http and ws, 443 for https and wss, 21 for ftp, 1080 for
// the SOCKS schemes, and 0 for any other.
func DefaultPort(scheme string) uint16 {
	if p, ok := schemePorts[scheme]; ok {
		return uint16(p)
	}
	switch scheme {
	case "socks4", "socks4a", "socks5", "socks5h":
		return 1080
	}
	return 0
}

func parseMount(m Mount, index int) (mount, error) {
	fail := func(format string, args ...any) (mount, error) {
		return mount{}, fmt.Errorf("resolver: mount %q: %s", m.Pattern, fmt.Sprintf(format, args...))
	}
	pat := strings.TrimSpace(m.Pattern)
	scheme, rest, ok := strings.Cut(pat, "://")
	if !ok {
		if pat != "" && !strings.Contains(pat, ":") {
			return fail("write the pattern as a URL: %q, not %q", pat+"://", pat)
		}
		return fail("want scheme://host[:port]")
	}
	scheme = strings.ToLower(scheme)
	if scheme == "" {
		return fail("missing scheme (use all:// for every scheme)")
	}
	mt := mount{pattern: pat, port: -1, index: index}
	if scheme != "all" {
		mt.scheme = scheme
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i] // HTTPX ignores a pattern's path
	}
	host, port := rest, ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return fail("missing ']'")
		}
		host, port = host[1:end], strings.TrimPrefix(host[end+1:], ":")
		if _, err := netip.ParseAddr(host); err != nil {
			return fail("invalid IPv6 address %q", host)
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host, port = host[:i], host[i+1:]
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return fail("invalid port %q", port)
		}
		mt.port = int(n)
		if d, ok := schemePorts[scheme]; ok && d == mt.port {
			mt.port = -1
		}
	}
	host = strings.ToLower(host)
	if host != "" && host != "*" {
		var err error
		switch {
		case strings.HasPrefix(host, "*."):
			mt.hostRe, err = hostRegexp(`^.+\.`, host[2:])
		case strings.HasPrefix(host, "*"):
			mt.hostRe, err = hostRegexp(`^(.+\.)?`, host[1:])
		default:
			mt.hostRe, err = hostRegexp(`^`, host)
		}
		if err != nil {
			return fail("%v", err)
		}
		mt.host = host
	}
	p, err := parseTarget(m.Proxy)
	if err != nil {
		return fail("%v", err)
	}
	mt.proxy = p
	return mt, nil
}

// hostRegexp builds the regular expression HTTPX builds for a host
// pattern, with the domain in its canonical (punycode) form.
func hostRegexp(prefix, domain string) (*regexp.Regexp, error) {
	if strings.ContainsAny(domain, "*?") {
		return nil, fmt.Errorf("invalid host pattern: '*' only leads")
	}
	if a, err := netip.ParseAddr(domain); err == nil {
		domain = a.String()
	} else if c, ok := hostname.Canonical(domain); ok {
		domain = c
	} else if domain != "" {
		return nil, fmt.Errorf("invalid host %q", domain)
	}
	return regexp.Compile(prefix + regexp.QuoteMeta(domain) + `$`)
}

// parseTarget parses the proxy side of a rule: a proxy URL, or "none",
// "direct" or "" for no proxy.
func parseTarget(s string) (Proxy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none", "direct":
		return Proxy{}, nil
	}
	return ParseProxyURL(s)
}

// matches reports whether the mount applies to a URL with this scheme,
// canonical host and port (-1 for the scheme's default), as HTTPX's
// URLPattern.matches does.
func (m *mount) matches(scheme, host string, port int) bool {
	if m.scheme != "" && m.scheme != scheme {
		return false
	}
	if m.hostRe != nil && !m.hostRe.MatchString(host) {
		return false
	}
	return m.port < 0 || m.port == port
}

// hostSpecific reports whether the mount names hosts, so that it wins over
// the bypass list.
func (m *mount) hostSpecific() bool { return m.hostRe != nil }

// sortMounts puts mounts in HTTPX's priority order (see mountRank).
func sortMounts(ms []mount) {
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].rank().before(ms[j].rank()) })
}

func (m *mount) rank() mountRank { return mountRank{m.port, m.host, m.scheme, m.index} }

// A mountRank is what orders mount patterns in HTTPX's priority: patterns
// with a port first, then longer hosts, then longer schemes, then the
// order given.
type mountRank struct {
	port         int // -1 for none
	host, scheme string
	index        int
}

func (a mountRank) before(b mountRank) bool {
	if (a.port >= 0) != (b.port >= 0) {
		return a.port >= 0
	}
	if len(a.host) != len(b.host) {
		return len(a.host) > len(b.host)
	}
	if len(a.scheme) != len(b.scheme) {
		return len(a.scheme) > len(b.scheme)
	}
	return a.index < b.index
}

// A proxiesDict is a Requests proxies dict: keys "scheme", "all",
// "scheme://host" and "all://host".
type proxiesDict map[string]Proxy

func parseProxiesDict(d map[string]string) (proxiesDict, error) {
	out := make(proxiesDict, len(d))
	var errs []error
	for k, v := range d {
		switch {
		case k == "no_proxy":
			errs = append(errs, errors.New(`resolver: proxies key "no_proxy": give a bypass list instead`))
			continue
		case k == "":
			errs = append(errs, errors.New("resolver: proxies: empty key"))
			continue
		}
		p, err := parseTarget(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("resolver: proxies key %q: %w", k, err))
			continue
		}
		out[k] = p
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// lookup returns the proxy for a URL the way Requests' select_proxy finds
// it: "scheme://host", then "scheme", then "all://host", then "all"; the
// first key present wins. host is the lower-case host without port (and
// without IPv6 brackets). It also reports which key matched, and whether
// that key names the host.
func (d proxiesDict) lookup(scheme, host string) (p Proxy, key string, hostSpecific, ok bool) {
	keys := [4]string{scheme + "://" + host, scheme, "all://" + host, "all"}
	for i, k := range keys {
		if host == "" && (i == 0 || i == 2) {
			continue
		}
		if p, ok := d[k]; ok {
			return p, k, i == 0 || i == 2, true
		}
	}
	return Proxy{}, "", false, false
}
