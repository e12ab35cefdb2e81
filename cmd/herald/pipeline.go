package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/seed-c50b6fda/herald/config"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/dedup"
	"github.com/seed-c50b6fda/herald/replica"
)

// clusterLease names the lease of the story clusterer. Stories have one
// writer at a time: several clusterers, each seeing only the articles its
// own process fetched, would split one event into several stories.
const clusterLease = "cluster"

// catchUpEvery is how often the clusterer looks for articles that other
// processes stored (herald poll, feeds add, another replica).
const catchUpEvery = 5 * time.Second

// storyGrouper puts stored articles into stories, in whichever process
// holds the cluster lease. It is the poller's Grouper.
//
// The daemon runs it (Run): while it holds the lease it rebuilds the
// window from the store, groups the articles its poller stores as they
// come, and every few seconds the articles other processes stored; while
// another replica holds the lease it stands by.
//
// A command (poll, feeds add, chat, demo) groups its new articles itself
// when it can take the lease, and otherwise leaves them to the daemon that
// holds it.
type storyGrouper struct {
	g      *dedup.Grouper
	st     digest.Store
	leases *replica.Leases
	window time.Duration
	log    *slog.Logger
	wake   chan struct{}

	mu      sync.Mutex
	daemon  bool      // grouping happens in Run
	holding bool      // a command holds the lease
	renewed time.Time // when a command last took or renewed it
}

// newGrouper returns the grouper of a command: it takes the cluster lease
// if it can, rebuilding the window from the store (which also groups
// articles stored but not yet grouped), and releases the lease when the
// command ends.
func (a *app) newGrouper(ctx context.Context, cfg config.Config, st digest.Store) (*storyGrouper, error) {
	sg := a.storyGrouper(cfg, st)
	ok, err := sg.leases.Claim(ctx, clusterLease)
	if err != nil {
		return nil, fmt.Errorf("story clusterer: %w", err)
	}
	if !ok {
		sg.log.Info("a running herald groups the articles into stories", "holder", sg.leases.HolderName(ctx, clusterLease))
		return sg, nil
	}
	a.closers = append(a.closers, func() error {
		sg.mu.Lock()
		defer sg.mu.Unlock()
		if !sg.holding {
			return nil
		}
		sg.holding = false
		return sg.leases.Release(context.Background(), clusterLease)
	})
	sg.holding, sg.renewed = true, time.Now()
	if err := sg.load(ctx); err != nil {
		return nil, err
	}
	return sg, nil
}

// newDaemonGrouper returns the daemon's grouper; Run does the grouping.
func (a *app) newDaemonGrouper(cfg config.Config, st digest.Store) *storyGrouper {
	sg := a.storyGrouper(cfg, st)
	sg.daemon = true
	return sg
}

func (a *app) storyGrouper(cfg config.Config, st digest.Store) *storyGrouper {
	log := a.logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &storyGrouper{
		g:      dedup.NewGrouper(st, dedup.Options{Window: cfg.Cluster.Window}),
		st:     st,
		leases: a.leases(st, cfg.Replicas.Lease),
		window: cfg.Cluster.Window,
		log:    log.With("component", "cluster"),
		wake:   make(chan struct{}, 1),
	}
}

// leases returns this process's leases with the given lease time; every
// lease of one process has the same owner name.
func (a *app) leases(st replica.Store, ttl time.Duration) *replica.Leases {
	if a.owner == "" {
		a.owner = replica.NewOwner()
	}
	return replica.New(st, replica.Config{Owner: a.owner, TTL: ttl, Logger: a.logger})
}

// Group puts newly stored articles into stories: at once in a command
// that holds the lease; in the daemon, by waking Run; elsewhere the
// process holding the lease finds them.
func (sg *storyGrouper) Group(ctx context.Context, articles []*digest.Article) error {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	if sg.daemon {
		select {
		case sg.wake <- struct{}{}:
		default:
		}
		return nil
	}
	if !sg.holding {
		return nil
	}
	ok, err := sg.leases.Claim(ctx, clusterLease) // renew
	if err != nil {
		return err
	}
	if !ok {
		sg.holding = false
		sg.log.Info("a running herald took over the story clusterer; it groups the articles from now on", "holder", sg.leases.HolderName(ctx, clusterLease))
		return nil
	}
	// The lease may have lapsed since it was last renewed, and another
	// process grouped meanwhile: start again from the store, which also
	// groups these articles (stored, and not in a story yet).
	stale := time.Since(sg.renewed) >= sg.leases.TTL()
	sg.renewed = time.Now()
	if stale {
		return sg.load(ctx)
	}
	return sg.g.Group(ctx, articles)
}

// Run groups articles while this process holds the cluster lease, and
// stands by while another does, until ctx ends.
func (sg *storyGrouper) Run(ctx context.Context) error {
	return sg.leases.RunExclusive(ctx, clusterLease, func(ctx context.Context) error {
		// A failed rebuild is retried here, not in RunExclusive: errors
		// from the work end it.
		for attempt := 0; ; attempt++ {
			err := sg.load(ctx)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			wait := min(time.Second<<min(attempt, 6), time.Minute)
			sg.log.Error("rebuild the story window; retrying", "err", err, "retry_in", wait)
			if !sleepCtx(ctx, wait) {
				return nil
			}
		}
		t := time.NewTicker(catchUpEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-sg.wake:
			case <-t.C:
			}
			if err := sg.catchUp(ctx); err != nil && ctx.Err() == nil {
				sg.log.Error("group new articles; retrying", "err", err)
			}
		}
	})
}

// load rebuilds the window from the store; it groups the articles of the
// window that have no story yet.
func (sg *storyGrouper) load(ctx context.Context) error {
	start := time.Now()
	if err := sg.g.Load(ctx, start); err != nil {
		return fmt.Errorf("rebuild the story window: %w", err)
	}
	sg.log.Debug("story window rebuilt", "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// catchUpPage is how many ungrouped articles catchUp groups at once.
const catchUpPage = 1000

// catchUp groups the window's articles that have no story yet.
func (sg *storyGrouper) catchUp(ctx context.Context) error {
	for {
		arts, err := sg.st.ListArticles(ctx, digest.ArticleFilter{
			Unassigned: true, Since: time.Now().Add(-sg.window), Limit: catchUpPage,
		})
		if err != nil {
			return fmt.Errorf("list ungrouped articles: %w", err)
		}
		if len(arts) == 0 {
			return nil
		}
		if err := sg.g.Group(ctx, arts); err != nil {
			return err
		}
		sg.log.Debug("grouped articles", "articles", len(arts))
		if len(arts) < catchUpPage {
			return nil
		}
	}
}

// sleepCtx waits d or until ctx ends, and reports whether it waited d.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
