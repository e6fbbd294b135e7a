package pac

import (
	"context"
	"errors"
	"strconv"
)

// ErrNoEntryPoint is returned by [Compile] for a script that defines
// neither FindProxyForURL nor FindProxyForURLEx as a function.
var ErrNoEntryPoint = errors.New("pac: script defines no FindProxyForURL function")

// ErrTimeout reports that an evaluation ran out of time: the script was
// interrupted at its deadline. errors.Is(err, context.DeadlineExceeded)
// is also true for it.
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string   { return "pac: script timed out" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
func (timeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded
}

// ErrMemoryLimit reports that an evaluation, or a script's top level at
// compile time, made the heap grow past Options.MaxMemory and was
// interrupted. The errors returned wrap it, adding the limit
// ("pac: the script used too much memory (the limit is 256 MiB)"): test
// for it with errors.Is.
var ErrMemoryLimit = errors.New("pac: the script used too much memory")

// ErrScriptTooLarge is returned by [Compile] for a script longer than
// Options.MaxScriptSize.
var ErrScriptTooLarge = errors.New("pac: script too large")

// A SyntaxError reports a script that cannot be compiled.
type SyntaxError struct {
	Name   string // the script's name, from Options.Name
	Line   int    // 1-based; 0 if unknown
	Column int    // 1-based; 0 if unknown
	Msg    string
}

// Error returns "name:line:col: message".
func (e *SyntaxError) Error() string {
	return position(e.Name, e.Line, e.Column) + e.Msg
}

// A ScriptError reports an evaluation that failed inside the script: an
// uncaught exception (including ReferenceError and TypeError), a stack
// overflow, a return value that is not a string, or an internal error in
// a PAC built-in. Line and Column locate the failure in the script when
// known.
type ScriptError struct {
	Name   string // the script's name, from Options.Name
	Line   int    // 1-based; 0 if unknown
	Column int    // 1-based; 0 if unknown
	Msg    string // for example "ReferenceError: foo is not defined"
	Stack  string // the JavaScript stack trace, if any
}

// Error returns "name:line:col: message".
func (e *ScriptError) Error() string {
	return position(e.Name, e.Line, e.Column) + e.Msg
}

func position(name string, line, col int) string {
	s := name + ":"
	if line > 0 {
		s += strconv.Itoa(line) + ":"
		if col > 0 {
			s += strconv.Itoa(col) + ":"
		}
	}
	return s + " "
}
