package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// idleResult is the JSON line of one idle-tunnel measurement.
type idleResult struct {
	Kind        string   `json:"kind"` // "idle"
	Label       string   `json:"label"`
	Proxy       string   `json:"proxy"`
	Target      string   `json:"target"`
	PID         int      `json:"pid"`
	N           int      `json:"n"`
	Established int      `json:"established"`
	Alive       int      `json:"alive"` // still open after the settle time
	Errors      int      `json:"errors"`
	ErrorTop    []string `json:"error_top,omitempty"`
	OpenSeconds float64  `json:"open_seconds"`
	Procs       int      `json:"procs"`   // the proxy's processes (it and its descendants)
	Threads     int      `json:"threads"` // their threads, with all tunnels open
	RSSBeforeK  int64    `json:"rss_before_kib"`
	RSSAfterK   int64    `json:"rss_after_kib"`
	DeltaMiB    float64  `json:"delta_mib"`
	TotalMiB    float64  `json:"total_mib"`
	KiBPer      float64  `json:"kib_per_tunnel"`
}

func runIdle(args []string) error {
	fs := newFlags("idle")
	label := fs.String("label", "", "a `name` for this run in the report")
	proxyF := fs.String("proxy", "", "the HTTP proxy `host:port`")
	target := fs.String("target", "", "the origin's hold `host:port`")
	n := fs.Int("n", 5000, "idle tunnels to open")
	pid := fs.Int("pid", 0, "the proxy's process `ID`, whose VmRSS (with its descendants') is read")
	par := fs.Int("parallel", 32, "tunnels being opened at once")
	settle := fs.Duration("settle", 2*time.Second, "wait after the last tunnel opened, before reading RSS")
	fs.Parse(args)
	nofile := raiseNofile()
	proxy, err := proxyAddr(*proxyF)
	if err != nil {
		return err
	}
	if proxy == "" || *pid <= 0 {
		return errors.New("idle needs -proxy and -pid")
	}
	if err := loopbackHostPort(*target); err != nil {
		return err
	}
	if uint64(*n)+64 > nofile {
		logf("idle: warning: %d tunnels and an open files limit of %d", *n, nofile)
	}
	before, _, _, err := treeRSS(*pid)
	if err != nil {
		return err
	}

	var (
		errs  errCount
		conns = make([]net.Conn, *n)
		next  atomic.Int64
		wg    sync.WaitGroup
	)
	start := time.Now()
	for w := 0; w < *par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= *n {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				c, err := dialTunnel(ctx, proxy, *target)
				cancel()
				if err != nil {
					errs.add(err)
					continue
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	openSecs := time.Since(start).Seconds()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	established := 0
	for _, c := range conns {
		if c != nil {
			established++
		}
	}
	time.Sleep(*settle)
	after, procs, threads, err := treeRSS(*pid)
	if err != nil {
		return err
	}
	alive := countAlive(conns)

	r := idleResult{
		Kind: "idle", Label: *label, Proxy: *proxyF, Target: *target, PID: *pid, N: *n,
		Established: established, Alive: alive, Errors: errs.count(), ErrorTop: errs.top(3),
		OpenSeconds: openSecs, Procs: procs, Threads: threads, RSSBeforeK: before, RSSAfterK: after,
		DeltaMiB: float64(after-before) / 1024, TotalMiB: float64(after) / 1024,
	}
	if established > 0 {
		r.KiBPer = float64(after-before) / float64(established)
	}
	emit(r)
	logf("idle %-10s %d/%d tunnels open (%d alive after %v, opened in %.1fs): RSS %.1f → %.1f MiB, %.1f KiB per tunnel, %d processes, %d threads, %v",
		*label, established, *n, alive, *settle, openSecs, float64(before)/1024, float64(after)/1024, r.KiBPer, procs, threads, &errs)
	if established == 0 {
		return fmt.Errorf("no tunnel opened (%v)", &errs)
	}
	return nil
}

// countAlive reports how many tunnels are still open: a read that times
// out (nothing to read, no EOF) means the tunnel is still there.
func countAlive(conns []net.Conn) int {
	var alive atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, c := range conns {
		if c == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(c net.Conn) {
			defer wg.Done()
			defer func() { <-sem }()
			c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			var b [1]byte
			_, err := c.Read(b[:])
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				alive.Add(1)
			}
			c.SetReadDeadline(time.Time{})
		}(c)
	}
	wg.Wait()
	return int(alive.Load())
}

// treeRSS sums VmRSS (KiB) over pid and its descendants, and counts them
// and their threads. A proxy that forks per connection is measured
// whole (pages its processes share are then counted once per process).
func treeRSS(pid int) (rssKiB int64, procs, threads int, err error) {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, ok := ppid(p); ok {
			children[pp] = append(children[pp], p)
		}
	}
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		rss, th, err := statusRSS(p)
		if err != nil {
			if p == pid {
				return 0, 0, 0, err
			}
			continue // gone meanwhile
		}
		rssKiB += rss
		threads += th
		procs++
		queue = append(queue, children[p]...)
	}
	return rssKiB, procs, threads, nil
}

func ppid(pid int) (int, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	// pid (comm) state ppid ...; comm may hold blanks and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(f[1])
	return pp, err == nil
}

// statusRSS reads VmRSS (KiB) and Threads from /proc/PID/status.
func statusRSS(pid int) (rss int64, threads int, err error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	found := false
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "VmRSS":
			rss, err = strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("/proc/%d/status: VmRSS %q", pid, v)
			}
			found = true
		case "Threads":
			threads, _ = strconv.Atoi(v)
		}
	}
	if !found {
		return 0, 0, fmt.Errorf("/proc/%d/status has no VmRSS (a zombie?)", pid)
	}
	return rss, threads, sc.Err()
}

func runWait(args []string) error {
	fs := newFlags("wait")
	proxyF := fs.String("proxy", "none", "the HTTP proxy `URL`, or none")
	target := fs.String("target", "", "a `URL` that must answer 200 through the proxy")
	connect := fs.String("connect", "", "also open a tunnel to this source `host:port` and read a byte through it")
	timeout := fs.Duration("timeout", 20*time.Second, "how long to wait")
	fs.Parse(args)
	pu, err := proxyURL(*proxyF)
	if err != nil {
		return err
	}
	tu, err := loopbackURL(*target)
	if err != nil {
		return err
	}
	if *connect != "" {
		if err := loopbackHostPort(*connect); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(*timeout)
	var last error
	for time.Now().Before(deadline) {
		if last = waitOnce(pu, tu, *connect); last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not proxying after %v: %v", *proxyF, *timeout, last)
}

func waitOnce(pu, tu *url.URL, connect string) error {
	var conns atomic.Int64
	var on atomic.Bool
	tr := newTransport(pu, &conns, &on)
	defer tr.CloseIdleConnections()
	if _, err := get(&http.Client{Transport: tr, Timeout: 3 * time.Second}, tu); err != nil {
		return err
	}
	if connect == "" {
		return nil
	}
	proxy := ""
	if pu != nil {
		proxy = pu.Host
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := dialTunnel(ctx, proxy, connect)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	_, err = readStream(c, 1)
	return err
}
