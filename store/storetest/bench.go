//go:build unix

package storetest

// The synthetic news corpus of the stores' search benchmarks, one
// generator for every store so that their figures compare: the same
// articles, feeds, stories and queries from the same seeds.
//
//	HERALD_SEARCH_BENCH_ARTICLES  articles to generate (BenchArticles;
//	                              default 20000)
//	HERALD_SEARCH_BENCH_BATCH     articles per SaveArticles call
//	                              (BenchBatch; default 100, a large feed
//	                              fetch)
//	HERALD_SEARCH_BENCH_WORKERS   SaveArticles calls at once (BenchWorkers;
//	                              default 16, as the poller's fetches)
//
// The text is random: words drawn from a 50,000-word made-up vocabulary
// with a Zipf distribution, as words are in real prose, and named entities
// (two-word names of people, places and events) that stories are about and
// phrase searches look for, Zipf-distributed too.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// Shape of the corpus.
const (
	BenchSources    = 300                      // outlets, one feed each
	BenchSpan       = 2 * 365 * 24 * time.Hour // the articles' publication times span this
	benchVocabulary = 50000
	benchEntities   = 5000
)

// BenchEnd is the corpus's "now": the newest article is published then.
var BenchEnd = time.Date(2026, 3, 22, 12, 0, 0, 0, time.UTC)

// BenchArticles is the number of articles a benchmark generates:
// HERALD_SEARCH_BENCH_ARTICLES, at least 1000, or 20000 when unset.
func BenchArticles(tb testing.TB) int {
	tb.Helper()
	return envInt(tb, "HERALD_SEARCH_BENCH_ARTICLES", 20000, 1000, math.MaxInt)
}

// BenchBatch is the number of articles per SaveArticles call:
// HERALD_SEARCH_BENCH_BATCH, from 1 to 2000, or 100 when unset.
func BenchBatch(tb testing.TB) int {
	tb.Helper()
	return envInt(tb, "HERALD_SEARCH_BENCH_BATCH", 100, 1, 2000)
}

// BenchWorkers is the number of goroutines that save at once:
// HERALD_SEARCH_BENCH_WORKERS, from 1 to 64, or 16 when unset, the
// poller's default number of feeds fetched at once.
func BenchWorkers(tb testing.TB) int {
	tb.Helper()
	return envInt(tb, "HERALD_SEARCH_BENCH_WORKERS", 16, 1, 64)
}

// envInt reads the number in the environment variable name, def when it
// is unset; anything but a number from lo to hi fails the benchmark.
func envInt(tb testing.TB, name string, def, lo, hi int) int {
	tb.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		if hi == math.MaxInt {
			tb.Fatalf("%s=%q: want a number of at least %d", name, s, lo)
		}
		tb.Fatalf("%s=%q: want a number from %d to %d", name, s, lo, hi)
	}
	return n
}

// BenchWord is the made-up word of rank r (0 is the most common):
// syllables written in base 25, so every rank has its own spelling.
func BenchWord(r int) string {
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

func capitalised(w string) string { return strings.ToUpper(w[:1]) + w[1:] }

// BenchEntity is the name of entity e (0 is the most talked about): two
// capitalised rarer words.
func BenchEntity(e int) string {
	return capitalised(BenchWord(2000+e*3)) + " " + capitalised(BenchWord(2001+e*7))
}

// BenchSourceName is the name of outlet i, such as "Marjen Times". Its
// first word is one of the corpus's words ranked 340 to 639, found in
// about 5% to 2.5% of the articles, as outlets' names are in real news:
// in the labelled news articles beside the repository, "cnn" is in 4.7%
// of them, "independent" in 3.4%, "bbc" in 2.5% and "express" in 1.5%.
// (A source: filter's cost grows with the articles that hold the name
// anywhere, as FTS5's ranking counts them.)
func BenchSourceName(i int) string {
	return capitalised(BenchWord(i+340)) + " " + []string{"Times", "Post", "News", "Herald", "Daily", "Wire"}[i%6]
}

// Corpus generates the articles of a benchmark deterministically.
type Corpus struct {
	r        *rand.Rand // the articles
	rs       *rand.Rand // the stories, apart: they are drawn after the articles
	zipf     *rand.Zipf
	entities *rand.Zipf
	recent   []int64 // stories of recent articles, for later ones to join
}

// NewCorpus returns the generator at its start: the same articles, in
// the same order, every time.
func NewCorpus() *Corpus {
	r := rand.New(rand.NewPCG(20260322, 6))
	return &Corpus{r: r, rs: rand.New(rand.NewPCG(20260322, 7)), zipf: rand.NewZipf(r, 1.1, 2, benchVocabulary-1), entities: rand.NewZipf(r, 1.1, 5, benchEntities-1)}
}

// text returns words words of prose, with the entities of the article
// mentioned now and then.
func (c *Corpus) text(words int, sentence bool, entities []string) string {
	var b strings.Builder
	for i := 0; i < words; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		if len(entities) > 0 && c.r.IntN(25) == 0 {
			b.WriteString(entities[c.r.IntN(len(entities))])
			continue
		}
		w := BenchWord(int(c.zipf.Uint64()))
		if sentence && (i == 0 || c.r.IntN(12) == 0) {
			w = capitalised(w)
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

// Feed returns the feed of outlet i.
func (c *Corpus) Feed(i int) *digest.Feed {
	return &digest.Feed{URL: fmt.Sprintf("https://news%d.example/feed.xml", i), Title: BenchSourceName(i), CreatedAt: BenchEnd.Add(-BenchSpan)}
}

// Article returns article number i of n, published by outlet. Its link
// is on the outlet's site, numbered by i, as a poll of the outlet's feed
// finds it. Publication times rise with i, from BenchSpan before BenchEnd
// to BenchEnd; a third of the articles have a summary only, as a third of
// feeds give no content.
func (c *Corpus) Article(i, n, outlet int) *digest.Article {
	pub := BenchEnd.Add(-BenchSpan + time.Duration(float64(BenchSpan)*float64(i)/float64(n))).
		Add(-time.Duration(c.r.IntN(3600)) * time.Second).Truncate(time.Second)
	var entities []string
	for range c.r.IntN(4) {
		entities = append(entities, BenchEntity(int(c.entities.Uint64())))
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
		Key:       fmt.Sprintf("https://news%d.example/a/%d", outlet, i),
		URL:       fmt.Sprintf("https://news%d.example/a/%d", outlet, i),
		Title:     title,
		Summary:   c.text(20+c.r.IntN(30), true, entities),
		Content:   content,
		Source:    BenchSourceName(outlet),
		Language:  "en",
		Published: pub,
		FirstSeen: pub.Add(time.Duration(c.r.IntN(600)) * time.Second),
	}
}

// Stories clusters newly saved articles, given their IDs: a third join the
// story of one of the last 2,000 articles, the others found stories of
// their own.
func (c *Corpus) Stories(ids []int64) []digest.StoryAssignment {
	as := make([]digest.StoryAssignment, len(ids))
	for k, id := range ids {
		story := id
		if len(c.recent) > 0 && c.rs.IntN(3) == 0 {
			story = c.recent[c.rs.IntN(len(c.recent))]
		}
		as[k] = digest.StoryAssignment{ArticleID: id, StoryID: story}
		c.recent = append(c.recent, story)
	}
	if len(c.recent) > 2000 {
		c.recent = c.recent[len(c.recent)-2000:]
	}
	return as
}

// IngestStats are the times Ingest measured.
type IngestStats struct {
	Wall   time.Duration // from the first SaveArticles call to the end of the last
	CPU    time.Duration // CPU time over the same span, less generating the articles
	Assign time.Duration // in AssignStories
}

// Ingest creates the corpus's BenchSources feeds in s and saves n
// articles through SaveArticles in batches of batch, one feed per batch in
// turn with articles of that feed's outlet, as polls would save them
// (articles stored together share a site, so their links sit together in
// the index of links). workers goroutines save at once, as the poller's
// fetches do; one goroutine generates the batches ahead of them. Then it
// clusters the saved articles with Stories and AssignStories, batch by
// batch in order, timed apart.
//
// cpuStart and cpuStop read the CPU time to charge to SaveArticles (nil
// when not measured), called at the start and at the end of the saving, so
// that a reading that costs CPU itself can leave its cost outside. The CPU
// time the generating goroutine's thread used is taken off (where the
// system reports a thread's time: Linux).
func (c *Corpus) Ingest(tb testing.TB, s digest.Store, n, batch, workers int, cpuStart, cpuStop func() time.Duration) IngestStats {
	tb.Helper()
	ctx := tb.Context()
	feeds := make([]int64, BenchSources)
	for i := range feeds {
		f := c.Feed(i)
		if err := s.CreateFeed(ctx, f); err != nil {
			tb.Fatal(err)
		}
		feeds[i] = f.ID
	}
	type job struct {
		k    int // the batch's number
		feed int64
		arts []*digest.Article
	}
	batches := (n + batch - 1) / batch
	jobs := make(chan job, 2*workers)
	var genCPU atomic.Int64 // nanoseconds
	stop := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer close(jobs)
		for k := range batches {
			t0 := ThreadCPUTime()
			outlet := k % BenchSources
			arts := make([]*digest.Article, 0, batch)
			for j := k * batch; j < min((k+1)*batch, n); j++ {
				arts = append(arts, c.Article(j, n, outlet))
			}
			genCPU.Add(int64(ThreadCPUTime() - t0))
			select {
			case jobs <- job{k, feeds[outlet], arts}:
			case <-stop:
				return
			}
		}
	}()

	var st IngestStats
	var cpu0 time.Duration
	if cpuStart != nil {
		cpu0 = cpuStart()
	}
	saved := make([][]int64, batches) // the IDs each batch inserted
	var done atomic.Int64
	var failed sync.Once
	t0 := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				ins, err := s.SaveArticles(ctx, j.feed, j.arts)
				if err != nil {
					failed.Do(func() {
						tb.Errorf("save batch %d: %v", j.k, err)
						close(stop)
					})
					return
				}
				ids := make([]int64, len(ins))
				for i, a := range ins {
					ids[i] = a.ID
				}
				saved[j.k] = ids
				if d := done.Add(int64(len(j.arts))); d%100000 < int64(len(j.arts)) {
					tb.Logf("%d articles: %.0f articles/s so far", d, float64(d)/time.Since(t0).Seconds())
				}
			}
		})
	}
	wg.Wait()
	st.Wall = time.Since(t0)
	if cpuStop != nil {
		st.CPU = cpuStop() - cpu0 - time.Duration(genCPU.Load())
	}
	if tb.Failed() {
		tb.FailNow()
	}
	t0 = time.Now()
	for _, ids := range saved {
		if err := s.AssignStories(ctx, c.Stories(ids), BenchEnd); err != nil {
			tb.Fatal(err)
		}
	}
	st.Assign = time.Since(t0)
	return st
}

// BenchQueryKinds are the kinds of BenchQueries, in the order benchmarks
// report them.
var BenchQueryKinds = []string{"one-word", "two-words", "phrase", "filtered", "recent", "common-word"}

// BenchQueries returns k queries of each kind: words whose share of
// articles is that of a topical word in news (about 0.2% to 3%), two of
// them, entity names as phrases, a common word with a source and a date
// filter, a topical word in the last week, and a very common word (in a
// third to half of all articles).
func BenchQueries(k int) map[string][]string {
	r := rand.New(rand.NewPCG(7, 7))
	word := func() string { return BenchWord(300 + r.IntN(2700)) }
	qs := map[string][]string{}
	for range k {
		qs["one-word"] = append(qs["one-word"], word())
		qs["two-words"] = append(qs["two-words"], word()+" "+word())
		qs["phrase"] = append(qs["phrase"], `"`+BenchEntity(20+r.IntN(1000))+`"`)
		src := strings.Fields(BenchSourceName(r.IntN(BenchSources)))[0]
		qs["filtered"] = append(qs["filtered"], fmt.Sprintf("%s source:%s since:30d", BenchWord(50+r.IntN(250)), src))
		qs["recent"] = append(qs["recent"], word()+" since:7d")
		qs["common-word"] = append(qs["common-word"], BenchWord(10+r.IntN(40)))
	}
	return qs
}

// Percentile returns the p-quantile (0 to 1) of the durations.
func Percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// ThreadCPUTime is the CPU time of the calling OS thread, to be used with
// runtime.LockOSThread (the pure-Go SQLite runs a statement on the thread
// of the goroutine that steps it); 0 where the system does not report a
// thread's time.
func ThreadCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rusageThread is RUSAGE_THREAD of getrusage(2) on Linux.
const rusageThread = 1

// ProcessCPUTime is the user plus system CPU time of this process so far;
// it tells a benchmark's cost apart from other processes' on a shared
// machine.
func ProcessCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ServerCPUTime returns a function that reports the CPU time a database
// server on this machine has used so far, given its data directory (which
// holds postmaster.pid): the postmaster, every process it runs and those
// that ended (their time is the postmaster's children's). It tells a
// store's cost on the server apart from other processes' on a shared
// machine. ok is false when the server is not on this machine or its
// files are not readable here. Linux only: it reads /proc.
func ServerCPUTime(dataDir string) (used func() time.Duration, ok bool) {
	pidFile, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return nil, false
	}
	postmaster, _, _ := strings.Cut(string(pidFile), "\n")
	// stat reads /proc/PID/stat: the parent and the CPU ticks of the
	// process (and of its ended children, for the postmaster).
	stat := func(pid string) (ppid string, ticks int64, ok bool) {
		data, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return "", 0, false
		}
		_, rest, _ := strings.Cut(string(data), ") ")
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
