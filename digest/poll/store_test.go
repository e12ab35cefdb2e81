package poll_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/fetch"
	"github.com/seed-c50b6fda/herald/digest/poll"
)

// memStore is an in-memory poll.Store with the semantics of the real ones:
// articles are unique by Key and linked to every feed that carried them.
type memStore struct {
	mu       sync.Mutex
	feeds    map[int64]*digest.Feed
	nextID   int64
	articles map[string]*digest.Article
	links    map[string][]int64 // key -> feed IDs
	updates  int
	saveErr  error
}

var _ poll.Store = (*memStore)(nil)

func newMemStore(tb testing.TB, urls ...string) *memStore {
	tb.Helper()
	s := &memStore{feeds: map[int64]*digest.Feed{}, articles: map[string]*digest.Article{}, links: map[string][]int64{}}
	for i, u := range urls {
		s.feeds[int64(i+1)] = &digest.Feed{ID: int64(i + 1), URL: u}
	}
	return s
}

func (s *memStore) ListFeeds(ctx context.Context, filter digest.FeedFilter) ([]*digest.Feed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*digest.Feed
	for _, f := range s.feeds {
		if !filter.DueBefore.IsZero() && f.NextCheckAt.After(filter.DueBefore) {
			continue
		}
		c := *f
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *digest.Feed) int { return int(a.ID - b.ID) })
	return out, nil
}

func (s *memStore) FindFeedByID(ctx context.Context, id int64) (*digest.Feed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.feeds[id]
	if !ok {
		return nil, digest.Errorf(digest.ENOTFOUND, "feed %d not found", id)
	}
	c := *f
	return &c, nil
}

func (s *memStore) UpdateFeed(ctx context.Context, f *digest.Feed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.feeds[f.ID]; !ok {
		return digest.Errorf(digest.ENOTFOUND, "feed %d not found", f.ID)
	}
	c := *f
	s.feeds[f.ID] = &c
	s.updates++
	return nil
}

func (s *memStore) SaveArticles(ctx context.Context, feedID int64, articles []*digest.Article) ([]*digest.Article, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.saveErr != nil {
		return nil, s.saveErr
	}
	if _, ok := s.feeds[feedID]; !ok {
		return nil, digest.Errorf(digest.ENOTFOUND, "feed %d not found", feedID)
	}
	var inserted []*digest.Article
	for _, a := range articles {
		if a.Key == "" {
			return nil, digest.Errorf(digest.EINVALID, "article without key")
		}
		if !slices.Contains(s.links[a.Key], feedID) {
			s.links[a.Key] = append(s.links[a.Key], feedID)
		}
		if _, ok := s.articles[a.Key]; ok {
			continue
		}
		s.nextID++
		c := *a
		c.ID, c.FeedID = s.nextID, feedID
		s.articles[a.Key] = &c
		a.ID, a.FeedID = c.ID, feedID
		inserted = append(inserted, a)
	}
	return inserted, nil
}

func (s *memStore) feed(id int64) digest.Feed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.feeds[id]
}

func (s *memStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.articles)
}

// fetcherFunc adapts a function to poll.Fetcher.
type fetcherFunc func(ctx context.Context, req fetch.Request) (*fetch.Result, error)

func (f fetcherFunc) Fetch(ctx context.Context, req fetch.Request) (*fetch.Result, error) {
	return f(ctx, req)
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
