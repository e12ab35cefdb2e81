package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/render"
)

func init() {
	register(&command{
		name:    "digest",
		summary: "print a digest of the stories stored in a recent window",
		run:     runDigest,
	})
}

func runDigest(ctx context.Context, a *app, args []string) error {
	c := commands["digest"]
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	since := fs.Duration("since", 24*time.Hour, "window: stories with articles first seen within this `duration`")
	format := render.FormatText
	fs.Var(&format, "format", "output `format`: text, markdown, telegram, discord or json")
	limit := fs.Int("limit", 0, "at most this many stories (default from config, 10)")
	tz := fs.String("tz", "", "time `zone` for times shown (default from config)")
	if _, err := a.parse(c, fs, args, 0, 0); err != nil {
		return err
	}
	if *since <= 0 {
		return &usageError{msg: fmt.Sprintf("--since must be positive, got %s", *since)}
	}
	if *limit < 0 {
		return &usageError{msg: fmt.Sprintf("--limit must not be negative, got %d", *limit)}
	}
	cfg, st, err := a.setup(ctx)
	if err != nil {
		return err
	}
	zone := cfg.Digest.TimeZone
	if *tz != "" {
		zone = *tz
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return &usageError{msg: fmt.Sprintf("--tz: %q is not an IANA time zone such as Europe/Berlin", zone)}
	}
	if *limit == 0 {
		*limit = cfg.Digest.Limit
	}
	return printDigest(ctx, a, st, format, digest.BuildRequest{
		Since: time.Now().Add(-*since), Limit: *limit, Location: loc,
	})
}

// printDigest builds a digest from the store and prints it in format.
func printDigest(ctx context.Context, a *app, st digest.Store, format render.Format, req digest.BuildRequest) error {
	b := &digest.Builder{Store: st, Now: time.Now}
	d, err := b.Build(ctx, req)
	if err != nil {
		return err
	}
	parts, err := render.Render(format, *d)
	if err != nil {
		return err
	}
	for i, p := range parts {
		fmt.Fprint(a.stdout, p)
		if !strings.HasSuffix(p, "\n") {
			fmt.Fprintln(a.stdout) // Discord: one JSON payload per line
		}
		if format == render.FormatDiscord {
			continue
		}
		if len(parts) > 1 {
			fmt.Fprintf(a.stdout, "\n--- end of message %d of %d ---\n", i+1, len(parts))
		}
	}
	return nil
}
