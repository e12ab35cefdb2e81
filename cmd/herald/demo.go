package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/poll"
	"github.com/seed-c50b6fda/herald/digest/render"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

// demoFeeds are invented outlets covering overlapping invented events: a
// wire copy carried by two outlets with small edits, an independent
// write-up of the same event, a feed in German, and a broken feed.
//
//go:embed demofeeds
var demoFeeds embed.FS

// demoFeedList says which file each demo outlet serves and its name.
var demoFeedList = []struct{ file, name string }{
	{"northwind-times.xml", "northwind"},
	{"daily-ledger.xml", "ledger"},
	{"harbor-post.json", "harbor"},
	{"rundschau.xml", "rundschau"},
	{"broken.xml", "broken"},
}

func init() {
	register(&command{
		name:    "demo",
		summary: "run Herald offline on example feeds: fetch, group into stories, print a digest",
		run:     runDemo,
	})
}

func runDemo(ctx context.Context, a *app, args []string) error {
	c := commands["demo"]
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	keep := fs.String("keep", "", "keep the demo database at this `path` (default: a temporary file, removed)")
	format := render.FormatText
	fs.Var(&format, "format", "digest `format`: text, markdown, telegram, discord or json")
	if _, err := a.parse(c, fs, args, 0, 0); err != nil {
		return err
	}
	if a.logLevel == "" {
		a.logLevel = "error" // the demo reports feed trouble itself; warnings would repeat it
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	dbPath := *keep
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "herald-demo-")
		if err != nil {
			return err
		}
		// Closers run last registered first: the database closes
		// before its directory goes.
		a.closers = append(a.closers, func() error { return os.RemoveAll(dir) })
		dbPath = filepath.Join(dir, "demo.db")
	} else if _, err := os.Stat(dbPath); err == nil {
		return &usageError{msg: fmt.Sprintf("--keep %s: the file exists; the demo starts from an empty database", dbPath)}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	srv, base, err := serveDemoFeeds(time.Now())
	if err != nil {
		return err
	}
	defer srv.Close()

	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	// Closed with the command's other resources, after the story
	// clusterer has given up its lease in it.
	a.closers = append(a.closers, db.Close)
	fmt.Fprintf(a.stdout, "Herald demo: %d invented outlets served from %s\n\n", len(demoFeedList), base)
	for _, df := range demoFeedList {
		if err := db.CreateFeed(ctx, &digest.Feed{URL: base + "/" + df.file, Name: df.name}); err != nil {
			return err
		}
	}

	// The demo feeds live on loopback, which the fetcher refuses unless
	// told otherwise: allow it for this run only.
	cfg.Fetch.AllowPrivate = true
	cfg.Fetch.Timeout = 10 * time.Second
	grouper, err := a.newGrouper(ctx, cfg, db)
	if err != nil {
		return err
	}
	poller := a.newPoller(cfg, db, a.newFetchClient(cfg), grouper, nil)
	feeds, err := db.ListFeeds(ctx, digest.FeedFilter{})
	if err != nil {
		return err
	}
	sum := poller.Poll(ctx, feeds, func(r poll.FeedResult) {
		switch r.Outcome {
		case poll.OutcomeOK:
			fmt.Fprintf(a.stdout, "  ok      %-22s %d articles\n", r.Feed.DisplayName(), r.NewArticles)
		default:
			fmt.Fprintf(a.stdout, "  FAILED  %-22s %s\n", r.Feed.DisplayName(), r.Err)
		}
	})
	fmt.Fprintf(a.stdout, "\nPolled %s\n", sum)
	stories, err := db.ListStories(ctx, digest.StoryFilter{})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Grouped %d articles into %d stories.\n\n", sum.NewArticles, len(stories))

	loc, err := time.LoadLocation(cfg.Digest.TimeZone)
	if err != nil {
		return err
	}
	if err := printDigest(ctx, a, db, format, digest.BuildRequest{
		Title: "Herald demo digest", Since: time.Now().Add(-48 * time.Hour), Limit: cfg.Digest.Limit, Location: loc,
	}); err != nil {
		return err
	}
	fmt.Fprint(a.stdout, demoEpilogue(*keep))
	return nil
}

func demoEpilogue(kept string) string {
	var b strings.Builder
	b.WriteString("\nThat was Herald on five invented feeds, with no network and no tokens.\n")
	if kept != "" {
		fmt.Fprintf(&b, "The demo database is kept at %s: try HERALD_DATABASE=%s herald digest --format markdown\n", kept, kept)
	}
	b.WriteString(`
Next steps:
  herald feeds add https://example.com/feed.xml   add your own feeds (checked before saving)
  herald poll                                     fetch them and group articles into stories
  herald digest --since 24h                       print the digest (text, markdown, telegram, discord, json)
  herald search "query"                           search everything stored

Connect a chat platform:
  Telegram: create a bot with @BotFather, then  HERALD_TELEGRAM_TOKEN=123456:ABC... herald run
  Discord:  create an application and bot at https://discord.com/developers, then
            HERALD_DISCORD_TOKEN=... herald run
  In the chat, /subscribe URL and /schedule daily 08:00 set up a digest; see README.md.
`)
	return b.String()
}

// agoPattern is the placeholder demo feeds use for times relative to now,
// so the demo always shows fresh news: {{ago 5h}}.
var agoPattern = regexp.MustCompile(`\{\{ago (\d+[hm])\}\}`)

// serveDemoFeeds serves the embedded demo feeds on a loopback port with
// dates relative to now, in each format's own date syntax.
func serveDemoFeeds(now time.Time) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("demo feed server: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		name := path.Base(r.URL.Path)
		body, err := fs.ReadFile(demoFeeds, "demofeeds/"+name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		layout := time.RFC1123Z // RSS
		if bytes.Contains(body, []byte("<feed")) || strings.HasSuffix(name, ".json") {
			layout = time.RFC3339 // Atom and JSON Feed
		}
		body = agoPattern.ReplaceAllFunc(body, func(m []byte) []byte {
			d, _ := time.ParseDuration(string(agoPattern.FindSubmatch(m)[1]))
			return []byte(now.Add(-d).UTC().Format(layout))
		})
		switch {
		case strings.HasSuffix(name, ".json"):
			w.Header().Set("Content-Type", "application/feed+json")
		case bytes.Contains(body, []byte("<feed")):
			w.Header().Set("Content-Type", "application/atom+xml")
		default:
			w.Header().Set("Content-Type", "application/rss+xml")
		}
		w.Write(body)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "demo feed server: %v\n", err)
		}
	}()
	return srv, "http://" + ln.Addr().String(), nil
}
