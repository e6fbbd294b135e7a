// Command pacd evaluates Proxy Auto-Config (PAC) scripts, tests them, and
// decides how each URL is reached.
//
// Usage:
//
//	pacd <command> [arguments]
//
// The commands are:
//
//	serve    run the local PAC-aware HTTP and SOCKS5 proxy
//	eval     evaluate a PAC script for URLs (a drop-in for pacparser's pactester)
//	test     run PAC expectation files and report failures
//	resolve  print how each URL would be reached, and why
//	doctor   show where Go, curl, Python, Node, HTTPX and Chromium disagree on this environment
//	version  print pacd's version
//
// Run "pacd help <command>" or "pacd <command> --help" for a command's flags.
//
// pacd serve --config FILE reads its flags from a file, one "name value"
// a line, which the command line overrides flag by flag; --credentials-file
// FILE (serve and resolve) reads upstream proxies' credentials from a file
// in the grammar of curl's .netrc, so that passwords stay out of the
// process list. SIGHUP makes pacd serve reread both.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// A command is one subcommand of pacd, in the manner of the go command's
// base.Command.
type command struct {
	name  string
	usage string // the arguments, after "pacd NAME"
	short string // one line for the command list
	long  string // the help text, after the usage line

	// flags defines the command's flags on fs and returns a function that
	// runs the command with the arguments left after the flags.
	flags func(fs *flag.FlagSet, env *env) func(ctx context.Context, args []string) error
}

// env is what a command may use of the process: its standard streams,
// and its arguments after the command's name (for pacd serve, which
// parses them again on SIGHUP).
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	args           []string
}

var commands []*command

func init() {
	commands = []*command{cmdServe, cmdEval, cmdTest, cmdResolve, cmdDoctor, cmdVersion}
}

// usageError is returned by a command for a bad invocation; it exits with
// status 2 after the command's usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// exitError carries an exit status without a message of its own: the
// command has already said what went wrong.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		mainUsage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && name == "help" {
			if c := lookup(args[1]); c != nil {
				commandUsage(stdout, c)
				return 0
			}
			fmt.Fprintf(stderr, "pacd help %s: unknown command\n", args[1])
			return 2
		}
		mainUsage(stdout)
		return 0
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "pacd %s: unknown command\nRun 'pacd help' for usage.\n", name)
		return 2
	}
	e.args = args[1:]
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runFn := c.flags(fs, e)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			commandUsage(stdout, c)
			return 0
		}
		fmt.Fprintf(stderr, "pacd %s: %v\n", c.name, err)
		commandUsageShort(stderr, c)
		return 2
	}
	err := runFn(ctx, fs.Args())
	var ue *usageError
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "pacd %s: %s\n", c.name, ue.msg)
		commandUsageShort(stderr, c)
		return 2
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func mainUsage(w io.Writer) {
	fmt.Fprint(w, "pacd evaluates and tests Proxy Auto-Config (PAC) scripts, and decides how each URL is reached.\n\nUsage:\n\n\tpacd <command> [arguments]\n\nThe commands are:\n\n")
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-8s %s\n", c.name, c.short)
	}
	fmt.Fprint(w, "\nUse \"pacd help <command>\" for more information about a command.\n")
}

func commandUsageShort(w io.Writer, c *command) {
	fmt.Fprintf(w, "usage: pacd %s %s\nRun 'pacd help %s' for details.\n", c.name, c.usage, c.name)
}

func commandUsage(w io.Writer, c *command) {
	fmt.Fprintf(w, "usage: pacd %s %s\n\n%s\n", c.name, c.usage, strings.TrimSpace(c.long))
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.flags(fs, &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}
