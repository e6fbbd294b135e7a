package resolver_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pacd/pacd/resolver"
)

// TestClientParity runs the real clients on a matrix of environments and
// URLs and compares their choice with the flavours': Python's urllib and
// requests, curl, and Node's proxy-from-env (resolver/testdata/clients,
// which scripts/install-deps.sh installs with npm ci; PACD_PROXY_FROM_ENV
// names another copy's index.cjs). A client that is missing skips the
// test, except under CI=true, where it fails it. No network is used:
// Python and Node only choose; curl is pointed at loopback for every
// connection (--connect-to) and judged by whether it picked a proxy
// variable.
func TestClientParity(t *testing.T) {
	var missing []string
	for _, bin := range []string{"python3", "curl", "node"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if len(missing) == 0 && exec.Command("python3", "-c", "import requests").Run() != nil {
		missing = append(missing, "Python's requests (python3-requests)")
	}
	module := os.Getenv("PACD_PROXY_FROM_ENV")
	if module == "" {
		module, _ = filepath.Abs(filepath.Join("testdata", "clients", "node_modules", "proxy-from-env", "index.cjs"))
	}
	if _, err := os.Stat(module); err != nil {
		missing = append(missing, "proxy-from-env at "+module)
	}
	if len(missing) > 0 {
		msg := "not found: " + strings.Join(missing, ", ") + "; scripts/install-deps.sh installs them"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (not skipping because CI=true)")
		}
		t.Skip(msg)
	}
	cases := parityCases()
	clients := map[resolver.Flavor]func([]parityCase) []string{
		resolver.FlavorPython:   func(cs []parityCase) []string { return runPython(t, "urllib", cs) },
		resolver.FlavorRequests: func(cs []parityCase) []string { return runPython(t, "requests", cs) },
		resolver.FlavorCurl:     func(cs []parityCase) []string { return runCurl(t, cs) },
		resolver.FlavorNode:     func(cs []parityCase) []string { return runNode(t, module, cs) },
	}
	for f, run := range clients {
		got := run(cases)
		bad := 0
		for i, c := range cases {
			want, _, _ := flavourVerdict(t, f, c.Env, c.URL)
			if got[i] != want {
				bad++
				t.Errorf("%s: %s with %q: the client says %s, the flavour %s", f, c.URL, c.Env, got[i], want)
			}
		}
		t.Logf("%s: %d cases, %d mismatches", f, len(cases), bad)
	}
}

type parityCase struct {
	Env []string `json:"env"`
	URL string   `json:"url"`
}

// parityCases is every summary row, and every NO_PROXY form against
// every URL form.
func parityCases() []parityCase {
	var out []parityCase
	for _, r := range summaryRows {
		out = append(out, parityCase{r.env, r.url})
	}
	forms := []string{"example.com", ".example.com", "*.example.com", "*example.com", "ample.com", "*", " * ",
		"example.org,*", "a.com b.com", "example.com:8080", "example.com:80", "EXAMPLE.COM", "example.com.",
		"192.168.1.1", "10.0.0.0/8", "0.0.0.0/0", ".1.1", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:8080",
		"2001:db8::/32", "localhost", "xn--bcher-kva.example", "http://example.com", "example.com/", "example.com;other.org"}
	urls := []string{"http://example.com/", "http://www.example.com/", "http://notexample.com/", "http://example.com:8080/",
		"https://example.com/", "http://example.com./", "http://192.168.1.1/", "http://10.1.2.3/", "http://[2001:db8::1]/",
		"http://[2001:db8::1]:8080/", "http://localhost/", "http://127.0.0.1/", "http://app.localhost/", "http://other.org/"}
	for _, f := range forms {
		for _, u := range urls {
			out = append(out, parityCase{rowEnv("NO_PROXY=" + f), u})
		}
	}
	// Which variable wins.
	for _, env := range [][]string{
		{"HTTP_PROXY=http://127.0.0.1:1"},
		{"http_proxy=http://127.0.0.1:1", "HTTP_PROXY=http://127.0.0.1:2"},
		{"http_proxy=", "HTTP_PROXY=http://127.0.0.1:2"},
		{"ALL_PROXY=http://127.0.0.1:3"},
		{"all_proxy=http://127.0.0.1:3", "https_proxy=http://127.0.0.1:4"},
		{"HTTP_PROXY=http://127.0.0.1:1", "REQUEST_METHOD=GET"},
		{"https_proxy=http://127.0.0.1:4", "NO_PROXY=example.com", "no_proxy="},
	} {
		for _, u := range []string{"http://example.com/", "https://example.com/"} {
			out = append(out, parityCase{env, u})
		}
	}
	return out
}

const parityPython = `
import json, os, sys
import urllib.request
which = sys.argv[1]
if which == "requests":
    import requests
    from requests.utils import select_proxy
out = []
for c in json.load(sys.stdin):
    os.environ.clear()
    for kv in c["env"]:
        k, _, v = kv.partition("=")
        os.environ[k] = v
    url = c["url"]
    if which == "urllib":
        req = urllib.request.Request(url)
        p = urllib.request.getproxies().get(req.type)
        if not p or (req.host and urllib.request.proxy_bypass(req.host)):
            out.append("D")
        else:
            out.append("P")
    else:
        s = requests.Session()
        prep = s.prepare_request(requests.Request("GET", url))
        st = s.merge_environment_settings(prep.url, {}, None, None, None)
        out.append("P" if select_proxy(prep.url, st["proxies"]) else "D")
print(json.dumps(out))
`

func runPython(t *testing.T, which string, cases []parityCase) []string {
	in, _ := json.Marshal(cases)
	cmd := exec.Command("python3", "-c", parityPython, which)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 (%s): %v", which, err)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python3 (%s): %v: %s", which, err, out)
	}
	return got
}

const parityNode = `
const { getProxyForUrl } = require(process.argv[1]);
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = [];
for (const c of cases) {
  for (const k of Object.keys(process.env)) delete process.env[k];
  for (const kv of c.env) { const i = kv.indexOf('='); process.env[kv.slice(0, i)] = kv.slice(i + 1); }
  out.push(getProxyForUrl(c.url) ? 'P' : 'D');
}
console.log(JSON.stringify(out));
`

func runNode(t *testing.T, module string, cases []parityCase) []string {
	in, _ := json.Marshal(cases)
	cmd := exec.Command("node", "-e", parityNode, module)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node: %v: %s", err, out)
	}
	return got
}

// usesProxyVar finds curl's trace line for a proxy variable it took
// (it prints one for NO_PROXY too).
var usesProxyVar = regexp.MustCompile(`Uses proxy env variable (?:http|https|all|ftp|ws|wss|HTTP|HTTPS|ALL|FTP|WS|WSS)_(?:proxy|PROXY) ==`)

// runCurl runs one curl per case, every connection sent to a closed
// loopback port, and reads from its trace whether it took a proxy.
func runCurl(t *testing.T, cases []parityCase) []string {
	out := make([]string, len(cases))
	for i, c := range cases {
		cmd := exec.Command("curl", "-sv", "--max-time", "2", "--connect-to", "::127.0.0.1:9", "-o", "/dev/null", c.URL)
		// curl converts Unicode names to punycode only in a UTF-8 locale.
		cmd.Env = append([]string{"LANG=C.UTF-8"}, c.Env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		_ = cmd.Run()
		switch s := stderr.String(); {
		case usesProxyVar.MatchString(s):
			out[i] = "P"
		case strings.Contains(s, "Unsupported proxy"):
			out[i] = "E"
		default:
			out[i] = "D"
		}
	}
	return out
}
