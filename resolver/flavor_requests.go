package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// requestsFlavor is Python requests 2.34: Session.merge_environment_settings,
// utils.should_bypass_proxies and utils.select_proxy. Clause by clause,
// with the notes' row numbers:
//
//   - The environment's proxies are urllib's getproxies() (see the python
//     flavour: an empty lower-case variable hides the upper-case one),
//     including all_proxy under the key "all".
//   - NO_PROXY, for requests' own matcher, is no_proxy or else NO_PROXY
//     (an empty no_proxy does not hide NO_PROXY: 110), blanks removed,
//     split at commas. Against an IPv4 host: exact text, or a CIDR block
//     with a mask of 1 to 32 (116, 124). Against any other host (IPv6
//     included, without brackets: 137, 142): leading dots removed, the
//     entry equals the host or host:port (the port only when the URL
//     writes one: 76-80) or is a suffix of either after a dot.
//   - Then urllib's proxy_bypass(host) is asked as well, and the URL is
//     bypassed if either says so: so a lone "*" bypasses everything, and
//     text suffixes match addresses (132).
//   - A bypassed URL gets no environment proxies. They are merged into
//     the proxies= dict with setdefault, never overriding it; the dict
//     itself is not subject to NO_PROXY.
//   - The proxy is looked up under "scheme://host", "scheme",
//     "all://host", "all", the first key present winning (even "none"),
//     host being the lower-case punycode host without port: so an
//     explicit {"all": X} loses to HTTP_PROXY for http URLs.
//   - No implicit loopback rule.
//
// Config.Proxies is the proxies= argument of a request (a "no_proxy" key
// stands for NO_PROXY, as in requests); Config.Bypass is that key.
type requestsFlavor struct {
	env       pyEnv
	explicit  map[string]string // proxies= without "no_proxy"
	ownNo     string            // NO_PROXY for requests' own matcher
	ownFrom   string
	urllibNo  string // NO_PROXY as urllib's proxy_bypass sees it
	urllibSrc string
	entries   []clientEntry // ownNo split at commas
	uEntries  []clientEntry // urllibNo split at commas, when it differs
	r         *Resolver
}

func newRequestsFlavor(cfg *Config, env environ, r *Resolver) (flavor, error) {
	if err := unsupported(cfg, "proxies", "bypass"); err != nil {
		return nil, err
	}
	q := &requestsFlavor{env: readPyEnv(env), r: r, explicit: map[string]string{}}
	argNo, hasArg := "", false
	for k, v := range cfg.Proxies {
		if k == "no_proxy" {
			argNo, hasArg = v, true
			continue
		}
		q.explicit[k] = v
	}
	if cfg.Bypass != "" {
		argNo, hasArg = cfg.Bypass, true
	}
	switch {
	case hasArg:
		q.ownNo, q.ownFrom = argNo, "proxies[\"no_proxy\"]"
		q.urllibNo, q.urllibSrc = argNo, q.ownFrom
	default:
		q.ownNo, q.ownFrom = env.get("no_proxy"), "no_proxy"
		if q.ownNo == "" {
			q.ownNo, q.ownFrom = env.get("NO_PROXY"), "NO_PROXY"
		}
		q.urllibNo, q.urllibSrc = q.env.vals["no"], q.env.from["no"]
	}
	for _, t := range strings.Split(q.ownNo, ",") {
		if t = strings.TrimSpace(t); t != "" {
			q.entries = append(q.entries, newClientEntry(t))
		}
	}
	if q.urllibNo != q.ownNo {
		for _, t := range strings.Split(q.urllibNo, ",") {
			if t = strings.TrimSpace(t); t != "" {
				q.uEntries = append(q.uEntries, newClientEntry(t))
			}
		}
	}
	return q, nil
}

func (q *requestsFlavor) decide(ctx context.Context, r *Resolver, req *request) (Decision, error) {
	hostname := strings.ToLower(asciiHost(req.host))
	bypass, clauses := q.bypass(req, hostname)
	// Environment proxies, merged under the explicit ones.
	merged := map[string]string{}
	fromEnv := map[string]string{}
	for k, v := range q.explicit {
		merged[k] = v
	}
	if bypass.entry == "" {
		for k, v := range q.env.vals {
			if _, ok := merged[k]; !ok {
				merged[k], fromEnv[k] = v, q.env.from[k]
			}
		}
	}
	keys := [4]string{req.scheme + "://" + hostname, req.scheme, "all://" + hostname, "all"}
	for i, k := range keys {
		v, ok := merged[k]
		if !ok {
			continue
		}
		if src, env := fromEnv[k]; env {
			clauses = append(clauses, q.env.notes(k)...)
			if _, all := q.explicit["all"]; all && k == req.scheme {
				clauses = append(clauses, clause("requests/env-beats-all", src,
					"requests merges the environment into proxies= without overriding it and looks %q up before \"all\", so %s beats your \"all\" entry", k, src))
			}
			p, err := ParseProxyURL(v)
			if err != nil {
				q.r.warn(fmt.Sprintf("%s ignored: %v", src, err))
				return directDecision(FromDefault, "", clauses...), nil
			}
			return proxyDecision(p, FromEnv, src, clauses...), nil
		}
		p, err := parseTarget(v)
		if err != nil {
			return Decision{}, fmt.Errorf("resolver: flavour requests: proxies key %q: %w", k, err)
		}
		if bypass.entry != "" && (i == 1 || i == 3) && !p.IsDirect() {
			clauses = append(clauses, clause("requests/explicit-ignores-no-proxy", k,
				"requests does not apply NO_PROXY to proxies= entries: the key %q is used although %s matches", k, bypass.entry))
		}
		return proxyDecision(p, FromProxies, k, clauses...), nil
	}
	if bypass.entry != "" {
		return directDecision(FromBypass, bypass.entry, clauses...), nil
	}
	clauses = append(clauses, q.env.notes(req.scheme)...)
	return directDecision(FromDefault, "", clauses...), nil
}

// bypass is should_bypass_proxies; the entry that matched is returned as
// "VARIABLE entry TEXT".
func (q *requestsFlavor) bypass(req *request, hostname string) (bypassResult, []Clause) {
	if q.ownNo == "" && q.urllibNo == "" {
		return bypassResult{}, nil
	}
	notes := q.env.notes("no")
	hostPort := hostname
	if req.port != "" {
		hostPort += ":" + req.port
	}
	ipv4 := isInetAton(hostname)
	same := q.urllibNo == q.ownNo
	if same && q.urllibNo == "*" {
		return bypassResult{entry: q.ownFrom + " entry *"}, notes
	}
	why := func(text string, matched bool) Clause { return requestsWhy(text, matched, req, hostname) }
	res := compareBypass(q.entries, req, func(i int) bool {
		t := q.entries[i].text
		return requestsOwnMatch(hostname, hostPort, ipv4, strings.ReplaceAll(t, " ", "")) || same && pyEntryMatch(hostname, t)
	}, why)
	from := q.ownFrom
	if res.entry == "" && !same && q.urllibNo != "" {
		if q.urllibNo == "*" {
			return bypassResult{entry: q.urllibSrc + " entry *"}, notes
		}
		if u := compareBypass(q.uEntries, req, func(i int) bool { return pyEntryMatch(hostname, q.uEntries[i].text) }, why); u.entry != "" {
			res, from = u, q.urllibSrc
		}
	}
	if res.entry != "" {
		res.entry = from + " entry " + res.entry
		return res, res.clauses
	}
	return res, append(notes, res.clauses...)
}

// requestsOwnMatch is requests' own matcher for one entry.
func requestsOwnMatch(hostname, hostPort string, ipv4 bool, entry string) bool {
	if entry == "" {
		return false
	}
	if ipv4 {
		if requestsValidCIDR(entry) {
			addr, bits, _ := strings.Cut(entry, "/")
			n, _ := strconv.Atoi(bits)
			a, _ := inetAton(addr)
			h, _ := inetAton(hostname)
			return netip.PrefixFrom(a, n).Masked().Contains(h)
		}
		return hostname == entry
	}
	e := strings.TrimLeft(entry, ".")
	if hostname == e || hostPort == e {
		return true
	}
	e = "." + e
	return strings.HasSuffix(hostname, e) || strings.HasSuffix(hostPort, e)
}

// requestsValidCIDR is utils.is_valid_cidr: one slash, a mask of 1 to
// 32, an address inet_aton accepts.
func requestsValidCIDR(s string) bool {
	if strings.Count(s, "/") != 1 {
		return false
	}
	addr, bits, _ := strings.Cut(s, "/")
	n, err := strconv.Atoi(bits)
	if err != nil || n < 1 || n > 32 {
		return false
	}
	return isInetAton(addr)
}

// inetAton parses an IPv4 address as C's inet_aton does (one to four
// parts, decimal, octal or hex).
func inetAton(s string) (netip.Addr, bool) {
	if s == "" || strings.HasSuffix(s, ".") {
		return netip.Addr{}, false
	}
	if d, err := newDestination(s, 0); err == nil && d.addr.Is4() && !strings.Contains(s, ":") {
		return d.addr, true
	}
	return netip.Addr{}, false
}

func isInetAton(s string) bool { _, ok := inetAton(s); return ok }

// requestsWhy explains a NO_PROXY entry that requests reads differently
// from pacd.
func requestsWhy(text string, matched bool, req *request, hostname string) Clause {
	t := strings.ToLower(strings.TrimSpace(text))
	if matched {
		if d, err := newDestination(req.host, 0); err == nil && d.addr.IsValid() {
			return clause("requests/ip-suffix", text, "requests also asks urllib, which matches NO_PROXY entries as text suffixes even against addresses, so %s matches %s", t, hostname)
		}
		return genericWhy("requests/entry", FlavorRequests, text, true)
	}
	switch {
	case chromiumSyntax(t):
		return clause("requests/no-chromium-syntax", text, "requests does not understand Chromium's %s in NO_PROXY", t)
	case t == "*":
		return clause("requests/star-alone", text, "requests honours * only as the whole NO_PROXY value; among other entries (or padded) it matches nothing")
	case strings.ContainsAny(t, " \t"):
		return clause("requests/blanks-removed", text, "requests removes the blanks from NO_PROXY before splitting it at commas, so %q becomes %q", text, strings.ReplaceAll(t, " ", ""))
	case strings.Contains(t, ";"):
		return clause("requests/commas-only", text, "requests separates NO_PROXY entries with commas only, so %q is one entry", text)
	case strings.Contains(t, "/") && strings.Contains(t, ":"):
		return clause("requests/no-ipv6-cidr", text, "requests has no IPv6 CIDR blocks in NO_PROXY: %s matches nothing", t)
	case strings.Contains(t, "/") && !requestsValidCIDR(t):
		return clause("requests/cidr-mask", text, "requests accepts CIDR masks from 1 to 32 only, so %s matches nothing", t)
	case strings.Contains(t, "*"):
		return clause("requests/no-glob", text, "requests has no wildcards in NO_PROXY: %s matches nothing", t)
	case strings.HasPrefix(t, "["):
		return clause("requests/bracketed-ipv6", text, "requests compares the host without brackets, %s, so write the entry %s without them", hostname, t)
	case hasPort(t) && !strings.Contains(t, "::") && req.port == "":
		return clause("requests/port-only-written", text, "requests matches the entry %s only when the URL writes the port itself", t)
	case strings.HasSuffix(t, ".") || strings.HasSuffix(hostname, "."):
		return clause("requests/trailing-dot", text, "requests does not ignore trailing dots, so %q and %q differ", t, hostname)
	case !isASCII(t):
		return clause("requests/unicode-entry", text, "requests compares entries with the punycode host %s, so the Unicode entry %s never matches", hostname, t)
	}
	if d, err := newDestination(strings.Split(t, "/")[0], 0); err == nil && d.addr.IsValid() || strings.Contains(hostname, ":") {
		return clause("requests/address-text", text, "requests compares addresses as text (IPv4 blocks aside), so %s does not match %s", t, hostname)
	}
	return genericWhy("requests/entry", FlavorRequests, text, false)
}

func (q *requestsFlavor) implicit(why string, req *request) (Clause, bool) {
	return clause("requests/no-implicit", req.host, "requests has no implicit rule: %s is proxied unless NO_PROXY lists it", req.host), true
}
