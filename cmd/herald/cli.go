package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
)

// errHelp reports that help was asked for and printed.
var errHelp = errors.New("help requested")

// usageError is a bad invocation: exit code 2, with the usage text.
type usageError struct {
	msg   string
	usage string
}

func (e *usageError) Error() string { return e.msg }

// command is one herald subcommand. Groups such as "feeds" hold several
// commands ("feeds add", "feeds list").
type command struct {
	name    string // full name, e.g. "feeds add"
	args    string // argument synopsis after the flags, e.g. "URL"
	summary string // one line for the command list
	run     func(ctx context.Context, a *app, args []string) error
}

// commands is the command table; each file registers its commands in init.
var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("duplicate command " + c.name)
	}
	commands[c.name] = c
}

// app carries what every command needs: the standard streams, the
// environment, global options and lazily opened resources.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	configPath string
	logFormat  string
	logLevel   string

	logger  *slog.Logger
	metrics *metrics // set by the daemon; nil otherwise
	owner   string   // this process's name in leases (replica.NewOwner)
	closers []func() error
}

// close releases what commands opened, last opened first.
func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil && a.logger != nil {
			a.logger.Error("close", "err", err)
		}
	}
}

// globalFlags registers the options every command accepts.
func (a *app) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&a.configPath, "config", a.configPath, "config `file` (default $HERALD_CONFIG)")
	fs.StringVar(&a.logFormat, "log-format", a.logFormat, "log format: text or json (default text)")
	fs.StringVar(&a.logLevel, "log-level", a.logLevel, "log level: debug, info, warn or error (default info)")
}

func (a *app) dispatch(ctx context.Context, args []string) error {
	top := flag.NewFlagSet("herald", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	a.globalFlags(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(a.stdout, mainUsage())
			return errHelp
		}
		return &usageError{msg: err.Error(), usage: mainUsage()}
	}
	args = top.Args()
	if len(args) == 0 {
		return &usageError{msg: "no command given", usage: mainUsage()}
	}
	if args[0] == "help" {
		if len(args) > 1 {
			return a.dispatch(ctx, append(args[1:], "--help"))
		}
		fmt.Fprint(a.stdout, mainUsage())
		return errHelp
	}
	name := args[0]
	rest := args[1:]
	if subs := subcommands(name); len(subs) > 0 {
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			if len(rest) > 0 && (rest[0] == "-h" || rest[0] == "--help" || rest[0] == "-help") {
				fmt.Fprint(a.stdout, groupUsage(name, subs))
				return errHelp
			}
			return &usageError{msg: fmt.Sprintf("%s needs a subcommand", name), usage: groupUsage(name, subs)}
		}
		sub, ok := commands[name+" "+rest[0]]
		if !ok {
			return &usageError{msg: fmt.Sprintf("unknown command %q", name+" "+rest[0]), usage: groupUsage(name, subs)}
		}
		return sub.run(ctx, a, rest[1:])
	}
	c, ok := commands[name]
	if !ok {
		return &usageError{msg: fmt.Sprintf("unknown command %q", name), usage: mainUsage()}
	}
	return c.run(ctx, a, rest)
}

// subcommands returns the commands of group name, sorted.
func subcommands(group string) []*command {
	var out []*command
	for n, c := range commands {
		if strings.HasPrefix(n, group+" ") {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func mainUsage() string {
	var b strings.Builder
	b.WriteString("Herald polls news feeds, groups articles into stories and posts calm digests to chat.\n\n")
	b.WriteString("Usage: herald [--config FILE] [--log-format text|json] [--log-level LEVEL] COMMAND [ARGS]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-16s %s\n", n, commands[n].summary)
	}
	b.WriteString("\nRun 'herald COMMAND --help' for a command's options.\n")
	return b.String()
}

func groupUsage(group string, subs []*command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: herald %s COMMAND\n\nCommands:\n", group)
	for _, c := range subs {
		fmt.Fprintf(&b, "  %-16s %s\n", c.name, c.summary)
	}
	return b.String()
}

// parse parses a command's flags, with the global ones added, and checks the
// number of positional arguments (max < 0 means no limit). It prints help to
// stdout for --help and returns errHelp.
func (a *app) parse(c *command, fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	a.globalFlags(fs)
	fs.SetOutput(io.Discard)
	usage := func() string {
		var b strings.Builder
		fmt.Fprintf(&b, "Usage: herald %s [flags] %s\n\n%s\n\nFlags:\n", c.name, c.args, c.summary)
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		return b.String()
	}
	// Flags may follow positional arguments ("feeds add URL --name x"), as
	// users expect; the standard flag package stops at the first one.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(a.stdout, usage())
				return nil, errHelp
			}
			return nil, &usageError{msg: err.Error(), usage: usage()}
		}
		rest := fs.Args()
		// Parse consumes a "--" that ends the flags: everything after
		// it is positional, even what looks like a flag.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		args = rest
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) < min || (max >= 0 && len(pos) > max) {
		want := fmt.Sprintf("%d", min)
		switch {
		case max < 0:
			want = fmt.Sprintf("at least %d", min)
		case max != min:
			want = fmt.Sprintf("%d to %d", min, max)
		}
		return nil, &usageError{msg: fmt.Sprintf("%s takes %s argument(s), got %d", c.name, want, len(pos)), usage: usage()}
	}
	return pos, nil
}
