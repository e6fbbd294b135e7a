package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pacd/pacd/internal/daemon"
	"github.com/pacd/pacd/resolver"
	"github.com/pacd/pacd/wasm"
	"github.com/pacd/pacd/web"
)

var cmdServe = &command{
	name:  "serve",
	usage: "[flags]",
	short: "run the local PAC-aware HTTP and SOCKS5 proxy",
	long: `
Serve runs a local proxy that decides, request by request, how to reach
each destination (with the same sources and rules as pacd resolve: a PAC
script, the environment, explicit rules, bypass lists), and carries the
request that way: DIRECT, or through the upstream HTTP, HTTPS or SOCKS
proxies the decision names, moving on to the next when one cannot be
reached.

The HTTP listener (--listen, 127.0.0.1:3128 by default) forwards http://
requests and opens CONNECT tunnels for anything else, so that

	export HTTPS_PROXY=http://127.0.0.1:3128 HTTP_PROXY=http://127.0.0.1:3128

is all a shell, curl, git or a Go program needs. Its own pages are
/proxy.pac and /wpad.dat (the PAC in use, for browsers), /status (what
pacd is doing, and what it would do for a URL) and /metrics (Prometheus).
--socks adds a SOCKS5 listener.

Only loopback clients may connect unless --allow names other networks,
and listening on another address requires --allow. --auth USER:PASS makes
every client authenticate. A PAC script from a URL is fetched directly
(never through a proxy), rechecked every --pac-refresh, and the last good
script stays in use when a check fails. SIGHUP reloads the PAC script and
rebuilds the configuration; SIGINT and SIGTERM stop accepting connections
and let open ones finish for --drain.

--config FILE reads the same settings from a file, one flag a line, by
the flag's name without dashes, then white space and the value to the end
of the line (in double quotes, Go's quoting applies); a boolean flag alone
is true; lines starting with # are comments; a repeatable flag may have
several lines:

	listen 127.0.0.1:3128
	pac https://wpad.corp/proxy.pac
	bypass *.corp,10.0.0.0/8
	credentials-file /home/me/.config/pacd/netrc
	trusted-pac

A flag on the command line replaces what the file says for it, all its
lines for a repeatable flag. An unknown name or a bad value is an error
naming the file and line. A file holding auth or credentials must not be
readable by group or others. SIGHUP rereads the file: the resolver's
settings (proxy, mount, proxies, bypass, credentials, credentials-file,
no-env, proxy-loopback, on-pac-error, flavor) and log-level change at
once; the others (listeners, allow, auth, limits, the PAC source) are
logged as waiting for a restart; a file that does not parse is logged
and the old configuration stays in use.

--credentials-file FILE holds upstream proxies' credentials in the
grammar of curl's .netrc, out of the process list:

	machine proxy.corp:8080 login alice password "s3cret"
	machine socks5://127.0.0.1:1080 login bob password pw

The machine is what --credentials takes without the user information (a
proxy URL, or host:port for http://), and its scheme decides which PAC
answers for that address get the entry, as for --credentials: http:// to
PROXY and HTTPS, https:// to HTTPS, socks5:// to SOCKS5, socks4:// to
SOCKS. netrc's default entry is refused (it would give a password to
any proxy a PAC script names), as is a file that group or others may
read. SIGHUP rereads it.

--sandbox evaluates the PAC script inside pacd's WebAssembly module, under
wazero, with a memory cap per instance and a deadline that the host
enforces, for scripts that are not trusted; --wasm FILE names the module,
for a pacd built without one. A PAC script fetched from the network runs
in the sandbox unless --trusted-pac says otherwise: it may come from
anyone who can answer for its host (WPAD attacks have taken over whole
fleets). When pacd has the module, / is the PAC playground.`,
	flags: func(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
		o := &serveFlags{}
		o.define(fs)
		return func(ctx context.Context, args []string) error { return o.run(ctx, e, fs, args) }
	},
}

func (o *serveFlags) define(fs *flag.FlagSet) {
	o.rf.define(fs)
	fs.StringVar(&o.config, "config", "", "read settings from this `file`, one \"flag-name value\" a line; flags on the command line replace its lines")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:3128", "the HTTP proxy's listen `address`")
	fs.StringVar(&o.socks, "socks", "", "the SOCKS5 proxy's listen `address` (default: none)")
	fs.Func("allow", "a client `network` (CIDR) besides loopback that may use the proxy; repeatable", func(s string) error {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return err
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		o.allow = append(o.allow, p.Masked())
		return nil
	})
	fs.StringVar(&o.auth, "auth", "", "require these client credentials, `USER:PASS` (or PACD_AUTH in the environment)")
	fs.IntVar(&o.maxConns, "max-conns", 16384, "the most client connections open at once; one more gets 503")
	fs.BoolVar(&o.trustedPAC, "trusted-pac", false, "run a PAC script fetched from the network in the native engine, not the sandbox")
	fs.DurationVar(&o.drain, "drain", 10*time.Second, "how long open connections may finish on shutdown")
	fs.DurationVar(&o.pacRefresh, "pac-refresh", 12*time.Hour, "how often to recheck the PAC script")
	fs.BoolVar(&o.logJSON, "log-json", false, "log JSON lines instead of text")
	fs.StringVar(&o.logLevel, "log-level", "info", "the least `level` logged: debug, info, warn or error")
}

type serveFlags struct {
	rf                resolveFlags
	config            string
	said              map[string][]string // what the config file said at start
	listen, socks     string
	allow             []netip.Prefix
	auth              string
	maxConns          int
	drain, pacRefresh time.Duration
	logJSON           bool
	logLevel          string
	trustedPAC        bool
}

func (o *serveFlags) run(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments %q", args)
	}
	if o.config != "" {
		said, err := applyConfig(fs, o.config)
		if err != nil {
			return usagef("%v", err)
		}
		o.said = said
	}
	level := new(slog.LevelVar)
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return usagef("--log-level %q: %v", o.logLevel, err)
	}
	hopts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	if o.logJSON {
		log = slog.New(slog.NewJSONHandler(e.stderr, hopts))
	} else {
		log = slog.New(slog.NewTextHandler(e.stderr, hopts))
	}
	dc := daemon.Config{Allow: o.allow, MaxConns: o.maxConns, DrainTimeout: o.drain, Logger: log}
	if o.auth == "" {
		o.auth = os.Getenv("PACD_AUTH")
	}
	if o.auth != "" {
		u, p, ok := strings.Cut(o.auth, ":")
		if !ok || u == "" {
			return usagef("--auth: want USER:PASS")
		}
		dc.Username, dc.Password = u, p
	}
	for _, a := range []string{o.listen, o.socks} {
		if a == "" {
			continue
		}
		if err := checkListen(a, o.allow); err != nil {
			return usagef("%v", err)
		}
	}

	o.rf.pacRefresh = o.pacRefresh
	build := func(rf *resolveFlags) (*resolver.Resolver, error) {
		cfg, err := rf.resolverConfig(log)
		if err != nil {
			return nil, err
		}
		return resolver.New(cfg)
	}
	defer o.rf.closeSandbox()
	if loc := strings.ToLower(o.rf.pacLocation); (strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://")) && !o.rf.sandbox.enabled() && !o.trustedPAC {
		if wasm.HaveModule() {
			o.rf.sandbox.on = true
			log.Info("the PAC script comes from the network: it runs in the WebAssembly sandbox (--trusted-pac runs it natively)")
		} else {
			log.Warn("the PAC script comes from the network, but this pacd has no WebAssembly module to sandbox it in: it runs natively, bounded by its deadline but not in memory (give --wasm FILE, or build pacd with make build)")
		}
	}
	if o.rf.sandbox.module != "" || wasm.HaveModule() {
		path := o.rf.sandbox.module
		dc.Playground = web.Handler(func() ([]byte, error) {
			if path != "" {
				return os.ReadFile(path)
			}
			return wasm.RegisteredModule()
		})
	}
	pacFile, err := o.rf.openPAC(ctx, e, log)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return err
		}
		// Keep serving: the file is retried, and until it loads the
		// --on-pac-error policy applies.
		log.Error("PAC not loaded; retrying in the background", "err", err)
	}
	if pacFile != nil {
		defer pacFile.Close()
		dc.PAC = pacFile
	}
	r, err := build(&o.rf)
	if err != nil {
		return usagef("%v", err)
	}
	for _, w := range r.Warnings() {
		log.Warn(w)
	}
	versionOnce.Do(func() { daemon.Version = versionString() }) // once: tests run serve concurrently
	srv := daemon.New(dc, r)

	lc := net.ListenConfig{}
	hln, err := lc.Listen(ctx, "tcp", o.listen)
	if err != nil {
		return err
	}
	var sln net.Listener
	if o.socks != "" {
		if sln, err = lc.Listen(ctx, "tcp", o.socks); err != nil {
			hln.Close()
			return err
		}
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(hln) }()
	attrs := []any{"http", hln.Addr().String()}
	if sln != nil {
		go func() { errc <- srv.ServeSOCKS(sln) }()
		attrs = append(attrs, "socks", sln.Addr().String())
	}
	if pacFile != nil {
		attrs = append(attrs, "pac", pacFile.Status().Location)
	}
	log.Info("pacd serving", attrs...)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			o.reload(ctx, e, srv, pacFile, build, level, log)
		case err := <-errc:
			if !errors.Is(err, daemon.ErrServerClosed) {
				srv.Shutdown(context.Background())
				return err
			}
		case <-ctx.Done():
			log.Info("shutting down", "drain", o.drain)
			srv.Shutdown(context.Background())
			log.Info("stopped")
			return nil
		}
	}
}

var versionOnce sync.Once

// reload rereads the configuration file, if any, and the PAC script, and
// rebuilds the resolver (which rereads the credentials file). A
// configuration file that does not parse, or a resolver that does not
// build, leaves the old configuration in use; a PAC script that does not
// compile leaves the last good one. Settings that only take effect on
// start are reported when the file changes them.
func (o *serveFlags) reload(ctx context.Context, e *env, srv *daemon.Server, pacFile *resolver.PACFile, build func(*resolveFlags) (*resolver.Resolver, error), level *slog.LevelVar, log *slog.Logger) {
	rf := &o.rf
	newLevel := level.Level()
	if o.config != "" {
		n, said, err := o.reread(e)
		if err == nil {
			err = newLevel.UnmarshalText([]byte(n.logLevel))
		}
		if err != nil {
			log.Error("reload: the configuration file is rejected; keeping the old configuration", "err", err)
			return
		}
		for _, name := range unionKeys(o.said, said) {
			if restartOnly(name) && !slices.Equal(o.said[name], said[name]) {
				log.Warn("reload: a setting changed in the configuration file takes effect when pacd restarts", "setting", name, "file", o.config)
			}
		}
		n.rf.pac = o.rf.pac
		rf = &n.rf
	}
	if pacFile != nil {
		if err := pacFile.Reload(ctx); err != nil {
			log.Error("reload: PAC check failed; the last good script stays in use", "err", err)
		}
	}
	r, err := build(rf)
	if err != nil {
		log.Error("reload: the new configuration does not build; keeping the old one", "err", err)
		return
	}
	level.Set(newLevel)
	srv.SetResolver(r)
	log.Info("reloaded")
}

// reread parses the command line and the configuration file again, into
// new settings.
func (o *serveFlags) reread(e *env) (*serveFlags, map[string][]string, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	n := &serveFlags{}
	n.define(fs)
	if err := fs.Parse(e.args); err != nil {
		return nil, nil, err // it parsed at start
	}
	said, err := applyConfig(fs, o.config)
	if err != nil {
		return nil, nil, err
	}
	return n, said, nil
}

// unionKeys returns the keys of a and b, sorted.
func unionKeys(a, b map[string][]string) []string {
	u := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			u = append(u, k)
		}
	}
	slices.Sort(u)
	return u
}

// checkListen refuses a listen address other than loopback without an
// allow-list: pacd is never an open proxy.
func checkListen(addr string, allow []netip.Prefix) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	a, err := netip.ParseAddr(host)
	if err == nil && a.IsLoopback() {
		return nil
	}
	if len(allow) == 0 {
		return fmt.Errorf("listen address %q is not loopback: name the client networks that may connect with --allow", addr)
	}
	return nil
}
