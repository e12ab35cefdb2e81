package poll_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest/fetch"
	"github.com/seed-c50b6fda/herald/digest/poll"
)

// claims is a shared claim table, as replicas see it in their store.
type claims struct {
	mu      sync.Mutex
	holders map[string]string
}

// claimer is one process's view of the table.
type claimer struct {
	t     *claims
	owner string
}

func (c claimer) Claim(ctx context.Context, name string) (bool, error) {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	if h, ok := c.t.holders[name]; ok && h != c.owner {
		return false, nil
	}
	c.t.holders[name] = c.owner
	return true, nil
}

func (c claimer) Release(ctx context.Context, name string) error {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	if c.t.holders[name] == c.owner {
		delete(c.t.holders, name)
	}
	return nil
}

// TestPollClaimsDivideFeeds runs three pollers, as three replicas would, on
// one store at the same moment: every due feed is fetched exactly once,
// whichever replica gets it, and all claims are released afterwards.
func TestPollClaimsDivideFeeds(t *testing.T) {
	const feeds = 60
	var urls []string
	for i := range feeds {
		urls = append(urls, fmt.Sprintf("https://host%d.example/feed", i))
	}
	st := newMemStore(t, urls...)
	table := &claims{holders: map[string]string{}}
	var mu sync.Mutex
	fetched := map[string]int{}
	var total atomic.Int32
	var start sync.WaitGroup
	start.Add(1)
	var pollers []*poll.Poller
	for r := range 3 {
		pollers = append(pollers, poll.New(poll.Config{
			Fetcher: fetcherFunc(func(ctx context.Context, req fetch.Request) (*fetch.Result, error) {
				mu.Lock()
				fetched[req.URL]++
				mu.Unlock()
				total.Add(1)
				time.Sleep(time.Millisecond) // long enough for the others to list the feed too
				return okResult(fetch.Hints{}, req.URL+"#1"), nil
			}),
			Store: st, Claims: claimer{table, fmt.Sprintf("replica-%d", r)},
			Now: func() time.Time { return t0 }, Jitter: noJitter,
		}))
	}
	var wg sync.WaitGroup
	sums := make([]poll.Summary, len(pollers))
	for i, p := range pollers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			sum, err := p.PollDue(context.Background())
			if err != nil {
				t.Error(err)
			}
			sums[i] = sum
		}()
	}
	start.Done()
	wg.Wait()

	for _, u := range urls {
		if fetched[u] != 1 {
			t.Errorf("%s fetched %d times; want exactly once across the replicas", u, fetched[u])
		}
	}
	polled := 0
	for _, s := range sums {
		polled += s.Feeds
	}
	if polled != feeds || int(total.Load()) != feeds {
		t.Errorf("summaries count %d feeds and %d fetches; want %d each", polled, total.Load(), feeds)
	}
	if len(table.holders) != 0 {
		t.Errorf("claims left held: %v", table.holders)
	}
	if st.count() != feeds {
		t.Errorf("%d articles stored; want %d", st.count(), feeds)
	}
}

// TestPollClaimHeldElsewhere checks that a feed another process holds is
// left alone and not counted.
func TestPollClaimHeldElsewhere(t *testing.T) {
	st := newMemStore(t, "https://a.example/feed", "https://b.example/feed")
	table := &claims{holders: map[string]string{"feed/1": "other"}}
	var got []string
	p := poll.New(poll.Config{
		Fetcher: fetcherFunc(func(ctx context.Context, req fetch.Request) (*fetch.Result, error) {
			got = append(got, req.URL)
			return okResult(fetch.Hints{}, req.URL+"#1"), nil
		}),
		Store: st, Claims: claimer{table, "me"}, Now: func() time.Time { return t0 }, Jitter: noJitter, Concurrency: 1,
	})
	sum, err := p.PollDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "https://b.example/feed" || sum.Feeds != 1 {
		t.Fatalf("fetched %v (summary %s); want only the unclaimed feed", got, sum)
	}
	if table.holders["feed/1"] != "other" {
		t.Fatal("the other process's claim was released")
	}
}
