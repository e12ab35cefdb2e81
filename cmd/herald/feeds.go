package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/poll"
)

func init() {
	register(&command{name: "feeds add", args: "URL", summary: "add a feed", run: runFeedsAdd})
	register(&command{name: "feeds list", summary: "list feeds with their status", run: runFeedsList})
	register(&command{name: "feeds remove", args: "URL|ID", summary: "remove a feed (its articles stay searchable)", run: runFeedsRemove})
}

// checkFeedURL accepts absolute http and https URLs only.
func checkFeedURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", &usageError{msg: fmt.Sprintf("%q is not a feed URL: give an absolute http:// or https:// address", raw)}
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return u.String(), nil
}

func runFeedsAdd(ctx context.Context, a *app, args []string) error {
	c := commands["feeds add"]
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	name := fs.String("name", "", "short `name` for the feed (default: its title)")
	noFetch := fs.Bool("no-fetch", false, "add the feed without fetching it first (the next poll fetches it)")
	pos, err := a.parse(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	u, err := checkFeedURL(pos[0])
	if err != nil {
		return err
	}
	cfg, st, err := a.setup(ctx)
	if err != nil {
		return err
	}
	// Fetch once before saving: the user learns now, not at the next poll,
	// whether the address is a feed, and the first articles are stored.
	var grouper poll.Grouper
	if !*noFetch {
		g, err := a.newGrouper(ctx, cfg, st)
		if err != nil {
			return err
		}
		grouper = g
	}
	out, err := a.newFeedAdder(cfg, st, *noFetch, grouper).add(ctx, u, *name)
	if out.Page != "" {
		fmt.Fprintf(a.stdout, "%s is a web page; it advertises the feed %s\n", out.Page, out.URL)
	}
	if out.MovedFrom != "" {
		fmt.Fprintf(a.stdout, "%s has moved permanently to %s\n", out.MovedFrom, out.URL)
	}
	switch {
	case err != nil:
		return fmt.Errorf("add feed: %s", userError(err))
	case out.Present:
		return fmt.Errorf("add feed: feed %s is already added", out.URL)
	case *noFetch:
		fmt.Fprintf(a.stdout, "added feed %d: %s (not fetched yet)\n", out.Feed.ID, out.Feed.URL)
	case out.Failing != nil:
		fmt.Fprintf(a.stdout, "added feed %d: %s\n", out.Feed.ID, out.Feed.URL)
		fmt.Fprintf(a.stderr, "warning: it could not be fetched now: %s\nHerald will retry %s; 'herald feeds list' shows its state.\n",
			userError(out.Failing), humanWhen(out.Feed.NextCheckAt))
	default:
		title := out.Feed.Title
		if title == "" {
			title = "(untitled)"
		}
		fmt.Fprintf(a.stdout, "added feed %d: %s (%s) with %d item(s)\n", out.Feed.ID, title, out.Feed.URL, out.Result.Articles)
	}
	return nil
}

// feedJSON is the stable JSON shape of a feed for scripts.
type feedJSON struct {
	ID           int64      `json:"id"`
	URL          string     `json:"url"`
	Name         string     `json:"name"`
	Title        string     `json:"title"`
	Status       string     `json:"status"`
	LastError    string     `json:"last_error"`
	FailingSince *time.Time `json:"failing_since"`
	CheckedAt    *time.Time `json:"checked_at"`
	NextCheckAt  *time.Time `json:"next_check_at"`
	Articles     int        `json:"articles"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func runFeedsList(ctx context.Context, a *app, args []string) error {
	c := commands["feeds list"]
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print a JSON array")
	if _, err := a.parse(c, fs, args, 0, 0); err != nil {
		return err
	}
	_, st, err := a.setup(ctx)
	if err != nil {
		return err
	}
	feeds, err := st.ListFeeds(ctx, digest.FeedFilter{})
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]feedJSON, 0, len(feeds))
		for _, f := range feeds {
			out = append(out, feedJSON{
				ID: f.ID, URL: f.URL, Name: f.Name, Title: f.Title, Status: f.Status(), LastError: f.LastError,
				FailingSince: optTime(f.FailingSince), CheckedAt: optTime(f.CheckedAt),
				NextCheckAt: optTime(f.NextCheckAt), Articles: f.Articles,
			})
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(feeds) == 0 {
		fmt.Fprintln(a.stdout, "no feeds yet: add one with 'herald feeds add URL'")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tARTICLES\tNAME\tURL\tLAST ERROR")
	for _, f := range feeds {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", f.ID, f.Status(), f.Articles, f.DisplayName(), f.URL, f.LastError)
	}
	return tw.Flush()
}

// findFeed resolves a feed given by ID or URL.
func findFeed(ctx context.Context, st digest.FeedStore, ref string) (*digest.Feed, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return st.FindFeedByID(ctx, id)
	}
	u, err := checkFeedURL(ref)
	if err != nil {
		return nil, err
	}
	return st.FindFeedByURL(ctx, u)
}

func runFeedsRemove(ctx context.Context, a *app, args []string) error {
	c := commands["feeds remove"]
	pos, err := a.parse(c, flag.NewFlagSet(c.name, flag.ContinueOnError), args, 1, 1)
	if err != nil {
		return err
	}
	_, st, err := a.setup(ctx)
	if err != nil {
		return err
	}
	f, err := findFeed(ctx, st, pos[0])
	if err != nil {
		return fmt.Errorf("remove feed: %s", userError(err))
	}
	if err := st.DeleteFeed(ctx, f.ID); err != nil {
		return fmt.Errorf("remove feed: %s", userError(err))
	}
	fmt.Fprintf(a.stdout, "removed feed %d: %s\n", f.ID, f.URL)
	return nil
}
