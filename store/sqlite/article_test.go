package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// waitFor polls cond, which reads q under its lock, until it holds.
func waitFor(t *testing.T, q *saveQueue, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		q.mu.Lock()
		ok := cond()
		q.mu.Unlock()
		if ok {
			return
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// TestSaveQueueGroups checks the group commit of SaveArticles: calls that
// arrive while one is written are written together next, oldest first and
// at most saveChunk articles at a time, and a call that gives up while it
// waits is never written.
func TestSaveQueueGroups(t *testing.T) {
	var q saveQueue
	var mu sync.Mutex
	var groups [][]string
	release := make(chan struct{})
	write := func(g []*saveReq) {
		mu.Lock()
		var names []string
		for _, r := range g {
			names = append(names, r.articles[0].Key)
		}
		groups = append(groups, names)
		first := len(groups) == 1
		mu.Unlock()
		if first {
			<-release
		}
	}
	call := func(ctx context.Context, name string, articles int) *saveReq {
		as := make([]*digest.Article, articles)
		as[0] = &digest.Article{Key: name}
		return &saveReq{ctx: ctx, articles: as, wake: make(chan struct{})}
	}
	var wg sync.WaitGroup
	start := func(r *saveReq) {
		wg.Go(func() { q.save(r, write) })
	}

	ctx := context.Background()
	start(call(ctx, "first", 1))
	waitFor(t, &q, "the first call is being written", func() bool { return q.busy && len(q.pending) == 0 })
	// While it is, four calls queue: the first three fit in one write
	// (saveChunk articles), the fourth does not.
	sizes := []int{1, saveChunk - 2, 1, 1}
	for i, n := range sizes {
		start(call(ctx, fmt.Sprintf("waiting%d", i), n))
		waitFor(t, &q, "the call queues", func() bool { return len(q.pending) == i+1 })
	}
	// A fifth gives up while it waits.
	gaveUp, cancel := context.WithCancel(ctx)
	quitter := call(gaveUp, "quitter", 1)
	done := make(chan struct{})
	go func() { q.save(quitter, write); close(done) }()
	waitFor(t, &q, "the quitter queues", func() bool { return len(q.pending) == 5 })
	cancel()
	<-done
	if !errors.Is(quitter.err, context.Canceled) {
		t.Errorf("call that gave up: err = %v, want context.Canceled", quitter.err)
	}
	close(release)
	wg.Wait()

	want := [][]string{{"first"}, {"waiting0", "waiting1", "waiting2"}, {"waiting3"}}
	if fmt.Sprint(groups) != fmt.Sprint(want) {
		t.Errorf("written in groups %v, want %v", groups, want)
	}
	if q.busy || len(q.pending) > 0 {
		t.Errorf("queue not idle after the writes: busy %v, %d pending", q.busy, len(q.pending))
	}
}

// TestSaveQueueSurvivesPanic checks that a write that panics fails the
// calls it held, and that the calls after it are written.
func TestSaveQueueSurvivesPanic(t *testing.T) {
	var q saveQueue
	release := make(chan struct{})
	write := func(g []*saveReq) {
		switch g[0].articles[0].Key {
		case "first":
			<-release
		case "boom":
			panic("boom")
		}
	}
	call := func(name string) *saveReq {
		return &saveReq{ctx: context.Background(), articles: []*digest.Article{{Key: name}}, wake: make(chan struct{})}
	}
	var wg sync.WaitGroup
	wg.Go(func() { q.save(call("first"), write) })
	waitFor(t, &q, "the first call is being written", func() bool { return q.busy && len(q.pending) == 0 })
	boom, victim := call("boom"), call("victim")
	var recovered any
	wg.Go(func() {
		defer func() { recovered = recover() }()
		q.save(boom, write)
	})
	waitFor(t, &q, "boom queues", func() bool { return len(q.pending) == 1 })
	wg.Go(func() { q.save(victim, write) })
	waitFor(t, &q, "the victim queues", func() bool { return len(q.pending) == 2 })
	close(release)
	wg.Wait()
	if recovered == nil {
		t.Error("the panic did not reach the caller that wrote")
	}
	if victim.err != errSaveAborted {
		t.Errorf("call written with the one that panicked: err = %v, want errSaveAborted", victim.err)
	}
	after := call("after")
	q.save(after, write)
	if after.err != nil || q.busy {
		t.Errorf("call after the panic: err = %v, queue busy %v", after.err, q.busy)
	}
}

// TestSaveArticlesGroup writes several calls as one group: each call gets
// the articles it inserted, a key that an earlier call of the group
// inserted is only linked, a call for a feed that does not exist gets
// ENOTFOUND, and a call that gave up is not written. If the group's
// transaction fails, each call is written alone, so that only the call at
// fault fails.
func TestSaveArticlesGroup(t *testing.T) {
	for _, poison := range []bool{false, true} {
		t.Run(fmt.Sprintf("poison=%v", poison), func(t *testing.T) {
			db, a, b := openSearchDB2(t)
			ctx := context.Background()
			if _, err := db.db.ExecContext(ctx, `CREATE TRIGGER poison BEFORE INSERT ON articles
				WHEN new.title = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned article'); END`); err != nil {
				t.Fatal(err)
			}
			art := func(key string) *digest.Article {
				return &digest.Article{Key: key, Title: key + " comet", Published: searchNow}
			}
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			calls := []*saveReq{
				{ctx: ctx, feedID: a.ID, articles: []*digest.Article{art("k1"), art("k2")}},
				{ctx: ctx, feedID: b.ID, articles: []*digest.Article{art("k2"), art("k3")}},
				{ctx: ctx, feedID: 999, articles: []*digest.Article{art("k4")}},
				{ctx: cancelled, feedID: a.ID, articles: []*digest.Article{art("k5")}},
				{ctx: ctx, feedID: b.ID, articles: []*digest.Article{art("k6")}},
			}
			if poison {
				calls = append(calls, &saveReq{ctx: ctx, feedID: a.ID, articles: []*digest.Article{{Key: "kp", Title: "poison"}}})
			}
			db.saveGroup(calls)

			keys := func(as []*digest.Article) string {
				var ks []string
				for _, a := range as {
					ks = append(ks, a.Key)
				}
				return strings.Join(ks, ",")
			}
			for i, want := range []string{"k1,k2", "k3", "", "", "k6"} {
				r := calls[i]
				if got := keys(r.inserted); got != want {
					t.Errorf("call %d inserted %q, want %q", i, got, want)
				}
				switch i {
				case 2:
					if digest.ErrorCode(r.err) != digest.ENOTFOUND {
						t.Errorf("call for a missing feed: err = %v, want ENOTFOUND", r.err)
					}
				case 3:
					if !errors.Is(r.err, context.Canceled) {
						t.Errorf("call that gave up: err = %v, want context.Canceled", r.err)
					}
				default:
					if r.err != nil {
						t.Errorf("call %d: %v", i, r.err)
					}
				}
			}
			if poison {
				if r := calls[5]; r.err == nil || !strings.Contains(r.err.Error(), "poisoned article") || r.inserted != nil {
					t.Errorf("poisoned call: inserted %q, err %v; want the trigger's error", keys(r.inserted), r.err)
				}
			}
			for _, c := range []struct {
				key   string
				feeds []int64
			}{{"k1", []int64{a.ID}}, {"k2", []int64{a.ID, b.ID}}, {"k3", []int64{b.ID}}, {"k6", []int64{b.ID}}} {
				rows, err := db.db.QueryContext(ctx, `SELECT l.feed_id FROM article_feeds l JOIN articles a ON a.id = l.article_id
					WHERE a.key = ? ORDER BY l.feed_id`, c.key)
				if err != nil {
					t.Fatal(err)
				}
				var feeds []int64
				for rows.Next() {
					var id int64
					if err := rows.Scan(&id); err != nil {
						t.Fatal(err)
					}
					feeds = append(feeds, id)
				}
				rows.Close()
				if !slices.Equal(feeds, c.feeds) {
					t.Errorf("%s linked to feeds %v, want %v", c.key, feeds, c.feeds)
				}
			}
			var n int
			if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM articles`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 4 {
				t.Errorf("%d articles stored, want 4", n)
			}
			checkIndex(t, db)
			if got := found(t, db, "comet"); len(got) != 4 {
				t.Errorf("search finds %d articles, want 4", len(got))
			}
		})
	}
}

// TestSaveArticlesConcurrently saves from many goroutines at once, as the
// poller does, with keys that several feeds share: every key is inserted
// by exactly one call and linked to every feed that saw it.
func TestSaveArticlesConcurrently(t *testing.T) {
	db, _ := openSearchDB(t)
	ctx := context.Background()
	const feeds, rounds, perCall, keys = 8, 6, 40, 200
	ids := make([]int64, feeds)
	for i := range ids {
		f := &digest.Feed{URL: fmt.Sprintf("https://f%d.example/feed", i)}
		if err := db.CreateFeed(ctx, f); err != nil {
			t.Fatal(err)
		}
		ids[i] = f.ID
	}
	var mu sync.Mutex
	inserted := map[string]int{}
	seen := map[string]map[int64]bool{}
	var wg sync.WaitGroup
	for f := range feeds {
		wg.Go(func() {
			for r := range rounds {
				var batch []*digest.Article
				for j := range perCall {
					key := fmt.Sprintf("k%d", (f*7+r*perCall+j*3)%keys)
					batch = append(batch, &digest.Article{Key: key, Title: key + " nebula", Published: searchNow})
				}
				ins, err := db.SaveArticles(ctx, ids[f], batch)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, a := range ins {
					inserted[a.Key]++
					if a.ID == 0 || a.FeedID != ids[f] {
						t.Errorf("%s inserted with ID %d, feed %d; want an ID and feed %d", a.Key, a.ID, a.FeedID, ids[f])
					}
				}
				for _, a := range batch {
					if seen[a.Key] == nil {
						seen[a.Key] = map[int64]bool{}
					}
					seen[a.Key][ids[f]] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for key, n := range inserted {
		if n != 1 {
			t.Errorf("%s inserted %d times", key, n)
		}
	}
	if len(inserted) != len(seen) {
		t.Errorf("%d keys inserted, %d saved", len(inserted), len(seen))
	}
	links := 0
	for _, fs := range seen {
		links += len(fs)
	}
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM article_feeds`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != links {
		t.Errorf("%d links stored, want %d", n, links)
	}
	checkIndex(t, db)
}

// TestWritersQueueInProcess checks the process's write lock: a write waits
// while another holds it, and gives up, writing nothing, when its context
// ends first.
func TestWritersQueueInProcess(t *testing.T) {
	db, f := openSearchDB(t)
	ctx := context.Background()
	if err := db.lockWrite(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f.Title = "updated while another wrote"
		done <- db.UpdateFeed(ctx, f)
	}()
	select {
	case err := <-done:
		t.Fatalf("UpdateFeed finished while the write lock was held: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := db.SetState(short, "k", "v"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("SetState that timed out waiting: err = %v, want context.DeadlineExceeded", err)
	}
	db.unlockWrite()
	if err := <-done; err != nil {
		t.Fatalf("UpdateFeed after the lock was released: %v", err)
	}
	got, err := db.FindFeedByID(ctx, f.ID)
	if err != nil || got.Title != f.Title {
		t.Errorf("feed after the update: %+v, %v", got, err)
	}
	if v, err := db.State(ctx, "k"); digest.ErrorCode(err) != digest.ENOTFOUND {
		t.Errorf("state written by a call that gave up: %q, %v", v, err)
	}
}
