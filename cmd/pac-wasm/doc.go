// Command pac-wasm is pacd's PAC engine as a WebAssembly module: a WASI
// reactor that browsers (through the ES module in web/pacwasm.js), Node,
// and WASI plugin hosts (package github.com/pacd/pacd/wasm, on wazero)
// load alike. Build it with
//
//	make wasm
//
// which runs GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared
// -trimpath -ldflags='-s -w' -o bin/pac.wasm ./cmd/pac-wasm.
//
// # ABI, version 1
//
// Strings cross the boundary as UTF-8 (pointer, length) pairs in guest
// memory, written into buffers the guest allocates. A string result is an
// i64 holding pointer<<32 | length, in a guest buffer valid until the next
// call; -1 means the call failed, and pac_last_error says why. The host
// must call _initialize once, first.
//
// Exports:
//
//	pac_abi_version() i32                  1
//	pac_alloc(len i32) i32                 a buffer of len bytes for the host to fill
//	pac_free(ptr i32)                      release a buffer of pac_alloc
//	pac_load(cfg i32, len i32) i32         compile a script; 0 on success, -1 on error
//	pac_find(url, urlLen, host, hostLen) i64
//	                                       FindProxyForURL's answer; host "" means the URL's
//	pac_find_traced(url, urlLen, host, hostLen) i64
//	                                       a JSON object {"result", "error", "calls"}; calls
//	                                       are the PAC functions called, in order:
//	                                       {"func", "args": [...], "result"} (JavaScript literals)
//	pac_last_error() i64                   a JSON object describing the last failure:
//	                                       {"kind", "message", "name", "line", "column", "stack"};
//	                                       kind is one of syntax, script, timeout, no_entry,
//	                                       too_large, config, not_loaded
//	pac_interrupt_slot() i32               see below
//
// pac_load's configuration is a JSON object:
//
//	{"source": "function FindProxyForURL(url, host) {...}", "name": "proxy.pac",
//	 "zone": "Europe/Berlin", "full_urls": false,
//	 "max_call_stack_size": 0, "max_script_size": 0, "max_result_size": 0}
//
// zone is an IANA time zone name (the module carries the time zone
// database); "" means UTC. It is the zone of the time functions and of
// the script's Date objects. Zero limits mean the engine's defaults.
//
// Imports, from the module "pac_host":
//
//	dns_lookup(family i32, host i32, hostLen i32, out i32, outCap i32) i32
//	    Resolve host (ASCII, punycode for international names); family is
//	    4 for IPv4 only, 0 for every family. Write the addresses, separated
//	    by ';', to out and return their length; return -1 when the name
//	    does not resolve. A browser host answers from a table the page
//	    supplies: there is no synchronous DNS in a browser.
//	my_ip_addresses(out i32, outCap i32) i32
//	    The machine's addresses, best first, separated by ';'; 0 for none.
//	log(level i32, msg i32, msgLen i32)
//	    A message: level 0 is alert() from the script.
//
// The clock is WASI's clock_time_get, which the host controls: a host that
// wants reproducible answers gives the guest a fixed wall clock. The
// guest makes no other use of WASI than writing Go's runtime messages to
// standard error.
//
// # Stopping a script
//
// Nothing preempts code running inside WebAssembly, so the guest cannot
// stop a script that loops forever; the host does. pac_interrupt_slot
// returns the address of a 32-bit word that, while a call into the guest
// runs a script, holds the address of the word the script's interpreter
// polls. To stop the script the host reads the slot and, if it is not 0,
// writes 1 at the address it holds; the call then fails with kind
// "timeout". The host must write only while its call is in progress, at
// most once per call. A host that cannot (a browser's main thread) can
// run the module in a Worker and terminate it. A host whose other threads
// may stop while the guest runs must make the guest call out now and then:
// in a Go host, compiled WebAssembly cannot be preempted, and a garbage
// collection that starts during a call stops every goroutine until the
// call ends. Package github.com/pacd/pacd/wasm rewrites the module so that
// its loops call WASI's sched_yield every so often, and writes the slot
// from there.
package main
