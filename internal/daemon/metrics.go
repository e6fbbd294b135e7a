package daemon

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	rtmetrics "runtime/metrics"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/pacd/pacd/resolver"
)

// metrics are the server's counters, written out in the Prometheus text
// format by /metrics.
type metrics struct {
	conns   atomic.Int64 // client connections open on the HTTP listener
	tunnels atomic.Int64 // tunnels open (CONNECT and SOCKS)
	up      atomic.Int64 // bytes from clients to destinations
	down    atomic.Int64 // bytes from destinations to clients

	unreachable atomic.Int64 // upstreams that could not be reached
	refused     atomic.Int64 // upstreams that refused, or wanted credentials

	mu        sync.Mutex
	requests  map[requestKey]int64      // kind, status -> count
	decisions map[resolver.Source]int64 // source -> count
}

// requestKey is a series of pacd_requests_total; the status is written
// as its code ("none" for 0) only when the metrics are.
type requestKey struct {
	kind   string
	status int
}

func (k requestKey) code() string {
	if k.status == 0 {
		return "none"
	}
	return strconv.Itoa(k.status)
}

func newMetrics() *metrics {
	return &metrics{requests: map[requestKey]int64{}, decisions: map[resolver.Source]int64{}}
}

func (m *metrics) request(kind string, status int) {
	m.mu.Lock()
	m.requests[requestKey{kind, status}]++
	m.mu.Unlock()
}

// served counts a request and, when it had one, its decision's source,
// under one lock.
func (m *metrics) served(kind string, status int, src resolver.Source, decided bool) {
	m.mu.Lock()
	m.requests[requestKey{kind, status}]++
	if decided {
		m.decisions[src]++
	}
	m.mu.Unlock()
}

func (m *metrics) bytes(up, down int64) {
	m.up.Add(up)
	m.down.Add(down)
}

func (m *metrics) failed(err error) {
	var re *resolver.ReachError
	if errors.As(err, &re) {
		m.unreachable.Add(1)
	} else {
		m.refused.Add(1)
	}
}

// write writes the metrics, and the gauges of the moment: the PAC's
// state and the number of proxies tried last.
func (m *metrics) write(w io.Writer, s *Server) {
	m.mu.Lock()
	type series struct {
		kind, code string
		n          int64
	}
	reqs := make([]series, 0, len(m.requests))
	for k, n := range m.requests {
		reqs = append(reqs, series{k.kind, k.code(), n})
	}
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].kind+reqs[i].code < reqs[j].kind+reqs[j].code })
	fmt.Fprintln(w, "# HELP pacd_requests_total Requests and connections served, by kind (http, connect, socks, page, auth, refused) and status.")
	fmt.Fprintln(w, "# TYPE pacd_requests_total counter")
	for _, r := range reqs {
		fmt.Fprintf(w, "pacd_requests_total{kind=%q,code=%q} %d\n", r.kind, r.code, r.n)
	}
	bySource := make(map[string]int64, len(m.decisions))
	for k, n := range m.decisions {
		bySource[k.String()] += n
	}
	srcs := make([]string, 0, len(bySource))
	for k := range bySource {
		srcs = append(srcs, k)
	}
	sort.Strings(srcs)
	fmt.Fprintln(w, "# HELP pacd_decisions_total Decisions made, by what decided (pac, env, mount, bypass, implicit, ...).")
	fmt.Fprintln(w, "# TYPE pacd_decisions_total counter")
	for _, k := range srcs {
		fmt.Fprintf(w, "pacd_decisions_total{source=%q} %d\n", k, bySource[k])
	}
	m.mu.Unlock()

	gauge := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", name, help, name, name, v)
	}
	counter := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	counter("pacd_upstream_unreachable_total", "Proxies (or destinations, for DIRECT) that could not be reached.", m.unreachable.Load())
	counter("pacd_upstream_refused_total", "Connections that a reached proxy refused or wanted credentials for.", m.refused.Load())
	fmt.Fprintln(w, "# HELP pacd_bytes_total Bytes carried, by direction (up: client to destination).")
	fmt.Fprintln(w, "# TYPE pacd_bytes_total counter")
	fmt.Fprintf(w, "pacd_bytes_total{direction=\"up\"} %d\npacd_bytes_total{direction=\"down\"} %d\n", m.up.Load(), m.down.Load())
	gauge("pacd_connections_open", "Client connections open on the HTTP listeners.", m.conns.Load())
	gauge("pacd_tunnels_open", "CONNECT and SOCKS tunnels open.", m.tunnels.Load())
	gauge("pacd_goroutines", "Goroutines of the process: two per open tunnel, one per client connection, and a few of its own.", int64(runtime.NumGoroutine()))
	gauge("pacd_heap_bytes", "Bytes of heap held by live objects, as of the last garbage collection (runtime/metrics /gc/heap/live:bytes; before the first, all objects).", heapLive())
	gauge("pacd_bad_proxies", "Proxies tried last because they could not be reached recently.", int64(len(s.Resolver().BadProxies())))
	if s.cfg.PAC != nil {
		st := s.cfg.PAC.Status()
		loaded := int64(0)
		if st.Loaded {
			loaded = 1
		}
		gauge("pacd_pac_loaded", "Whether a PAC script is loaded.", loaded)
		gauge("pacd_pac_failures", "Consecutive failed checks of the PAC location.", int64(st.Failures))
		if st.Loaded {
			fmt.Fprintf(w, "# HELP pacd_pac_loaded_timestamp_seconds When the PAC script in use was loaded.\n# TYPE pacd_pac_loaded_timestamp_seconds gauge\npacd_pac_loaded_timestamp_seconds %d\n", st.LoadedAt.Unix())
		}
	}
}

// heapLive reads the live heap from runtime/metrics: what a leak makes
// grow, without the garbage that HeapAlloc counts until it is swept.
// Before the first collection, it is the heap's objects, live or not.
func heapLive() int64 {
	sample := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(sample)
	for _, s := range sample {
		if s.Value.Kind() == rtmetrics.KindUint64 && s.Value.Uint64() > 0 {
			return int64(s.Value.Uint64())
		}
	}
	return 0
}
