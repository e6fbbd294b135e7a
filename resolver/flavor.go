package resolver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// A Flavor names a client whose reading of proxy settings a [Resolver]
// imitates, quirks included, so that a program can be told what that
// client will do with the same environment: Config.Flavor. The zero
// Flavor, [Canonical], is pacd's own reading, specified in the package
// documentation.
//
// Each flavour is a specification in code of one client's behaviour, as
// measured (shared/notes/proxy-config-semantics.md) or read from its
// source: how it reads the environment, how it matches NO_PROXY, its
// implicit rules and which explicit settings it has. Where the client
// departs from the canonical reading and that changes an answer, the
// [Decision] names the rule in Decision.Clauses. A flavour imitates the
// part of the client that chooses a proxy, not the connection itself: the
// proxies in a Decision are still dialled by pacd.
//
// Only the canonical and chromium flavours consult Config.PAC: none of
// the other clients reads a PAC script. Settings a client has no
// equivalent for make New fail (see each flavour's documentation in
// [Flavors]).
type Flavor string

// The flavours.
const (
	// Canonical is pacd's own reading.
	Canonical Flavor = ""
	// FlavorGo is golang.org/x/net/http/httpproxy since v0.58: lower-case
	// variables first, no ALL_PROXY, ".x" excludes x, implicit loopback,
	// and under CGI an error for every http request.
	FlavorGo Flavor = "go"
	// FlavorGoStd is net/http.ProxyFromEnvironment in Go 1.26, which
	// vendors an older httpproxy: the same, but upper case first.
	FlavorGoStd Flavor = "go-std"
	// FlavorCurl is curl 7.88.
	FlavorCurl Flavor = "curl"
	// FlavorPython is Python 3.11's urllib.request.
	FlavorPython Flavor = "python"
	// FlavorRequests is Python requests 2.34.
	FlavorRequests Flavor = "requests"
	// FlavorNode is the npm package proxy-from-env 2.1, which axios and
	// many Node programs use.
	FlavorNode Flavor = "node"
	// FlavorHTTPX is Python HTTPX 0.28.
	FlavorHTTPX Flavor = "httpx"
	// FlavorChromium is Chromium's proxy configuration: its bypass-list
	// syntax and implicit rules, and on Linux its reading of the
	// environment.
	FlavorChromium Flavor = "chromium"
)

var flavorClients = []struct {
	f      Flavor
	client string
}{
	{Canonical, "pacd's canonical reading"},
	{FlavorGo, "Go, golang.org/x/net/http/httpproxy v0.58 and later"},
	{FlavorGoStd, "Go 1.26 net/http.ProxyFromEnvironment"},
	{FlavorCurl, "curl 7.88"},
	{FlavorPython, "Python 3.11 urllib"},
	{FlavorRequests, "Python requests 2.34"},
	{FlavorNode, "Node proxy-from-env 2.1"},
	{FlavorHTTPX, "Python HTTPX 0.28"},
	{FlavorChromium, "Chromium"},
}

// Flavors returns every flavour, Canonical first, in a fixed order.
func Flavors() []Flavor {
	out := make([]Flavor, len(flavorClients))
	for i, c := range flavorClients {
		out[i] = c.f
	}
	return out
}

// ParseFlavor returns the flavour named s: "go", "go-std", "curl",
// "python", "requests", "node", "httpx", "chromium", or "canonical" (or
// "") for Canonical. Case does not matter.
func ParseFlavor(s string) (Flavor, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "canonical" || s == "pacd" {
		return Canonical, nil
	}
	for _, c := range flavorClients {
		if string(c.f) == s {
			return c.f, nil
		}
	}
	names := make([]string, 0, len(flavorClients))
	for _, c := range flavorClients {
		names = append(names, c.f.String())
	}
	return Canonical, fmt.Errorf("resolver: unknown flavour %q (want one of %s)", s, strings.Join(names, ", "))
}

// String returns the flavour's name, "canonical" for Canonical.
func (f Flavor) String() string {
	if f == Canonical {
		return "canonical"
	}
	return string(f)
}

// Set sets f to the flavour named s, as ParseFlavor reads it, so that a
// *Flavor is a flag.Value.
func (f *Flavor) Set(s string) error {
	v, err := ParseFlavor(s)
	if err == nil {
		*f = v
	}
	return err
}

// Client says which client and version the flavour imitates.
func (f Flavor) Client() string {
	for _, c := range flavorClients {
		if c.f == f {
			return c.client
		}
	}
	return "unknown flavour " + strconv.Quote(string(f))
}

// A Clause is a rule of a client's reading that departs from the
// canonical one. A [Decision] made under a flavour lists the clauses that
// decided or changed its answer; a [RefusedError] carries the clause by
// which the client refuses.
type Clause struct {
	// ID names the rule, stably, as the implementation it belongs to, a
	// slash and a name: "curl/no-proxy-port", "go/dot-excludes-apex",
	// "urllib/empty-hides-upper" (which requests and HTTPX inherit).
	ID string

	// Text says in one plain sentence what the rule is and what it did
	// here.
	Text string

	// Subject is what the rule applied to, as written: a NO_PROXY entry,
	// a variable name, a pattern.
	Subject string
}

// String returns "Text [ID]".
func (c Clause) String() string { return c.Text + " [" + c.ID + "]" }

func clause(id, subject, format string, args ...any) Clause {
	return Clause{ID: id, Subject: subject, Text: fmt.Sprintf(format, args...)}
}

// A RefusedError reports a configuration that the client a flavour
// imitates refuses: Go's net/http under CGI for an http URL (from
// Resolve), HTTPX building a client from a NO_PROXY it cannot turn into
// mounts (from New), curl given a proxy scheme it does not know (from
// Resolve).
type RefusedError struct {
	Flavor Flavor
	Clause Clause
}

func (e *RefusedError) Error() string {
	return "resolver: " + e.Flavor.String() + " refuses: " + e.Clause.Text
}

func refuse(f Flavor, c Clause) error { return &RefusedError{Flavor: f, Clause: c} }

// A flavor is one client's reading, built by New from the Config.
type flavor interface {
	// decide answers for one request. r gives access to the PAC script.
	decide(ctx context.Context, r *Resolver, req *request) (Decision, error)

	// implicit returns the clause that explains why this client proxied
	// a destination the canonical implicit rule keeps DIRECT (why is
	// "localhost", "loopback address" or "link-local address"); false
	// when the client lifted the rule on purpose.
	implicit(why string, req *request) (Clause, bool)
}

// A request is a query as the flavours see it: the URL, and the pieces
// of it that clients read differently.
type request struct {
	url    *url.URL
	scheme string // lower case
	host   string // url.Hostname(): no brackets, case and Unicode as written
	port   string // the port as written, "" if none
	eff    uint16 // effective port: the written one, else the scheme's default
	pacURL string
}

func newRequest(q Query) (*request, error) {
	scheme, host, port, pacURL, err := q.target()
	if err != nil {
		return nil, err
	}
	u := q.URL
	if q.Kind != URLRequest {
		u, err = url.Parse(pacURL)
		if err != nil {
			return nil, fmt.Errorf("resolver: query for %q: %v", host, err)
		}
	}
	return &request{url: u, scheme: scheme, host: u.Hostname(), port: u.Port(), eff: port, pacURL: pacURL}, nil
}

// newFlavored builds a Resolver for a flavour other than Canonical.
func newFlavored(cfg *Config, r *Resolver) (*Resolver, error) {
	var env environ
	if cfg.Env != nil {
		env = cfg.Env.environ()
		r.env = cfg.Env
	}
	if cfg.ProxyLoopback {
		return nil, fmt.Errorf("resolver: flavour %s: ProxyLoopback is pacd's own setting; no client has it", cfg.Flavor)
	}
	if cfg.PAC != nil && cfg.Flavor != FlavorChromium {
		r.warn(fmt.Sprintf("flavour %s: the PAC script is not consulted: %s reads no PAC", cfg.Flavor, cfg.Flavor.Client()))
		r.pac = nil
		c := clause(cfg.Flavor.String()+"/no-pac", "PAC", "%s reads no PAC script, so the script's answers do not apply", cfg.Flavor.Client())
		r.noPAC = &c
	}
	var f flavor
	var err error
	switch cfg.Flavor {
	case FlavorGo, FlavorGoStd:
		f, err = newGoFlavor(cfg, env, r)
	case FlavorCurl:
		f, err = newCurlFlavor(cfg, env, r)
	case FlavorPython:
		f, err = newPythonFlavor(cfg, env, r)
	case FlavorRequests:
		f, err = newRequestsFlavor(cfg, env, r)
	case FlavorNode:
		f, err = newNodeFlavor(cfg, env, r)
	case FlavorHTTPX:
		f, err = newHTTPXFlavor(cfg, env, r)
	case FlavorChromium:
		f, err = newChromiumFlavor(cfg, env, r)
	default:
		_, err = ParseFlavor(string(cfg.Flavor))
	}
	if err != nil {
		return nil, err
	}
	r.flavor, r.flavorName = f, cfg.Flavor
	r.dialer = newDialer(cfg, r.log)
	return r, nil
}

// unsupported returns an error naming the first setting of cfg that the
// flavour's client has no equivalent for. allowed lists those it has:
// "proxy", "proxies", "mounts", "bypass".
func unsupported(cfg *Config, allowed ...string) error {
	has := func(s string) bool {
		for _, a := range allowed {
			if a == s {
				return true
			}
		}
		return false
	}
	var bad []string
	if cfg.Proxy != "" && !has("proxy") {
		bad = append(bad, "Proxy")
	}
	if cfg.Proxies != nil && !has("proxies") {
		bad = append(bad, "Proxies")
	}
	if len(cfg.Mounts) > 0 && !has("mounts") {
		bad = append(bad, "Mounts")
	}
	if cfg.Bypass != "" && !has("bypass") {
		bad = append(bad, "Bypass")
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("resolver: flavour %s: %s has no equivalent of %s", cfg.Flavor, cfg.Flavor.Client(), strings.Join(bad, ", "))
}

// resolveFlavored is ResolveQuery under a flavour.
func (r *Resolver) resolveFlavored(ctx context.Context, q Query) (Decision, error) {
	req, err := newRequest(q)
	if err != nil {
		return Decision{}, err
	}
	var d Decision
	switch o, ok := ctx.Value(overrideKey{}).([]Proxy); {
	case q.Override != nil:
		d = Decision{Proxies: q.Override, Source: FromOverride}
	case ok:
		d = Decision{Proxies: o, Source: FromOverride}
	default:
		d, err = r.flavor.decide(ctx, r, req)
		if err != nil {
			var re *RefusedError
			if errors.As(err, &re) {
				return Decision{Flavor: r.flavorName, Clauses: []Clause{re.Clause}}, err
			}
			return Decision{Flavor: r.flavorName}, err
		}
		if len(d.Proxies) == 0 {
			d.Proxies = []Proxy{{}}
		}
		if r.noPAC != nil {
			d.Clauses = append([]Clause{*r.noPAC}, d.Clauses...)
		}
		if !d.Proxies[0].IsDirect() {
			if dest, err := newDestination(req.host, req.eff); err == nil {
				if why := implicitBypass(dest); why != "" {
					if c, ok := r.flavor.implicit(why, req); ok {
						d.Clauses = append(d.Clauses, c)
					}
				}
			}
		}
	}
	d.Flavor = r.flavorName
	return filterCapable(d, q.Kind), nil
}

// proxyDecision is a Decision for one proxy from the environment or an
// explicit setting.
func proxyDecision(p Proxy, src Source, rule string, clauses ...Clause) Decision {
	return Decision{Proxies: []Proxy{p}, Source: src, Rule: rule, Clauses: clauses}
}

// directDecision is a DIRECT Decision.
func directDecision(src Source, rule string, clauses ...Clause) Decision {
	d := direct(src, rule)
	d.Clauses = clauses
	return d
}
