package upstream

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TinyproxyOptions configures [StartTinyproxy]. The zero value is an HTTP
// proxy without authentication.
type TinyproxyOptions struct {
	// Username and Password, if set, make tinyproxy require Basic proxy
	// authentication. Empty means none. They must be given together.
	//
	// Missing credentials get 407 Proxy Authentication Required, but wrong
	// ones get 401 Unauthorized with a WWW-Authenticate header, for plain
	// requests and CONNECT alike.
	Username, Password string
}

// StartTinyproxy starts tinyproxy as an HTTP forward proxy (GET and
// CONNECT to any port; HTTP/1.0 status lines) on a free loopback port, and
// stops it when the test ends. It skips the test if tinyproxy is not
// installed (fails it if CI is "true").
func StartTinyproxy(t testing.TB, opts TinyproxyOptions) *Server {
	t.Helper()
	if msg := checkCredentials(opts.Username, opts.Password); msg != "" {
		t.Fatalf("upstream: StartTinyproxy: %s", msg)
	}
	bin := require(t, "tinyproxy")
	l := &launch{kind: KindTinyproxy, nports: 1, logs: []string{"tinyproxy.log"}}
	l.setup = func(dir string, ports []int) ([]string, func(), error) {
		conf := filepath.Join(dir, "tinyproxy.conf")
		if err := writeFiles(dir, map[string]string{"tinyproxy.conf": tinyproxyConfig(dir, ports[0], opts)}); err != nil {
			return nil, nil, err
		}
		return []string{bin, "-d", "-c", conf}, nil, nil
	}
	l.probe = func(ctx context.Context, ports []int, target string) error {
		u := &url.URL{Scheme: "http", Host: hostPort(ports[0])}
		if opts.Username != "" {
			u.User = url.UserPassword(opts.Username, opts.Password)
		}
		return probeHTTP(ctx, u, nil, target)
	}
	st := l.run(t)
	s := &Server{Kind: KindTinyproxy, Username: opts.Username, Password: opts.Password, scheme: "http"}
	s.finish(st, false)
	return s
}

// tinyproxyConfig allows loopback clients only and keeps every file in dir.
// Without ConnectPort lines, CONNECT is allowed to any port.
func tinyproxyConfig(dir string, port int, opts TinyproxyOptions) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Written by github.com/pacd/pacd/internal/upstream for one test.")
	p("Port %d", port)
	p("Listen 127.0.0.1")
	p("Timeout 60")
	p("MaxClients 50")
	p("Allow 127.0.0.1")
	p("LogLevel Info")
	p("LogFile %q", filepath.Join(dir, "tinyproxy.log"))
	p("PidFile %q", filepath.Join(dir, "tinyproxy.pid"))
	if opts.Username != "" {
		p("BasicAuth %s %s", opts.Username, opts.Password)
	}
	return b.String()
}
