package wasm_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/wasm"
)

const hostilePAC = `function FindProxyForURL(url, host) {
  if (host == "loop") for (;;) {}
  if (host == "bomb") { var s = "xxxxxxxx"; for (;;) s = s + s; }
  if (host == "deep") { var f = function (n) { return f(n + 1) + 1; }; return f(0); }
  if (host == "huge") { var s = "x"; for (var i = 0; i < 22; i++) s = s + s; return s; }
  if (host == "objects") { var a = []; for (;;) a.push({n: a.length, s: "item" + a.length}); }
  return "DIRECT";
}
`

// TestHostile runs scripts that never end, exhaust memory, recurse
// without end or return too much, and checks that each is stopped with
// a clear error while the same Script keeps answering other URLs.
func TestHostile(t *testing.T) {
	e := testEngine(t)
	// Growing memory is slow under the race detector: the scripts that
	// must hit the memory cap get time for it.
	quick := mustCompile(t, e, hostilePAC, &pac.Options{Timeout: 300 * time.Millisecond})
	slow := mustCompile(t, e, hostilePAC, &pac.Options{Timeout: 20 * time.Second})
	tests := []struct {
		host    string
		s       *wasm.Script
		check   func(error) bool
		wantErr string
		within  time.Duration
	}{
		{"loop", quick, func(err error) bool { return errors.Is(err, pac.ErrTimeout) }, "pac: script timed out", 2 * time.Second},
		{"bomb", slow, func(err error) bool { return errors.Is(err, wasm.ErrMemoryLimit) }, "wasm: the script ran out of memory (the limit is 32 MiB)", 20 * time.Second},
		{"deep", quick, func(err error) bool { var se *pac.ScriptError; return errors.As(err, &se) }, "proxy.pac:4:56: RangeError: maximum call stack size exceeded", 2 * time.Second},
		{"huge", slow, func(err error) bool { var se *pac.ScriptError; return errors.As(err, &se) }, "proxy.pac: FindProxyForURL() returned a string of 4194304 characters, the limit is 65536", 20 * time.Second},
		// An allocation loop ends at the deadline or at the memory cap,
		// whichever comes first on this machine.
		{"objects", quick, func(err error) bool { return errors.Is(err, pac.ErrTimeout) || errors.Is(err, wasm.ErrMemoryLimit) }, "", 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			s := tt.s
			for round := range 2 {
				start := time.Now()
				_, err := s.Eval(context.Background(), "http://"+tt.host+"/", "")
				took := time.Since(start)
				if !tt.check(err) || (tt.wantErr != "" && err.Error() != tt.wantErr) {
					t.Errorf("round %d: Eval(%s) = %v (%s), want %q", round, tt.host, err, errKind(err), tt.wantErr)
				}
				if took > tt.within {
					t.Errorf("round %d: Eval(%s) took %v, want at most %v", round, tt.host, took, tt.within)
				}
				if res, err := s.Eval(context.Background(), "http://ok.example/", ""); res != "DIRECT" || err != nil {
					t.Fatalf("round %d: after %s, Eval = %q, %v; want DIRECT", round, tt.host, res, err)
				}
			}
		})
	}
	for _, s := range []*wasm.Script{quick, slow} {
		pages, n := s.InstancePages()
		for _, p := range pages {
			if p > wasm.DefaultMemoryLimitPages {
				t.Errorf("an instance has %d pages, more than the limit of %d", p, wasm.DefaultMemoryLimitPages)
			}
		}
		if n > runtime.GOMAXPROCS(0) {
			t.Errorf("%d instances, more than GOMAXPROCS", n)
		}
	}
}

// TestLoopDuringGC stops endless loops while other goroutines collect
// garbage: a collection that begins while the guest runs must not wait
// for the guest forever (see instrument).
func TestLoopDuringGC(t *testing.T) {
	e := testEngine(t)
	s := mustCompile(t, e, hostilePAC, &pac.Options{Timeout: 200 * time.Millisecond})
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.GC()
			}
		}
	}()
	defer func() { close(done); wg.Wait() }()
	for i := range 5 {
		start := time.Now()
		_, err := s.Eval(context.Background(), "http://loop/", "")
		if !errors.Is(err, pac.ErrTimeout) {
			t.Fatalf("Eval %d = %v, want a timeout", i, err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("Eval %d took %v", i, took)
		}
	}
}

// TestMemoryLimit checks that a smaller cap is respected, and that a cap
// below the module's minimum is refused.
func TestMemoryLimit(t *testing.T) {
	const limit = 384 // 24 MiB
	e := newEngine(t, wasm.Config{MemoryLimitPages: limit})
	s := mustCompile(t, e, hostilePAC, &pac.Options{Timeout: 20 * time.Second})
	_, err := s.Eval(context.Background(), "http://bomb/", "")
	if !errors.Is(err, wasm.ErrMemoryLimit) || !strings.Contains(err.Error(), "24 MiB") {
		t.Errorf("bomb: %v, want ErrMemoryLimit at 24 MiB", err)
	}
	if res, err := s.Eval(context.Background(), "http://ok/", ""); res != "DIRECT" || err != nil {
		t.Errorf("after the bomb: %q, %v", res, err)
	}
	pages, _ := s.InstancePages()
	if len(pages) == 0 {
		t.Fatal("no idle instance")
	}
	for _, p := range pages {
		if p > limit {
			t.Errorf("an instance has %d pages, more than the limit of %d", p, limit)
		}
	}

	_, err = wasm.New(context.Background(), &wasm.Config{ModulePath: wasmModule(t), CacheDir: "-", MemoryLimitPages: 10})
	if err == nil || !strings.Contains(err.Error(), "minimum") {
		t.Errorf("New with 10 pages: %v, want an error about the module's minimum", err)
	}
}

// TestHostileEncodings compiles scripts that the corpus cannot hold
// (testdata/pac must be UTF-8 for the Node parity test, and small) in
// both engines, which must agree: invalid UTF-8 bytes (read as Latin-1,
// as Firefox reads them), a UTF-8 byte-order mark (ignored), UTF-16
// files with their marks (not decoded: pacd reads scripts as UTF-8, so
// they fail to compile with a SyntaxError) and a script over 1 MiB
// (ErrScriptTooLarge, before the module sees it).
func TestHostileEncodings(t *testing.T) {
	e := testEngine(t)
	body := "function FindProxyForURL(url, host) { return \"PROXY \" + \"\xff\xfe\".length + \".example:1\"; }\n"
	utf16 := func(s string, le bool) string {
		var b strings.Builder
		if le {
			b.WriteString("\xff\xfe")
		} else {
			b.WriteString("\xfe\xff")
		}
		for _, r := range s {
			if le {
				b.WriteByte(byte(r))
				b.WriteByte(0)
			} else {
				b.WriteByte(0)
				b.WriteByte(byte(r))
			}
		}
		return b.String()
	}
	ascii := "function FindProxyForURL(url, host) { return \"DIRECT\"; }\n"
	tests := []struct {
		name, src string
		want      string // the answer, or the error's text
	}{
		{"invalid-utf8", body, "PROXY 2.example:1"},
		{"utf8-bom", "\ufeff" + ascii, "DIRECT"},
		{"utf16le-bom", utf16(ascii, true), "SyntaxError"},
		{"utf16be-bom", utf16(ascii, false), "SyntaxError"},
		{"over-1mib", ascii + strings.Repeat("// padding to more than a mebibyte\n", 32<<10), "pac: script too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := &pac.Options{Name: "enc.pac", Timeout: time.Second}
			got := func(res string, err error) string {
				if err != nil {
					return err.Error()
				}
				return res
			}
			var answers [2]string
			ns, nerr := pac.Compile(tt.src, opts)
			if nerr == nil {
				answers[0] = got(ns.Eval(context.Background(), "http://a/", ""))
			} else {
				answers[0] = nerr.Error()
			}
			ws, werr := e.Compile(context.Background(), tt.src, opts)
			if werr == nil {
				answers[1] = got(ws.Eval(context.Background(), "http://a/", ""))
				ws.Close()
			} else {
				answers[1] = werr.Error()
			}
			if answers[0] != answers[1] {
				t.Errorf("native %q, module %q", answers[0], answers[1])
			}
			if !strings.Contains(answers[1], tt.want) {
				t.Errorf("got %q, want it to contain %q", answers[1], tt.want)
			}
		})
	}
}
