package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/seed-c50b6fda/herald/config"
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
	// Opening the store migrates it, or refuses a newer schema.
	cfg, st, err := a.setup(ctx)
	if err != nil {
		return err
	}
	db, ok := st.(interface {
		Version(ctx context.Context) (int, error)
	})
	if !ok {
		return fmt.Errorf("database %s: this store does not report its schema version", cfg.Database)
	}
	v, err := db.Version(ctx)
	if err != nil {
		return fmt.Errorf("database %s: read schema version: %w", cfg.Database, err)
	}
	fmt.Fprintf(a.stdout, "database %s is at schema version %d\n", cfg.Database, v)
	return nil
}
