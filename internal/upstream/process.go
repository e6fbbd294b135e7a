package upstream

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// startTimeout bounds how long a daemon may take to proxy its first
	// request. Squid needs about 0.1 s on an idle machine.
	startTimeout = 15 * time.Second
	// maxAttempts is how often a start is tried on new ports when the
	// daemon exits because one of its ports was taken meanwhile.
	maxAttempts = 5
	// tailLines is how much of each log file a failed test shows.
	tailLines = 40
	// readyBody is what the throwaway readiness origin serves.
	readyBody = "upstream-ready"
)

// sbinDirs are searched after PATH: a non-root user's PATH on Debian often
// lacks them, and squid and danted live there.
var sbinDirs = []string{"/usr/local/sbin", "/usr/sbin", "/sbin"}

// pickPort returns a loopback TCP port that was free a moment ago. Tests
// replace it to provoke collisions.
var pickPort = freePort

// require returns the path of binary, looked up in PATH and then in the
// sbin directories. If it is missing, the test is skipped, or failed when
// CI is "true" (see [unavailable]); require then returns "".
func require(t testing.TB, binary string) string {
	t.Helper()
	if p, err := exec.LookPath(binary); err == nil {
		return p
	}
	for _, d := range sbinDirs {
		if p := filepath.Join(d, binary); isExecutable(p) {
			return p
		}
	}
	unavailable(t, "%s not found in PATH or %s; scripts/install-deps.sh installs it",
		binary, strings.Join(sbinDirs, ":"))
	return ""
}

// requireFile is like [require] for a file at one of the given paths (a
// helper program outside PATH, say).
func requireFile(t testing.TB, what string, paths ...string) string {
	t.Helper()
	for _, p := range paths {
		if isExecutable(p) {
			return p
		}
	}
	unavailable(t, "%s not found at %s; scripts/install-deps.sh installs it",
		what, strings.Join(paths, " or "))
	return ""
}

// unavailable ends a test that cannot run here: it skips it, except when
// the environment variable CI is "true", where skipping would let a broken
// CI image pass unnoticed, so it fails it.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "upstream: " + fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (not skipping because CI=true)")
		return
	}
	t.Skip(msg)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// freePort returns a TCP port on 127.0.0.1 that had no listener a moment
// ago. Someone else may take it before the daemon binds it; the caller
// retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("upstream: picking a port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// pickPorts returns n distinct ports from pickPort.
func pickPorts(n int) ([]int, error) {
	var ports []int
	for len(ports) < n {
		p, err := pickPort()
		if err != nil {
			return nil, err
		}
		dup := false
		for _, q := range ports {
			dup = dup || q == p
		}
		if !dup {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// portTaken reports whether something listens on 127.0.0.1:port.
func portTaken(port int) bool {
	l, err := net.Listen("tcp4", hostPort(port))
	if err != nil {
		return true
	}
	l.Close()
	return false
}

func hostPort(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// unprivileged returns the credential daemons should run with: nobody's
// when running as root, nil (the current user) otherwise.
func unprivileged() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("upstream: running as root, but: %v", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("upstream: user nobody has uid %q, gid %q", u.Uid, u.Gid)
	}
	// An empty, non-nil Groups clears the supplementary groups.
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// workDir returns a fresh directory for one daemon's files, owned by cred's
// user (if not nil) and reachable by it.
func workDir(t testing.TB, cred *syscall.Credential) string {
	t.Helper()
	dir := t.TempDir()
	ours := true // the parent was made by the testing package for this test
	// Config syntaxes (squid's above all) cannot quote blanks, and a
	// subtest name may contain some.
	if strings.ContainsAny(dir, " \t\n\"'#\\;{}$") {
		d, err := os.MkdirTemp("", "upstream")
		if err != nil {
			t.Fatalf("upstream: %v", err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dir, ours = d, false
		if strings.ContainsAny(dir, " \t\n\"'#\\;{}$") {
			t.Fatalf("upstream: temporary directory %q has characters daemon configs cannot carry; set TMPDIR", dir)
		}
	}
	if cred == nil {
		return dir
	}
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		t.Fatalf("upstream: %v", err)
	}
	// t.TempDir's parent is mode 0700; let nobody pass through (not list).
	parent := filepath.Dir(dir)
	if ours {
		if err := os.Chmod(parent, 0o711); err != nil {
			t.Fatalf("upstream: %v", err)
		}
		parent = filepath.Dir(parent)
	}
	for p := parent; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("upstream: %v", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			t.Fatalf("upstream: %s is not searchable by others, so the daemons (run as nobody) cannot reach %s; set TMPDIR to a directory under /tmp", p, dir)
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	return dir
}

// writeFiles writes name → content into dir, readable by everyone.
func writeFiles(dir string, files map[string]string) error {
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("upstream: %v", err)
		}
	}
	return nil
}

// process is one started daemon.
type process struct {
	cmd      *exec.Cmd
	done     chan struct{} // closed when the daemon has exited
	waitErr  error         // valid after done
	stopOnce sync.Once
	onStop   func() // extra cleanup after the daemon is dead; may be nil
}

// Why a start attempt ended without a ready daemon.
var (
	errExited    = errors.New("exited during start-up")
	errPortTaken = errors.New("reported a port in use")
	errNotReady  = fmt.Errorf("not ready after %v", startTimeout)
)

// bindFailure is how all four daemons report EADDRINUSE in their logs.
var bindFailure = []byte("Address already in use")

// startProcess starts argv in dir, in a new process group, as cred (nil:
// as ourselves), with output going to <dir>/<kind>.out.
func startProcess(kind Kind, dir string, cred *syscall.Credential, argv []string) (*process, error) {
	out, err := os.OpenFile(filepath.Join(dir, string(kind)+".out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("upstream: %v", err)
	}
	defer out.Close() // the child has its own copy
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	// A clean environment: no proxy variables, no locale surprises.
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir, "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:    true,            // so that Cleanup can kill helpers too
		Pdeathsig:  syscall.SIGKILL, // so that a crashed test leaves nothing running
		Credential: cred,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("upstream: starting %s: %v", kind, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop kills the daemon's whole process group and waits for the daemon.
// It may be called more than once.
func (p *process) stop() {
	p.stopOnce.Do(func() {
		pgid := p.cmd.Process.Pid
		// Also after the leader died: its helpers may still be alive.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
		if p.onStop != nil {
			p.onStop()
		}
	})
}

// waitReady polls probe until it succeeds, the daemon exits, bindFailed
// reports that it could not bind a port, or the start deadline passes.
// Squid, for one, keeps running when one of its ports is taken, and a
// probe connecting to whoever took it may hang, so both conditions are
// watched while a probe runs, not only between probes.
func (p *process) waitReady(probe func(ctx context.Context) error, bindFailed func() bool) error {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	ctx, stop := context.WithTimeoutCause(ctx, startTimeout, errNotReady)
	defer stop()
	go func() {
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-p.done:
				cancel(fmt.Errorf("%w (%v)", errExited, p.waitErr))
				return
			case <-tick.C:
				if bindFailed() {
					cancel(errPortTaken)
					return
				}
			}
		}
	}()
	delay := 5 * time.Millisecond
	for {
		pctx, pcancel := context.WithTimeout(ctx, 3*time.Second)
		err := probe(pctx)
		pcancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w; last probe: %v", context.Cause(ctx), err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w; last probe: %v", context.Cause(ctx), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// logsMention reports whether any of the files in dir contains s within
// its first 64 KiB.
func logsMention(dir string, files []string, s []byte) bool {
	for _, name := range files {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		buf, _ := io.ReadAll(io.LimitReader(f, 64<<10))
		f.Close()
		if bytes.Contains(buf, s) {
			return true
		}
	}
	return false
}

// launch describes how to start one kind of daemon.
type launch struct {
	kind   Kind
	nports int
	// root keeps root privileges instead of running as nobody.
	root bool
	// logs are the daemon's log files in its directory, shown on failure
	// (its standard output and error are always shown).
	logs []string
	// setup writes the configuration for ports into dir and returns the
	// command line, and optionally a function to run after the daemon died.
	setup func(dir string, ports []int) (argv []string, onStop func(), err error)
	// probe returns nil once the daemon on ports has fetched target, a
	// URL of a throwaway origin that answers readyBody.
	probe func(ctx context.Context, ports []int, target string) error
}

// started is what launch.run hands back.
type started struct {
	dir   string
	ports []int
	pgid  int
}

// run starts the daemon, retrying on new ports when one was taken, waits
// until it proxies, and registers its cleanup. It fails the test if the
// daemon does not come up.
func (l *launch) run(t testing.TB) started {
	t.Helper()
	var cred *syscall.Credential
	if !l.root {
		var err error
		if cred, err = unprivileged(); err != nil {
			t.Fatal(err)
		}
	}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, readyBody)
	}))
	defer origin.Close()

	for attempt := 1; ; attempt++ {
		dir := workDir(t, cred)
		ports, err := pickPorts(l.nports)
		if err != nil {
			t.Fatal(err)
		}
		argv, onStop, err := l.setup(dir, ports)
		if err != nil {
			t.Fatal(err)
		}
		p, err := startProcess(l.kind, dir, cred, argv)
		if err != nil {
			t.Fatal(err)
		}
		p.onStop = onStop
		logs := append([]string{string(l.kind) + ".out"}, l.logs...)
		t.Cleanup(func() {
			p.stop()
			if t.Failed() {
				logTails(t, l.kind, dir, logs)
			}
		})
		err = p.waitReady(func(ctx context.Context) error {
			return l.probe(ctx, ports, origin.URL+"/ready")
		}, func() bool {
			return logsMention(dir, logs, bindFailure)
		})
		if err == nil {
			return started{dir: dir, ports: ports, pgid: p.cmd.Process.Pid}
		}
		p.stop()
		taken := errors.Is(err, errPortTaken) || errors.Is(err, errExited) && anyTaken(ports)
		if taken && attempt < maxAttempts {
			t.Logf("upstream: %s: a port of %v was taken before it bound it; retrying", l.kind, ports)
			continue
		}
		t.Fatalf("upstream: %s did not start (attempt %d, ports %v): %v", l.kind, attempt, ports, err)
	}
}

func anyTaken(ports []int) bool {
	for _, p := range ports {
		if portTaken(p) {
			return true
		}
	}
	return false
}

// logTails logs the last lines of each of a daemon's log files.
func logTails(t testing.TB, kind Kind, dir string, files []string) {
	t.Helper()
	for _, name := range files {
		path := filepath.Join(dir, name)
		tail, err := readTail(path, tailLines)
		switch {
		case err != nil:
			t.Logf("upstream: %s log %s: %v", kind, path, err)
		case len(tail) == 0:
			t.Logf("upstream: %s log %s is empty", kind, path)
		default:
			t.Logf("upstream: %s log %s (last %d lines at most):\n%s", kind, path, tailLines, tail)
		}
	}
}

// readTail returns at most the last n lines of the file at path.
func readTail(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	const maxRead = 64 << 10
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(fi.Size()-maxRead, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, err
	}
	buf = bytes.TrimRight(buf, "\n")
	for i, seen := len(buf)-1, 0; i >= 0; i-- {
		if buf[i] == '\n' {
			if seen++; seen == n {
				return buf[i+1:], nil
			}
		}
	}
	return buf, nil
}

// probeHTTP fetches target through proxyURL (http, https or socks5) and
// checks that the readiness origin answered. roots, if not nil, is trusted
// for a TLS connection to the proxy.
func probeHTTP(ctx context.Context, proxyURL *url.URL, roots *x509.CertPool, target string) error {
	tr := &http.Transport{
		Proxy:             http.ProxyURL(proxyURL),
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(body) != readyBody {
		return fmt.Errorf("probe through %s: %s, body %.100q", proxyURL.Redacted(), resp.Status, body)
	}
	return nil
}
