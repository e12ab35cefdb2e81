// Command herald is the Herald news digest bot: the daemon, the command-line
// tools, and the only place where Herald's packages are wired together.
//
// The CLI uses the standard flag package with a small command table: it has
// no dependencies, gives every command its own --help, and keeps exit codes
// under our control (0 ok, 1 failure, 2 usage).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // schedules work in any time zone, even without system zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run executes one herald invocation and returns its exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	defer a.close()
	err := a.dispatch(ctx, args)
	var uerr *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.As(err, &uerr):
		fmt.Fprintf(stderr, "herald: %s\n", uerr.msg)
		if uerr.usage != "" {
			fmt.Fprintf(stderr, "\n%s", uerr.usage)
		}
		return 2
	default:
		fmt.Fprintf(stderr, "herald: %s\n", err)
		return 1
	}
}
