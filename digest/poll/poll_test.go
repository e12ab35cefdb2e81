package poll_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/fetch"
	"github.com/seed-c50b6fda/herald/digest/poll"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func article(key string) *digest.Article {
	return &digest.Article{Key: key, Title: key, FirstSeen: t0, Published: t0}
}

func okResult(hints fetch.Hints, keys ...string) *fetch.Result {
	f := &fetch.Feed{Title: "Feed title", SiteURL: "https://site.example/", Language: "en"}
	for _, k := range keys {
		f.Articles = append(f.Articles, article(k))
	}
	return &fetch.Result{StatusCode: 200, ETag: `"e1"`, LastModified: "lm1", BodyHash: "h1", Feed: f, Hints: hints, FetchedAt: t0}
}

// recordingGrouper remembers what it was asked to group.
type recordingGrouper struct {
	mu   sync.Mutex
	keys []string
	err  error
}

func (g *recordingGrouper) Group(ctx context.Context, arts []*digest.Article) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, a := range arts {
		if a.ID == 0 {
			return errors.New("article without ID handed to the grouper")
		}
		g.keys = append(g.keys, a.Key)
	}
	return g.err
}

func noJitter() float64 { return 0 }

func TestPollSuccessUpdatesState(t *testing.T) {
	st := newMemStore(t, "https://a.example/feed")
	var got fetch.Request
	g := &recordingGrouper{}
	p := poll.New(poll.Config{
		Fetcher: fetcherFunc(func(ctx context.Context, req fetch.Request) (*fetch.Result, error) {
			got = req
			return okResult(fetch.Hints{}, "k1", "k2"), nil
		}),
		Store: st, Grouper: g, Now: func() time.Time { return t0 }, Jitter: noJitter,
	})
	// A feed that had been failing.
	f := st.feed(1)
	f.ETag, f.LastModified, f.BodyHash = `"e0"`, "lm0", "h0"
	f.ConsecutiveErrors, f.LastError, f.FailingSince = 3, "boom", t0.Add(-time.Hour)
	st.UpdateFeed(context.Background(), &f)

	sum, err := p.PollAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != "https://a.example/feed" || got.ETag != `"e0"` || got.LastModified != "lm0" || got.BodyHash != "h0" {
		t.Errorf("request = %+v, want the stored validators", got)
	}
	if sum.Feeds != 1 || sum.OK != 1 || sum.NewArticles != 2 {
		t.Errorf("summary = %s", sum)
	}
	f = st.feed(1)
	if f.ETag != `"e1"` || f.LastModified != "lm1" || f.BodyHash != "h1" {
		t.Errorf("validators = %q %q %q", f.ETag, f.LastModified, f.BodyHash)
	}
	if f.Title != "Feed title" || f.SiteURL != "https://site.example/" || f.Language != "en" {
		t.Errorf("feed metadata = %q %q %q", f.Title, f.SiteURL, f.Language)
	}
	if f.ConsecutiveErrors != 0 || f.LastError != "" || !f.FailingSince.IsZero() || f.Status() != digest.FeedOK {
		t.Errorf("failure state not cleared: %+v", f.FetchState)
	}
	if !f.CheckedAt.Equal(t0) || !f.SucceededAt.Equal(t0) || !f.NextCheckAt.Equal(t0.Add(15*time.Minute)) {
		t.Errorf("checked %s succeeded %s next %s", f.CheckedAt, f.SucceededAt, f.NextCheckAt)
	}
	if strings.Join(g.keys, ",") != "k1,k2" {
		t.Errorf("grouped %v", g.keys)
	}

	// The same items again: nothing new, nothing grouped.
	sum, _ = p.PollAll(context.Background())
	if sum.NewArticles != 0 || len(g.keys) != 2 {
		t.Errorf("second poll: %s, grouped %v", sum, g.keys)
	}
}

func TestPollNextCheck(t *testing.T) {
	tests := []struct {
		name   string
		hints  fetch.Hints
		jitter float64
		want   time.Duration
	}{
		{"no hints: minimum", fetch.Hints{}, 0, 15 * time.Minute},
		{"short max-age: minimum", fetch.Hints{MaxAge: 5 * time.Minute}, 0, 15 * time.Minute},
		{"feed TTL", fetch.Hints{TTL: 2 * time.Hour, MaxAge: time.Hour}, 0, 2 * time.Hour},
		{"max-age", fetch.Hints{TTL: time.Hour, MaxAge: 3 * time.Hour}, 0, 3 * time.Hour},
		{"Expires", fetch.Hints{Expires: 90 * time.Minute}, 0, 90 * time.Minute},
		{"Retry-After", fetch.Hints{RetryAfter: 4 * time.Hour}, 0, 4 * time.Hour},
		{"clamped to the maximum", fetch.Hints{TTL: 72 * time.Hour}, 0, 24 * time.Hour},
		{"jitter adds up to 10%", fetch.Hints{TTL: 2 * time.Hour}, 0.5, 2*time.Hour + 6*time.Minute},
		{"jitter never passes the maximum", fetch.Hints{TTL: 23 * time.Hour}, 0.99, 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newMemStore(t, "https://a.example/feed")
			p := poll.New(poll.Config{
				Fetcher: fetcherFunc(func(ctx context.Context, req fetch.Request) (*fetch.Result, error) {
					return okResult(tt.hints, "k"), nil
				}),
				Store: st, Now: func() time.Time { return t0 }, Jitter: func() float64 { return tt.jitter },
				MinInterval: 15 * time.Minute, MaxInterval: 24 * time.Hour,
			})
			if _, err := p.PollAll(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := st.feed(1).NextCheckAt.Sub(t0); got != tt.want {
				t.Errorf("next check in %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPollNotModifiedAndUnchanged(t *testing.T) {
	for _, tt := range []struct {
		name    string
		result  fetch.Result
		outcome poll.Outcome
	}{
		{"304", fetch.Result{StatusCode: 304, NotModified: true, ETag: `"e2"`, BodyHash: "h0"}, poll.OutcomeNotModified},
		{"same body", fetch.Result{StatusCode: 200, Unchanged: true, ETag: `"e2"`, BodyHash: "h0"}, poll.OutcomeUnchanged},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newMemStore(t, "https://a.example/feed")
			st.saveErr = errors.New("SaveArticles must not be called")
			f := st.feed(1)
			f.BodyHash = "h0"
			st.UpdateFeed(context.Background(), &f)
			p := poll.New(poll.Config{
				Fetcher: fetcherFunc(func(ctx context.Context, req fetch.Request) (*fetch.Result, error) {
					r := tt.result
					return &r, nil
				}),
				Store: st, Now: func() time.Time { return t0 }, Jitter: noJitter,
			})
			sum, _ := p.PollAll(context.Background())
			if sum.Feeds != 1 || sum.Results[0].Outcome != tt.outcome {
				t.Fatalf("summary %s, results %+v", sum, sum.Results)
			}
			f = st.feed(1)
			if f.ETag != `"e2"` || f.BodyHash != "h0" || !f.SucceededAt.Equal(t0) || f.NextCheckAt.IsZero() {
				t.Errorf("state = %+v", f.FetchState)
			}
		})
	}
}

func TestPollBackoff(t *testing.T) {
	clk := &clock{t: t0}
	st := newMemStore(t, "https://a.example/feed")
	var fail atomic.Pointer[fetch.Error]
	fail.Store(&fetch.Error{Kind: fetch.KindServer, URL: "https://a.example/feed", StatusCode: 500, Detail: "HTTP 500"})
	p := poll.New(poll.Config{
		Fetcher: fetcherFunc(func(ctx context.Context, req fetch.Request) (*fetch.Result, error) {
			if err := fail.Load(); err != nil {
				return nil, err
			}
			return okResult(fetch.Hints{}, "k"), nil
		}),
		Store: st, Now: clk.Now, Jitter: func() float64 { return 1 }, // upper end of each window
		MinInterval: 15 * time.Minute, MaxBackoff: 24 * time.Hour,
	})
	ctx := context.Background()
	start := clk.Now()
	want := []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 16 * time.Hour, 24 * time.Hour, 24 * time.Hour, 24 * time.Hour}
	for i, w := range want {
		sum, _ := p.PollDue(ctx)
		if sum.Failed != 1 {
			t.Fatalf("poll %d: %s", i+1, sum)
		}
		f := st.feed(1)
		if f.ConsecutiveErrors != i+1 || f.LastError != "fetch https://a.example/feed: HTTP 500" || !f.FailingSince.Equal(start) || f.Status() != digest.FeedFailing {
			t.Fatalf("poll %d: state %+v", i+1, f.FetchState)
		}
		if got := f.NextCheckAt.Sub(clk.Now()); got != w {
			t.Errorf("after failure %d: retry in %s, want %s", i+1, got, w)
		}
		// Not due yet: a poll now does nothing.
		if sum, _ := p.PollDue(ctx); sum.Feeds != 0 {
			t.Fatalf("polled a feed that is not due: %s", sum)
		}
		clk.Add(w)
	}

	t.Run("Retry-After wins over a shorter back-off", func(t *testing.T) {
		fail.Store(&fetch.Error{Kind: fetch.KindRateLimited, StatusCode: 429, RetryAfter: 30 * time.Hour, Detail: "HTTP 429"})
		p.PollDue(ctx)
		if got := st.feed(1).NextCheckAt.Sub(clk.Now()); got != 24*time.Hour {
			t.Errorf("retry in %s, want Retry-After capped at the 24h maximum", got)
		}
		clk.Add(24 * time.Hour)
	})

	t.Run("recovery clears the failure", func(t *testing.T) {
		fail.Store(nil)
		sum, _ := p.PollDue(ctx)
		f := st.feed(1)
		if sum.OK != 1 || f.ConsecutiveErrors != 0 || f.LastError != "" || !f.FailingSince.IsZero() {
			t.Errorf("after recovery: %s, %+v", sum, f.FetchState)
		}
	})
}

func TestBackoffJitterRange(t *testing.T) {
	for _, j := range []float64{0, 0.25, 0.999} {
		p := poll.New(poll.Config{Fetcher: fetcherFunc(nil), Store: newMemStore(t), Jitter: func() float64 { return j }, MinInterval: 10 * time.Minute})
		for n := 1; n <= 30; n++ {
			full := min(10*time.Minute<<(n-1), 24*time.Hour)
			if n > 20 {
				full = 24 * time.Hour
			}
			got := p.Backoff(n, 0)
			if got < full/2 || got > full {
				t.Errorf("jitter %v, failure %d: %s outside [%s, %s]", j, n, got, full/2, full)
			}
		}
	}
}

func TestPollStoreFailureKeepsValidators(t *testing.T) {
	st := newMemStore(t, "https://a.example/feed")
	st.saveErr = errors.New("disk full")
	p := poll.New(poll.Config{
		Fetcher: fetcherFunc(func(ctx context.Context, req fetch.Request) (*fetch.Result, error) {
			return okResult(fetch.Hints{}, "k"), nil
		}),
		Store: st, Now: func() time.Time { return t0 },
	})
	sum, _ := p.PollAll(context.Background())
	if sum.Errors != 1 || sum.OK != 0 || !strings.Contains(sum.Results[0].Err.Error(), "disk full") {
		t.Fatalf("summary %s", sum)
	}
	if f := st.feed(1); f.ETag != "" || f.BodyHash != "" || f.ConsecutiveErrors != 0 || !f.NextCheckAt.IsZero() {
		t.Errorf("a store failure must leave the feed due with its old validators: %+v", f.FetchState)
	}
}

func TestPollGrouperFailureDoesNotFailTheFeed(t *testing.T) {
	st := newMemStore(t, "https://a.example/feed")
	p := poll.New(poll.Config{
		Fetcher: fetcherFunc(func(ctx context.Context, req fetch.Request) (*fetch.Result, error) {
			return okResult(fetch.Hints{}, "k"), nil
		}),
		Store: st, Grouper: &recordingGrouper{err: errors.New("cluster down")}, Now: func() time.Time { return t0 },
	})
	sum, _ := p.PollAll(context.Background())
	if sum.OK != 1 || sum.NewArticles != 1 || st.count() != 1 {
		t.Errorf("summary %s, %d stored", sum, st.count())
	}
}

func TestPollConcurrencyCaps(t *testing.T) {
	var urls []string
	for h := range 4 {
		for i := range 10 {
			urls = append(urls, fmt.Sprintf("https://host%d.example/feed/%d", h, i))
		}
	}
	st := newMemStore(t, urls...)
	var mu sync.Mutex
	total, maxTotal := 0, 0
	perHost, maxPerHost := map[string]int{}, map[string]int{}
	p := poll.New(poll.Config{
		Fetcher: fetcherFunc(func(ctx context.Context, req fetch.Request) (*fetch.Result, error) {
			host := strings.Split(req.URL, "/")[2]
			mu.Lock()
			total++
			perHost[host]++
			maxTotal = max(maxTotal, total)
			maxPerHost[host] = max(maxPerHost[host], perHost[host])
			mu.Unlock()
			time.Sleep(15 * time.Millisecond)
			mu.Lock()
			total--
			perHost[host]--
			mu.Unlock()
			return okResult(fetch.Hints{}, req.URL), nil
		}),
		Store: st, Concurrency: 5, PerHost: 2,
	})
	sum, _ := p.PollAll(context.Background())
	if sum.OK != 40 || sum.NewArticles != 40 {
		t.Fatalf("summary %s", sum)
	}
	if maxTotal != 5 {
		t.Errorf("at most %d feeds in flight, want the global cap 5", maxTotal)
	}
	for h, n := range maxPerHost {
		if n > 2 {
			t.Errorf("%s had %d feeds in flight, over the per-host cap 2", h, n)
		}
	}
}

func TestPollSlowHostDoesNotBlockOthers(t *testing.T) {
	var urls []string
	for i := range 6 {
		urls = append(urls, fmt.Sprintf("https://slow.example/%d", i))
	}
	for i := range 12 {
		urls = append(urls, fmt.Sprintf("https://fast%d.example/feed", i))
	}
	st := newMemStore(t, urls...)
	var mu sync.Mutex
	var order []string
	p := poll.New(poll.Config{
		Fetcher: fetcherFunc(func(ctx context.Context, req fetch.Request) (*fetch.Result, error) {
			if strings.Contains(req.URL, "slow") {
				time.Sleep(60 * time.Millisecond)
			} else {
				time.Sleep(2 * time.Millisecond)
			}
			mu.Lock()
			order = append(order, req.URL)
			mu.Unlock()
			return okResult(fetch.Hints{}, req.URL), nil
		}),
		Store: st, Concurrency: 3, PerHost: 1,
	})
	p.PollAll(context.Background())
	// The slow host holds one slot at a time; the two others serve the
	// fast hosts, which all finish before the slow host's second feed.
	slowDone := 0
	for _, u := range order {
		if strings.Contains(u, "slow") {
			slowDone++
			continue
		}
		if slowDone > 1 {
			t.Fatalf("fast feed %s finished after %d slow ones: %v", u, slowDone, order)
		}
	}
}

func TestPollCancel(t *testing.T) {
	var urls []string
	for i := range 20 {
		urls = append(urls, fmt.Sprintf("https://h%d.example/feed", i))
	}
	st := newMemStore(t, urls...)
	ctx, cancel := context.WithCancel(context.Background())
	var started atomic.Int32
	p := poll.New(poll.Config{
		Fetcher: fetcherFunc(func(ctx context.Context, req fetch.Request) (*fetch.Result, error) {
			if started.Add(1) == 3 {
				cancel()
			}
			<-ctx.Done()
			return nil, &fetch.Error{Kind: fetch.KindNetwork, Detail: "canceled", Err: ctx.Err()}
		}),
		Store: st, Concurrency: 3,
	})
	done := make(chan poll.Summary)
	go func() { done <- p.Poll(ctx, mustList(t, st), nil) }()
	select {
	case sum := <-done:
		if sum.Feeds != 0 {
			t.Errorf("cancelled fetches were counted: %s", sum)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Poll did not return after cancellation")
	}
	if n := started.Load(); n != 3 {
		t.Errorf("%d fetches started, want 3 (none after cancellation)", n)
	}
	for _, f := range mustList(t, st) {
		if f.ConsecutiveErrors != 0 || f.LastError != "" {
			t.Errorf("feed %d marked failed by a cancelled poll: %+v", f.ID, f.FetchState)
		}
	}
}

func mustList(tb testing.TB, st *memStore) []*digest.Feed {
	tb.Helper()
	feeds, err := st.ListFeeds(context.Background(), digest.FeedFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	return feeds
}

func TestRunStopsOnCancel(t *testing.T) {
	st := newMemStore(t, "https://a.example/feed")
	var polls atomic.Int32
	clk := &clock{t: t0}
	p := poll.New(poll.Config{
		Fetcher: fetcherFunc(func(ctx context.Context, req fetch.Request) (*fetch.Result, error) {
			polls.Add(1)
			clk.Add(time.Hour) // the feed is due again at the next tick
			return okResult(fetch.Hints{}, "k"), nil
		}),
		Store: st, Now: clk.Now, Every: 5 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { errc <- p.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for polls.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	if polls.Load() < 3 {
		t.Errorf("Run polled %d times", polls.Load())
	}
}

// TestPollEndToEnd runs the poller with the real fetch client against an
// httptest server: first poll stores the items, the next gets a 304, an
// item that leaves the feed and comes back is not new, and an article
// carried by two feeds is stored once and linked to both.
func TestPollEndToEnd(t *testing.T) {
	var mu sync.Mutex
	items := map[string][]string{
		"/a": {"https://wire.example/1", "https://wire.example/2"},
		"/b": {"https://wire.example/2", "https://wire.example/3"},
	}
	version := 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		etag := fmt.Sprintf(`"%s-%d"`, r.URL.Path, version)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		io.WriteString(w, `<rss version="2.0"><channel><title>Feed `+r.URL.Path+`</title>`)
		for _, u := range items[r.URL.Path] {
			fmt.Fprintf(w, `<item><guid>%s</guid><link>%s</link><title>Story %s</title></item>`, u, u, u)
		}
		io.WriteString(w, `</channel></rss>`)
	}))
	t.Cleanup(srv.Close)
	client := fetch.New(fetch.Options{AllowPrivate: true, Timeout: 5 * time.Second})
	t.Cleanup(client.Close)
	st := newMemStore(t, srv.URL+"/a", srv.URL+"/b")
	clk := &clock{t: t0}
	p := poll.New(poll.Config{Fetcher: client, Store: st, Now: clk.Now})
	ctx := context.Background()

	sum, err := p.PollDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.OK != 2 || sum.NewArticles != 3 {
		t.Fatalf("first poll: %s", sum)
	}
	if links := st.links["url:https://wire.example/2"]; len(links) != 2 {
		t.Errorf("shared article linked to feeds %v, want both", links)
	}

	clk.Add(time.Hour)
	sum, _ = p.PollDue(ctx)
	if sum.NotModified != 2 || sum.NewArticles != 0 {
		t.Fatalf("second poll: %s", sum)
	}

	// Item 1 leaves feed a, then comes back next to a new item 4.
	mu.Lock()
	items["/a"], version = []string{"https://wire.example/2"}, 2
	mu.Unlock()
	clk.Add(time.Hour)
	// Feed b has a new ETag but the same body: not parsed again.
	if sum, _ = p.PollDue(ctx); sum.OK != 1 || sum.Unchanged != 1 || sum.NewArticles != 0 {
		t.Fatalf("third poll: %s", sum)
	}
	mu.Lock()
	items["/a"], version = []string{"https://wire.example/4", "https://wire.example/1", "https://wire.example/2"}, 3
	mu.Unlock()
	clk.Add(time.Hour)
	sum, _ = p.PollDue(ctx)
	if sum.NewArticles != 1 || st.count() != 4 {
		t.Fatalf("fourth poll: %s, %d stored; only item 4 is new", sum, st.count())
	}
}
