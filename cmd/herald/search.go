package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/seed-c50b6fda/herald/digest"
)

func init() {
	register(&command{
		name:    "search",
		args:    "QUERY...",
		summary: "search stored articles, one result per story (--json for scripts)",
		run:     runSearch,
	})
}

// searchHelp explains the query language under the flags of --help.
const searchHelp = `
Query: words (all must match), "exact phrases", -excluded words, OR, (groups),
source:name, feed:name-or-ID, since:7d or since:2024-03-22, before:...
Put the query after -- when it starts with a minus: herald search -- -sport storm`

// searchHitJSON is the stable JSON shape of one search result.
type searchHitJSON struct {
	StoryID   int64     `json:"story_id"`
	ArticleID int64     `json:"article_id"`
	Title     string    `json:"title"`
	URL       string    `json:"url"`
	Source    string    `json:"source"`
	Sources   int       `json:"sources"` // distinct sources in the story
	Snippet   string    `json:"snippet"` // plain text around the matches
	Matched   []string  `json:"matched"` // the snippet's matched words, in order, once each
	Published time.Time `json:"published"`
}

// searchJSON is the stable JSON shape of a page of results.
type searchJSON struct {
	Query      string          `json:"query"` // the query as Herald understood it
	Hits       []searchHitJSON `json:"hits"`
	NextCursor *string         `json:"next_cursor"` // null on the last page
}

func runSearch(ctx context.Context, a *app, args []string) error {
	c := commands["search"]
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the page as JSON")
	limit := fs.Int("limit", digest.DefaultSearchLimit, fmt.Sprintf("at most `N` stories (up to %d)", digest.MaxSearchLimit))
	cursor := fs.String("cursor", "", "continue with the page after the one that printed this `cursor`")
	// Everything after -- is query, minus signs and all. (The flag package
	// swallows a leading --, so a.parse alone cannot tell.)
	flagArgs, queryArgs := args, []string(nil)
	if i := slices.Index(args, "--"); i >= 0 {
		flagArgs, queryArgs = args[:i], args[i+1:]
	}
	minArgs := 1
	if len(queryArgs) > 0 {
		minArgs = 0
	}
	pos, err := a.parse(c, fs, flagArgs, minArgs, -1)
	pos = append(pos, queryArgs...)
	var uerr *usageError
	switch {
	case errors.Is(err, errHelp):
		fmt.Fprintln(a.stdout, searchHelp)
		return err
	case errors.As(err, &uerr) && strings.Contains(uerr.msg, "flag provided but not defined"):
		uerr.msg += "; to exclude words, put the query after --, as in: herald search -- storm -sport"
		return err
	case err != nil:
		return err
	}
	if *limit < 1 || *limit > digest.MaxSearchLimit {
		return &usageError{msg: fmt.Sprintf("--limit must be from 1 to %d, got %d", digest.MaxSearchLimit, *limit)}
	}
	query := strings.Join(pos, " ")
	// Check the query before opening anything, so that a typo costs nothing.
	q, err := digest.ParseQuery(query)
	if err != nil {
		return &usageError{msg: userError(err)}
	}
	cfg, st, err := a.setup(ctx)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(cfg.Digest.TimeZone)
	if err != nil {
		return fmt.Errorf("digest.time_zone %q: %w", cfg.Digest.TimeZone, err)
	}
	page, err := st.Search(ctx, digest.SearchRequest{Query: query, Limit: *limit, Cursor: *cursor, Location: loc})
	if err != nil {
		if digest.ErrorCode(err) == digest.EINVALID {
			return &usageError{msg: userError(err)}
		}
		return err
	}
	if *asJSON {
		return printSearchJSON(a.stdout, q, page)
	}
	printSearchText(a.stdout, query, page, *limit, loc)
	return nil
}

func printSearchJSON(w io.Writer, q *digest.Query, page *digest.SearchPage) error {
	out := searchJSON{Query: q.String(), Hits: []searchHitJSON{}}
	for _, h := range page.Hits {
		hit := searchHitJSON{StoryID: h.StoryID, ArticleID: h.ArticleID, Title: h.Title, URL: h.URL, Source: h.Source,
			Sources: h.Sources, Snippet: digest.PlainSnippet(h.Snippet), Matched: []string{}, Published: h.Published}
		for _, p := range digest.SplitSnippet(h.Snippet) {
			if p.Match && !slices.Contains(hit.Matched, p.Text) {
				hit.Matched = append(hit.Matched, p.Text)
			}
		}
		out.Hits = append(out.Hits, hit)
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// printSearchText prints results for a terminal: the headline, where and
// when it comes from, the link and the snippet with matches in brackets.
func printSearchText(w io.Writer, query string, page *digest.SearchPage, limit int, loc *time.Location) {
	if len(page.Hits) == 0 {
		fmt.Fprintf(w, "No stories match %s.\n", terminalText(query))
		return
	}
	for i, h := range page.Hits {
		from := terminalText(h.Source)
		if h.Sources > 1 {
			from = fmt.Sprintf("%s and %d more %s", from, h.Sources-1, map[bool]string{true: "source", false: "sources"}[h.Sources == 2])
		}
		fmt.Fprintf(w, "%d. %s\n   %s · %s · story %d\n   %s\n", i+1, terminalText(h.Title), from,
			h.Published.In(loc).Format("2 Jan 2006 15:04 MST"), h.StoryID, terminalText(h.URL))
		var snippet strings.Builder
		for _, p := range digest.SplitSnippet(h.Snippet) {
			if p.Match {
				snippet.WriteString("[" + terminalText(p.Text) + "]")
			} else {
				snippet.WriteString(terminalText(p.Text))
			}
		}
		if s := strings.TrimSpace(snippet.String()); s != "" {
			fmt.Fprintf(w, "   %s\n", s)
		}
	}
	if page.NextCursor != "" {
		fmt.Fprintf(w, "\nMore: herald search --limit %d --cursor %s -- %s\n", limit, page.NextCursor, shellQuote(query))
	}
}

// terminalText drops control and bidirectional formatting characters, so
// that feed text cannot move the cursor, recolour or reorder the terminal.
func terminalText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			return ' '
		case unicode.IsControl(r), r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f':
			return -1
		}
		return r
	}, s)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(terminalText(s), "'", `'\''`) + "'"
}
