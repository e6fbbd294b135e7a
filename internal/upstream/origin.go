package upstream

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
)

// Body is what an [Origin] serves at /index.txt.
const Body = "hello-from-origin"

// Origin is a pair of origin servers on 127.0.0.1, one plain and one
// HTTPS, with the same handlers:
//
//	/index.txt  Body, as text/plain
//	/echo       the request as seen by the origin, as a JSON [Echo]
//
// Anything else is 404. Its fields must not be modified.
type Origin struct {
	// HTTP is the plain server.
	HTTP *httptest.Server
	// HTTPS is the TLS server; its certificate (valid for 127.0.0.1)
	// is in [Origin.CertPool].
	HTTPS *httptest.Server
}

// Echo is the JSON body of an [Origin]'s /echo handler.
type Echo struct {
	Method     string      // request method
	RequestURI string      // the request target as sent (a path, behind a proxy too)
	Host       string      // the Host header
	Proto      string      // "HTTP/1.1", say
	RemoteAddr string      // the connection's peer: the proxy, if there is one
	TLS        bool        // whether the request came over TLS
	Header     http.Header // the request headers, Via and X-Forwarded-For included
}

// StartOrigin starts an [Origin] and closes it when the test ends.
func StartOrigin(t testing.TB) *Origin {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /index.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, Body)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(Echo{
			Method:     r.Method,
			RequestURI: r.RequestURI,
			Host:       r.Host,
			Proto:      r.Proto,
			RemoteAddr: r.RemoteAddr,
			TLS:        r.TLS != nil,
			Header:     r.Header,
		})
	})
	o := &Origin{HTTP: httptest.NewUnstartedServer(mux), HTTPS: httptest.NewUnstartedServer(mux)}
	// Tests provoke TLS handshake failures on purpose (an untrusted
	// certificate); net/http would print each one on standard error.
	quiet := log.New(dropHandshakeErrors{os.Stderr}, "", log.LstdFlags)
	o.HTTP.Config.ErrorLog, o.HTTPS.Config.ErrorLog = quiet, quiet
	o.HTTP.Start()
	o.HTTPS.StartTLS()
	t.Cleanup(func() {
		o.HTTP.Close()
		o.HTTPS.Close()
	})
	return o
}

// dropHandshakeErrors passes what net/http logs to w, except TLS
// handshake errors.
type dropHandshakeErrors struct{ w io.Writer }

func (d dropHandshakeErrors) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("TLS handshake error")) {
		return len(p), nil
	}
	return d.w.Write(p)
}

// URL returns the plain server's URL for path, which starts with "/".
func (o *Origin) URL(path string) string { return o.HTTP.URL + path }

// TLSURL returns the HTTPS server's URL for path, which starts with "/".
func (o *Origin) TLSURL(path string) string { return o.HTTPS.URL + path }

// Addr returns the plain server's address, "127.0.0.1:port".
func (o *Origin) Addr() string { return o.HTTP.Listener.Addr().String() }

// TLSAddr returns the HTTPS server's address, "127.0.0.1:port".
func (o *Origin) TLSAddr() string { return o.HTTPS.Listener.Addr().String() }

// CertPool returns a new pool holding the HTTPS server's certificate.
func (o *Origin) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(o.HTTPS.Certificate())
	return pool
}

// StartBlackhole starts a TCP listener on 127.0.0.1 that accepts
// connections and then never reads, writes or closes them, and returns its
// address. It stands for a proxy that hangs, for timeout and failover
// tests. Everything is closed when the test ends.
func StartBlackhole(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("upstream: StartBlackhole: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return // closed
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// ClosedAddr returns an address on 127.0.0.1 where nothing listens, so
// that connecting is refused: a proxy that is down. The port had a
// listener a moment ago; nothing reserves it, so another process could
// take it meanwhile, which is rare on a test machine.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return hostPort(port)
}
