package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/seed-c50b6fda/herald/config"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/fetch"
	"github.com/seed-c50b6fda/herald/digest/poll"
)

func init() {
	register(&command{name: "poll", summary: "fetch the feeds that are due once and print a summary (--all: every feed)", run: runPoll})
}

// newFetchClient builds the feed fetcher from the configuration and closes
// it when the command ends.
func (a *app) newFetchClient(cfg config.Config) *fetch.Client {
	c := fetch.New(fetch.Options{
		UserAgent:    cfg.Fetch.UserAgent,
		Timeout:      cfg.Fetch.Timeout,
		MaxBodyBytes: cfg.Fetch.MaxBodyBytes,
		AllowPrivate: cfg.Fetch.AllowPrivate,
	})
	a.closers = append(a.closers, func() error { c.Close(); return nil })
	return c
}

// newPoller builds the poller from the configuration. grouper and
// onResult (which observes each feed polled) may be nil. Feeds are fetched
// under their claims, so that a command and a running daemon, or several
// replicas, never fetch one feed at once; a claim lasts a whole fetch.
func (a *app) newPoller(cfg config.Config, st digest.Store, f poll.Fetcher, grouper poll.Grouper, onResult func(poll.FeedResult)) *poll.Poller {
	claims := a.leases(st, cfg.Fetch.Timeout+cfg.Replicas.Lease)
	return poll.New(poll.Config{
		OnResult:    onResult,
		Fetcher:     f,
		Store:       st,
		Grouper:     grouper,
		Claims:      claims,
		Logger:      a.logger,
		Concurrency: cfg.Fetch.Concurrency,
		PerHost:     cfg.Fetch.PerHost,
		MinInterval: cfg.Fetch.MinInterval,
		MaxInterval: cfg.Fetch.MaxInterval,
		Every:       cfg.Fetch.PollEvery,
	})
}

// pollResultJSON is the stable JSON shape of one feed's poll result.
type pollResultJSON struct {
	FeedID      int64      `json:"feed_id"`
	FeedURL     string     `json:"feed_url"`
	Title       string     `json:"title"`
	Outcome     string     `json:"outcome"`
	NewArticles int        `json:"new_articles"`
	Error       string     `json:"error,omitempty"`
	NextCheckAt *time.Time `json:"next_check_at"`
}

// pollSummaryJSON is the stable JSON shape of `herald poll --json`.
type pollSummaryJSON struct {
	Feeds       int              `json:"feeds"`
	OK          int              `json:"ok"`
	NotModified int              `json:"not_modified"`
	Unchanged   int              `json:"unchanged"`
	Failed      int              `json:"failed"`
	Errors      int              `json:"errors"`
	NewArticles int              `json:"new_articles"`
	DurationMS  int64            `json:"duration_ms"`
	Interrupted bool             `json:"interrupted"`
	Results     []pollResultJSON `json:"results"`
}

func runPoll(ctx context.Context, a *app, args []string) error {
	c := commands["poll"]
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	all := fs.Bool("all", false, "poll every feed, not only those due")
	asJSON := fs.Bool("json", false, "print the summary and every feed's result as JSON")
	if _, err := a.parse(c, fs, args, 0, 0); err != nil {
		return err
	}
	cfg, st, err := a.setup(ctx)
	if err != nil {
		return err
	}
	filter := digest.FeedFilter{}
	if !*all {
		filter.DueBefore = time.Now()
	}
	feeds, err := st.ListFeeds(ctx, filter)
	if err != nil {
		return fmt.Errorf("list feeds: %w", err)
	}
	if len(feeds) == 0 && !*asJSON {
		return explainNothingDue(ctx, a.stdout, st, *all)
	}
	grouper, err := a.newGrouper(ctx, cfg, st)
	if err != nil {
		return err
	}
	p := a.newPoller(cfg, st, a.newFetchClient(cfg), grouper, nil)
	sum := p.Poll(ctx, feeds, nil)
	interrupted := ctx.Err() != nil

	if *asJSON {
		out := pollSummaryJSON{
			Feeds: sum.Feeds, OK: sum.OK, NotModified: sum.NotModified, Unchanged: sum.Unchanged,
			Failed: sum.Failed, Errors: sum.Errors, NewArticles: sum.NewArticles,
			DurationMS: sum.Duration.Milliseconds(), Interrupted: interrupted, Results: []pollResultJSON{},
		}
		for _, r := range sum.Results {
			j := pollResultJSON{FeedID: r.Feed.ID, FeedURL: r.Feed.URL, Title: r.Feed.DisplayName(), Outcome: string(r.Outcome),
				NewArticles: r.NewArticles, NextCheckAt: optTime(r.Feed.NextCheckAt)}
			if r.Err != nil {
				j.Error = r.Err.Error()
			}
			out.Results = append(out.Results, j)
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		printPollSummary(a.stdout, sum)
	}
	switch {
	case interrupted:
		return fmt.Errorf("poll interrupted after %d of %d feeds", sum.Feeds, len(feeds))
	case sum.Errors > 0:
		return fmt.Errorf("%d feed(s) could not be saved; see the log", sum.Errors)
	}
	return nil
}

// printPollSummary prints the feeds that brought news or failed, then one
// summary line.
func printPollSummary(w io.Writer, sum poll.Summary) {
	for _, r := range sum.Results {
		switch r.Outcome {
		case poll.OutcomeOK:
			if r.NewArticles > 0 {
				fmt.Fprintf(w, "  %-6s %s: %d new of %d items\n", "new", r.Feed.DisplayName(), r.NewArticles, r.Articles)
			}
		case poll.OutcomeFailed:
			fmt.Fprintf(w, "  %-6s %s: %s (retry %s)\n", "failed", r.Feed.DisplayName(), userError(r.Err), humanWhen(r.Feed.NextCheckAt))
		case poll.OutcomeError:
			fmt.Fprintf(w, "  %-6s %s: %s\n", "error", r.Feed.DisplayName(), r.Err)
		}
	}
	fmt.Fprintf(w, "polled %d feed(s) in %s: %d updated, %d not modified, %d unchanged, %d failed; %d new article(s)\n",
		sum.Feeds, sum.Duration.Round(time.Millisecond), sum.OK, sum.NotModified, sum.Unchanged, sum.Failed, sum.NewArticles)
}

// explainNothingDue says why there was nothing to poll and when there will
// be.
func explainNothingDue(ctx context.Context, w io.Writer, st digest.FeedStore, all bool) error {
	feeds, err := st.ListFeeds(ctx, digest.FeedFilter{})
	if err != nil {
		return fmt.Errorf("list feeds: %w", err)
	}
	if len(feeds) == 0 {
		fmt.Fprintln(w, "no feeds yet: add one with 'herald feeds add URL'")
		return nil
	}
	next := feeds[0]
	for _, f := range feeds[1:] {
		if f.NextCheckAt.Before(next.NextCheckAt) {
			next = f
		}
	}
	fmt.Fprintf(w, "no feeds due; the next is %s, due %s (use --all to poll every feed now)\n", next.DisplayName(), humanWhen(next.NextCheckAt))
	return nil
}

// humanWhen says when t is, relative to now, for people.
func humanWhen(t time.Time) string {
	d := time.Until(t)
	switch {
	case t.IsZero() || d <= 0:
		return "now"
	case d < time.Minute:
		return "in under a minute"
	default:
		return fmt.Sprintf("in %s (%s)", roundDuration(d), t.Local().Format("2006-01-02 15:04"))
	}
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	default:
		return d.Round(time.Second).String()
	}
}

// isTemporary reports whether a fetch failure may pass by itself (network,
// time-out, server error, rate limit), as opposed to an answer that says
// the address is not a usable feed.
func isTemporary(err error) bool {
	var fe *fetch.Error
	return errors.As(err, &fe) && fe.Temporary()
}

// feedAdder adds feeds the way feeds add and feeds import do: fetch once
// first, refuse an address whose answer is not a usable feed, follow an
// HTML page to the one feed it advertises, and store the first articles.
type feedAdder struct {
	st      digest.Store
	client  *fetch.Client
	poller  *poll.Poller
	noFetch bool
}

// newFeedAdder returns a feedAdder; grouper, when not nil, puts the first
// articles of a new feed into stories.
func (a *app) newFeedAdder(cfg config.Config, st digest.Store, noFetch bool, grouper poll.Grouper) *feedAdder {
	ad := &feedAdder{st: st, noFetch: noFetch}
	if !noFetch {
		ad.client = a.newFetchClient(cfg)
		ad.poller = a.newPoller(cfg, st, ad.client, grouper, nil)
	}
	return ad
}

// added is what happened when adding one feed.
type added struct {
	URL       string          // the address stored (or found already stored)
	Present   bool            // the feed was already added; nothing changed
	Feed      *digest.Feed    // the new feed, unless Present
	Page      string          // the HTML page the feed was found through, if any
	MovedFrom string          // the address given, when it redirected permanently to URL
	Result    poll.FeedResult // the first fetch, unless noFetch
	Failing   error           // the feed was added, but fetching it failed in a way that may pass
}

// add fetches the feed at u (an address checkFeedURL accepted) and stores
// it. It returns an error, and stores nothing, when the server's answer
// shows the address is no usable feed (not found, gone, not a feed,
// malformed, too large, refused); a failure that may pass (network,
// time-out, server error, rate limit) stores the feed anyway, reported in
// Failing, and the poller retries it with back-off.
func (ad *feedAdder) add(ctx context.Context, u, name string) (added, error) {
	out := added{URL: u}
	if present, err := ad.present(ctx, u); err != nil || present {
		out.Present = present
		return out, err
	}
	if ad.noFetch {
		f := &digest.Feed{URL: u, Name: name}
		return ad.create(ctx, out, f)
	}
	now := time.Now()
	res, err := ad.client.Fetch(ctx, fetch.Request{URL: u})
	var fe *fetch.Error
	if errors.As(err, &fe) && fe.Kind == fetch.KindNotFeed && len(fe.Alternates) == 1 {
		alt, cerr := checkFeedURL(fe.Alternates[0])
		if cerr == nil {
			out.Page, out.URL = u, alt
			if present, err := ad.present(ctx, alt); err != nil || present {
				out.Present = present
				return out, err
			}
			now = time.Now()
			res, err = ad.client.Fetch(ctx, fetch.Request{URL: alt})
		}
	}
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	if err != nil && !isTemporary(err) {
		return out, err
	}
	if err == nil && res.MovedTo != "" {
		if moved, cerr := checkFeedURL(res.MovedTo); cerr == nil && moved != out.URL {
			out.MovedFrom, out.URL = out.URL, moved
			if present, err := ad.present(ctx, moved); err != nil || present {
				out.Present = present
				return out, err
			}
		}
	}
	f := &digest.Feed{URL: out.URL, Name: name}
	out, cerr := ad.create(ctx, out, f)
	if cerr != nil || out.Present {
		return out, cerr
	}
	out.Result = ad.poller.Record(ctx, f, now, res, err)
	if out.Result.Outcome == poll.OutcomeError {
		return out, out.Result.Err
	}
	out.Failing = err
	return out, nil
}

func (ad *feedAdder) present(ctx context.Context, u string) (bool, error) {
	_, err := ad.st.FindFeedByURL(ctx, u)
	switch {
	case err == nil:
		return true, nil
	case digest.IsNotFound(err):
		return false, nil
	default:
		return false, err
	}
}

func (ad *feedAdder) create(ctx context.Context, out added, f *digest.Feed) (added, error) {
	err := ad.st.CreateFeed(ctx, f)
	if digest.IsConflict(err) {
		out.Present = true // added meanwhile
		return out, nil
	}
	if err != nil {
		return out, err
	}
	out.Feed = f
	return out, nil
}
