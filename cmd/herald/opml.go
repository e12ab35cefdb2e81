package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/poll"
)

func init() {
	register(&command{name: "feeds import", args: "FILE.opml", summary: "add the feeds of an OPML file (- for stdin), fetching each once", run: runFeedsImport})
	register(&command{name: "feeds export", summary: "print every feed as OPML 2.0", run: runFeedsExport})
}

func runFeedsImport(ctx context.Context, a *app, args []string) error {
	c := commands["feeds import"]
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	noFetch := fs.Bool("no-fetch", false, "add the feeds without fetching them first (the next poll fetches them)")
	keepNames := fs.Bool("names", false, "use the OPML outline texts as feed names (default: the feeds' own titles)")
	pos, err := a.parse(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	var in io.Reader = a.stdin
	source := "stdin"
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return fmt.Errorf("import feeds: %w", err)
		}
		defer f.Close()
		in, source = bufio.NewReader(f), pos[0]
	}
	list, err := digest.ParseOPML(in)
	if err != nil {
		return fmt.Errorf("import feeds from %s: %s", source, userError(err))
	}
	if len(list) == 0 {
		return fmt.Errorf("import feeds from %s: no feeds found (no outline has an xmlUrl)", source)
	}
	cfg, st, err := a.setup(ctx)
	if err != nil {
		return err
	}

	type failure struct{ url, reason string }
	var (
		mu                       sync.Mutex
		addedN, presentN, doneN  int
		failed, failing, notices []failure
	)
	var todo []*digest.Feed
	names := map[*digest.Feed]string{}
	seen := map[string]bool{}
	for _, item := range list {
		u, err := checkFeedURL(item.URL)
		if err != nil {
			failed = append(failed, failure{item.URL, "not an http or https URL"})
			continue
		}
		if seen[u] {
			continue // listed twice, in two folders
		}
		seen[u] = true
		f := &digest.Feed{URL: u}
		if *keepNames {
			names[f] = item.Title
		}
		todo = append(todo, f)
	}

	bar := newProgress(a.stderr, len(todo), "importing feeds")
	var grouper poll.Grouper
	if !*noFetch {
		g, err := a.newGrouper(ctx, cfg, st)
		if err != nil {
			return err
		}
		grouper = g
	}
	ad := a.newFeedAdder(cfg, st, *noFetch, grouper)
	each := func(ctx context.Context, f *digest.Feed) {
		out, err := ad.add(ctx, f.URL, names[f])
		mu.Lock()
		defer mu.Unlock()
		doneN++
		bar.set(doneN)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			failed = append(failed, failure{f.URL, userError(err)})
		case out.Present:
			presentN++
		default:
			addedN++
			if out.Failing != nil {
				failing = append(failing, failure{out.URL, userError(out.Failing)})
			}
			if out.Page != "" {
				notices = append(notices, failure{out.Page, "a web page; added the feed it advertises, " + out.URL})
			}
			if out.MovedFrom != "" {
				notices = append(notices, failure{out.MovedFrom, "moved permanently; added " + out.URL})
			}
		}
	}
	if *noFetch {
		for _, f := range todo {
			if ctx.Err() != nil {
				break
			}
			each(ctx, f)
		}
	} else {
		// Fetch several at once, as politely as the poller.
		ad.poller.Each(ctx, todo, each)
	}
	bar.done()

	w := a.stdout
	for _, n := range notices {
		fmt.Fprintf(w, "  note    %s: %s\n", n.url, n.reason)
	}
	for _, f := range failing {
		fmt.Fprintf(w, "  failing %s: added, but it could not be fetched now: %s\n", f.url, f.reason)
	}
	for _, f := range failed {
		fmt.Fprintf(w, "  failed  %s: %s\n", f.url, f.reason)
	}
	fmt.Fprintf(w, "imported %s: %d added, %d already present, %d failed\n", source, addedN, presentN, len(failed))
	if ctx.Err() != nil {
		return fmt.Errorf("import interrupted after %d of %d feeds", doneN, len(todo))
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d feeds could not be imported (listed above)", len(failed), len(list))
	}
	return nil
}

func runFeedsExport(ctx context.Context, a *app, args []string) error {
	c := commands["feeds export"]
	if _, err := a.parse(c, flag.NewFlagSet(c.name, flag.ContinueOnError), args, 0, 0); err != nil {
		return err
	}
	_, st, err := a.setup(ctx)
	if err != nil {
		return err
	}
	feeds, err := st.ListFeeds(ctx, digest.FeedFilter{})
	if err != nil {
		return fmt.Errorf("export feeds: %w", err)
	}
	return digest.WriteOPML(a.stdout, "Herald feeds", feeds, time.Now())
}

// progress draws a progress bar on a terminal, and nothing elsewhere (a
// log file or a pipe wants the summary, not carriage returns).
type progress struct {
	w     io.Writer
	on    bool
	total int
	label string
	last  time.Time
}

func newProgress(w io.Writer, total int, label string) *progress {
	return &progress{w: w, on: isTerminalWriter(w) && total > 1, total: total, label: label}
}

// isTerminalWriter reports whether w is an interactive terminal.
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func (p *progress) set(n int) {
	if !p.on || (n < p.total && time.Since(p.last) < 50*time.Millisecond) {
		return
	}
	p.last = time.Now()
	const width = 30
	fill := width * n / p.total
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d", p.label, strings.Repeat("#", fill), strings.Repeat("-", width-fill), n, p.total)
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
