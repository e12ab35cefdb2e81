package postgres

// Ingest and search at scale on PostgreSQL: synthetic articles saved
// through SaveArticles, then the latency of DB.Search next to the plain
// full-text statements it builds on. The corpus is the one of
// store/sqlite's search benchmark (same generator, same seed), so the
// figures of both stores compare.
//
//	HERALD_TEST_POSTGRES          the server (skipped without it)
//	HERALD_SEARCH_BENCH_ARTICLES  articles to generate (default 20000)
//	HERALD_SEARCH_BENCH_SCHEMA    schema to build once and reuse (default:
//	                              a new schema per run, dropped after it)
//	HERALD_SEARCH_BENCH_BATCH     articles per SaveArticles call (default 100)
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
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seed-c50b6fda/herald/digest"
)

const (
	benchVocabulary = 50000
	benchSources    = 300
	benchSpan       = 2 * 365 * 24 * time.Hour
	benchEntities   = 5000
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

// benchWord is the made-up word of rank r (0 is the most common).
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
		r--
	}
}

// corpus generates articles deterministically: Zipf-distributed words and
// named entities, as store/sqlite's benchmark does.
type corpus struct {
	r        *rand.Rand
	zipf     *rand.Zipf
	entities *rand.Zipf
}

func newCorpus() *corpus {
	r := rand.New(rand.NewPCG(20260322, 6))
	return &corpus{r: r, zipf: rand.NewZipf(r, 1.1, 2, benchVocabulary-1), entities: rand.NewZipf(r, 1.1, 5, benchEntities-1)}
}

func benchEntity(e int) string {
	title := func(w string) string { return strings.ToUpper(w[:1]) + w[1:] }
	return title(benchWord(2000+e*3)) + " " + title(benchWord(2001+e*7))
}

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
	if c.r.IntN(3) > 0 {
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

type ingestStats struct {
	wall, assign           time.Duration
	cpu                    time.Duration // this process and the server, when the server is on this machine
	tableBytes, indexBytes int64         // the articles with their links; the search index
}

// cpuTime is the user plus system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU returns a function that reports the CPU time the PostgreSQL
// server has used so far: its postmaster, every process it started and
// those that ended (their time is the postmaster's children's). It tells
// our cost apart from other processes' on a shared machine. ok is false
// when the server is not on this machine or its files are not readable.
func serverCPU(ctx context.Context, db *DB) (used func() time.Duration, ok bool) {
	var dir string
	if err := db.pool.QueryRow(ctx, `SELECT current_setting('data_directory')`).Scan(&dir); err != nil {
		return nil, false
	}
	pidFile, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return nil, false
	}
	postmaster, _, _ := strings.Cut(string(pidFile), "\n")
	stat := func(pid string) (ppid string, ticks int64, ok bool) {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return "", 0, false
		}
		_, rest, _ := strings.Cut(string(b), ") ")
		f := strings.Fields(rest) // f[0] is field 3 of proc_pid_stat(5), the state
		if len(f) < 15 {
			return "", 0, false
		}
		fields := []int{11, 12} // utime, stime
		if pid == postmaster {
			fields = append(fields, 13, 14) // cutime, cstime
		}
		for _, i := range fields {
			n, _ := strconv.ParseInt(f[i], 10, 64)
			ticks += n
		}
		return f[1], ticks, true
	}
	if _, _, ok := stat(postmaster); !ok {
		return nil, false
	}
	return func() time.Duration {
		_, total, _ := stat(postmaster)
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if ppid, ticks, ok := stat(e.Name()); ok && ppid == postmaster {
				total += ticks
			}
		}
		return time.Duration(total) * time.Second / 100 // USER_HZ is 100 on Linux
	}, true
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

// buildBenchDB fills the schema at u with n synthetic articles, through
// SaveArticles in batches, clustering a third of them into stories of
// several articles with AssignStories (timed apart), then runs ANALYZE.
func buildBenchDB(b *testing.B, u string, n int) ingestStats {
	b.Helper()
	ctx := context.Background()
	db := openURL(b, u)
	defer db.Close()
	db.Now = func() time.Time { return benchEnd }
	feeds := make([]int64, benchSources)
	for i := range feeds {
		f := &digest.Feed{URL: fmt.Sprintf("https://news%d.example/feed.xml", i), Title: benchSourceName(i), CreatedAt: benchEnd.Add(-benchSpan)}
		if err := db.CreateFeed(ctx, f); err != nil {
			b.Fatal(err)
		}
		feeds[i] = f.ID
	}
	c := newCorpus()
	var st ingestStats
	var recent []int64
	server, serverOK := serverCPU(ctx, db)
	var cpu0 time.Duration
	if serverOK {
		cpu0 = cpuTime() + server()
	}
	size := benchBatch(b)
	batch := make([]*digest.Article, 0, size)
	for i := 0; i < n; i += size {
		batch = batch[:0]
		for j := i; j < min(i+size, n); j++ {
			batch = append(batch, c.article(j, n))
		}
		feed := feeds[(i/size)%benchSources]
		t0 := time.Now()
		ins, err := db.SaveArticles(ctx, feed, batch)
		st.wall += time.Since(t0)
		if err != nil {
			b.Fatal(err)
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
			b.Fatal(err)
		}
		st.assign += time.Since(t0)
		if done := i + size; done%100000 < size {
			b.Logf("%d articles: %.0f articles/s so far", done, float64(done)/st.wall.Seconds())
		}
	}
	if serverOK {
		st.cpu = cpuTime() + server() - cpu0
	}
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
	n := benchArticles(b)
	schema, u := benchSchema(b)
	for b.Loop() {
		admin(b, "DROP SCHEMA "+schema+" CASCADE")
		admin(b, "CREATE SCHEMA "+schema)
		st := buildBenchDB(b, u, n)
		b.ReportMetric(float64(n)/st.wall.Seconds(), "articles/s")
		if st.cpu > 0 {
			b.ReportMetric(float64(n)/st.cpu.Seconds(), "articles/cpu-s")
		}
		b.ReportMetric(float64(st.tableBytes)/float64(n), "bytes/article")
		b.ReportMetric(float64(st.indexBytes)/float64(n), "index-bytes/article")
		b.ReportMetric(st.assign.Seconds(), "assign-stories-s")
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

// benchQueries returns k queries of each kind, the same as store/sqlite's
// benchmark: topical words (in about 0.2% to 3% of articles), entity names
// as phrases, a common word with a source and a date filter, a topical
// word in the last week, and a very common word.
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

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// BenchmarkSearchQuery runs, for each kind of query, DB.Search for a first
// page of ten hits, and the plain statements for the same query: raw (the
// ten best article IDs over every match) and raw-capped (ranking only the
// newest matches, as Search does). They run in turn, so that all meet the
// same load, after a warm-up round; it reports p50 and p99 of each.
func BenchmarkSearchQuery(b *testing.B) {
	n := benchArticles(b)
	db := openBenchDB(b, n)
	ctx := context.Background()
	queries := benchQueries(50)
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
			since, _ := pq.Window(benchEnd, time.UTC)
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
			p, err := db.Search(ctx, digest.SearchRequest{Query: q, Limit: 10, Now: benchEnd})
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
		start = func() time.Duration { s := server(); return s + cpuTime() }
		stop = func() time.Duration { c := cpuTime(); return c + server() }
	}
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
				b.ReportMetric(float64(percentile(lat[name], 0.5).Microseconds())/1000, name+"-p50-ms")
				b.ReportMetric(float64(percentile(lat[name], 0.99).Microseconds())/1000, name+"-p99-ms")
				if c := cpuUsed[name]; c > 0 {
					b.ReportMetric(float64(c.Microseconds())/1000/float64(len(lat[name])), name+"-cpu-ms")
				}
			}
			for _, name := range names[1:] {
				b.ReportMetric(float64(percentile(lat["search"], 0.5))/float64(percentile(lat[name], 0.5)), "search/"+name+"-p50")
			}
			b.ReportMetric(float64(hits)/float64(len(lat["search"])), "hits/query")
		})
	}
}
