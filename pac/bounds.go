package pac

import (
	"math"
	"strconv"

	"github.com/dop251/goja"
)

// Bounds on the work and memory that one call of a JavaScript built-in
// may take. goja checks its deadline between instructions, never inside
// a built-in written in Go: without these bounds, Array(1e9).join("")
// loops a billion times, "x".repeat(2e9) allocates 2 GB and
// new Float64Array(5e8) 4 GB, each long after the deadline has passed,
// and enough of them end the process. No PAC script comes near them
// (corporate-5000.pac's longest array has 1,200 entries).
const (
	// maxArrayLength is the longest array (or array-like object) that
	// the array built-ins of boundedArrayMethods work on.
	maxArrayLength = 1 << 20

	// maxStringLength is the longest string that repeat, padStart and
	// padEnd make, in UTF-16 code units. V8's limit is 2^29-24.
	maxStringLength = 1 << 24
)

// boundedArrayMethods are the methods of Array.prototype that walk an
// array from 0 to its length in Go, holes included, or allocate an array
// of its length: each is refused an array longer than maxArrayLength.
// (Methods that call back into the script for every element, such as
// forEach, are in the list too: a sparse array has no elements to call
// back for. The iterators, keys, values and entries, step in the script's
// own loop, which the deadline stops.)
var boundedArrayMethods = [...]string{
	"concat", "copyWithin", "entries", "every", "fill", "filter", "find", "findIndex",
	"findLast", "findLastIndex", "flat", "flatMap", "forEach", "includes", "indexOf",
	"join", "lastIndexOf", "map", "reduce", "reduceRight", "reverse", "slice",
	"some", "sort", "splice", "toLocaleString", "toReversed", "toSorted", "toSpliced",
	"toString", "with",
}

// unboundedConstructors are the globals that allocate memory of a size
// the script chooses in one call (new ArrayBuffer(2e9)). A PAC script has
// no use for binary data, so they are removed rather than bounded.
var unboundedConstructors = [...]string{
	"ArrayBuffer", "SharedArrayBuffer", "DataView",
	"Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
	"Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array",
}

// installBounds wraps the built-ins that could otherwise run or allocate
// without bound in one call (see maxArrayLength and maxStringLength),
// and removes the binary-data constructors. It runs before the script's
// top level, so the script sees only the bounded built-ins.
func installBounds(vm *goja.Runtime) {
	rangeError := vm.Get("RangeError")
	throwRange := func(msg string) {
		v, err := vm.New(rangeError, vm.ToValue(msg))
		if err != nil {
			panic(err)
		}
		panic(v)
	}
	global := vm.GlobalObject()
	for _, name := range unboundedConstructors {
		global.Delete(name)
	}
	arrayProto := vm.Get("Array").ToObject(vm).Get("prototype").ToObject(vm)
	for _, name := range boundedArrayMethods {
		bound(vm, arrayProto, name, func(call *goja.FunctionCall) {
			checkArrayLength(call.This, name, throwRange)
		})
	}
	array := vm.Get("Array").ToObject(vm)
	bound(vm, array, "from", func(call *goja.FunctionCall) {
		if o, ok := call.Argument(0).(*goja.Object); ok && o.Get("length") != nil {
			checkArrayLength(o, "from", throwRange)
		}
	})
	stringProto := vm.Get("String").ToObject(vm).Get("prototype").ToObject(vm)
	bound(vm, stringProto, "repeat", func(call *goja.FunctionCall) {
		n := call.Argument(0).ToFloat()
		if l := len(call.This.String()); l > 0 && n > 0 && !math.IsInf(n, 1) && float64(l)*n > maxStringLength {
			throwRange("repeat: the result would be longer than " + strconv.Itoa(maxStringLength) + " characters")
		}
	})
	bound(vm, stringProto, "split", func(call *goja.FunctionCall) {
		if l := len(call.This.String()); l > maxArrayLength {
			throwRange("split: the string has " + strconv.Itoa(l) + " characters, pacd's limit is " + strconv.Itoa(maxArrayLength))
		}
	})
	// JSON.stringify walks the value in Go: a value that refers to
	// itself 30 levels deep, twice at each level, takes it 2^30 steps.
	// A replacer is a call into the script at every step, which the
	// deadline stops: one that changes nothing is given when the script
	// gives none.
	identity, err := vm.RunString("(function (k, v) { return v; })")
	if err != nil {
		panic(err)
	}
	bound(vm, vm.Get("JSON").ToObject(vm), "stringify", func(call *goja.FunctionCall) {
		switch len(call.Arguments) {
		case 0:
			return // undefined, at once
		case 1:
			call.Arguments = append(call.Arguments, identity)
		default:
			if r := call.Arguments[1]; goja.IsUndefined(r) || goja.IsNull(r) {
				call.Arguments = append([]goja.Value{call.Arguments[0], identity}, call.Arguments[2:]...)
			}
		}
	})
	for _, name := range [...]string{"padStart", "padEnd"} {
		bound(vm, stringProto, name, func(call *goja.FunctionCall) {
			if n := call.Argument(0).ToFloat(); n > maxStringLength {
				throwRange(name + ": the result would be longer than " + strconv.Itoa(maxStringLength) + " characters")
			}
		})
	}
}

// bound replaces the method name of obj with one that calls check, which
// throws to refuse the call or changes its arguments, and then the
// original method. The
// replacement keeps the original's name and length.
func bound(vm *goja.Runtime, obj *goja.Object, name string, check func(*goja.FunctionCall)) {
	orig := obj.Get(name)
	fn, ok := goja.AssertFunction(orig)
	if !ok {
		return
	}
	length := orig.ToObject(vm).Get("length")
	w := vm.ToValue(func(call goja.FunctionCall) goja.Value {
		check(&call)
		v, err := fn(call.This, call.Arguments...)
		if err != nil {
			panic(err)
		}
		return v
	}).ToObject(vm)
	w.DefineDataProperty("name", vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	w.DefineDataProperty("length", length, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	obj.DefineDataProperty(name, w, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
}

// checkArrayLength throws a RangeError if this, an array or an
// array-like object, is longer than maxArrayLength. Reading the length
// may run the script's getter, under the evaluation's deadline.
func checkArrayLength(this goja.Value, method string, throwRange func(string)) {
	o, ok := this.(*goja.Object)
	if !ok {
		return // the method itself throws for null and undefined
	}
	if n := o.Get("length"); n != nil && n.ToFloat() > maxArrayLength {
		throwRange(method + ": the array has " + strconv.FormatFloat(n.ToFloat(), 'f', -1, 64) + " elements, pacd's limit is " + strconv.Itoa(maxArrayLength))
	}
}
