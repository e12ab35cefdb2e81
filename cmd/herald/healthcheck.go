package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"time"
)

func init() {
	register(&command{
		name:    "healthcheck",
		summary: "exit 0 when the database answers and, if HERALD_HTTP_ADDR is set, the daemon reports healthy",
		run:     runHealthcheck,
	})
}

// runHealthcheck is meant for container health checks: quick, quiet on
// success, one line on failure.
func runHealthcheck(ctx context.Context, a *app, args []string) error {
	c := commands["healthcheck"]
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if _, err := a.parse(c, fs, args, 0, 0); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cfg, st, err := a.setup(ctx)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	if err := st.Ping(ctx); err != nil {
		return fmt.Errorf("unhealthy: database: %w", err)
	}
	if cfg.HTTPAddr == "" {
		return nil
	}
	addr := cfg.HTTPAddr
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: daemon at %s: %w", addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: daemon at %s answered %s", addr, resp.Status)
	}
	return nil
}
