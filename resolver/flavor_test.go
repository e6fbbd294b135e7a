package resolver_test

import (
	"context"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/pacd/pacd/resolver"
)

// A flavourCase is one clause of a flavour's specification: an
// environment (and explicit settings), a URL, the answer (the proxy URLs,
// "DIRECT", or "error"), and the clause the decision must name ("" for
// none).
type flavourCase struct {
	name   string
	env    []string
	cfg    resolver.Config // Env and Flavor are filled in
	url    string
	want   string
	clause string
}

func runFlavourCases(t *testing.T, f resolver.Flavor, cases []flavourCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Env, cfg.Flavor = resolver.ReadEnvList(tt.env), f
			got, clauses := "", []resolver.Clause(nil)
			r, err := resolver.New(&cfg)
			if err == nil {
				var d resolver.Decision
				d, err = r.Resolve(context.Background(), mustURL(t, tt.url))
				got, clauses = d.URLs(), d.Clauses
			}
			var re *resolver.RefusedError
			if errors.As(err, &re) {
				got, clauses = "error", []resolver.Clause{re.Clause}
			} else if err != nil {
				got = "error: " + err.Error()
			}
			if got != tt.want {
				t.Errorf("%s %s with %q = %s, want %s (%v)", f, tt.url, tt.env, got, tt.want, clauses)
			}
			var ids []string
			for _, c := range clauses {
				ids = append(ids, c.ID)
			}
			if tt.clause == "" && len(ids) > 0 || tt.clause != "" && !strings.Contains(" "+strings.Join(ids, " ")+" ", " "+tt.clause+" ") {
				t.Errorf("%s %s with %q: clauses %q, want %q", f, tt.url, tt.env, ids, tt.clause)
			}
		})
	}
}

func TestParseFlavor(t *testing.T) {
	for _, f := range resolver.Flavors() {
		got, err := resolver.ParseFlavor(f.String())
		if err != nil || got != f {
			t.Errorf("ParseFlavor(%q) = %q, %v", f.String(), got, err)
		}
		if f.Client() == "" {
			t.Errorf("%s has no Client()", f)
		}
	}
	if f, err := resolver.ParseFlavor(" CURL "); err != nil || f != resolver.FlavorCurl {
		t.Errorf("ParseFlavor(\" CURL \") = %q, %v", f, err)
	}
	var fv resolver.Flavor
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Var(&fv, "flavor", "")
	if err := fs.Parse([]string{"--flavor", "httpx"}); err != nil || fv != resolver.FlavorHTTPX {
		t.Errorf("--flavor httpx: %q, %v", fv, err)
	}
	if err := fs.Parse([]string{"--flavor", "wget"}); err == nil || fv != resolver.FlavorHTTPX {
		t.Errorf("--flavor wget: %q, %v", fv, err)
	}
	if _, err := resolver.ParseFlavor("wget"); err == nil || !strings.Contains(err.Error(), "go-std") {
		t.Errorf("ParseFlavor(wget): %v, want an error listing the flavours", err)
	}
}

func TestFlavourSettings(t *testing.T) {
	tests := []struct {
		cfg     resolver.Config
		wantErr string
	}{
		{resolver.Config{Flavor: "wget"}, "unknown flavour"},
		{resolver.Config{Flavor: resolver.FlavorGo, Mounts: []resolver.Mount{{Pattern: "all://", Proxy: testProxy}}}, "no equivalent of Mounts"},
		{resolver.Config{Flavor: resolver.FlavorCurl, Proxies: map[string]string{"http": testProxy}}, "no equivalent of Proxies"},
		{resolver.Config{Flavor: resolver.FlavorNode, Proxy: testProxy}, "no equivalent of Proxy"},
		{resolver.Config{Flavor: resolver.FlavorRequests, Proxy: testProxy}, "no equivalent of Proxy"},
		{resolver.Config{Flavor: resolver.FlavorHTTPX, Proxies: map[string]string{"http": testProxy}}, "no equivalent of Proxies"},
		{resolver.Config{Flavor: resolver.FlavorChromium, Bypass: "example.com"}, "only with Proxy"},
		{resolver.Config{Flavor: resolver.FlavorPython, Proxies: map[string]string{"all://x": testProxy}}, "URL schemes as keys"},
		{resolver.Config{Flavor: resolver.FlavorGo, ProxyLoopback: true}, "ProxyLoopback"},
		{resolver.Config{Flavor: resolver.FlavorCurl, Credentials: []string{"http://p:1"}}, "credentials"},
	}
	for _, tt := range tests {
		_, err := resolver.New(&tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("New(%+v) = %v, want an error containing %q", tt.cfg, err, tt.wantErr)
		}
	}
	// PAC is consulted by chromium only: the others say so.
	r := mustNew(t, &resolver.Config{Flavor: resolver.FlavorCurl, PAC: pacFunc("PROXY 127.0.0.1:9")})
	if w := r.Warnings(); len(w) != 1 || !strings.Contains(w[0], "reads no PAC") {
		t.Errorf("curl with PAC: warnings %q", w)
	}
	if got := resolve(t, r, "http://example.com/"); got != "DIRECT (default)" {
		t.Errorf("curl with PAC: %s, want DIRECT", got)
	}
}

// pacFunc is an Evaluator that always answers the same.
type pacFunc string

func (p pacFunc) Eval(ctx context.Context, url, host string) (string, error) { return string(p), nil }

func TestFlavourOverrideAndKinds(t *testing.T) {
	r := mustNew(t, &resolver.Config{Flavor: resolver.FlavorCurl, Env: resolver.ReadEnvList(rowEnv())})
	ctx := resolver.WithOverride(context.Background())
	d, err := r.Resolve(ctx, mustURL(t, "http://example.com/"))
	if err != nil || d.Source != resolver.FromOverride || d.Flavor != resolver.FlavorCurl {
		t.Errorf("override under curl: %+v, %v", d, err)
	}
	d, err = r.ResolveQuery(context.Background(), resolver.Query{Kind: resolver.UDPSocket, Host: "example.com", Port: 53})
	if err != nil || !d.Proxies[0].IsDirect() {
		t.Errorf("UDP under curl: %+v, %v", d, err)
	}
	d, err = r.ResolveQuery(context.Background(), resolver.Query{Kind: resolver.TCPStream, Host: "example.com", Port: 443})
	if err != nil || d.URLs() != "http://127.0.0.1:3128" {
		t.Errorf("TCP stream under curl: %+v, %v", d, err)
	}
	if e := d.Explain(); !strings.Contains(e, "https_proxy") {
		t.Errorf("Explain() = %q", e)
	}
}
