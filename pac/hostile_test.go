package pac_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pacd/pacd/pac"
)

// The tests of this file check that the engine's defences against
// hostile scripts hold: each fails when its defence is taken away (the
// deadline, the call-depth limit, the description of exceptions under
// the deadline). The hostile corpus (testdata/pac/hostile-*.pac) holds
// the scripts' expected answers; these tests hold the engine to its
// bounds in time, memory and goroutines.

// evalWithin evaluates s for url in a goroutine and fails the test if no
// answer comes within limit: a hung evaluation cannot be stopped, so it
// is left behind rather than hang the test binary.
func evalWithin(t *testing.T, s *pac.Script, url string, limit time.Duration) (string, error, time.Duration) {
	t.Helper()
	type answer struct {
		res string
		err error
	}
	done := make(chan answer, 1)
	start := time.Now()
	go func() {
		res, err := s.Eval(context.Background(), url, "")
		done <- answer{res, err}
	}()
	select {
	case a := <-done:
		return a.res, a.err, time.Since(start)
	case <-time.After(limit):
		t.Fatalf("Eval(%s) has not returned after %v", url, limit)
		return "", nil, 0
	}
}

// TestHostileThrownValues throws values whose name, message or toString
// are the script's own code: getters that loop or throw, a Proxy whose
// traps do, an object whose toString loops. The engine reads them to
// describe the error, and must do so under the evaluation's deadline
// and without letting their exceptions escape: before it did, a looping
// getter hung Eval for ever (the deadline's timer had been stopped) and a
// throwing one crashed the process with a Go panic.
func TestHostileThrownValues(t *testing.T) {
	const src = `function FindProxyForURL(url, host) {
  switch (host) {
  case "name-loops": throw { get name() { for (;;) {} }, message: "m" };
  case "tostring-loops": throw { toString: function () { for (;;) {} } };
  case "proxy-loops": throw new Proxy({}, { get: function () { for (;;) {} } });
  case "message-throws": throw { name: "E", get message() { throw new Error("inner"); } };
  case "name-throws": throw { get name() { throw { get name() { throw 1; } }; } };
  case "proxy-throws": throw new Proxy({}, { get: function () { throw new Error("trap"); } });
  case "tostring-recurses": var o = { toString: function () { return String(o); } }; throw o;
  case "goerror-value": throw Object.create(GoError.prototype, { value: { get: function () { for (;;) {} } } });
  case "name-object": throw { name: { toString: function () { throw new Error("n"); } }, message: "m" };
  }
  return "DIRECT";
}`
	s := mustCompile(t, src, &pac.Options{Name: "t.pac", Timeout: 100 * time.Millisecond})
	tests := []struct {
		host string
		want string // the error's text
	}{
		{"name-loops", "pac: script timed out"},
		{"tostring-loops", "pac: script timed out"},
		{"proxy-loops", "pac: script timed out"},
		{"message-throws", "t.pac:6:26: uncaught exception"},
		{"name-throws", "t.pac:7:23: uncaught exception"},
		{"proxy-throws", "t.pac:8:24: uncaught exception"},
		{"tostring-recurses", "t.pac:9:86: uncaught exception"},
		{"goerror-value", "t.pac:10:25: GoError"},
		{"name-object", "t.pac:11:23: uncaught exception"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			_, err, took := evalWithin(t, s, "http://"+tt.host+"/", 10*time.Second)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Eval(%s) error = %v, want %q", tt.host, err, tt.want)
			}
			if took > 2*time.Second {
				t.Errorf("Eval(%s) took %v, with a deadline of 100ms", tt.host, took)
			}
			if res, err := s.Eval(context.Background(), "http://ok/", ""); err != nil || res != "DIRECT" {
				t.Errorf("after %s: Eval = %q, %v", tt.host, res, err)
			}
		})
	}
	// The same at compile time, where the top level throws.
	for _, top := range []string{
		`throw { get name() { for (;;) {} } };`,
		`throw { get message() { throw new Error("x"); }, name: "E" };`,
		`Object.defineProperty(this, "FindProxyForURL", { get: function () { throw new Error("getter"); } });`,
		`Object.defineProperty(this, "FindProxyForURL", { get: function () { for (;;) {} } });`,
	} {
		done := make(chan error, 1)
		go func() {
			_, err := pac.Compile(top, &pac.Options{Name: "top.pac", Timeout: 100 * time.Millisecond})
			done <- err
		}()
		select {
		case err := <-done:
			var se *pac.ScriptError
			if !errors.Is(err, pac.ErrTimeout) && !errors.As(err, &se) {
				t.Errorf("Compile(%s) = %v (%T), want a timeout or a ScriptError", top, err, err)
			}
			if err != nil && strings.Contains(err.Error(), "internal error") {
				t.Errorf("Compile(%s) = %v, an internal error", top, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Compile(%s) has not returned after 10s", top)
		}
	}
}
