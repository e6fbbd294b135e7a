// Package pac compiles and evaluates Proxy Auto-Config (PAC) scripts, the
// JavaScript files that tell browsers and other clients, URL by URL,
// whether to connect directly or through which proxies, and parses the
// answers they return.
//
// A script is compiled once with [Compile] and evaluated any number of
// times, from any number of goroutines, with [Script.Eval] (the string the
// script returned) or [Script.FindProxyForURL] (that string parsed into a
// [Result]). JavaScript runs in github.com/dop251/goja; every PAC function
// is implemented in Go.
//
// # Semantics
//
// The reference is Chromium: its function library, its handling of odd
// arguments, what its functions return on failure, how it strips URLs
// before a script sees them and how it parses results. Where Firefox,
// pacparser or pac-resolver answer otherwise, pacd answers as Chromium
// does, with these exceptions, each recorded in RATIONALE.md:
//
//   - A script that defines FindProxyForURLEx has it called instead of
//     FindProxyForURL, as pacparser and Windows' WinHTTP do.
//   - The time functions, given "GMT", evaluate their range wholly in UTC;
//     the browsers compare the UTC time of day with bounds on the local
//     date, which goes wrong whenever the two dates differ.
//   - getClientVersion, which Chromium lacks, returns "1.0".
//   - A result entry with user information is dropped, and dropped entries
//     are reported (see [ParseResult]).
//
// The functions are Netscape's isPlainHostName, dnsDomainIs,
// localHostOrDomainIs, isResolvable, isInNet, dnsResolve, convert_addr,
// myIpAddress, dnsDomainLevels, shExpMatch, weekdayRange, dateRange,
// timeRange and alert, and Microsoft's IPv6 extensions isResolvableEx,
// isInNetEx, dnsResolveEx, myIpAddressEx, sortIpAddressList and
// getClientVersion. Each documents its own behaviour in builtins_*.go.
//
// shExpMatch deserves a note: like every browser, it turns the pattern
// into a regular expression ('.' literal, '*' any run, '?' any one
// character) and lets any other regular-expression syntax through, so
// "(*.a.com|a.com)" is an alternation and "a(b" a SyntaxError.
//
// # The outside world
//
// Everything a script can learn from outside comes through [Options]:
// DNS through a [Resolver] (by default the system's, with a timeout and a
// cache), the machine's addresses through Options.MyIPAddresses (by
// default found as Chromium finds them, without sending a packet), and
// the clock and time zone through Options.Now and Options.Location. Fix
// them all and an answer can be reproduced anywhere; package
// [github.com/pacd/pacd/pac/pactest] does exactly that.
//
// # Bounds
//
// PAC scripts often come from the network, and are treated as untrusted.
// Every evaluation runs under a deadline (Options.Timeout and the
// caller's context), a call-depth limit, a limit on the size of the
// answer, and a bound on memory (Options.MaxMemory, 256 MiB by default);
// a script is limited in size, and a backtracking regular expression in
// time ([RegexpMatchTimeout]). What fails is reported as a
// [*SyntaxError], a [*ScriptError] with the script's line and column,
// [ErrTimeout] or [ErrMemoryLimit].
//
// The memory bound is approximate, for goja cannot say what one runtime
// holds: while evaluations run, one goroutine for the process samples
// the Go heap every 5 ms, and interrupts an evaluation (or a top level
// at compile time) once the heap has grown by more than its limit since
// it started. A script may therefore overrun the limit by what it
// allocates in a few milliseconds, or in one long step (a string that
// doubles from 64 to 128 MiB), and an evaluation is charged with what
// the rest of the process allocates while it runs, garbage included
// until it is collected. When several evaluations are over their limits
// at once, the one that started earliest is interrupted first. The
// WebAssembly engine (package [github.com/pacd/pacd/wasm]) caps its
// memory exactly, per instance.
//
// # Concurrency
//
// A [*Script] is safe for concurrent use: each evaluation takes a
// JavaScript runtime of its own from a pool that grows with the number of
// concurrent callers, so throughput grows with cores. Global variables
// that a script changes are therefore per runtime, not shared between
// evaluations.
package pac
