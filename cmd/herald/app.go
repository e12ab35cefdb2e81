package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/seed-c50b6fda/herald/config"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/store/postgres"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

// loadConfig loads the configuration once: defaults, the file from --config
// or HERALD_CONFIG, HERALD_* variables, validation. Flags --log-format and
// --log-level win over the file and the environment.
func (a *app) loadConfig() (config.Config, error) {
	path := a.configPath
	if path == "" {
		path = a.getenv("HERALD_CONFIG")
	}
	cfg, err := config.Load(path, a.getenv)
	if err != nil {
		return cfg, err
	}
	if a.logFormat != "" {
		cfg.Log.Format = a.logFormat
	}
	if a.logLevel != "" {
		cfg.Log.Level = a.logLevel
	}
	if err := a.setupLogger(cfg.Log); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// setupLogger builds the process logger on stderr: text for a terminal,
// JSON for machines.
func (a *app) setupLogger(lc config.LogConfig) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(lc.Level)); err != nil {
		return &usageError{msg: fmt.Sprintf("--log-level: %q is not one of debug, info, warn, error", lc.Level)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch lc.Format {
	case "text":
		a.logger = slog.New(slog.NewTextHandler(a.stderr, opts))
	case "json":
		a.logger = slog.New(slog.NewJSONHandler(a.stderr, opts))
	default:
		return &usageError{msg: fmt.Sprintf("--log-format: %q is not text or json", lc.Format)}
	}
	return nil
}

// openStore opens the configured database, a PostgreSQL URL or a SQLite
// file path, and closes it when the command ends. Both stores migrate the
// schema at open and refuse one written by a newer Herald. Neither puts
// the password of a URL in its errors.
func (a *app) openStore(ctx context.Context, cfg config.Config) (digest.Store, error) {
	var (
		st  digest.Store
		err error
	)
	if cfg.Database.IsPostgres() {
		st, err = postgres.Open(ctx, cfg.Database.Reveal())
	} else {
		st, err = sqlite.Open(ctx, cfg.Database.Reveal())
	}
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, st.Close)
	return st, nil
}

// setup loads the configuration and opens the store: what most commands
// need first.
func (a *app) setup(ctx context.Context) (config.Config, digest.Store, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return cfg, nil, err
	}
	st, err := a.openStore(ctx, cfg)
	return cfg, st, err
}

// userError returns the message a person should see for err: the user
// message of a digest.Error, else the error text.
func userError(err error) string {
	var de *digest.Error
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}
