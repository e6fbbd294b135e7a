package pac

import (
	"math"
	"strings"
	"unicode/utf16"

	"github.com/dop251/goja"
)

// installMatch defines the built-ins that look only at names:
// isPlainHostName, dnsDomainIs, localHostOrDomainIs, dnsDomainLevels and
// shExpMatch.
func installMatch(st *evalState) {
	// isPlainHostName(host) reports whether host has no dot and is not an
	// IP address literal, as Chromium's does: "foo" is plain, "::1" and
	// "1234" (the IPv4 address 0.0.4.210) are not. Firefox only looks for
	// '.' and ':'. Like Chromium's, it throws a TypeError when host is not
	// a string.
	st.define("isPlainHostName", 1, func(call goja.FunctionCall) goja.Value {
		host, ok := primitiveString(call.Argument(0))
		if !ok {
			panic(st.vm.NewTypeError("Requires 1 string parameter"))
		}
		return st.bool(isPlainHostName(host))
	})

	// dnsDomainIs(host, domain) reports whether host ends with domain,
	// case-sensitively and without regard to label boundaries, as the
	// Netscape function always has: dnsDomainIs("www.example.com",
	// ".example.com") and dnsDomainIs("notexample.com", "example.com") are
	// both true, and every host ends with "".
	st.define("dnsDomainIs", 2, func(call goja.FunctionCall) goja.Value {
		h, d := call.Argument(0), call.Argument(1)
		host, ok1 := stringLike(h)
		domain, ok2 := stringLike(d)
		if ok1 && ok2 {
			return st.bool(strings.HasSuffix(host, domain))
		}
		// The slow path, for whatever else a script passes: the
		// JavaScript compares lengths, then takes a substring of host.
		hl, dl := st.lengthOf(h), st.lengthOf(d)
		if !(hl >= dl) {
			return st.vFalse
		}
		host = st.requireStringLike(h, "host", "substring")
		u := utf16Units(host)
		from := int(math.Max(0, math.Min(float64(len(u)), math.Trunc(hl-dl))))
		return st.bool(st.vm.ToValue(string(utf16.Decode(u[from:]))).Equals(d))
	})

	// localHostOrDomainIs(host, hostdom) reports whether host equals
	// hostdom, or is a plain name that hostdom starts with followed by a
	// dot: localHostOrDomainIs("www", "www.example.com") is true.
	st.define("localHostOrDomainIs", 2, func(call goja.FunctionCall) goja.Value {
		h, hd := call.Argument(0), call.Argument(1)
		if h.Equals(hd) {
			return st.vTrue
		}
		host := h.String()
		if a, ok := hd.(*goja.Object); ok && a.ClassName() == "Array" {
			// Array.prototype.lastIndexOf(x, 0) looks at element 0 only.
			first := a.Get("0")
			return st.bool(first != nil && first.StrictEquals(st.vm.ToValue(host+".")))
		}
		hostdom := st.requireStringLike(hd, "hostdom", "lastIndexOf")
		return st.bool(len(hostdom) > len(host) && hostdom[len(host)] == '.' && hostdom[:len(host)] == host)
	})

	// dnsDomainLevels(host) returns the number of dots in host.
	st.define("dnsDomainLevels", 1, func(call goja.FunctionCall) goja.Value {
		host := st.requireStringLike(call.Argument(0), "host", "split")
		return st.vm.ToValue(strings.Count(host, "."))
	})

	// shExpMatch(str, pattern) matches str against a shell expression, the
	// browsers' way: see shexp.go.
	st.define("shExpMatch", 2, func(call goja.FunctionCall) goja.Value {
		pattern := st.requireStringLike(call.Argument(1), "pattern", "replace")
		return st.bool(st.shExpMatch(call.Argument(0), pattern))
	})
}

// isPlainHostName is Chromium's IsPlainHostName.
func isPlainHostName(host string) bool {
	if strings.IndexByte(host, '.') >= 0 {
		return false
	}
	_, isIP := parseIPLiteral(host)
	return !isIP
}

// lengthOf is the JavaScript expression v.length: the UTF-16 length of a
// string, the length property of an object, and undefined (NaN) for other
// primitives. undefined and null throw.
func (st *evalState) lengthOf(v goja.Value) float64 {
	if isNullish(v) {
		st.throwPropertyOfNullish(v, "length")
	}
	switch x := v.(type) {
	case goja.String:
		return float64(x.Length())
	case *goja.Object:
		return toNumber(x.Get("length"))
	}
	return math.NaN()
}

func utf16Units(s string) []uint16 { return utf16.Encode([]rune(s)) }
