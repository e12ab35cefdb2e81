package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/config"
	"github.com/seed-c50b6fda/herald/digest"
)

// TestStoryGrouperOneWriter checks who groups articles into stories: the
// daemon holding the cluster lease groups what a command stores meanwhile,
// and a command groups its own articles when no daemon runs.
func TestStoryGrouperOneWriter(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.Replicas.Lease = time.Second
	st := openSQLite(t, filepath.Join(t.TempDir(), "herald.db"))
	feed := &digest.Feed{URL: "https://wire.example/rss", Title: "Wire"}
	if err := st.CreateFeed(ctx, feed); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	newApp := func() *app { return &app{logger: quiet} }
	save := func(keys ...string) []*digest.Article {
		t.Helper()
		var arts []*digest.Article
		for _, k := range keys {
			arts = append(arts, &digest.Article{Key: k, URL: "https://wire.example/" + k, Title: "Ferry service resumes " + k,
				Summary: "The island ferry sailed again after storms.", Source: "Wire", Language: "en",
				Published: time.Now(), FirstSeen: time.Now()})
		}
		inserted, err := st.SaveArticles(ctx, feed.ID, arts)
		if err != nil {
			t.Fatal(err)
		}
		return inserted
	}
	storyOf := func(id int64) int64 {
		t.Helper()
		a, err := st.FindArticleByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return a.StoryID
	}

	daemonApp := newApp()
	daemon := daemonApp.newDaemonGrouper(cfg, st)
	dctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- daemon.Run(dctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if l, err := st.FindLease(ctx, clusterLease); err == nil && l.Owner == daemonApp.owner {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the daemon never took the cluster lease")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A command while the daemon runs: it leaves its articles to the
	// daemon, which groups them within a few seconds.
	cmd := newApp()
	g, err := cmd.newGrouper(ctx, cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	arts := save("a1", "a2")
	if err := g.Group(ctx, arts); err != nil {
		t.Fatal(err)
	}
	if s := storyOf(arts[0].ID); s != 0 {
		t.Fatalf("the command grouped an article (story %d) while the daemon holds the clusterer", s)
	}
	deadline = time.Now().Add(3 * catchUpEvery)
	for storyOf(arts[0].ID) == 0 || storyOf(arts[1].ID) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the daemon did not group the command's articles within %s", 3*catchUpEvery)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.close()

	// The daemon stops and releases the lease: a command groups at once.
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cmd = newApp()
	defer cmd.close()
	g, err = cmd.newGrouper(ctx, cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	arts = save("b1")
	if err := g.Group(ctx, arts); err != nil {
		t.Fatal(err)
	}
	if storyOf(arts[0].ID) == 0 {
		t.Fatal("a command with no daemon running left its article without a story")
	}
}

// countingMaintainer counts merges; its first calls fail.
type countingMaintainer struct {
	calls atomic.Int32
	fail  int32
}

func (m *countingMaintainer) MaintainSearchIndex(ctx context.Context, budget time.Duration) (bool, error) {
	n := m.calls.Add(1)
	if n <= m.fail {
		return false, errors.New("database is locked")
	}
	return false, nil
}

// TestMaintainSearch checks that the daemon merges the search index every
// poll interval, goes on after a failure, and stops with its context.
func TestMaintainSearch(t *testing.T) {
	m := &countingMaintainer{fail: 2}
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- maintainSearch(ctx, m, 5*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil))) }()
	deadline := time.Now().Add(5 * time.Second)
	for m.calls.Load() < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("merged %d times in 5s at a 5ms interval", m.calls.Load())
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "merge the search index"); n != 1 {
		t.Errorf("%d warnings for two failures in a row; want one:\n%s", n, logs.String())
	}
}

// TestStoryGrouperLapsedLease: a command whose lease lapsed while another
// process grouped starts again from the store before grouping more.
func TestStoryGrouperLapsedLease(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.Replicas.Lease = time.Second
	st := openSQLite(t, filepath.Join(t.TempDir(), "herald.db"))
	feed := &digest.Feed{URL: "https://wire.example/rss", Title: "Wire"}
	if err := st.CreateFeed(ctx, feed); err != nil {
		t.Fatal(err)
	}
	save := func(key, title string) *digest.Article {
		t.Helper()
		arts, err := st.SaveArticles(ctx, feed.ID, []*digest.Article{{Key: key, URL: "https://wire.example/" + key, Title: title,
			Summary: title + ".", Source: "Wire", Language: "en", Published: time.Now(), FirstSeen: time.Now()}})
		if err != nil || len(arts) != 1 {
			t.Fatal(arts, err)
		}
		return arts[0]
	}
	first := &app{}
	defer first.close()
	g1, err := first.newGrouper(ctx, cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(cfg.Replicas.Lease + 100*time.Millisecond) // the lease lapses

	// Another command takes the lapsed lease and groups an article.
	second := &app{}
	g2, err := second.newGrouper(ctx, cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	x := save("x", "Harbour ferry service resumes after storm")
	if err := g2.Group(ctx, []*digest.Article{x}); err != nil {
		t.Fatal(err)
	}
	second.close()

	// The first command's next articles: it reloads, and the report of
	// the same event joins the story the other command made.
	y := save("y", "Harbour ferry service resumes after the storm")
	if err := g1.Group(ctx, []*digest.Article{y}); err != nil {
		t.Fatal(err)
	}
	sx, err := st.FindArticleByID(ctx, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	sy, err := st.FindArticleByID(ctx, y.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sx.StoryID == 0 || sy.StoryID == 0 {
		t.Fatalf("stories %d and %d; want both articles grouped", sx.StoryID, sy.StoryID)
	}
	// Near-identical headlines of one outlet are one story; a grouper
	// that had not reloaded would not know x and found a story of y's own.
	if sx.StoryID != sy.StoryID {
		t.Fatalf("x in story %d, y in story %d; want one story", sx.StoryID, sy.StoryID)
	}
}
