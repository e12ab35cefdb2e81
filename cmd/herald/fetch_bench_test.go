package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/fetch"
	"github.com/seed-c50b6fda/herald/digest/fetch/fetchtest"
	"github.com/seed-c50b6fda/herald/digest/poll"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

// BenchmarkFarmSQLite is BenchmarkFarm (digest/fetch) with the real store:
// 2,000 feeds of 50 items (about 60 KB each) on 250 host names, served by
// an in-process farm, polled into a SQLite database on disk (articles,
// links and the full-text index written for real). Each phase reports
// feeds/s and the process's peak RSS during it (VmHWM, reset per phase).
// parse-only/herald is fetch.Parse on every core, for reference; gofeed's
// own rate is measured by BenchmarkFarm, since gofeed may be imported by
// digest/fetch only.
//
//	go test ./cmd/herald -run '^$' -bench FarmSQLite -benchtime 1x
//
// HERALD_BENCH_FEEDS overrides the number of feeds.
func BenchmarkFarmSQLite(b *testing.B) {
	n := 2000
	if v := os.Getenv("HERALD_BENCH_FEEDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("HERALD_BENCH_FEEDS=%q is not a positive number", v)
		}
	}
	farm := fetchtest.NewFarm(n, 50, 250)
	b.Cleanup(farm.Close)
	ctx := context.Background()
	root := b // owns the databases, which outlive the phase that filled them

	b.Run("parse-only/herald", func(b *testing.B) {
		workers := runtime.GOMAXPROCS(0)
		benchStart(b)
		for range b.N {
			for start := 0; start < n; start += 100 {
				b.StopTimer()
				var bodies [][]byte
				for i := start; i < min(start+100, n); i++ {
					bodies = append(bodies, farm.Body(i))
				}
				b.StartTimer()
				next := make(chan []byte)
				done := make(chan struct{})
				for range workers {
					go func() {
						for body := range next {
							if _, err := fetch.Parse(fetch.Document{URL: farm.URL(0), Body: body}); err != nil {
								b.Error(err)
							}
						}
						done <- struct{}{}
					}()
				}
				for _, body := range bodies {
					next <- body
				}
				close(next)
				for range workers {
					<-done
				}
			}
		}
		benchEnd(b, n)
	})

	var warm *sqlite.DB
	cold := func(b *testing.B) *sqlite.DB {
		b.StopTimer()
		db, err := sqlite.Open(ctx, filepath.Join(root.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		root.Cleanup(func() { db.Close() })
		for i := range n {
			if err := db.CreateFeed(ctx, &digest.Feed{URL: farm.URL(i)}); err != nil {
				b.Fatal(err)
			}
		}
		feeds, err := db.ListFeeds(ctx, digest.FeedFilter{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		b.StartTimer()
		sum := farmPoller(b, farm, db).Poll(ctx, feeds, nil)
		if sum.OK != n || sum.NewArticles != n*farm.Items {
			b.Fatalf("cold poll: %s", sum)
		}
		return db
	}
	b.Run("cold", func(b *testing.B) {
		benchStart(b)
		for range b.N {
			warm = cold(b)
		}
		benchEnd(b, n)
	})
	warmPoll := func(b *testing.B, conditional bool, ok func(poll.Summary) bool) {
		if warm == nil {
			warm = cold(b)
		}
		farm.SetConditional(conditional)
		defer farm.SetConditional(true)
		benchStart(b)
		for range b.N {
			b.StopTimer()
			feeds, err := warm.ListFeeds(ctx, digest.FeedFilter{})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if sum := farmPoller(b, farm, warm).Poll(ctx, feeds, nil); !ok(sum) {
				b.Fatalf("warm poll: %s", sum)
			}
		}
		benchEnd(b, n)
	}
	b.Run("warm-304", func(b *testing.B) {
		warmPoll(b, true, func(s poll.Summary) bool { return s.NotModified == n })
	})
	b.Run("warm-unchanged", func(b *testing.B) {
		warmPoll(b, false, func(s poll.Summary) bool { return s.Unchanged == n })
	})
}

func farmPoller(b *testing.B, farm *fetchtest.Farm, st poll.Store) *poll.Poller {
	client := fetch.New(fetch.Options{AllowPrivate: true, Resolver: farm.Resolver()})
	b.Cleanup(client.Close)
	return poll.New(poll.Config{Fetcher: client, Store: st, Concurrency: 16, PerHost: 2})
}

func benchStart(b *testing.B) {
	b.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS (%v); the figure covers the whole process", err)
	}
	b.ResetTimer()
}

func benchEnd(b *testing.B, feeds int) {
	b.Helper()
	b.StopTimer()
	b.ReportMetric(float64(feeds)*float64(b.N)/b.Elapsed().Seconds(), "feeds/s")
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			b.ReportMetric(kb/1024, "peak-RSS-MB")
		}
	}
	b.ReportMetric(0, "ns/op")
}
