package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...";
// otherwise read from the module build information.
var (
	version = ""
	commit  = ""
)

func init() {
	register(&command{
		name:    "version",
		summary: "print the version, commit and Go version",
		run: func(ctx context.Context, a *app, args []string) error {
			c := commands["version"]
			if _, err := a.parse(c, flag.NewFlagSet(c.name, flag.ContinueOnError), args, 0, 0); err != nil {
				return err
			}
			v, cm := buildVersion()
			fmt.Fprintf(a.stdout, "herald %s (commit %s, %s %s/%s)\n", v, cm, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	})
}

// buildVersion returns the version and commit this binary was built from.
func buildVersion() (v, c string) {
	v, c = version, commit
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "":
				c = s.Value
				if len(c) > 12 {
					c = c[:12]
				}
			case s.Key == "vcs.modified" && s.Value == "true" && c != "" && version == "":
				c += "-dirty"
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	if c == "" {
		c = "unknown"
	}
	return v, c
}
