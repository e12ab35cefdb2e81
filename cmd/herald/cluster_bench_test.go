package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/dedup"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

// BenchmarkClusterRestoreSQLite measures what a restart costs the story
// clusterer: 100,000 articles built from the labelled dev set (copy r of
// each article published on day r, lightly edited, with a new key) are
// stored in SQLite on disk with the stories the clusterer gives them; the
// timed part is Grouper.Load, which reads the window from the store and
// rebuilds the index and the neighbour graph.
//
//	window-72h: the default window, which holds the last three days
//	            (about 2,000 articles).
//	all-100k:   a window long enough to hold all 100,000 articles, the
//	            worst case.
//
// It reports articles restored, articles per CPU-second and the process's
// peak RSS (VmHWM; the store and the input included). It skips without
// ../shared.
//
//	go test ./cmd/herald -run '^$' -bench ClusterRestoreSQLite -benchtime 1x
func BenchmarkClusterRestoreSQLite(b *testing.B) {
	arts := syntheticArticles(b, 100_000)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "herald.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	feed := &digest.Feed{URL: "https://bench.example/feed"}
	if err := db.CreateFeed(ctx, feed); err != nil {
		b.Fatal(err)
	}
	for start := 0; start < len(arts); start += 1000 {
		batch := arts[start:min(start+1000, len(arts))]
		if _, err := db.SaveArticles(ctx, feed.ID, batch); err != nil {
			b.Fatal(err)
		}
	}
	// Cluster the stream as the poller would, and persist the stories.
	last := arts[len(arts)-1].FirstSeen
	g := dedup.NewGrouper(db, dedup.Options{Now: func() time.Time { return last }})
	for start := 0; start < len(arts); start += 1000 {
		if err := g.Group(ctx, arts[start:min(start+1000, len(arts))]); err != nil {
			b.Fatal(err)
		}
	}
	now := last.Add(time.Minute)
	for _, tc := range []struct {
		name   string
		window time.Duration
	}{
		{"window-72h", 72 * time.Hour},
		{"all-100k", 200 * 24 * time.Hour},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var restored int
			var cpu time.Duration
			for range b.N {
				g := dedup.NewGrouper(db, dedup.Options{Window: tc.window, Now: func() time.Time { return now }})
				start := processCPU()
				if err := g.Load(ctx, now); err != nil {
					b.Fatal(err)
				}
				cpu += processCPU() - start
				restored = g.Clusterer().Len()
			}
			b.ReportMetric(float64(restored), "articles")
			b.ReportMetric(float64(restored*b.N)/cpu.Seconds(), "articles/cpu-s")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			if kb := peakRSSKiB(); kb > 0 {
				b.ReportMetric(float64(kb)/1024, "peak-RSS-MiB")
			}
		})
	}
}

// syntheticArticles builds n articles from ../shared/data/dedup/dev.jsonl:
// copy r of article i is first seen on day r at a shuffled time of the
// day, with a few words dropped from its body.
func syntheticArticles(tb testing.TB, n int) []*digest.Article {
	tb.Helper()
	path := filepath.Join("..", "..", "..", "shared", "data", "dedup", "dev.jsonl")
	f, err := os.Open(path)
	if err != nil {
		tb.Skipf("skipping: %s not found (../shared is third-party data kept beside the repository): %v", path, err)
	}
	defer f.Close()
	type line struct {
		URL, Source, Title, Summary, Text string
	}
	var lines []line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			tb.Fatal(err)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewSource(42))
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	arts := make([]*digest.Article, 0, n)
	for day := 0; len(arts) < n; day++ {
		for k, i := range r.Perm(len(lines)) {
			if len(arts) == n {
				break
			}
			l := lines[i]
			words := strings.Fields(l.Text)
			kept := words[:0]
			for _, w := range words {
				if r.Float64() >= 0.03 {
					kept = append(kept, w)
				}
			}
			at := base.Add(time.Duration(day)*24*time.Hour + time.Duration(k)*24*time.Hour/time.Duration(len(lines)))
			arts = append(arts, &digest.Article{
				Key: fmt.Sprintf("bench-%d", len(arts)), URL: fmt.Sprintf("%s?copy=%d", l.URL, day),
				Title: l.Title, Summary: l.Summary, Content: strings.Join(kept, " "), Source: l.Source,
				Published: at, FirstSeen: at,
			})
		}
	}
	return arts
}

// processCPU returns the CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSKiB returns VmHWM from /proc/self/status, or 0 where there is
// none.
func peakRSSKiB() int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb
		}
	}
	return 0
}
