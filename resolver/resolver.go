package resolver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pacd/pacd/internal/proxylist"
)

// An Evaluator answers for a URL with a PAC result string ("PROXY a:8080;
// DIRECT"). url is the URL as the script should see it; host is its host
// name, lower case, without brackets or port. *pac.Script and the
// WebAssembly engine's scripts satisfy it; so does a [PACFile], which
// keeps a script fetched from a file or URL up to date. It must be safe
// for concurrent use.
type Evaluator interface {
	Eval(ctx context.Context, url, host string) (string, error)
}

// Config configures a [Resolver]. The zero Config, or nil, resolves
// everything DIRECT except through per-request overrides.
type Config struct {
	// Env is the environment's configuration, usually FromEnvironment().
	// If nil, the environment is ignored.
	Env *Env

	// PAC evaluates a PAC script for every query that no explicit rule
	// and no bypass entry decides. If nil, there is no PAC.
	PAC Evaluator

	// OnPACError says what a query gets when PAC evaluation fails (a
	// script error or timeout, or a PAC file that never loaded):
	// "direct" (the default, as in Chromium) goes DIRECT with a warning
	// in the Decision; "fail" makes Resolve return the error.
	OnPACError string

	// Proxy is one proxy for everything, like HTTPX's proxy=: a proxy URL
	// (see ParseProxyURL) or "none". If empty, there is none.
	Proxy string

	// Proxies is a Requests-style proxies dict: keys "http", "https",
	// "all", "scheme://host" and "all://host", looked up in Requests'
	// order; values are proxy URLs or "none" for a direct connection.
	Proxies map[string]string

	// Mounts are HTTPX-style URL-pattern mounts, applied in HTTPX's
	// priority order (see Mount).
	Mounts []Mount

	// Bypass is a bypass list in NO_PROXY syntax, added to the
	// environment's NO_PROXY. Unlike NO_PROXY, it is parsed strictly:
	// a bad entry makes New fail.
	Bypass string

	// ProxyLoopback lets loopback and link-local destinations and
	// localhost be proxied, as "<-loopback>" in a bypass list does. By
	// default they always go DIRECT.
	ProxyLoopback bool

	// Credentials are proxy URLs with user information
	// ("http://alice:pw@proxy.corp:8080"): when a PAC answer names that
	// host and port, in a protocol that may carry them (see the package
	// documentation), its credentials are used with it. A PAC script can
	// otherwise never attach credentials to a proxy (see RATIONALE.md).
	// Proxies named by the environment and by the explicit rules lend
	// their credentials to PAC answers the same way.
	Credentials []string

	// RetryInterval is how long a proxy that could not be reached goes
	// to the end of every list. If zero, 5 minutes, as in Chromium.
	RetryInterval time.Duration

	// DialTimeout bounds the connection to one proxy (or, for DIRECT, to
	// the destination), TLS to an HTTPS proxy and the proxy's handshake
	// included. If zero, 10 seconds.
	DialTimeout time.Duration

	// ResponseHeaderTimeout bounds the wait for a response's headers
	// once a request has been sent, through Transport, whatever the
	// route: the one way to end a request forwarded to an HTTP proxy
	// that accepts it and never answers (such a request cannot move to
	// the next proxy: it may already have had its effect). If zero,
	// there is no bound, as in net/http, and slow origins behind a proxy
	// are never cut off.
	ResponseHeaderTimeout time.Duration

	// Dial makes the TCP connections. If nil, a net.Dialer (which
	// resolves names and races IPv6 and IPv4 as RFC 8305 describes).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// TLSConfig is used to reach HTTPS proxies; ServerName is set per
	// proxy. If nil, the system's roots.
	TLSConfig *tls.Config

	// Logger receives warnings (environment values that were ignored,
	// proxies that failed). If nil, nothing is logged.
	Logger *slog.Logger

	// Flavor makes the Resolver read the environment, NO_PROXY and the
	// explicit settings exactly as the named client does, quirks
	// included (see [Flavor]); every Decision then says which of the
	// client's rules changed its answer. If zero, pacd's canonical
	// reading. Under a flavour, Proxy, Proxies, Mounts and Bypass mean
	// the client's own equivalent, and New fails on a setting the client
	// has none for; only the chromium flavour consults PAC.
	Flavor Flavor
}

// A Resolver decides how to reach each URL and connects accordingly. It
// is built by New from a Config, which it does not retain, and it is safe
// for concurrent use. Its only mutable state is the memory of proxies that
// failed recently.
type Resolver struct {
	pac        Evaluator
	failClosed bool

	mounts  []mount
	proxies proxiesDict
	single  *Proxy

	envProxies map[string]envProxy // by variable name
	env        *Env
	bypass     *BypassList
	bypassFrom string // where the bypass entries came from, for explanations
	noImplicit bool

	creds map[string]Proxy // host:port -> proxy with credentials

	warnings []string
	log      *slog.Logger

	dialer *dialer

	flavor     flavor // nil for the canonical reading
	flavorName Flavor
	noPAC      *Clause // the flavour was given a PAC script its client does not read
}

type envProxy struct {
	v EnvVar
	p Proxy
}

// New builds a Resolver from cfg, which may be nil. It validates every
// explicit setting strictly (mounts, proxies, Proxy, Bypass,
// Credentials): a bad one is an error naming it. The environment is read
// leniently, as other clients read it: a variable that cannot be used is
// ignored, with a warning in Warnings and in the log.
func New(cfg *Config) (*Resolver, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	r := &Resolver{pac: cfg.PAC, log: cfg.Logger, creds: map[string]Proxy{}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	switch cfg.OnPACError {
	case "", "direct":
	case "fail":
		r.failClosed = true
	default:
		return nil, fmt.Errorf("resolver: OnPACError %q: want \"direct\" or \"fail\"", cfg.OnPACError)
	}
	if cfg.Flavor != Canonical {
		for _, c := range cfg.Credentials {
			p, err := ParseProxyURL(c)
			if err != nil || !p.HasCredentials() {
				return nil, fmt.Errorf("resolver: credentials: %q is not a proxy URL with user information", redactURL(c))
			}
			r.creds[p.Addr()] = p
		}
		return newFlavored(cfg, r)
	}
	var errs []error
	for i, m := range cfg.Mounts {
		mt, err := parseMount(m, i)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.mounts = append(r.mounts, mt)
		r.lendCredentials(mt.proxy)
	}
	sortMounts(r.mounts)
	if cfg.Proxies != nil {
		d, err := parseProxiesDict(cfg.Proxies)
		if err != nil {
			errs = append(errs, err)
		}
		for _, p := range d {
			r.lendCredentials(p)
		}
		r.proxies = d
	}
	if cfg.Proxy != "" {
		p, err := parseTarget(cfg.Proxy)
		if err != nil {
			errs = append(errs, fmt.Errorf("resolver: proxy: %w", err))
		} else {
			r.single = &p
			r.lendCredentials(p)
		}
	}
	if cfg.Bypass != "" {
		b, err := parseBypassList(cfg.Bypass)
		if err != nil {
			err.Source = "bypass"
			errs = append(errs, err)
		}
		r.bypass = b
		r.bypassFrom = "bypass list"
	}
	for _, c := range cfg.Credentials {
		p, err := ParseProxyURL(c)
		if err != nil {
			errs = append(errs, fmt.Errorf("resolver: credentials: %w", err))
			continue
		}
		if !p.HasCredentials() {
			errs = append(errs, fmt.Errorf("resolver: credentials: %s has no user information", p))
			continue
		}
		r.creds[p.Addr()] = p
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.Env != nil {
		r.readEnv(cfg.Env)
	}
	r.noImplicit = cfg.ProxyLoopback || r.bypass != nil && r.bypass.noImplicit
	r.dialer = newDialer(cfg, r.log)
	return r, nil
}

// readEnv takes the environment's proxies and NO_PROXY, leniently.
func (r *Resolver) readEnv(e *Env) {
	r.env = e
	r.envProxies = map[string]envProxy{}
	if e.IgnoredHTTPProxy {
		r.warn("HTTP_PROXY ignored: REQUEST_METHOD is set, so this may be a CGI program, where HTTP_PROXY can come from a client's Proxy header (set http_proxy to use a proxy)")
	}
	for _, v := range []EnvVar{e.HTTPProxy, e.HTTPSProxy, e.AllProxy} {
		if !v.IsSet() {
			continue
		}
		p, err := ParseProxyURL(v.Value)
		if err != nil {
			r.warn(fmt.Sprintf("%s ignored: %v", v.Name, err))
			continue
		}
		r.envProxies[v.Name] = envProxy{v, p}
		r.lendCredentials(p)
	}
	if e.NoProxy.IsSet() {
		b, err := parseBypassList(e.NoProxy.Value)
		if err != nil {
			err.Source = e.NoProxy.Name
			r.warn(err.Error() + " (ignored)")
		}
		if r.bypass == nil {
			r.bypassFrom = e.NoProxy.Name
		} else {
			r.bypassFrom = e.NoProxy.Name + " and the bypass list"
		}
		r.bypass = r.bypass.merge(b)
	}
}

func (r *Resolver) lendCredentials(p Proxy) {
	if p.HasCredentials() {
		if _, ok := r.creds[p.Addr()]; !ok {
			r.creds[p.Addr()] = p
		}
	}
}

func (r *Resolver) warn(msg string) {
	r.warnings = append(r.warnings, msg)
	r.log.Warn(msg)
}

// Warnings returns what New ignored in the environment, and why.
func (r *Resolver) Warnings() []string { return append([]string(nil), r.warnings...) }

// A Kind is the kind of connection a [Query] is for.
type Kind uint8

// The kinds of connection, after Qt's QNetworkProxyQuery types.
const (
	URLRequest Kind = iota // a request for a URL
	TCPStream              // a raw TCP stream to host:port
	UDPSocket              // UDP datagrams to host:port
	Listen                 // a listening socket
)

func (k Kind) String() string {
	switch k {
	case URLRequest:
		return "url"
	case TCPStream:
		return "tcp"
	case UDPSocket:
		return "udp"
	case Listen:
		return "listen"
	}
	return "kind" + strconv.Itoa(int(k))
}

// A Query asks how to reach a destination.
type Query struct {
	Kind Kind

	// URL is the URL of a URLRequest.
	URL *url.URL

	// Host and Port are the destination of the other kinds. Host is a
	// name or an address (IPv6 with or without brackets).
	Host string
	Port uint16

	// Override, when not nil, is the answer, whatever the configuration
	// says: a per-request proxy, or []Proxy{{}} for "no proxy", as Qt's
	// QAbstractSocket::setProxy sets one per socket.
	Override []Proxy
}

type overrideKey struct{}

// WithOverride returns a context under which every query answers proxies,
// in order, whatever the configuration says. WithOverride(ctx, Proxy{})
// forces a direct connection. It is the per-request override of
// ProxyFunc, DialContext and Transport, whose queries come with a
// context.
func WithOverride(ctx context.Context, proxies ...Proxy) context.Context {
	if len(proxies) == 0 {
		proxies = []Proxy{{}}
	}
	return context.WithValue(ctx, overrideKey{}, append([]Proxy(nil), proxies...))
}

// A Source is what produced a [Decision].
type Source uint8

// The sources of a decision, in the order they are consulted.
const (
	FromDefault  Source = iota // nothing applied: DIRECT
	FromOverride               // the query's or context's override
	FromImplicit               // localhost, loopback and link-local are never proxied
	FromMount                  // an explicit mount
	FromProxies                // an explicit proxies-dict entry
	FromBypass                 // a bypass-list entry (NO_PROXY or Config.Bypass)
	FromProxy                  // the explicit one proxy for everything
	FromPAC                    // the PAC script
	FromEnv                    // a *_PROXY environment variable
)

var sourceNames = [...]string{"default", "override", "implicit", "mount", "proxies", "bypass", "proxy", "pac", "env"}

func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "source" + strconv.Itoa(int(s))
}

// A Decision is how to reach a destination: proxies to try in order, and
// what decided it.
type Decision struct {
	// Proxies are the ways to try, in order, never empty; DIRECT is the
	// zero Proxy.
	Proxies []Proxy

	// Source is what decided, and Rule the rule itself as written: the
	// mount pattern, the proxies key, the bypass entry, the PAC answer,
	// the environment variable.
	Source Source
	Rule   string

	// Warnings say what was dropped on the way: PAC entries that could
	// not be used, proxies that cannot carry this kind of connection, a
	// PAC evaluation that failed.
	Warnings []string

	// Flavor is the flavour the decision was made under (Config.Flavor).
	Flavor Flavor

	// Clauses are the rules of the flavour's client, where it departs
	// from the canonical reading, that decided or changed this answer,
	// in the order they applied. A decision that differs from the
	// canonical one for the same settings has at least one. Always empty
	// under Canonical.
	Clauses []Clause
}

// String returns the decision in PAC syntax: "PROXY p:8080; DIRECT".
func (d Decision) String() string {
	parts := make([]string, len(d.Proxies))
	for i, p := range d.Proxies {
		parts[i] = p.PAC()
	}
	return strings.Join(parts, "; ")
}

// URLs returns the proxies as URLs without passwords ("http://p:8080",
// "socks5h://s:1080") and "DIRECT", separated by spaces.
func (d Decision) URLs() string {
	parts := make([]string, len(d.Proxies))
	for i, p := range d.Proxies {
		parts[i] = p.String()
	}
	return strings.Join(parts, " ")
}

// Explain says in one line what decided: "mount all://*.example.com",
// "NO_PROXY entry .corp.example", "PAC returned \"PROXY p:8080\"".
// Under a flavour, the clauses follow, separated by "; ".
func (d Decision) Explain() string {
	s := d.explainSource()
	for _, c := range d.Clauses {
		s += "; " + c.Text
	}
	return s
}

func (d Decision) explainSource() string {
	switch d.Source {
	case FromDefault:
		return "no rule applies: DIRECT"
	case FromOverride:
		return "per-request override"
	case FromImplicit:
		return d.Rule + " is never proxied (implicit rule; <-loopback> lifts it)"
	case FromMount:
		return "mount " + d.Rule
	case FromProxies:
		return "proxies key " + strconv.Quote(d.Rule)
	case FromBypass:
		return d.Rule
	case FromProxy:
		return "the one proxy for everything"
	case FromPAC:
		return "PAC returned " + d.Rule
	case FromEnv:
		return "environment variable " + d.Rule
	}
	return d.Source.String()
}

func direct(src Source, rule string) Decision {
	return Decision{Proxies: []Proxy{{}}, Source: src, Rule: rule}
}

// Resolve decides how to reach u, a request URL: ResolveQuery of a
// URLRequest.
func (r *Resolver) Resolve(ctx context.Context, u *url.URL) (Decision, error) {
	return r.ResolveQuery(ctx, Query{Kind: URLRequest, URL: u})
}

// ResolveQuery decides how to reach the destination of q. Its answer
// comes from the first of these that applies:
//
//  1. the query's override (Query.Override, then WithOverride's);
//  2. the implicit rule: localhost and the names below it, loopback and
//     link-local addresses go DIRECT (unless Config.ProxyLoopback or a
//     "<-loopback>" bypass entry);
//  3. an explicit rule that names hosts: a mount with a host pattern,
//     then a proxies key "scheme://host" or "all://host";
//  4. the bypass list (NO_PROXY and Config.Bypass): DIRECT;
//  5. the other explicit rules: a mount without a host pattern, the
//     proxies keys "scheme" and "all", then Config.Proxy;
//  6. the PAC script;
//  7. the environment: HTTPS_PROXY for https and wss, HTTP_PROXY for http
//     and ws, ALL_PROXY for those without one and for every other
//     scheme;
//  8. DIRECT.
//
// Proxies that cannot carry the kind of connection are left out (UDP and
// listening sockets always go DIRECT); a list left empty is DIRECT. The
// error is non-nil only for a query without a usable destination, or when
// PAC evaluation fails and Config.OnPACError is "fail".
//
// Under a flavour (Config.Flavor), the client's own order applies
// instead, after the override; the error is then also non-nil, a
// *RefusedError, where the client refuses the request.
func (r *Resolver) ResolveQuery(ctx context.Context, q Query) (Decision, error) {
	if r.flavor != nil {
		return r.resolveFlavored(ctx, q)
	}
	scheme, host, port, pacURL, err := q.target()
	if err != nil {
		return Decision{}, err
	}
	d, err := r.decide(ctx, q, scheme, host, port, pacURL)
	if err != nil {
		return d, err
	}
	return filterCapable(d, q.Kind), nil
}

// target reads the scheme, host, effective port and the URL the PAC
// script sees of a query.
func (q Query) target() (scheme, host string, port uint16, pacURL string, err error) {
	if q.Kind == URLRequest {
		if q.URL == nil {
			return "", "", 0, "", errors.New("resolver: URL query without a URL")
		}
		scheme = strings.ToLower(q.URL.Scheme)
		host = q.URL.Hostname()
		port = DefaultPort(scheme)
		if ps := q.URL.Port(); ps != "" {
			n, perr := strconv.ParseUint(ps, 10, 16)
			if perr != nil {
				return "", "", 0, "", fmt.Errorf("resolver: URL %q: invalid port", q.URL.Redacted())
			}
			port = uint16(n)
		}
		if host == "" {
			return "", "", 0, "", fmt.Errorf("resolver: URL %q has no host", q.URL.Redacted())
		}
		return scheme, host, port, q.URL.String(), nil
	}
	host = strings.TrimSuffix(strings.TrimPrefix(q.Host, "["), "]")
	if host == "" {
		return "", "", 0, "", errors.New("resolver: query without a host")
	}
	// A stream, as a browser asks about a CONNECT tunnel: the PAC script
	// sees an https URL, or http for port 80.
	scheme = "https"
	if q.Port == 80 {
		scheme = "http"
	}
	hp := host
	if strings.IndexByte(hp, ':') >= 0 {
		hp = "[" + hp + "]"
	}
	if q.Port != 0 && q.Port != DefaultPort(scheme) {
		hp += ":" + strconv.Itoa(int(q.Port))
	}
	return scheme, host, q.Port, scheme + "://" + hp + "/", nil
}

func (r *Resolver) decide(ctx context.Context, q Query, scheme, host string, port uint16, pacURL string) (Decision, error) {
	if q.Override != nil {
		return Decision{Proxies: q.Override, Source: FromOverride}, nil
	}
	if o, ok := ctx.Value(overrideKey{}).([]Proxy); ok {
		return Decision{Proxies: o, Source: FromOverride}, nil
	}
	dest, err := newDestination(host, port)
	if err != nil {
		return Decision{}, err
	}
	if !r.noImplicit {
		if why := implicitBypass(dest); why != "" {
			return direct(FromImplicit, why), nil
		}
	}
	canonHost := dest.name
	if dest.addr.IsValid() {
		canonHost = dest.addr.String()
	}
	mportN := int(port)
	if p, ok := schemePorts[scheme]; ok && p == mportN {
		mportN = -1
	}
	var general *Decision
	for i := range r.mounts {
		m := &r.mounts[i]
		if m.matches(scheme, canonHost, mportN) {
			d := Decision{Proxies: []Proxy{m.proxy}, Source: FromMount, Rule: m.pattern}
			if m.hostSpecific() {
				return d, nil
			}
			general = &d
			break
		}
	}
	if general == nil && r.proxies != nil {
		if p, key, hostSpecific, ok := r.proxies.lookup(scheme, canonHost); ok {
			d := Decision{Proxies: []Proxy{p}, Source: FromProxies, Rule: key}
			if hostSpecific {
				return d, nil
			}
			general = &d
		}
	}
	if e := r.bypass.match(dest); e != "" {
		return direct(FromBypass, r.bypassFrom+" entry "+e), nil
	}
	if general != nil {
		return *general, nil
	}
	if r.single != nil {
		return Decision{Proxies: []Proxy{*r.single}, Source: FromProxy, Rule: r.single.String()}, nil
	}
	if r.pac != nil {
		return r.fromPAC(ctx, pacURL, canonHost)
	}
	if ep, ok := r.envProxy(scheme); ok {
		return Decision{Proxies: []Proxy{ep.p}, Source: FromEnv, Rule: ep.v.Name}, nil
	}
	return direct(FromDefault, ""), nil
}

// envProxy returns the environment's proxy for a URL scheme: the
// scheme's own variable, else ALL_PROXY; a variable that was ignored
// counts as unset.
func (r *Resolver) envProxy(scheme string) (envProxy, bool) {
	if r.env == nil {
		return envProxy{}, false
	}
	var own EnvVar
	switch scheme {
	case "http", "ws":
		own = r.env.HTTPProxy
	case "https", "wss":
		own = r.env.HTTPSProxy
	}
	if ep, ok := r.envProxies[own.Name]; ok && own.IsSet() {
		return ep, true
	}
	ep, ok := r.envProxies[r.env.AllProxy.Name]
	return ep, ok && r.env.AllProxy.IsSet()
}

// fromPAC evaluates the PAC script and turns its answer into proxies.
func (r *Resolver) fromPAC(ctx context.Context, pacURL, host string) (Decision, error) {
	raw, err := r.pac.Eval(ctx, pacURL, host)
	if err != nil {
		if r.failClosed || ctx.Err() != nil {
			var unavailable *PACUnavailableError
			if errors.As(err, &unavailable) {
				return Decision{}, err
			}
			return Decision{}, fmt.Errorf("resolver: PAC: %w", err)
		}
		d := direct(FromPAC, "nothing")
		d.Warnings = []string{"PAC evaluation failed, going DIRECT: " + err.Error()}
		return d, nil
	}
	list, perr := proxylist.ParseResult(raw)
	d := Decision{Source: FromPAC, Rule: strconv.Quote(raw)}
	if perr != nil {
		d.Warnings = append(d.Warnings, perr.Error())
	}
	for _, e := range list {
		p := fromPAC(e)
		if c, ok := r.creds[p.Addr()]; ok && !p.IsDirect() && mayLend(c.Type, p.Type) {
			p.Username, p.Password = c.Username, c.Password
		}
		d.Proxies = append(d.Proxies, p)
	}
	return d, nil
}

// mayLend reports whether credentials named for a proxy of type a may
// be used with one of type b at the same address: within the same
// protocol (HTTP Basic, RFC 1929, a SOCKS4 user ID), and never from a
// proxy reached over TLS to one reached in clear text, where anyone on
// the path could read them.
func mayLend(a, b Type) bool {
	switch a {
	case HTTP:
		return b == HTTP || b == HTTPS
	case HTTPS:
		return b == HTTPS
	case SOCKS4, SOCKS4A:
		return b == SOCKS4 || b == SOCKS4A
	case SOCKS5, SOCKS5H:
		return b == SOCKS5 || b == SOCKS5H
	}
	return false
}

// filterCapable drops the proxies that cannot carry kind: URL requests
// and TCP streams go through any of them, while nothing pacd dials
// through carries UDP or a listening socket, which go DIRECT.
func filterCapable(d Decision, kind Kind) Decision {
	if kind == URLRequest || kind == TCPStream {
		return d
	}
	var kept []Proxy
	for _, p := range d.Proxies {
		if p.IsDirect() {
			kept = append(kept, p)
		} else {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s skipped: it cannot carry a %s connection", p, kind))
		}
	}
	if len(kept) == 0 {
		kept = []Proxy{{}}
	}
	d.Proxies = kept
	return d
}
