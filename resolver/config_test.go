package resolver_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/pacd/pacd/resolver"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustNew(t testing.TB, cfg *resolver.Config) *resolver.Resolver {
	t.Helper()
	r, err := resolver.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// resolve returns the decision for rawURL as "URLs (source)".
func resolve(t testing.TB, r *resolver.Resolver, rawURL string) string {
	t.Helper()
	d, err := r.Resolve(context.Background(), mustURL(t, rawURL))
	if err != nil {
		return "error: " + err.Error()
	}
	return d.URLs() + " (" + d.Source.String() + ")"
}

func TestParseProxyURL(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{"http://proxy:8080", "http://proxy:8080", ""},
		{"proxy:3128", "http://proxy:3128", ""},
		{"HTTP://Proxy.Example.COM", "http://proxy.example.com:80", ""},
		{"https://secure.example", "https://secure.example:443", ""},
		{"socks5://127.0.0.1", "socks5://127.0.0.1:1080", ""},
		{"socks5h://user:pw@s:1081", "socks5h://user@s:1081", ""},
		{"socks4a://id@s", "socks4a://id@s:1080", ""},
		{"http://[2001:DB8::1]:8080", "http://[2001:db8::1]:8080", ""},
		{"http://bücher.example:1", "http://xn--bcher-kva.example:1", ""},
		{"http://u%40corp:p%3Aw@p:1/", "http://u%40corp@p:1", ""},
		{" http://p:1 ", "http://p:1", ""},

		{"", "", "empty"},
		{"ftp://p:21", "", `unknown scheme "ftp"`},
		{"http://", "", "missing host"},
		{"http://p:0", "", `invalid port "0"`},
		{"http://p:99999", "", "invalid port"},
		{"http://p:", "", "empty port"},
		{"http://p:1/path", "", "no path"},
		{"http://p:1?q", "", "no path, query"},
		{"socks4://id:pw@s", "", "user ID, not a password"},
		{"http://[fe80::1%25eth0]:1", "", "zone"},
		{"http://a b:1", "", "invalid"},
	}
	for _, tt := range tests {
		p, err := resolver.ParseProxyURL(tt.in)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseProxyURL(%q) = %v, %v; want error containing %q", tt.in, p, err, tt.wantErr)
			}
		case err != nil || p.String() != tt.want:
			t.Errorf("ParseProxyURL(%q) = %v, %v; want %s", tt.in, p, err, tt.want)
		}
	}
	p := resolver.MustParseProxyURL("http://u%40corp:p%3Aw@p:1")
	if p.Username != "u@corp" || p.Password != "p:w" {
		t.Errorf("credentials = %q, %q", p.Username, p.Password)
	}
	if got := p.URL().String(); got != "http://u%40corp:p%3Aw@p:1" {
		t.Errorf("URL() = %s", got)
	}
	// Passwords never show in errors.
	_, err := resolver.ParseProxyURL("ftp://alice:s3cret@p:21")
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "alice:xxxxx@") {
		t.Errorf("error = %v, want the password redacted", err)
	}
}

func TestBypassList(t *testing.T) {
	tests := []struct {
		list string
		host string
		port uint16
		want string // the matching entry, or "" for none
	}{
		// Domains: the name and everything below it, whatever the form.
		{"example.com", "example.com", 80, "example.com"},
		{"example.com", "www.example.com", 80, "example.com"},
		{"example.com", "notexample.com", 80, ""},
		{".example.com", "example.com", 80, ".example.com"}, // Go: no
		{".example.com", "a.b.example.com", 80, ".example.com"},
		{"*.example.com", "example.com", 80, "*.example.com"}, // curl and Python: no match at all
		{"*.example.com", "www.example.com", 80, "*.example.com"},
		{"EXAMPLE.com", "www.Example.COM", 80, "EXAMPLE.com"},
		{"example.com.", "example.com", 80, "example.com."},
		{"example.com", "example.com.", 80, "example.com"}, // Go: no
		{"bücher.example", "xn--bcher-kva.example", 80, "bücher.example"},
		{"xn--bcher-kva.example", "bücher.example", 80, "xn--bcher-kva.example"},
		// Globs elsewhere, across dots.
		{"*example.com", "notexample.com", 80, "*example.com"},
		{"build-*.corp", "build-7.corp", 80, "build-*.corp"},
		{"build-*.corp", "build.corp", 80, ""},
		{"host?.corp", "host1.corp", 80, "host?.corp"},
		// Ports: the effective port.
		{"example.com:8080", "example.com", 8080, "example.com:8080"},
		{"example.com:8080", "example.com", 80, ""},
		{"example.com:80", "example.com", 80, "example.com:80"},
		{"[2001:db8::1]:443", "2001:db8::1", 443, "[2001:db8::1]:443"},
		{"10.0.0.1:22", "10.0.0.1", 80, ""},
		// Addresses and blocks.
		{"192.168.1.1", "192.168.1.1", 80, "192.168.1.1"},
		{"192.168.1.1", "192.168.1.10", 80, ""},
		{"10.0.0.0/8", "10.20.30.40", 80, "10.0.0.0/8"},
		{"10.0.0.0/8", "11.0.0.1", 80, ""},
		{"0.0.0.0/0", "8.8.8.8", 80, "0.0.0.0/0"},
		{"192.168.1.1/16", "192.168.200.1", 80, "192.168.1.1/16"},
		{"2001:db8::1", "2001:DB8:0:0::1", 80, "2001:db8::1"},
		{"[2001:db8::1]", "2001:db8::1", 80, "[2001:db8::1]"},
		{"2001:db8::/32", "2001:db8:1::5", 80, "2001:db8::/32"},
		{"[2001:db8::]/32", "2001:db8:1::5", 80, "[2001:db8::]/32"},
		{"10.1.2.3", "::ffff:10.1.2.3", 80, "10.1.2.3"},
		{"::ffff:10.0.0.0/104", "10.9.9.9", 80, "::ffff:10.0.0.0/104"},
		{"10.0.0.0/8", "ten.example.com", 80, ""}, // no DNS
		{"example.com", "93.184.216.34", 80, ""},
		{".1.1", "192.168.1.1", 80, ""}, // urllib, requests: yes
		// Lists.
		{"a.example, b.example", "b.example", 80, "b.example"},
		{"a.example b.example", "b.example", 80, "b.example"}, // Go: one broken entry
		{"a.example;b.example", "b.example", 80, "b.example"},
		{"a.example, *", "anything.example", 80, "*"}, // curl, Python: no
		{" * ", "anything.example", 80, "*"},
		{"<local>", "intranet", 80, "<local>"},
		{"<local>", "intranet.corp", 80, ""},
		{"<local>", "1234", 80, ""}, // an address
		{"", "example.com", 80, ""},
	}
	for _, tt := range tests {
		b, err := resolver.ParseBypassList(tt.list)
		if err != nil {
			t.Errorf("ParseBypassList(%q): %v", tt.list, err)
			continue
		}
		got, ok := b.Match(tt.host, tt.port)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("ParseBypassList(%q).Match(%q, %d) = %q, %v; want %q", tt.list, tt.host, tt.port, got, ok, tt.want)
		}
	}
}

func TestBypassListErrors(t *testing.T) {
	tests := []struct{ list, want string }{
		{"http://example.com", `bad bypass entry "http://example.com": a scheme is not allowed`},
		{"10.0.0.0/33", "invalid CIDR block"},
		{"example.com:http", `invalid port "http"`},
		{"[::1", "missing ']'"},
		{"a..b", "invalid host"},
		{"ok.example, :1, 1.2.3.0/40", `bad bypass entry ":1": empty host; bad bypass entry "1.2.3.0/40"`},
	}
	for _, tt := range tests {
		_, err := resolver.ParseBypassList(tt.list)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseBypassList(%q) error = %v, want %q", tt.list, err, tt.want)
		}
	}
}

func TestReadEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // http, https, all, no: the variables chosen
	}{
		{"lower case first", map[string]string{"http_proxy": "a", "HTTP_PROXY": "b"}, "http_proxy=a"},
		{"upper case when lower is unset", map[string]string{"HTTPS_PROXY": "b"}, "HTTPS_PROXY=b"},
		{"upper case when lower is empty", map[string]string{"https_proxy": "", "HTTPS_PROXY": "b"}, "HTTPS_PROXY=b"},
		{"all and no proxy", map[string]string{"ALL_PROXY": "c", "no_proxy": "x", "NO_PROXY": "y"}, "ALL_PROXY=c no_proxy=x"},
		{"CGI ignores HTTP_PROXY", map[string]string{"REQUEST_METHOD": "GET", "HTTP_PROXY": "evil"}, "cgi"},
		{"CGI keeps http_proxy", map[string]string{"REQUEST_METHOD": "GET", "HTTP_PROXY": "evil", "http_proxy": "good"}, "http_proxy=good"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := resolver.ReadEnv(func(k string) string { return tt.env[k] })
			var got []string
			for _, v := range []resolver.EnvVar{e.HTTPProxy, e.HTTPSProxy, e.AllProxy, e.NoProxy} {
				if v.IsSet() {
					got = append(got, v.Name+"="+v.Value)
				}
			}
			if e.IgnoredHTTPProxy {
				got = append(got, "cgi")
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("ReadEnv = %q, want %q", s, tt.want)
			}
		})
	}
}

func TestFromEnvironment(t *testing.T) {
	for _, k := range []string{"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
	t.Setenv("HTTPS_PROXY", "http://up.example:3128")
	t.Setenv("ALL_PROXY", "socks5h://s.example:1080")
	t.Setenv("no_proxy", ".corp.example")
	r := mustNew(t, &resolver.Config{Env: resolver.FromEnvironment()})
	tests := []struct{ url, want string }{
		{"https://www.example.org/", "http://up.example:3128 (env)"},
		{"http://www.example.org/", "socks5h://s.example:1080 (env)"}, // no HTTP_PROXY: ALL_PROXY
		{"ftp://files.example.org/", "socks5h://s.example:1080 (env)"},
		{"https://wiki.corp.example/", "DIRECT (bypass)"},
		{"https://corp.example/", "DIRECT (bypass)"},
	}
	for _, tt := range tests {
		if got := resolve(t, r, tt.url); got != tt.want {
			t.Errorf("Resolve(%s) = %s, want %s", tt.url, got, tt.want)
		}
	}
}

func TestEnvLeniency(t *testing.T) {
	env := map[string]string{
		"REQUEST_METHOD": "POST",
		"HTTP_PROXY":     "http://evil.example:80",
		"https_proxy":    "ftp://wrong.example",
		"all_proxy":      "socks5://ok.example",
		"no_proxy":       "good.example, http://bad.example, 10.0.0.0/99",
	}
	r := mustNew(t, &resolver.Config{Env: resolver.ReadEnv(func(k string) string { return env[k] })})
	w := strings.Join(r.Warnings(), "\n")
	for _, want := range []string{"HTTP_PROXY ignored: REQUEST_METHOD is set", `https_proxy ignored: resolver: invalid proxy "ftp://wrong.example"`, `no_proxy: bad bypass entry "http://bad.example"`, `"10.0.0.0/99"`} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings %q lack %q", w, want)
		}
	}
	for url, want := range map[string]string{
		"http://x.example/":    "socks5://ok.example:1080 (env)",
		"https://x.example/":   "socks5://ok.example:1080 (env)",
		"https://good.example": "DIRECT (bypass)",
	} {
		if got := resolve(t, r, url); got != want {
			t.Errorf("Resolve(%s) = %s, want %s", url, got, want)
		}
	}
}

func TestMountPriority(t *testing.T) {
	const p = "http://proxy.example:"
	tests := []struct {
		url    string
		mounts []resolver.Mount
		want   string // the port of the proxy chosen, or DIRECT
	}{
		{"http://example.com", nil, "DIRECT"},
		{"http://example.com", []resolver.Mount{{"https://", p + "1"}}, "DIRECT"},
		{"http://example.com", []resolver.Mount{{"http://example.net", p + "1"}}, "DIRECT"},
		{"http://example.com", []resolver.Mount{{"http://*", p + "1"}}, "1"},
		{"https://example.com", []resolver.Mount{{"http://*", p + "1"}}, "DIRECT"},
		{"http://example.com", []resolver.Mount{{"http://example.com", p + "1"}}, "1"},
		{"http://www.example.com", []resolver.Mount{{"http://example.com", p + "1"}}, "DIRECT"},
		{"http://example.com", []resolver.Mount{{"http://*.example.com", p + "1"}}, "DIRECT"},
		{"http://www.example.com", []resolver.Mount{{"http://*.example.com", p + "1"}}, "1"},
		{"http://example.com", []resolver.Mount{{"http://*example.com", p + "1"}}, "1"},
		{"http://www.example.com", []resolver.Mount{{"http://*example.com", p + "1"}}, "1"},
		{"http://wwwexample.com", []resolver.Mount{{"http://*example.com", p + "1"}}, "DIRECT"},
		{"http://example.com:8080", []resolver.Mount{{"http://example.com", p + "1"}}, "1"},
		{"http://example.com", []resolver.Mount{{"http://example.com:8080", p + "1"}}, "DIRECT"},
		{"http://example.com", []resolver.Mount{{"http://example.com:80", p + "1"}}, "1"}, // the default port is no port
		{"http://example.com", []resolver.Mount{{"all://", p + "1"}}, "1"},
		{"ftp://example.com", []resolver.Mount{{"all://", p + "1"}}, "1"},
		// Priority: port, then longer host, then longer scheme, then order.
		{"http://example.com:1234", []resolver.Mount{
			{"all://", p + "1"}, {"http://", p + "2"}, {"all://example.com", p + "3"},
			{"http://example.com", p + "4"}, {"http://example.com:1234", p + "5"},
		}, "5"},
		{"http://example.com", []resolver.Mount{
			{"all://", p + "1"}, {"http://", p + "2"}, {"all://example.com", p + "3"}, {"http://example.com", p + "4"},
		}, "4"},
		{"http://example.com", []resolver.Mount{{"all://", p + "1"}, {"http://", p + "2"}, {"all://example.com", p + "3"}}, "3"},
		{"http://example.com", []resolver.Mount{{"all://", p + "1"}, {"http://", p + "2"}}, "2"},
		{"http://www.example.com", []resolver.Mount{{"all://*example.com", p + "1"}, {"all://*.example.com", p + "2"}}, "2"}, // the longer host string
		{"http://www.example.com", []resolver.Mount{{"all://*.example.com", p + "1"}, {"all://www.example.com", p + "2"}}, "2"},
		{"http://www.example.com", []resolver.Mount{{"all://www.example.com", p + "1"}, {"http://*.example.com", p + "2"}}, "1"}, // host before scheme
		{"http://example.com", []resolver.Mount{{"all://", p + "1"}, {"all://", p + "2"}}, "1"},                                  // declaration order
		{"http://example.com", []resolver.Mount{{"all://example.com:9", p + "1"}, {"all://example.com", p + "2"}}, "2"},
		{"http://example.com", []resolver.Mount{{"all://", p + "1"}, {"all://example.com", "none"}}, "DIRECT"},
		{"http://[::1]/", []resolver.Mount{{"all://[::1]", p + "1"}}, "1"},
	}
	for _, tt := range tests {
		r := mustNew(t, &resolver.Config{Mounts: tt.mounts, ProxyLoopback: true})
		d, err := r.Resolve(context.Background(), mustURL(t, tt.url))
		if err != nil {
			t.Fatal(err)
		}
		got := "DIRECT"
		if !d.Proxies[0].IsDirect() {
			got = d.Proxies[0].Addr()[len("proxy.example:"):]
		}
		if got != tt.want {
			t.Errorf("mounts %v: Resolve(%s) = %s (%s), want %s", tt.mounts, tt.url, got, d.Explain(), tt.want)
		}
	}
}

func TestMountErrors(t *testing.T) {
	tests := []struct {
		m    resolver.Mount
		want string
	}{
		{resolver.Mount{"http", "http://p:1"}, `write the pattern as a URL: "http://", not "http"`},
		{resolver.Mount{"all", "http://p:1"}, `"all://"`},
		{resolver.Mount{"://x", "http://p:1"}, "missing scheme"},
		{resolver.Mount{"http://x:port", "http://p:1"}, `invalid port "port"`},
		{resolver.Mount{"http://a*b", "http://p:1"}, "'*' only leads"},
		{resolver.Mount{"http://x", "gopher://p:1"}, `unknown scheme "gopher"`},
	}
	for _, tt := range tests {
		_, err := resolver.New(&resolver.Config{Mounts: []resolver.Mount{tt.m}})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.m.Pattern) {
			t.Errorf("mount %v: error %v, want one naming the pattern and containing %q", tt.m, err, tt.want)
		}
	}
}

func TestProxiesDict(t *testing.T) {
	dict := map[string]string{
		"http://special.example": "http://p1:1",
		"http":                   "http://p2:2",
		"all://other.example":    "http://p3:3",
		"all":                    "http://p4:4",
		"https://direct.example": "none",
	}
	r := mustNew(t, &resolver.Config{Proxies: dict})
	tests := []struct{ url, want string }{
		{"http://special.example/", "http://p1:1 (proxies)"},
		{"http://special.example:8080/", "http://p1:1 (proxies)"}, // the key has no port, the URL's is ignored
		{"http://other.example/", "http://p2:2 (proxies)"},        // "http" before "all://host"
		{"https://other.example/", "http://p3:3 (proxies)"},
		{"https://x.example/", "http://p4:4 (proxies)"},
		{"https://direct.example/", "DIRECT (proxies)"},
		{"http://SPECIAL.example/", "http://p1:1 (proxies)"}, // the URL's host is lower-cased
	}
	for _, tt := range tests {
		if got := resolve(t, r, tt.url); got != tt.want {
			t.Errorf("Resolve(%s) = %s, want %s", tt.url, got, tt.want)
		}
	}
	if _, err := resolver.New(&resolver.Config{Proxies: map[string]string{"no_proxy": "x", "https": "bogus://"}}); err == nil ||
		!strings.Contains(err.Error(), `"no_proxy"`) || !strings.Contains(err.Error(), `proxies key "https"`) {
		t.Errorf("bad dict: error = %v", err)
	}
}

type fixedPAC struct {
	answer string
	err    error
	seen   *[]string
}

func (f fixedPAC) Eval(ctx context.Context, url, host string) (string, error) {
	if f.seen != nil {
		*f.seen = append(*f.seen, url+" "+host)
	}
	return f.answer, f.err
}

// TestPrecedence walks the documented order of sources, from the
// strongest down.
func TestPrecedence(t *testing.T) {
	env := map[string]string{"https_proxy": "http://env.example:1", "no_proxy": "bypassed.example"}
	cfg := &resolver.Config{
		Env: resolver.ReadEnv(func(k string) string { return env[k] }),
		PAC: fixedPAC{answer: "PROXY pac.example:2; DIRECT"},
		Mounts: []resolver.Mount{
			{"all://*.mounted.example", "http://mount.example:3"},
			{"all://bypassed.example", "http://mount.example:4"}, // names the host: beats the bypass list
			{"ftp://", "http://mount.example:5"},                 // general: the bypass list beats it
		},
		Proxies: map[string]string{"all://dict.example": "http://dict.example:6", "ws": "http://dict.example:7"},
		Bypass:  "ftp.bypassed.example",
	}
	r := mustNew(t, cfg)
	tests := []struct{ url, want string }{
		{"https://localhost/", "DIRECT (implicit)"},
		{"https://a.mounted.example/", "http://mount.example:3 (mount)"},
		{"https://bypassed.example/", "http://mount.example:4 (mount)"},
		{"https://dict.example/", "http://dict.example:6 (proxies)"},
		{"ftp://ftp.bypassed.example/", "DIRECT (bypass)"},
		{"ftp://files.example/", "http://mount.example:5 (mount)"},
		{"ws://chat.example/", "http://dict.example:7 (proxies)"},
		{"https://www.example.org/", "http://pac.example:2 DIRECT (pac)"},
	}
	for _, tt := range tests {
		if got := resolve(t, r, tt.url); got != tt.want {
			t.Errorf("Resolve(%s) = %s, want %s", tt.url, got, tt.want)
		}
	}
	// Without PAC the environment answers; one proxy for everything
	// comes before both.
	cfg.PAC = nil
	r = mustNew(t, cfg)
	if got := resolve(t, r, "https://www.example.org/"); got != "http://env.example:1 (env)" {
		t.Errorf("without PAC: %s", got)
	}
	if got := resolve(t, r, "http://www.example.org/"); got != "DIRECT (default)" {
		t.Errorf("nothing applies: %s", got)
	}
	cfg.Proxy = "socks5h://one.example"
	r = mustNew(t, cfg)
	if got := resolve(t, r, "https://www.example.org/"); got != "socks5h://one.example:1080 (proxy)" {
		t.Errorf("one proxy: %s", got)
	}
	if got := resolve(t, r, "https://bypassed.example/"); got != "http://mount.example:4 (mount)" {
		t.Errorf("host mount over the one proxy: %s", got)
	}
}

func TestImplicitRule(t *testing.T) {
	r := mustNew(t, &resolver.Config{Proxy: "http://p.example:1"})
	tests := []struct{ url, want string }{
		{"http://localhost/", "DIRECT (implicit)"},
		{"http://LOCALHOST./", "DIRECT (implicit)"}, // Go proxies these two
		{"http://app.localhost:3000/", "DIRECT (implicit)"},
		{"http://127.0.0.1/", "DIRECT (implicit)"},
		{"http://127.9.9.9/", "DIRECT (implicit)"},
		{"http://[::1]:8080/", "DIRECT (implicit)"},
		{"http://[::ffff:127.0.0.1]/", "DIRECT (implicit)"},
		{"http://169.254.169.254/latest/meta-data/", "DIRECT (implicit)"},
		{"http://[fe80::1]/", "DIRECT (implicit)"},
		{"http://0.0.0.0/", "http://p.example:1 (proxy)"},
		{"http://localhost.example.com/", "http://p.example:1 (proxy)"},
		{"http://128.0.0.1/", "http://p.example:1 (proxy)"},
	}
	for _, tt := range tests {
		if got := resolve(t, r, tt.url); got != tt.want {
			t.Errorf("Resolve(%s) = %s, want %s", tt.url, got, tt.want)
		}
	}
	for _, cfg := range []*resolver.Config{
		{Proxy: "http://p.example:1", ProxyLoopback: true},
		{Proxy: "http://p.example:1", Bypass: "<-loopback>"},
	} {
		r := mustNew(t, cfg)
		if got := resolve(t, r, "http://localhost/"); got != "http://p.example:1 (proxy)" {
			t.Errorf("with the implicit rule lifted: %s", got)
		}
	}
}

func TestPACAnswers(t *testing.T) {
	var seen []string
	env := map[string]string{"http_proxy": "http://alice:pw@named.example:8080"}
	r := mustNew(t, &resolver.Config{
		Env:         resolver.ReadEnv(func(k string) string { return env[k] }),
		PAC:         fixedPAC{answer: "PROXY named.example:8080; PROXY other.example:8080; SOCKS5 s.example; SOCKS s4.example:1081; HTTPS h.example; JUNK; DIRECT", seen: &seen},
		Credentials: []string{"socks5://bob:pw2@s.example:1080"},
	})
	d, err := r.Resolve(context.Background(), mustURL(t, "https://user:pw@www.example.org:8443/secret?q"))
	if err != nil {
		t.Fatal(err)
	}
	want := "http://alice@named.example:8080 http://other.example:8080 socks5h://bob@s.example:1080 socks4://s4.example:1081 https://h.example:443 DIRECT"
	if got := d.URLs(); got != want {
		t.Errorf("URLs = %s\nwant   %s", got, want)
	}
	if d.Proxies[1].HasCredentials() || d.Proxies[4].HasCredentials() {
		t.Errorf("credentials went to a proxy the user did not name: %+v", d.Proxies)
	}
	if got := d.String(); got != "PROXY named.example:8080; PROXY other.example:8080; SOCKS5 s.example:1080; SOCKS4 s4.example:1081; HTTPS h.example:443; DIRECT" {
		t.Errorf("String = %s", got)
	}
	if len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], `dropped "JUNK"`) {
		t.Errorf("Warnings = %q", d.Warnings)
	}
	if !strings.HasPrefix(d.Explain(), `PAC returned "PROXY named.example:8080;`) {
		t.Errorf("Explain = %s", d.Explain())
	}
	// The URL reaches the evaluator whole (the engine strips it); the
	// host is lower case without brackets or port.
	if len(seen) != 1 || seen[0] != "https://user:pw@www.example.org:8443/secret?q www.example.org" {
		t.Errorf("PAC saw %q", seen)
	}
}

func TestPACErrorPolicy(t *testing.T) {
	failing := fixedPAC{err: context.DeadlineExceeded}
	r := mustNew(t, &resolver.Config{PAC: failing})
	d, err := r.Resolve(context.Background(), mustURL(t, "http://x.example/"))
	if err != nil || d.URLs() != "DIRECT" || len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], "PAC evaluation failed") {
		t.Errorf("direct policy: %v, %v, %q", d, err, d.Warnings)
	}
	r = mustNew(t, &resolver.Config{PAC: failing, OnPACError: "fail"})
	if _, err := r.Resolve(context.Background(), mustURL(t, "http://x.example/")); err == nil {
		t.Error("fail policy: no error")
	}
	if _, err := resolver.New(&resolver.Config{OnPACError: "maybe"}); err == nil {
		t.Error("bad policy accepted")
	}
}

func TestQueries(t *testing.T) {
	var seen []string
	r := mustNew(t, &resolver.Config{PAC: fixedPAC{answer: "SOCKS5 s.example; DIRECT", seen: &seen}})
	ctx := context.Background()
	for _, q := range []resolver.Query{
		{Kind: resolver.TCPStream, Host: "mail.example", Port: 993},
		{Kind: resolver.TCPStream, Host: "www.example", Port: 443},
		{Kind: resolver.TCPStream, Host: "www.example", Port: 80},
		{Kind: resolver.TCPStream, Host: "[2001:db8::1]", Port: 22},
	} {
		if d, err := r.ResolveQuery(ctx, q); err != nil || d.String() != "SOCKS5 s.example:1080; DIRECT" {
			t.Errorf("ResolveQuery(%+v) = %v, %v", q, d, err)
		}
	}
	want := "https://mail.example:993/ mail.example|https://www.example/ www.example|http://www.example/ www.example|https://[2001:db8::1]:22/ 2001:db8::1"
	if got := strings.Join(seen, "|"); got != want {
		t.Errorf("PAC saw %s\nwant     %s", got, want)
	}
	d, err := r.ResolveQuery(ctx, resolver.Query{Kind: resolver.UDPSocket, Host: "dns.example", Port: 53})
	if err != nil || d.URLs() != "DIRECT" || len(d.Warnings) != 1 {
		t.Errorf("UDP: %v, %v, %q", d, err, d.Warnings)
	}
	// Overrides, in the query and in the context.
	p := resolver.MustParseProxyURL("http://override.example:1")
	d, _ = r.ResolveQuery(ctx, resolver.Query{Kind: resolver.URLRequest, URL: mustURL(t, "http://x/"), Override: []resolver.Proxy{p}})
	if d.URLs() != "http://override.example:1" || d.Source != resolver.FromOverride {
		t.Errorf("override: %v", d)
	}
	d, _ = r.Resolve(resolver.WithOverride(ctx), mustURL(t, "http://x/"))
	if d.URLs() != "DIRECT" || d.Source != resolver.FromOverride {
		t.Errorf("no-proxy override: %v", d)
	}
	if _, err := r.ResolveQuery(ctx, resolver.Query{Kind: resolver.TCPStream}); err == nil {
		t.Error("query without a host accepted")
	}
}
