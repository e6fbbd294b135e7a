package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testPAC = `function FindProxyForURL(url, host) {
  if (host == "direct.example") return "DIRECT";
  if (host == "bad") return 42;
  if (host == "junk") return "JUNK; PROXY ok:1";
  if (url.indexOf("/secret") >= 0) return "PROXY leaked:1";
  if (host == "me") return myIpAddress();
  if (host == "when") return new Date().toISOString();
  return "PROXY p.example:8080; DIRECT";
}
`

// runPacd runs the command line in-process and returns its exit code and
// output.
func runPacd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEval(t *testing.T) {
	dir := t.TempDir()
	pacFile := writeFile(t, dir, "proxy.pac", testPAC)
	urls := writeFile(t, dir, "urls.txt", "# a comment\nhttp://direct.example/\n\nhttps://x.example/secret\n")
	tests := []struct {
		name     string
		stdin    string
		args     []string
		code     int
		stdout   string
		inStderr string
	}{
		{"url", "", []string{"eval", "-p", pacFile, "-u", "http://direct.example/"}, 0, "DIRECT\n", ""},
		{"default", "", []string{"eval", "-p", pacFile, "-u", "http://other.example/"}, 0, "PROXY p.example:8080; DIRECT\n", ""},
		{"host flag", "", []string{"eval", "-p", pacFile, "-u", "http://x/", "-h", "direct.example"}, 0, "DIRECT\n", ""},
		{"https stripped", "", []string{"eval", "-p", pacFile, "-u", "https://x.example/secret"}, 0, "PROXY p.example:8080; DIRECT\n", ""},
		{"full urls", "", []string{"eval", "-p", pacFile, "-u", "https://x.example/secret", "--full-urls"}, 0, "PROXY leaked:1\n", ""},
		{"stdin", testPAC, []string{"eval", "-p", "-", "-u", "http://direct.example/"}, 0, "DIRECT\n", ""},
		{"client", "", []string{"eval", "-p", pacFile, "-c", "10.1.2.3", "-u", "http://me/"}, 0, "10.1.2.3\n", ""},
		{"now", "", []string{"eval", "-p", pacFile, "--now", "2026-03-04T05:06:07Z", "-u", "http://when/"}, 0, "2026-03-04T05:06:07.000Z\n", ""},
		{"list", "", []string{"eval", "-p", pacFile, "-f", urls}, 0, "# a comment\nhttp://direct.example/ : DIRECT\nhttps://x.example/secret : PROXY p.example:8080; DIRECT\n", ""},
		{"args", "", []string{"eval", "-p", pacFile, "http://direct.example/", "http://a/"}, 0, "http://direct.example/ : DIRECT\nhttp://a/ : PROXY p.example:8080; DIRECT\n", ""},
		{"json", "", []string{"eval", "-p", pacFile, "--json", "-u", "http://junk/"}, 0,
			`{"url":"http://junk/","result":"JUNK; PROXY ok:1","proxies":[{"type":"PROXY","host":"ok","port":1}],"warnings":["pac: ParseResult(\"JUNK; PROXY ok:1\"): dropped \"JUNK\" (unknown type \"JUNK\")"]}` + "\n", ""},
		{"warning", "", []string{"eval", "-p", pacFile, "-u", "http://junk/"}, 0, "JUNK; PROXY ok:1\n", `warning: http://junk/: pac: ParseResult("JUNK; PROXY ok:1"): dropped "JUNK"`},
		{"script error", "", []string{"eval", "-p", pacFile, "-u", "http://bad/"}, 1, "", "proxy.pac: FindProxyForURL() did not return a string (it returned a number)"},
		{"trace", "", []string{"eval", "-p", pacFile, "--trace", "-c", "10.0.0.1", "-u", "http://me/"}, 0, "10.0.0.1\n", `trace:   myIpAddress() = "10.0.0.1"`},
		{"no pac", "", []string{"eval", "-u", "http://a/"}, 2, "", "no PAC file"},
		{"no url", "", []string{"eval", "-p", pacFile}, 2, "", "no URL"},
		{"two inputs", "", []string{"eval", "-p", pacFile, "-u", "http://a/", "-f", urls}, 2, "", "only one of"},
		{"bad flag", "", []string{"eval", "--nope"}, 2, "", "flag provided but not defined: -nope"},
		{"bad now", "", []string{"eval", "-p", pacFile, "--now", "yesterday", "-u", "http://a/"}, 2, "", "--now"},
		{"bad resolve", "", []string{"eval", "-p", pacFile, "--resolve", "nohost", "-u", "http://a/"}, 2, "", "for flag -resolve"},
		{"missing file", "", []string{"eval", "-p", filepath.Join(dir, "nope.pac"), "-u", "http://a/"}, 1, "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runPacd(t, tt.stdin, tt.args...)
			if code != tt.code || stdout != tt.stdout || !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("pacd %s\n exit %d, want %d\n stdout %q\n want   %q\n stderr %q, want it to contain %q",
					strings.Join(tt.args, " "), code, tt.code, stdout, tt.stdout, stderr, tt.inStderr)
			}
		})
	}
}

func TestEvalCompileError(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "broken.pac", "function FindProxyForURL(u, h) {\n  return 'DIRECT' +;\n}\n")
	code, _, stderr := runPacd(t, "", "eval", "-p", p, "-u", "http://a/")
	if code != 1 || !strings.HasPrefix(stderr, p+":2:") || !strings.Contains(stderr, "SyntaxError") {
		t.Errorf("exit %d, stderr %q; want 1 and %s:2:COL: SyntaxError", code, stderr, p)
	}
}

func TestTestCommand(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "good.pac", testPAC)
	writeFile(t, dir, "good.pactest", "# ok\nhttp://direct.example/ => DIRECT\nhttp://a/ => PROXY p.example:8080; DIRECT\nhttp://bad/ => error: did not return a string\n")
	code, stdout, _ := runPacd(t, "", "test", dir)
	if code != 0 || stdout != "3 passed, 0 failed\n" {
		t.Errorf("pacd test (passing): exit %d, stdout %q", code, stdout)
	}

	writeFile(t, dir, "bad.pac", testPAC)
	writeFile(t, dir, "bad.pactest", "http://direct.example/ => PROXY wrong:1\nhttp://a/ => PROXY p.example:8080; DIRECT\n")
	code, stdout, _ = runPacd(t, "", "test", dir)
	want := filepath.Join(dir, "bad.pactest") + `:1: FAIL: http://direct.example/: want "PROXY wrong:1", got "DIRECT"` + "\n4 passed, 1 failed\n"
	if code != 1 || stdout != want {
		t.Errorf("pacd test (failing): exit %d, stdout\n%s\nwant\n%s", code, stdout, want)
	}

	code, _, stderr := runPacd(t, "", "test")
	if code != 2 || !strings.Contains(stderr, "no PATH") {
		t.Errorf("pacd test without paths: exit %d, stderr %q", code, stderr)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"help", "eval"}, {"eval", "--help"}, {"test", "-h"}} {
		code, stdout, _ := runPacd(t, "", args...)
		if code != 0 || !strings.Contains(stdout, "usage") && !strings.Contains(stdout, "Usage") {
			t.Errorf("pacd %v: exit %d, stdout %q", args, code, stdout)
		}
	}
	if code, _, stderr := runPacd(t, ""); code != 2 || !strings.Contains(stderr, "Usage") {
		t.Errorf("pacd: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runPacd(t, "", "frobnicate"); code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Errorf("pacd frobnicate: exit %d, stderr %q", code, stderr)
	}
	if code, stdout, _ := runPacd(t, "", "version"); code != 0 || !strings.HasPrefix(stdout, "pacd ") {
		t.Errorf("pacd version: exit %d, stdout %q", code, stdout)
	}
}

func TestEvalZoneAppliesToDate(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "d.pac", "function FindProxyForURL(u, h) { return String(new Date().getHours()) + ' ' + timeRange(12) }\n")
	code, stdout, stderr := runPacd(t, "", "eval", "-p", p, "--now", "2026-07-01T10:00:00Z", "--tz", "Europe/Berlin", "-u", "http://a/")
	if code != 0 || stdout != "12 true\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 12 true (Berlin is UTC+2 in July)", code, stdout, stderr)
	}
	if time.Local.String() == "Europe/Berlin" {
		t.Errorf("eval left time.Local set to %v", time.Local)
	}
}

func TestResolve(t *testing.T) {
	for _, k := range []string{"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
	t.Setenv("HTTPS_PROXY", "http://alice:s3cret@env.example:3128")
	t.Setenv("NO_PROXY", ".corp.example")
	dir := t.TempDir()
	pacFile := writeFile(t, dir, "proxy.pac", testPAC)
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		inStderr string
	}{
		{"environment", []string{"resolve", "https://www.example.org/"}, 0, "PROXY env.example:3128\n", ""},
		{"bypass", []string{"resolve", "https://wiki.corp.example/"}, 0, "DIRECT\n", ""},
		{"no env", []string{"resolve", "--no-env", "https://www.example.org/"}, 0, "DIRECT\n", ""},
		{"urls, no password", []string{"resolve", "--format", "url", "https://www.example.org/"}, 0, "http://alice@env.example:3128\n", ""},
		{"explain", []string{"resolve", "--explain", "https://www.example.org/", "http://localhost/"}, 0,
			"https://www.example.org/ : PROXY env.example:3128\n  # environment variable HTTPS_PROXY\nhttp://localhost/ : DIRECT\n  # localhost is never proxied (implicit rule; <-loopback> lifts it)\n", ""},
		{"pac", []string{"resolve", "--no-env", "--pac", pacFile, "http://direct.example/", "http://other.example/"}, 0,
			"http://direct.example/ : DIRECT\nhttp://other.example/ : PROXY p.example:8080; DIRECT\n", ""},
		{"pac warnings", []string{"resolve", "--no-env", "--pac", pacFile, "http://junk/"}, 0, "PROXY ok:1\n", `dropped "JUNK"`},
		{"pac error goes direct", []string{"resolve", "--no-env", "--pac", pacFile, "http://bad/"}, 0, "DIRECT\n", "PAC evaluation failed"},
		{"pac error fails", []string{"resolve", "--no-env", "--pac", pacFile, "--on-pac-error", "fail", "http://bad/"}, 1, "", "did not return a string"},
		{"mount over env", []string{"resolve", "--mount", "https://*.example.org=socks5h://s.example:1080", "https://www.example.org/"}, 0, "SOCKS5 s.example:1080\n", ""},
		{"proxies", []string{"resolve", "--no-env", "--proxies", "http=http://p:1", "--proxies", "all=none", "http://a/", "ftp://a/"}, 0, "http://a/ : PROXY p:1\nftp://a/ : DIRECT\n", ""},
		{"bypass flag", []string{"resolve", "--proxy", "http://p:1", "--bypass", "*.internal", "http://x.internal/"}, 0, "DIRECT\n", ""},
		{"json", []string{"resolve", "--no-env", "--json", "--proxy", "socks4a://id@s:1080", "http://a/"}, 0,
			`{"url":"http://a/","pac":"SOCKS4 s:1080","urls":["socks4a://id@s:1080"],"proxies":[{"type":"socks4a","host":"s","port":1080}],"source":"proxy","rule":"socks4a://id@s:1080","explain":"the one proxy for everything"}` + "\n", ""},
		{"bad mount", []string{"resolve", "--mount", "all://x=gopher://p", "http://a/"}, 2, "", `mount "all://x"`},
		{"bad bypass", []string{"resolve", "--bypass", "10.0.0.0/40", "http://a/"}, 2, "", `bypass: bad bypass entry "10.0.0.0/40"`},
		{"bad proxy", []string{"resolve", "--proxy", "p:0", "http://a/"}, 2, "", `invalid proxy "p:0"`},
		{"missing pac", []string{"resolve", "--pac", filepath.Join(dir, "nope.pac"), "http://a/"}, 1, "", "nope.pac"},
		{"inline pac", []string{"resolve", "--no-env", "--pac", `data:,function FindProxyForURL(u, h) { return h == "a" ? "PROXY p.example:8080" : "DIRECT"; }`, "http://a/", "http://b/"}, 0,
			"http://a/ : PROXY p.example:8080\nhttp://b/ : DIRECT\n", ""},
		{"inline pac that does not compile", []string{"resolve", "--no-env", "--pac", "data:,function FindProxyForURL(", "http://a/"}, 1, "", "data URL:1:"},
		{"not a URL", []string{"resolve", "www.example.org"}, 2, "", "not an absolute URL"},
		{"no URL", []string{"resolve"}, 2, "", "no URL"},
		{"bad format", []string{"resolve", "--format", "xml", "http://a/"}, 2, "", "--format"},
		{"flavor", []string{"resolve", "--flavor", "go", "--explain", "https://corp.example/"}, 0,
			"PROXY env.example:3128\n  # environment variable HTTPS_PROXY; Go's .corp.example matches only the names below corp.example, not corp.example itself\n", ""},
		{"bad flavor", []string{"resolve", "--flavor", "lynx", "http://a/"}, 2, "", "lynx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runPacd(t, "", tt.args...)
			if code != tt.code || stdout != tt.stdout || !strings.Contains(stderr, tt.inStderr) || strings.Contains(stdout+stderr, "s3cret") {
				t.Errorf("pacd %s\n exit %d, want %d\n stdout %q\n want   %q\n stderr %q, want it to contain %q",
					strings.Join(tt.args, " "), code, tt.code, stdout, tt.stdout, stderr, tt.inStderr)
			}
		})
	}
}
