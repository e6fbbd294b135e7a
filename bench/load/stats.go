package main

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// latencies holds every sample of a run; percentiles are exact
// (nearest rank over the sorted samples), not estimated.
type latencies []time.Duration

func (l latencies) sorted() latencies {
	s := slices.Clone(l)
	slices.Sort(s)
	return s
}

// pct is the nearest-rank p-th percentile (0 < p <= 100) of sorted
// samples: the smallest sample with at least p% of the samples at or
// below it.
func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(l)) + 0.9999999)
	if rank < 1 {
		rank = 1
	}
	if rank > len(l) {
		rank = len(l)
	}
	return l[rank-1]
}

func (l latencies) mean() time.Duration {
	if len(l) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range l {
		sum += d
	}
	return sum / time.Duration(len(l))
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// errCount counts errors by message, for the summary: a run with errors
// says which.
type errCount struct {
	mu sync.Mutex
	n  int
	by map[string]int
}

func (e *errCount) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.by == nil {
		e.by = map[string]int{}
	}
	e.n++
	// Group the same failure on different connections.
	msg := portRE.ReplaceAllString(err.Error(), ":N")
	if len(msg) > 160 {
		msg = msg[:160]
	}
	e.by[msg]++
}

var portRE = regexp.MustCompile(`:[0-9]+\b`)

func (e *errCount) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

// top returns the most frequent error messages, for the JSON line.
func (e *errCount) top(n int) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range e.by {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v || all[i].v == all[j].v && all[i].k < all[j].k })
	var out []string
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, fmt.Sprintf("%d× %s", all[i].v, all[i].k))
	}
	return out
}

func (e *errCount) String() string {
	if e.count() == 0 {
		return "no errors"
	}
	return fmt.Sprintf("%d errors: %s", e.count(), strings.Join(e.top(3), "; "))
}
