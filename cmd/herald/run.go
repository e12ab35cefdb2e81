package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/poll"
	"github.com/seed-c50b6fda/herald/replica"
	"github.com/seed-c50b6fda/herald/schedule"
)

func init() {
	register(&command{
		name:    "run",
		summary: "run the daemon: poll feeds, send scheduled digests, answer chat commands",
		run:     runDaemon,
	})
}

// noticeEvery is how often the daemon looks for feeds that have been
// failing long enough to tell their chats, or that recovered.
const noticeEvery = 10 * time.Minute

// platform is a chat adapter as the daemon sees it; it sends through the
// outbox it registered with.
type platform struct {
	name     string
	renderer bot.Renderer
	run      func(ctx context.Context) error
	ready    func() bool // connected to the platform; nil when it cannot tell
}

func runDaemon(ctx context.Context, a *app, args []string) error {
	c := commands["run"]
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	grace := fs.Duration("shutdown-grace", 10*time.Second, "on SIGTERM, how long sends in flight may take to finish")
	if _, err := a.parse(c, fs, args, 0, 0); err != nil {
		return err
	}
	cfg, st, err := a.setup(ctx)
	if err != nil {
		return err
	}
	log := a.logger
	a.metrics = newMetrics(st)
	m := a.metrics

	// Replicas on one database divide the work through leases: this
	// process's feeds, chats and digest slots are claimed one by one, and
	// the story clusterer runs in one replica at a time.
	leases := a.leases(st, cfg.Replicas.Lease)
	grouper := a.newDaemonGrouper(cfg, st)

	// The chat core tells the scheduler about changed schedules; the
	// scheduler delivers through adapters that answer through the core.
	// The late binding breaks the circle.
	var sched *schedule.Scheduler
	b := a.newBot(cfg, st, grouper, func() {
		if sched != nil {
			sched.Reload()
		}
	})
	outbox := bot.NewOutbox(bot.OutboxConfig{
		Store: st, Claims: leases, ShutdownGrace: *grace, Logger: log.With("component", "outbox"),
		OnSent: func(msg *digest.OutboxMessage) { m.messagesSent.WithLabelValues(msg.Platform, msg.Kind).Inc() },
		OnRetry: func(msg *digest.OutboxMessage, err error) {
			m.sendRetries.WithLabelValues(msg.Platform).Inc()
			var se *bot.SendError
			if errors.As(err, &se) && se.RetryAfter > 0 {
				m.rateLimited.WithLabelValues(msg.Platform).Inc()
			}
		},
	})
	platforms, err := a.platforms(cfg, st, b, outbox, leases)
	if err != nil {
		return err
	}
	if len(platforms) == 0 {
		log.Warn("no chat platform configured: set HERALD_TELEGRAM_TOKEN or HERALD_DISCORD_TOKEN; feeds are polled, but no digest can be delivered")
	}
	renderers := map[string]bot.Renderer{}
	for _, p := range platforms {
		renderers[p.name] = p.renderer
	}
	delivery := &bot.Delivery{
		Store: st, Renderers: renderers, Wake: outbox.Wake, DigestLimit: cfg.Digest.Limit, Logger: log.With("component", "delivery"),
		OnDigest: func(sub *digest.Subscription, parts int) { m.digests.WithLabelValues(sub.Platform).Inc() },
	}
	sched = schedule.New(schedule.Config{
		Source: st, Grace: cfg.Digest.Grace, Logger: log,
		// A slot another replica was building when it died is taken
		// over at a refresh after its claim expires.
		Refresh: min(time.Minute, cfg.Replicas.Lease),
		// Building digests is CPU work, and the outbox, which sends one
		// message at a time, needs a CPU to keep up with Telegram's 30
		// messages a second. Measured with 1,000 digests due at once on
		// 2 CPUs: 4 builders held sending to about 13 a second while
		// they ran, 1 builds about 60 a second and sending stays at 29.
		Concurrency: max(1, runtime.GOMAXPROCS(0)/2),
		Deliver: func(ctx context.Context, sub *digest.Subscription, slot schedule.Slot) error {
			return deliverClaimed(ctx, log, leases, delivery, sub.ID, slot)
		},
	})

	poller := a.newPoller(cfg, st, a.newFetchClient(cfg), grouper, func(r poll.FeedResult) {
		m.fetchSeconds.WithLabelValues(string(r.Outcome)).Observe(r.Took.Seconds())
		m.articles.Add(float64(r.NewArticles))
	})

	g, gctx := errgroup.WithContext(ctx)
	if cfg.HTTPAddr != "" {
		srv, ln, err := a.httpServer(cfg.HTTPAddr, st, platforms, m)
		if err != nil {
			return err
		}
		g.Go(func() error { return serveUntil(gctx, srv, ln) })
	}
	g.Go(func() error {
		return leases.Run(gctx, func(n int) {
			m.replicas.Set(float64(n))
			outbox.ShareLimits(n)
		})
	})
	g.Go(func() error { return grouper.Run(gctx) })
	g.Go(func() error { return poller.Run(gctx) })
	g.Go(func() error { return outbox.Run(gctx) })
	g.Go(func() error { return sched.Run(gctx) })
	g.Go(func() error { return noticeLoop(gctx, delivery, log) })
	if sm, ok := st.(searchMaintainer); ok {
		g.Go(func() error { return maintainSearch(gctx, sm, cfg.Fetch.PollEvery, log) })
	}
	for _, p := range platforms {
		g.Go(func() error {
			if err := p.run(gctx); err != nil && gctx.Err() == nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			return nil
		})
	}
	log.Info("herald running", "database", cfg.Database.String(), "http_addr", cfg.HTTPAddr, "platforms", len(platforms),
		"replica", leases.Owner())
	err = g.Wait()
	if err != nil && ctx.Err() == nil {
		return err
	}
	log.Info("herald stopped")
	return nil
}

// deliverClaimed builds and enqueues a subscription's digest for a slot
// under the slot's claim, so that one replica builds it while the others
// look again later (schedule.ErrElsewhere) and find it done, or take it
// over when that replica died before it finished.
func deliverClaimed(ctx context.Context, log *slog.Logger, leases *replica.Leases, d *bot.Delivery, subID int64, slot schedule.Slot) error {
	name := "digest/" + strconv.FormatInt(subID, 10) + "/" + slot.Key()
	ok, err := leases.Claim(ctx, name)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: %w", name, schedule.ErrElsewhere)
	}
	defer func() {
		if err := leases.Release(context.WithoutCancel(ctx), name); err != nil {
			log.Warn("release digest claim; it expires", "claim", name, "err", err)
		}
	}()
	return d.DeliverDigest(ctx, subID, slot.Key(), slot.At)
}

// searchMaintainer is a store whose search index needs merging now and
// then (SQLite's FTS5 index grows a segment with every write).
type searchMaintainer interface {
	MaintainSearchIndex(ctx context.Context, budget time.Duration) (more bool, err error)
}

// maintainBudget is how long one call merges the search index: short
// steps that let writers in between, so polling never waits long.
const maintainBudget = time.Second

// maintainSearch merges the search index after each round of polling (every
// poll interval), and keeps at it every few seconds while merge work
// remains, as after a large import. An index with nothing to merge costs
// well under a millisecond to check.
func maintainSearch(ctx context.Context, sm searchMaintainer, every time.Duration, log *slog.Logger) error {
	failures := 0
	for {
		wait := every
		more, err := sm.MaintainSearchIndex(ctx, maintainBudget)
		switch {
		case err != nil && ctx.Err() == nil:
			failures++
			if failures == 1 || failures%30 == 0 {
				log.Warn("merge the search index", "err", err, "failures", failures)
			}
		case err == nil:
			failures = 0
			if more {
				wait = min(every, 5*time.Second)
			}
		}
		if !sleepCtx(ctx, wait) {
			return nil
		}
	}
}

// noticeLoop checks for feed failure and recovery notices now and then.
func noticeLoop(ctx context.Context, d *bot.Delivery, log *slog.Logger) error {
	t := time.NewTicker(noticeEvery)
	defer t.Stop()
	for {
		if err := d.CheckFeedNotices(ctx); err != nil && ctx.Err() == nil {
			log.Error("feed notices", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// httpServer serves /metrics, /healthz (the process answers and the store
// is reachable) and /readyz (also every chat adapter is connected).
func (a *app) httpServer(addr string, st digest.Store, platforms []platform, m *metrics) (*http.Server, net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on HERALD_HTTP_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		for _, p := range platforms {
			if p.ready != nil && !p.ready() {
				http.Error(w, p.name+" not connected", http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, "ready")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return srv, ln, nil
}

// serveUntil serves until ctx ends, then shuts the server down.
func serveUntil(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc
	return err
}
