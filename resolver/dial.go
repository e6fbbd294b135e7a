package resolver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// ErrAllProxiesFailed is the error of a connection for which no proxy of
// the decision could be reached. errors.Is finds it in what DialContext
// returns; the error also wraps each proxy's own error.
var ErrAllProxiesFailed = errors.New("resolver: no proxy could be reached")

// A ReachError reports that a proxy (or, for DIRECT, the destination)
// could not be reached: its name did not resolve, the TCP connection or
// the TLS handshake to it failed or timed out. This is the one kind of
// failure that makes a connection move on to the next entry of its
// decision, as in Chromium; a proxy that answers, even with a refusal,
// does not.
type ReachError struct {
	Proxy Proxy // credentials removed
	Err   error
}

func (e *ReachError) Error() string {
	if e.Proxy.IsDirect() {
		return "resolver: DIRECT: " + e.Err.Error()
	}
	return "resolver: cannot reach proxy " + e.Proxy.String() + ": " + e.Err.Error()
}

func (e *ReachError) Unwrap() error { return e.Err }

// A ProxyRefusedError reports a proxy that was reached but would not make
// the connection: an HTTP status other than 200 to CONNECT, or a SOCKS
// reply other than success.
type ProxyRefusedError struct {
	Proxy  Proxy  // credentials removed
	Target string // host:port
	Status int    // the HTTP status, for HTTP and HTTPS proxies; 0 for SOCKS
	Reason string
}

func (e *ProxyRefusedError) Error() string {
	return fmt.Sprintf("resolver: proxy %s refused the connection to %s: %s", e.Proxy, e.Target, e.Reason)
}

// A ProxyAuthError reports a proxy that wants credentials pacd does not
// have, or rejected the ones it was given: a 407 (or tinyproxy's 401) to
// CONNECT, a SOCKS5 server that accepts no method pacd offers, or a
// failed RFC 1929 login.
type ProxyAuthError struct {
	Proxy     Proxy // credentials removed
	HadCreds  bool  // whether pacd sent credentials
	Status    int   // the HTTP status, for HTTP and HTTPS proxies
	Challenge string
}

func (e *ProxyAuthError) Error() string {
	what := "requires credentials, and none are configured for it"
	if e.HadCreds {
		what = "rejected the credentials"
	}
	s := "resolver: proxy " + e.Proxy.String() + " " + what
	if e.Status != 0 {
		s += " (" + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status) + ")"
	}
	return s
}

// dialer connects through a decision's proxies, remembering the ones that
// could not be reached.
type dialer struct {
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	timeout time.Duration
	tls     *tls.Config
	retry   time.Duration
	respTO  time.Duration // Config.ResponseHeaderTimeout, for Transport
	log     *slog.Logger
	now     func() time.Time

	mu  sync.Mutex
	bad map[Proxy]time.Time // proxies without credentials -> until when they go last
}

func newDialer(cfg *Config, log *slog.Logger) *dialer {
	d := &dialer{
		dial:    cfg.Dial,
		timeout: cfg.DialTimeout,
		tls:     cfg.TLSConfig,
		retry:   cfg.RetryInterval,
		respTO:  cfg.ResponseHeaderTimeout,
		log:     log,
		now:     time.Now,
		bad:     map[Proxy]time.Time{},
	}
	if d.dial == nil {
		nd := &net.Dialer{}
		d.dial = nd.DialContext
	}
	if d.timeout <= 0 {
		d.timeout = 10 * time.Second
	}
	if d.retry <= 0 {
		d.retry = 5 * time.Minute
	}
	return d
}

// order returns proxies with those that failed recently moved to the end,
// keeping the order within each group, as Chromium does. A list of only
// bad proxies keeps its order.
func (d *dialer) order(proxies []Proxy) []Proxy {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.bad) == 0 {
		return proxies
	}
	now := d.now()
	var good, bad []Proxy
	for _, p := range proxies {
		if until, ok := d.bad[p.WithoutCredentials()]; ok && now.Before(until) {
			bad = append(bad, p)
		} else {
			good = append(good, p)
		}
	}
	if len(bad) == 0 {
		return proxies
	}
	return append(good, bad...)
}

// markBad sends p to the end of every list for the retry interval.
func (d *dialer) markBad(p Proxy, err error) {
	key := p.WithoutCredentials()
	d.mu.Lock()
	_, already := d.bad[key]
	d.bad[key] = d.now().Add(d.retry)
	for k, until := range d.bad {
		if d.now().After(until) {
			delete(d.bad, k)
		}
	}
	d.mu.Unlock()
	if !already {
		d.log.Warn("proxy unreachable; trying it last for a while", "proxy", key, "for", d.retry, "err", err)
	}
}

// isBad reports whether p is in the retry memory.
func (d *dialer) isBad(p Proxy) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	until, ok := d.bad[p.WithoutCredentials()]
	return ok && d.now().Before(until)
}

// dialList connects to addr through the first proxy of proxies that can
// be reached, moving on only when one cannot be (a *ReachError).
func (d *dialer) dialList(ctx context.Context, proxies []Proxy, network, addr string) (net.Conn, Proxy, error) {
	var errs []error
	for _, p := range d.order(proxies) {
		c, err := d.dialVia(ctx, p, network, addr)
		if err == nil {
			return c, p, nil
		}
		var re *ReachError
		if !errors.As(err, &re) || ctx.Err() != nil {
			return nil, p, err
		}
		if !p.IsDirect() {
			d.markBad(p, err)
		}
		errs = append(errs, err)
	}
	return nil, Proxy{}, fmt.Errorf("%w: %w", ErrAllProxiesFailed, errors.Join(errs...))
}

// dialVia connects to addr through p alone.
func (d *dialer) dialVia(ctx context.Context, p Proxy, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	if p.IsDirect() {
		c, err := d.dial(ctx, network, addr)
		if err != nil {
			return nil, &ReachError{Err: err}
		}
		return c, nil
	}
	c, err := d.connectProxy(ctx, p)
	if err != nil {
		return nil, err
	}
	// The handshake runs under the same deadline as the connection.
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	var tc net.Conn
	switch {
	case p.Type == HTTP || p.Type == HTTPS:
		tc, err = httpConnect(c, p, addr)
	case p.Type == SOCKS4 || p.Type == SOCKS4A:
		tc, err = d.socks4(ctx, c, p, addr)
	case p.Type == SOCKS5 || p.Type == SOCKS5H:
		tc, err = d.socks5(ctx, c, p, addr)
	default:
		err = fmt.Errorf("resolver: cannot dial through %s", p)
	}
	if !stop() && err == nil {
		// The deadline came as the handshake ended: the callback may set
		// its past deadline after ours is cleared, so give up now.
		err = context.DeadlineExceeded
	}
	if err != nil {
		c.Close()
		if ctx.Err() != nil {
			// The proxy took too long to answer: it could not be used.
			return nil, &ReachError{Proxy: p.WithoutCredentials(), Err: fmt.Errorf("handshake: %w", ctx.Err())}
		}
		return nil, err
	}
	tc.SetDeadline(time.Time{})
	return tc, nil
}

// connectProxy makes the connection to p itself: TCP, and TLS for an
// HTTPS proxy.
func (d *dialer) connectProxy(ctx context.Context, p Proxy) (net.Conn, error) {
	c, err := d.dial(ctx, "tcp", p.Addr())
	if err != nil {
		return nil, &ReachError{Proxy: p.WithoutCredentials(), Err: err}
	}
	if p.Type != HTTPS {
		return c, nil
	}
	cfg := &tls.Config{}
	if d.tls != nil {
		cfg = d.tls.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = p.Host
	}
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"http/1.1"}
	}
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, &ReachError{Proxy: p.WithoutCredentials(), Err: fmt.Errorf("TLS: %w", err)}
	}
	return tc, nil
}
