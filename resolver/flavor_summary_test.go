package resolver_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pacd/pacd/resolver"
)

// testProxy is where every environment in these tests points: loopback,
// and never dialled.
const testProxy = "http://127.0.0.1:3128"

// flavourVerdict resolves rawURL under f with the environment env
// ("KEY=value" entries, in order) and returns D (DIRECT), P (through a
// proxy) or E (the client refuses), and the decision.
func flavourVerdict(t *testing.T, f resolver.Flavor, env []string, rawURL string) (string, resolver.Decision, error) {
	t.Helper()
	r, err := resolver.New(&resolver.Config{Env: resolver.ReadEnvList(env), Flavor: f})
	if err != nil {
		var re *resolver.RefusedError
		if errors.As(err, &re) {
			return "E", resolver.Decision{Clauses: []resolver.Clause{re.Clause}}, err
		}
		t.Fatalf("New(%s, %q): %v", f, env, err)
	}
	d, err := r.Resolve(context.Background(), mustURL(t, rawURL))
	if err != nil {
		var re *resolver.RefusedError
		if errors.As(err, &re) {
			return "E", d, err
		}
		t.Fatalf("Resolve(%s, %s): %v", f, rawURL, err)
	}
	if d.Proxies[0].IsDirect() {
		return "D", d, nil
	}
	return "P", d, nil
}

// flavourOrder is the order of the verdict strings below.
var flavourOrder = resolver.Flavors()

// A summaryRow is one form of the notes' §2.1 summary table: an
// environment, a URL, and one verdict per flavour in the order
//
//	canonical go go-std curl python requests node httpx chromium
//
// Chromium's column is not in the notes (it was not measured): it
// follows the flavour's source reading.
type summaryRow struct {
	form string // the notes' row, and its measurement rows
	env  []string
	url  string
	want string
}

// proxied is the environment's proxies, for every row.
var proxied = []string{"http_proxy=" + testProxy, "https_proxy=" + testProxy}

func rowEnv(extra ...string) []string { return append(append([]string(nil), proxied...), extra...) }

var summaryRows = []summaryRow{
	{"example.com matches subdomains (42)", rowEnv("NO_PROXY=example.com"), "http://www.example.com/", "DDDDDDPDD"},
	{"label boundary (69)", rowEnv("NO_PROXY=ample.com"), "http://example.com/", "PPPPPPPPD"},
	{".example.com matches the apex (52)", rowEnv("NO_PROXY=.example.com"), "http://example.com/", "DPPDDDPPP"},
	{".example.com matches subdomains", rowEnv("NO_PROXY=.example.com"), "http://www.example.com/", "DDDDDDDDD"},
	{"*.example.com (60)", rowEnv("NO_PROXY=*.example.com"), "http://www.example.com/", "DDDPPPDPD"},
	{"*example.com, a glob without a dot (64, 67)", rowEnv("NO_PROXY=*example.com"), "http://notexample.com/", "DPPPPPDPD"},
	{"bare *", rowEnv("NO_PROXY=*"), "http://www.example.com/", "DDDDDDDDD"},
	{"padded * (105)", rowEnv("NO_PROXY= * "), "http://www.example.com/", "DDDPPPDDD"},
	{"* inside a list (106, 107)", rowEnv("NO_PROXY=example.org,*"), "http://www.example.com/", "DDDPPPDDD"},
	{"space-separated a.com b.com (91)", rowEnv("NO_PROXY=a.com b.com"), "http://b.com/", "DPPDPPDPP"},
	{"entry with port, URL with that port (76-78)", rowEnv("NO_PROXY=example.com:8080"), "http://example.com:8080/", "DDDPDDDDD"},
	{"entry with port, URL with another port", rowEnv("NO_PROXY=example.com:8080"), "http://example.com/", "PPPPPPPPP"},
	{"example.com:80 against the implicit port (80)", rowEnv("NO_PROXY=example.com:80"), "http://example.com/", "DDDPPPDPD"},
	{"upper-case entry and URL host", rowEnv("NO_PROXY=EXAMPLE.COM"), "http://Example.COM/", "DDDDDDDDD"},
	{"trailing dot on the URL host (50)", rowEnv("NO_PROXY=example.com"), "http://example.com./", "DPPDPPPPP"},
	{"trailing dot on the entry (97)", rowEnv("NO_PROXY=example.com."), "http://example.com/", "DPPDPPPPP"},
	{"IPv4 exact (127)", rowEnv("NO_PROXY=192.168.1.1"), "http://192.168.1.1/", "DDDDDDDDD"},
	{"IPv4 exact is not a prefix (128)", rowEnv("NO_PROXY=192.168.1.1"), "http://192.168.1.10/", "PPPPPPPPP"},
	{"IPv4 CIDR (116)", rowEnv("NO_PROXY=10.0.0.0/8"), "http://10.1.2.3/", "DDDDPDPPD"},
	{"IPv4 CIDR in HTTPX: the network address only (118, 122)", rowEnv("NO_PROXY=10.0.0.0/8"), "http://10.0.0.0/", "DDDDPDPDD"},
	{"0.0.0.0/0 (124)", rowEnv("NO_PROXY=0.0.0.0/0"), "http://10.1.2.3/", "DDDPPPPPD"},
	{"IP entries against names (126)", rowEnv("NO_PROXY=10.0.0.0/8"), "http://ten.example.com/", "PPPPPPPPP"},
	{"string suffix on an IP (132)", rowEnv("NO_PROXY=.1.1"), "http://192.168.1.1/", "PPPPDDDDD"},
	{"IPv6 without brackets (137)", rowEnv("NO_PROXY=2001:db8::1"), "http://[2001:db8::1]/", "DDDDPDPDP"},
	{"IPv6 without brackets, any port (138)", rowEnv("NO_PROXY=2001:db8::1"), "http://[2001:db8::1]:8080/", "DDDDPDPDP"},
	{"IPv6 URL in non-canonical form (141)", rowEnv("NO_PROXY=2001:db8::1"), "http://[2001:DB8:0::1]/", "DDDDPPPPP"},
	{"IPv6 in brackets (142)", rowEnv("NO_PROXY=[2001:db8::1]"), "http://[2001:db8::1]/", "DPPPDPDED"},
	{"IPv6 [addr]:port (143)", rowEnv("NO_PROXY=[2001:db8::1]:8080"), "http://[2001:db8::1]:8080/", "DDDPDPDED"},
	{"IPv6 CIDR (145)", rowEnv("NO_PROXY=2001:db8::/32"), "http://[2001:db8::1]/", "DDDPPPPED"},
	{"localhost entry against app.localhost (152)", rowEnv("NO_PROXY=localhost"), "http://app.localhost/", "DDDDDDPPD"},
	{"implicit loopback: localhost (28)", rowEnv(), "http://localhost/", "DDDPPPPPD"},
	{"implicit loopback: 127.0.0.1", rowEnv(), "http://127.0.0.1/", "DDDPPPPPD"},
	{"implicit loopback: ::1", rowEnv(), "http://[::1]/", "DDDPPPPPD"},
	{"implicit loopback: IPv4-mapped", rowEnv(), "http://[::ffff:127.0.0.1]/", "DDDPPPPPP"},
	{"implicit loopback: foo.localhost is proxied by Go", rowEnv(), "http://foo.localhost/", "DPPPPPPPD"},
	{"implicit loopback: 0.0.0.0 is proxied", rowEnv(), "http://0.0.0.0/", "PPPPPPPPP"},
	{"LOCALHOST is proxied by Go (30)", rowEnv(), "http://LOCALHOST/", "DPPPPPPPD"},
	{"localhost. is proxied by Go (31)", rowEnv(), "http://localhost./", "DPPPPPPPD"},
	{"link-local addresses", rowEnv(), "http://169.254.169.254/", "DPPPPPPPD"},
	{"localhost entry against 127.0.0.1", rowEnv("NO_PROXY=localhost"), "http://127.0.0.1/", "DDDPPPPPD"},
	{"punycode entry, Unicode URL (157)", rowEnv("NO_PROXY=xn--bcher-kva.example"), "http://www.bücher.example/", "DDDDPDPDD"},
	{"Unicode entry (159)", rowEnv("NO_PROXY=bücher.example"), "http://www.bücher.example/", "DDDPDPPEP"},
	{"scheme inside the entry (113)", rowEnv("NO_PROXY=http://example.com"), "http://example.com/", "PPPPPPPDD"},
	{"path inside the entry", rowEnv("NO_PROXY=example.com/"), "http://example.com/", "PPPPPPPDP"},
	{"empty no_proxy", rowEnv("no_proxy="), "http://example.com/", "PPPPPPPPP"},
	{"no_proxy empty, NO_PROXY=example.com (110)", rowEnv("no_proxy=", "NO_PROXY=example.com"), "http://example.com/", "DDDDPDDPP"},
	{"no_proxy=other.org, NO_PROXY=example.com (111)", rowEnv("no_proxy=other.org", "NO_PROXY=example.com"), "http://example.com/", "PPDPPPPPP"},
}

func TestFlavourSummary(t *testing.T) {
	for _, row := range summaryRows {
		t.Run(row.form, func(t *testing.T) {
			var got strings.Builder
			for _, f := range flavourOrder {
				v, _, _ := flavourVerdict(t, f, row.env, row.url)
				got.WriteString(v)
			}
			if got.String() != row.want {
				t.Errorf("%s with %q\n got  %s\n want %s\n      %s", row.url, row.env, got.String(), row.want, flavourLegend(got.String(), row.want))
			}
		})
	}
}

// flavourLegend names the flavours whose verdicts differ.
func flavourLegend(got, want string) string {
	var diff []string
	for i := range got {
		if i < len(want) && got[i] != want[i] {
			diff = append(diff, flavourOrder[i].String())
		}
	}
	return "differ: " + strings.Join(diff, ", ")
}

// TestFlavourClauses checks the promise pacd doctor relies on: wherever a
// flavour's verdict differs from the canonical one, its decision (or its
// refusal) names a clause.
func TestFlavourClauses(t *testing.T) {
	for _, row := range summaryRows {
		canon, _, _ := flavourVerdict(t, resolver.Canonical, row.env, row.url)
		for _, f := range flavourOrder[1:] {
			v, d, err := flavourVerdict(t, f, row.env, row.url)
			if v == canon {
				continue
			}
			if len(d.Clauses) == 0 {
				t.Errorf("%s: %s with %q is %s (canonical %s) without a clause: %+v %v", f, row.url, row.env, v, canon, d, err)
				continue
			}
			for _, c := range d.Clauses {
				if c.ID == "" || c.Text == "" || strings.HasSuffix(c.ID, "/entry") {
					t.Errorf("%s: %s with %q: vague clause %+v", f, row.url, row.env, c)
				}
			}
		}
	}
}
