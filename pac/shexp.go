package pac

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/dop251/goja"
	"github.com/gobwas/glob"
)

// shExpMatch answers as the browsers' does, and that is not a plain glob.
// Chromium, Firefox, pacparser and pac-resolver all turn the pattern into a
// regular expression by replacing '.' with "\.", '*' with ".*" and '?'
// with '.', anchor it with '^' and '$', and test the string against it.
// Every other regular-expression character passes through, so
// "(*.a.com|a.com)" is an alternation, "[a-c]bc" a character class, "a+b"
// a repetition and "a(b" a SyntaxError; and since '.' never matches a line
// terminator, neither do '*' and '?'.
//
// Most patterns in real PAC files use only '*', '?' and literal
// characters. Those are compiled with github.com/gobwas/glob, whose '*'
// and '?' then mean exactly what ".*" and '.' mean for a string of ASCII
// characters without line terminators, which is every host name and URL a
// script is given. Any other pattern, or any other string, goes to a real
// ECMAScript regular expression built in the script's runtime, as the
// browsers build it. Compiled patterns are cached: globs once per script,
// shared by its runtimes; regular expressions once per runtime.

// maxCachedPatterns bounds each pattern cache, so that a script that
// builds patterns from the URLs it is given cannot grow memory without
// bound. Past it, patterns are compiled on every use.
const maxCachedPatterns = 4096

// A shexp is a compiled shExpMatch pattern.
type shexp struct {
	pattern string
	glob    *glob.Pattern // nil when the pattern is not a pure glob
	re      string        // the regular expression the browsers build
}

// shexpCache holds the patterns a script has compiled, for all its
// runtimes.
type shexpCache struct {
	m sync.Map // string -> *shexp
	n atomic.Int32
}

func (c *shexpCache) get(pattern string) *shexp {
	if p, ok := c.m.Load(pattern); ok {
		return p.(*shexp)
	}
	p := compileShExp(pattern)
	if c.n.Load() < maxCachedPatterns {
		if old, loaded := c.m.LoadOrStore(pattern, p); loaded {
			return old.(*shexp)
		}
		c.n.Add(1)
	}
	return p
}

// compileShExp translates pattern into the browsers' regular expression
// and, when the pattern holds no regular-expression syntax besides '*',
// '?' and '.', into a glob with the same meaning.
func compileShExp(pattern string) *shexp {
	var re, gl strings.Builder
	re.Grow(len(pattern) + 8)
	re.WriteByte('^')
	pure := true
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '.':
			re.WriteString(`\.`)
			gl.WriteByte('.')
		case '*':
			re.WriteString(".*")
			gl.WriteByte('*')
		case '?':
			re.WriteByte('.')
			gl.WriteByte('?')
		case '\\', '^', '$', '+', '(', ')', '[', ']', '{', '}', '|':
			re.WriteByte(c)
			pure = false
		default:
			re.WriteByte(c)
			if glob.QuoteMeta(string(c)) != string(c) {
				gl.WriteByte('\\')
			}
			gl.WriteByte(c)
		}
	}
	re.WriteByte('$')
	p := &shexp{pattern: pattern, re: re.String()}
	if pure {
		if g, err := glob.Compile(gl.String()); err == nil {
			p.glob = g
		}
	}
	return p
}

// globSafe reports whether s is a string on which a glob answers as the
// regular expression does: ASCII (so that '?' is one UTF-16 unit, as in
// JavaScript) and without line terminators (which '.' does not match).
func globSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c == '\n' || c == '\r' {
			return false
		}
	}
	return true
}

// regexpState is a runtime's side of shExpMatch: its RegExp constructor
// and test method as they were before the script ran (so that a script
// cannot redirect them), and the regular expressions it has built.
type regexpState struct {
	ctor goja.Value
	test goja.Callable
	m    map[string]*goja.Object
}

func (st *evalState) initRegexp() {
	ctor := st.vm.Get("RegExp")
	proto := ctor.ToObject(st.vm).Get("prototype").ToObject(st.vm)
	test, ok := goja.AssertFunction(proto.Get("test"))
	if !ok {
		panic("pac: RegExp.prototype.test is not a function")
	}
	st.re = regexpState{ctor: ctor, test: test}
}

// shExpMatch matches v, converted to a string as RegExp.prototype.test
// converts it, against pattern.
func (st *evalState) shExpMatch(v goja.Value, pattern string) bool {
	// Patterns are string constants of the script, whose bytes stay at
	// one address: look them up by it, which spares hashing the pattern
	// on every call. (An entry keeps its pattern alive, so an address
	// cannot be reused for other bytes while the entry exists; the
	// comparison below is then a pointer comparison.)
	key := uintptr(unsafe.Pointer(unsafe.StringData(pattern)))
	p := st.patterns[key]
	if p == nil || p.pattern != pattern {
		p = st.h.patterns.get(pattern)
		if len(st.patterns) < maxCachedPatterns {
			st.patterns[key] = p
		}
	}
	if p.glob != nil {
		if s, ok := v.(goja.String); ok {
			if str := s.String(); st.globSafe(str) {
				return p.glob.Match(str)
			}
		}
	}
	return st.regexpTest(p.re, v)
}

// globSafe is globSafe(s), remembered for the last string: a script
// matches one host against pattern after pattern.
func (st *evalState) globSafe(s string) bool {
	if len(s) == len(st.safeStr) && unsafe.StringData(s) == unsafe.StringData(st.safeStr) {
		return st.safeOK
	}
	st.safeStr, st.safeOK = s, globSafe(s)
	return st.safeOK
}

// regexpTest tests v against the regular expression re, built in this
// runtime. An invalid expression throws the SyntaxError that new RegExp
// throws.
func (st *evalState) regexpTest(re string, v goja.Value) bool {
	rx := st.re.m[re]
	if rx == nil {
		o, err := st.vm.New(st.re.ctor, st.vm.ToValue(re))
		if err != nil {
			panic(err)
		}
		rx = o
		if st.re.m == nil || len(st.re.m) >= maxCachedPatterns {
			st.re.m = make(map[string]*goja.Object)
		}
		st.re.m[re] = rx
	}
	if v == nil {
		v = goja.Undefined()
	}
	start := time.Now()
	res, err := st.re.test(rx, v)
	if err != nil {
		panic(err)
	}
	if time.Since(start) >= RegexpMatchTimeout {
		// The match ran out of time: say so rather than answer "no match".
		panic(st.vm.NewTypeError("shExpMatch: the regular expression " + re + " took too long to match"))
	}
	return res.ToBoolean()
}
