// Command soak drives pacd serve with mixed load for a long time while
// its upstreams die and come back and its configuration is reloaded, and
// reports what it served, what failed and why, and how pacd's goroutines,
// heap, resident memory and open descriptors grew. bench/soak.sh builds
// and runs it; see bench/README.md.
//
//	soak -pacd bin/pacd -dir SCRATCH -duration 10m
//
// It starts, each on a loopback port picked at run time: an origin (three
// HTTP listeners, one per route), squid, microsocks and pacd serve with a
// PAC script that sends the first route DIRECT, the second to squid and
// then microsocks, the third to microsocks and then squid. Workers send
// HTTP keep-alive requests, CONNECT tunnels (HTTP inside) and SOCKS5
// requests, spread over the routes. Every -kill-every one upstream, in
// turn, is killed with SIGKILL and restarted -down later on its port;
// every -hup-every pacd gets a SIGHUP. Nothing listens or connects
// anywhere but 127.0.0.1, and every process it started is stopped when
// it ends (or is interrupted).
//
// Only the standard library is used.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.pacd, "pacd", "bin/pacd", "the pacd binary")
	flag.StringVar(&o.dir, "dir", "", "the scratch directory (configurations, logs, the report)")
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "how long the load runs")
	flag.IntVar(&o.conc, "conc", 4, "workers of each kind (HTTP, CONNECT, SOCKS5)")
	flag.DurationVar(&o.killEvery, "kill-every", 30*time.Second, "how often an upstream is killed")
	flag.DurationVar(&o.down, "down", 3*time.Second, "how long a killed upstream stays down")
	flag.DurationVar(&o.hupEvery, "hup-every", 5*time.Second, "how often pacd gets SIGHUP")
	flag.DurationVar(&o.sampleEvery, "sample-every", 10*time.Second, "how often pacd's metrics and memory are read")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "how long after the load the last sample waits")
	flag.Parse()
	if o.dir == "" {
		fmt.Fprintln(os.Stderr, "soak: -dir is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := run(ctx, &o)
	stop()
	os.Exit(code)
}

type options struct {
	pacd, dir                                   string
	duration, killEvery, down, hupEvery, settle time.Duration
	sampleEvery                                 time.Duration
	conc                                        int
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "== "+format+"\n", args...)
}

// freePort returns a loopback port that was free a moment ago.
func freePort() int {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func hostPort(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }

// ---------------------------------------------------------------------
// Processes

// proc is a process the soak started, in a process group of its own.
type proc struct {
	name string
	argv []string
	dir  string
	cred *syscall.Credential
	out  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func (p *proc) start() error {
	out, err := os.OpenFile(p.out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + p.dir, "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: p.cred}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

func (p *proc) alive() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// kill kills the process group with SIGKILL and waits for the leader.
func (p *proc) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}

// stop sends SIGTERM and waits up to d, then kills; it returns the exit
// status (-1 if it had to kill).
func (p *proc) stop(d time.Duration) int {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return cmd.ProcessState.ExitCode()
	case <-time.After(d):
		p.kill()
		return -1
	}
}

// unprivileged is the credential upstream daemons run with: nobody's
// when the soak runs as root (a root squid switches users and then cannot
// write its logs), nil otherwise.
func unprivileged() *syscall.Credential {
	if os.Geteuid() != 0 {
		return nil
	}
	return &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}
}

func lookBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		if p := filepath.Join(d, name); fileExists(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not installed (scripts/install-deps.sh installs it)", name)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// waitProxy waits until a GET through proxyURL reaches target.
func waitProxy(proxyURL, target string, d time.Duration) error {
	u, _ := url.Parse(proxyURL)
	tr := &http.Transport{Proxy: http.ProxyURL(u), DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	deadline := time.Now().Add(d)
	var last error
	for time.Now().Before(deadline) {
		resp, err := c.Get(target)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not proxying after %v: %v", d, last)
}

// ---------------------------------------------------------------------
// The origin

// startOrigin serves /small (64 bytes) and /bytes?n=N on three loopback
// listeners, one per route, and returns their ports.
func startOrigin() ([3]int, func()) {
	small := strings.Repeat("s", 64)
	chunk := []byte(strings.Repeat("0123456789abcdef", 2048))
	mux := http.NewServeMux()
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, small) })
	mux.HandleFunc("/bytes", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.Header().Set("Content-Length", strconv.Itoa(n))
		for n > 0 {
			m, err := w.Write(chunk[:min(n, len(chunk))])
			if err != nil {
				return
			}
			n -= m
		}
	})
	var ports [3]int
	var srvs []*http.Server
	for i := range ports {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		srvs = append(srvs, srv)
		go srv.Serve(ln)
	}
	return ports, func() {
		for _, s := range srvs {
			s.Close()
		}
	}
}

// ---------------------------------------------------------------------
// Load

// tally counts requests and errors by kind and cause.
type tally struct {
	mu     sync.Mutex
	ok     map[string]int64
	errs   map[string]int64 // "kind: cause"
	window map[string]int64 // the same, for errors while an upstream was down or just back
	// the periods during which errors are the failover's: from a kill
	// to 5 s after the restart
	down []struct{ from, to time.Time }
}

func newTally() *tally {
	return &tally{ok: map[string]int64{}, errs: map[string]int64{}, window: map[string]int64{}}
}

func (t *tally) result(kind string, start time.Time, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		t.ok[kind]++
		return
	}
	key := kind + ": " + cause(err)
	for _, d := range t.down {
		if !start.Before(d.from) && (d.to.IsZero() || start.Before(d.to)) {
			t.window[key]++
			return
		}
	}
	t.errs[key]++
}

func (t *tally) markDown(from time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.down = append(t.down, struct{ from, to time.Time }{from.Add(-time.Second), time.Time{}})
	return len(t.down) - 1
}

func (t *tally) markUp(i int, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.down[i].to = at.Add(5 * time.Second)
}

// statusError is an answer with an unexpected status.
type statusError struct {
	code   int
	reason string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d %s", e.code, e.reason) }

// cause names an error's kind for the report.
func cause(err error) string {
	var se *statusError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		return "status " + strconv.Itoa(se.code)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed early"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "short body"):
		return "short body"
	case strings.Contains(err.Error(), "SOCKS"), strings.Contains(err.Error(), "socks"):
		return "SOCKS failure"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// fetch GETs u with c and checks the body's length.
func fetch(c *http.Client, u string, want int) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return &statusError{resp.StatusCode, resp.Header.Get("X-Pacd-Error")}
	}
	if int(n) != want {
		return fmt.Errorf("short body: %d of %d bytes", n, want)
	}
	return nil
}

type load struct {
	pacdHTTP, pacdSOCKS string
	ports               [3]int
	t                   *tally
}

// target picks a route and a path: mostly small requests, some of 64 KiB.
func (l *load) target(r *rand.Rand) (hostport, path string, size int) {
	hp := hostPort(l.ports[r.IntN(3)])
	if r.IntN(10) == 0 {
		return hp, "/bytes?n=65536", 65536
	}
	return hp, "/small", 64
}

// httpWorker sends requests over keep-alive connections through pacd's
// HTTP listener.
func (l *load) httpWorker(ctx context.Context, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	pu, _ := url.Parse("http://" + l.pacdHTTP)
	tr := &http.Transport{Proxy: http.ProxyURL(pu), MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 15 * time.Second}
	for ctx.Err() == nil {
		hp, path, size := l.target(r)
		start := time.Now()
		l.t.result("http", start, fetch(c, "http://"+hp+path, size))
	}
}

// socksWorker sends requests through pacd's SOCKS5 listener, opening a
// new SOCKS connection every few requests.
func (l *load) socksWorker(ctx context.Context, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 2))
	pu, _ := url.Parse("socks5://" + l.pacdSOCKS)
	tr := &http.Transport{Proxy: http.ProxyURL(pu)}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 15 * time.Second}
	for i := 0; ctx.Err() == nil; i++ {
		if i%5 == 0 {
			tr.CloseIdleConnections()
		}
		hp, path, size := l.target(r)
		start := time.Now()
		l.t.result("socks5", start, fetch(c, "http://"+hp+path, size))
	}
}

// connectWorker opens CONNECT tunnels through pacd's HTTP listener and
// sends three HTTP requests inside each.
func (l *load) connectWorker(ctx context.Context, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 3))
	for ctx.Err() == nil {
		hp, path, size := l.target(r)
		start := time.Now()
		l.t.result("connect", start, l.tunnelOnce(hp, path, size))
	}
}

func (l *load) tunnelOnce(hp, path string, size int) error {
	c, err := net.DialTimeout("tcp", l.pacdHTTP, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", hp, hp)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return &statusError{resp.StatusCode, resp.Header.Get("X-Pacd-Error")}
	}
	for range 3 {
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, hp)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || int(n) != size {
			return fmt.Errorf("short body: %s, %d of %d bytes", resp.Status, n, size)
		}
	}
	return nil
}

// ---------------------------------------------------------------------
// Samples

type sample struct {
	At         float64        `json:"at_s"`
	Goroutines int64          `json:"goroutines"`
	HeapBytes  int64          `json:"heap_bytes"`
	RSSKiB     int64          `json:"rss_kib"`
	FDs        int            `json:"fds"`
	FDKinds    map[string]int `json:"fd_kinds"` // socket, pipe, anon_inode, file
	Tunnels    int64          `json:"tunnels_open"`
	Conns      int64          `json:"connections_open"`
}

func takeSample(pacdHTTP string, pid int, start time.Time) (sample, error) {
	s := sample{At: time.Since(start).Seconds()}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + pacdHTTP + "/metrics")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		switch name {
		case "pacd_goroutines":
			s.Goroutines = n
		case "pacd_heap_bytes":
			s.HeapBytes = n
		case "pacd_tunnels_open":
			s.Tunnels = n
		case "pacd_connections_open":
			s.Conns = n
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				s.RSSKiB, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			}
		}
	}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		s.FDs = len(fds)
		s.FDKinds = map[string]int{}
		for _, f := range fds {
			l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, f.Name()))
			if err != nil {
				continue
			}
			kind, _, ok := strings.Cut(l, ":")
			if !ok || strings.HasPrefix(l, "/") {
				kind = "file"
			}
			s.FDKinds[kind]++
		}
	}
	return s, nil
}

// ---------------------------------------------------------------------
// The run

type report struct {
	Duration    string           `json:"duration"`
	Served      map[string]int64 `json:"served"`
	ServedTotal int64            `json:"served_total"`
	Errors      map[string]int64 `json:"errors"`
	Failover    map[string]int64 `json:"errors_during_failover"`
	Kills       int              `json:"upstream_kills"`
	Reloads     int              `json:"sighups"`
	Samples     []sample         `json:"samples"`
	AfterReload *sample          `json:"after_reload,omitempty"`
	PacdExit    int              `json:"pacd_exit"`
	PacdDied    bool             `json:"pacd_died"`
}

func run(ctx context.Context, o *options) int {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		logf("%v", err)
		return 1
	}
	os.Chmod(o.dir, 0o755)
	squidBin, err := lookBin("squid")
	if err != nil {
		logf("%v", err)
		return 1
	}
	msBin, err := lookBin("microsocks")
	if err != nil {
		logf("%v", err)
		return 1
	}
	ports, stopOrigin := startOrigin()
	defer stopOrigin()
	squidPort, msPort, pacdPort, socksPort := freePort(), freePort(), freePort(), freePort()
	squidAddr, msAddr := hostPort(squidPort), hostPort(msPort)
	cred := unprivileged()

	// squid, as in bench/daemon.sh: no cache, logs in the scratch
	// directory, one process (-N).
	sdir := filepath.Join(o.dir, "squid")
	os.MkdirAll(sdir, 0o755)
	name := fmt.Sprintf("pacdsoak%d", os.Getpid())
	conf := strings.Join([]string{
		"http_port " + squidAddr,
		"pid_filename " + sdir + "/squid.pid",
		"cache_log " + sdir + "/cache.log",
		"access_log none",
		"coredump_dir " + sdir,
		"netdb_filename none",
		"pinger_enable off",
		"cache deny all",
		"cache_mem 8 MB",
		"shutdown_lifetime 1 seconds",
		"visible_hostname pacd-soak-squid",
		"dns_nameservers 127.0.0.1",
		"udp_outgoing_address 127.0.0.1",
		"udp_incoming_address 127.0.0.1",
		"http_access allow localhost",
		"http_access deny all",
	}, "\n") + "\n"
	os.WriteFile(filepath.Join(sdir, "squid.conf"), []byte(conf), 0o644)
	if cred != nil {
		os.Chown(sdir, int(cred.Uid), int(cred.Gid))
	}
	shm := func() {
		m, _ := filepath.Glob("/dev/shm/" + name + "-*")
		for _, f := range m {
			os.Remove(f)
		}
	}
	squid := &proc{name: "squid", argv: []string{squidBin, "-n", name, "-N", "-f", filepath.Join(sdir, "squid.conf")}, dir: sdir, cred: cred, out: filepath.Join(sdir, "squid.out")}
	// Not -b 127.0.0.1: binding each outgoing socket before connecting
	// takes an ephemeral port for good while it waits in TIME_WAIT, and
	// at the soak's rate microsocks ran out of them ("socket/connect:
	// Address already in use", a SOCKS general failure to pacd). Its
	// targets are all 127.0.0.1, so its connections stay on loopback.
	ms := &proc{name: "microsocks", argv: []string{msBin, "-i", "127.0.0.1", "-p", strconv.Itoa(msPort)}, dir: o.dir, cred: cred, out: filepath.Join(o.dir, "microsocks.out")}
	defer func() {
		squid.kill()
		ms.kill()
		shm()
	}()
	shm()
	for _, p := range []*proc{squid, ms} {
		if err := p.start(); err != nil {
			logf("%v", err)
			return 1
		}
	}
	small := "http://" + hostPort(ports[0]) + "/small"
	if err := waitProxy("http://"+squidAddr, small, 20*time.Second); err != nil {
		logf("squid: %v", err)
		return 1
	}
	if err := waitProxy("socks5://"+msAddr, small, 20*time.Second); err != nil {
		logf("microsocks: %v", err)
		return 1
	}

	pacPath := filepath.Join(o.dir, "soak.pac")
	pac := fmt.Sprintf(`// bench/soak: the first route DIRECT, the second squid then microsocks,
// the third microsocks then squid. Every host is 127.0.0.1.
function FindProxyForURL(url, host) {
  if (shExpMatch(url, "*:%d/*")) return "PROXY %s; SOCKS5 %s";
  if (shExpMatch(url, "*:%d/*")) return "SOCKS5 %s; PROXY %s";
  return "DIRECT";
}
`, ports[1], squidAddr, msAddr, ports[2], msAddr, squidAddr)
	os.WriteFile(pacPath, []byte(pac), 0o644)
	pacdHTTP, pacdSOCKS := hostPort(pacdPort), hostPort(socksPort)
	pacd := &proc{name: "pacd", argv: []string{o.pacd, "serve", "--listen", pacdHTTP, "--socks", pacdSOCKS,
		"--pac", pacPath, "--proxy-loopback", "--no-env", "--log-level", "warn", "--drain", "2s"},
		dir: o.dir, out: filepath.Join(o.dir, "pacd.log")}
	if err := pacd.start(); err != nil {
		logf("%v", err)
		return 1
	}
	defer pacd.kill()
	for _, p := range ports {
		if err := waitProxy("http://"+pacdHTTP, "http://"+hostPort(p)+"/small", 20*time.Second); err != nil {
			logf("pacd: %v", err)
			return 1
		}
	}
	logf("origin on %v, squid %s, microsocks %s, pacd %s (SOCKS %s), pid %d", ports, squidAddr, msAddr, pacdHTTP, pacdSOCKS, pacd.pid())

	t := newTally()
	l := &load{pacdHTTP: pacdHTTP, pacdSOCKS: pacdSOCKS, ports: ports, t: t}
	start := time.Now()
	rep := &report{Duration: o.duration.String()}
	first, err := takeSample(pacdHTTP, pacd.pid(), start)
	if err != nil {
		logf("metrics: %v", err)
		return 1
	}
	rep.Samples = append(rep.Samples, first)

	lctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var wg sync.WaitGroup
	for i := range o.conc {
		for _, w := range []func(context.Context, uint64){l.httpWorker, l.connectWorker, l.socksWorker} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w(lctx, uint64(i)+1)
			}()
		}
	}
	// Chaos: kills, restarts and SIGHUPs, until the load ends.
	var kills, hups atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		kill := time.NewTicker(o.killEvery)
		hup := time.NewTicker(o.hupEvery)
		smp := time.NewTicker(o.sampleEvery)
		defer kill.Stop()
		defer hup.Stop()
		defer smp.Stop()
		victims := []*proc{ms, squid}
		for n := 0; ; {
			select {
			case <-lctx.Done():
				return
			case <-hup.C:
				if pacd.alive() {
					syscall.Kill(pacd.pid(), syscall.SIGHUP)
					hups.Add(1)
				}
			case <-smp.C:
				if s, err := takeSample(pacdHTTP, pacd.pid(), start); err == nil {
					t.mu.Lock()
					rep.Samples = append(rep.Samples, s)
					t.mu.Unlock()
					logf("%5.0fs: goroutines %d, heap %.1f MiB, RSS %.1f MiB, fds %d, tunnels %d", s.At, s.Goroutines, float64(s.HeapBytes)/(1<<20), float64(s.RSSKiB)/1024, s.FDs, s.Tunnels)
				} else {
					logf("metrics: %v", err)
				}
			case <-kill.C:
				v := victims[n%len(victims)]
				n++
				i := t.markDown(time.Now())
				v.kill()
				kills.Add(1)
				logf("killed %s", v.name)
				select {
				case <-lctx.Done():
				case <-time.After(o.down):
				}
				if v == squid {
					shm()
				}
				var err error
				for range 20 {
					if err = v.start(); err == nil {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				proxyURL := "http://" + squidAddr
				if v == ms {
					proxyURL = "socks5://" + msAddr
				}
				if err == nil {
					err = waitProxy(proxyURL, small, 20*time.Second)
				}
				if err != nil {
					logf("restarting %s: %v", v.name, err)
				} else {
					logf("restarted %s", v.name)
				}
				t.markUp(i, time.Now())
			}
		}
	}()
	wg.Wait()

	// Let pacd settle: pooled connections to the upstreams stay, the
	// clients' connections and their goroutines go.
	select {
	case <-time.After(o.settle):
	case <-ctx.Done():
	}
	rep.PacdDied = !pacd.alive()
	if s, err := takeSample(pacdHTTP, pacd.pid(), start); err == nil {
		rep.Samples = append(rep.Samples, s)
	} else {
		logf("final metrics: %v", err)
	}
	// A reload lets go of the pooled upstream connections: what is left
	// after it is what the run left behind.
	if !rep.PacdDied {
		syscall.Kill(pacd.pid(), syscall.SIGHUP)
		time.Sleep(2 * time.Second)
		if s, err := takeSample(pacdHTTP, pacd.pid(), start); err == nil {
			rep.AfterReload = &s
		}
	}
	rep.Kills, rep.Reloads = int(kills.Load()), int(hups.Load())
	rep.Served, rep.Errors, rep.Failover = t.ok, t.errs, t.window
	for _, n := range t.ok {
		rep.ServedTotal += n
	}
	if !rep.PacdDied {
		rep.PacdExit = pacd.stop(10 * time.Second)
	} else {
		rep.PacdExit = -1
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	os.WriteFile(filepath.Join(o.dir, "report.json"), b, 0o644)
	printReport(os.Stdout, rep, o)
	if rep.PacdDied || rep.PacdExit != 0 {
		logf("pacd died or did not exit cleanly (exit %d); its log is %s", rep.PacdExit, pacd.out)
		return 1
	}
	var unexpected int64
	for _, n := range rep.Errors {
		unexpected += n
	}
	if unexpected*1000 > rep.ServedTotal {
		logf("more than 0.1%% of the requests failed outside the failover windows")
		return 1
	}
	return 0
}

func printReport(w io.Writer, r *report, o *options) {
	fmt.Fprintf(w, "\n# pacd soak: %s, %d workers of each kind, an upstream killed every %v (down %v), SIGHUP every %v\n\n", r.Duration, o.conc, o.killEvery, o.down, o.hupEvery)
	fmt.Fprintf(w, "| served | count |\n|---|---|\n")
	for _, k := range sortedKeys(r.Served) {
		fmt.Fprintf(w, "| %s | %d |\n", k, r.Served[k])
	}
	fmt.Fprintf(w, "| total | %d |\n\n", r.ServedTotal)
	fmt.Fprintf(w, "upstream kills: %d, SIGHUPs: %d, pacd: %s\n\n", r.Kills, r.Reloads, map[bool]string{true: "DIED", false: fmt.Sprintf("alive, exit %d on SIGTERM", r.PacdExit)}[r.PacdDied])
	fmt.Fprintf(w, "| errors (kind: cause) | outside failover | while an upstream was down or just back |\n|---|---|---|\n")
	keys := map[string]bool{}
	for k := range r.Errors {
		keys[k] = true
	}
	for k := range r.Failover {
		keys[k] = true
	}
	var ks []string
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	if len(ks) == 0 {
		fmt.Fprintf(w, "| none | 0 | 0 |\n")
	}
	for _, k := range ks {
		fmt.Fprintf(w, "| %s | %d | %d |\n", k, r.Errors[k], r.Failover[k])
	}
	if len(r.Samples) >= 2 {
		a, z := r.Samples[0], r.Samples[len(r.Samples)-1]
		var mx sample
		for _, s := range r.Samples {
			mx.Goroutines = max(mx.Goroutines, s.Goroutines)
			mx.HeapBytes = max(mx.HeapBytes, s.HeapBytes)
			mx.RSSKiB = max(mx.RSSKiB, s.RSSKiB)
			mx.FDs = max(mx.FDs, s.FDs)
		}
		fmt.Fprintf(w, "\n| pacd | before the load | peak | after the load | growth |\n|---|---|---|---|---|\n")
		fmt.Fprintf(w, "| goroutines | %d | %d | %d | %+d |\n", a.Goroutines, mx.Goroutines, z.Goroutines, z.Goroutines-a.Goroutines)
		fmt.Fprintf(w, "| live heap (MiB) | %.1f | %.1f | %.1f | %+.1f |\n", mib(a.HeapBytes), mib(mx.HeapBytes), mib(z.HeapBytes), mib(z.HeapBytes-a.HeapBytes))
		fmt.Fprintf(w, "| VmRSS (MiB) | %.1f | %.1f | %.1f | %+.1f |\n", float64(a.RSSKiB)/1024, float64(mx.RSSKiB)/1024, float64(z.RSSKiB)/1024, float64(z.RSSKiB-a.RSSKiB)/1024)
		fmt.Fprintf(w, "| open descriptors | %d | %d | %d | %+d |\n", a.FDs, mx.FDs, z.FDs, z.FDs-a.FDs)
		fmt.Fprintf(w, "\n(%d samples, every %v; \"after the load\" %v after it stopped, with pacd's pooled connections to the upstreams still open)\n", len(r.Samples), o.sampleEvery, o.settle)
		if z := r.AfterReload; z != nil {
			fmt.Fprintf(w, "after a SIGHUP, which drops the pools: goroutines %d (%+d), live heap %.1f MiB (%+.1f), VmRSS %.1f MiB (%+.1f), descriptors %d (%+d; %v, before the load %v)\n",
				z.Goroutines, z.Goroutines-a.Goroutines, mib(z.HeapBytes), mib(z.HeapBytes-a.HeapBytes), float64(z.RSSKiB)/1024, float64(z.RSSKiB-a.RSSKiB)/1024, z.FDs, z.FDs-a.FDs, z.FDKinds, a.FDKinds)
		}
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func sortedKeys(m map[string]int64) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
