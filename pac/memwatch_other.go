//go:build !wasip1

package pac

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// The memory watcher bounds what a script may make the heap grow by.
// goja cannot say how much memory one runtime holds, and Go cannot say
// which goroutine allocated what; so one goroutine for the process
// samples the heap every memTick while an evaluation runs, and when the
// heap has grown past an evaluation's start level plus its limit it
// interrupts that evaluation, as its deadline's timer would. It sleeps
// while no evaluation runs.
//
// The bound is approximate: the heap is the process's. What other
// goroutines allocate while an evaluation runs counts against it,
// garbage included until it is collected (collecting before judging
// would be exact for garbage, but a collection waits for the goroutine
// in a long copy, a string being doubled, say, and a bomb doubled twice
// more meanwhile); and when several
// evaluations are over their limits at once, the one that started
// earliest is interrupted, and the others are judged again only once it
// has ended and its memory has been collected. An evaluation that
// started before a memory bomb and is still running (waiting on DNS, say)
// when the bomb crosses the limit is therefore interrupted in its place,
// and the bomb at the next look. A bomb grows for up to a tick, plus
// the collection, past its limit before it is stopped.

// memTick is the watcher's sampling interval while evaluations run.
const memTick = 5 * time.Millisecond

// memWaitTicks is how long, in ticks, the watcher waits for an
// interrupted evaluation to end before it judges the others again.
const memWaitTicks = 40

var watcher memWatcher

type memWatcher struct {
	once sync.Once
	wake chan struct{} // one token: an evaluation started while sleeping

	mu       sync.Mutex
	running  []*jsRuntime // registered runs
	seq      uint64
	sleeping bool
}

// startMemWatcher starts the watcher, once per process.
func startMemWatcher() {
	watcher.once.Do(func() {
		watcher.wake = make(chan struct{}, 1)
		go watcher.loop()
	})
}

// watchMem registers rt's run with the watcher; unwatchMem ends the
// registration and reports whether the watcher interrupted the run.
// Neither allocates, but for the list's occasional growth.
func watchMem(rt *jsRuntime) {
	m := &rt.mem
	if m.limit < 0 {
		return
	}
	w := &watcher
	w.mu.Lock()
	m.idx = len(w.running)
	w.seq++
	m.seq = w.seq
	m.start = 0
	m.hit = false
	w.running = append(w.running, rt)
	if w.sleeping {
		w.sleeping = false
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	w.mu.Unlock()
}

func unwatchMem(rt *jsRuntime) bool {
	m := &rt.mem
	if m.limit < 0 {
		return false
	}
	w := &watcher
	w.mu.Lock()
	n := len(w.running) - 1
	last := w.running[n]
	w.running[m.idx] = last
	last.mem.idx = m.idx
	w.running[n] = nil
	w.running = w.running[:n]
	hit := m.hit
	w.mu.Unlock()
	return hit
}

func (w *memWatcher) loop() {
	sample := []metrics.Sample{{Name: heapMetric}}
	var (
		victim  *jsRuntime // interrupted, and not yet ended
		waited  int        // ticks spent waiting for victim to end
		collect bool       // victim has ended: collect before judging
	)
	for {
		if collect {
			runtime.GC()
			collect = false
		}
		heap := readHeap(sample)
		w.mu.Lock()
		if victim != nil {
			if victim.mem.idx < len(w.running) && w.running[victim.mem.idx] == victim && waited < memWaitTicks {
				waited++
				heap = 0 // judge no one until it has ended
			} else {
				victim, waited, collect = nil, 0, true
				heap = 0 // nor before its memory has been collected
			}
		}
		if heap != 0 {
			if rt := w.judge(heap); rt != nil {
				rt.mem.hit = true
				rt.vm.Interrupt(rt.mem.err)
				rt.st.abortLookup()
				victim = rt
			}
		}
		idle := len(w.running) == 0 && victim == nil && !collect
		w.sleeping = idle
		w.mu.Unlock()
		if idle {
			<-w.wake
		} else {
			time.Sleep(memTick)
		}
	}
}

// judge gives a start level to the runs sampled for the first time, and
// returns the earliest-started run whose heap growth is over its limit,
// or nil. w.mu is held.
func (w *memWatcher) judge(heap uint64) *jsRuntime {
	var worst *jsRuntime
	for _, rt := range w.running {
		m := &rt.mem
		if m.start == 0 {
			m.start = heap
			continue
		}
		if m.hit || heap <= m.start || heap-m.start <= uint64(m.limit) {
			continue
		}
		if worst == nil || m.seq < worst.mem.seq {
			worst = rt
		}
	}
	return worst
}
