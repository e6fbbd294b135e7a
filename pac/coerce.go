package pac

import (
	"math"

	"github.com/dop251/goja"
)

// The PAC built-ins are native Go functions, but scripts call them with
// whatever they have at hand. These helpers reproduce the JavaScript
// conversions that the browsers' JavaScript versions of the built-ins
// apply to their arguments, so that odd calls answer as they do there.

// primitiveString returns v's value if v is a string primitive. The
// browsers' C++ bindings (dnsResolve, isPlainHostName, isInNetEx,
// sortIpAddressList) accept nothing else, not even a String object.
func primitiveString(v goja.Value) (string, bool) {
	if s, ok := v.(goja.String); ok {
		return s.String(), true
	}
	return "", false
}

// stringLike returns v's value if v is a string primitive or a String
// object: the values on which the JavaScript built-ins can call string
// methods such as substring and split.
func stringLike(v goja.Value) (string, bool) {
	switch x := v.(type) {
	case goja.String:
		return x.String(), true
	case *goja.Object:
		if x.ClassName() == "String" {
			return x.String(), true
		}
	}
	return "", false
}

// isNullish reports whether v is undefined or null (or absent), on which
// reading any property throws a TypeError.
func isNullish(v goja.Value) bool {
	return v == nil || goja.IsUndefined(v) || goja.IsNull(v)
}

// throwPropertyOfNullish throws the TypeError that reading prop of v
// (undefined or null) throws, in V8's words.
func (st *evalState) throwPropertyOfNullish(v goja.Value, prop string) {
	what := "undefined"
	if v != nil && goja.IsNull(v) {
		what = "null"
	}
	panic(st.vm.NewTypeError("Cannot read properties of " + what + " (reading '" + prop + "')"))
}

// throwNotAFunction throws the TypeError of calling expr when it is not a
// function.
func (st *evalState) throwNotAFunction(expr string) {
	panic(st.vm.NewTypeError(expr + " is not a function"))
}

// requireStringLike returns v as a string for a JavaScript built-in that
// calls the string method method on it (as arg.method(...)): undefined
// and null throw as reading a property does, other non-strings throw as
// calling a missing method does.
func (st *evalState) requireStringLike(v goja.Value, arg, method string) string {
	if s, ok := stringLike(v); ok {
		return s
	}
	if isNullish(v) {
		st.throwPropertyOfNullish(v, method)
	}
	st.throwNotAFunction(arg + "." + method)
	return ""
}

// toNumber is JavaScript's ToNumber; an absent argument is undefined,
// which is NaN.
func toNumber(v goja.Value) float64 {
	if v == nil {
		return math.NaN()
	}
	return v.ToFloat()
}

// toIntegerOrNaN is what the Date setters do with an argument: NaN and the
// infinities give NaN (an invalid date), anything else is truncated.
func toIntegerOrNaN(v goja.Value) float64 {
	f := toNumber(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return math.NaN()
	}
	return math.Trunc(f)
}

// jsParseInt is JavaScript's parseInt(string) with no radix: leading
// white space, an optional sign, "0x" for hexadecimal, then as many
// digits as there are. It returns NaN when there are none.
func jsParseInt(s string) float64 {
	i := 0
	for i < len(s) && isJSSpace(s, &i) {
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := 10.0
	if i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') {
		base = 16
		i += 2
	}
	v, n := 0.0, 0
	for ; i < len(s); i, n = i+1, n+1 {
		c := s[i]
		var d float64
		switch {
		case c >= '0' && c <= '9':
			d = float64(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = float64(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = float64(c-'A') + 10
		default:
			goto done
		}
		v = v*base + d
	}
done:
	if n == 0 {
		return math.NaN()
	}
	if neg {
		v = -v
	}
	return v
}

// isJSSpace reports whether s[*i:] starts with a character that
// JavaScript's StrWhiteSpaceChar covers, and if so advances *i past it.
func isJSSpace(s string, i *int) bool {
	switch c := s[*i]; c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		*i++
		return true
	case 0xc2: // U+00A0
		if *i+1 < len(s) && s[*i+1] == 0xa0 {
			*i += 2
			return true
		}
	case 0xe2: // U+2000..U+200A, U+2028, U+2029, U+202F, U+205F
		if *i+2 < len(s) {
			b1, b2 := s[*i+1], s[*i+2]
			if b1 == 0x80 && (b2 <= 0x8a || b2 == 0xa8 || b2 == 0xa9 || b2 == 0xaf) || b1 == 0x81 && b2 == 0x9f {
				*i += 3
				return true
			}
		}
	case 0xe1: // U+1680
		if *i+2 < len(s) && s[*i+1] == 0x9a && s[*i+2] == 0x80 {
			*i += 3
			return true
		}
	case 0xe3: // U+3000
		if *i+2 < len(s) && s[*i+1] == 0x80 && s[*i+2] == 0x80 {
			*i += 3
			return true
		}
	case 0xef: // U+FEFF
		if *i+2 < len(s) && s[*i+1] == 0xbb && s[*i+2] == 0xbf {
			*i += 3
			return true
		}
	}
	return false
}
