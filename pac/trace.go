package pac

import (
	"context"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// A Call records one call of a PAC built-in during a traced evaluation:
// the function's name, its arguments and its result, each written as a
// JavaScript literal ("\"example.com\"", "10", "null", "true").
type Call struct {
	Func   string
	Args   []string
	Result string
}

// String formats c as a JavaScript call with its result, for example
// `dnsDomainIs("www.example.com", ".example.com") = true`.
func (c Call) String() string {
	var b strings.Builder
	b.WriteString(c.Func)
	b.WriteByte('(')
	b.WriteString(strings.Join(c.Args, ", "))
	b.WriteString(") = ")
	b.WriteString(c.Result)
	return b.String()
}

type traceKey struct{}

// WithTrace returns a context under which every PAC built-in called by an
// evaluation is reported to fn, in order, before the evaluation returns.
// fn is called on the evaluating goroutine; it must not call back into the
// script.
func WithTrace(ctx context.Context, fn func(Call)) context.Context {
	return context.WithValue(ctx, traceKey{}, fn)
}

// TraceFunc returns the function that [WithTrace] put in ctx, or nil.
// Other engines that run this package's built-ins (package
// github.com/pacd/pacd/wasm) use it to report the calls they trace.
func TraceFunc(ctx context.Context) func(Call) { return traceFromContext(ctx) }

func traceFromContext(ctx context.Context) func(Call) {
	fn, _ := ctx.Value(traceKey{}).(func(Call))
	return fn
}

func newCall(name string, args []goja.Value, res goja.Value) Call {
	c := Call{Func: name, Args: make([]string, len(args)), Result: jsLiteral(res)}
	for i, a := range args {
		c.Args[i] = jsLiteral(a)
	}
	return c
}

// jsLiteral writes v the way it would be written in a script.
func jsLiteral(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	switch x := v.Export().(type) {
	case string:
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return v.String()
}
