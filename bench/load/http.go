package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// httpResult is the JSON line of one http run.
type httpResult struct {
	Kind     string   `json:"kind"` // "http"
	Label    string   `json:"label"`
	Proxy    string   `json:"proxy"`
	Target   string   `json:"target"`
	Conc     int      `json:"conc"`
	Seconds  float64  `json:"seconds"`
	Requests int      `json:"requests"`
	Errors   int      `json:"errors"`
	ErrorTop []string `json:"error_top,omitempty"`
	NewConns int64    `json:"new_conns"` // TCP connections the clients opened
	// OriginConns is how many connections the origin accepted while
	// measuring (-1: not known): the proxy's, when there is one.
	OriginConns int64   `json:"origin_conns"`
	RPS         float64 `json:"rps"`
	MeanMS      float64 `json:"mean_ms"`
	P50MS       float64 `json:"p50_ms"`
	P90MS       float64 `json:"p90_ms"`
	P99MS       float64 `json:"p99_ms"`
	MaxMS       float64 `json:"max_ms"`
	BodyBytes   int64   `json:"body_bytes"`
}

func runHTTP(args []string) error {
	fs := newFlags("http")
	label := fs.String("label", "", "a `name` for this run in the report")
	proxy := fs.String("proxy", "none", "the HTTP proxy `URL`, or none for direct")
	target := fs.String("target", "", "the `URL` to GET (an http:// loopback URL)")
	conc := fs.Int("c", 32, "concurrent workers, each with its own keep-alive connection")
	dur := fs.Duration("d", 10*time.Second, "how long to measure")
	warmup := fs.Duration("warmup", time.Second, "how long to run before measuring")
	timeout := fs.Duration("timeout", 10*time.Second, "per-request timeout")
	stats := fs.String("origin-stats", "", "the origin's /stats `URL`, read directly before and after measuring")
	fs.Parse(args)
	raiseNofile()
	pu, err := proxyURL(*proxy)
	if err != nil {
		return err
	}
	tu, err := loopbackURL(*target)
	if err != nil {
		return err
	}
	var su *url.URL
	if *stats != "" {
		if su, err = loopbackURL(*stats); err != nil {
			return err
		}
	}
	if *conc < 1 {
		return errors.New("-c must be at least 1")
	}

	var (
		measuring atomic.Bool
		newConns  atomic.Int64
		errs      errCount
		bodyBytes atomic.Int64
		wg        sync.WaitGroup
		samples   = make([]latencies, *conc)
		stop      = make(chan struct{})
	)
	for i := 0; i < *conc; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tr := newTransport(pu, &newConns, &measuring)
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr, Timeout: *timeout}
			s := make(latencies, 0, 4096)
			for {
				select {
				case <-stop:
					samples[i] = s
					return
				default:
				}
				t0 := time.Now()
				n, err := get(cl, tu)
				d := time.Since(t0)
				if !measuring.Load() {
					continue
				}
				if err != nil {
					errs.add(err)
					continue
				}
				bodyBytes.Add(n)
				s = append(s, d)
			}
		}(i)
	}
	time.Sleep(*warmup)
	conns0 := originConns(su)
	measuring.Store(true)
	start := time.Now()
	time.Sleep(*dur)
	measuring.Store(false)
	elapsed := time.Since(start)
	originOpened := int64(-1)
	if conns1 := originConns(su); conns0 >= 0 && conns1 >= 0 {
		originOpened = conns1 - conns0 - 1 // the second stats request's own
	}
	close(stop)
	wg.Wait()

	var all latencies
	for _, s := range samples {
		all = append(all, s...)
	}
	all = all.sorted()
	r := httpResult{
		Kind: "http", Label: *label, Proxy: *proxy, Target: tu.String(), Conc: *conc,
		Seconds: elapsed.Seconds(), Requests: len(all), Errors: errs.count(), ErrorTop: errs.top(3),
		NewConns: newConns.Load(), OriginConns: originOpened, RPS: float64(len(all)) / elapsed.Seconds(),
		MeanMS: ms(all.mean()), P50MS: ms(all.pct(50)), P90MS: ms(all.pct(90)), P99MS: ms(all.pct(99)),
		MaxMS: ms(all.pct(100)), BodyBytes: bodyBytes.Load(),
	}
	emit(r)
	logf("http %-10s c=%-3d %8.0f req/s  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms  %d new conns, %d at the origin, %v",
		*label, *conc, r.RPS, r.P50MS, r.P90MS, r.P99MS, r.MaxMS, r.NewConns, r.OriginConns, &errs)
	if r.Requests == 0 {
		return fmt.Errorf("no request succeeded (%v)", &errs)
	}
	return nil
}

// originConns reads the origin's count of accepted HTTP connections, or
// -1. The request goes directly, on a connection of its own, which the
// count includes.
func originConns(u *url.URL) int64 {
	if u == nil {
		return -1
	}
	cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 3 * time.Second}
	resp, err := cl.Get(u.String())
	if err != nil {
		logf("http: origin stats: %v", err)
		return -1
	}
	defer resp.Body.Close()
	var v struct {
		HTTPConns int64 `json:"http_conns"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		logf("http: origin stats: %v", err)
		return -1
	}
	return v.HTTPConns
}

// newTransport is one worker's keep-alive transport. It counts the TCP
// connections it opens while measuring, which shows a proxy that does
// not keep client connections alive.
func newTransport(proxy *url.URL, conns *atomic.Int64, measuring *atomic.Bool) *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if measuring.Load() {
				conns.Add(1)
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        4,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	if proxy != nil {
		tr.Proxy = http.ProxyURL(proxy)
	}
	return tr
}

// get fetches u and reads the body to the end; a status other than 200
// is an error.
func get(cl *http.Client, u *url.URL) (int64, error) {
	resp, err := cl.Get(u.String())
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("status %s", resp.Status)
	}
	return n, nil
}
