package resolver_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacd/pacd/internal/recproxy"
	"github.com/pacd/pacd/resolver"
)

// The tests of this file hold the resolver to issue 8's rule: a PAC
// answer can never make pacd send credentials to a host the user did not
// name. Every address pacd dials gets a listener of its own on loopback
// (credNet, a Config.Dial that stands in for DNS, so that no name is
// ever resolved and nothing but loopback is ever reached), and every
// listener records every byte it receives and every credential it is
// offered: a Proxy-Authorization header, an RFC 1929 login, a SOCKS4
// user ID. After each case the credentials must have reached the one
// address the user configured, or none.

const (
	credUser = "u-7f3a"
	credPass = "p-9c2e"
)

var credBasic = "Basic " + base64.StdEncoding.EncodeToString([]byte(credUser+":"+credPass))

// credURL is a proxy URL carrying the test's credentials.
func credURL(scheme, hostport string) string {
	if strings.HasPrefix(scheme, "socks4") {
		return scheme + "://" + credUser + "@" + hostport
	}
	return scheme + "://" + credUser + ":" + credPass + "@" + hostport
}

// credNet is a Config.Dial that gives every address it is asked for a
// stub of its own on 127.0.0.1, in place of resolving its name: a
// name like evil.example is never looked up, and nothing but loopback is
// ever dialed. Addresses listed as down are refused, by a loopback port
// where nothing listens.
type credNet struct {
	t    *testing.T
	tls  *tls.Config
	down map[string]bool
	mode map[string]string
	dead string // a loopback address where nothing listens

	mu     sync.Mutex
	stubs  map[string]*recproxy.Stub
	dialed []string
}

func newCredNet(t *testing.T, down []string, mode map[string]string) *credNet {
	n := &credNet{t: t, tls: stubTLS(t), down: map[string]bool{}, mode: mode, dead: closedAddr(t), stubs: map[string]*recproxy.Stub{}}
	for _, a := range down {
		n.down[a] = true
	}
	return n
}

func (n *credNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	n.mu.Lock()
	n.dialed = append(n.dialed, addr)
	real := n.dead
	if !n.down[addr] {
		s := n.stubs[addr]
		if s == nil {
			// Through a tunnel, and for a request in origin form, the
			// stub is an origin that answers "via <address>".
			var err error
			s, err = recproxy.Listen("127.0.0.1:0", recproxy.Options{Name: addr, Mode: recproxy.Mode(n.mode[addr]), TLS: n.tls})
			if err != nil {
				n.mu.Unlock()
				return nil, err
			}
			n.stubs[addr] = s
			n.t.Cleanup(func() { s.Close() })
		}
		real = s.Addr()
	}
	n.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, "tcp", real)
}

func (n *credNet) dials() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.dialed)
}

// check fails t unless the credentials reached the stub of lend alone
// ("" for none), intact, and nothing else was offered anywhere.
func (n *credNet) check(t *testing.T, lend string) {
	t.Helper()
	n.mu.Lock()
	stubs := make([]*recproxy.Stub, 0, len(n.stubs))
	for _, s := range n.stubs {
		stubs = append(stubs, s)
	}
	n.mu.Unlock()
	secrets := [][]byte{[]byte(credUser), []byte(credPass), []byte(credBasic[len("Basic "):])}
	lent := false
	for _, s := range stubs {
		raw, auths, _ := s.Seen()
		leaked := slices.ContainsFunc(secrets, func(sec []byte) bool { return bytes.Contains(raw, sec) })
		if s.Name() != lend {
			if leaked || len(auths) > 0 {
				t.Errorf("%s, received credentials it must not have: %q (secret in its bytes: %v)", s.Name(), auths, leaked)
			}
			continue
		}
		for _, a := range auths {
			switch a {
			case "http " + credBasic, "socks5 " + credUser + ":" + credPass, "socks4 " + credUser:
				lent = true
			default:
				t.Errorf("%s was offered %q, not the configured credentials", s.Name(), a)
			}
		}
	}
	if lend != "" && !lent {
		t.Errorf("%s, the proxy the user configured, never received its credentials (dialed %q)", lend, n.dials())
	}
}

var (
	stubCertOnce sync.Once
	stubCert     tls.Certificate
	stubCertErr  error
)

// stubTLS is the HTTPS stubs' configuration: a self-signed certificate
// that the resolver is told not to verify (what is tested is where
// credentials go, not TLS).
func stubTLS(t *testing.T) *tls.Config {
	stubCertOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			stubCertErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "credentials stub"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			DNSNames:     []string{"proxy.example"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		stubCert, stubCertErr = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, err
	})
	if stubCertErr != nil {
		t.Fatal(stubCertErr)
	}
	return &tls.Config{Certificates: []tls.Certificate{stubCert}}
}

// credPAC is a PAC script that answers the same for every URL.
type credPAC string

func (p credPAC) Eval(context.Context, string, string) (string, error) { return string(p), nil }

// The destination of every case: on loopback, so that no proxy stub and
// no DIRECT connection could ever reach beyond it (and, as an address,
// SOCKS4 needs no lookup for it), proxied because the cases set
// ProxyLoopback.
const credTarget = "127.0.0.1:80"

type credCase struct {
	name  string
	creds []string // Config.Credentials
	env   *resolver.Env
	mount []resolver.Mount
	pac   string
	down  []string          // addresses that refuse connections
	mode  map[string]string // the stubs' recproxy.Mode by address
	lend  string            // the one address that must receive the credentials, "" for none
	named string            // the address whose credentials the decision carries, if not lend
	via   string            // the address that must carry the connection, "" when it must fail
	// fwd is the status a plain-http request through Transport must get
	// when via is "": 407 or 403 from an HTTP proxy, 0 for an error.
	fwd   int
	never []string // addresses that must not even be dialed
}

const (
	proxyA = "proxy.example:3128"
	evil   = "evil.example:3128"
)

var credCases = []credCase{
	// Which hosts are the one the user named: the canonical host and
	// port, compared as strings (names) or as addresses (IP literals).
	{name: "the configured proxy", creds: []string{credURL("http", proxyA)}, pac: "PROXY proxy.example:3128", lend: proxyA, via: proxyA},
	{name: "another host", creds: []string{credURL("http", proxyA)}, pac: "PROXY evil.example:3128", via: evil, never: []string{proxyA}},
	{name: "same host, another port", creds: []string{credURL("http", proxyA)}, pac: "PROXY proxy.example:3129", via: "proxy.example:3129"},
	{name: "same host, default port", creds: []string{credURL("http", proxyA)}, pac: "PROXY proxy.example", via: "proxy.example:80"},
	{name: "same port, a name ending in the configured one", creds: []string{credURL("http", proxyA)}, pac: "PROXY proxy.example.evil.example:3128", via: "proxy.example.evil.example:3128"},
	{name: "same port, a name starting with the configured one", creds: []string{credURL("http", proxyA)}, pac: "PROXY xproxy.example:3128", via: "xproxy.example:3128"},
	{name: "upper case", creds: []string{credURL("http", proxyA)}, pac: "PROXY PROXY.EXAMPLE:3128", lend: proxyA, via: proxyA},
	{name: "fullwidth letters, which IDNA maps to the same name", creds: []string{credURL("http", proxyA)}, pac: "PROXY ｐｒｏｘｙ.example:3128", lend: proxyA, via: proxyA},
	{name: "trailing dot", creds: []string{credURL("http", proxyA)}, pac: "PROXY proxy.example.:3128", via: "proxy.example.:3128"},
	{name: "trailing dot configured, none in the answer", creds: []string{credURL("http", "proxy.example.:3128")}, pac: "PROXY proxy.example:3128", via: proxyA},
	{name: "percent-encoding in the answer", creds: []string{credURL("http", proxyA)}, pac: "PROXY proxy%2eexample:3128", via: credTarget, never: []string{proxyA}},
	{name: "IDN: punycode answer, Unicode configured", creds: []string{credURL("http", "bücher.example:3128")}, pac: "PROXY xn--bcher-kva.example:3128", lend: "xn--bcher-kva.example:3128", via: "xn--bcher-kva.example:3128"},
	{name: "IDN: Unicode upper case", creds: []string{credURL("http", "xn--bcher-kva.example:3128")}, pac: "PROXY BÜCHER.example:3128", lend: "xn--bcher-kva.example:3128", via: "xn--bcher-kva.example:3128"},
	{name: "IDN: the name without its accent", creds: []string{credURL("http", "bücher.example:3128")}, pac: "PROXY bucher.example:3128", via: "bucher.example:3128"},
	{name: "IPv4", creds: []string{credURL("http", "127.0.0.1:3128")}, pac: "PROXY 127.0.0.1:3128", lend: "127.0.0.1:3128", via: "127.0.0.1:3128"},
	{name: "IPv4, two parts", creds: []string{credURL("http", "127.0.0.1:3128")}, pac: "PROXY 127.1:3128", lend: "127.0.0.1:3128", via: "127.0.0.1:3128"},
	{name: "IPv4, one decimal number", creds: []string{credURL("http", "127.0.0.1:3128")}, pac: "PROXY 2130706433:3128", lend: "127.0.0.1:3128", via: "127.0.0.1:3128"},
	{name: "IPv4, hexadecimal", creds: []string{credURL("http", "127.0.0.1:3128")}, pac: "PROXY 0x7f.1:3128", lend: "127.0.0.1:3128", via: "127.0.0.1:3128"},
	{name: "IPv4, octal", creds: []string{credURL("http", "127.0.0.1:3128")}, pac: "PROXY 0177.0.0.1:3128", lend: "127.0.0.1:3128", via: "127.0.0.1:3128"},
	{name: "IPv4, trailing dot", creds: []string{credURL("http", "127.0.0.1:3128")}, pac: "PROXY 127.0.0.1.:3128", lend: "127.0.0.1:3128", via: "127.0.0.1:3128"},
	{name: "IPv4-mapped IPv6", creds: []string{credURL("http", "127.0.0.1:3128")}, pac: "PROXY [::ffff:127.0.0.1]:3128", lend: "127.0.0.1:3128", via: "127.0.0.1:3128"},
	{name: "IPv4-mapped IPv6 configured", creds: []string{credURL("http", "[::ffff:7f00:1]:3128")}, pac: "PROXY 127.0.0.1:3128", lend: "127.0.0.1:3128", via: "127.0.0.1:3128"},
	{name: "another loopback address", creds: []string{credURL("http", "127.0.0.1:3128")}, pac: "PROXY 127.0.0.2:3128", via: "127.0.0.2:3128"},
	{name: "localhost for 127.0.0.1", creds: []string{credURL("http", "127.0.0.1:3128")}, pac: "PROXY localhost:3128", via: "localhost:3128"},
	{name: "127.0.0.1 for localhost", creds: []string{credURL("http", "localhost:3128")}, pac: "PROXY 127.0.0.1:3128", via: "127.0.0.1:3128"},
	{name: "LOCALHOST for localhost", creds: []string{credURL("http", "localhost:3128")}, pac: "PROXY LOCALHOST:3128", lend: "localhost:3128", via: "localhost:3128"},
	{name: "::1 for 127.0.0.1", creds: []string{credURL("http", "127.0.0.1:3128")}, pac: "PROXY [::1]:3128", via: "[::1]:3128"},
	{name: "IPv6, another spelling", creds: []string{credURL("http", "[::1]:3128")}, pac: "PROXY [0:0::0001]:3128", lend: "[::1]:3128", via: "[::1]:3128"},

	// Credentials in the answer itself: the entry is dropped, and
	// neither host it names is dialed.
	{name: "userinfo in PROXY", creds: []string{credURL("http", proxyA)}, pac: "PROXY user:pass@evil.example:80", via: credTarget, never: []string{"evil.example:80"}},
	{name: "userinfo naming the configured proxy", creds: []string{credURL("http", proxyA)}, pac: "PROXY evil.example:80@proxy.example:3128", via: credTarget, never: []string{"evil.example:80", proxyA}},
	{name: "configured proxy before an @", creds: []string{credURL("http", proxyA)}, pac: "PROXY proxy.example:3128@evil.example:80", via: credTarget, never: []string{"evil.example:80", proxyA}},
	{name: "userinfo in HTTPS", creds: []string{credURL("https", "proxy.example:443")}, pac: "HTTPS a@proxy.example:443", via: credTarget, never: []string{"proxy.example:443"}},
	{name: "userinfo in SOCKS5", creds: []string{credURL("socks5", "proxy.example:1080")}, pac: "SOCKS5 x:y@proxy.example:1080", via: credTarget, never: []string{"proxy.example:1080"}},
	{name: "userinfo in SOCKS", creds: []string{credURL("socks4", "proxy.example:1080")}, pac: "SOCKS u-7f3a@proxy.example:1080", via: credTarget, never: []string{"proxy.example:1080"}},
	{name: "percent-encoded @", creds: []string{credURL("http", proxyA)}, pac: "PROXY evil.example%40proxy.example:3128", via: credTarget, never: []string{proxyA}},
	{name: "dropped userinfo entry, then the configured proxy", creds: []string{credURL("http", proxyA)}, pac: "PROXY x:y@evil.example:80; PROXY proxy.example:3128", lend: proxyA, via: proxyA, never: []string{"evil.example:80"}},

	// The same address under another scheme: credentials stay with
	// their protocol, and are never moved from TLS to clear text.
	{name: "http credentials, HTTPS answer", creds: []string{credURL("http", proxyA)}, pac: "HTTPS proxy.example:3128", lend: proxyA, via: proxyA},
	{name: "http credentials, SOCKS5 answer", creds: []string{credURL("http", proxyA)}, pac: "SOCKS5 proxy.example:3128", via: proxyA},
	{name: "http credentials, SOCKS answer", creds: []string{credURL("http", proxyA)}, pac: "SOCKS proxy.example:3128", via: proxyA},
	{name: "http credentials, SOCKS4 answer", creds: []string{credURL("http", proxyA)}, pac: "SOCKS4 proxy.example:3128", via: proxyA},
	{name: "https credentials, HTTPS answer", creds: []string{credURL("https", "proxy.example:443")}, pac: "HTTPS proxy.example:443", lend: "proxy.example:443", via: "proxy.example:443"},
	{name: "https credentials, PROXY answer (clear text)", creds: []string{credURL("https", "proxy.example:443")}, pac: "PROXY proxy.example:443", via: "proxy.example:443"},
	{name: "socks5 credentials, SOCKS5 answer", creds: []string{credURL("socks5", "proxy.example:1080")}, pac: "SOCKS5 proxy.example:1080", lend: "proxy.example:1080", via: "proxy.example:1080"},
	{name: "socks5h credentials, SOCKS5 answer", creds: []string{credURL("socks5h", "proxy.example:1080")}, pac: "SOCKS5 proxy.example:1080", lend: "proxy.example:1080", via: "proxy.example:1080"},
	{name: "socks5 credentials, SOCKS answer", creds: []string{credURL("socks5", "proxy.example:1080")}, pac: "SOCKS proxy.example:1080", via: "proxy.example:1080"},
	{name: "socks5 credentials, PROXY answer", creds: []string{credURL("socks5", "proxy.example:1080")}, pac: "PROXY proxy.example:1080", via: "proxy.example:1080"},
	{name: "socks5 credentials, HTTPS answer", creds: []string{credURL("socks5", "proxy.example:1080")}, pac: "HTTPS proxy.example:1080", via: "proxy.example:1080"},
	{name: "socks4 user ID, SOCKS answer", creds: []string{credURL("socks4", "proxy.example:1080")}, pac: "SOCKS proxy.example:1080", lend: "proxy.example:1080", via: "proxy.example:1080"},
	{name: "socks4 user ID, SOCKS5 answer", creds: []string{credURL("socks4", "proxy.example:1080")}, pac: "SOCKS5 proxy.example:1080", via: "proxy.example:1080"},
	{name: "socks4 user ID, PROXY answer", creds: []string{credURL("socks4", "proxy.example:1080")}, pac: "PROXY proxy.example:1080", via: "proxy.example:1080"},

	// Fail-over carries no credentials from one entry to the next.
	{name: "refusing entry, then the configured proxy", creds: []string{credURL("http", proxyA)}, pac: "PROXY evil.example:1; PROXY proxy.example:3128", down: []string{"evil.example:1"}, lend: proxyA, via: proxyA},
	{name: "entry that hangs up, then the configured proxy", creds: []string{credURL("http", proxyA)}, pac: "PROXY evil.example:3128; PROXY proxy.example:3128", mode: map[string]string{evil: "hangup"}, lend: proxyA, via: proxyA},
	{name: "SOCKS5 entry that hangs up, then the configured proxy", creds: []string{credURL("http", proxyA)}, pac: "SOCKS5 evil.example:3128; PROXY proxy.example:3128", mode: map[string]string{evil: "hangup"}, lend: proxyA, via: proxyA},
	{name: "configured proxy down, then another", creds: []string{credURL("http", proxyA)}, pac: "PROXY proxy.example:3128; PROXY evil.example:3128", down: []string{proxyA}, via: evil, named: proxyA},
	{name: "configured proxy hangs up, then another", creds: []string{credURL("http", proxyA)}, pac: "PROXY proxy.example:3128; PROXY evil.example:3128", mode: map[string]string{proxyA: "hangup"}, lend: proxyA, via: evil},
	{name: "configured SOCKS5 proxy down, then another", creds: []string{credURL("socks5", "proxy.example:1080")}, pac: "SOCKS5 proxy.example:1080; SOCKS5 evil.example:1080", down: []string{"proxy.example:1080"}, via: "evil.example:1080", named: "proxy.example:1080"},
	{name: "configured proxy refuses: no next entry", creds: []string{credURL("http", proxyA)}, pac: "PROXY proxy.example:3128; PROXY evil.example:3128", mode: map[string]string{proxyA: "403"}, lend: proxyA, fwd: 403, never: []string{evil}},

	// A proxy that asks for credentials pacd has none for gets none,
	// and the attempt ends there.
	{name: "407, no credentials anywhere", pac: "PROXY evil.example:3128", mode: map[string]string{evil: "407"}, fwd: 407},
	{name: "407, credentials for another proxy", creds: []string{credURL("http", proxyA)}, pac: "PROXY evil.example:3128; PROXY proxy.example:3128", mode: map[string]string{evil: "407"}, fwd: 407, never: []string{proxyA}, named: proxyA},
	{name: "407 over TLS, credentials for another proxy", creds: []string{credURL("http", proxyA)}, pac: "HTTPS evil.example:3128; PROXY proxy.example:3128", mode: map[string]string{evil: "407"}, fwd: 407, never: []string{proxyA}, named: proxyA},
	{name: "SOCKS5 login wanted, credentials for another proxy", creds: []string{credURL("socks5", "proxy.example:1080")}, pac: "SOCKS5 evil.example:1080; SOCKS5 proxy.example:1080", mode: map[string]string{"evil.example:1080": "407"}, never: []string{"proxy.example:1080"}, named: "proxy.example:1080"},

	// The other sources lend their credentials the same way, and no
	// further.
	{name: "environment lends", env: &resolver.Env{HTTPSProxy: resolver.EnvVar{Name: "https_proxy", Value: credURL("http", proxyA)}}, pac: "PROXY proxy.example:3128", lend: proxyA, via: proxyA},
	{name: "environment, another host", env: &resolver.Env{HTTPSProxy: resolver.EnvVar{Name: "https_proxy", Value: credURL("http", proxyA)}}, pac: "PROXY evil.example:3128", via: evil},
	{name: "mount lends", mount: []resolver.Mount{{Pattern: "all://elsewhere.example", Proxy: credURL("http", proxyA)}}, pac: "PROXY proxy.example:3128", lend: proxyA, via: proxyA},
	{name: "mount, another host", mount: []resolver.Mount{{Pattern: "all://elsewhere.example", Proxy: credURL("http", proxyA)}}, pac: "PROXY evil.example:3128", via: evil},
}

// TestPACCredentials runs each case through a raw connection
// (DialContext: CONNECT and SOCKS handshakes) and a plain-http request
// through Transport (absolute form to HTTP proxies, tunnels otherwise),
// and checks where the credentials went.
func TestPACCredentials(t *testing.T) {
	for _, tc := range credCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := newCredNet(t, tc.down, tc.mode)
			r := mustNew(t, &resolver.Config{
				PAC:           credPAC(tc.pac),
				Credentials:   tc.creds,
				Env:           tc.env,
				Mounts:        tc.mount,
				ProxyLoopback: true,
				Dial:          n.dial,
				DialTimeout:   3 * time.Second,
				TLSConfig:     &tls.Config{InsecureSkipVerify: true},
			})

			// What the decision carries: credentials on the lent proxy
			// only.
			d, err := r.Resolve(context.Background(), mustURL(t, "http://"+credTarget+"/"))
			if err != nil {
				t.Fatal(err)
			}
			named := tc.lend
			if tc.named != "" {
				named = tc.named
			}
			for _, p := range d.Proxies {
				if p.HasCredentials() != (!p.IsDirect() && p.Addr() == named) {
					t.Errorf("decision %s: %s has credentials: %v", d, p, p.HasCredentials())
				}
			}

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := r.DialContext(ctx, "tcp", credTarget)
			switch {
			case tc.via == "" && err == nil:
				c.Close()
				t.Errorf("DialContext: connected, want an error")
			case tc.via != "" && err != nil:
				t.Errorf("DialContext: %v", err)
			case err == nil:
				if got := viaOf(t, c); got != tc.via {
					t.Errorf("DialContext went %s, want %s", got, tc.via)
				}
			}
			if tc.fwd == 407 && err != nil {
				var ae *resolver.ProxyAuthError
				if !errors.As(err, &ae) || ae.HadCreds {
					t.Errorf("DialContext: %v, want a ProxyAuthError without credentials", err)
				}
			}

			tr := r.TransportFrom(&http.Transport{DisableKeepAlives: true})
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+credTarget+"/", nil)
			resp, err := tr.RoundTrip(req)
			switch {
			case err != nil:
				if tc.via != "" || tc.fwd != 0 {
					t.Errorf("Transport: %v", err)
				}
			default:
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case tc.via != "" && (resp.StatusCode != 200 || string(b) != "via "+tc.via):
					t.Errorf("Transport: %s %q, want 200 via %s", resp.Status, b, tc.via)
				case tc.via == "" && resp.StatusCode != tc.fwd:
					t.Errorf("Transport: %s %q, want %d", resp.Status, b, tc.fwd)
				}
			}

			n.check(t, tc.lend)
			dialed := n.dials()
			for _, a := range tc.never {
				if slices.Contains(dialed, a) {
					t.Errorf("%s was dialed (%q)", a, dialed)
				}
			}
			if t.Failed() {
				t.Logf("PAC %q; dialed %q", tc.pac, dialed)
			}
		})
	}
}

// viaOf sends a request through a raw connection and returns who
// answered.
func viaOf(t *testing.T, c net.Conn) string {
	t.Helper()
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+credTarget+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer through the tunnel: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimPrefix(string(b), "via ")
}

// TestTransportDropsRequestProxyAuthorization: a request that carries a
// Proxy-Authorization header of its own (meant for some proxy, or copied
// from an incoming request) goes where the PAC answer says, so the
// header would go there too, or to the origin for DIRECT. Transport
// drops it; the proxy gets the credentials configured for it, or none.
func TestTransportDropsRequestProxyAuthorization(t *testing.T) {
	for _, tc := range []struct {
		name, pac, via, lend string
		creds                []string
	}{
		{"PAC picks another proxy", "PROXY evil.example:3128", evil, "", []string{credURL("http", proxyA)}},
		{"PAC picks another proxy over TLS", "HTTPS evil.example:3128", evil, "", nil},
		{"DIRECT", "DIRECT", credTarget, "", nil},
		{"tunnel through SOCKS5", "SOCKS5 evil.example:1080", "evil.example:1080", "", nil},
		{"the configured proxy", "PROXY proxy.example:3128", proxyA, proxyA, []string{credURL("http", proxyA)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newCredNet(t, nil, nil)
			r := mustNew(t, &resolver.Config{
				PAC:           credPAC(tc.pac),
				Credentials:   tc.creds,
				ProxyLoopback: true,
				Dial:          n.dial,
				TLSConfig:     &tls.Config{InsecureSkipVerify: true},
			})
			tr := r.TransportFrom(&http.Transport{DisableKeepAlives: true})
			defer tr.CloseIdleConnections()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+credTarget+"/", nil)
			req.Header.Set("Proxy-Authorization", credBasic)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "via "+tc.via {
				t.Errorf("went %q, want via %s", b, tc.via)
			}
			if req.Header.Get("Proxy-Authorization") != credBasic {
				t.Errorf("the caller's request was modified")
			}
			n.check(t, tc.lend)
			if tc.lend != "" {
				n.mu.Lock()
				_, auths, _ := n.stubs[tc.lend].Seen()
				n.mu.Unlock()
				if len(auths) != 1 {
					t.Errorf("%s was offered %q, want the configured credentials once", tc.lend, auths)
				}
			}
		})
	}
}
