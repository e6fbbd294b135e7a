package upstream

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// SquidOptions configures [StartSquid]. The zero value is an HTTP proxy
// without authentication.
type SquidOptions struct {
	// Username and Password, if set, make squid require Basic proxy
	// authentication (407 with realm "pacd-test" otherwise). Empty means
	// no authentication. They must be given together.
	Username, Password string
	// TLS adds an https_port (TLS from the client to the proxy) serving a
	// fresh self-signed certificate; see [Server.TLSURL] and
	// [Server.CertPool]. False means plain HTTP only.
	TLS bool
}

// squidInstances numbers squid instances within this process, for unique
// -n service names.
var squidInstances atomic.Int64

// squidShm matches shared-memory segments of instances this package
// started, capturing the starting process's PID.
var squidShm = regexp.MustCompile(`^pacdup([0-9]+)n[0-9]+-`)

// StartSquid starts squid as an HTTP forward proxy (GET and CONNECT, to
// any port, loopback included) on a free loopback port, and stops it when
// the test ends. It skips the test if squid is not installed (fails it if
// CI is "true").
func StartSquid(t testing.TB, opts SquidOptions) *Server {
	t.Helper()
	if msg := checkCredentials(opts.Username, opts.Password); msg != "" {
		t.Fatalf("upstream: StartSquid: %s", msg)
	}
	squid := require(t, "squid")
	var helper, htpasswd string
	if opts.Username != "" {
		helper = requireFile(t, "squid's basic_ncsa_auth helper",
			"/usr/lib/squid/basic_ncsa_auth", "/usr/lib64/squid/basic_ncsa_auth", "/usr/libexec/squid/basic_ncsa_auth")
		htpasswd = require(t, "htpasswd")
	}
	removeStaleShm()

	s := &Server{Kind: KindSquid, Username: opts.Username, Password: opts.Password, scheme: "http"}
	var cert, key []byte
	if opts.TLS {
		var err error
		if cert, key, err = selfSigned(); err != nil {
			t.Fatal(err)
		}
		s.CertPEM = cert
	}
	st := squidLaunch(squid, helper, htpasswd, opts, cert, key, s.CertPool(), &s.squidName).run(t)
	s.finish(st, opts.TLS)
	if opts.TLS {
		s.CertFile = filepath.Join(st.dir, "cert.pem")
	}
	return s
}

// squidLaunch describes a squid start; each attempt stores its -n service
// name in *namePtr.
func squidLaunch(squid, helper, htpasswd string, opts SquidOptions, cert, key []byte, roots *x509.CertPool, namePtr *string) *launch {
	l := &launch{kind: KindSquid, nports: 1, logs: []string{"cache.log", "access.log"}}
	if opts.TLS {
		l.nports = 2
	}
	l.setup = func(dir string, ports []int) ([]string, func(), error) {
		name := fmt.Sprintf("pacdup%dn%d", os.Getpid(), squidInstances.Add(1))
		*namePtr = name
		files := map[string]string{"squid.conf": squidConfig(dir, ports, opts, helper)}
		if opts.TLS {
			files["cert.pem"], files["key.pem"] = string(cert), string(key)
		}
		if err := writeFiles(dir, files); err != nil {
			return nil, nil, err
		}
		if opts.Username != "" {
			if err := writeHtpasswd(htpasswd, filepath.Join(dir, "passwd"), opts.Username, opts.Password); err != nil {
				return nil, nil, err
			}
		}
		argv := []string{squid, "-n", name, "-N", "-f", filepath.Join(dir, "squid.conf")}
		return argv, func() { removeShm(name) }, nil
	}
	l.probe = func(ctx context.Context, ports []int, target string) error {
		var user *url.Userinfo
		if opts.Username != "" {
			user = url.UserPassword(opts.Username, opts.Password)
		}
		plain := &url.URL{Scheme: "http", User: user, Host: hostPort(ports[0])}
		if err := probeHTTP(ctx, plain, nil, target); err != nil {
			return err
		}
		if opts.TLS {
			secure := &url.URL{Scheme: "https", User: user, Host: hostPort(ports[1])}
			return probeHTTP(ctx, secure, roots, target)
		}
		return nil
	}
	return l
}

// squidConfig is a minimal squid.conf: no cache, no DNS beyond 127.0.0.1,
// every file in dir, access for loopback clients only. squid.conf does not
// expand variables and cannot quote blanks, hence literal paths (see
// [workDir]).
func squidConfig(dir string, ports []int, opts SquidOptions, helper string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Written by github.com/pacd/pacd/internal/upstream for one test.")
	p("http_port %s", hostPort(ports[0]))
	if opts.TLS {
		p("https_port %s tls-cert=%s tls-key=%s", hostPort(ports[1]),
			filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	}
	p("pid_filename %s", filepath.Join(dir, "squid.pid"))
	p("cache_log %s", filepath.Join(dir, "cache.log"))
	p("access_log stdio:%s", filepath.Join(dir, "access.log"))
	p("coredump_dir %s", dir)
	p("netdb_filename none")
	p("pinger_enable off")
	p("cache deny all")
	p("cache_mem 8 MB")
	p("shutdown_lifetime 1 seconds")
	p("visible_hostname pacd-upstream-squid")
	p("dns_nameservers 127.0.0.1")
	p("udp_outgoing_address 127.0.0.1")
	p("udp_incoming_address 127.0.0.1")
	if opts.Username != "" {
		p("auth_param basic program %s %s", helper, filepath.Join(dir, "passwd"))
		p("auth_param basic realm pacd-test")
		p("auth_param basic children 2 startup=1 idle=1")
		p("acl authed proxy_auth REQUIRED")
		p("http_access deny !localhost")
		p("http_access allow authed")
	} else {
		p("http_access allow localhost")
	}
	p("http_access deny all")
	return b.String()
}

// writeHtpasswd writes an htpasswd file (apr1-MD5, which squid's
// basic_ncsa_auth accepts) readable by everyone. The password goes
// through standard input, not the command line.
func writeHtpasswd(htpasswd, path, user, pass string) error {
	cmd := exec.Command(htpasswd, "-c", "-i", path, user)
	cmd.Stdin = strings.NewReader(pass)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("upstream: htpasswd: %v: %s", err, out)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		return fmt.Errorf("upstream: %v", err)
	}
	return nil
}

// removeShm removes the shared-memory segments of squid service name,
// which a SIGKILL leaves behind.
func removeShm(name string) {
	matches, _ := filepath.Glob(filepath.Join("/dev/shm", name+"-*"))
	for _, m := range matches {
		os.Remove(m)
	}
}

// removeStaleShm removes segments of squids started by test processes that
// no longer exist (killed before their cleanup ran).
func removeStaleShm() {
	entries, _ := os.ReadDir("/dev/shm")
	for _, e := range entries {
		m := squidShm.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			os.Remove(filepath.Join("/dev/shm", e.Name()))
		}
	}
}
