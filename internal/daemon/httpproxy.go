package daemon

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pacd/pacd/resolver"
)

// ServeHTTP is the HTTP listener's handler: CONNECT tunnels,
// absolute-form requests to forward, and pacd's own pages for requests in
// origin form.
func (s *Server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !s.allowed(req.RemoteAddr) {
		s.m.request("refused", http.StatusForbidden)
		s.log.Warn("client not allowed", "client", req.RemoteAddr)
		http.Error(w, "pacd: your address may not use this proxy", http.StatusForbidden)
		return
	}
	switch {
	case req.Method == http.MethodConnect:
		if !s.authorized(w, req) {
			return
		}
		s.connect(w, req)
	case req.URL.IsAbs():
		if !s.authorized(w, req) {
			return
		}
		s.forward(w, req)
	default:
		s.page(w, req)
	}
}

// authorized checks the client's Proxy-Authorization when the server
// requires credentials, and answers 407 when they are missing or wrong.
func (s *Server) authorized(w http.ResponseWriter, req *http.Request) bool {
	if s.cfg.Username == "" {
		return true
	}
	user, pass, ok := parseBasic(req.Header.Get("Proxy-Authorization"))
	if ok && s.checkCredentials(user, pass) {
		return true
	}
	s.m.request("auth", http.StatusProxyAuthRequired)
	w.Header().Set("Proxy-Authenticate", `Basic realm="pacd"`)
	http.Error(w, "pacd: proxy authentication required", http.StatusProxyAuthRequired)
	return false
}

func (s *Server) checkCredentials(user, pass string) bool {
	u := subtle.ConstantTimeCompare([]byte(user), []byte(s.cfg.Username))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.Password))
	return u&p == 1
}

func parseBasic(h string) (user, pass string, ok bool) {
	const prefix = "Basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[len(prefix):]))
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(b), ":")
	return user, pass, ok
}

// requestLog collects what one request's log line says.
type requestLog struct {
	start  time.Time
	client string
	kind   string
	target string
	// url, when hasURL, is the request's URL: the target, formatted
	// only if the line is written.
	url      url.URL
	hasURL   bool
	decision resolver.Decision
	proxy    resolver.Proxy
	status   int
	up, down int64
	err      error
}

func (s *Server) logRequest(l *requestLog) {
	s.m.served(l.kind, l.status, l.decision.Source, l.decision.Proxies != nil)
	level := slog.LevelInfo
	if l.err != nil {
		level = slog.LevelWarn
	}
	// At --log-level error nothing below is wanted: not the attributes,
	// nor the strings they are made of.
	if !s.log.Enabled(context.Background(), level) {
		return
	}
	target := l.target
	if l.hasURL {
		target = l.url.Redacted()
	}
	attrs := []slog.Attr{
		slog.String("client", l.client),
		slog.String("kind", l.kind),
		slog.String("target", target),
		slog.Int("status", l.status),
	}
	if l.decision.Proxies != nil {
		attrs = append(attrs, slog.String("decision", l.decision.String()), slog.String("source", l.decision.Source.String()))
		if l.status < 400 || l.proxy != (resolver.Proxy{}) {
			attrs = append(attrs, slog.String("via", l.proxy.String()))
		}
	}
	attrs = append(attrs, slog.Int64("up", l.up), slog.Int64("down", l.down), slog.Duration("duration", time.Since(l.start)))
	if l.err != nil {
		attrs = append(attrs, slog.String("error", l.err.Error()))
	}
	s.log.LogAttrs(context.Background(), level, "request", attrs...)
}

// connect opens a tunnel for a CONNECT request.
func (s *Server) connect(w http.ResponseWriter, req *http.Request) {
	l := &requestLog{start: time.Now(), client: req.RemoteAddr, kind: "connect", target: req.Host}
	logged := false // the tunnel logs the request itself when it ends
	defer func() {
		if !logged {
			s.logRequest(l)
		}
	}()
	host, port, err := splitHostPort(req.Host)
	if err != nil {
		l.status, l.err = http.StatusBadRequest, err
		http.Error(w, "pacd: "+err.Error(), l.status)
		return
	}
	if s.isSelf(host, port) {
		l.status, l.err = http.StatusLoopDetected, errors.New("the target is this proxy")
		http.Error(w, "pacd: refusing to connect to itself", l.status)
		return
	}
	st := s.state.Load()
	ctx := req.Context()
	d, err := st.r.ResolveQuery(ctx, resolver.Query{Kind: resolver.TCPStream, Host: host, Port: port})
	if err != nil {
		l.status, l.err = http.StatusBadGateway, err
		http.Error(w, "pacd: "+err.Error(), l.status)
		return
	}
	l.decision = d
	up, via, err := st.r.Dial(ctx, d, "tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
	l.proxy = via
	if err != nil {
		l.status, l.err = errorStatus(err), err
		s.m.failed(err)
		writeProxyError(w, l.status, err)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		l.status, l.err = http.StatusInternalServerError, errors.New("connection cannot be hijacked")
		http.Error(w, "pacd: "+l.err.Error(), l.status)
		return
	}
	client, rw, err := hj.Hijack()
	if err != nil {
		up.Close()
		l.status, l.err = http.StatusInternalServerError, err
		return
	}
	l.status = http.StatusOK
	if !s.hold(client) {
		client.Close()
		up.Close()
		s.open.Add(-1)
		return
	}
	client.SetDeadline(time.Time{})
	// Bytes the client sent after its request are the tunnel's first.
	var first []byte
	if n := rw.Reader.Buffered(); n > 0 {
		p, _ := rw.Reader.Peek(n)
		first = bytes.Clone(p)
	}
	// The tunnel runs on goroutines of its own, so that this handler, and
	// with it net/http's buffers for the connection, can go: an idle
	// tunnel then holds no more than its two copying goroutines.
	logged = true
	go func() {
		defer s.logRequest(l)
		defer s.release(client)
		if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
			up.Close()
			l.err = err
			return
		}
		l.up, l.down = s.tunnel(client, up, first)
	}()
}

// forward carries an absolute-form request.
func (s *Server) forward(w http.ResponseWriter, req *http.Request) {
	l := &requestLog{start: time.Now(), client: req.RemoteAddr, kind: "http", url: *req.URL, hasURL: true}
	defer s.logRequest(l)
	for _, v := range req.Header.Values("Via") {
		if strings.Contains(v, s.id) {
			l.status, l.err = http.StatusLoopDetected, errors.New("the request came through this proxy already")
			http.Error(w, "pacd: loop detected", l.status)
			return
		}
	}
	if req.URL.Scheme != "http" {
		// A client sends an https:// URL only to a proxy it wants to
		// speak TLS to the origin for it, which pacd does not: CONNECT
		// is the way.
		l.status, l.err = http.StatusBadRequest, fmt.Errorf("scheme %q: use CONNECT for anything but http", req.URL.Scheme)
		http.Error(w, "pacd: "+l.err.Error(), l.status)
		return
	}
	host, port, err := splitHostPort(req.URL.Host)
	if err == nil && s.isSelf(host, port) {
		l.status, l.err = http.StatusLoopDetected, errors.New("the target is this proxy")
		http.Error(w, "pacd: refusing to forward to itself", l.status)
		return
	}
	st := s.state.Load()
	d, err := st.r.Resolve(req.Context(), req.URL)
	if err != nil {
		l.status, l.err = http.StatusBadGateway, err
		http.Error(w, "pacd: "+err.Error(), l.status)
		return
	}
	l.decision = d
	body := &countingBody{rc: req.Body}
	req.Body = body
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = pr.In.URL
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Add("Via", s.via(req.ProtoMajor, req.ProtoMinor))
		},
		Transport: roundTripFunc(func(out *http.Request) (*http.Response, error) {
			resp, via, err := st.transport.RoundTripDecision(out, d)
			l.proxy = via
			return resp, err
		}),
		FlushInterval: 0, // streaming responses (unknown length, event streams) are still flushed at once
		BufferPool:    copyBuffers,
		ErrorLog:      s.errLog,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			if berr := body.err(); berr != nil {
				// The client's body is at fault (a chunk size that does
				// not parse, say), not the upstream: the upstream got a
				// truncated request, and the client a 400.
				l.status, l.err = http.StatusBadRequest, fmt.Errorf("reading the request body: %w", berr)
				writeProxyError(w, l.status, l.err)
				return
			}
			l.status, l.err = errorStatus(err), err
			s.m.failed(err)
			writeProxyError(w, l.status, err)
		},
		ModifyResponse: func(resp *http.Response) error {
			l.status = resp.StatusCode
			return nil
		},
	}
	cw := &countingWriter{ResponseWriter: w}
	rp.ServeHTTP(cw, req)
	l.up, l.down = body.n, cw.n
}

// copyBuffers are the buffers ReverseProxy copies response bodies with:
// without a pool it allocates 32 KiB for every request, which was most of
// the memory (and of the garbage collector's work) per forwarded request.
var copyBuffers httputil.BufferPool = &bufferPool{}

type bufferPool struct{ p sync.Pool }

const copyBufferSize = 32 << 10 // ReverseProxy's own size

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[copyBufferSize]byte); ok {
		return v[:]
	}
	return make([]byte, copyBufferSize)
}

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) < copyBufferSize {
		return
	}
	// The array's pointer goes into the pool: no allocation on the way.
	b.p.Put((*[copyBufferSize]byte)(buf[:copyBufferSize]))
}

// via is the Via header value pacd adds to a request of HTTP/major.minor.
func (s *Server) via(major, minor int) string {
	if major == 1 && minor == 1 {
		return s.via11
	}
	return strconv.Itoa(major) + "." + strconv.Itoa(minor) + " " + s.id
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// countingWriter counts the bytes of a response body, and passes
// Flusher and Hijacker through (ReverseProxy needs both, the second for
// WebSocket upgrades).
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

type countingBody struct {
	rc   io.ReadCloser
	n    int64
	fail atomic.Pointer[error] // the first failure to read it, but its end
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if err != nil && err != io.EOF {
		b.fail.CompareAndSwap(nil, &err)
	}
	return n, err
}

// err returns the first failure to read the body, or nil.
func (b *countingBody) err() error {
	if p := b.fail.Load(); p != nil {
		return *p
	}
	return nil
}

func (b *countingBody) Close() error { return b.rc.Close() }

// errorStatus maps a failure to reach a destination to the status the
// client gets: 407 when an upstream wants credentials pacd does not have,
// 504 when everything timed out, 502 otherwise.
func errorStatus(err error) int {
	var ae *resolver.ProxyAuthError
	if errors.As(err, &ae) {
		return http.StatusProxyAuthRequired
	}
	var ne net.Error
	// The outermost net.Error may hide a timeout deeper in the chain.
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

// writeProxyError answers a client whose request could not be carried,
// with a one-line reason. A 407 names the upstream that wants
// credentials, and carries no challenge: it is not pacd that asks.
func writeProxyError(w http.ResponseWriter, status int, err error) {
	msg := err.Error()
	// Only the outermost OpError ("proxy connect tcp host:port: ...") is
	// dropped: one deeper down is a single proxy's, not the whole story.
	if oe, ok := err.(*net.OpError); ok && oe.Err != nil {
		msg = oe.Err.Error()
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Pacd-Error", strings.ReplaceAll(msg, "\n", " "))
	w.WriteHeader(status)
	fmt.Fprintf(w, "pacd: %s\n", msg)
}

// splitHostPort splits a request's host[:port], with port 80 by default.
func splitHostPort(hp string) (string, uint16, error) {
	host, ps, err := net.SplitHostPort(hp)
	if err != nil {
		if strings.Contains(err.Error(), "missing port") && strings.Trim(hp, "[]") != "" {
			return strings.Trim(hp, "[]"), 80, nil
		}
		return "", 0, fmt.Errorf("invalid target %q", hp)
	}
	n, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || n == 0 {
		return "", 0, fmt.Errorf("invalid port in %q", hp)
	}
	if host == "" {
		return "", 0, fmt.Errorf("no host in %q", hp)
	}
	return host, uint16(n), nil
}
