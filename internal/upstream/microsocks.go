package upstream

import (
	"context"
	"net/url"
	"strconv"
	"testing"
)

// MicrosocksOptions configures [StartMicrosocks]. The zero value is a
// SOCKS5 proxy without authentication.
type MicrosocksOptions struct {
	// Username and Password, if set, make microsocks require RFC 1929
	// username/password authentication. Empty means none. They must be
	// given together.
	Username, Password string
}

// StartMicrosocks starts microsocks, a SOCKS5-only proxy (SOCKS4 clients
// are disconnected), on a free loopback port, with its outgoing
// connections bound to 127.0.0.1, and stops it when the test ends. It has
// no configuration file or log file; its one line per connection goes to
// microsocks.out in [Server.Dir]. It skips the test if microsocks is not
// installed (fails it if CI is "true").
func StartMicrosocks(t testing.TB, opts MicrosocksOptions) *Server {
	t.Helper()
	if msg := checkCredentials(opts.Username, opts.Password); msg != "" {
		t.Fatalf("upstream: StartMicrosocks: %s", msg)
	}
	bin := require(t, "microsocks")
	l := &launch{kind: KindMicrosocks, nports: 1}
	l.setup = func(dir string, ports []int) ([]string, func(), error) {
		// Not -1: it lets an address in without a password once it has
		// logged in, which would make auth tests pass by accident.
		argv := []string{bin, "-i", "127.0.0.1", "-p", strconv.Itoa(ports[0]), "-b", "127.0.0.1"}
		if opts.Username != "" {
			// microsocks blanks these in its argv, so ps does not show them.
			argv = append(argv, "-u", opts.Username, "-P", opts.Password)
		}
		return argv, nil, nil
	}
	l.probe = func(ctx context.Context, ports []int, target string) error {
		return probeHTTP(ctx, socksURL(ports[0], opts.Username, opts.Password), nil, target)
	}
	st := l.run(t)
	s := &Server{Kind: KindMicrosocks, Username: opts.Username, Password: opts.Password, scheme: "socks5"}
	s.finish(st, false)
	return s
}

func socksURL(port int, user, pass string) *url.URL {
	u := &url.URL{Scheme: "socks5", Host: hostPort(port)}
	if user != "" {
		u.User = url.UserPassword(user, pass)
	}
	return u
}
