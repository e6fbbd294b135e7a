package resolver

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// pythonFlavor is Python 3.11's urllib.request: getproxies_environment,
// ProxyHandler.proxy_open and proxy_bypass_environment. Clause by clause,
// with the notes' row numbers:
//
//   - The environment (getproxies_environment, which requests and HTTPX
//     use too): every variable whose name ends in _proxy in any case,
//     then the lower-case ones again; an empty lower-case variable
//     removes the key, hiding the upper-case one (4, 8, 110). With
//     REQUEST_METHOD set, HTTP_PROXY in any case but lower is dropped.
//   - A URL of scheme s uses the proxy of key s only: urllib never uses
//     all_proxy. A URL without one goes DIRECT whatever NO_PROXY says.
//   - NO_PROXY (key "no") equal to "*" bypasses everything; otherwise
//     entries are split at commas only and trimmed (91, 105-107).
//   - The host tested is the URL's host as written, with its port when
//     the URL writes one and with IPv6 brackets, lower-cased. An entry,
//     leading dots removed, matches when it equals the host with or
//     without port, or is a suffix of either after a dot: so an entry
//     with a port matches only a URL that writes it (76-80), IPv6 entries
//     must be bracketed (137, 142), addresses are strings (suffixes
//     match, 132; no CIDR, 116), and names are compared as written, not
//     in punycode (157).
//   - No implicit loopback rule.
//
// Config.Proxies is the dict given to ProxyHandler (scheme keys), which
// replaces the environment's proxies; NO_PROXY still applies.
// Config.Bypass stands for no_proxy.
type pythonFlavor struct {
	env     pyEnv
	proxies map[string]string // explicit ProxyHandler dict, or nil
	noProxy string
	noFrom  string
	entries []clientEntry
	r       *Resolver
}

// pyEnv is what urllib.request.getproxies() returns, with where each key
// came from.
type pyEnv struct {
	vals   map[string]string // key ("http", "no") -> value
	from   map[string]string // key -> the variable it came from
	hidden map[string]string // key -> a variable an empty lower-case one hid
}

// readPyEnv is getproxies_environment.
func readPyEnv(env environ) pyEnv {
	e := pyEnv{vals: map[string]string{}, from: map[string]string{}, hidden: map[string]string{}}
	for _, v := range env {
		name := strings.ToLower(v.name)
		if v.value != "" && strings.HasSuffix(name, "_proxy") {
			k := strings.TrimSuffix(name, "_proxy")
			e.vals[k], e.from[k] = v.value, v.name
		}
	}
	if _, cgi := env.lookup("REQUEST_METHOD"); cgi {
		delete(e.vals, "http")
		delete(e.from, "http")
	}
	for _, v := range env {
		if !strings.HasSuffix(v.name, "_proxy") {
			continue
		}
		k := strings.TrimSuffix(strings.ToLower(v.name), "_proxy")
		if v.value != "" {
			e.vals[k], e.from[k] = v.value, v.name
			delete(e.hidden, k)
			continue
		}
		if from, ok := e.from[k]; ok && from != v.name {
			e.hidden[k] = from
		}
		delete(e.vals, k)
		delete(e.from, k)
	}
	return e
}

// notes returns the clauses that explain how key was read, when urllib's
// reading departs from pacd's: an empty lower-case variable that hid an
// upper-case one, a variable in a case mix pacd does not read.
func (e pyEnv) notes(key string) []Clause {
	var out []Clause
	if h, ok := e.hidden[key]; ok {
		lower := key + "_proxy"
		out = append(out, clause("urllib/empty-hides-upper", lower,
			"Python's urllib (and requests and HTTPX, which read the environment through it) lets an empty %s hide %s", lower, h))
	}
	if from, ok := e.from[key]; ok && from != key+"_proxy" && from != strings.ToUpper(key)+"_PROXY" {
		out = append(out, clause("urllib/any-case", from, "Python's urllib reads %s, spelt in a mix of cases pacd does not read", from))
	}
	return out
}

func newPythonFlavor(cfg *Config, env environ, r *Resolver) (flavor, error) {
	if err := unsupported(cfg, "proxies", "bypass"); err != nil {
		return nil, err
	}
	p := &pythonFlavor{env: readPyEnv(env), r: r}
	if cfg.Proxies != nil {
		p.proxies = map[string]string{}
		for k, v := range cfg.Proxies {
			if strings.Contains(k, "://") || k == "" {
				return nil, fmt.Errorf("resolver: flavour python: proxies key %q: urllib's ProxyHandler takes URL schemes as keys", k)
			}
			p.proxies[strings.ToLower(k)] = v
		}
	}
	p.noProxy, p.noFrom = p.env.vals["no"], p.env.from["no"]
	if cfg.Bypass != "" {
		p.noProxy, p.noFrom = cfg.Bypass, "Config.Bypass"
	}
	for _, t := range strings.Split(p.noProxy, ",") {
		if t = strings.TrimSpace(t); t != "" {
			p.entries = append(p.entries, newClientEntry(t))
		}
	}
	return p, nil
}

func (p *pythonFlavor) decide(ctx context.Context, r *Resolver, req *request) (Decision, error) {
	var value, name string
	var clauses []Clause
	if p.proxies != nil {
		value, name = p.proxies[req.scheme], "Config.Proxies"
	} else {
		value, name = p.env.vals[req.scheme], p.env.from[req.scheme]
		clauses = p.env.notes(req.scheme)
	}
	if value == "" {
		if all, ok := p.env.from["all"]; ok && p.proxies == nil {
			clauses = append(clauses, clause("urllib/no-all-proxy", all, "Python's urllib never reads %s, and no %s_proxy is set, so the URL goes DIRECT", all, req.scheme))
		}
		return directDecision(FromDefault, "", clauses...), nil
	}
	clauses = append(clauses, p.env.notes("no")...)
	if p.noProxy != "" {
		if p.noProxy == "*" {
			return directDecision(FromBypass, p.noFrom+" entry *", clauses...), nil
		}
		host := strings.ToLower(req.url.Host)
		res := compareBypass(p.entries, req, func(i int) bool { return pyEntryMatch(host, p.entries[i].text) }, func(text string, matched bool) Clause {
			return urllibWhy(text, matched, req, host)
		})
		clauses = append(clauses, res.clauses...)
		if res.entry != "" {
			return directDecision(FromBypass, p.noFrom+" entry "+res.entry, clauses...), nil
		}
	}
	px, err := ParseProxyURL(value)
	if err != nil {
		p.r.warn(fmt.Sprintf("%s ignored: %v", name, err))
		return directDecision(FromDefault, "", clauses...), nil
	}
	return proxyDecision(px, fromVar(name), name, clauses...), nil
}

var pyPortRe = regexp.MustCompile(`^(?s)(.*):([0-9]*)$`)

// pySplitPort is urllib.parse._splitport.
func pySplitPort(host string) string {
	if m := pyPortRe.FindStringSubmatch(host); m != nil {
		return m[1]
	}
	return host
}

// pyEntryMatch is one step of proxy_bypass_environment: host is the
// lower-case host, with a port when the URL writes one.
func pyEntryMatch(host, entry string) bool {
	hostonly := pySplitPort(host)
	name := strings.ToLower(strings.TrimLeft(strings.TrimSpace(entry), "."))
	if name == "" {
		return false
	}
	if hostonly == name || host == name {
		return true
	}
	name = "." + name
	return strings.HasSuffix(hostonly, name) || strings.HasSuffix(host, name)
}

// urllibWhy explains a NO_PROXY entry that urllib's proxy_bypass reads
// differently from pacd; host is what it was given.
func urllibWhy(text string, matched bool, req *request, host string) Clause {
	t := strings.ToLower(strings.TrimSpace(text))
	if matched {
		if d, err := newDestination(req.host, 0); err == nil && d.addr.IsValid() {
			return clause("urllib/ip-suffix", text, "Python's urllib matches NO_PROXY entries as text suffixes even against addresses, so %s matches %s", t, req.host)
		}
		return genericWhy("urllib/entry", FlavorPython, text, true)
	}
	isV6 := strings.HasPrefix(host, "[")
	switch {
	case chromiumSyntax(t):
		return clause("urllib/no-chromium-syntax", text, "Python's urllib does not understand Chromium's %s in NO_PROXY", t)
	case t == "*":
		return clause("urllib/star-alone", text, "Python's urllib honours * only as the whole NO_PROXY value; among other entries (or padded) it matches nothing")
	case strings.ContainsAny(t, " \t;"):
		return clause("urllib/commas-only", text, "Python's urllib separates NO_PROXY entries with commas only, so %q is one entry that matches nothing", text)
	case strings.Contains(t, "/"):
		return clause("urllib/no-cidr", text, "Python's urllib has no CIDR blocks in NO_PROXY: %s matches nothing", t)
	case strings.Contains(t, "*"):
		return clause("urllib/no-glob", text, "Python's urllib has no wildcards in NO_PROXY: %s matches nothing", t)
	case isV6 && !strings.HasPrefix(t, "["):
		return clause("urllib/brackets-kept", text, "Python's urllib compares the host with its brackets, %s, so an IPv6 entry must be written in brackets", host)
	case hasPort(t) && req.port == "":
		return clause("urllib/port-only-written", text, "Python's urllib matches the entry %s only when the URL writes the port itself", t)
	case strings.HasSuffix(t, ".") || strings.HasSuffix(pySplitPort(host), "."):
		return clause("urllib/trailing-dot", text, "Python's urllib does not ignore trailing dots, so %q and %q differ", t, pySplitPort(host))
	case !isASCII(t) || !isASCII(host) || strings.Contains(t, "xn--") || strings.Contains(host, "xn--"):
		return clause("urllib/idn-as-text", text, "Python's urllib compares names as written, so the punycode and Unicode spellings of one name do not match")
	case isV6 || strings.Contains(t, ":"):
		return clause("urllib/address-text", text, "Python's urllib compares addresses as text, so %s does not match %s", t, host)
	}
	if d, err := newDestination(t, 0); err == nil && d.addr.IsValid() {
		return clause("urllib/address-text", text, "Python's urllib compares addresses as text, so %s does not match %s", t, host)
	}
	return genericWhy("urllib/entry", FlavorPython, text, false)
}

func (p *pythonFlavor) implicit(why string, req *request) (Clause, bool) {
	return clause("urllib/no-implicit", req.host, "Python's urllib has no implicit rule: %s is proxied unless NO_PROXY lists it", req.host), true
}
