// Package poll owns feed polling: which feeds are due, fetching them with
// bounded concurrency (a global cap and a per-host cap, so that one slow or
// popular host neither stalls the others nor gets hammered), when to check
// each feed next (the publisher's caching hints within Herald's bounds, and
// exponential back-off with jitter after failures), and saving new
// articles through the store, handing the inserted ones to the story
// grouper.
//
// A feed is never disabled for good: a failing feed is retried at most
// MaxBackoff apart for as long as it exists, and keeps its last error and
// the time it started failing for /status.
package poll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/fetch"
)

// Fetcher fetches one feed. *fetch.Client implements it. Failures are
// *fetch.Error values; their Kind and RetryAfter shape the back-off.
type Fetcher interface {
	Fetch(ctx context.Context, req fetch.Request) (*fetch.Result, error)
}

// Store is what the poller needs from storage; digest.Store implements it.
type Store interface {
	// FindFeedByID returns the feed, or ENOTFOUND.
	FindFeedByID(ctx context.Context, id int64) (*digest.Feed, error)

	// ListFeeds returns the feeds matching the filter, ordered by ID;
	// DueBefore selects those whose NextCheckAt is at or before a time.
	ListFeeds(ctx context.Context, filter digest.FeedFilter) ([]*digest.Feed, error)

	// UpdateFeed saves the feed's title, site, language and fetch state.
	// ENOTFOUND when the feed was deleted meanwhile.
	UpdateFeed(ctx context.Context, f *digest.Feed) error

	// SaveArticles stores the articles of feed feedID, deduplicated by Key
	// (an already stored article is only linked to the feed), and returns
	// the newly inserted ones with their IDs. ENOTFOUND if the feed is gone.
	SaveArticles(ctx context.Context, feedID int64, articles []*digest.Article) ([]*digest.Article, error)
}

// Grouper puts newly stored articles into stories. Story clustering
// implements it; a failure is logged and does not fail the feed (the
// articles are stored, and stay unassigned until grouped).
type Grouper interface {
	Group(ctx context.Context, articles []*digest.Article) error
}

// Claimer divides the feeds between processes that share a store
// (replica.Leases implements it): a process fetches a feed only while it
// holds the feed's claim, so two replicas never fetch one feed at once.
type Claimer interface {
	// Claim takes the named claim; false means another process holds it.
	Claim(ctx context.Context, name string) (bool, error)
	// Release gives the claim up.
	Release(ctx context.Context, name string) error
}

// Config holds a Poller's dependencies and settings. Zero settings take the
// defaults shown.
type Config struct {
	Fetcher Fetcher // required
	Store   Store   // required
	Grouper Grouper // optional
	Claims  Claimer // optional: set when other processes poll the same store
	Logger  *slog.Logger

	Concurrency int           // feeds fetched at once: 16
	PerHost     int           // feeds fetched at once from one host: 2
	MinInterval time.Duration // shortest time between two fetches of a feed: 15m
	MaxInterval time.Duration // longest time between two successful fetches: 24h
	MaxBackoff  time.Duration // longest wait after failures: 24h
	Every       time.Duration // how often Run looks for due feeds: 1m

	Now    func() time.Time // clock; nil means time.Now
	Jitter func() float64   // uniform in [0, 1); nil means math/rand/v2

	// OnResult, when set, observes every feed polled, from any goroutine
	// (metrics).
	OnResult func(FeedResult)
}

// Poller polls feeds. Its methods are safe for concurrent use, though one
// Run loop per store is the intended use.
type Poller struct {
	cfg Config
	log *slog.Logger
}

// New returns a Poller. It panics if Fetcher or Store is missing: that is a
// wiring mistake, not a runtime condition.
func New(cfg Config) *Poller {
	if cfg.Fetcher == nil || cfg.Store == nil {
		panic("poll.New: Fetcher and Store are required")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.PerHost <= 0 {
		cfg.PerHost = 2
	}
	if cfg.MinInterval <= 0 {
		cfg.MinInterval = 15 * time.Minute
	}
	if cfg.MaxInterval <= 0 {
		cfg.MaxInterval = 24 * time.Hour
	}
	cfg.MaxInterval = max(cfg.MaxInterval, cfg.MinInterval)
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 24 * time.Hour
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.MinInterval)
	if cfg.Every <= 0 {
		cfg.Every = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{cfg: cfg, log: log.With("component", "poll")}
}

// Outcome is what happened to one feed in a poll.
type Outcome string

// Outcomes.
const (
	OutcomeOK          Outcome = "ok"           // fetched, parsed and saved
	OutcomeNotModified Outcome = "not_modified" // 304
	OutcomeUnchanged   Outcome = "unchanged"    // same body as last time
	OutcomeFailed      Outcome = "failed"       // the fetch failed; the feed backs off
	OutcomeError       Outcome = "error"        // our side failed (store); retried next poll
)

// FeedResult is the result of polling one feed.
type FeedResult struct {
	Feed        *digest.Feed // with its fetch state updated
	Outcome     Outcome
	NewArticles int           // articles stored for the first time
	Took        time.Duration // fetching and parsing, when polled
	Articles    int           // articles in the feed document (0 unless OutcomeOK)
	Err         error         // for OutcomeFailed and OutcomeError
}

// Summary counts the outcomes of a poll.
type Summary struct {
	Feeds       int
	OK          int
	NotModified int
	Unchanged   int
	Failed      int // fetch failures (the feed's problem)
	Errors      int // our failures (storage)
	NewArticles int
	Duration    time.Duration

	// Results lists every feed's result, in the order the feeds finished.
	Results []FeedResult
}

func (s *Summary) add(r FeedResult) {
	s.Feeds++
	s.NewArticles += r.NewArticles
	switch r.Outcome {
	case OutcomeOK:
		s.OK++
	case OutcomeNotModified:
		s.NotModified++
	case OutcomeUnchanged:
		s.Unchanged++
	case OutcomeFailed:
		s.Failed++
	case OutcomeError:
		s.Errors++
	}
	s.Results = append(s.Results, r)
}

// String is a one-line summary for logs and the CLI.
func (s Summary) String() string {
	return fmt.Sprintf("%d feeds in %s: %d updated, %d not modified, %d unchanged, %d failed, %d errors; %d new articles",
		s.Feeds, s.Duration.Round(time.Millisecond), s.OK, s.NotModified, s.Unchanged, s.Failed, s.Errors, s.NewArticles)
}

// PollDue polls the feeds whose next check is due.
func (p *Poller) PollDue(ctx context.Context) (Summary, error) {
	feeds, err := p.cfg.Store.ListFeeds(ctx, digest.FeedFilter{DueBefore: p.cfg.Now()})
	if err != nil {
		return Summary{}, fmt.Errorf("list due feeds: %w", err)
	}
	return p.Poll(ctx, feeds, nil), nil
}

// PollAll polls every feed, due or not.
func (p *Poller) PollAll(ctx context.Context) (Summary, error) {
	feeds, err := p.cfg.Store.ListFeeds(ctx, digest.FeedFilter{})
	if err != nil {
		return Summary{}, fmt.Errorf("list feeds: %w", err)
	}
	return p.Poll(ctx, feeds, nil), nil
}

// Poll polls the given feeds, at most Concurrency at once and PerHost per
// host, and returns when all are done or ctx is cancelled (feeds not yet
// started are then left alone, and feeds in flight are not marked failed).
// progress, if not nil, is called after each feed, from one goroutine at a
// time.
func (p *Poller) Poll(ctx context.Context, feeds []*digest.Feed, progress func(FeedResult)) Summary {
	start := time.Now()
	var sum Summary
	var mu sync.Mutex
	p.Each(ctx, feeds, func(ctx context.Context, f *digest.Feed) {
		r := p.pollFeed(ctx, f)
		if r.Outcome == "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		sum.add(r)
		if progress != nil {
			progress(r)
		}
	})
	sum.Duration = time.Since(start)
	return sum
}

// Each calls fn for every feed, at most Concurrency calls at once and at
// most PerHost for feeds of one host, hosts taking turns. It returns when
// every call has returned; once ctx is cancelled no further call starts.
// Commands that fetch feeds before they are stored (feeds import) use it to
// be as polite as the poller.
func (p *Poller) Each(ctx context.Context, feeds []*digest.Feed, fn func(context.Context, *digest.Feed)) {
	var wg sync.WaitGroup
	s := newScheduler(feeds, p.cfg.Concurrency, p.cfg.PerHost)
	done := make(chan string)
	for s.pending > 0 || s.active > 0 {
		for ctx.Err() == nil {
			f, host, ok := s.next()
			if !ok {
				break
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				fn(ctx, f)
				done <- host
			}()
		}
		if s.active == 0 {
			break // cancelled with nothing in flight
		}
		s.finished(<-done)
	}
	wg.Wait()
}

// Run polls due feeds every Config.Every until ctx is cancelled, then
// returns nil after the feeds in flight are done.
func (p *Poller) Run(ctx context.Context) error {
	p.log.Info("poller started", "every", p.cfg.Every, "concurrency", p.cfg.Concurrency, "per_host", p.cfg.PerHost)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			p.log.Info("poller stopped")
			return nil
		case <-timer.C:
		}
		sum, err := p.PollDue(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			p.log.Error("poll", "err", err)
		case sum.Feeds > 0:
			// A poll that found nothing new is routine: debug, not info.
			level := slog.LevelDebug
			if sum.NewArticles > 0 || sum.Failed > 0 || sum.Errors > 0 {
				level = slog.LevelInfo
			}
			p.log.Log(ctx, level, "polled", "feeds", sum.Feeds, "updated", sum.OK, "not_modified", sum.NotModified,
				"unchanged", sum.Unchanged, "failed", sum.Failed, "errors", sum.Errors,
				"new_articles", sum.NewArticles, "duration", sum.Duration.Round(time.Millisecond))
		}
		timer.Reset(p.cfg.Every)
	}
}

// pollFeed fetches one feed, saves its new articles and updates its state.
// It returns a zero FeedResult when ctx was cancelled before the outcome
// was known: an interrupted fetch says nothing about the feed.
func (p *Poller) pollFeed(ctx context.Context, f *digest.Feed) FeedResult {
	if p.cfg.Claims != nil {
		claimed, release, r := p.claim(ctx, f)
		if claimed == nil {
			return r
		}
		defer release()
		f = claimed
	}
	now := p.cfg.Now()
	start := time.Now()
	res, err := p.cfg.Fetcher.Fetch(ctx, fetch.Request{
		URL:          f.URL,
		ETag:         f.ETag,
		LastModified: f.LastModified,
		BodyHash:     f.BodyHash,
	})
	if ctx.Err() != nil {
		return FeedResult{}
	}
	took := time.Since(start)
	r := p.Record(ctx, f, now, res, err)
	r.Took = took
	if p.cfg.OnResult != nil {
		p.cfg.OnResult(r)
	}
	return r
}

// claim takes feed f's claim and returns the feed as stored now, with the
// function that releases the claim. It returns a nil feed when another
// process holds the claim or polled the feed since f was listed (the
// result is then zero: nothing happened to the feed here), or when the
// store failed (an OutcomeError result).
func (p *Poller) claim(ctx context.Context, f *digest.Feed) (*digest.Feed, func(), FeedResult) {
	name := fmt.Sprintf("feed/%d", f.ID)
	ok, err := p.cfg.Claims.Claim(ctx, name)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, FeedResult{}
		}
		return nil, nil, FeedResult{Feed: f, Outcome: OutcomeError, Err: err}
	}
	if !ok {
		p.log.Debug("feed claimed by another process", "feed_id", f.ID)
		return nil, nil, FeedResult{}
	}
	release := func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := p.cfg.Claims.Release(rctx, name); err != nil {
			p.log.Warn("release feed claim", "feed_id", f.ID, "err", err)
		}
	}
	fresh, err := p.cfg.Store.FindFeedByID(ctx, f.ID)
	switch {
	case digest.IsNotFound(err):
		release()
		return nil, nil, FeedResult{} // deleted meanwhile
	case err != nil:
		release()
		if ctx.Err() != nil {
			return nil, nil, FeedResult{}
		}
		return nil, nil, FeedResult{Feed: f, Outcome: OutcomeError, Err: fmt.Errorf("read feed %d: %w", f.ID, err)}
	case !fresh.NextCheckAt.Equal(f.NextCheckAt):
		release()
		p.log.Debug("feed polled by another process meanwhile", "feed_id", f.ID)
		return nil, nil, FeedResult{}
	}
	return fresh, release, FeedResult{}
}

// Record applies the outcome of fetching stored feed f at time now: on
// success it saves the feed's articles (handing the new ones to the
// Grouper), takes the feed's title, site and language, the new validators
// and the next check time from the caching hints; on failure (err != nil)
// it counts the failure and schedules the retry with back-off. It saves
// the feed's state with UpdateFeed unless saving the articles failed, so
// that the next poll fetches them again. f is updated in place.
//
// The poller calls it after each fetch; feeds add and feeds import call it
// for the fetch they made before storing the feed.
func (p *Poller) Record(ctx context.Context, f *digest.Feed, now time.Time, res *fetch.Result, err error) FeedResult {
	log := p.log.With("feed_id", f.ID, "feed_url", f.URL)
	if err != nil {
		return p.failed(ctx, log, f, now, err)
	}
	r := FeedResult{Feed: f}
	switch {
	case res.NotModified:
		r.Outcome = OutcomeNotModified
	case res.Unchanged:
		r.Outcome = OutcomeUnchanged
		f.BodyHash = res.BodyHash
	default:
		r.Outcome = OutcomeOK
		r.Articles = len(res.Feed.Articles)
		inserted, err := p.cfg.Store.SaveArticles(ctx, f.ID, res.Feed.Articles)
		if err != nil {
			// Our fault, not the feed's: keep the old validators so that the
			// next poll fetches and saves these articles again.
			if ctx.Err() != nil {
				return FeedResult{}
			}
			log.Error("save articles", "err", err)
			return FeedResult{Feed: f, Outcome: OutcomeError, Err: fmt.Errorf("save articles of feed %d: %w", f.ID, err)}
		}
		r.NewArticles = len(inserted)
		if len(inserted) > 0 && p.cfg.Grouper != nil {
			if err := p.cfg.Grouper.Group(ctx, inserted); err != nil && ctx.Err() == nil {
				log.Error("group articles", "articles", len(inserted), "err", err)
			}
		}
		if t := res.Feed.Title; t != "" {
			f.Title = t
		}
		if s := res.Feed.SiteURL; s != "" {
			f.SiteURL = s
		}
		if l := res.Feed.Language; l != "" {
			f.Language = l
		}
		f.BodyHash = res.BodyHash
	}
	if res.MovedTo != "" && res.MovedTo != f.URL {
		log.Warn("feed moved permanently; update its URL", "new_url", res.MovedTo)
	}
	if f.ConsecutiveErrors > 0 {
		log.Info("feed recovered", "failures", f.ConsecutiveErrors, "failing_since", f.FailingSince)
	}
	f.ETag, f.LastModified = res.ETag, res.LastModified
	f.CheckedAt, f.SucceededAt = now, now
	f.ConsecutiveErrors, f.LastError, f.FailingSince = 0, "", time.Time{}
	f.NextCheckAt = now.Add(p.interval(res.Hints))
	if err := p.cfg.Store.UpdateFeed(ctx, f); err != nil {
		if ctx.Err() != nil || digest.IsNotFound(err) {
			return r // deleted while we fetched it, or shutting down
		}
		log.Error("update feed", "err", err)
		return FeedResult{Feed: f, Outcome: OutcomeError, NewArticles: r.NewArticles, Err: fmt.Errorf("update feed %d: %w", f.ID, err)}
	}
	log.Debug("polled feed", "outcome", r.Outcome, "new_articles", r.NewArticles, "next_check_at", f.NextCheckAt)
	return r
}

// failed records a failed fetch and schedules the retry.
func (p *Poller) failed(ctx context.Context, log *slog.Logger, f *digest.Feed, now time.Time, err error) FeedResult {
	msg := err.Error()
	var fe *fetch.Error
	var retryAfter time.Duration
	if errors.As(err, &fe) {
		retryAfter = fe.RetryAfter
	}
	// Log the first failure and every change of error; repeats of the same
	// error are debug noise.
	if f.ConsecutiveErrors == 0 || f.LastError != msg {
		log.Warn("feed failing", "failures", f.ConsecutiveErrors+1, "err", msg)
	} else {
		log.Debug("feed still failing", "failures", f.ConsecutiveErrors+1, "err", msg)
	}
	if f.ConsecutiveErrors == 0 {
		f.FailingSince = now
	}
	f.ConsecutiveErrors++
	f.LastError = msg
	f.CheckedAt = now
	f.NextCheckAt = now.Add(p.Backoff(f.ConsecutiveErrors, retryAfter))
	r := FeedResult{Feed: f, Outcome: OutcomeFailed, Err: err}
	if uerr := p.cfg.Store.UpdateFeed(ctx, f); uerr != nil && ctx.Err() == nil && !digest.IsNotFound(uerr) {
		log.Error("update feed", "err", uerr)
		r.Outcome, r.Err = OutcomeError, fmt.Errorf("update feed %d: %w", f.ID, uerr)
	}
	return r
}

// interval returns how long to wait after a successful fetch: the longest
// of MinInterval and the publisher's hints plus up to 10% jitter (so that
// feeds added together drift apart instead of being polled in one burst for
// ever), at most MaxInterval.
func (p *Poller) interval(h fetch.Hints) time.Duration {
	d := max(p.cfg.MinInterval, h.Max())
	d += time.Duration(p.cfg.Jitter() * 0.1 * float64(d))
	return min(d, p.cfg.MaxInterval)
}

// Backoff returns how long to wait after the n-th consecutive failure:
// MinInterval doubled per failure ("equal jitter": a random point in the
// upper half of that), at least the server's Retry-After, at most
// MaxBackoff.
func (p *Poller) Backoff(n int, retryAfter time.Duration) time.Duration {
	if n < 1 {
		n = 1
	}
	exp := float64(p.cfg.MinInterval) * math.Pow(2, float64(n-1))
	d := time.Duration(min(exp, float64(p.cfg.MaxBackoff)))
	d = d/2 + time.Duration(p.cfg.Jitter()*float64(d/2))
	return min(max(d, retryAfter), max(p.cfg.MaxBackoff, p.cfg.MinInterval))
}

// hostKey is the host a feed is fetched from, for the per-host cap.
func hostKey(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return rawURL
	}
	return strings.ToLower(u.Hostname())
}
