package resolver

import (
	"context"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/pacd/pacd/internal/hostname"
)

// nodeFlavor is the npm package proxy-from-env 2.1 (getProxyForUrl),
// which axios and many other Node programs use. Clause by clause, with
// the notes' row numbers:
//
//   - The URL is parsed with WHATWG URL: the host lower-cased, in
//     punycode, IPv4 normalised, IPv6 in brackets (kept for matching), a
//     trailing dot kept; an invalid URL gets no proxy (130). The port is
//     the written one or the scheme's default (ftp 21, gopher 70, http
//     and ws 80, https and wss 443).
//   - Every variable is the lower-case one, else the upper-case one,
//     empty meaning unset; there is no CGI guard.
//   - NO_PROXY is lower-cased; "*" alone bypasses everything; otherwise
//     it is split at commas and white space (91), and an entry
//     "host:port" skips other ports (compared with the effective port:
//     76-80). An entry that starts with neither "." nor "*" matches only
//     that exact host (42); otherwise one leading "*" is removed and the
//     host must end with the rest, as plain text: ".x" does not match x
//     (52), "*x" matches notx (67), "*" matches everything (105-107),
//     ".1.1" matches 192.168.1.1 (132). No CIDR (116), IPv6 entries must
//     be bracketed (137, 142).
//   - The proxy is s_proxy for a URL of scheme s, else all_proxy; a value
//     without "://" gets the URL's own scheme, so https_proxy=p:3128 is
//     an HTTPS proxy for https URLs.
//   - No implicit loopback rule.
//
// Config.Bypass stands for NO_PROXY; the package has no other setting.
type nodeFlavor struct {
	env     environ
	noProxy string
	noFrom  string
	entries []clientEntry
	r       *Resolver
}

var nodeDefaultPorts = map[string]uint16{"ftp": 21, "gopher": 70, "http": 80, "https": 443, "ws": 80, "wss": 443}

func newNodeFlavor(cfg *Config, env environ, r *Resolver) (flavor, error) {
	if err := unsupported(cfg, "bypass"); err != nil {
		return nil, err
	}
	n := &nodeFlavor{env: env, r: r}
	n.noFrom, n.noProxy = n.getEnv("no_proxy")
	if cfg.Bypass != "" {
		n.noFrom, n.noProxy = "Config.Bypass", cfg.Bypass
	}
	n.noProxy = strings.ToLower(n.noProxy)
	for _, t := range strings.FieldsFunc(n.noProxy, func(r rune) bool { return r == ',' || isJSSpace(r) }) {
		n.entries = append(n.entries, newClientEntry(t))
	}
	return n, nil
}

// isJSSpace reports whether r is white space for a JavaScript regular
// expression's \s (the common ones).
func isJSSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0xa0, 0xfeff, 0x2028, 0x2029:
		return true
	}
	return false
}

// getEnv is proxy-from-env's getEnv: the lower-case name, else the upper
// case one, empty meaning unset.
func (n *nodeFlavor) getEnv(key string) (name, value string) {
	lower, upper := strings.ToLower(key), strings.ToUpper(key)
	if v := n.env.get(lower); v != "" {
		return lower, v
	}
	if v := n.env.get(upper); v != "" {
		return upper, v
	}
	return "", ""
}

// nodeHost is the WHATWG URL host: false for a URL WHATWG rejects.
func nodeHost(h string) (string, bool) {
	h = strings.ToLower(asciiHost(h))
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" {
			return "", false
		}
		if a.Is4() {
			return a.String(), true
		}
		return "[" + a.String() + "]", true
	}
	if !isASCII(h) {
		return "", false
	}
	if hostname.LooksNumeric(lastLabel(strings.TrimSuffix(h, "."))) {
		a, ok := hostname.ParseIPv4(h)
		if !ok {
			return "", false
		}
		return a.String(), true
	}
	return h, true
}

var nodeEntryPort = regexp.MustCompile(`^(.+):(\d+)$`)

func (n *nodeFlavor) decide(ctx context.Context, r *Resolver, req *request) (Decision, error) {
	host, ok := nodeHost(req.host)
	if !ok {
		return directDecision(FromDefault, "", clause("node/invalid-url", req.host,
			"Node's URL parser rejects the host %s, and proxy-from-env gives an invalid URL no proxy", req.host)), nil
	}
	port := int(nodeDefaultPorts[req.scheme])
	if req.port != "" {
		port, _ = strconv.Atoi(req.port)
	}
	var clauses []Clause
	if n.noProxy == "*" {
		return directDecision(FromBypass, n.noFrom+" entry *"), nil
	}
	if n.noProxy != "" {
		res := compareBypass(n.entries, req, func(i int) bool { return nodeEntryMatch(host, port, n.entries[i].text) }, func(text string, matched bool) Clause {
			return nodeWhy(text, matched, host)
		})
		if res.entry != "" {
			return directDecision(FromBypass, n.noFrom+" entry "+res.entry, res.clauses...), nil
		}
		clauses = res.clauses
	}
	name, value := n.getEnv(req.scheme + "_proxy")
	if value == "" {
		name, value = n.getEnv("all_proxy")
	}
	if value == "" {
		return directDecision(FromDefault, "", clauses...), nil
	}
	if name == "HTTP_PROXY" && n.env.get("REQUEST_METHOD") != "" {
		clauses = append(clauses, clause("node/no-cgi-guard", name,
			"proxy-from-env uses HTTP_PROXY even with REQUEST_METHOD set (a CGI program), where a client's Proxy header can set it"))
	}
	if !strings.Contains(value, "://") {
		withScheme := req.scheme + "://" + value
		if req.scheme != "http" {
			clauses = append(clauses, clause("node/proxy-scheme-from-url", name,
				"proxy-from-env gives a proxy written without a scheme the URL's own, so %s=%s means %s here", name, value, withScheme))
		}
		value = withScheme
	}
	p, err := ParseProxyURL(value)
	if err != nil {
		return Decision{}, refuse(FlavorNode, clause("node/unusable-proxy", name,
			"proxy-from-env answers %s, which no Node agent can use: %v", value, err))
	}
	return proxyDecision(p, FromEnv, name, clauses...), nil
}

// nodeEntryMatch is one step of proxy-from-env's shouldProxy (the entry
// is already lower case).
func nodeEntryMatch(host string, port int, entry string) bool {
	h, p := entry, 0
	if m := nodeEntryPort.FindStringSubmatch(entry); m != nil {
		h = m[1]
		p, _ = strconv.Atoi(m[2])
	}
	if p != 0 && p != port {
		return false
	}
	if !strings.HasPrefix(h, ".") && !strings.HasPrefix(h, "*") {
		return host == h
	}
	return strings.HasSuffix(host, strings.TrimPrefix(h, "*"))
}

// nodeWhy explains a NO_PROXY entry that proxy-from-env reads differently
// from pacd; host is the WHATWG host.
func nodeWhy(text string, matched bool, host string) Clause {
	t := text
	if matched {
		if strings.HasPrefix(t, ".") || strings.HasPrefix(t, "*") {
			return clause("node/plain-suffix", text, "proxy-from-env tests %s as a plain text suffix, so it matches %s", t, host)
		}
		return genericWhy("node/entry", FlavorNode, text, true)
	}
	isV6 := strings.HasPrefix(host, "[")
	hostPart := t
	if m := nodeEntryPort.FindStringSubmatch(t); m != nil {
		hostPart = m[1]
	}
	switch {
	case chromiumSyntax(t):
		return clause("node/no-chromium-syntax", text, "proxy-from-env does not understand Chromium's %s in NO_PROXY", t)
	case strings.Contains(t, ";"):
		return clause("node/no-semicolon", text, "proxy-from-env separates NO_PROXY entries with commas and white space, not semicolons, so %q is one entry", t)
	case strings.Contains(t, "/"):
		return clause("node/no-cidr", text, "proxy-from-env has no CIDR blocks in NO_PROXY: %s matches nothing", t)
	case isV6 && !strings.HasPrefix(t, "["):
		return clause("node/brackets-kept", text, "proxy-from-env compares the host with its brackets, %s, so an IPv6 entry must be written in brackets", host)
	case strings.HasPrefix(t, ".") || strings.HasPrefix(t, "*."):
		apex := strings.TrimPrefix(strings.TrimPrefix(t, "*"), ".")
		return clause("node/dot-excludes-apex", text, "proxy-from-env's %s is a text suffix test: it matches the names below %s but not %s itself", t, apex, apex)
	case strings.HasSuffix(hostPart, ".") || strings.HasSuffix(host, "."):
		return clause("node/trailing-dot", text, "proxy-from-env does not ignore trailing dots, so %q and %q differ", t, host)
	case !isASCII(t):
		return clause("node/unicode-entry", text, "proxy-from-env compares entries with the punycode host %s, so the Unicode entry %s never matches", host, t)
	case !strings.HasPrefix(t, "*") && strings.HasSuffix(host, "."+strings.Trim(hostPart, "[]")):
		return clause("node/exact-only", text, "proxy-from-env matches an entry without a leading . or * exactly, so %s does not cover %s", hostPart, host)
	}
	if d, err := newDestination(strings.Trim(hostPart, "[]"), 0); err == nil && d.addr.IsValid() {
		return clause("node/address-text", text, "proxy-from-env compares addresses as text, so %s does not match %s", t, host)
	}
	return genericWhy("node/entry", FlavorNode, text, false)
}

func (n *nodeFlavor) implicit(why string, req *request) (Clause, bool) {
	return clause("node/no-implicit", req.host, "proxy-from-env has no implicit rule: %s is proxied unless NO_PROXY lists it", req.host), true
}
