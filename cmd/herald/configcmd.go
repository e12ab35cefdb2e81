package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/seed-c50b6fda/herald/config"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

func init() {
	register(&command{
		name:    "config check",
		summary: "validate the configuration and print it with secrets hidden",
		run:     runConfigCheck,
	})
	register(&command{
		name:    "migrate",
		summary: "create or upgrade the database schema",
		run:     runMigrate,
	})
}

func runConfigCheck(ctx context.Context, a *app, args []string) error {
	c := commands["config check"]
	if _, err := a.parse(c, flag.NewFlagSet(c.name, flag.ContinueOnError), args, 0, 0); err != nil {
		return err
	}
	cfg, err := a.loadConfig()
	var cerr *config.Error
	if errors.As(err, &cerr) {
		fmt.Fprintf(a.stderr, "configuration has %d problem(s):\n", len(cerr.Problems))
		for _, p := range cerr.Problems {
			fmt.Fprintf(a.stderr, "  %s\n", p)
		}
		return errors.New("invalid configuration")
	}
	if err != nil {
		return err
	}
	out, err := cfg.Dump()
	if err != nil {
		return err
	}
	fmt.Fprint(a.stdout, out)
	fmt.Fprintln(a.stderr, "configuration is valid")
	return nil
}

func runMigrate(ctx context.Context, a *app, args []string) error {
	c := commands["migrate"]
	if _, err := a.parse(c, flag.NewFlagSet(c.name, flag.ContinueOnError), args, 0, 0); err != nil {
		return err
	}
	cfg, st, err := a.setup(ctx)
	if err != nil {
		return err
	}
	v := sqlite.SchemaVersion()
	if db, ok := st.(*sqlite.DB); ok {
		if v, err = db.Version(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.stdout, "database %s is at schema version %d\n", cfg.Database, v)
	return nil
}
