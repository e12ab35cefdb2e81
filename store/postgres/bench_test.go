//go:build unix

package postgres

// Ingest and search at scale on PostgreSQL: synthetic articles saved
// through SaveArticles, then the latency of DB.Search next to the plain
// full-text statements it builds on. The corpus, its queries and the
// variables HERALD_SEARCH_BENCH_ARTICLES, HERALD_SEARCH_BENCH_BATCH and
// HERALD_SEARCH_BENCH_WORKERS are store/storetest's (bench.go), shared
// with store/sqlite's benchmark, so the figures of both stores compare.
//
//	HERALD_TEST_POSTGRES          the server (skipped without it)
//	HERALD_SEARCH_BENCH_ARTICLES  articles to generate (default 20000)
//	HERALD_SEARCH_BENCH_SCHEMA    schema to build once and reuse (default:
//	                              a new schema per run, dropped after it)
//	HERALD_SEARCH_BENCH_BATCH     articles per SaveArticles call (default 100)
//	HERALD_SEARCH_BENCH_WORKERS   SaveArticles calls at once (default 16)
//
// For example:
//
//	HERALD_SEARCH_BENCH_ARTICLES=100000 HERALD_SEARCH_BENCH_SCHEMA=bench100k \
//	  go test ./store/postgres -run '^$' -bench 'Search(Ingest|Query)' -benchtime 1x -timeout 1h
//
// BenchmarkSearchIngest always builds the schema anew (dropping it first);
// BenchmarkSearchQuery reuses one that holds the expected number of
// articles. Both end the build with ANALYZE, as autovacuum would soon after
// a bulk load, so the planner knows how common each word is.

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/store/storetest"
)

type ingestStats struct {
	storetest.IngestStats
	tableBytes, indexBytes int64 // the articles with their links; the search index
}

// serverCPU returns a function that reports the CPU time the PostgreSQL
// server has used so far (storetest.ServerCPUTime); ok is false when the
// server is not on this machine.
func serverCPU(ctx context.Context, db *DB) (used func() time.Duration, ok bool) {
	var dir string
	if err := db.pool.QueryRow(ctx, `SELECT current_setting('data_directory')`).Scan(&dir); err != nil {
		return nil, false
	}
	return storetest.ServerCPUTime(dir)
}

// benchSchema returns the benchmark's schema and the URL that uses it: the
// one HERALD_SEARCH_BENCH_SCHEMA names, kept between runs, or a new one
// dropped when the benchmark ends.
func benchSchema(b *testing.B) (schema, u string) {
	b.Helper()
	base := serverURL(b)
	schema = os.Getenv("HERALD_SEARCH_BENCH_SCHEMA")
	if schema == "" {
		return newSchema(b)
	}
	if !regexp.MustCompile(`^[a-z_][a-z0-9_]*$`).MatchString(schema) {
		b.Fatalf("HERALD_SEARCH_BENCH_SCHEMA=%q: want a lower-case SQL name", schema)
	}
	admin(b, "CREATE SCHEMA IF NOT EXISTS "+schema)
	return schema, withSearchPath(b, base, schema)
}

// buildBenchDB fills the schema at u with n synthetic articles with
// storetest's corpus (Corpus.Ingest), then runs ANALYZE. The CPU time it
// charges to SaveArticles is this process's and the server's, when the
// server is on this machine.
func buildBenchDB(b *testing.B, u string, n int) ingestStats {
	b.Helper()
	ctx := context.Background()
	db := openURL(b, u)
	defer db.Close()
	db.Now = func() time.Time { return storetest.BenchEnd }
	var start, stop func() time.Duration
	if server, ok := serverCPU(ctx, db); ok {
		// Reading the server's time costs this process CPU: read it
		// outside the window of this process's.
		start = func() time.Duration { s := server(); return s + storetest.ProcessCPUTime() }
		stop = func() time.Duration { c := storetest.ProcessCPUTime(); return c + server() }
	}
	st := ingestStats{IngestStats: storetest.NewCorpus().Ingest(b, db, n, storetest.BenchBatch(b), storetest.BenchWorkers(b), start, stop)}
	if _, err := db.pool.Exec(ctx, `VACUUM ANALYZE articles`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	err := db.pool.QueryRow(ctx, `SELECT pg_total_relation_size('articles') - pg_relation_size('articles_search')
			+ pg_total_relation_size('article_feeds'), pg_relation_size('articles_search')`).
		Scan(&st.tableBytes, &st.indexBytes)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkSearchIngest measures SaveArticles with the search column and
// its GIN index kept in step: articles per second (wall time: the work is
// the server's), and the size of the result.
func BenchmarkSearchIngest(b *testing.B) {
	n := storetest.BenchArticles(b)
	schema, u := benchSchema(b)
	for b.Loop() {
		admin(b, "DROP SCHEMA "+schema+" CASCADE")
		admin(b, "CREATE SCHEMA "+schema)
		st := buildBenchDB(b, u, n)
		b.ReportMetric(float64(n)/st.Wall.Seconds(), "articles/s")
		if st.CPU > 0 {
			b.ReportMetric(float64(n)/st.CPU.Seconds(), "articles/cpu-s")
		}
		b.ReportMetric(float64(st.tableBytes)/float64(n), "bytes/article")
		b.ReportMetric(float64(st.indexBytes)/float64(n), "index-bytes/article")
		b.ReportMetric(st.Assign.Seconds(), "assign-stories-s")
	}
}

// openBenchDB returns the benchmark database, building it unless the
// schema already holds n articles.
func openBenchDB(b *testing.B, n int) *DB {
	b.Helper()
	schema, u := benchSchema(b)
	ctx := context.Background()
	db := openURL(b, u)
	var have int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM articles`).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have == n {
		return db
	}
	db.Close()
	if have > 0 {
		b.Logf("schema %s holds %d articles, not %d: rebuilding", schema, have, n)
		admin(b, "DROP SCHEMA "+schema+" CASCADE")
		admin(b, "CREATE SCHEMA "+schema)
	}
	buildBenchDB(b, u, n)
	return openURL(b, u)
}

// rawSQL is the plain full-text statement for a query: the same tsquery
// and ts_rank_cd, ten article IDs, with the same published filter for
// since:. With capped, it ranks only the newest searchCandidates matches,
// as Search does; without, every match.
func rawSQL(tsq tsQueries, since time.Time, capped bool) (string, []any) {
	rank := fmt.Sprintf("ts_rank_cd('%s', search, $2::tsquery, %d)", rankWeights, rankNormalization)
	cond := "search @@ $1::tsquery"
	args := []any{pgx.QueryExecModeExec, tsq.match, tsq.rank}
	if !since.IsZero() {
		cond += " AND published >= $3"
		args = append(args, since)
	}
	if capped {
		return `SELECT id FROM (SELECT id, search FROM articles WHERE ` + cond + ` ORDER BY id DESC LIMIT ` +
			strconv.Itoa(searchCandidates) + `) c ORDER BY ` + rank + ` DESC LIMIT 10`, args
	}
	return `SELECT id FROM articles WHERE ` + cond + ` ORDER BY ` + rank + ` DESC LIMIT 10`, args
}

// BenchmarkSearchQuery runs, for each kind of query, DB.Search for a first
// page of ten hits, and the plain statements for the same query: raw (the
// ten best article IDs over every match) and raw-capped (ranking only the
// newest matches, as Search does). They run in turn, so that all meet the
// same load, after a warm-up round; it reports p50 and p99 of each.
func BenchmarkSearchQuery(b *testing.B) {
	n := storetest.BenchArticles(b)
	db := openBenchDB(b, n)
	ctx := context.Background()
	queries := storetest.BenchQueries(50)
	raw := func(capped bool) func(q string) (int, error) {
		return func(q string) (int, error) {
			pq, err := digest.ParseQuery(q)
			if err != nil {
				return 0, err
			}
			lex, err := db.normalize(ctx, queryPhrases(pq))
			if err != nil {
				return 0, err
			}
			since, _ := pq.Window(storetest.BenchEnd, time.UTC)
			stmt, args := rawSQL(tsBuilder{lex: lex}.build(pq), since, capped)
			rows, err := db.pool.Query(ctx, stmt, args...)
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
		"raw":        raw(false),
		"raw-capped": raw(true),
	}
	names := []string{"search", "raw", "raw-capped"}
	// CPU time of this process and of the server, when it is here. The
	// server's is read outside the window of this process's, so that
	// reading /proc is not counted.
	start, stop := func() time.Duration { return 0 }, func() time.Duration { return 0 }
	if server, ok := serverCPU(ctx, db); ok {
		start = func() time.Duration { s := server(); return s + storetest.ProcessCPUTime() }
		stop = func() time.Duration { c := storetest.ProcessCPUTime(); return c + server() }
	}
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
			lat := map[string][]time.Duration{}
			cpuUsed := map[string]time.Duration{}
			hits := 0
			for i := 0; b.Loop(); i++ {
				q := qs[i%len(qs)]
				for _, name := range names {
					c0, t0 := start(), time.Now()
					k, err := run[name](q)
					lat[name] = append(lat[name], time.Since(t0))
					cpuUsed[name] += stop() - c0
					if err != nil {
						b.Fatalf("%s %q: %v", name, q, err)
					}
					if name == "search" {
						hits += k
					}
				}
			}
			for _, name := range names {
				b.ReportMetric(float64(storetest.Percentile(lat[name], 0.5).Microseconds())/1000, name+"-p50-ms")
				b.ReportMetric(float64(storetest.Percentile(lat[name], 0.99).Microseconds())/1000, name+"-p99-ms")
				if c := cpuUsed[name]; c > 0 {
					b.ReportMetric(float64(c.Microseconds())/1000/float64(len(lat[name])), name+"-cpu-ms")
				}
			}
			for _, name := range names[1:] {
				b.ReportMetric(float64(storetest.Percentile(lat["search"], 0.5))/float64(storetest.Percentile(lat[name], 0.5)), "search/"+name+"-p50")
			}
			b.ReportMetric(float64(hits)/float64(len(lat["search"])), "hits/query")
		})
	}
}
