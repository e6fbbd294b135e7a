package pac_test

import (
	"context"
	"errors"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacd/pacd/pac"
)

// The tests of this file guard Options.MaxMemory, the memory watcher of
// pac/memwatch_other.go: scripts that grow memory step by step, which
// no bound of pac/bounds.go stops, end with ErrMemoryLimit long before
// their deadline. Without the watcher each grows until the safety net of
// heapWatch cancels it, and the test fails.

const (
	testLimit    = 64 << 20
	testDeadline = 30 * time.Second
)

// heapWatch samples the heap every millisecond until stop is called,
// and cancels ctx if the heap grows by more than netFactor times
// testLimit: the safety net that keeps a test of a defence that does
// not hold from taking the machine's memory.
type heapWatch struct {
	peak atomic.Int64 // the largest growth seen, in bytes
	done chan struct{}
	wg   sync.WaitGroup
}

const netFactor = 8

func readHeapObjects() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

func watchHeap(cancel context.CancelFunc) *heapWatch {
	// Let the watcher collect what an earlier bomb left, then collect.
	time.Sleep(20 * time.Millisecond)
	runtime.GC()
	base := readHeapObjects()
	h := &heapWatch{done: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-h.done:
				return
			case <-tick.C:
			}
			g := readHeapObjects() - base
			if g > h.peak.Load() {
				h.peak.Store(g)
			}
			if g > netFactor*testLimit {
				cancel()
			}
		}
	}()
	return h
}

func (h *heapWatch) stop() int64 {
	close(h.done)
	h.wg.Wait()
	return h.peak.Load()
}

const bombs = `function FindProxyForURL(url, host) {
  switch (host) {
  case "string": var s = "x"; for (var i = 0; i < 29; i++) s = s + s; for (;;) {}
  case "arrays": var b = []; for (;;) b.push(new Array(1000).fill(b.length));
  case "objects": var o = null; for (var i = 0; ; i++) o = { next: o, i: i, s: "n" + i };
  case "legit":
    // About 10 MiB: a string of 8 Mi characters and an array of 100,000 strings.
    var s = "x"; for (var i = 0; i < 23; i++) s = s + s;
    var a = []; for (var i = 0; i < 100000; i++) a.push("h" + i + ".example");
    return "PROXY ok" + s.length + "-" + a.length + ".example:8080";
  }
  return "DIRECT";
}`

// evalBomb evaluates s for host under the safety net, and returns the
// error, the time taken and the peak heap growth.
func evalBomb(t *testing.T, s *pac.Script, host string) (string, error, time.Duration, int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := watchHeap(cancel)
	start := time.Now()
	res, err := s.Eval(ctx, "http://"+host+"/", host)
	took := time.Since(start)
	return res, err, took, h.stop()
}

func TestMemoryLimitBombs(t *testing.T) {
	s := mustCompile(t, bombs, &pac.Options{Name: "t.pac", Timeout: testDeadline, MaxMemory: testLimit})
	for _, host := range []string{"string", "arrays", "objects"} {
		t.Run(host, func(t *testing.T) {
			_, err, took, peak := evalBomb(t, s, host)
			t.Logf("%s: %v after %v, peak heap growth %d MiB", host, err, took.Round(time.Millisecond), peak>>20)
			if !errors.Is(err, pac.ErrMemoryLimit) {
				t.Fatalf("Eval(%s) = %v, want ErrMemoryLimit", host, err)
			}
			if want := "pac: the script used too much memory (the limit is 64 MiB)"; err.Error() != want {
				t.Errorf("Eval(%s) error = %q, want %q", host, err, want)
			}
			if took > 10*time.Second {
				t.Errorf("Eval(%s) took %v", host, took)
			}
			if peak > 6*testLimit {
				t.Errorf("Eval(%s): the heap grew by %d MiB, the limit is %d MiB", host, peak>>20, testLimit>>20)
			}
			if res, err := s.Eval(context.Background(), "http://ok/", ""); err != nil || res != "DIRECT" {
				t.Errorf("after %s: Eval = %q, %v", host, res, err)
			}
		})
	}
	t.Run("legit", func(t *testing.T) {
		res, err, _, peak := evalBomb(t, s, "legit")
		t.Logf("legit: peak heap growth %d MiB", peak>>20)
		if want := "PROXY ok8388608-100000.example:8080"; err != nil || res != want {
			t.Errorf("Eval(legit) = %q, %v; want %q", res, err, want)
		}
	})
}

// TestMemoryLimitCompile bounds the top level, which runs at compile
// time, as an evaluation is. Compile takes no context, so the safety net
// cannot stop it: the script stops doubling at 512 MiB by itself, and
// then loops until its deadline.
func TestMemoryLimitCompile(t *testing.T) {
	h := watchHeap(func() {})
	start := time.Now()
	_, err := pac.Compile(`var s = "x"; for (var i = 0; i < 29; i++) s = s + s;
for (;;) {}
function FindProxyForURL(url, host) { return "DIRECT"; }`, &pac.Options{Timeout: 10 * time.Second, MaxMemory: testLimit})
	took := time.Since(start)
	peak := h.stop()
	t.Logf("top level: %v after %v, peak heap growth %d MiB", err, took.Round(time.Millisecond), peak>>20)
	if !errors.Is(err, pac.ErrMemoryLimit) {
		t.Fatalf("Compile = %v, want ErrMemoryLimit", err)
	}
	if took > 10*time.Second {
		t.Errorf("Compile took %v", took)
	}
	if peak > 6*testLimit {
		t.Errorf("Compile: the heap grew by %d MiB, the limit is %d MiB", peak>>20, testLimit>>20)
	}
}

// TestMemoryLimitConcurrent runs a bomb while other goroutines evaluate
// the same script normally: the bomb ends with ErrMemoryLimit and the
// normal evaluations, which start after it and end in microseconds,
// keep their answers. (One that started before the bomb and were still
// running when it crossed the limit would be interrupted in its place:
// see pac/memwatch_other.go.)
func TestMemoryLimitConcurrent(t *testing.T) {
	s := mustCompile(t, bombs, &pac.Options{Name: "t.pac", Timeout: testDeadline, MaxMemory: testLimit})
	done := make(chan struct{})
	var wg sync.WaitGroup
	var evals atomic.Int64
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if res, err := s.Eval(context.Background(), "http://ok/", ""); err != nil || res != "DIRECT" {
					t.Errorf("a normal Eval during the bomb = %q, %v", res, err)
					return
				}
				evals.Add(1)
			}
		}()
	}
	for _, host := range []string{"string", "arrays", "objects"} {
		_, err, took, peak := evalBomb(t, s, host)
		t.Logf("%s: %v after %v, peak heap growth %d MiB", host, err, took.Round(time.Millisecond), peak>>20)
		if !errors.Is(err, pac.ErrMemoryLimit) {
			t.Errorf("Eval(%s) = %v, want ErrMemoryLimit", host, err)
		}
	}
	close(done)
	wg.Wait()
	t.Logf("%d normal evaluations meanwhile", evals.Load())
	if evals.Load() == 0 {
		t.Error("no normal evaluation ran")
	}
}
