package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pacd/pacd/internal/hostname"
)

// chromiumFlavor is Chromium's proxy configuration, from its source and
// documentation (net/proxy_resolution: ProxyBypassRules,
// SchemeHostPortMatcherRule, ProxyConfigServiceLinux); unlike the other
// flavours it was not measured. Clause by clause:
//
//   - One mode at a time: a PAC script (Config.PAC, --proxy-pac-url) wins
//     over fixed servers (Config.Proxy, --proxy-server, with
//     Config.Bypass as --proxy-bypass-list), which win over the
//     environment (Linux without a desktop's settings).
//   - PAC mode: the implicit rules, then the script; no bypass list.
//   - The environment: each name as given, else its other case, where a
//     variable that is set but empty hides the other case. all_proxy,
//     when set, serves every scheme and hides http_proxy and the rest;
//     otherwise http_proxy serves http, https_proxy https, ftp_proxy ftp,
//     and ws/wss use https_proxy, else http_proxy; with none of these,
//     SOCKS_SERVER (SOCKS5, or SOCKS4 if SOCKS_VERSION is 4) serves all.
//     A value without a scheme is http:// (socks5:// for SOCKS_SERVER).
//     no_proxy is parsed with suffix matching: an entry that does not
//     start with "*" gets one, so example.com means *example.com and
//     matches notexample.com too (the notes' "also *.example.com" is
//     unverified; this follows the source).
//   - Bypass rules are separated by commas and semicolons, trimmed, and
//     tried in order, the first that matches deciding: "<local>"
//     (a dotless host that is not an address), "<-loopback>" (lifts the
//     implicit rules for what follows), [scheme://]ADDR/BITS (CIDR, IPv4
//     compared with IPv4-mapped too), [scheme://]IP_LITERAL[:port]
//     (IPv6 in brackets; "127.0.1" allowed), or
//     [scheme://]HOST_PATTERN[:port], where a leading "." means "*.", and
//   - and ? are wildcards over the canonical host (lower case,
//     punycode, trailing dot kept).
//   - The implicit rules, unless lifted: localhost and *.localhost (any
//     case, trailing dot), 127/8 and ::1, 169.254/16 and fe80::/10
//     (IPv4-mapped link-local too, but not IPv4-mapped loopback).
type chromiumFlavor struct {
	pac        bool
	fixed      *Proxy
	fixedName  string
	single     *Proxy // all_proxy or SOCKS_SERVER
	singleName string
	perScheme  map[string]Proxy
	perName    map[string]string
	rules      []crRule
	entries    []clientEntry
	ruleFrom   string
	envMode    bool
	notes      []Clause
	lifted     bool
}

type crKind uint8

const (
	crLocal crKind = iota
	crSubtract
	crBlock
	crIP
	crPattern
)

type crRule struct {
	kind    crKind
	scheme  string
	prefix  netip.Prefix
	addr    netip.Addr
	port    int // -1 for any
	pattern string
}

func newChromiumFlavor(cfg *Config, env environ, r *Resolver) (flavor, error) {
	if err := unsupported(cfg, "proxy", "bypass"); err != nil {
		return nil, err
	}
	if cfg.Bypass != "" && cfg.Proxy == "" {
		return nil, fmt.Errorf("resolver: flavour chromium: Bypass is --proxy-bypass-list, which applies only with Proxy (--proxy-server)")
	}
	c := &chromiumFlavor{pac: r.pac != nil, perScheme: map[string]Proxy{}, perName: map[string]string{}}
	switch {
	case c.pac:
	case cfg.Proxy != "":
		p, err := ParseProxyURL(cfg.Proxy)
		if err != nil {
			return nil, fmt.Errorf("resolver: flavour chromium: proxy: %w", err)
		}
		c.fixed, c.fixedName = &p, "Config.Proxy"
		c.parseRules(cfg.Bypass, false, "bypass list")
	default:
		c.readEnv(env, r)
	}
	return c, nil
}

// getVar is base::Environment::GetVar: the name, else the name in the
// other case; set but empty counts as found.
func getVar(env environ, name string) (string, string, bool) {
	if v, ok := env.lookup(name); ok {
		return name, v, true
	}
	alt := strings.ToUpper(name)
	if name[0] >= 'A' && name[0] <= 'Z' {
		alt = strings.ToLower(name)
	}
	v, ok := env.lookup(alt)
	return alt, v, ok
}

func (c *chromiumFlavor) readEnv(env environ, r *Resolver) {
	c.envMode = true
	get := func(name, scheme string) (Proxy, string, bool) {
		n, v, ok := getVar(env, name)
		if ok && v == "" {
			if other := env.get(strings.ToUpper(name)); n == name && other != "" {
				c.notes = append(c.notes, clause("chromium/empty-hides-upper", name,
					"Chromium finds %s set but empty and does not look at %s", name, strings.ToUpper(name)))
			}
			return Proxy{}, "", false
		}
		if !ok {
			return Proxy{}, "", false
		}
		if !strings.Contains(v, "://") {
			v = scheme + "://" + v
		}
		p, err := ParseProxyURL(v)
		if err != nil {
			r.warn(fmt.Sprintf("%s ignored: %v", n, err))
			return Proxy{}, "", false
		}
		r.lendCredentials(p)
		return p, n, true
	}
	if p, n, ok := get("all_proxy", "http"); ok {
		c.single, c.singleName = &p, n
		for _, s := range []string{"http", "https"} {
			if n, v, _ := getVar(env, s+"_proxy"); v != "" {
				c.perName[s] = n
			}
		}
	} else {
		for _, s := range []string{"http", "https", "ftp"} {
			if p, n, ok := get(s+"_proxy", "http"); ok {
				c.perScheme[s], c.perName[s] = p, n
			}
		}
		if len(c.perScheme) == 0 {
			scheme := "socks5"
			if env.get("SOCKS_VERSION") == "4" {
				scheme = "socks4"
			}
			if p, n, ok := get("SOCKS_SERVER", scheme); ok {
				c.single, c.singleName = &p, n
			}
		}
	}
	n, v, _ := getVar(env, "no_proxy")
	if n == "no_proxy" && v == "" && env.get("NO_PROXY") != "" {
		c.notes = append(c.notes, clause("chromium/empty-hides-upper", "no_proxy",
			"Chromium finds no_proxy set but empty and does not look at NO_PROXY"))
	}
	c.parseRules(v, true, n)
}

// parseRules is ProxyBypassRules::ParseFromString.
func (c *chromiumFlavor) parseRules(s string, suffix bool, from string) {
	c.ruleFrom = from
	for _, raw := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		t := strings.TrimSpace(raw)
		if t == "" {
			continue
		}
		if rule, ok := parseCrRule(t, suffix); ok {
			c.rules = append(c.rules, rule)
			c.entries = append(c.entries, newClientEntry(t))
			if rule.kind == crSubtract {
				c.lifted = true
			}
		}
	}
}

func parseCrRule(raw string, suffix bool) (crRule, bool) {
	switch strings.ToLower(raw) {
	case "<local>":
		return crRule{kind: crLocal}, true
	case "<-loopback>":
		return crRule{kind: crSubtract}, true
	}
	r := crRule{port: -1}
	if i := strings.Index(raw, "://"); i >= 0 {
		r.scheme, raw = strings.ToLower(raw[:i]), raw[i+3:]
		if r.scheme == "" {
			return r, false
		}
	}
	if raw == "" {
		return r, false
	}
	if addr, bits, ok := strings.Cut(raw, "/"); ok {
		a, ok := hostname.ParseLiteral(addr)
		n, err := strconv.Atoi(bits)
		if !ok || err != nil || n < 0 || n > a.BitLen() {
			return r, false
		}
		r.kind, r.prefix = crBlock, netip.PrefixFrom(a, n).Masked()
		return r, true
	}
	if host, port, ok := crHostPort(raw); ok {
		if a, ok := hostname.ParseLiteral(host); ok {
			r.kind, r.addr, r.port = crIP, a, port
			return r, true
		}
	}
	if i := strings.LastIndexByte(raw, ':'); i >= 0 {
		n, err := strconv.Atoi(raw[i+1:])
		if err != nil || n < 0 || n > 65535 {
			return r, false
		}
		r.port, raw = n, raw[:i]
	}
	if strings.HasPrefix(raw, ".") {
		raw = "*" + raw
	}
	if suffix && !strings.HasPrefix(raw, "*") {
		raw = "*" + raw
	}
	r.kind, r.pattern = crPattern, strings.ToLower(raw)
	return r, true
}

// crHostPort is net::ParseHostAndPort: "host", "host:port", "[v6]",
// "[v6]:port"; a port of -1 means none.
func crHostPort(s string) (string, int, bool) {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, false
		}
		host, port = s[1:end], strings.TrimPrefix(s[end+1:], ":")
		if s[end+1:] != "" && !strings.HasPrefix(s[end+1:], ":") {
			return "", 0, false
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
	}
	if port == "" {
		return host, -1, host != ""
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, false
	}
	return host, n, host != ""
}

// crHost is the canonical GURL host, and the address when it is one.
func crHost(h string) (string, netip.Addr) {
	h = strings.ToLower(asciiHost(h))
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Is4() {
			return a.String(), a
		}
		return "[" + a.WithZone("").String() + "]", a.WithZone("")
	}
	if hostname.LooksNumeric(lastLabel(strings.TrimSuffix(h, "."))) {
		if a, ok := hostname.ParseIPv4(h); ok {
			return a.String(), a
		}
	}
	return h, netip.Addr{}
}

// matchWild is base::MatchPattern with * and ?.
func matchWild(s, p string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if matchWild(s[i:], p[1:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && matchWild(s[1:], p[1:])
	}
	return s != "" && s[0] == p[0] && matchWild(s[1:], p[1:])
}

type crVerdict uint8

const (
	crNoMatch crVerdict = iota
	crInclude
	crExclude
)

func (r *crRule) eval(scheme, host string, addr netip.Addr, port int) crVerdict {
	if r.scheme != "" && r.scheme != scheme {
		return crNoMatch
	}
	yes := false
	switch r.kind {
	case crLocal:
		yes = !addr.IsValid() && !strings.Contains(host, ".")
	case crSubtract:
		if crImplicit(host, addr) != "" {
			return crExclude
		}
	case crBlock:
		a := addr
		if r.prefix.Addr().Is4() && a.Is4In6() {
			a = a.Unmap()
		}
		yes = a.IsValid() && r.prefix.Contains(a)
	case crIP:
		yes = addr.IsValid() && addr == r.addr && (r.port <= 0 || r.port == port)
	case crPattern:
		yes = (r.port < 0 || r.port == port) && matchWild(host, r.pattern)
	}
	if yes {
		return crInclude
	}
	return crNoMatch
}

// crImplicit is ProxyBypassRules::MatchesImplicitRules.
func crImplicit(host string, addr netip.Addr) string {
	h := strings.TrimSuffix(host, ".")
	switch {
	case h == "localhost" || strings.HasSuffix(h, ".localhost"):
		return "localhost"
	case addr.IsValid() && !addr.Is4In6() && addr.IsLoopback():
		return "loopback address"
	case addr.IsValid() && (addr.Unmap().IsLinkLocalUnicast() || linkLocal.Contains(addr.Unmap())):
		return "link-local address"
	}
	return ""
}

func (c *chromiumFlavor) decide(ctx context.Context, r *Resolver, req *request) (Decision, error) {
	host, addr := crHost(req.host)
	port := int(req.eff)
	if c.pac {
		if why := crImplicit(host, addr); why != "" {
			return directDecision(FromImplicit, why), nil
		}
		return r.fromPAC(ctx, req.pacURL, strings.Trim(host, "[]"))
	}
	clauses := append([]Clause(nil), c.notes...)
	var p *Proxy
	var name string
	switch {
	case c.fixed != nil:
		p, name = c.fixed, c.fixedName
	case c.single != nil:
		p, name = c.single, c.singleName
		if v := c.perVarFor(req.scheme); v != "" && c.singleName != "SOCKS_SERVER" {
			clauses = append(clauses, clause("chromium/all-proxy-first", c.singleName,
				"Chromium reads %s first and then uses it for every scheme, ignoring %s", c.singleName, v))
		}
	default:
		list := []string{req.scheme}
		if req.scheme == "ws" || req.scheme == "wss" {
			list = []string{"https", "http"}
		}
		for _, s := range list {
			if px, ok := c.perScheme[s]; ok {
				p, name = &px, c.perName[s]
				if s != req.scheme && !(req.scheme == "ws" && s == "http" || req.scheme == "wss" && s == "https") {
					clauses = append(clauses, clause("chromium/websocket-https-first", name,
						"Chromium gives WebSocket URLs the HTTPS proxy first, so this %s URL uses %s", req.scheme, name))
				}
				break
			}
		}
	}
	if p == nil {
		return directDecision(FromDefault, "", clauses...), nil
	}
	var verdict crVerdict
	matched := ""
	for i := range c.rules {
		if v := c.rules[i].eval(req.scheme, host, addr, port); v != crNoMatch {
			verdict, matched = v, c.entries[i].text
			break
		}
	}
	res := compareBypass(c.entries, req, func(i int) bool { return c.rules[i].eval(req.scheme, host, addr, port) == crInclude }, func(text string, m bool) Clause {
		return c.why(text, m, host)
	})
	clauses = append(clauses, res.clauses...)
	if verdict == crInclude {
		return directDecision(FromBypass, c.ruleFrom+" entry "+matched, clauses...), nil
	}
	if verdict == crNoMatch {
		if why := crImplicit(host, addr); why != "" {
			return directDecision(FromImplicit, why, clauses...), nil
		}
	}
	return proxyDecision(*p, fromVar(name), name, clauses...), nil
}

// perVarFor names the per-scheme variable pacd would use for scheme,
// when it is set and all_proxy hides it.
func (c *chromiumFlavor) perVarFor(scheme string) string {
	switch scheme {
	case "ws":
		scheme = "http"
	case "wss":
		scheme = "https"
	}
	return c.perName[scheme]
}

// why explains a bypass entry that Chromium reads differently from pacd.
func (c *chromiumFlavor) why(text string, matched bool, host string) Clause {
	t := strings.ToLower(text)
	if matched {
		switch {
		case strings.Contains(t, "://"):
			return clause("chromium/scheme-entry", text, "Chromium's bypass rule %s applies to that scheme's URLs, a form pacd does not read", t)
		case c.envMode && !strings.HasPrefix(t, "*") && !strings.HasPrefix(t, "."):
			return clause("chromium/env-suffix", text, "Chromium reads NO_PROXY from the environment with suffix matching: %s means *%s, which also matches %s", t, t, host)
		}
		if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
			return clause("chromium/pattern-on-address", text, "Chromium matches the host pattern %s against the text of the address %s too", t, host)
		}
		return genericWhy("chromium/entry", FlavorChromium, text, true)
	}
	switch {
	case strings.ContainsAny(t, " \t"):
		return clause("chromium/no-blank-separator", text, "Chromium separates bypass rules with commas and semicolons only, so %q is one rule that matches nothing", text)
	case strings.Contains(t, "://"):
		return clause("chromium/scheme-entry", text, "Chromium's bypass rule %s applies only to that scheme's URLs", t)
	case strings.HasPrefix(t, ".") || strings.HasPrefix(t, "*."):
		apex := strings.TrimPrefix(strings.TrimPrefix(t, "*"), ".")
		return clause("chromium/dot-excludes-apex", text, "Chromium's %s matches the names below %s but not %s itself (a leading . means *.)", t, apex, apex)
	case strings.Count(t, ":") > 1 && !strings.HasPrefix(t, "[") && !strings.Contains(t, "/"):
		return clause("chromium/ipv6-brackets", text, "Chromium reads an IPv6 address only in brackets, so %s is not an address to it", t)
	case strings.HasSuffix(t, ".") || strings.HasSuffix(host, "."):
		return clause("chromium/trailing-dot", text, "Chromium does not ignore trailing dots, so %q and %q differ", t, host)
	case !isASCII(t):
		return clause("chromium/unicode-entry", text, "Chromium compares bypass rules with the punycode host %s, so the Unicode rule %s never matches", host, t)
	case !c.envMode && !strings.Contains(t, "*"):
		return clause("chromium/exact-name", text, "in Chromium's bypass list a bare name matches that host only: write .%s as well to cover the names below it", t)
	}
	return genericWhy("chromium/entry", FlavorChromium, text, false)
}

func (c *chromiumFlavor) implicit(why string, req *request) (Clause, bool) {
	if c.lifted {
		return Clause{}, false
	}
	return clause("chromium/mapped-loopback", req.host, "Chromium's implicit rule does not cover the IPv4-mapped loopback address %s", req.host), true
}
