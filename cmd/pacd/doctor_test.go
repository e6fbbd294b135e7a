package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// doctorEnv unsets every proxy variable for the test, then sets env
// ("KEY=value"; a value may be empty, which is not the same as unset).
func doctorEnv(t *testing.T, env ...string) {
	t.Helper()
	names := []string{"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY", "REQUEST_METHOD", "SOCKS_SERVER"}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); isProxyVar(name) {
			names = append(names, name)
		}
	}
	for _, n := range names {
		t.Setenv(n, "")
		os.Unsetenv(n)
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

const doctorProxy = "http://127.0.0.1:3128"

func TestDoctor(t *testing.T) {
	dir := t.TempDir()
	pacFile := writeFile(t, dir, "proxy.pac", `function FindProxyForURL(url, host) { return "PROXY 127.0.0.1:9"; }`)
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want []string // in stdout, in order
		not  []string // never in stdout
	}{
		{"all agree", []string{"http_proxy=" + doctorProxy, "https_proxy=" + doctorProxy, "NO_PROXY=example.org"}, []string{"doctor", "https://www.example.com/"}, 0,
			[]string{"  https://www.example.com/", "Every client agrees on 1 URL."}, []string{"!", "\x1b["}},
		{"leading dot and the apex", []string{"http_proxy=" + doctorProxy, "NO_PROXY=.example.com"}, []string{"doctor", "http://example.com/"}, 1,
			[]string{"! http://example.com/", "go, go-std: Go's .example.com matches only the names below example.com", "[go/dot-excludes-apex]", "[node/dot-excludes-apex]",
				"NO_PROXY=example.com,.example.com", "(write .example.com and example.com)", "every client agrees on all 1 URL"}, []string{"\x1b["}},
		{"upper-case HTTP_PROXY and curl", []string{"HTTP_PROXY=" + doctorProxy}, []string{"doctor", "http://www.example.com/"}, 1,
			[]string{"curl: curl never reads the upper-case HTTP_PROXY", "http_proxy=" + doctorProxy, "(set lower-case http_proxy too)"}, nil},
		{"a port in NO_PROXY and curl", []string{"http_proxy=" + doctorProxy, "NO_PROXY=example.com:8080"}, []string{"doctor", "http://example.com:8080/"}, 1,
			[]string{"[curl/no-proxy-port]", "NO_PROXY=example.com", "(drop the port from NO_PROXY entry example.com:8080)"}, nil},
		{"* among other entries", []string{"http_proxy=" + doctorProxy, "NO_PROXY=example.org,*"}, []string{"doctor", "http://www.example.com/"}, 1,
			[]string{"[curl/star-alone]", "[urllib/star-alone]", "NO_PROXY=*", "(use * alone)"}, nil},
		{"upper case first in net/http", []string{"http_proxy=" + doctorProxy, "HTTP_PROXY=http://127.0.0.1:3129"}, []string{"doctor", "http://www.example.com/"}, 1,
			[]string{"B = http://127.0.0.1:3129", "go-std: Go's net/http reads HTTP_PROXY before http_proxy", "HTTP_PROXY=" + doctorProxy, "(make HTTP_PROXY the same as http_proxy)"}, nil},
		{"an empty lower-case variable in Python", []string{"http_proxy=", "HTTP_PROXY=" + doctorProxy}, []string{"doctor", "http://www.example.com/"}, 1,
			[]string{"[curl/no-upper-http-proxy]", "python, requests, httpx: Python's urllib", "[urllib/empty-hides-upper]", "(set lower-case http_proxy too)"}, nil},
		{"HTTPX refuses a bracketed IPv6 entry", []string{"http_proxy=" + doctorProxy, "NO_PROXY=[2001:db8::1],example.org"}, []string{"doctor", "http://example.org/"}, 1,
			[]string{"ERR", "httpx: HTTPX cannot build a client: the NO_PROXY entry [2001:db8::1]", "(write 2001:db8::1 without brackets)"}, nil},
		{"a proxy without a scheme in Node", []string{"https_proxy=127.0.0.1:3128"}, []string{"doctor", "https://www.example.com/"}, 1,
			[]string{"B = https://127.0.0.1:3128", "[node/proxy-scheme-from-url]", "https_proxy=http://127.0.0.1:3128"}, nil},
		{"Go refuses under CGI", []string{"http_proxy=" + doctorProxy, "REQUEST_METHOD=GET"}, []string{"doctor", "http://www.example.com/"}, 1,
			[]string{"ERR", "[go/cgi-refuses]"}, nil},
		{"no implicit loopback outside Go and Chromium", []string{"http_proxy=" + doctorProxy}, []string{"doctor", "http://localhost/"}, 1,
			[]string{"[curl/no-implicit]", "NO_PROXY=localhost", "(list localhost in NO_PROXY)"}, nil},
		{"default URLs from NO_PROXY", []string{"http_proxy=" + doctorProxy, "NO_PROXY=.corp.example,10.0.0.0/8"}, []string{"doctor"}, 1,
			[]string{"http://corp.example/", "http://www.corp.example/", "http://10.0.0.1/", "https://www.example.com/", "http://www.example.com/", "[urllib/no-cidr]"}, nil},
		{"a PAC only two readings consult", []string{"http_proxy=" + doctorProxy}, []string{"doctor", "--pac", pacFile, "http://www.example.com/"}, 1,
			[]string{"A = http://127.0.0.1:9", "! http://www.example.com/", "[go/no-pac]", "No change to the proxy variables"}, nil},
		{"passwords are not printed", []string{"http_proxy=http://alice:s3cret@127.0.0.1:3128"}, []string{"doctor", "http://www.example.com/"}, 0,
			[]string{"http_proxy=http://alice:xxxxx@127.0.0.1:3128", "A = http://alice@127.0.0.1:3128"}, []string{"s3cret"}},
		{"not a URL", nil, []string{"doctor", "example.com"}, 2, nil, nil},
		{"help", nil, []string{"help", "doctor"}, 0, []string{"usage: pacd doctor [--json] [--pac FILE] [URL...]", "-json"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doctorEnv(t, tt.env...)
			code, stdout, stderr := runPacd(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			rest := stdout
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("stdout lacks %q (in order):\n%s", w, stdout)
					break
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tt.not {
				if strings.Contains(stdout+stderr, n) {
					t.Errorf("output contains %q:\n%s", n, stdout)
				}
			}
		})
	}
}

func TestDoctorJSON(t *testing.T) {
	doctorEnv(t, "http_proxy="+doctorProxy, "NO_PROXY=.example.com")
	code, stdout, stderr := runPacd(t, "", "doctor", "--json", "http://example.com/", "http://www.example.com/")
	if code != 1 {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var got doctorReport
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(got.Flavors) != 9 || got.Flavors[0] != "canonical" || len(got.URLs) != 2 || got.Disagreements != 1 {
		t.Fatalf("report %+v", got)
	}
	u := got.URLs[0]
	if u.Agree || u.URL != "http://example.com/" || len(u.Answers) != 9 || u.Answers[1].Flavor != "go" || u.Answers[1].Verdict != doctorProxy {
		t.Errorf("first URL %+v", u)
	}
	found := false
	for _, d := range u.Differences {
		if d.Clause.ID == "go/dot-excludes-apex" && strings.Join(d.Flavors, ",") == "go,go-std" && d.Clause.Subject == ".example.com" {
			found = true
		}
	}
	if !found {
		t.Errorf("differences %+v lack go/dot-excludes-apex for go and go-std", u.Differences)
	}
	if !got.URLs[1].Agree {
		t.Errorf("second URL %+v should agree", got.URLs[1])
	}
	if len(got.Changes) != 1 || got.Changes[0].Edits[0].Name != "NO_PROXY" || got.Changes[0].Edits[0].Value != "example.com,.example.com" || len(got.StillDisagree) != 0 {
		t.Errorf("changes %+v, still %v", got.Changes, got.StillDisagree)
	}
}

func TestDoctorNoFix(t *testing.T) {
	// Python needs the brackets, HTTPX refuses them, curl and requests
	// need them away: only removing the entry makes everyone agree, and
	// with a PAC that only two readings consult, nothing does.
	dir := t.TempDir()
	pacFile := writeFile(t, dir, "proxy.pac", `function FindProxyForURL(url, host) { return "PROXY 127.0.0.1:9"; }`)
	doctorEnv(t, "http_proxy="+doctorProxy)
	code, stdout, _ := runPacd(t, "", "doctor", "--pac", filepath.Clean(pacFile), "http://www.example.com/")
	if code != 1 || !strings.Contains(stdout, "No change to the proxy variables that doctor knows of makes the clients agree.") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
}
