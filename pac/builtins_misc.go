package pac

import "github.com/dop251/goja"

// installMisc defines alert and getClientVersion.
func installMisc(st *evalState) {
	// alert(message) hands the message, converted to a string as
	// JavaScript's String() does, to Options.Alert. It returns undefined
	// and never stops the script (pacparser 1.3.6 lacked it, and scripts
	// that call it failed there with a ReferenceError).
	st.define("alert", 1, func(call goja.FunctionCall) goja.Value {
		st.h.alert(call.Argument(0).String())
		return goja.Undefined()
	})
	// getClientVersion() returns the version of Microsoft's IPv6 PAC
	// extensions that this engine implements, "1.0". Neither Chromium nor
	// pacparser defines it; scripts written for WinHTTP call it to decide
	// whether the Ex functions exist.
	version := st.vm.ToValue("1.0")
	st.define("getClientVersion", 0, func(goja.FunctionCall) goja.Value {
		return version
	})
}
