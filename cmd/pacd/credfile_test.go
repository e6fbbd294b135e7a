package main

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pacd/pacd/resolver"
)

// Tests of --credentials-file: its grammar, its refusals, and that its
// credentials reach the proxy they name and no other. Every listener is
// on loopback.

const credSecret = "pw-7c1e9a" // a password no output may contain

type credCase struct {
	name, src string
	want      []resolver.Proxy // on success
	err       string           // a substring of the error, which starts with the file and line
}

func (c credCase) String() string { return c.name }

func TestParseCredentials(t *testing.T) {
	p := func(typ resolver.Type, host string, port uint16, user, pass string) resolver.Proxy {
		return resolver.Proxy{Type: typ, Host: host, Port: port, Username: user, Password: pass}
	}
	for _, c := range []credCase{
		{name: "one line", src: "machine proxy.corp:8080 login alice password " + credSecret + "\n",
			want: []resolver.Proxy{p(resolver.HTTP, "proxy.corp", 8080, "alice", credSecret)}},
		{name: "spread over lines, comments, quoting", src: `# upstreams
machine https://TLS.corp:8443
	login "al ice"   # a comment after a word
	password "p\"w #\\x"
machine socks5://127.0.0.1 login bob password pw
machine socks4://gw.corp:1080 login carol
`, want: []resolver.Proxy{
			p(resolver.HTTPS, "tls.corp", 8443, "al ice", `p"w #\x`),
			p(resolver.SOCKS5, "127.0.0.1", 1080, "bob", "pw"),
			p(resolver.SOCKS4, "gw.corp", 1080, "carol", ""),
		}},
		{name: "a password with URL characters", src: "machine [::1]:3128 login a@b password p:/@?#%25\n",
			want: []resolver.Proxy{p(resolver.HTTP, "::1", 3128, "a@b", "p:/@?#%25")}},
		{name: "empty", src: "# nothing\n\n", want: nil},

		{name: "default refused", src: "machine p:1 login a password b\ndefault login x password " + credSecret + "\n", err: "f:2:1: a default entry is refused"},
		{name: "port keyword", src: "machine p login a password b port 8080\n", err: "f:1:30: port is not a keyword"},
		{name: "macdef", src: "macdef init\n", err: "f:1:1: macdef is not supported"},
		{name: "missing password keyword", src: "machine p:1 login a\n  " + credSecret + "\n", err: "f:2:3: unexpected word"},
		{name: "login before machine", src: "login a password " + credSecret + "\n", err: "f:1:1: login before any machine"},
		{name: "no login", src: "machine p:1\nmachine q:1 login a\n", err: "f:1: machine p:1 has no login"},
		{name: "no value", src: "machine p:1 login", err: "f:1:13: login needs a value"},
		{name: "second password", src: "machine p:1 login a password x\npassword " + credSecret + "\n", err: "f:2:1: a second password for the machine of line 1"},
		{name: "unterminated quote", src: "machine p:1 login a\npassword \"" + credSecret + "\n", err: "f:2:10: a quoted word does not end"},
		{name: "user information in the machine", src: "machine http://a:" + credSecret + "@p:1 login a password b\n", err: "f:1: machine: user information belongs in login"},
		{name: "same address twice", src: "machine PROXY.corp:8080 login a password b\nmachine socks5://proxy.corp:8080 login c password d\n", err: "f:2: machine socks5://proxy.corp:8080: proxy.corp:8080 already has credentials, at line 1"},
		{name: "unknown scheme", src: "machine ftp://p:1 login a password " + credSecret + "\n", err: "f:1: machine ftp://p:1:"},
		{name: "socks4 password", src: "machine socks4://p:1 login a password " + credSecret + "\n", err: "f:1: machine socks4://p:1:"},
		{name: "a path", src: "machine http://p:1/x login a password " + credSecret + "\n", err: "f:1: machine http://p:1/x:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseCredentials("f", c.src)
			if c.err != "" {
				if err == nil {
					t.Fatalf("no error, want %q", c.err)
				}
				if !strings.Contains(err.Error(), c.err) {
					t.Errorf("error %q, want %q", err, c.err)
				}
				if strings.Contains(err.Error(), credSecret) {
					t.Errorf("the error shows the password: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %d entries, want %d: %v", len(got), len(c.want), got)
			}
			for i, g := range got {
				if g.proxy != c.want[i] {
					t.Errorf("entry %d: got %+v, want %+v", i, g.proxy, c.want[i])
				}
				// The URL handed to the resolver parses to the same proxy.
				if back, err := resolver.ParseProxyURL(g.url); err != nil || back != g.proxy {
					t.Errorf("entry %d: %s parses to %+v, %v", i, resolver.Proxy.String(g.proxy), back, err)
				}
			}
		})
	}
}

// writeSecret writes a file of secrets with mode 0600.
func writeSecret(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return path
}

// TestCredentialsFileMode: a credentials file that group or others may
// read is refused, naming the file; the same file with mode 0600 is used.
func TestCredentialsFileMode(t *testing.T) {
	path := writeSecret(t, filepath.Join(t.TempDir(), "creds"), "machine p.example:8080 login a password "+credSecret+"\n")
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runPacd(t, "", "resolve", "--no-env", "--credentials-file", path, "http://x.example/")
	if code != 2 || !strings.Contains(stderr, path+": group or others may access") || !strings.Contains(stderr, "chmod 600") {
		t.Errorf("mode 0640: exit %d, stderr %q; want 2 and a refusal naming the file", code, stderr)
	}
	os.Chmod(path, 0o600)
	code, stdout, stderr := runPacd(t, "", "resolve", "--no-env", "--json", "--credentials-file", path, "--pac", writeFile(t, t.TempDir(), "p.pac", pacReturning(`return "PROXY p.example:8080";`)), "http://x.example/")
	if code != 0 {
		t.Fatalf("mode 0600: exit %d, stderr %q", code, stderr)
	}
	// The PAC answer got the file's credentials, and --json shows the
	// user but not the password.
	if !strings.Contains(stdout, "http://a@p.example:8080") || strings.Contains(stdout+stderr, credSecret) {
		t.Errorf("resolve --json: %q, %q; want the user and not the password", stdout, stderr)
	}

	// The same address from --credentials and from the file is an error.
	code, _, stderr = runPacd(t, "", "resolve", "--no-env", "--credentials", "http://b:x@P.example:8080", "--credentials-file", path, "http://x.example/")
	if code != 2 || !strings.Contains(stderr, path+":1: p.example:8080 also has credentials from --credentials") {
		t.Errorf("both: exit %d, stderr %q", code, stderr)
	}
}

// recordingProxy is an HTTP proxy stub on loopback that answers every
// request itself, "via NAME", and records the Proxy-Authorization each
// request carried.
type recordingProxy struct {
	name, addr string
	mu         sync.Mutex
	auths      []string
}

func startRecordingProxy(t *testing.T, name string) *recordingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rp := &recordingProxy{name: name, addr: ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		rp.auths = append(rp.auths, r.Header.Get("Proxy-Authorization"))
		rp.mu.Unlock()
		fmt.Fprintf(w, "via %s", name)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return rp
}

// take returns the recorded Proxy-Authorization headers and forgets them.
func (rp *recordingProxy) take() []string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	a := rp.auths
	rp.auths = nil
	return a
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestServeCredentialsFile: pacd serve lends the file's credentials to
// the PAC answer that names their proxy, and to no other proxy; the
// password is in neither the log (at debug level) nor /status.
func TestServeCredentialsFile(t *testing.T) {
	a, b := startRecordingProxy(t, "a"), startRecordingProxy(t, "b")
	dir := t.TempDir()
	creds := writeSecret(t, filepath.Join(dir, "creds"), "# only a\nmachine "+a.addr+" login alice password "+credSecret+"\n")
	pacPath := writeFile(t, dir, "proxy.pac", pacReturning(`if (host == "a.test") return "PROXY `+a.addr+`"; return "PROXY `+b.addr+`";`))
	p := startServe(t, "--pac", pacPath, "--credentials-file", creds)
	c := proxyClient(t, p.proxyURL(), nil)

	for _, step := range []struct {
		url  string
		via  *recordingProxy
		auth string
	}{
		{"http://a.test/", a, basicAuth("alice", credSecret)},
		{"http://b.test/", b, ""},
	} {
		resp, body := fetch(t, c, step.url)
		if resp.StatusCode != http.StatusOK || body != "via "+step.via.name {
			t.Fatalf("GET %s: %s %q, want via %s", step.url, resp.Status, body, step.via.name)
		}
		if got := step.via.take(); len(got) != 1 || got[0] != step.auth {
			t.Errorf("GET %s: %s was offered %q, want [%q]", step.url, step.via.name, got, step.auth)
		}
	}
	if got := a.take(); len(got) != 0 {
		t.Errorf("a was offered more: %q", got)
	}
	if st := statusOf(t, p.http, "http://a.test/"); st.Query == nil || !strings.Contains(st.Query.Decision, a.addr) {
		t.Errorf("/status for a.test: %+v", st.Query)
	}
	_, status := page(t, p.http, "/status?url="+"http://a.test/")
	if strings.Contains(status, credSecret) || strings.Contains(p.log.String(), credSecret) {
		t.Errorf("the password shows in /status or the log:\n%s\n%s", status, p.log)
	}
}
