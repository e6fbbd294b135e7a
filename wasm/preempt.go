package wasm

import (
	"bytes"
	"errors"
	"fmt"
)

// Code that wazero compiles runs without a stop: the Go runtime cannot
// preempt the goroutine running it, and nothing the host does from
// another goroutine is seen by Go until the call returns. A garbage
// collection that begins during a long call therefore waits for its end,
// with every other goroutine stopped, including a watchdog that would
// end it: a script that loops forever would hang the whole process.
// wazero's WithCloseOnContextDone makes the compiled code return to Go at
// the head of every loop, but that made an evaluation about four times
// slower (Go's WebAssembly enters a loop in every function).
//
// instrument makes the module return to Go now and then instead: it adds
// a counter, a new global, that the head of every loop decrements, and
// when the counter reaches zero the loop resets it and calls the
// module's own import of WASI's sched_yield, which wazero hands to the
// host's Osyield. That call is where the host checks the deadline and
// the caller's context of the call in progress, and writes the interrupt
// slot (see cmd/pac-wasm), on the goroutine of the call; it is also a
// point where the Go runtime can stop that goroutine. It costs a few
// instructions per loop and a call to the host every yieldEvery loops.

// yieldEvery is how many loop heads pass between two calls to the host:
// about a tenth of a millisecond of the guest's work.
const yieldEvery = 1 << 14

// instrument returns a copy of the module bin with the yield counter.
func instrument(bin []byte) ([]byte, error) {
	if len(bin) < 8 || !bytes.Equal(bin[:8], []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, errors.New("not a WebAssembly module")
	}
	var (
		types         [][2][]byte // params, results
		yieldFunc     = -1        // function index of sched_yield
		funcImports   int
		globalImports int
		out           = append([]byte(nil), bin[:8]...)
		counter       = -1 // global index of the counter
	)
	r := &reader{b: bin, i: 8}
	for r.i < len(r.b) {
		id := r.byte()
		size := r.u32()
		start := r.i
		if r.err == nil && uint64(start)+uint64(size) > uint64(len(r.b)) {
			r.fail("section %d runs past the end", id)
		}
		if r.err != nil {
			return nil, r.err
		}
		payload := r.b[start : start+int(size)]
		r.i = start + int(size)
		s := &reader{b: payload}
		switch id {
		case 1: // types
			n := s.u32()
			for range n {
				if s.byte() != 0x60 {
					s.fail("type is not a function type")
				}
				var ft [2][]byte
				for j := range ft {
					m := s.u32()
					ft[j] = s.bytes(int(m))
				}
				types = append(types, ft)
			}
		case 2: // imports
			n := s.u32()
			for range n {
				mod := string(s.bytes(int(s.u32())))
				name := string(s.bytes(int(s.u32())))
				switch kind := s.byte(); kind {
				case 0: // function
					t := s.u32()
					if mod == "wasi_snapshot_preview1" && name == "sched_yield" && yieldFunc < 0 {
						if int(t) >= len(types) || len(types[t][0]) != 0 || !bytes.Equal(types[t][1], []byte{0x7f}) {
							return nil, errors.New("sched_yield is not of type () -> i32")
						}
						yieldFunc = funcImports
					}
					funcImports++
				case 1: // table
					s.byte()
					s.limits()
				case 2: // memory
					s.limits()
				case 3: // global
					s.byte()
					s.byte()
					globalImports++
				case 4: // tag
					s.byte()
					s.u32()
				default:
					s.fail("import of unknown kind %d", kind)
				}
			}
		case 6: // globals: append the counter
			n := s.u32()
			if s.err != nil {
				return nil, s.err
			}
			counter = globalImports + int(n)
			p := appendU32(nil, n+1)
			p = append(p, payload[s.i:]...)
			p = append(p, 0x7f, 0x01, 0x41) // i32, mutable, i32.const
			p = appendS32(p, yieldEvery)
			p = append(p, 0x0b)
			out = appendSection(out, id, p)
			continue
		case 10: // code
			if yieldFunc < 0 {
				return nil, errors.New("the module does not import wasi_snapshot_preview1.sched_yield")
			}
			if counter < 0 {
				return nil, errors.New("the module has no global section")
			}
			p, err := instrumentCode(payload, hook(uint32(counter), uint32(yieldFunc)))
			if err != nil {
				return nil, err
			}
			out = appendSection(out, id, p)
			continue
		}
		if s.err != nil {
			return nil, fmt.Errorf("section %d: %v", id, s.err)
		}
		out = appendSection(out, id, payload)
	}
	if yieldFunc < 0 || counter < 0 {
		return nil, errors.New("the module has no code to instrument")
	}
	return out, nil
}

// hook returns the code put at the head of every loop.
func hook(counter, yield uint32) []byte {
	var h []byte
	h = append(h, 0x23) // global.get counter
	h = appendU32(h, counter)
	h = append(h, 0x41, 0x01, 0x6b) // i32.const 1; i32.sub
	h = append(h, 0x24)             // global.set counter
	h = appendU32(h, counter)
	h = append(h, 0x23) // global.get counter
	h = appendU32(h, counter)
	h = append(h, 0x45, 0x04, 0x40) // i32.eqz; if
	h = append(h, 0x41)             // i32.const yieldEvery
	h = appendS32(h, yieldEvery)
	h = append(h, 0x24) // global.set counter
	h = appendU32(h, counter)
	h = append(h, 0x10) // call sched_yield
	h = appendU32(h, yield)
	h = append(h, 0x1a, 0x0b) // drop; end
	return h
}

// instrumentCode rewrites the code section: every function body gets the
// hook after the block type of each loop instruction.
func instrumentCode(payload, hook []byte) ([]byte, error) {
	s := &reader{b: payload}
	n := s.u32()
	out := appendU32(make([]byte, 0, len(payload)+len(payload)/8), n)
	var body []byte
	for i := range n {
		size := s.u32()
		if s.err == nil && uint64(s.i)+uint64(size) > uint64(len(s.b)) {
			s.fail("function %d runs past the end", i)
		}
		if s.err != nil {
			return nil, s.err
		}
		b := &reader{b: s.b[s.i : s.i+int(size)]}
		s.i += int(size)
		// Locals: copied as they are.
		for range b.u32() {
			b.u32()
			b.byte()
		}
		if b.err != nil {
			return nil, fmt.Errorf("function %d: %v", i, b.err)
		}
		var err error
		body, err = scanBody(append(body[:0], b.b[:b.i]...), b.b[b.i:], hook)
		if err != nil {
			return nil, fmt.Errorf("function %d: %v", i, err)
		}
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	if s.err != nil {
		return nil, s.err
	}
	return out, nil
}

// The immediates of each one-byte opcode, for scanBody: the instructions
// of WebAssembly 2.0 (with sign extension, saturating conversions, bulk
// memory and reference types), which is what Go emits. SIMD, exceptions
// and other proposals are refused.
const (
	immBad     byte = iota
	immNone         // none
	immBlock        // a block type
	immIndex        // one LEB128 number
	immIndex2       // two
	immMemarg       // alignment (with a memory index if bit 6 is set) and offset
	immBrTable      // a vector of labels, and one more
	immSelect       // a vector of value types
	immByte         // one byte
	imm4            // four bytes
	imm8            // eight bytes
	immFC           // an 0xfc instruction
)

var immediates = func() (t [256]byte) {
	set := func(kind byte, ops ...int) {
		for _, op := range ops {
			t[op] = kind
		}
	}
	set(immNone, 0x00, 0x01, 0x05, 0x0b, 0x0f, 0x1a, 0x1b, 0xd1)
	for op := 0x45; op <= 0xc4; op++ {
		t[op] = immNone
	}
	set(immBlock, 0x02, 0x03, 0x04)
	set(immIndex, 0x0c, 0x0d, 0x10, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x3f, 0x40, 0x41, 0x42, 0xd2)
	set(immIndex2, 0x11)
	for op := 0x28; op <= 0x3e; op++ {
		t[op] = immMemarg
	}
	set(immBrTable, 0x0e)
	set(immSelect, 0x1c)
	set(immByte, 0xd0)
	set(imm4, 0x43)
	set(imm8, 0x44)
	set(immFC, 0xfc)
	return t
}()

// scanBody appends expr, a function's code, to out, with hook after the
// block type of every loop instruction.
func scanBody(out, expr, hook []byte) ([]byte, error) {
	i, last, n := 0, 0, len(expr)
	for i < n {
		start := i
		op := expr[i]
		i++
		switch immediates[op] {
		case immNone:
		case immBlock:
			if i < n && (expr[i] == 0x40 || (expr[i] >= 0x6f && expr[i] <= 0x7f)) {
				i++
			} else {
				i = skipLEB(expr, i) // a type index
			}
			if op == 0x03 && i <= n {
				out = append(out, expr[last:i]...)
				out = append(out, hook...)
				last = i
			}
		case immIndex:
			i = skipLEB(expr, i)
		case immIndex2:
			i = skipLEB(expr, skipLEB(expr, i))
		case immMemarg:
			var align uint32
			align, i = readLEB(expr, i)
			if align&0x40 != 0 {
				i = skipLEB(expr, i)
			}
			i = skipLEB(expr, i)
		case immBrTable:
			var m uint32
			m, i = readLEB(expr, i)
			for j := uint32(0); j <= m && i <= n; j++ {
				i = skipLEB(expr, i)
			}
		case immSelect:
			var m uint32
			m, i = readLEB(expr, i)
			i += int(m)
		case immByte:
			i++
		case imm4:
			i += 4
		case imm8:
			i += 8
		case immFC:
			var sub uint32
			sub, i = readLEB(expr, i)
			switch sub {
			case 0, 1, 2, 3, 4, 5, 6, 7: // saturating truncations
			case 8, 10, 12, 14: // memory.init, memory.copy, table.init, table.copy
				i = skipLEB(expr, skipLEB(expr, i))
			case 9, 11, 13, 15, 16, 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
				i = skipLEB(expr, i)
			default:
				return nil, fmt.Errorf("unknown instruction 0xfc %d at byte %d", sub, start)
			}
		default:
			return nil, fmt.Errorf("unknown instruction %#x at byte %d", op, start)
		}
		if i > n {
			return nil, fmt.Errorf("instruction %#x at byte %d runs past the end", op, start)
		}
	}
	return append(out, expr[last:]...), nil
}

// skipLEB returns the index after the LEB128 number at b[i:], or more
// than len(b) if it runs past the end.
func skipLEB(b []byte, i int) int {
	for i < len(b) && b[i]&0x80 != 0 {
		i++
	}
	return i + 1
}

// readLEB reads the unsigned LEB128 number at b[i:].
func readLEB(b []byte, i int) (uint32, int) {
	var v uint32
	for shift := uint(0); i < len(b); shift += 7 {
		c := b[i]
		i++
		if shift < 32 {
			v |= uint32(c&0x7f) << shift
		}
		if c&0x80 == 0 {
			return v, i
		}
	}
	return v, len(b) + 1
}

// reader reads a WebAssembly binary; after the first error, every read
// gives zero.
type reader struct {
	b   []byte
	i   int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format+" (at byte %d)", append(args, r.i)...)
	}
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.i >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[r.i]
	r.i++
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || r.i+n > len(r.b) {
		r.fail("unexpected end")
		return nil
	}
	b := r.b[r.i : r.i+n]
	r.i += n
	return b
}

// u32 reads an unsigned LEB128 number of up to 32 bits.
func (r *reader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.fail("LEB128 number too long")
	return 0
}

// leb skips a LEB128 number of up to max bytes, signed or not.
func (r *reader) leb(max int) {
	for range max {
		if r.byte()&0x80 == 0 {
			return
		}
	}
	r.fail("LEB128 number too long")
}

func (r *reader) limits() {
	flags := r.byte()
	r.leb(10)
	if flags&1 != 0 {
		r.leb(10)
	}
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendSection(out []byte, id byte, payload []byte) []byte {
	out = append(out, id)
	out = appendU32(out, uint32(len(payload)))
	return append(out, payload...)
}

// memoryMin returns the minimum size, in pages, of the memory that the
// module bin defines or imports.
func memoryMin(bin []byte) (uint32, bool) {
	r := &reader{b: bin, i: 8}
	for r.i < len(r.b) && r.err == nil {
		id := r.byte()
		size := int(r.u32())
		if r.err != nil || r.i+size > len(r.b) {
			return 0, false
		}
		s := &reader{b: r.b[r.i : r.i+size]}
		r.i += size
		switch id {
		case 2: // imports
			for range s.u32() {
				s.bytes(int(s.u32()))
				s.bytes(int(s.u32()))
				switch s.byte() {
				case 0:
					s.u32()
				case 1:
					s.byte()
					s.limits()
				case 2:
					s.byte()
					if m := s.u32(); s.err == nil {
						return m, true
					}
				case 3:
					s.byte()
					s.byte()
				case 4:
					s.byte()
					s.u32()
				}
			}
		case 5: // memories
			if s.u32() > 0 {
				s.byte()
				if m := s.u32(); s.err == nil {
					return m, true
				}
			}
		}
	}
	return 0, false
}
