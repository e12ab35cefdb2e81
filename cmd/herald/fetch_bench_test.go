package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
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
// feeds/s, feeds per CPU-second and the process's peak RSS during it
// (VmHWM, reset per phase; the farm and SQLite included).
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
		m := fetchtest.StartPhase(b)
		for range b.N {
			for start := 0; start < n; start += 100 {
				m.Pause()
				var bodies [][]byte
				for i := start; i < min(start+100, n); i++ {
					bodies = append(bodies, farm.Body(i))
				}
				m.Resume()
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
		m.End(n)
	})

	var warm *sqlite.DB
	cold := func(b *testing.B, m *fetchtest.Meter) *sqlite.DB {
		if m != nil {
			m.Pause()
		}
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
		p := farmPoller(b, farm, db)
		runtime.GC()
		if m != nil {
			m.Resume()
		}
		sum := p.Poll(ctx, feeds, nil)
		if sum.OK != n || sum.NewArticles != n*farm.Items {
			b.Fatalf("cold poll: %s", sum)
		}
		return db
	}
	b.Run("cold", func(b *testing.B) {
		m := fetchtest.StartPhase(b)
		for range b.N {
			warm = cold(b, m)
		}
		m.End(n)
	})
	warmPoll := func(b *testing.B, conditional bool, ok func(poll.Summary) bool) {
		if warm == nil {
			warm = cold(b, nil)
		}
		farm.SetConditional(conditional)
		defer farm.SetConditional(true)
		m := fetchtest.StartPhase(b)
		for range b.N {
			m.Pause()
			feeds, err := warm.ListFeeds(ctx, digest.FeedFilter{})
			if err != nil {
				b.Fatal(err)
			}
			p := farmPoller(b, farm, warm)
			m.Resume()
			if sum := p.Poll(ctx, feeds, nil); !ok(sum) {
				b.Fatalf("warm poll: %s", sum)
			}
		}
		m.End(n)
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
