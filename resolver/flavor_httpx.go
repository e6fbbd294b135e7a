package resolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// httpxFlavor is Python HTTPX 0.28: get_environment_proxies, URLPattern
// and Client's mount ordering. Clause by clause, with the notes' row
// numbers:
//
//   - The environment is urllib's getproxies() (see the python flavour:
//     an empty lower-case variable hides the upper-case one). Its http,
//     https and all proxies become the mounts "http://", "https://" and
//     "all://"; a value without "://" gets "http://".
//   - NO_PROXY is split at commas and trimmed. A "*" entry anywhere drops
//     every environment proxy. Each other entry becomes a mount to no
//     proxy, converted naively: with "://" it is used as the pattern
//     itself (so it applies to one scheme); an IPv4 address, CIDR or not,
//     becomes all://ADDR (whose "/8" is then a path: only the network
//     address matches, 116-122); an IPv6 one all://[ADDR]; localhost
//     all://localhost (exactly: 152); anything else all://*ENTRY, which
//     means the name and those below it, but "*.x" becomes "**.x" and
//     never matches (60), and ".x" becomes "*.x", names below x only
//     (52).
//   - Building the client fails when a pattern is not a URL HTTPX can
//     parse: a bracketed IPv6 entry, an IPv6 CIDR block, a Unicode entry
//     (142-146, 149, 159). New returns that refusal.
//   - Patterns match the URL's scheme (all: any), host and port; a URL's
//     default port counts as none, so all://*x:80 never matches
//     http://x/ (80). The URL's host is compared lower-case, without IPv6
//     brackets, and decoded from punycode when it starts with "xn--".
//   - The mounts are tried in priority order: a pattern with a port, then
//     the longer host, then the longer scheme, then the order given; the
//     first match decides.
//   - No implicit loopback rule.
//
// Config.Proxy is proxy=: one mount "all://", and the environment,
// NO_PROXY included, is not read at all. Config.Mounts are mounts=,
// merged over the environment's (a mount replaces one with the same
// pattern) and sorted together with them. Config.Bypass stands for
// NO_PROXY.
type httpxFlavor struct {
	mounts   []httpxMount // in priority order
	entries  []clientEntry
	patterns []*httpxMount // the NO_PROXY mount of each entry
	noFrom   string
	envNo    *BypassList // the canonical reading of NO_PROXY, when proxy= ignores it
	envNoVar string
	notes    map[string][]Clause // urllib's notes per mount pattern
	env      *pyEnv              // the environment, when read
}

type httpxMount struct {
	pattern string
	scheme  string // "" for all
	host    string // "" for any
	hostRe  *regexp.Regexp
	port    int // -1 for none
	proxy   *Proxy
	from    string // the variable or setting it came from
	entry   string // the NO_PROXY entry it came from
	index   int
}

func newHTTPXFlavor(cfg *Config, env environ, r *Resolver) (flavor, error) {
	if err := unsupported(cfg, "proxy", "mounts", "bypass"); err != nil {
		return nil, err
	}
	h := &httpxFlavor{notes: map[string][]Clause{}}
	byPattern := map[string]int{}
	var ms []httpxMount
	add := func(m httpxMount) {
		if i, ok := byPattern[m.pattern]; ok {
			m.index = ms[i].index
			ms[i] = m
			return
		}
		m.index = len(ms)
		byPattern[m.pattern] = len(ms)
		ms = append(ms, m)
	}
	refused := func(id, subject, format string, args ...any) error {
		return refuse(FlavorHTTPX, clause(id, subject, format, args...))
	}
	pe := readPyEnv(env)
	if cfg.Proxy != "" {
		m, err := newHTTPXMount("all://", cfg.Proxy, "Config.Proxy")
		if err != nil {
			return nil, refused("httpx/bad-proxy", "Config.Proxy", "HTTPX cannot build a client with proxy=%s: %v", cfg.Proxy, err)
		}
		add(m)
		canon := ReadEnv(func(k string) string { return env.get(k) })
		if canon.NoProxy.IsSet() {
			h.envNo, _ = parseBypassList(canon.NoProxy.Value)
			h.envNoVar = canon.NoProxy.Name
		}
	} else {
		h.env = &pe
		for _, s := range []string{"http", "https", "all"} {
			v := pe.vals[s]
			if v == "" {
				continue
			}
			if !strings.Contains(v, "://") {
				v = "http://" + v
			}
			m, err := newHTTPXMount(s+"://", v, pe.from[s])
			if err != nil {
				return nil, refused("httpx/bad-proxy", pe.from[s], "HTTPX cannot build a client from %s=%s: %v", pe.from[s], pe.vals[s], err)
			}
			add(m)
			h.notes[s+"://"] = pe.notes(s)
		}
		no, from := pe.vals["no"], pe.from["no"]
		if cfg.Bypass != "" {
			no, from = cfg.Bypass, "Config.Bypass"
		}
		h.noFrom = from
		// get_environment_proxies converts the entries and stops at a
		// "*", returning no mounts at all; the Client parses them after.
		var noEntries []string
		for _, raw := range strings.Split(no, ",") {
			e := strings.TrimSpace(raw)
			if e == "*" {
				ms, byPattern, noEntries = nil, map[string]int{}, nil
				h.noFrom = from + " entry *"
				break
			}
			if e != "" {
				noEntries = append(noEntries, e)
			}
		}
		var noMounts []httpxMount
		for _, e := range noEntries {
			pat := httpxNoProxyPattern(e)
			m, err := newHTTPXMount(pat, "", from)
			if err != nil {
				return nil, refused("httpx/refuses-entry", e, "HTTPX cannot build a client: the NO_PROXY entry %s becomes the mount pattern %s, which is not a URL it accepts (%v)", e, pat, err)
			}
			m.entry = e
			noMounts = append(noMounts, m)
			h.entries = append(h.entries, newClientEntry(e))
		}
		for _, m := range noMounts {
			add(m)
		}
		h.notes["no"] = pe.notes("no")
	}
	for _, mt := range cfg.Mounts {
		m, err := newHTTPXMount(strings.TrimSpace(mt.Pattern), mt.Proxy, "mount "+mt.Pattern)
		if err != nil {
			return nil, fmt.Errorf("resolver: flavour httpx: mount %q: %v", mt.Pattern, err)
		}
		add(m)
	}
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := &ms[i], &ms[j]
		return mountRank{a.port, a.host, a.scheme, a.index}.before(mountRank{b.port, b.host, b.scheme, b.index})
	})
	h.mounts = ms
	for _, e := range h.entries {
		for i := range h.mounts {
			if h.mounts[i].entry == e.text {
				h.patterns = append(h.patterns, &h.mounts[i])
				break
			}
		}
	}
	return h, nil
}

// httpxNoProxyPattern is get_environment_proxies' conversion of one
// NO_PROXY entry.
func httpxNoProxyPattern(e string) string {
	first := strings.Split(e, "/")[0]
	isV4 := false
	if a, err := netip.ParseAddr(first); err == nil && a.Is4() {
		isV4 = true
	}
	isV6 := false
	if a, err := netip.ParseAddr(first); err == nil && a.Is6() && a.Zone() == "" {
		isV6 = true
	}
	switch {
	case strings.Contains(e, "://"):
		return e
	case isV4:
		return "all://" + e
	case isV6:
		return "all://[" + e + "]"
	case strings.ToLower(e) == "localhost":
		return "all://" + e
	}
	return "all://*" + e
}

var httpxDefaultPorts = map[string]int{"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}

// newHTTPXMount parses a pattern as httpx.URL and URLPattern do, and a
// proxy as httpx.Proxy does ("" or "none": no proxy).
func newHTTPXMount(pattern, proxy, from string) (httpxMount, error) {
	m := httpxMount{pattern: pattern, from: from, port: -1}
	if pattern != "" && !strings.Contains(pattern, ":") {
		return m, fmt.Errorf("proxy keys should use proper URL forms rather than plain scheme strings: instead of %q, use %q", pattern, pattern+"://")
	}
	scheme, rest, ok := strings.Cut(pattern, "://")
	if !ok {
		return m, errors.New("want scheme://host[:port]")
	}
	scheme = strings.ToLower(scheme)
	if scheme != "all" {
		m.scheme = scheme
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	rest = rest[strings.LastIndexByte(rest, '@')+1:]
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") && strings.LastIndexByte(rest, ']') > 0 {
		end := strings.LastIndexByte(rest, ']')
		host, port = rest[:end+1], strings.TrimPrefix(rest[end+1:], ":")
	} else if i := strings.IndexAny(rest, ":@"); i >= 0 {
		host, port = rest[:i], rest[i+1:]
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 {
			return m, fmt.Errorf("invalid port: %q", port)
		}
		if httpxDefaultPorts[scheme] != n {
			m.port = n
		}
	}
	h, err := httpxEncodeHost(host)
	if err != nil {
		return m, err
	}
	if h != "*" {
		m.host = h
	}
	switch {
	case m.host == "":
	case strings.HasPrefix(m.host, "*."):
		m.hostRe = regexp.MustCompile(`^.+\.` + regexp.QuoteMeta(m.host[2:]) + `$`)
	case strings.HasPrefix(m.host, "*"):
		m.hostRe = regexp.MustCompile(`^(.+\.)?` + regexp.QuoteMeta(m.host[1:]) + `$`)
	default:
		m.hostRe = regexp.MustCompile(`^` + regexp.QuoteMeta(m.host) + `$`)
	}
	switch strings.ToLower(strings.TrimSpace(proxy)) {
	case "", "none":
		return m, nil
	}
	if s, _, _ := strings.Cut(proxy, "://"); !strings.Contains(proxy, "://") || !map[string]bool{"http": true, "https": true, "socks5": true, "socks5h": true}[strings.ToLower(s)] {
		return m, fmt.Errorf("unknown scheme for proxy URL %q", proxy)
	}
	p, err := ParseProxyURL(proxy)
	if err != nil {
		return m, err
	}
	m.proxy = &p
	return m, nil
}

var httpxIPv4Style = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$`)

// httpxEncodeHost is httpx's encode_host, then URL.host's decoding of a
// host that begins with "xn--".
func httpxEncodeHost(host string) (string, error) {
	switch {
	case host == "":
		return "", nil
	case httpxIPv4Style.MatchString(host):
		if a, err := netip.ParseAddr(host); err != nil || !a.Is4() {
			return "", fmt.Errorf("invalid IPv4 address: %q", host)
		}
		return host, nil
	case strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]"):
		if a, err := netip.ParseAddr(host[1 : len(host)-1]); err != nil || !a.Is6() {
			return "", fmt.Errorf("invalid IPv6 address: %q", host)
		}
		return strings.ToLower(host[1 : len(host)-1]), nil
	case isASCII(host):
		return httpxDecode(strings.ToLower(host)), nil
	}
	a, err := idna.Lookup.ToASCII(strings.ToLower(host))
	if err != nil {
		return "", fmt.Errorf("invalid IDNA hostname: %q", host)
	}
	return httpxDecode(a), nil
}

func httpxDecode(h string) string {
	if strings.HasPrefix(h, "xn--") {
		if u, err := idna.Lookup.ToUnicode(h); err == nil {
			return u
		}
	}
	return h
}

func (m *httpxMount) matches(scheme, host string, port int) bool {
	if m.scheme != "" && m.scheme != scheme {
		return false
	}
	if m.hostRe != nil && !m.hostRe.MatchString(host) {
		return false
	}
	return m.port < 0 || m.port == port
}

func (h *httpxFlavor) decide(ctx context.Context, r *Resolver, req *request) (Decision, error) {
	host := strings.ToLower(req.host)
	if !strings.Contains(host, ":") {
		host = httpxDecode(asciiHost(host))
	}
	port := -1
	if req.port != "" {
		port, _ = strconv.Atoi(req.port)
		if httpxDefaultPorts[req.scheme] == port {
			port = -1
		}
	}
	res := compareBypass(h.entries, req, func(i int) bool { return h.patterns[i].matches(req.scheme, host, port) }, func(text string, matched bool) Clause {
		return httpxWhy(text, matched, req, host)
	})
	clauses := append(append([]Clause(nil), h.notes["no"]...), res.clauses...)
	if h.envNo != nil {
		if d, err := newDestination(req.host, req.eff); err == nil && h.envNo.match(d) != "" {
			clauses = append(clauses, clause("httpx/proxy-ignores-env", h.envNoVar,
				"HTTPX given proxy= does not read the environment at all, so %s does not apply", h.envNoVar))
		}
	}
	var winner *httpxMount
	for i := range h.mounts {
		if h.mounts[i].matches(req.scheme, host, port) {
			winner = &h.mounts[i]
			break
		}
	}
	if winner == nil {
		if h.env != nil {
			clauses = append(clauses, h.env.notes(req.scheme)...)
		}
		if strings.HasSuffix(h.noFrom, " entry *") {
			return directDecision(FromBypass, h.noFrom, clauses...), nil
		}
		return directDecision(FromDefault, "", clauses...), nil
	}
	explicit := strings.HasPrefix(winner.from, "mount ")
	if (explicit && res.entry != "") || (winner.entry != "" && h.explicitMatch(req.scheme, host, port)) {
		clauses = append(clauses, clause("httpx/mounts-sorted", winner.pattern,
			"HTTPX sorts the mounts from NO_PROXY together with yours and the longer pattern, %s, wins", winner.pattern))
	}
	switch {
	case winner.entry != "":
		return directDecision(FromBypass, h.noFrom+" entry "+winner.entry, clauses...), nil
	case explicit && winner.proxy == nil:
		return directDecision(FromMount, winner.pattern, clauses...), nil
	case explicit:
		return proxyDecision(*winner.proxy, FromMount, winner.pattern, clauses...), nil
	}
	clauses = append(h.notes[winner.pattern], clauses...)
	return proxyDecision(*winner.proxy, fromVar(winner.from), winner.from, clauses...), nil
}

func (h *httpxFlavor) explicitMatch(scheme, host string, port int) bool {
	for i := range h.mounts {
		if strings.HasPrefix(h.mounts[i].from, "mount ") && h.mounts[i].matches(scheme, host, port) {
			return true
		}
	}
	return false
}

// httpxWhy explains a NO_PROXY entry that HTTPX's mounts read differently
// from pacd; host is the URL's host as HTTPX compares it.
func httpxWhy(text string, matched bool, req *request, host string) Clause {
	t := strings.ToLower(text)
	pat := httpxNoProxyPattern(text)
	if matched {
		switch {
		case strings.Contains(t, "://"):
			return clause("httpx/scheme-entry", text, "HTTPX uses the NO_PROXY entry %s as a URL pattern, which pacd does not understand", t)
		case strings.Contains(t, "/"):
			return clause("httpx/path-ignored", text, "HTTPX ignores the path in the NO_PROXY entry %s", t)
		}
		return clause("httpx/pattern-suffix", text, "HTTPX turns %s into the pattern %s, which matches %s as text", t, pat, host)
	}
	switch {
	case chromiumSyntax(t):
		return clause("httpx/no-chromium-syntax", text, "HTTPX does not understand Chromium's %s in NO_PROXY", t)
	case strings.ContainsAny(t, " \t;"):
		return clause("httpx/commas-only", text, "HTTPX separates NO_PROXY entries with commas only, so %q is one entry that matches nothing", text)
	case strings.Contains(t, "://"):
		return clause("httpx/scheme-entry", text, "HTTPX uses the NO_PROXY entry %s as a URL pattern, which applies to its scheme's URLs only", t)
	case strings.Contains(t, "/"):
		return clause("httpx/cidr-network-only", text, "HTTPX turns %s into the pattern %s whose /%s is a path, so it matches only the address %s itself", t, pat, strings.SplitN(t, "/", 2)[1], strings.Split(t, "/")[0])
	case strings.HasPrefix(t, "*"):
		return clause("httpx/star-never", text, "HTTPX turns %s into the pattern %s, which never matches", t, pat)
	case strings.Contains(t, "*"):
		return clause("httpx/no-glob", text, "HTTPX turns %s into the pattern %s, which never matches", t, pat)
	case strings.HasPrefix(t, "."):
		apex := strings.TrimPrefix(t, ".")
		return clause("httpx/dot-excludes-apex", text, "HTTPX turns %s into the pattern all://*%s, which matches the names below %s but not %s itself", t, t, apex, apex)
	case t == "localhost":
		return clause("httpx/localhost-exact", text, "HTTPX turns localhost into the pattern all://localhost, which matches localhost exactly and nothing below it")
	case hasPort(t) && !strings.Contains(t, "::"):
		return clause("httpx/port-pattern", text, "HTTPX turns %s into the pattern %s, which matches only URLs that write that port and for which it is not the default", t, pat)
	case strings.HasSuffix(t, ".") || strings.HasSuffix(host, "."):
		return clause("httpx/trailing-dot", text, "HTTPX does not ignore trailing dots, so %q and %q differ", t, host)
	case strings.HasPrefix(asciiHost(req.host), "xn--") || !isASCII(host):
		return clause("httpx/idn-decoded", text, "HTTPX compares patterns with the URL's host decoded from punycode when it begins with xn--, so %s does not match %s", t, host)
	}
	if d, err := newDestination(t, 0); err == nil && d.addr.IsValid() || strings.Contains(host, ":") {
		return clause("httpx/address-text", text, "HTTPX compares addresses as text, so %s does not match %s", t, host)
	}
	return genericWhy("httpx/entry", FlavorHTTPX, text, false)
}

func (h *httpxFlavor) implicit(why string, req *request) (Clause, bool) {
	return clause("httpx/no-implicit", req.host, "HTTPX has no implicit rule: %s is proxied unless NO_PROXY lists it", req.host), true
}
