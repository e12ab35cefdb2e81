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
//	HERALD_SEARCH_BENCH_WORKERS   SaveArticles calls at once (default 16,
//	                              the poller's fetches at once; 1 saves
//	                              one batch at a time)
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
// number of articles. The corpus, its queries and the variables
// HERALD_SEARCH_BENCH_ARTICLES, HERALD_SEARCH_BENCH_BATCH and
// HERALD_SEARCH_BENCH_WORKERS are those of store/storetest (bench.go),
// shared with store/postgres's benchmark.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/store/storetest"
)

type ingestStats struct {
	storetest.IngestStats
	bytes, ftsBytes int64
}

// buildBenchDB creates a database of n synthetic articles at path with
// storetest's corpus (Corpus.Ingest), then checkpoints it and measures it.
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
	db.Now = func() time.Time { return storetest.BenchEnd }
	var st ingestStats
	st.IngestStats = storetest.NewCorpus().Ingest(tb, db, n, storetest.BenchBatch(tb), storetest.BenchWorkers(tb), storetest.ProcessCPUTime, storetest.ProcessCPUTime)
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

func benchDBPath(tb testing.TB) string {
	if p := os.Getenv("HERALD_SEARCH_BENCH_DB"); p != "" {
		return p
	}
	return filepath.Join(tb.TempDir(), "search.db")
}

// BenchmarkSearchIngest measures SaveArticles with the search index kept
// in step, called by HERALD_SEARCH_BENCH_WORKERS goroutines at once:
// articles per second of wall and of CPU time, and the size of the result.
func BenchmarkSearchIngest(b *testing.B) {
	n := storetest.BenchArticles(b)
	path := benchDBPath(b)
	for b.Loop() {
		st := buildBenchDB(b, path, n)
		b.ReportMetric(float64(n)/st.Wall.Seconds(), "articles/s")
		b.ReportMetric(float64(n)/st.CPU.Seconds(), "articles/cpu-s")
		b.ReportMetric(float64(st.bytes)/float64(n), "bytes/article")
		b.ReportMetric(float64(st.ftsBytes)/float64(n), "index-bytes/article")
		b.ReportMetric(st.Assign.Seconds(), "assign-stories-s")
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

// BenchmarkSearchQuery runs, for each kind of query, DB.Search for a first
// page of ten hits, and the raw FTS5 statements for the same query: raw
// (the ten best article IDs), raw-page (the same with what a page shows)
// and raw-page-capped (ranking only the newest matches, as Search does).
// They run in turn, so that all meet the same load on a shared machine,
// after a warm-up round; it reports p50 and p99 of each.
func BenchmarkSearchQuery(b *testing.B) {
	n := storetest.BenchArticles(b)
	db := openBenchDB(b, n)
	ctx := context.Background()
	if os.Getenv("HERALD_SEARCH_BENCH_MERGE") == "1" {
		t0, cpu0, calls := time.Now(), storetest.ProcessCPUTime(), 0
		for more := true; more; calls++ {
			var err error
			if more, err = db.MergeSearchIndex(ctx, 2000); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("merged the index in %d calls of 2000 pages: %s, %s of CPU", calls, time.Since(t0).Round(time.Millisecond), (storetest.ProcessCPUTime() - cpu0).Round(time.Millisecond))
	}
	queries := storetest.BenchQueries(50)
	raw := func(page, capped bool) func(q string) (int, error) {
		return func(q string) (int, error) {
			pq, err := digest.ParseQuery(q)
			if err != nil {
				return 0, err
			}
			stmt, args := rawSQL(pq, storetest.BenchEnd, page, capped)
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
			p, err := db.Search(ctx, digest.SearchRequest{Query: q, Limit: 10, Now: storetest.BenchEnd})
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
	for _, kind := range storetest.BenchQueryKinds {
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
					t0, c0 := time.Now(), storetest.ThreadCPUTime()
					k, err := run[name](q)
					lat[name] = append(lat[name], time.Since(t0))
					cpu[name] = append(cpu[name], storetest.ThreadCPUTime()-c0)
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
				b.ReportMetric(ms(storetest.Percentile(lat[name], 0.5)), name+"-p50-ms")
				b.ReportMetric(ms(storetest.Percentile(lat[name], 0.99)), name+"-p99-ms")
				b.ReportMetric(ms(storetest.Percentile(cpu[name], 0.5)), name+"-cpu-p50-ms")
				b.ReportMetric(ms(storetest.Percentile(cpu[name], 0.99)), name+"-cpu-p99-ms")
			}
			for _, name := range names[1:] {
				b.ReportMetric(float64(storetest.Percentile(lat["search"], 0.5))/float64(storetest.Percentile(lat[name], 0.5)), "search/"+name+"-p50")
				b.ReportMetric(float64(storetest.Percentile(cpu["search"], 0.5))/float64(storetest.Percentile(cpu[name], 0.5)), "search/"+name+"-cpu-p50")
			}
			b.ReportMetric(float64(hits)/float64(len(lat["search"])), "hits/query")
		})
	}
}

// BenchmarkSearchLongText searches 1,000 articles of 20 KB of content, in
// stories of 25 outlets each, half of them with the words in their
// summary as well: the cost of a page when the hits' texts are long
// (snippets tokenise them, the source count reads every member's row).
//
//	go test ./store/sqlite -run '^$' -bench SearchLongText
func BenchmarkSearchLongText(b *testing.B) {
	ctx := context.Background()
	db, f := openSearchDB(b)
	const stories, members = 40, 25
	n := 0
	for s := range stories {
		var arts []*digest.Article
		for m := range members {
			n++
			summary := "A summary without the words."
			if m%2 == 0 {
				summary = "The harbour storm closed the port for a day."
			}
			arts = append(arts, &digest.Article{
				Key:       fmt.Sprint("long-", n),
				URL:       fmt.Sprintf("https://long.example/%d", n),
				Title:     fmt.Sprintf("Harbour storm report %d", s),
				Summary:   summary,
				Content:   strings.Repeat(fmt.Sprintf("Filler sentence number %d about nothing much at all. ", n), 400),
				Source:    fmt.Sprintf("Outlet %d", m),
				Published: searchNow.Add(-time.Duration(n) * time.Minute),
			})
		}
		ins, err := db.SaveArticles(ctx, f.ID, arts)
		if err != nil {
			b.Fatal(err)
		}
		as := make([]digest.StoryAssignment, len(ins))
		for i, a := range ins {
			as[i] = digest.StoryAssignment{ArticleID: a.ID, StoryID: ins[0].ID}
		}
		if err := db.AssignStories(ctx, as, searchNow); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		page, err := db.Search(ctx, digest.SearchRequest{Query: "harbour storm", Limit: 10, Now: searchNow})
		if err != nil {
			b.Fatal(err)
		}
		if len(page.Hits) != 10 {
			b.Fatalf("%d hits, want 10", len(page.Hits))
		}
		if page.Hits[0].Sources != members {
			b.Fatalf("the first hit has %d sources, want %d", page.Hits[0].Sources, members)
		}
	}
}
