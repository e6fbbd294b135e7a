package upstream

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// DanteOptions configures [StartDante]. The zero value is a SOCKS4 and
// SOCKS5 proxy without authentication.
type DanteOptions struct {
	// Username and Password, if set, make dante require RFC 1929
	// username/password authentication for SOCKS5 and reject SOCKS4.
	// Empty means no authentication. They must be given together.
	//
	// Dante checks them against the system password database, so the
	// user is added to private copies of /etc/passwd and /etc/shadow that
	// are bind-mounted over the real ones in a mount namespace of dante's
	// own (the host's files are not changed). That needs root; without
	// it the test is skipped (failed if CI is "true").
	Username, Password string
}

// StartDante starts dante's danted on a free loopback port, and stops it
// and all its helper processes when the test ends. It accepts SOCKS4 and
// SOCKS5 (but rejects SOCKS4a) from loopback clients and connects to any
// address, loopback included. It skips the test if danted is not installed
// (fails it if CI is "true").
func StartDante(t testing.TB, opts DanteOptions) *Server {
	t.Helper()
	if msg := checkCredentials(opts.Username, opts.Password); msg != "" {
		t.Fatalf("upstream: StartDante: %s", msg)
	}
	danted := require(t, "danted")
	auth := opts.Username != ""
	var unshare, openssl string
	if auth {
		if os.Geteuid() != 0 {
			unavailable(t, "dante with username auth needs root, to give it a private /etc/passwd and /etc/shadow in a mount namespace")
			return nil
		}
		unshare, openssl = require(t, "unshare"), require(t, "openssl")
		require(t, "mount")
		if out, err := exec.Command(unshare, "--mount", "--pid", "--fork", "--propagation", "private", "true").CombinedOutput(); err != nil {
			unavailable(t, "dante with username auth needs private mount and PID namespaces, but unshare failed: %v: %s", err, bytes.TrimSpace(out))
			return nil
		}
	}

	l := &launch{kind: KindDante, nports: 1, root: auth, logs: []string{"danted.log"}}
	l.setup = func(dir string, ports []int) ([]string, func(), error) {
		conf, pid := filepath.Join(dir, "danted.conf"), filepath.Join(dir, "danted.pid")
		if err := writeFiles(dir, map[string]string{"danted.conf": danteConfig(dir, ports[0], auth)}); err != nil {
			return nil, nil, err
		}
		if !auth {
			return []string{danted, "-f", conf, "-p", pid}, nil, nil
		}
		passwd, shadow := filepath.Join(dir, "passwd"), filepath.Join(dir, "shadow")
		if err := writeUserDatabase(openssl, passwd, shadow, opts.Username, opts.Password); err != nil {
			return nil, nil, err
		}
		// The parent-death signal that makes a dead test take its daemons
		// along is cleared when a process changes its credentials, which
		// dante does (user.unprivileged). So danted runs in a PID
		// namespace of its own, under an sh that stays its init, never
		// changes credentials and gets SIGKILL when unshare dies
		// (--kill-child), as unshare does when the test dies; the kernel
		// then kills every process in the namespace. "exit $?" keeps sh
		// from exec'ing danted as its last command. The namespace's
		// mounts are private (unshare's default, made explicit), so the
		// bind mounts are invisible outside it and vanish with it.
		script := `mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/shadow && "$3" -f "$4" -p "$5"; exit $?`
		return []string{unshare, "--mount", "--pid", "--fork", "--kill-child", "--propagation", "private",
			"sh", "-c", script, "sh", passwd, shadow, danted, conf, pid}, nil, nil
	}
	l.probe = func(ctx context.Context, ports []int, target string) error {
		return probeHTTP(ctx, socksURL(ports[0], opts.Username, opts.Password), nil, target)
	}
	st := l.run(t)
	s := &Server{Kind: KindDante, Username: opts.Username, Password: opts.Password, scheme: "socks5"}
	s.finish(st, false)
	return s
}

// danteConfig accepts loopback clients and lets them reach any address;
// the shipped example config would block loopback destinations. Failed
// connections and logins are logged, which the default level does not do.
func danteConfig(dir string, port int, auth bool) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Written by github.com/pacd/pacd/internal/upstream for one test.")
	p("logoutput: %s", filepath.Join(dir, "danted.log"))
	p("internal: 127.0.0.1 port = %d", port)
	p("external: 127.0.0.1")
	p("clientmethod: none")
	if auth {
		p("socksmethod: username")
		p("user.privileged: root")
		p("user.unprivileged: nobody")
	} else {
		p("socksmethod: none")
	}
	// Keywords taking lists (socksmethod, log) need a line each.
	p("client pass {\n\tfrom: 127.0.0.0/8 to: 0.0.0.0/0\n\tlog: error\n}")
	p("socks pass {\n\tfrom: 127.0.0.0/8 to: 0.0.0.0/0")
	if auth {
		p("\tsocksmethod: username")
	}
	p("\tlog: error connect\n}")
	return b.String()
}

// writeUserDatabase writes copies of /etc/passwd and /etc/shadow with user
// added (replacing any entry of that name) with a SHA-512 crypt hash of
// pass. The shadow copy is readable by root only, as the original.
func writeUserDatabase(openssl, passwdPath, shadowPath, user, pass string) error {
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return fmt.Errorf("upstream: %v", err)
	}
	shadow, err := os.ReadFile("/etc/shadow")
	if err != nil {
		return fmt.Errorf("upstream: %v", err)
	}
	cmd := exec.Command(openssl, "passwd", "-6", "-stdin")
	cmd.Stdin = strings.NewReader(pass + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	hash, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("upstream: openssl passwd: %v: %s", err, stderr.Bytes())
	}

	used := map[string]bool{}
	passwdLines := withoutUser(passwd, user, func(fields []string) {
		if len(fields) > 2 {
			used[fields[2]] = true
		}
	})
	uid := 20001
	for used[strconv.Itoa(uid)] {
		uid++
	}
	passwdLines = append(passwdLines, fmt.Sprintf("%s:x:%d:65534:pacd upstream test:/nonexistent:/usr/sbin/nologin", user, uid))
	days := time.Now().Unix() / 86400
	shadowLines := withoutUser(shadow, user, nil)
	shadowLines = append(shadowLines, fmt.Sprintf("%s:%s:%d:0:99999:7:::", user, bytes.TrimSpace(hash), days))

	if err := os.WriteFile(passwdPath, []byte(strings.Join(passwdLines, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("upstream: %v", err)
	}
	if err := os.WriteFile(shadowPath, []byte(strings.Join(shadowLines, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("upstream: %v", err)
	}
	return nil
}

// withoutUser returns the lines of a passwd-format file except user's,
// calling seen (if not nil) with the fields of each line kept.
func withoutUser(file []byte, user string, seen func([]string)) []string {
	var lines []string
	for _, line := range strings.Split(strings.TrimRight(string(file), "\n"), "\n") {
		fields := strings.Split(line, ":")
		if fields[0] == user {
			continue
		}
		if seen != nil {
			seen(fields)
		}
		lines = append(lines, line)
	}
	return lines
}
