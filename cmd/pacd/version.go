package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
)

var cmdVersion = &command{
	name:  "version",
	usage: "",
	short: "print pacd's version",
	long:  "Version prints pacd's module version and the Go version that built it.",
	flags: func(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments")
			}
			fmt.Fprintln(e.stdout, versionString())
			return nil
		}
	},
}

func versionString() string {
	v, gov := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		gov = bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 && v == "(devel)" {
				v += " " + s.Value[:12]
			}
		}
	}
	return fmt.Sprintf("pacd %s %s", v, gov)
}
