package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/resolver"
	"github.com/pacd/pacd/wasm"
)

var cmdResolve = &command{
	name:  "resolve",
	usage: "[flags] URL...",
	short: "print how each URL would be reached, and why",
	long: `
Resolve prints, for each URL, the decision pacd makes from the same
sources pacd serve uses: the environment (HTTP_PROXY, HTTPS_PROXY,
ALL_PROXY, NO_PROXY, lower case first), a PAC script, and explicit rules.
The order between them, and the grammar of each, are the resolver
package's (go doc github.com/pacd/pacd/resolver): an override, then
localhost and loopback (always DIRECT), rules that name hosts, the bypass
list, the other rules, the PAC script, the environment, and DIRECT.

With one URL the decision is printed alone; with several, as "URL :
DECISION" lines. --format pac (the default) prints PAC syntax, "PROXY
p:8080; DIRECT"; --format url prints the proxies as URLs separated by
spaces, "http://p:8080 socks5h://s:1080 DIRECT". Passwords are never
printed. --credentials-file reads proxy credentials from a netrc-style
file, as pacd serve does (see pacd help serve). --explain adds a line saying what decided; --json prints one
object per URL with everything.

A bad setting is an error that names it, and exits with status 2; a value
of the environment that cannot be used is ignored with a warning, as
other clients ignore it. --sandbox runs the PAC script inside pacd's
WebAssembly module, as pacd serve --sandbox does.`,
	flags: func(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
		o := &resolveFlags{}
		o.define(fs)
		fs.StringVar(&o.format, "format", "pac", "the output `format`: pac or url")
		fs.BoolVar(&o.explain, "explain", false, "say, for each URL, what decided")
		fs.BoolVar(&o.json, "json", false, "print one JSON object per URL")
		return func(ctx context.Context, args []string) error { return o.run(ctx, e, args) }
	},
}

// resolveFlags are the resolver's settings, shared by resolve and serve.
type resolveFlags struct {
	noEnv         bool
	pacLocation   string
	proxy         string
	mounts        []resolver.Mount
	proxies       map[string]string
	bypass        []string
	credentials   []string
	credFile      string // --credentials-file
	proxyLoopback bool
	onPACError    string
	pacEnv        pacEnv
	flavor        resolver.Flavor
	pacRefresh    time.Duration     // serve's --pac-refresh; zero for the default
	pac           *resolver.PACFile // opened by openPAC
	sandbox       sandboxFlags
	engine        *wasm.Engine // started by openPAC for --sandbox; closed by closeSandbox

	format        string
	explain, json bool
}

func (o *resolveFlags) define(fs *flag.FlagSet) {
	fs.BoolVar(&o.noEnv, "no-env", false, "ignore the environment's proxy variables")
	fs.StringVar(&o.pacLocation, "pac", "", "a PAC script: a `file`, a file:// URL, an http(s):// URL, or the script itself as a data: URL")
	fs.StringVar(&o.proxy, "proxy", "", "one proxy `URL` for everything, or none")
	fs.Func("mount", "an HTTPX-style mount `PATTERN=PROXY` (PROXY may be none); repeatable", func(s string) error {
		pat, p, ok := strings.Cut(s, "=")
		if !ok {
			return errors.New("want PATTERN=PROXY")
		}
		o.mounts = append(o.mounts, resolver.Mount{Pattern: pat, Proxy: p})
		return nil
	})
	fs.Func("proxies", "a Requests-style proxies entry `KEY=PROXY` (keys http, https, all, scheme://host, all://host; PROXY may be none); repeatable", func(s string) error {
		k, p, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return errors.New("want KEY=PROXY")
		}
		if o.proxies == nil {
			o.proxies = map[string]string{}
		}
		if _, dup := o.proxies[k]; dup {
			return fmt.Errorf("key %q given twice", k)
		}
		o.proxies[k] = p
		return nil
	})
	fs.Func("bypass", "a bypass `LIST` in NO_PROXY syntax, added to the environment's; repeatable", func(s string) error {
		o.bypass = append(o.bypass, s)
		return nil
	})
	fs.Func("credentials", "a proxy `URL` with user information whose credentials a PAC answer naming that proxy may use; repeatable", func(s string) error {
		o.credentials = append(o.credentials, s)
		return nil
	})
	fs.StringVar(&o.credFile, "credentials-file", "", "a netrc-style `file` of proxy credentials, \"machine PROXY login USER password PASS\", kept out of the process list; only its owner may read it")
	fs.BoolVar(&o.proxyLoopback, "proxy-loopback", false, "let localhost, loopback and link-local destinations be proxied")
	fs.StringVar(&o.onPACError, "on-pac-error", "direct", "what a URL gets when the PAC script fails: `direct` or fail")
	fs.Var(&o.flavor, "flavor", "read the settings as `CLIENT` does: go, go-std, curl, python, requests, node, httpx or chromium (default: pacd's canonical reading)")
	o.pacEnv.define(fs)
	o.sandbox.define(fs)
}

// openPAC loads the PAC script of --pac, if any, once; the caller closes
// it. Start also begins the background refresh.
func (o *resolveFlags) openPAC(ctx context.Context, e *env, log *slog.Logger) (*resolver.PACFile, error) {
	if o.pacLocation == "" {
		return nil, nil
	}
	opts, err := o.pacEnv.options(e)
	if err != nil {
		return nil, usagef("%v", err)
	}
	compile := func(src []byte, name string) (resolver.Evaluator, error) {
		o := *opts
		o.Name = name
		return pac.Compile(string(src), &o)
	}
	if o.sandbox.enabled() {
		eng, err := o.sandbox.engine(ctx, log)
		if err != nil {
			return nil, err
		}
		o.engine = eng
		compile = func(src []byte, name string) (resolver.Evaluator, error) {
			o := *opts
			o.Name = name
			// A replaced script is closed by the garbage collector
			// (see wasm.Script).
			return eng.Compile(context.Background(), string(src), &o)
		}
	}
	f := &resolver.PACFile{
		Location: o.pacLocation,
		Compile:  compile,
		Refresh:  o.pacRefresh,
		Logger:   log,
	}
	o.pac = f
	return f, f.Start(ctx)
}

// closeSandbox closes the engine that openPAC started for --sandbox, if
// it did, after the PAC file's last evaluation.
func (o *resolveFlags) closeSandbox() {
	if o.engine != nil {
		o.engine.Close(context.Background())
	}
}

// resolverConfig builds the resolver's configuration from the flags, the
// credentials file (read again on every call), the environment and the
// PAC file opened by openPAC.
func (o *resolveFlags) resolverConfig(log *slog.Logger) (*resolver.Config, error) {
	creds, err := o.allCredentials()
	if err != nil {
		return nil, err
	}
	cfg := &resolver.Config{
		Proxy:         o.proxy,
		Mounts:        o.mounts,
		Proxies:       o.proxies,
		Bypass:        strings.Join(o.bypass, ","),
		Credentials:   creds,
		ProxyLoopback: o.proxyLoopback,
		OnPACError:    o.onPACError,
		Flavor:        o.flavor,
		Logger:        log,
	}
	if !o.noEnv {
		cfg.Env = resolver.FromEnvironment()
	}
	if o.pac != nil {
		cfg.PAC = o.pac
	}
	return cfg, nil
}

// allCredentials returns those of --credentials and then those of the
// credentials file. An address given credentials by both is an error:
// neither is more deliberate than the other.
func (o *resolveFlags) allCredentials() ([]string, error) {
	creds := append([]string(nil), o.credentials...)
	if o.credFile == "" {
		return creds, nil
	}
	entries, err := readCredentialsFile(o.credFile)
	if err != nil {
		return nil, err
	}
	flagged := map[string]bool{}
	for _, c := range o.credentials {
		if p, err := resolver.ParseProxyURL(c); err == nil {
			flagged[p.Addr()] = true
		}
	}
	for _, e := range entries {
		if flagged[e.proxy.Addr()] {
			return nil, fmt.Errorf("%s:%d: %s also has credentials from --credentials; give them once", o.credFile, e.line, e.proxy.Addr())
		}
		creds = append(creds, e.url)
	}
	return creds, nil
}

func (o *resolveFlags) run(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("no URL")
	}
	if o.format != "pac" && o.format != "url" {
		return usagef("--format %q: want pac or url", o.format)
	}
	var urls []*url.URL
	for _, a := range args {
		u, err := url.Parse(a)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return usagef("%q is not an absolute URL", a)
		}
		urls = append(urls, u)
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	defer o.closeSandbox()
	pacFile, err := o.openPAC(ctx, e, log)
	if pacFile != nil {
		defer pacFile.Close()
	}
	if err != nil {
		return err
	}
	cfg, err := o.resolverConfig(log)
	if err != nil {
		return usagef("%v", err)
	}
	r, err := resolver.New(cfg)
	if err != nil {
		var refused *resolver.RefusedError
		if errors.As(err, &refused) {
			return err // the client itself would refuse this configuration
		}
		return usagef("%v", err)
	}
	for _, w := range r.Warnings() {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	failed := false
	for _, u := range urls {
		d, err := r.Resolve(ctx, u)
		if err != nil {
			fmt.Fprintf(e.stderr, "%s: %v\n", u.Redacted(), err)
			failed = true
			continue
		}
		o.print(e, u, d, len(urls) > 1)
	}
	if failed {
		return &exitError{1}
	}
	return nil
}

type jsonDecision struct {
	URL      string       `json:"url"`
	PAC      string       `json:"pac"`
	URLs     []string     `json:"urls"`
	Proxies  []jsonProxy  `json:"proxies"`
	Source   string       `json:"source"`
	Rule     string       `json:"rule,omitempty"`
	Explain  string       `json:"explain"`
	Warnings []string     `json:"warnings,omitempty"`
	Clauses  []jsonClause `json:"clauses,omitempty"`
}

type jsonClause struct {
	ID      string `json:"id"`
	Text    string `json:"text"`
	Subject string `json:"subject,omitempty"`
}

func (o *resolveFlags) print(e *env, u *url.URL, d resolver.Decision, labelled bool) {
	if o.json {
		j := jsonDecision{URL: u.Redacted(), PAC: d.String(), Source: d.Source.String(), Rule: d.Rule, Explain: d.Explain(), Warnings: d.Warnings}
		for _, c := range d.Clauses {
			j.Clauses = append(j.Clauses, jsonClause{c.ID, c.Text, c.Subject})
		}
		for _, p := range d.Proxies {
			j.URLs = append(j.URLs, p.String())
			j.Proxies = append(j.Proxies, jsonProxy{Type: p.Type.String(), Host: p.Host, Port: p.Port})
		}
		b, _ := json.Marshal(j)
		fmt.Fprintf(e.stdout, "%s\n", b)
		return
	}
	out := d.String()
	if o.format == "url" {
		out = d.URLs()
	}
	if labelled {
		out = u.Redacted() + " : " + out
	}
	fmt.Fprintln(e.stdout, out)
	if o.explain {
		fmt.Fprintf(e.stdout, "  # %s\n", d.Explain())
	}
	for _, w := range d.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s: %s\n", u.Redacted(), w)
	}
}
