package main

import (
	"context"
	"fmt"
	"time"

	"github.com/seed-c50b6fda/herald/config"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/dedup"
)

// newGrouper returns the story clusterer, with the window rebuilt from the
// store's persisted stories. Commands that store articles hand it their
// new articles, so every article lands in a story.
func (a *app) newGrouper(ctx context.Context, cfg config.Config, st digest.Store) (*dedup.Grouper, error) {
	g := dedup.NewGrouper(st, dedup.Options{Window: cfg.Cluster.Window})
	start := time.Now()
	if err := g.Load(ctx, start); err != nil {
		return nil, fmt.Errorf("rebuild the story window: %w", err)
	}
	if a.logger != nil {
		a.logger.Debug("story window rebuilt", "duration", time.Since(start).Round(time.Millisecond))
	}
	return g, nil
}
