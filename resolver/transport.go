package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DialContext connects to addr over network ("tcp", "tcp4", "tcp6")
// through the decision for it, as a TCPStream query: the PAC script sees
// "https://host:port/" ("http://host/" for port 80). It tries the
// decision's proxies in order, proxies that failed recently last, and
// moves to the next only when one cannot be reached (see ReachError);
// a proxy that cannot be reached is tried last for the retry interval.
// When none can be reached the error wraps ErrAllProxiesFailed and every
// proxy's error. It has the signature of net.Dialer's DialContext and of
// golang.org/x/net/proxy's ContextDialer.
func (r *Resolver) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("resolver: network %q is not supported", network)}
	}
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("resolver: invalid port %q", ps)}
	}
	d, err := r.ResolveQuery(ctx, Query{Kind: TCPStream, Host: host, Port: uint16(port)})
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	c, _, err := r.Dial(ctx, d, network, addr)
	return c, err
}

// Dial connects to addr through the proxies of d, a decision from
// ResolveQuery, as DialContext does, and reports the proxy the connection
// went through. It is for callers that log or show the decision.
func (r *Resolver) Dial(ctx context.Context, d Decision, network, addr string) (net.Conn, Proxy, error) {
	c, p, err := r.dialer.dialList(ctx, d.Proxies, network, addr)
	if err != nil {
		return nil, p.WithoutCredentials(), &net.OpError{Op: "proxy connect", Net: network, Addr: targetAddr(addr), Err: err}
	}
	return c, p.WithoutCredentials(), nil
}

// A BadProxy is a proxy that could not be reached recently, and until
// when it is tried last.
type BadProxy struct {
	Proxy Proxy // without credentials
	Until time.Time
}

// BadProxies returns the proxies that are currently tried last.
func (r *Resolver) BadProxies() []BadProxy {
	d := r.dialer
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	var out []BadProxy
	for p, until := range d.bad {
		if now.Before(until) {
			out = append(out, BadProxy{p, until})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Proxy.String() < out[j].Proxy.String() })
	return out
}

// targetAddr is a net.Addr for a host:port that may be a name.
type targetAddr string

func (a targetAddr) Network() string { return "tcp" }
func (a targetAddr) String() string  { return string(a) }

// ProxyFunc returns a function for net/http's Transport.Proxy: it resolves
// each request's URL and returns the first proxy of the decision that
// net/http can use, proxies that failed recently last; nil means DIRECT,
// as that field's contract wants. net/http speaks to HTTP, HTTPS and
// SOCKS5 proxies (and lets a SOCKS5 proxy resolve names whatever its
// scheme), not to SOCKS4, and tries only the one proxy: Transport, which
// tries every entry, is the better choice when the decision can have
// several. A request's context may carry an override (WithOverride).
func (r *Resolver) ProxyFunc() func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		d, err := r.ResolveQuery(req.Context(), Query{Kind: URLRequest, URL: req.URL})
		if err != nil {
			return nil, err
		}
		for _, p := range r.dialer.order(d.Proxies) {
			switch p.Type {
			case Direct:
				return nil, nil
			case HTTP, HTTPS, SOCKS5, SOCKS5H:
				return p.URL(), nil
			}
		}
		return nil, fmt.Errorf("resolver: no proxy of %q is one net/http can use", d.String())
	}
}

// A Transport is an http.RoundTripper that carries each request as its
// decision says: plain-http requests in absolute form through HTTP and
// HTTPS proxies, everything else through a tunnel (CONNECT or SOCKS), or
// DIRECT; and, within the request, on to the next proxy when one cannot
// be reached. Connections are pooled per proxy. A request's own
// Proxy-Authorization header is dropped: each proxy gets the credentials
// configured for it, and no other. Build it with Resolver.Transport; it
// is safe for concurrent use.
type Transport struct {
	r    *Resolver
	base *http.Transport
	mu   sync.Mutex
	// routes are the transports per way to go: for an HTTP proxy, one
	// that forwards in absolute form (http:// targets) and one that
	// tunnels (everything else).
	routes map[routeKey]*http.Transport
}

type routeKey struct {
	p       Proxy
	forward bool
}

// Transport returns an http.RoundTripper carrying requests as r decides,
// built on a clone of http.DefaultTransport's settings:
//
//	client := &http.Client{Transport: r.Transport()}
func (r *Resolver) Transport() *Transport { return r.TransportFrom(nil) }

// TransportFrom is Transport built on a clone of base (its TLS settings,
// timeouts and limits for the connections to the targets); base's Proxy,
// DialContext and DialTLSContext are replaced. A nil base means
// http.DefaultTransport.
func (r *Resolver) TransportFrom(base *http.Transport) *Transport {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	return &Transport{r: r, base: base.Clone(), routes: map[routeKey]*http.Transport{}}
}

func (t *Transport) route(p Proxy, forward bool) *http.Transport {
	k := routeKey{p, forward}
	t.mu.Lock()
	defer t.mu.Unlock()
	if rt := t.routes[k]; rt != nil {
		return rt
	}
	rt := t.base.Clone()
	rt.Proxy = nil
	rt.DialTLSContext = nil
	d := t.r.dialer
	if rt.ResponseHeaderTimeout == 0 {
		rt.ResponseHeaderTimeout = d.respTO
	}
	if rt.MaxIdleConnsPerHost == 0 {
		// Every request through a proxy goes to one host, the proxy:
		// net/http's default of two idle connections per host would make
		// most of them open a new connection.
		rt.MaxIdleConnsPerHost = 64
	}
	if forward {
		// net/http writes absolute-form requests to the proxy over a
		// connection that pacd made (TLS included for an HTTPS proxy),
		// so it is told the proxy is plain http.
		pu := p.URL()
		pu.Scheme = "http"
		rt.Proxy = http.ProxyURL(pu) // its user information becomes Proxy-Authorization
		rt.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.connectProxyTimeout(ctx, p)
			if err != nil {
				return nil, err
			}
			return &freshConn{Conn: c, p: p.WithoutCredentials()}, nil
		}
	} else {
		rt.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.dialVia(ctx, p, network, addr)
		}
	}
	t.routes[k] = rt
	return rt
}

// RoundTrip carries req through its decision's proxies in order, moving
// on when one cannot be reached (and its body, if any, can be sent
// again: see http.Request.GetBody).
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	d, err := t.r.ResolveQuery(req.Context(), Query{Kind: URLRequest, URL: req.URL})
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, _, err := t.RoundTripDecision(req, d)
	return resp, err
}

// RoundTripDecision carries req as d, a decision for its URL, says, as
// RoundTrip does, and reports the proxy that carried it (without
// credentials). It is for callers that log or show the decision.
func (t *Transport) RoundTripDecision(req *http.Request, d Decision) (*http.Response, Proxy, error) {
	req = withoutProxyAuth(req)
	proxies := t.r.dialer.order(d.Proxies)
	var errs []error
	for i, p := range proxies {
		forward := req.URL.Scheme == "http" && (p.Type == HTTP || p.Type == HTTPS)
		r := req
		if i > 0 {
			var err error
			if r, err = rewind(req); err != nil {
				return nil, p.WithoutCredentials(), errors.Join(append(errs, err)...)
			}
		}
		resp, err := t.route(p, forward).RoundTrip(r)
		if err == nil {
			return resp, p.WithoutCredentials(), nil
		}
		var re *ReachError
		if !errors.As(err, &re) || req.Context().Err() != nil {
			return nil, p.WithoutCredentials(), err
		}
		if !p.IsDirect() {
			t.r.dialer.markBad(p, err)
		}
		errs = append(errs, err)
	}
	return nil, Proxy{}, fmt.Errorf("%w: %w", ErrAllProxiesFailed, errors.Join(errs...))
}

// withoutProxyAuth returns req, or a copy of it without its own
// Proxy-Authorization header. The decision, not the caller, picks the
// proxy, so a header meant for one proxy would reach whichever the PAC
// answer names, or the origin; each proxy gets the credentials
// configured for it instead (Config.Credentials).
func withoutProxyAuth(req *http.Request) *http.Request {
	var r *http.Request
	for k := range req.Header {
		if strings.EqualFold(k, "Proxy-Authorization") {
			if r == nil {
				r = req.Clone(req.Context())
			}
			delete(r.Header, k)
		}
	}
	if r == nil {
		return req
	}
	return r
}

// rewind returns a copy of req whose body can be sent again.
func rewind(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("resolver: the request body cannot be sent to the next proxy (no GetBody)")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// CloseIdleConnections closes the idle connections of every route.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, rt := range t.routes {
		rt.CloseIdleConnections()
	}
}

// connectProxyTimeout is connectProxy under the dial timeout.
func (d *dialer) connectProxyTimeout(ctx context.Context, p Proxy) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	return d.connectProxy(ctx, p)
}

// freshConn is a connection to an HTTP proxy that forwards requests. A
// proxy that accepts the connection and closes it before answering
// anything could not be used, like one that refused the connection: the
// first read's failure on a connection that never delivered a byte is a
// *ReachError, so that the request moves to the next proxy. Once a byte
// has arrived, errors are the connection's own (net/http retries a
// reused connection that the proxy closed while idle by itself).
type freshConn struct {
	net.Conn
	p    Proxy
	seen bool
}

func (c *freshConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.seen = true
	}
	if err != nil && !c.seen {
		return n, &ReachError{Proxy: c.p, Err: fmt.Errorf("closed without answering: %w", err)}
	}
	return n, err
}
