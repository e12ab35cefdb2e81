package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/dedup"
	"github.com/seed-c50b6fda/herald/store/postgres"
	"github.com/seed-c50b6fda/herald/store/sqlite"
	"github.com/seed-c50b6fda/herald/store/storetest"
)

// BenchmarkStores runs one workload on SQLite and on PostgreSQL, so an
// operator can see what moving to PostgreSQL costs or gains:
//
//   - ingest: N articles (syntheticArticles: the labelled dev set of
//     ../shared, copy r of each article first seen on day r; dailyStories
//     makes each day's copies stories of their own) saved through
//     SaveArticles in feed-sized batches of 50, spread over 100 feeds;
//   - cluster: after every 1,000 articles stored, the daemon's catch-up:
//     ListArticles of the window's ungrouped articles, 1,000 at a time,
//     then dedup.Grouper.Group, which persists stories and merges with
//     AssignStories and MergeStories. The grouper's clock is the newest
//     stored article's, so every article is grouped within its window;
//   - search: a few queries through Search on the whole store, each asked
//     HERALD_STORE_BENCH_SEARCHES times (default 50; the first round is a
//     warm-up and not counted), round robin. With 50, p99 is the slowest.
//
// Ingest and clustering alternate, as they do in a running herald; each
// phase's wall time is the sum of its own calls. CPU time is this
// process's plus, for PostgreSQL, the server's (its postmaster and every
// backend, read from /proc: the server must run on this machine, as
// scripts/pgtest.sh's does; without it the PostgreSQL figure is this
// process's alone, and the log says so). The store is a file in a
// temporary directory for SQLite and a fresh database on the server
// HERALD_TEST_POSTGRES names for PostgreSQL (skipped when unset).
//
//	HERALD_STORE_BENCH_ARTICLES=20000 HERALD_TEST_POSTGRES=$(scripts/pgtest.sh start) \
//	  go test ./cmd/herald -run '^$' -bench Stores -benchtime 1x -timeout 1h
//
// Both stores get the same articles in the same order, so they must end
// with the same number of stories; the benchmark fails if a store leaves an
// article ungrouped or a query finds nothing.
//
// The stores' own search benchmarks use storetest.Corpus, random text from
// a Zipf vocabulary, which is right for search at scale but has no stories
// for a clusterer to find; this one uses real news text, so that grouping
// finds and persists stories as it does in production.
func BenchmarkStores(b *testing.B) {
	n := storeBenchArticles(b)
	rounds := storeBenchSearches(b)
	arts := dailyStories(syntheticArticles(b, n))
	ctx := context.Background()
	stories := map[string]int{}
	for _, st := range []struct {
		name string
		open func(b *testing.B) (benchStore, cpuClock)
	}{
		{"sqlite", func(b *testing.B) (benchStore, cpuClock) {
			db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "herald.db"))
			if err != nil {
				b.Fatal(err)
			}
			return db, cpuClock{process: processCPU}
		}},
		{"postgres", func(b *testing.B) (benchStore, cpuClock) {
			u := freshDatabase(b, "")
			db, err := postgres.Open(ctx, u)
			if err != nil {
				b.Fatal(err)
			}
			server, ok := postgresServerCPU(b, u)
			if !ok {
				b.Log("the PostgreSQL server's CPU time is not readable here: per-CPU-second figures count this process only")
				return db, cpuClock{process: processCPU}
			}
			return db, cpuClock{process: processCPU, server: server}
		}},
	} {
		b.Run(st.name, func(b *testing.B) {
			var r storeBenchResult
			for range b.N {
				db, cpu := st.open(b)
				r = runStoreBench(b, db, cpu, cloneArticles(arts), rounds)
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/r.ingest.wall.Seconds(), "ingest-art/s")
			b.ReportMetric(float64(n)/r.ingest.cpu.Seconds(), "ingest-art/cpu-s")
			b.ReportMetric(float64(n)/r.cluster.wall.Seconds(), "cluster-art/s")
			b.ReportMetric(float64(n)/r.cluster.cpu.Seconds(), "cluster-art/cpu-s")
			b.ReportMetric(float64(r.stories), "stories")
			for _, q := range r.searches {
				b.ReportMetric(ms(storetest.Percentile(q.took, 0.50)), q.name+"-p50-ms")
				b.ReportMetric(ms(storetest.Percentile(q.took, 0.99)), q.name+"-p99-ms")
			}
			for _, q := range r.searches {
				b.Logf("%-8s %-48q p50 %7.2fms  p99 %7.2fms  %d hits on the first page",
					q.name, q.query, ms(storetest.Percentile(q.took, 0.50)), ms(storetest.Percentile(q.took, 0.99)), q.hits)
			}
			stories[st.name] = r.stories
			if s, p := stories["sqlite"], stories["postgres"]; s != 0 && p != 0 && s != p {
				b.Errorf("the same articles made %d stories on SQLite and %d on PostgreSQL", s, p)
			}
		})
	}
}

// benchStore is what BenchmarkStores uses of a store.
type benchStore interface {
	dedup.Store
	digest.SearchStore
	CreateFeed(ctx context.Context, f *digest.Feed) error
	SaveArticles(ctx context.Context, feedID int64, articles []*digest.Article) ([]*digest.Article, error)
	Close() error
}

var (
	_ benchStore = (*sqlite.DB)(nil)
	_ benchStore = (*postgres.DB)(nil)
)

// storeBenchQueries are the searches BenchmarkStores times: words of
// different frequency in the dev set (president is in about one article in
// five, earthquake in one in twenty), a phrase, and a filtered query.
var storeBenchQueries = []struct{ name, query string }{
	{"word", "president"},
	{"words", "earthquake killed"},
	{"phrase", `"prime minister"`},
	{"filtered", "police source:nytimes since:30d"},
}

const (
	storeBenchFeeds  = 100
	storeBenchBatch  = 50   // articles per SaveArticles call, as one feed fetch
	storeBenchRound  = 1000 // articles stored between two catch-ups
	storeBenchWindow = 72 * time.Hour
)

// phaseCost is the time one phase of the benchmark took.
type phaseCost struct{ wall, cpu time.Duration }

// cpuClock reads the CPU time a store's work costs: this process's and,
// when not nil, the database server's.
type cpuClock struct{ process, server func() time.Duration }

// measure runs f, adding its wall and CPU time to c. The clocks are read
// outside the wall time, the server's outside the process's: reading it
// scans /proc.
func (c *phaseCost) measure(clock cpuClock, f func() error) error {
	var s0, s1 time.Duration
	if clock.server != nil {
		s0 = clock.server()
	}
	p0 := clock.process()
	w0 := time.Now()
	err := f()
	c.wall += time.Since(w0)
	c.cpu += clock.process() - p0
	if clock.server != nil {
		s1 = clock.server()
	}
	c.cpu += s1 - s0
	return err
}

type storeBenchSearch struct {
	name, query string
	took        []time.Duration
	hits        int
}

type storeBenchResult struct {
	ingest, cluster phaseCost
	stories         int
	searches        []storeBenchSearch
}

func runStoreBench(b *testing.B, db benchStore, cpu cpuClock, arts []*digest.Article, rounds int) storeBenchResult {
	b.Helper()
	ctx := context.Background()
	feeds := make([]int64, storeBenchFeeds)
	for i := range feeds {
		f := &digest.Feed{URL: fmt.Sprintf("https://news%d.example/feed.xml", i), Title: fmt.Sprintf("News %d", i)}
		if err := db.CreateFeed(ctx, f); err != nil {
			b.Fatal(err)
		}
		feeds[i] = f.ID
	}
	var now time.Time // the newest stored article's first sighting
	g := dedup.NewGrouper(db, dedup.Options{Window: storeBenchWindow, Now: func() time.Time { return now }})
	// An empty store: Load only starts the grouper, so that the first
	// Group does not rebuild a window from articles stored meanwhile.
	if err := g.Load(ctx, arts[0].FirstSeen); err != nil {
		b.Fatal(err)
	}
	var r storeBenchResult
	catchUp := func() error {
		for {
			page, err := db.ListArticles(ctx, digest.ArticleFilter{Unassigned: true, Since: now.Add(-storeBenchWindow), Limit: catchUpPage})
			if err != nil {
				return fmt.Errorf("list ungrouped articles: %w", err)
			}
			if len(page) == 0 {
				return nil
			}
			if err := g.Group(ctx, page); err != nil {
				return fmt.Errorf("group %d articles: %w", len(page), err)
			}
			if len(page) < catchUpPage {
				return nil
			}
		}
	}
	for start := 0; start < len(arts); start += storeBenchBatch {
		batch := arts[start:min(start+storeBenchBatch, len(arts))]
		feed := feeds[(start/storeBenchBatch)%len(feeds)]
		if err := r.ingest.measure(cpu, func() error {
			ins, err := db.SaveArticles(ctx, feed, batch)
			if err == nil && len(ins) != len(batch) {
				err = fmt.Errorf("stored %d of %d new articles", len(ins), len(batch))
			}
			return err
		}); err != nil {
			b.Fatalf("save articles %d to %d: %v", start, start+len(batch), err)
		}
		now = batch[len(batch)-1].FirstSeen
		if end := start + len(batch); end%storeBenchRound == 0 || end == len(arts) {
			if err := r.cluster.measure(cpu, catchUp); err != nil {
				b.Fatal(err)
			}
		}
	}

	// Every article has a story now; count them.
	all, err := db.ListArticles(ctx, digest.ArticleFilter{})
	if err != nil {
		b.Fatal(err)
	}
	if len(all) != len(arts) {
		b.Fatalf("the store holds %d articles, want %d", len(all), len(arts))
	}
	storyIDs := map[int64]bool{}
	for _, a := range all {
		if a.StoryID == 0 {
			b.Fatalf("article %d (%s) has no story after grouping", a.ID, a.Key)
		}
		storyIDs[a.StoryID] = true
	}
	r.stories = len(storyIDs)

	searchNow := now.Add(time.Minute)
	for _, q := range storeBenchQueries {
		r.searches = append(r.searches, storeBenchSearch{name: q.name, query: q.query})
	}
	for round := 0; round <= rounds; round++ {
		for i := range r.searches {
			q := &r.searches[i]
			t0 := time.Now()
			page, err := db.Search(ctx, digest.SearchRequest{Query: q.query, Now: searchNow})
			took := time.Since(t0)
			if err != nil {
				b.Fatalf("search %q: %v", q.query, err)
			}
			if len(page.Hits) == 0 {
				b.Fatalf("search %q found nothing in %d articles", q.query, len(arts))
			}
			q.hits = len(page.Hits)
			if round > 0 {
				q.took = append(q.took, took)
			}
		}
	}
	return r
}

// dailyStories rewrites the copies syntheticArticles makes so that each
// day's news is new: in copy r (its URL ends "?copy=r"), every word with a
// digit and every word of four letters or more gets a suffix naming day r,
// except English function words and the words of storeBenchQueries.
// Otherwise copies of one article on consecutive days join one story, and
// 20,000 articles make a few hundred stories of a hundred articles or more:
// far bigger stories than feeds bring, which would make storing stories
// and searching (one hit per story) another workload. Within a day the dev
// set's own stories remain: the clusterer makes 66 stories of day 0's 674
// articles, and each further day adds about 50 (a few still join the day
// before's through short words and names). Function words, which tell the
// language, and the query words stay as they are, so searches find what
// they find in the dev set.
func dailyStories(arts []*digest.Article) []*digest.Article {
	keep := map[string]bool{}
	for _, w := range strings.Fields(`that with from have this were been their which would about after
		when there they will said also more than into over what some could other them then these those
		while where because before being such only just most very each both between through during
		under again against your ours here does done since until upon within without`) {
		keep[w] = true
	}
	for _, q := range storeBenchQueries {
		for _, w := range strings.FieldsFunc(q.query, func(r rune) bool { return !unicode.IsLetter(r) }) {
			keep[strings.ToLower(w)] = true
		}
	}
	wordRune := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	rewrite := func(text, suffix string) string {
		var b strings.Builder
		b.Grow(len(text) + len(text)/4)
		word := 0 // start of the word being read
		flush := func(end int) {
			w := text[word:end]
			b.WriteString(w)
			if w == "" || keep[strings.ToLower(w)] {
				return
			}
			if strings.ContainsFunc(w, unicode.IsDigit) || utf8.RuneCountInString(w) >= 4 {
				b.WriteString(suffix)
			}
		}
		for i, r := range text {
			if wordRune(r) {
				continue
			}
			flush(i)
			b.WriteRune(r)
			word = i + utf8.RuneLen(r)
		}
		flush(len(text))
		return b.String()
	}
	for _, a := range arts {
		_, copyOf, ok := strings.Cut(a.URL, "?copy=")
		day, err := strconv.Atoi(copyOf)
		if !ok || err != nil || day == 0 {
			continue
		}
		suffix := "zq"
		for ; day > 0; day /= 26 {
			suffix += string(rune('a' + day%26))
		}
		a.Title = rewrite(a.Title, suffix)
		a.Summary = rewrite(a.Summary, suffix)
		a.Content = rewrite(a.Content, suffix)
	}
	return arts
}

// cloneArticles copies the articles, so that every run stores them afresh
// (SaveArticles sets their IDs).
func cloneArticles(arts []*digest.Article) []*digest.Article {
	out := make([]*digest.Article, len(arts))
	for i, a := range arts {
		c := *a
		out[i] = &c
	}
	return out
}

func storeBenchArticles(tb testing.TB) int {
	tb.Helper()
	return envInt(tb, "HERALD_STORE_BENCH_ARTICLES", 20000, storeBenchRound)
}

func storeBenchSearches(tb testing.TB) int {
	tb.Helper()
	return envInt(tb, "HERALD_STORE_BENCH_SEARCHES", 50, 2)
}

// envInt reads a positive number of at least least from the environment,
// or returns def when the variable is unset.
func envInt(tb testing.TB, name string, def, least int) int {
	tb.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < least {
		tb.Fatalf("%s=%q: want a number of at least %d", name, s, least)
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// postgresServerCPU returns a function that reports the CPU time the
// PostgreSQL server at u has used so far (storetest.ServerCPUTime); ok is
// false when the server is not on this machine.
func postgresServerCPU(tb testing.TB, u string) (used func() time.Duration, ok bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		tb.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	var dir string
	if err := conn.QueryRow(ctx, `SELECT current_setting('data_directory')`).Scan(&dir); err != nil {
		return nil, false
	}
	return storetest.ServerCPUTime(dir)
}
