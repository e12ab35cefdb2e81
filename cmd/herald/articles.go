package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/seed-c50b6fda/herald/digest"
)

func init() {
	register(&command{name: "articles list", summary: "list stored articles (--feed, --since; --json for JSON Lines)", run: runArticlesList})
}

// articleJSON is the stable JSON Lines shape of an article for scripts.
type articleJSON struct {
	ID        int64     `json:"id"`
	FeedID    int64     `json:"feed_id"`
	FeedURL   string    `json:"feed_url"` // the feed it was first seen in
	URL       string    `json:"url"`
	Title     string    `json:"title"`
	Summary   string    `json:"summary"`
	Author    string    `json:"author"`
	Source    string    `json:"source"`
	Language  string    `json:"language"`
	ImageURL  string    `json:"image_url"`
	Published time.Time `json:"published"`
	FirstSeen time.Time `json:"first_seen"`
	Story     *int64    `json:"story"` // null until clustered
	Key       string    `json:"key"`
}

// sinceFlag is a look-back window: a Go duration such as 90m or 24h, or a
// number of days such as 7d; 0 means no limit.
type sinceFlag time.Duration

func (s *sinceFlag) String() string { return time.Duration(*s).String() }

func (s *sinceFlag) Set(v string) error {
	v = strings.TrimSpace(v)
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a number of days such as 7d", v)
		}
		*s = sinceFlag(time.Duration(n * float64(24*time.Hour)))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a duration such as 90m, 24h or 7d", v)
	}
	*s = sinceFlag(d)
	return nil
}

func runArticlesList(ctx context.Context, a *app, args []string) error {
	c := commands["articles list"]
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	feedRef := fs.String("feed", "", "only articles of this feed (`URL or ID`)")
	since := sinceFlag(24 * time.Hour)
	fs.Var(&since, "since", "only articles first seen within this `window` (90m, 24h, 7d; 0 for all)")
	limit := fs.Int("limit", 0, "print at most `N` articles, the most recent (0: all)")
	asJSON := fs.Bool("json", false, "print JSON Lines, one article per line")
	if _, err := a.parse(c, fs, args, 0, 0); err != nil {
		return err
	}
	if *limit < 0 {
		return &usageError{msg: "--limit must not be negative"}
	}
	_, st, err := a.setup(ctx)
	if err != nil {
		return err
	}
	filter := digest.ArticleFilter{}
	if *feedRef != "" {
		f, err := findFeed(ctx, st, *feedRef)
		if err != nil {
			return fmt.Errorf("list articles: %s", userError(err))
		}
		filter.FeedID = f.ID
	}
	if since > 0 {
		filter.Since = time.Now().Add(-time.Duration(since))
	}
	arts, err := st.ListArticles(ctx, filter)
	if err != nil {
		return fmt.Errorf("list articles: %w", err)
	}
	if *limit > 0 && len(arts) > *limit {
		arts = arts[len(arts)-*limit:] // ordered by ID: the last are the newest
	}
	feeds, err := st.ListFeeds(ctx, digest.FeedFilter{})
	if err != nil {
		return fmt.Errorf("list feeds: %w", err)
	}
	feedURL := make(map[int64]string, len(feeds))
	for _, f := range feeds {
		feedURL[f.ID] = f.URL
	}

	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		for _, ar := range arts {
			j := articleJSON{
				ID: ar.ID, FeedID: ar.FeedID, FeedURL: feedURL[ar.FeedID], URL: ar.URL, Title: ar.Title,
				Summary: ar.Summary, Author: ar.Author, Source: ar.Source, Language: ar.Language, ImageURL: ar.ImageURL,
				Published: ar.Published.UTC(), FirstSeen: ar.FirstSeen.UTC(), Key: ar.Key,
			}
			if ar.StoryID != 0 {
				id := ar.StoryID
				j.Story = &id
			}
			if err := enc.Encode(j); err != nil {
				return err
			}
		}
		return nil
	}
	if len(arts) == 0 {
		fmt.Fprintln(a.stdout, "no articles in this window; run 'herald poll', or widen it with --since 7d or --since 0")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPUBLISHED\tSTORY\tSOURCE\tTITLE\tURL")
	for _, ar := range arts {
		story := "-"
		if ar.StoryID != 0 {
			story = strconv.FormatInt(ar.StoryID, 10)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", ar.ID, ar.Published.Local().Format("2006-01-02 15:04"), story,
			clip(ar.Source, 24), clip(ar.Title, 72), ar.URL)
	}
	return tw.Flush()
}

// clip shortens s to at most n runes for a table column.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
