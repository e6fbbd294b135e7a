package resolver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// goFlavor is golang.org/x/net/http/httpproxy, v0.58 and later
// (FlavorGo), and the older copy of it that Go 1.26's net/http vendors
// for ProxyFromEnvironment (FlavorGoStd). Clause by clause, with the
// notes' row numbers:
//
//   - The variables: HTTP_PROXY, HTTPS_PROXY and NO_PROXY, each the first
//     non-empty of the lower-case and upper-case spelling; x/net reads
//     lower case first, net/http upper case first (3, 7, 110, 111).
//     ALL_PROXY is not read, and only http and https URLs get a proxy.
//   - A value without a scheme is an http:// proxy; one that does not
//     parse is ignored.
//   - CGI: when REQUEST_METHOD is set and an http URL has a proxy, the
//     answer is an error, before NO_PROXY and loopback are considered.
//   - Loopback: the host spelt exactly "localhost", and every loopback
//     address (IPv4-mapped too), go DIRECT, before NO_PROXY; LOCALHOST,
//     localhost. and foo.localhost do not (28-40).
//   - NO_PROXY is split at commas only (91); entries are trimmed and
//     lower-cased; a "*" entry anywhere means everything (105-107).
//     An entry is, in this order: a CIDR block (any port; 116, 124, 145);
//     host:port or [v6]:port (port-exact against the effective port;
//     76-80, 143); an IP address (127, 128, 137, 141); a bracketed IPv6
//     address without a port is a name and never matches (142);
//     otherwise a domain: "*.x" is ".x"; "x" matches x and every name
//     below it; ".x" only the names below (42, 52, 60, 64, 69). Names are
//     IDNA-encoded; trailing dots are not removed (50, 97); name entries
//     never match addresses (126, 132).
//
// Config.Proxy stands for httpproxy.Config's HTTPProxy and HTTPSProxy set
// in code (the environment's proxies are then not read), Config.Bypass
// for its NoProxy (replacing the environment's).
type goFlavor struct {
	f          Flavor
	http       goVar
	https      goVar
	noProxy    goVar
	allProxy   string // the ALL_PROXY variable that is set, which Go ignores
	cgi        bool
	all        bool // "*"
	entries    []goEntry
	clientEnts []clientEntry
}

// goVar is a variable Go chose, and why, when its choice departs from the
// canonical one.
type goVar struct {
	name, value string
	proxy       *Proxy // nil when unset or unusable
	clause      *Clause
}

type goKind uint8

const (
	goCIDR goKind = iota
	goIP
	goDomain
)

type goEntry struct {
	kind      goKind
	cidr      *net.IPNet
	ip        net.IP
	port      string
	host      string // for a domain: with a leading dot
	matchHost bool   // for a domain: also the name itself
}

func newGoFlavor(cfg *Config, env environ, r *Resolver) (flavor, error) {
	if err := unsupported(cfg, "proxy", "bypass"); err != nil {
		return nil, err
	}
	g := &goFlavor{f: cfg.Flavor}
	pick := func(lower, upper string) goVar {
		first, second := lower, upper
		if g.f == FlavorGoStd {
			first, second = upper, lower
		}
		v := goVar{name: first, value: env.get(first)}
		if v.value == "" {
			v = goVar{name: second, value: env.get(second)}
		}
		if v.value == "" {
			return goVar{}
		}
		if other := env.get(second); g.f == FlavorGoStd && v.name == first && other != "" && other != v.value {
			c := clause("go-std/uppercase-first", first,
				"Go's net/http reads %s before %s (an older copy of x/net/http/httpproxy), so %s=%s wins over %s=%s", upper, lower, upper, v.value, lower, other)
			v.clause = &c
		}
		return v
	}
	if cfg.Proxy != "" {
		g.http = goVar{name: "Config.Proxy", value: cfg.Proxy}
		g.https = g.http
	} else {
		g.http = pick("http_proxy", "HTTP_PROXY")
		g.https = pick("https_proxy", "HTTPS_PROXY")
		g.cgi = env.get("REQUEST_METHOD") != ""
	}
	for _, n := range []string{"all_proxy", "ALL_PROXY"} {
		if env.get(n) != "" {
			g.allProxy = n
			break
		}
	}
	for _, v := range []*goVar{&g.http, &g.https} {
		if v.value == "" {
			continue
		}
		p, err := ParseProxyURL(v.value)
		if err != nil {
			r.warn(fmt.Sprintf("%s ignored: %v", v.name, err))
			continue
		}
		v.proxy = &p
		r.lendCredentials(p)
	}
	if cfg.Bypass != "" {
		g.noProxy = goVar{name: "Config.Bypass", value: cfg.Bypass}
	} else {
		g.noProxy = pick("no_proxy", "NO_PROXY")
	}
	g.parseNoProxy(g.noProxy.value)
	return g, nil
}

// parseNoProxy is httpproxy's config.init, for NO_PROXY.
func (g *goFlavor) parseNoProxy(s string) {
	if s == "" {
		return
	}
	for _, raw := range strings.Split(s, ",") {
		p := strings.ToLower(strings.TrimSpace(raw))
		if p == "" {
			continue
		}
		if p == "*" {
			g.all = true
			return
		}
		if _, pnet, err := net.ParseCIDR(p); err == nil {
			g.add(raw, goEntry{kind: goCIDR, cidr: pnet})
			continue
		}
		phost, pport, err := net.SplitHostPort(p)
		if err == nil {
			if phost == "" {
				continue
			}
			if phost[0] == '[' && phost[len(phost)-1] == ']' {
				phost = phost[1 : len(phost)-1]
			}
		} else {
			phost = p
		}
		if pip := net.ParseIP(phost); pip != nil {
			g.add(raw, goEntry{kind: goIP, ip: pip, port: pport})
			continue
		}
		if phost == "" {
			continue
		}
		if strings.HasPrefix(phost, "*.") {
			phost = phost[1:]
		}
		matchHost := false
		if phost[0] != '.' {
			matchHost = true
			phost = "." + phost
		}
		phost = asciiHost(phost)
		g.add(raw, goEntry{kind: goDomain, host: phost, port: pport, matchHost: matchHost})
	}
}

func (g *goFlavor) add(raw string, e goEntry) {
	g.entries = append(g.entries, e)
	g.clientEnts = append(g.clientEnts, newClientEntry(strings.TrimSpace(raw)))
}

func (g *goFlavor) decide(ctx context.Context, r *Resolver, req *request) (Decision, error) {
	var v goVar
	switch req.scheme {
	case "http":
		v = g.http
	case "https":
		v = g.https
	default:
		// pacd gives ws the HTTP proxy, wss the HTTPS one, and every other
		// scheme ALL_PROXY.
		other := g.allProxy != ""
		if req.scheme == "ws" || req.scheme == "wss" {
			other = other || req.scheme == "ws" && g.http.value != "" || req.scheme == "wss" && g.https.value != ""
		}
		if other {
			return directDecision(FromDefault, "", clause("go/http-https-only", req.scheme,
				"Go's proxy function gives a proxy only to http and https URLs, so this %s URL goes DIRECT", req.scheme)), nil
		}
		return directDecision(FromDefault, ""), nil
	}
	if v.proxy == nil {
		if g.allProxy != "" {
			return directDecision(FromDefault, "", clause("go/no-all-proxy", g.allProxy,
				"Go does not read %s, and no %s proxy variable is set, so the URL goes DIRECT", g.allProxy, strings.ToUpper(req.scheme))), nil
		}
		return directDecision(FromDefault, ""), nil
	}
	if req.scheme == "http" && g.cgi {
		return Decision{}, refuse(g.f, clause("go/cgi-refuses", v.name,
			"with REQUEST_METHOD set (a CGI program), Go refuses every http request while %s is set, rather than risk a proxy injected by a client's Proxy header", v.name))
	}
	var envClauses []Clause
	if v.clause != nil {
		envClauses = append(envClauses, *v.clause)
	}
	host, port := asciiHost(req.host), fmt.Sprint(req.eff)
	if req.eff == 0 {
		port = ""
	}
	if host == "localhost" {
		return directDecision(FromImplicit, "localhost"), nil
	}
	var ip net.IP
	if a, err := netip.ParseAddr(host); err == nil {
		ip = net.IP(a.AsSlice())
		if ip.IsLoopback() {
			return directDecision(FromImplicit, "loopback address"), nil
		}
	}
	if g.all {
		return directDecision(FromBypass, g.noProxy.name+" entry *", envClauses...), nil
	}
	addr := strings.ToLower(strings.TrimSpace(host))
	res := compareBypass(g.clientEnts, req, func(i int) bool { return g.entries[i].match(addr, port, ip) }, func(text string, matched bool) Clause {
		return g.why(text, matched, req)
	})
	if g.noProxy.clause != nil {
		res.clauses = append([]Clause{*g.noProxy.clause}, res.clauses...)
	}
	if res.entry != "" {
		return directDecision(FromBypass, g.noProxy.name+" entry "+res.entry, append(envClauses, res.clauses...)...), nil
	}
	return proxyDecision(*v.proxy, fromVar(v.name), v.name, append(envClauses, res.clauses...)...), nil
}

// fromVar is the Source of a proxy named by a variable or by a setting
// given in code ("Config.Proxy").
func fromVar(name string) Source {
	if strings.HasPrefix(name, "Config.") {
		return FromProxy
	}
	return FromEnv
}

func (e *goEntry) match(host, port string, ip net.IP) bool {
	switch e.kind {
	case goCIDR:
		return ip != nil && e.cidr.Contains(ip)
	case goIP:
		return ip != nil && e.ip.Equal(ip) && (e.port == "" || e.port == port)
	}
	if ip != nil {
		return false
	}
	if strings.HasSuffix(host, e.host) || (e.matchHost && host == e.host[1:]) {
		return e.port == "" || e.port == port
	}
	return false
}

// why explains a NO_PROXY entry that Go reads differently from pacd.
func (g *goFlavor) why(text string, matched bool, req *request) Clause {
	t := strings.ToLower(strings.TrimSpace(text))
	host := strings.ToLower(req.host)
	switch {
	case chromiumSyntax(t):
		return clause("go/no-chromium-syntax", text, "Go does not understand Chromium's %s in NO_PROXY", t)
	case strings.ContainsAny(t, " \t;"):
		return clause("go/commas-only", text, "Go separates NO_PROXY entries with commas only, so %q is one entry that matches nothing", text)
	case strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]"):
		return clause("go/bracketed-ipv6", text, "Go reads the bracketed %s without a port as a name, which never matches an address: write it without brackets", t)
	case strings.HasSuffix(t, ".") || strings.HasSuffix(host, "."):
		return clause("go/trailing-dot", text, "Go does not ignore a trailing dot, so %q and %q are different names to it", t, host)
	case strings.HasPrefix(t, ".") || strings.HasPrefix(t, "*."):
		apex := strings.TrimPrefix(strings.TrimPrefix(t, "*"), ".")
		return clause("go/dot-excludes-apex", text, "Go's %s matches only the names below %s, not %s itself", t, apex, apex)
	case strings.Contains(t, "*"):
		return clause("go/no-glob", text, "Go understands * only alone or as a leading *., so %s matches nothing", t)
	}
	if _, err := netip.ParseAddr(strings.Trim(t, "[]")); err != nil {
		if d, err := newDestination(t, 0); err == nil && d.addr.IsValid() {
			return clause("go/address-forms", text, "Go reads only dotted-quad IPv4 and IPv6 addresses, so %s is a name to it", t)
		}
	}
	return genericWhy("go/entry", g.f, text, matched)
}

func (g *goFlavor) implicit(why string, req *request) (Clause, bool) {
	if why == "link-local address" {
		return clause("go/no-link-local", req.host, "Go has no rule for link-local addresses: %s is proxied unless NO_PROXY lists it", req.host), true
	}
	return clause("go/loopback-literal-only", req.host,
		"Go keeps only the exact name localhost and loopback addresses DIRECT, so %s is proxied", req.host), true
}
