// Package daemon is pacd serve: a local HTTP and SOCKS5 proxy that asks a
// resolver.Resolver, request by request, how to reach each destination,
// and carries the request that way (DIRECT, or through the upstream
// proxies the decision names, failing over between them).
//
// The HTTP listener forwards absolute-form requests (RFC 9110: hop-by-hop
// headers removed, Via added, keep-alive, WebSocket upgrades passed
// through) and opens CONNECT tunnels for anything else; requests in
// origin form are pacd's own pages: /proxy.pac and /wpad.dat (the active
// PAC, for browsers), /status (what pacd is doing, and what it would do
// for a URL), /metrics (Prometheus text format) and, when configured,
// the PAC playground at / (Config.Playground). The SOCKS5 listener
// serves RFC 1928 CONNECT with IPv4, IPv6 and name targets, and RFC 1929
// username/password when client credentials are configured.
//
// A Server is never an open proxy: clients must come from loopback or an
// allowed network, and, when configured, authenticate. A request aimed at
// pacd itself through pacd is refused. Every wait is bounded: header
// size and read time, idle keep-alive time, the number of connections,
// the handshake of a SOCKS client. The resolver can be replaced while the
// server runs (SetResolver); open tunnels keep the route they have.
package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pacd/pacd/resolver"
)

// Config configures a Server. Zero fields take the documented defaults.
type Config struct {
	// Allow lists the client networks besides loopback that may use the
	// proxy. Loopback clients are always allowed.
	Allow []netip.Prefix

	// Username and Password, when Username is set, are required of every
	// client: HTTP Basic Proxy-Authorization on the HTTP listener, the
	// RFC 1929 login on the SOCKS listener.
	Username, Password string

	// MaxConns caps the client connections open at once, over all
	// listeners; one more is answered with 503 (HTTP) or closed (SOCKS).
	// If zero, 16384.
	MaxConns int

	// ReadHeaderTimeout bounds the time a client may take to send a
	// request's headers, and a SOCKS client its handshake. If zero, 10 s.
	ReadHeaderTimeout time.Duration

	// IdleTimeout bounds how long a keep-alive connection may wait for
	// its next request, and how long a tunnel may stay silent in one
	// direction once the other has finished. If zero, 2 minutes.
	IdleTimeout time.Duration

	// MaxHeaderBytes caps a request's headers. If zero, 64 KiB.
	MaxHeaderBytes int

	// DrainTimeout is how long Shutdown lets open tunnels and requests
	// finish before it closes them. If zero, 10 s.
	DrainTimeout time.Duration

	// PAC gives the active PAC script's text for /proxy.pac and
	// /wpad.dat, and its state for /status. If nil, or if it has no
	// script, those pages serve a PAC that sends everything through this
	// server.
	PAC PACSource

	// Playground, when set, serves "/" and every page the server has no
	// other use for: the PAC playground (web.Handler), whose answer is
	// final (404 included). /proxy.pac, /wpad.dat, /status and /metrics
	// stay the server's own. If nil, "/" is a short index of those pages.
	Playground http.Handler

	// Logger receives one line per request and the server's events. If
	// nil, slog.Default().
	Logger *slog.Logger
}

// A PACSource is what the server knows of the PAC script in use;
// *resolver.PACFile is one.
type PACSource interface {
	Source() ([]byte, bool)
	Status() resolver.PACStatus
}

// A Server is the proxy daemon. Create it with New, start listeners with
// Serve (HTTP) and ServeSOCKS, stop it with Shutdown. It is the HTTP
// listener's http.Handler.
type Server struct {
	cfg   Config
	log   *slog.Logger
	id    string // this process's token in Via headers, for loop detection
	via11 string // the Via value for HTTP/1.1 requests: "1.1 " + id
	// errLog is net/http's error log (the HTTP server's, ReverseProxy's),
	// at debug level.
	errLog *log.Logger
	state  atomic.Pointer[state]
	m      *metrics
	start  time.Time

	mu        sync.Mutex
	listeners map[net.Listener]netip.AddrPort // each one's address, parsed once (invalid if it is not IP)
	httpSrvs  []*http.Server
	conns     map[net.Conn]struct{} // hijacked and SOCKS connections in use
	wg        sync.WaitGroup        // tunnels and SOCKS connections
	closing   bool

	open atomic.Int64 // client connections open, against Config.MaxConns
}

// state is what a request uses from start to end, swapped as a whole on
// a reload.
type state struct {
	r         *resolver.Resolver
	transport *resolver.Transport
	loadedAt  time.Time
}

// New returns a Server that decides with r.
func New(cfg Config, r *resolver.Resolver) *Server {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 16384
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = 10 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = 64 << 10
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		m:         newMetrics(),
		start:     time.Now(),
		listeners: map[net.Listener]netip.AddrPort{},
		conns:     map[net.Conn]struct{}{},
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	var b [6]byte
	rand.Read(b[:])
	s.id = "pacd-" + hex.EncodeToString(b[:])
	s.via11 = "1.1 " + s.id
	s.errLog = slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)
	s.SetResolver(r)
	return s
}

// SetResolver makes r the resolver of every request from now on. Requests
// and tunnels already under way finish with the one they started with.
func (s *Server) SetResolver(r *resolver.Resolver) {
	// Many clients share few upstreams: keep more idle connections per
	// host than net/http's default of two, or requests through a proxy
	// pay for a new connection each.
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConns = 4096
	base.MaxIdleConnsPerHost = 256
	old := s.state.Swap(&state{r: r, transport: r.TransportFrom(base), loadedAt: time.Now()})
	if old != nil {
		// Pooled connections of the old routes are no longer wanted.
		// net/http closes those that requests under way give back from
		// now on, too; a request that took the old state just before the
		// swap may still pool one after this, which the second call
		// closes. Neither holds a goroutine meanwhile: a storm of
		// reloads must not pile up sleeping goroutines and pools.
		old.transport.CloseIdleConnections()
		time.AfterFunc(min(s.cfg.IdleTimeout, 10*time.Second), old.transport.CloseIdleConnections)
	}
}

// Resolver returns the resolver in use.
func (s *Server) Resolver() *resolver.Resolver { return s.state.Load().r }

// ErrServerClosed is returned by Serve and ServeSOCKS after Shutdown.
var ErrServerClosed = errors.New("daemon: server closed")

func (s *Server) track(ln net.Listener, reject func(net.Conn)) (net.Listener, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, ErrServerClosed
	}
	la, _ := netip.ParseAddrPort(ln.Addr().String())
	s.listeners[ln] = la
	return &limitListener{Listener: ln, open: &s.open, max: int64(s.cfg.MaxConns), reject: reject,
		onFull: func() { s.m.request("full", http.StatusServiceUnavailable) }}, nil
}

// Serve serves the HTTP proxy on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	lim, err := s.track(ln, rejectHTTP)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          s.errLog,
		ConnState: func(c net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				s.m.conns.Add(1)
			case http.StateClosed:
				s.m.conns.Add(-1)
				s.open.Add(-1) // a hijacked connection is released by its tunnel
			case http.StateHijacked:
				s.m.conns.Add(-1)
			}
		},
	}
	srv.SetKeepAlivesEnabled(true)
	s.mu.Lock()
	s.httpSrvs = append(s.httpSrvs, srv)
	s.mu.Unlock()
	err = srv.Serve(lim)
	// Shutdown closes the listener before it shuts srv down, so Serve may
	// see the closed listener first.
	if errors.Is(err, http.ErrServerClosed) || s.isClosing() {
		return ErrServerClosed
	}
	return err
}

// ServeSOCKS serves the SOCKS5 proxy on ln until Shutdown.
func (s *Server) ServeSOCKS(ln net.Listener) error {
	lim, err := s.track(ln, rejectSOCKS)
	if err != nil {
		return err
	}
	var delay time.Duration // after a failed accept, as net/http does
	for {
		c, err := lim.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			if retryAccept(err) {
				// Out of descriptors, say: wait for some to be
				// released, and keep serving.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Debug("SOCKS accept failed; retrying", "err", err, "in", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		if !s.hold(c) {
			c.Close()
			s.open.Add(-1)
			continue
		}
		go func() {
			defer s.release(c)
			// As net/http does for a handler: a bug that panics on one
			// connection must not take every other one down with it.
			defer func() {
				if r := recover(); r != nil {
					s.log.Error("panic serving a SOCKS connection", "client", c.RemoteAddr().String(), "panic", r, "stack", string(debug.Stack()))
				}
			}()
			s.serveSOCKS(c)
		}()
	}
}

// retryAccept reports whether a failed Accept is worth retrying: a
// timeout, or a shortage that passes (descriptors, buffers, memory), or a
// connection aborted before it was accepted. net/http retries the same.
func retryAccept(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// hold registers a connection that Shutdown must wait for; false when the
// server is closing.
func (s *Server) hold(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

// release ends a connection taken by hold, and frees its place under
// Config.MaxConns.
func (s *Server) release(c net.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.open.Add(-1)
	s.wg.Done()
}

// Shutdown stops accepting connections, lets requests and tunnels under
// way finish for at most Config.DrainTimeout (or until ctx ends), then
// closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	srvs := s.httpSrvs
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, s.cfg.DrainTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range srvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Shutdown(ctx); err != nil {
				srv.Close()
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		n := len(s.conns)
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.log.Info("shutdown: closed connections still open", "count", n)
		<-done
	}
	wg.Wait()
	s.state.Load().transport.CloseIdleConnections()
	return nil
}

// allowed reports whether a client at addr may use the proxy.
func (s *Server) allowed(addr string) bool {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap()
	if a.IsLoopback() {
		return true
	}
	for _, p := range s.cfg.Allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// isSelf reports whether host:port is one of this server's listeners, so
// that proxying to it would loop.
func (s *Server) isSelf(host string, port uint16) bool {
	a, err := netip.ParseAddr(host)
	if err != nil {
		if host != "localhost" {
			return false
		}
		a = netip.MustParseAddr("127.0.0.1")
	}
	a = a.Unmap()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, la := range s.listeners {
		if !la.IsValid() || la.Port() != port {
			continue
		}
		l := la.Addr().Unmap()
		if l == a || l.IsLoopback() && a.IsLoopback() || l.IsUnspecified() && (a.IsLoopback() || isLocal(a)) {
			return true
		}
	}
	return false
}

// isLocal reports whether a is an address of this machine.
func isLocal(a netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, ia := range addrs {
		if n, ok := ia.(*net.IPNet); ok {
			if b, ok := netip.AddrFromSlice(n.IP); ok && b.Unmap() == a {
				return true
			}
		}
	}
	return false
}
