package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// run is every measurement of one benchmark run, by label.
type run struct {
	labels  []string // in the order they first appear
	http    map[string]map[int]httpResult
	tunnel  map[string]map[int]tunnelResult
	connect map[string]connectResult
	idle    map[string]idleResult
	concs   []int // http concurrencies, highest first
	streams []int // tunnel stream counts, lowest first
}

const base = "direct"

func runReport(args []string) error {
	fs := newFlags("report")
	fs.Parse(args)
	var in io.Reader = os.Stdin
	if fs.NArg() > 0 {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	r, err := readRun(in)
	if err != nil {
		return err
	}
	r.write(os.Stdout)
	return nil
}

func readRun(in io.Reader) (*run, error) {
	r := &run{
		http:    map[string]map[int]httpResult{},
		tunnel:  map[string]map[int]tunnelResult{},
		connect: map[string]connectResult{},
		idle:    map[string]idleResult{},
	}
	seen := func(label string) {
		if !slices.Contains(r.labels, label) {
			r.labels = append(r.labels, label)
		}
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var k struct{ Kind string }
		if err := json.Unmarshal(line, &k); err != nil {
			return nil, err
		}
		switch k.Kind {
		case "http":
			var v httpResult
			if err := json.Unmarshal(line, &v); err != nil {
				return nil, err
			}
			seen(v.Label)
			if r.http[v.Label] == nil {
				r.http[v.Label] = map[int]httpResult{}
			}
			r.http[v.Label][v.Conc] = v
			if !slices.Contains(r.concs, v.Conc) {
				r.concs = append(r.concs, v.Conc)
			}
		case "tunnel":
			var v tunnelResult
			if err := json.Unmarshal(line, &v); err != nil {
				return nil, err
			}
			seen(v.Label)
			if r.tunnel[v.Label] == nil {
				r.tunnel[v.Label] = map[int]tunnelResult{}
			}
			// Several lines for one proxy and stream count are rounds
			// of one measurement (the script interleaves them with the
			// other proxies'): their runs are pooled.
			if old, ok := r.tunnel[v.Label][v.Streams]; ok {
				v.RunsMBs = append(old.RunsMBs, v.RunsMBs...)
				v.Repeat += old.Repeat
				v.Errors += old.Errors
				v.ErrorTop = append(old.ErrorTop, v.ErrorTop...)
				v.TotalBytes += old.TotalBytes
				v.MBs = median(v.RunsMBs)
			}
			r.tunnel[v.Label][v.Streams] = v
			if !slices.Contains(r.streams, v.Streams) {
				r.streams = append(r.streams, v.Streams)
			}
		case "connect-rate":
			var v connectResult
			if err := json.Unmarshal(line, &v); err != nil {
				return nil, err
			}
			seen(v.Label)
			r.connect[v.Label] = v
		case "idle":
			var v idleResult
			if err := json.Unmarshal(line, &v); err != nil {
				return nil, err
			}
			seen(v.Label)
			r.idle[v.Label] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(r.labels) == 0 {
		return nil, errors.New("no measurements")
	}
	slices.Sort(r.concs)
	slices.Reverse(r.concs)
	slices.Sort(r.streams)
	return r, nil
}

// table is a markdown table being built.
type table struct {
	head []string
	rows [][]string
}

func (t *table) write(w io.Writer) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(t.head, " | "))
	seps := make([]string, len(t.head))
	for i := range seps {
		seps[i] = "---:"
	}
	seps[0] = "---"
	fmt.Fprintf(w, "|%s|\n", strings.Join(seps, "|"))
	for _, row := range t.rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
}

const na = "—"

func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f3(v float64) string { return fmt.Sprintf("%.3f", v) }

// signed formats an added latency in ms.
func signed(v float64) string { return fmt.Sprintf("%+.3f", v) }

func ratio(v, b float64) string {
	if b == 0 {
		return na
	}
	return fmt.Sprintf("%.2f×", v/b)
}

func percent(v, b float64) string {
	if b == 0 {
		return na
	}
	return fmt.Sprintf("%.0f%%", 100*v/b)
}

// errNote marks a figure measured with errors.
func errNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d err)", n)
}

func (r *run) write(w io.Writer) {
	r.mainTable(w)
	fmt.Fprintln(w)
	r.absTable(w)
	if slices.Contains(r.labels, "pacd") && len(r.labels) > 2 {
		fmt.Fprintln(w)
		r.peerTable(w)
	}
	fmt.Fprintln(w)
	r.targets(w)
}

func (r *run) mainTable(w io.Writer) {
	t := &table{head: []string{""}}
	top := 0
	if len(r.concs) > 0 {
		top = r.concs[0]
		t.head = append(t.head, fmt.Sprintf("req/s (c=%d)", top), "vs direct")
		for _, c := range r.concs {
			t.head = append(t.head, fmt.Sprintf("added p50 / p99 ms (c=%d)", c))
		}
	}
	for _, s := range r.streams {
		t.head = append(t.head, fmt.Sprintf("tunnel MB/s, %d stream%s", s, plural(s)), "% of direct")
	}
	if len(r.connect) > 0 {
		t.head = append(t.head, "connects/s", "vs direct")
	}
	if len(r.idle) > 0 {
		t.head = append(t.head, "RSS per idle tunnel (total)")
	}
	for _, l := range r.labels {
		row := []string{l}
		if top != 0 {
			h, ok := r.http[l][top]
			b := r.http[base][top]
			if ok {
				row = append(row, f0(h.RPS)+errNote(h.Errors), ratio(h.RPS, b.RPS))
			} else {
				row = append(row, na, na)
			}
			for _, c := range r.concs {
				h, ok := r.http[l][c]
				b, bok := r.http[base][c]
				switch {
				case !ok:
					row = append(row, na)
				case l == base:
					row = append(row, fmt.Sprintf("(%s / %s)", f3(h.P50MS), f3(h.P99MS)))
				case !bok:
					row = append(row, na)
				default:
					row = append(row, signed(h.P50MS-b.P50MS)+" / "+signed(h.P99MS-b.P99MS))
				}
			}
		}
		for _, s := range r.streams {
			tu, ok := r.tunnel[l][s]
			if !ok {
				row = append(row, na, na)
				continue
			}
			row = append(row, f0(tu.MBs)+errNote(tu.Errors), percent(tu.MBs, r.tunnel[base][s].MBs))
		}
		if len(r.connect) > 0 {
			c, ok := r.connect[l]
			if ok {
				row = append(row, f0(c.PerSec)+errNote(c.Errors), ratio(c.PerSec, r.connect[base].PerSec))
			} else {
				row = append(row, na, na)
			}
		}
		if len(r.idle) > 0 {
			row = append(row, idleCell(r.idle[l]))
		}
		t.rows = append(t.rows, row)
	}
	t.write(w)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Direct's latency cells are its own p50 / p99 in ms; the others are the difference from direct's. MB = 10^6 bytes.")
	if len(r.idle) > 0 {
		for _, l := range r.labels {
			if v, ok := r.idle[l]; ok {
				fmt.Fprintf(w, " Idle tunnels: %d asked for.", v.N)
				break
			}
		}
	}
	fmt.Fprintln(w)
}

func idleCell(v idleResult) string {
	if v.Kind == "" {
		return na
	}
	s := fmt.Sprintf("%.1f KiB (%.1f MiB)", v.KiBPer, v.TotalMiB)
	if v.Established < v.N {
		s += fmt.Sprintf(" only %d/%d opened", v.Established, v.N)
	} else if v.Alive < v.Established {
		s += fmt.Sprintf(" %d/%d still open", v.Alive, v.Established)
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (r *run) absTable(w io.Writer) {
	t := &table{head: []string{""}}
	for _, c := range r.concs {
		t.head = append(t.head, fmt.Sprintf("c=%d: req/s, p50 / p90 / p99 / max ms, client / origin conns opened", c))
	}
	if len(r.connect) > 0 {
		t.head = append(t.head, "connect p50 / p99 ms")
	}
	if len(r.idle) > 0 {
		t.head = append(t.head, "idle: open / alive, RSS before → after MiB, procs / threads")
	}
	t.head = append(t.head, "errors")
	for _, l := range r.labels {
		row := []string{l}
		var errs []string
		for _, c := range r.concs {
			h, ok := r.http[l][c]
			if !ok {
				row = append(row, na)
				continue
			}
			oc := "?"
			if h.OriginConns >= 0 {
				oc = fmt.Sprint(h.OriginConns)
			}
			row = append(row, fmt.Sprintf("%s, %s / %s / %s / %s, %d / %s", f0(h.RPS), f3(h.P50MS), f3(h.P90MS), f3(h.P99MS), f3(h.MaxMS), h.NewConns, oc))
			errs = append(errs, h.ErrorTop...)
		}
		for _, s := range r.streams {
			if tu, ok := r.tunnel[l][s]; ok {
				errs = append(errs, tu.ErrorTop...)
			}
		}
		if len(r.connect) > 0 {
			c, ok := r.connect[l]
			if ok {
				row = append(row, f3(c.P50MS)+" / "+f3(c.P99MS))
				errs = append(errs, c.ErrorTop...)
			} else {
				row = append(row, na)
			}
		}
		if len(r.idle) > 0 {
			v, ok := r.idle[l]
			if ok {
				row = append(row, fmt.Sprintf("%d / %d, %.1f → %.1f, %d / %d", v.Established, v.Alive, float64(v.RSSBeforeK)/1024, float64(v.RSSAfterK)/1024, v.Procs, v.Threads))
				errs = append(errs, v.ErrorTop...)
			} else {
				row = append(row, na)
			}
		}
		if len(errs) == 0 {
			row = append(row, "none")
		} else {
			row = append(row, strings.ReplaceAll(strings.Join(errs, "; "), "|", "/"))
		}
		t.rows = append(t.rows, row)
	}
	t.write(w)
}

// peerTable compares pacd with each other proxy: above 1 is pacd better
// (faster, or smaller) for every column.
func (r *run) peerTable(w io.Writer) {
	t := &table{head: []string{"pacd vs"}}
	top := 0
	if len(r.concs) > 0 {
		top = r.concs[0]
		t.head = append(t.head, fmt.Sprintf("req/s (c=%d)", top))
		for _, c := range r.concs {
			t.head = append(t.head, fmt.Sprintf("p99 (c=%d)", c))
		}
	}
	for _, s := range r.streams {
		t.head = append(t.head, fmt.Sprintf("MB/s, %d stream%s", s, plural(s)))
	}
	if len(r.connect) > 0 {
		t.head = append(t.head, "connects/s")
	}
	if len(r.idle) > 0 {
		t.head = append(t.head, "RSS per idle tunnel")
	}
	p := "pacd"
	for _, l := range r.labels {
		if l == base || l == p {
			continue
		}
		row := []string{l}
		if top != 0 {
			row = append(row, ratio(r.http[p][top].RPS, r.http[l][top].RPS))
			for _, c := range r.concs {
				// Lower is better: peer over pacd.
				row = append(row, ratio(r.http[l][c].P99MS, r.http[p][c].P99MS))
			}
		}
		for _, s := range r.streams {
			row = append(row, ratio(r.tunnel[p][s].MBs, r.tunnel[l][s].MBs))
		}
		if len(r.connect) > 0 {
			row = append(row, ratio(r.connect[p].PerSec, r.connect[l].PerSec))
		}
		if len(r.idle) > 0 {
			row = append(row, ratio(r.idle[l].KiBPer, r.idle[p].KiBPer))
		}
		t.rows = append(t.rows, row)
	}
	t.write(w)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Each cell is how many times better pacd is (above 1.00×: pacd wins): throughput as pacd ÷ peer, latency (absolute p99) and memory as peer ÷ pacd.")
}

// targets checks the figures the daemon and performance issues ask for.
func (r *run) targets(w io.Writer) {
	const p = "pacd"
	if !slices.Contains(r.labels, p) {
		return
	}
	fmt.Fprintln(w, "Targets:")
	mark := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	for _, s := range r.streams {
		tp, b := r.tunnel[p][s].MBs, r.tunnel[base][s].MBs
		if b > 0 {
			fmt.Fprintf(w, "- tunnel throughput ≥ 90%% of direct, %d stream%s: %s (%s)\n", s, plural(s), mark(tp >= 0.9*b), percent(tp, b))
		}
	}
	for _, c := range r.concs {
		h, ok := r.http[p][c]
		b, bok := r.http[base][c]
		if ok && bok {
			add := h.P99MS - b.P99MS
			fmt.Fprintf(w, "- added p99 latency < 1 ms for plain HTTP, c=%d: %s (%s ms)\n", c, mark(add < 1), signed(add))
		}
	}
	if v, ok := r.idle[p]; ok {
		note := ""
		if v.N < 5000 {
			note = fmt.Sprintf("; only %d asked for, %.1f MiB at 5000 by extrapolation", v.N, float64(v.RSSBeforeK)/1024+v.KiBPer*5000/1024)
		}
		fmt.Fprintf(w, "- 5000 idle tunnels under 100 MiB RSS: %s (%d open, %.1f MiB%s)\n", mark(v.Established >= 5000 && v.Alive >= 5000 && v.TotalMiB < 100), v.Established, v.TotalMiB, note)
	}
	for _, l := range r.labels {
		if l == base || l == p {
			continue
		}
		var fails, wins []string
		check := func(name string, ok bool) {
			if ok {
				wins = append(wins, name)
			} else {
				fails = append(fails, name)
			}
		}
		if len(r.concs) > 0 {
			top := r.concs[0]
			check(fmt.Sprintf("req/s c=%d", top), r.http[p][top].RPS >= r.http[l][top].RPS)
			for _, c := range r.concs {
				check(fmt.Sprintf("p99 c=%d", c), r.http[p][c].P99MS < r.http[l][c].P99MS)
			}
		}
		for _, s := range r.streams {
			check(fmt.Sprintf("MB/s %d stream%s", s, plural(s)), r.tunnel[p][s].MBs >= r.tunnel[l][s].MBs)
		}
		fmt.Fprintf(w, "- at or above %s (req/s, tunnel MB/s; lower p99): %s", l, mark(len(fails) == 0))
		if len(fails) > 0 {
			fmt.Fprintf(w, " (behind on %s)", strings.Join(fails, ", "))
		}
		fmt.Fprintln(w)
	}
}
