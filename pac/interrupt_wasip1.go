//go:build wasip1

package pac

import (
	"reflect"
	"sync/atomic"
	"unsafe"
)

// Inside WebAssembly nothing preempts a running script: the guest's own
// timers cannot fire until the host's call returns. The host interrupts
// it instead, by writing 1 to the word goja polls between instructions,
// whose address the guest keeps in activeFlag while a runtime runs.

// activeFlag holds the address of the interrupt word of the runtime that
// is running, or 0 when none is.
var activeFlag uint32

// InterruptSlot returns the address, in the module's linear memory, of a
// 32-bit word that holds, while the guest runs a script, the address of
// the word that stops it: a host that writes 1 there interrupts the run,
// which then fails with ErrTimeout. A host must write only during a call
// it made into the guest (the runtime may be freed after), and may write
// at most once per call.
func InterruptSlot() uint32 { return uint32(uintptr(unsafe.Pointer(&activeFlag))) }

// interruptWord returns the address of goja's interrupt flag in vm.
func interruptWord(rt *jsRuntime) *uint32 {
	if rt.flag == nil {
		v := reflect.ValueOf(rt.vm).Elem().FieldByName("vm").Elem().FieldByName("interrupted")
		rt.flag = (*uint32)(unsafe.Pointer(v.UnsafeAddr()))
	}
	return rt.flag
}

func beginRun(rt *jsRuntime) {
	atomic.StoreUint32(&activeFlag, uint32(uintptr(unsafe.Pointer(interruptWord(rt)))))
}

func endRun(rt *jsRuntime) bool {
	atomic.StoreUint32(&activeFlag, 0)
	return atomic.LoadUint32(interruptWord(rt)) != 0
}
