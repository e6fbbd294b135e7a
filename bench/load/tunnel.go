package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// dialTunnel opens a TCP connection to target: through a CONNECT tunnel
// of the HTTP proxy at proxy, or directly when proxy is "". It returns
// once the proxy answered 200, which every proxy measured here sends
// only after it connected to the target.
func dialTunnel(ctx context.Context, proxy, target string) (net.Conn, error) {
	var d net.Dialer
	if proxy == "" {
		return d.DialContext(ctx, "tcp", target)
	}
	c, err := d.DialContext(ctx, "tcp", proxy)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	req := "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(c, 1024)
	status, err := br.ReadSlice('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("CONNECT: reading the answer: %w", err)
	}
	// "HTTP/1.x 200 ..."
	f := bytes.Fields(status)
	if len(f) < 2 || !bytes.HasPrefix(f[0], []byte("HTTP/1.")) || string(f[1]) != "200" {
		c.Close()
		return nil, fmt.Errorf("CONNECT: %q", bytes.TrimSpace(status))
	}
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("CONNECT: reading the answer's headers: %w", err)
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
	}
	c.SetDeadline(time.Time{})
	if br.Buffered() > 0 {
		return &bufConn{Conn: c, r: br}, nil
	}
	return c, nil
}

// bufConn is a tunnel whose first bytes arrived with the proxy's answer.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// tunnelResult is the JSON line of one tunnel measurement.
type tunnelResult struct {
	Kind       string    `json:"kind"` // "tunnel"
	Label      string    `json:"label"`
	Proxy      string    `json:"proxy"`
	Target     string    `json:"target"`
	Streams    int       `json:"streams"`
	Bytes      int64     `json:"bytes_per_stream"`
	Repeat     int       `json:"repeat"`
	RunsMBs    []float64 `json:"runs_mb_s"`
	MBs        float64   `json:"mb_s"` // median of the runs, 10^6 bytes per second
	Errors     int       `json:"errors"`
	ErrorTop   []string  `json:"error_top,omitempty"`
	TotalBytes int64     `json:"total_bytes"`
}

func runTunnel(args []string) error {
	fs := newFlags("tunnel")
	label := fs.String("label", "", "a `name` for this run in the report")
	proxyF := fs.String("proxy", "none", "the HTTP proxy `host:port`, or none for direct TCP")
	target := fs.String("target", "", "the origin's source `host:port`")
	n := fs.Int64("bytes", 1<<30, "bytes to read per stream")
	streams := fs.Int("streams", 1, "concurrent streams")
	repeat := fs.Int("repeat", 3, "runs; the result is their median")
	fs.Parse(args)
	raiseNofile()
	proxy, err := proxyAddr(*proxyF)
	if err != nil {
		return err
	}
	if err := loopbackHostPort(*target); err != nil {
		return err
	}
	if *n < 1 || *streams < 1 || *repeat < 1 {
		return errors.New("-bytes, -streams and -repeat must be positive")
	}
	var errs errCount
	r := tunnelResult{Kind: "tunnel", Label: *label, Proxy: *proxyF, Target: *target, Streams: *streams, Bytes: *n, Repeat: *repeat}
	for i := 0; i < *repeat; i++ {
		got, secs, err := tunnelOnce(proxy, *target, *n, *streams)
		r.TotalBytes += got
		if err != nil {
			errs.add(err)
			continue
		}
		r.RunsMBs = append(r.RunsMBs, float64(got)/secs/1e6)
	}
	r.Errors, r.ErrorTop = errs.count(), errs.top(3)
	r.MBs = median(r.RunsMBs)
	emit(r)
	logf("tunnel %-10s streams=%d %6.0f MB/s (runs %s), %v", *label, *streams, r.MBs, fmtRuns(r.RunsMBs), &errs)
	if len(r.RunsMBs) == 0 {
		return fmt.Errorf("no run succeeded (%v)", &errs)
	}
	return nil
}

// median is the middle value of runs (the mean of the two middle ones
// for an even count), 0 for none.
func median(runs []float64) float64 {
	if len(runs) == 0 {
		return 0
	}
	s := slices.Clone(runs)
	slices.Sort(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

func fmtRuns(runs []float64) string {
	var b []byte
	for i, v := range runs {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendFloat(b, v, 'f', 0, 64)
	}
	return string(b)
}

// tunnelOnce opens streams tunnels, then, all at once, asks the source
// for n bytes on each and reads them. The time runs from the requests to
// the last byte: tunnel set-up is connect-rate's business.
func tunnelOnce(proxy, target string, n int64, streams int) (int64, float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conns := make([]net.Conn, 0, streams)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < streams; i++ {
		c, err := dialTunnel(ctx, proxy, target)
		if err != nil {
			return 0, 0, err
		}
		conns = append(conns, c)
	}
	var (
		wg    sync.WaitGroup
		total atomic.Int64
		mu    sync.Mutex
		first error
	)
	start := time.Now()
	for _, c := range conns {
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			got, err := readStream(c, n)
			total.Add(got)
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	return total.Load(), secs, first
}

// readStream asks the source for n bytes and reads them.
func readStream(c net.Conn, n int64) (int64, error) {
	if _, err := c.Write([]byte(strconv.FormatInt(n, 10) + "\n")); err != nil {
		return 0, err
	}
	buf := make([]byte, 256<<10)
	var got int64
	for got < n {
		m, err := c.Read(buf)
		got += int64(m)
		if err != nil {
			return got, fmt.Errorf("after %d of %d bytes: %w", got, n, err)
		}
	}
	return got, nil
}

// connectResult is the JSON line of one connect-rate run.
type connectResult struct {
	Kind     string   `json:"kind"` // "connect-rate"
	Label    string   `json:"label"`
	Proxy    string   `json:"proxy"`
	Target   string   `json:"target"`
	Conc     int      `json:"conc"`
	Seconds  float64  `json:"seconds"`
	Connects int      `json:"connects"`
	Errors   int      `json:"errors"`
	ErrorTop []string `json:"error_top,omitempty"`
	PerSec   float64  `json:"per_s"`
	P50MS    float64  `json:"p50_ms"`
	P99MS    float64  `json:"p99_ms"`
}

func runConnectRate(args []string) error {
	fs := newFlags("connect-rate")
	label := fs.String("label", "", "a `name` for this run in the report")
	proxyF := fs.String("proxy", "none", "the HTTP proxy `host:port`, or none for direct TCP connects")
	target := fs.String("target", "", "the tunnels' `host:port` (the origin's hold port)")
	conc := fs.Int("c", 8, "concurrent workers")
	dur := fs.Duration("d", 10*time.Second, "how long to measure")
	fs.Parse(args)
	raiseNofile()
	proxy, err := proxyAddr(*proxyF)
	if err != nil {
		return err
	}
	if err := loopbackHostPort(*target); err != nil {
		return err
	}
	var (
		errs    errCount
		wg      sync.WaitGroup
		samples = make([]latencies, *conc)
		end     = time.Now().Add(*dur)
		start   = time.Now()
	)
	for i := 0; i < *conc; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var s latencies
			for time.Now().Before(end) {
				t0 := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				c, err := dialTunnel(ctx, proxy, *target)
				cancel()
				if err != nil {
					errs.add(err)
					// Do not spin on a refusing proxy.
					time.Sleep(time.Millisecond)
					continue
				}
				c.Close()
				s = append(s, time.Since(t0))
			}
			samples[i] = s
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all latencies
	for _, s := range samples {
		all = append(all, s...)
	}
	all = all.sorted()
	r := connectResult{
		Kind: "connect-rate", Label: *label, Proxy: *proxyF, Target: *target, Conc: *conc,
		Seconds: elapsed.Seconds(), Connects: len(all), Errors: errs.count(), ErrorTop: errs.top(3),
		PerSec: float64(len(all)) / elapsed.Seconds(), P50MS: ms(all.pct(50)), P99MS: ms(all.pct(99)),
	}
	emit(r)
	logf("connect-rate %-10s c=%d %8.0f connects/s  p50 %.3f ms  p99 %.3f ms, %v", *label, *conc, r.PerSec, r.P50MS, r.P99MS, &errs)
	if r.Connects == 0 {
		return fmt.Errorf("no connect succeeded (%v)", &errs)
	}
	return nil
}
