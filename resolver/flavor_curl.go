package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pacd/pacd/internal/hostname"
)

// curlFlavor is curl 7.88 (lib/url.c detect_proxy, lib/noproxy.c).
// Clause by clause, with the notes' row numbers:
//
//   - NO_PROXY is no_proxy, else NO_PROXY, each only when not empty; it
//     is consulted first, and applies to every proxy, -x and ALL_PROXY
//     included.
//   - The proxy for a URL of scheme s is s_proxy in lower case; then,
//     except for http, S_PROXY in upper case (curl never reads
//     HTTP_PROXY); then all_proxy, ALL_PROXY. Empty values count as
//     unset.
//   - A proxy without a scheme is http://; without a port it is on 1080
//     (443 for https://); a scheme curl does not know is an error.
//   - NO_PROXY equal to "*" bypasses everything; a "*" among other
//     entries, or padded, matches nothing (105-107). Entries are
//     separated by commas and blanks (91).
//   - Against a name (IDNA-encoded, trailing dot removed): an entry
//     matches the name or a name below it at a dot, case-insensitively,
//     after removing one leading and one trailing dot (42, 52, 69, 97,
//     50). An entry with a port never matches (76); there are no
//     wildcards (60, 64).
//   - Against an IPv4 address: only IPv4 entries, exact or CIDR, the bits
//     read with atoi; /0 (and /32) means exactly that address (116, 124,
//     136).
//   - An IPv6 address is compared as text with the entries, as a name
//     is: the URL's spelling is normalised, the entry's is not, and
//     brackets and CIDR never match (137-145).
//   - No destination is DIRECT by itself: no implicit loopback rule.
//
// Config.Proxy is curl's -x, Config.Bypass its --noproxy, which replaces
// NO_PROXY.
type curlFlavor struct {
	env        environ
	proxy      string // -x
	noProxy    string
	noProxyVar string
	entries    []clientEntry
	r          *Resolver
}

func newCurlFlavor(cfg *Config, env environ, r *Resolver) (flavor, error) {
	if err := unsupported(cfg, "proxy", "bypass"); err != nil {
		return nil, err
	}
	c := &curlFlavor{env: env, proxy: cfg.Proxy, r: r}
	switch {
	case cfg.Bypass != "":
		c.noProxy, c.noProxyVar = cfg.Bypass, "--noproxy"
	case env.get("no_proxy") != "":
		c.noProxy, c.noProxyVar = env.get("no_proxy"), "no_proxy"
	case env.get("NO_PROXY") != "":
		c.noProxy, c.noProxyVar = env.get("NO_PROXY"), "NO_PROXY"
	}
	for _, t := range curlTokens(c.noProxy) {
		c.entries = append(c.entries, newClientEntry(t))
	}
	return c, nil
}

// curlTokens splits a NO_PROXY value as Curl_check_noproxy walks it:
// tokens end at a blank or a comma.
func curlTokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' })
}

// curlHost is the host as curl holds it: IDNA-encoded, addresses
// normalised, IPv6 without brackets.
func curlHost(h string) string {
	h = asciiHost(h)
	if a, err := netip.ParseAddr(h); err == nil {
		return a.WithZone("").String()
	}
	if a, ok := hostname.ParseIPv4(h); ok && hostname.LooksNumeric(lastLabel(strings.TrimSuffix(h, "."))) {
		return a.String()
	}
	return h
}

func (c *curlFlavor) decide(ctx context.Context, r *Resolver, req *request) (Decision, error) {
	host := curlHost(req.host)
	var clauses []Clause
	if c.noProxy == "*" {
		return directDecision(FromBypass, c.noProxyVar+" entry *"), nil
	}
	if c.noProxy != "" {
		res := compareBypass(c.entries, req, func(i int) bool { return curlMatch(host, c.entries[i].text) }, func(text string, matched bool) Clause {
			return c.why(text, matched, host)
		})
		if res.entry != "" {
			return directDecision(FromBypass, c.noProxyVar+" entry "+res.entry, res.clauses...), nil
		}
		clauses = res.clauses
	}
	name, value := c.pick(req.scheme, &clauses)
	if value == "" {
		return directDecision(FromDefault, "", clauses...), nil
	}
	p, err := c.parseProxy(value, name, &clauses)
	if err != nil {
		return Decision{}, err
	}
	return proxyDecision(p, fromVar(name), name, clauses...), nil
}

// pick is detect_proxy: the variable that names the proxy for scheme.
func (c *curlFlavor) pick(scheme string, clauses *[]Clause) (name, value string) {
	if c.proxy != "" {
		return "Config.Proxy", c.proxy
	}
	lower := scheme + "_proxy"
	upper := strings.ToUpper(lower)
	if v := c.env.get(lower); v != "" {
		if scheme != "http" && scheme != "https" {
			*clauses = append(*clauses, clause("curl/scheme-variable", lower,
				"curl reads %s for a %s URL, a variable pacd does not read", lower, scheme))
		}
		return lower, v
	}
	if scheme == "http" {
		if v := c.env.get("HTTP_PROXY"); v != "" && c.env.get("REQUEST_METHOD") == "" {
			*clauses = append(*clauses, clause("curl/no-upper-http-proxy", "HTTP_PROXY",
				"curl never reads the upper-case HTTP_PROXY, only http_proxy, so HTTP_PROXY=%s is not used", v))
		}
	} else if v := c.env.get(upper); v != "" {
		return upper, v
	}
	if scheme == "ws" && c.env.get("http_proxy")+c.env.get("HTTP_PROXY") != "" || scheme == "wss" && c.env.get("https_proxy")+c.env.get("HTTPS_PROXY") != "" {
		*clauses = append(*clauses, clause("curl/scheme-variable", lower,
			"curl looks for %s (then %s, then ALL_PROXY) for a %s URL, not for the variable of http or https", lower, upper, scheme))
	}
	for _, n := range []string{"all_proxy", "ALL_PROXY"} {
		if v := c.env.get(n); v != "" {
			return n, v
		}
	}
	return "", ""
}

// parseProxy reads a proxy as curl does: http:// by default, and port
// 1080 unless the scheme is https.
func (c *curlFlavor) parseProxy(value, name string, clauses *[]Clause) (Proxy, error) {
	s := strings.TrimSpace(value)
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		scheme, rest = "http", s
	}
	switch strings.ToLower(scheme) {
	case "http", "https", "socks4", "socks4a", "socks5", "socks5h":
	default:
		return Proxy{}, refuse(FlavorCurl, clause("curl/unknown-proxy-scheme", name,
			"curl does not know the proxy scheme %q of %s and fails the transfer", scheme, name))
	}
	p, err := ParseProxyURL(scheme + "://" + rest)
	if err != nil {
		c.r.warn(fmt.Sprintf("%s ignored: %v", name, err))
		return Proxy{}, refuse(FlavorCurl, clause("curl/bad-proxy", name, "curl cannot use the proxy in %s: %v", name, err))
	}
	if hostPart := strings.TrimPrefix(rest[strings.LastIndexByte(rest, '@')+1:], "//"); !hasPort(strings.TrimSuffix(hostPart, "/")) && p.Type != HTTPS && !p.Type.IsSOCKS() {
		p.Port = 1080
		*clauses = append(*clauses, clause("curl/proxy-port-1080", name,
			"curl takes port 1080 for a proxy written without one, so %s means %s", value, p.Addr()))
	}
	return p, nil
}

// hasPort reports whether "host", "host:port" or "[v6]:port" has a port.
func hasPort(s string) bool { return strings.LastIndex(s, ":") > strings.LastIndex(s, "]") }

// curlMatch is one step of Curl_check_noproxy.
func curlMatch(host, token string) bool {
	if a, err := netip.ParseAddr(host); err == nil && a.Is4() {
		check, bits := token, 0
		if i := strings.IndexByte(check, '/'); i >= 0 {
			bits = atoi(check[i+1:])
			check = check[:i]
		}
		if bits > 32 {
			return false
		}
		n, err := netip.ParseAddr(check)
		if err != nil || !n.Is4() || strings.Count(check, ".") != 3 {
			return false
		}
		if bits == 0 || bits == 32 {
			return n == a
		}
		return netip.PrefixFrom(n, bits).Masked().Contains(a)
	}
	name := strings.TrimSuffix(host, ".")
	t := strings.TrimSuffix(token, ".")
	t = strings.TrimPrefix(t, ".")
	switch {
	case len(t) == len(name):
		return strings.EqualFold(t, name)
	case len(t) < len(name):
		return name[len(name)-len(t)-1] == '.' && strings.EqualFold(t, name[len(name)-len(t):])
	}
	return false
}

// atoi is C's atoi: leading digits, 0 if none.
func atoi(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, _ := strconv.Atoi(s[:i])
	return n
}

// why explains a NO_PROXY entry that curl reads differently from pacd.
func (c *curlFlavor) why(text string, matched bool, host string) Clause {
	t := strings.ToLower(text)
	isV6 := strings.Contains(host, ":")
	if matched && strings.Contains(t, "/") {
		return clause("curl/cidr-atoi", text, "curl reads the bits of %s with atoi, so what follows the number is ignored", t)
	}
	switch {
	case chromiumSyntax(t):
		return clause("curl/no-chromium-syntax", text, "curl does not understand Chromium's %s in NO_PROXY", t)
	case t == "*":
		return clause("curl/star-alone", text, "curl honours * only as the whole NO_PROXY value; among other entries (or padded with blanks) it matches nothing")
	case strings.Contains(t, ";"):
		return clause("curl/no-semicolon", text, "curl separates NO_PROXY entries with commas and blanks, not semicolons, so %q is one entry", text)
	case strings.Contains(t, "*"):
		return clause("curl/no-glob", text, "curl has no wildcards in NO_PROXY: %s matches nothing", t)
	case isV6 || strings.Contains(t, "::") || strings.HasPrefix(t, "["):
		return clause("curl/ipv6-as-text", text, "curl 7.88 compares IPv6 addresses with NO_PROXY entries as text, so %s does not match %s (write the address without brackets or prefix, spelt as the URL spells it)", t, host)
	case strings.HasSuffix(t, "/0"):
		return clause("curl/cidr-zero", text, "curl reads a /0 block as the single address %s", strings.TrimSuffix(t, "/0"))
	case hasPort(t) && !strings.Contains(t, "/"):
		return clause("curl/no-proxy-port", text, "curl ignores ports in NO_PROXY: the entry %s never matches; drop the port", t)
	case !isASCII(t):
		return clause("curl/unicode-entry", text, "curl does not convert the NO_PROXY entry %s to punycode, so it never matches the name it sends", t)
	}
	if d, err := newDestination(strings.Split(t, "/")[0], 0); err == nil && d.addr.IsValid() && strings.Count(t, ".") != 3 {
		return clause("curl/address-forms", text, "curl reads only dotted-quad IPv4 addresses in NO_PROXY, so %s is not an address to it", t)
	}
	return genericWhy("curl/entry", FlavorCurl, text, matched)
}

func (c *curlFlavor) implicit(why string, req *request) (Clause, bool) {
	return clause("curl/no-implicit", req.host, "curl has no implicit rule: %s is proxied unless NO_PROXY lists it", req.host), true
}
