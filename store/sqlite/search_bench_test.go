//go:build unix

package sqlite

// Search at scale: synthetic articles ingested through SaveArticles, then
// query latency of DB.Search next to the raw FTS5 statements it builds on.
//
//	HERALD_SEARCH_BENCH_ARTICLES  articles to generate (default 20000; the
//	                              figures in the report use 1000000)
//	HERALD_SEARCH_BENCH_DB        database file to build once and reuse
//	                              (default: a temporary file per run)
//	HERALD_SEARCH_BENCH_BATCH     articles per SaveArticles call (default
//	                              100, a large feed fetch)
//	HERALD_SEARCH_BENCH_MERGE     1: before measuring queries, merge the
//	                              index with MergeSearchIndex, as an idle
//	                              daemon would (this changes the file)
//
// For example:
//
//	HERALD_SEARCH_BENCH_ARTICLES=1000000 HERALD_SEARCH_BENCH_DB=/tmp/search1m.db \
//	  go test ./store/sqlite -run '^$' -bench 'Search(Ingest|Query)' -benchtime 1x -timeout 3h
//
// BenchmarkSearchIngest always builds a new database (at the given path,
// replacing it); BenchmarkSearchQuery reuses one that holds the expected
// number of articles. The text is random: words drawn from a 50,000-word
// made-up vocabulary with a Zipf distribution, as words are in real prose.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

const (
	benchVocabulary = 50000
	benchSources    = 300
	benchSpan       = 2 * 365 * 24 * time.Hour
)

// benchEnd is the synthetic "now": the newest article is published then.
var benchEnd = time.Date(2026, 3, 22, 12, 0, 0, 0, time.UTC)

func benchArticles(tb testing.TB) int {
	tb.Helper()
	s := os.Getenv("HERALD_SEARCH_BENCH_ARTICLES")
	if s == "" {
		return 20000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1000 {
		tb.Fatalf("HERALD_SEARCH_BENCH_ARTICLES=%q: want a number of at least 1000", s)
	}
	return n
}

// benchWord is the made-up word of rank r (0 is the most common): syllables
// written in base 25, so every rank has its own spelling.
func benchWord(r int) string {
	syl := [...]string{"ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ber", "dan", "gor", "hal", "jen",
		"kor", "lan", "mar", "nor", "pel", "ros", "tin", "wal", "zen", "tra", "ste", "pro"}
	var b strings.Builder
	for {
		b.WriteString(syl[r%len(syl)])
		r /= len(syl)
		if r == 0 {
			return b.String()
		}
		r-- // so that "ka" and "kaka" differ
	}
}

// corpus generates articles deterministically. Besides words it has
// named entities, two-word names (people, places, events) that stories
// are about and phrase searches look for; they follow a Zipf law too.
type corpus struct {
	r        *rand.Rand
	zipf     *rand.Zipf
	entities *rand.Zipf
}

const benchEntities = 5000

func newCorpus() *corpus {
	r := rand.New(rand.NewPCG(20260322, 6))
	return &corpus{r: r, zipf: rand.NewZipf(r, 1.1, 2, benchVocabulary-1), entities: rand.NewZipf(r, 1.1, 5, benchEntities-1)}
}

// benchEntity is the name of entity e: two capitalised rarer words.
func benchEntity(e int) string {
	title := func(w string) string { return strings.ToUpper(w[:1]) + w[1:] }
	return title(benchWord(2000+e*3)) + " " + title(benchWord(2001+e*7))
}

// text returns words words of prose, with the entities of the article
// mentioned now and then.
func (c *corpus) text(words int, sentence bool, entities []string) string {
	var b strings.Builder
	for i := 0; i < words; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		if len(entities) > 0 && c.r.IntN(25) == 0 {
			b.WriteString(entities[c.r.IntN(len(entities))])
			continue
		}
		w := benchWord(int(c.zipf.Uint64()))
		if sentence && (i == 0 || c.r.IntN(12) == 0) {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		b.WriteString(w)
		if sentence && i < words-1 && c.r.IntN(14) == 0 {
			b.WriteByte('.')
		}
	}
	if sentence {
		b.WriteByte('.')
	}
	return b.String()
}

func benchSourceName(i int) string {
	return strings.ToUpper(benchWord(i + 40)[:1]) + benchWord(i + 40)[1:] + " " + []string{"Times", "Post", "News", "Herald", "Daily", "Wire"}[i%6]
}

// article returns article number i of n; published times rise with i.
func (c *corpus) article(i, n int) *digest.Article {
	pub := benchEnd.Add(-benchSpan + time.Duration(float64(benchSpan)*float64(i)/float64(n))).
		Add(-time.Duration(c.r.IntN(3600)) * time.Second).Truncate(time.Second)
	var entities []string
	for range c.r.IntN(4) {
		entities = append(entities, benchEntity(int(c.entities.Uint64())))
	}
	title := c.text(5+c.r.IntN(8), false, nil)
	if len(entities) > 0 {
		title = entities[0] + " " + title
	}
	content := ""
	if c.r.IntN(3) > 0 { // a third of feeds give a summary only
		content = c.text(60+c.r.IntN(340), true, entities)
	}
	return &digest.Article{
		Key:       fmt.Sprintf("https://news%d.example/a/%d", i%benchSources, i),
		URL:       fmt.Sprintf("https://news%d.example/a/%d", i%benchSources, i),
		Title:     title,
		Summary:   c.text(20+c.r.IntN(30), true, entities),
		Content:   content,
		Source:    benchSourceName(i % benchSources),
		Language:  "en",
		Published: pub,
		FirstSeen: pub.Add(time.Duration(c.r.IntN(600)) * time.Second),
	}
}

// cpuTime is the user plus system CPU time of this process so far; it
// tells our cost apart from other processes' on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// threadCPUTime is the CPU time of the calling OS thread, to be used with
// runtime.LockOSThread: the pure-Go SQLite runs a query on the thread of
// the goroutine that steps it.
func threadCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rusageThread is RUSAGE_THREAD of getrusage(2) on Linux.
const rusageThread = 1

type ingestStats struct {
	wall, cpu, assign time.Duration
	bytes, ftsBytes   int64
}

// buildBenchDB creates a database of n synthetic articles at path, through
// SaveArticles in batches of benchBatch, and clusters a third of them into
// stories of several articles with AssignStories (timed apart).
func buildBenchDB(tb testing.TB, path string, n int) ingestStats {
	tb.Helper()
	ctx := context.Background()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			tb.Fatal(err)
		}
	}
	db, err := Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	db.Now = func() time.Time { return benchEnd }
	feeds := make([]int64, benchSources)
	for i := range feeds {
		f := &digest.Feed{URL: fmt.Sprintf("https://news%d.example/feed.xml", i), Title: benchSourceName(i), CreatedAt: benchEnd.Add(-benchSpan)}
		if err := db.CreateFeed(ctx, f); err != nil {
			tb.Fatal(err)
		}
		feeds[i] = f.ID
	}
	c := newCorpus()
	var st ingestStats
	var recent []int64 // story IDs of recent articles, to join
	size := benchBatch(tb)
	batch := make([]*digest.Article, 0, size)
	for i := 0; i < n; i += size {
		batch = batch[:0]
		for j := i; j < min(i+size, n); j++ {
			batch = append(batch, c.article(j, n))
		}
		// One feed per batch, as a poll would save them.
		feed := feeds[(i/size)%benchSources]
		cpu0, t0 := cpuTime(), time.Now()
		ins, err := db.SaveArticles(ctx, feed, batch)
		st.wall += time.Since(t0)
		st.cpu += cpuTime() - cpu0
		if err != nil {
			tb.Fatal(err)
		}
		as := make([]digest.StoryAssignment, len(ins))
		for k, a := range ins {
			story := a.ID
			if len(recent) > 0 && c.r.IntN(3) == 0 {
				story = recent[c.r.IntN(len(recent))]
			}
			as[k] = digest.StoryAssignment{ArticleID: a.ID, StoryID: story}
			recent = append(recent, story)
		}
		if len(recent) > 2000 {
			recent = recent[len(recent)-2000:]
		}
		t0 = time.Now()
		if err := db.AssignStories(ctx, as, benchEnd); err != nil {
			tb.Fatal(err)
		}
		st.assign += time.Since(t0)
		if done := i + size; done%100000 < size {
			tb.Logf("%d articles: %.0f articles/s, %.0f articles/cpu-s so far", done, float64(done)/st.wall.Seconds(), float64(done)/st.cpu.Seconds())
		}
	}
	if _, err := db.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		tb.Fatal(err)
	}
	if err := db.db.QueryRowContext(ctx, `SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'article_search%'`).Scan(&st.ftsBytes); err != nil {
		tb.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	st.bytes = fi.Size()
	return st
}

// benchBatch is the number of articles per SaveArticles call.
func benchBatch(tb testing.TB) int {
	tb.Helper()
	s := os.Getenv("HERALD_SEARCH_BENCH_BATCH")
	if s == "" {
		return 100
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 2000 {
		tb.Fatalf("HERALD_SEARCH_BENCH_BATCH=%q: want a number from 1 to 2000", s)
	}
	return n
}

func benchDBPath(tb testing.TB) string {
	if p := os.Getenv("HERALD_SEARCH_BENCH_DB"); p != "" {
		return p
	}
	return filepath.Join(tb.TempDir(), "search.db")
}

// BenchmarkSearchIngest measures SaveArticles with the search index kept
// in step: articles per second of wall and of CPU time, and the size of
// the result.
func BenchmarkSearchIngest(b *testing.B) {
	n := benchArticles(b)
	path := benchDBPath(b)
	for b.Loop() {
		st := buildBenchDB(b, path, n)
		b.ReportMetric(float64(n)/st.wall.Seconds(), "articles/s")
		b.ReportMetric(float64(n)/st.cpu.Seconds(), "articles/cpu-s")
		b.ReportMetric(float64(st.bytes)/float64(n), "bytes/article")
		b.ReportMetric(float64(st.ftsBytes)/float64(n), "index-bytes/article")
		b.ReportMetric(st.assign.Seconds(), "assign-stories-s")
	}
}

// openBenchDB returns the benchmark database, building it unless the file
// already holds n articles.
func openBenchDB(b *testing.B, n int) *DB {
	b.Helper()
	path := benchDBPath(b)
	ctx := context.Background()
	if _, err := os.Stat(path); err == nil {
		db, err := Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		var have int
		if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM articles`).Scan(&have); err != nil {
			b.Fatal(err)
		}
		if have == n {
			b.Cleanup(func() { db.Close() })
			return db
		}
		db.Close()
		b.Logf("%s holds %d articles, not %d: rebuilding", path, have, n)
	}
	buildBenchDB(b, path, n)
	db, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// benchQueries returns k queries of each kind: words whose share of
// articles is that of a topical word in news (about 0.2% to 3%), entity
// names as phrases, a common word with a source and a date filter, a
// topical word in the last week, and a very common word (in a third to
// half of all articles).
func benchQueries(k int) map[string][]string {
	r := rand.New(rand.NewPCG(7, 7))
	word := func() string { return benchWord(300 + r.IntN(2700)) }
	qs := map[string][]string{}
	for range k {
		qs["one-word"] = append(qs["one-word"], word())
		qs["two-words"] = append(qs["two-words"], word()+" "+word())
		qs["phrase"] = append(qs["phrase"], `"`+benchEntity(20+r.IntN(1000))+`"`)
		src := strings.Fields(benchSourceName(r.IntN(benchSources)))[0]
		qs["filtered"] = append(qs["filtered"], fmt.Sprintf("%s source:%s since:30d", benchWord(50+r.IntN(250)), src))
		qs["recent"] = append(qs["recent"], word()+" since:7d")
		qs["common-word"] = append(qs["common-word"], benchWord(10+r.IntN(40)))
	}
	return qs
}

// rawSQL is the plain FTS5 statement for a query: the same MATCH
// expression, ranked by the same weighted bm25, ten rows, with the same
// published filter for since:. With page, it also reads what a page shows
// (title, link, source, time and snippets) for those ten; with capped, it
// ranks only the newest searchCandidates matches, as Search does.
func rawSQL(q *digest.Query, now time.Time, page, capped bool) (string, []any) {
	expr := queryMatch(q).full()
	rank := "bm25(article_search, " + bm25Weights + ")"
	since, _ := q.Window(now, time.UTC)
	top := `SELECT article_search.rowid AS id, ` + rank + ` AS r FROM article_search`
	args := []any{expr}
	if !since.IsZero() {
		top += ` JOIN articles m INDEXED BY articles_search_meta ON m.id = article_search.rowid
			WHERE article_search MATCH ? AND m.published >= ?`
		args = append(args, micros(since))
	} else {
		top += ` WHERE article_search MATCH ?`
	}
	if capped {
		top = `SELECT id FROM (` + top + ` ORDER BY article_search.rowid DESC LIMIT ?) ORDER BY r LIMIT 10`
		args = append(args, searchCandidates)
	} else {
		top = `SELECT id FROM (` + top + ` ORDER BY r LIMIT 10)`
	}
	if !page {
		return top, args
	}
	snippet := func(col int) string {
		return fmt.Sprintf("snippet(article_search, %d, char(2), char(3), '…', %d)", col, snippetTokens)
	}
	return `SELECT a.id, a.title, a.url, a.source, a.published, ` + snippet(1) + `, ` + snippet(2) + `
		FROM article_search JOIN articles a ON a.id = article_search.rowid
		WHERE article_search MATCH ? AND article_search.rowid IN (` + top + `)`, append([]any{expr}, args...)
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// BenchmarkSearchQuery runs, for each kind of query, DB.Search for a first
// page of ten hits, and the raw FTS5 statements for the same query: raw
// (the ten best article IDs), raw-page (the same with what a page shows)
// and raw-page-capped (ranking only the newest matches, as Search does).
// They run in turn, so that all meet the same load on a shared machine,
// after a warm-up round; it reports p50 and p99 of each.
func BenchmarkSearchQuery(b *testing.B) {
	n := benchArticles(b)
	db := openBenchDB(b, n)
	ctx := context.Background()
	if os.Getenv("HERALD_SEARCH_BENCH_MERGE") == "1" {
		t0, cpu0, calls := time.Now(), cpuTime(), 0
		for more := true; more; calls++ {
			var err error
			if more, err = db.MergeSearchIndex(ctx, 2000); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("merged the index in %d calls of 2000 pages: %s, %s of CPU", calls, time.Since(t0).Round(time.Millisecond), (cpuTime() - cpu0).Round(time.Millisecond))
	}
	queries := benchQueries(50)
	raw := func(page, capped bool) func(q string) (int, error) {
		return func(q string) (int, error) {
			pq, err := digest.ParseQuery(q)
			if err != nil {
				return 0, err
			}
			stmt, args := rawSQL(pq, benchEnd, page, capped)
			rows, err := db.db.QueryContext(ctx, stmt, args...)
			if err != nil {
				return 0, err
			}
			defer rows.Close()
			k := 0
			for rows.Next() {
				k++
			}
			return k, rows.Err()
		}
	}
	run := map[string]func(q string) (int, error){
		"search": func(q string) (int, error) {
			p, err := db.Search(ctx, digest.SearchRequest{Query: q, Limit: 10, Now: benchEnd})
			if err != nil {
				return 0, err
			}
			return len(p.Hits), nil
		},
		"raw":             raw(false, false),
		"raw-page":        raw(true, false),
		"raw-page-capped": raw(true, true),
	}
	names := []string{"search", "raw", "raw-page", "raw-page-capped"}
	for _, kind := range []string{"one-word", "two-words", "phrase", "filtered", "recent", "common-word"} {
		b.Run(kind, func(b *testing.B) {
			qs := queries[kind]
			for _, q := range qs { // warm up
				for _, name := range names {
					if _, err := run[name](q); err != nil {
						b.Fatalf("%s %q: %v", name, q, err)
					}
				}
			}
			// The CPU time of the thread running a query is what its
			// latency would be on an idle machine.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			lat, cpu := map[string][]time.Duration{}, map[string][]time.Duration{}
			hits := 0
			for i := 0; b.Loop(); i++ {
				q := qs[i%len(qs)]
				for _, name := range names {
					t0, c0 := time.Now(), threadCPUTime()
					k, err := run[name](q)
					lat[name] = append(lat[name], time.Since(t0))
					cpu[name] = append(cpu[name], threadCPUTime()-c0)
					if err != nil {
						b.Fatalf("%s %q: %v", name, q, err)
					}
					if name == "search" {
						hits += k
					}
				}
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			for _, name := range names {
				b.ReportMetric(ms(percentile(lat[name], 0.5)), name+"-p50-ms")
				b.ReportMetric(ms(percentile(lat[name], 0.99)), name+"-p99-ms")
				b.ReportMetric(ms(percentile(cpu[name], 0.5)), name+"-cpu-p50-ms")
				b.ReportMetric(ms(percentile(cpu[name], 0.99)), name+"-cpu-p99-ms")
			}
			for _, name := range names[1:] {
				b.ReportMetric(float64(percentile(lat["search"], 0.5))/float64(percentile(lat[name], 0.5)), "search/"+name+"-p50")
				b.ReportMetric(float64(percentile(cpu["search"], 0.5))/float64(percentile(cpu[name], 0.5)), "search/"+name+"-cpu-p50")
			}
			b.ReportMetric(float64(hits)/float64(len(lat["search"])), "hits/query")
		})
	}
}
