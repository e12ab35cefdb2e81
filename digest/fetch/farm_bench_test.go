package fetch_test

import (
	"bytes"
	"context"
	"hash/maphash"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/fetch"
	"github.com/seed-c50b6fda/herald/digest/fetch/fetchtest"
	"github.com/seed-c50b6fda/herald/digest/poll"
)

// BenchmarkFarm measures feed ingestion on a local farm of 2,000 feeds of
// 50 items (about 60 KB each) on 250 host names, served by an in-process
// server, with an in-memory store that keeps identities only (the SQLite
// variant is BenchmarkFarmSQLite in cmd/herald). Each sub-benchmark
// reports feeds/s (wall clock), feeds per CPU-second of the process (the
// farm server included; stable when other processes share the machine) and
// the peak resident memory of the process during it (VmHWM, reset before
// each phase; the farm server included):
//
//   - parse-only/gofeed: gofeed alone with its defaults, on every core;
//     the reference rate a cold poll is compared with.
//   - parse-only/gofeed-no-image-scan: gofeed as Herald configures it.
//   - parse-only/herald: fetch.Parse, i.e. gofeed plus charset handling,
//     normalisation and identity keys.
//   - cold: the first poll: every feed fetched, parsed, normalised, saved.
//   - warm-304: every server answers 304 Not Modified.
//   - warm-unchanged: servers ignore validators and resend the same body,
//     which the body hash recognises without parsing.
//
// Run it alone, once per phase:
//
//	go test ./digest/fetch -run '^$' -bench Farm -benchtime 1x
//
// HERALD_BENCH_FEEDS overrides the number of feeds (e.g. 200 for a quick
// look).
func BenchmarkFarm(b *testing.B) {
	n := benchFeeds(b)
	farm := fetchtest.NewFarm(n, 50, 250)
	b.Cleanup(farm.Close)

	b.Run("parse-only/gofeed", func(b *testing.B) {
		benchParse(b, farm, func(body []byte) error {
			_, err := gofeed.NewParser().Parse(bytes.NewReader(body))
			return err
		})
	})
	b.Run("parse-only/gofeed-no-image-scan", func(b *testing.B) {
		benchParse(b, farm, func(body []byte) error {
			p := gofeed.NewParser()
			p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
			_, err := p.Parse(bytes.NewReader(body))
			return err
		})
	})
	b.Run("parse-only/herald", func(b *testing.B) {
		benchParse(b, farm, func(body []byte) error {
			f, err := fetch.Parse(fetch.Document{URL: "https://h000.farm.test/feeds/0.xml", Body: body, ContentType: "application/rss+xml"})
			if err == nil && len(f.Articles) != farm.Items {
				b.Fatalf("%d articles, want %d", len(f.Articles), farm.Items)
			}
			return err
		})
	})

	var warm *keyStore
	cold := func(b *testing.B, m *fetchtest.Meter) *keyStore {
		if m != nil {
			m.Pause()
		}
		st := newKeyStore(farm)
		p, feeds := benchPoller(b, farm, st), st.list()
		if m != nil {
			m.Resume()
		}
		sum := p.Poll(context.Background(), feeds, nil)
		if sum.OK != n || sum.NewArticles != n*farm.Items {
			b.Fatalf("cold poll: %s", sum)
		}
		return st
	}
	b.Run("cold", func(b *testing.B) {
		m := fetchtest.StartPhase(b)
		for range b.N {
			warm = cold(b, m)
		}
		m.End(n)
	})
	warmPoll := func(b *testing.B, conditional bool, check func(poll.Summary) bool) {
		if warm == nil {
			warm = cold(b, nil)
		}
		farm.SetConditional(conditional)
		defer farm.SetConditional(true)
		m := fetchtest.StartPhase(b)
		for range b.N {
			m.Pause()
			p, feeds := benchPoller(b, farm, warm), warm.list()
			m.Resume()
			if sum := p.Poll(context.Background(), feeds, nil); !check(sum) {
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

func benchFeeds(b *testing.B) int {
	if v := os.Getenv("HERALD_BENCH_FEEDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("HERALD_BENCH_FEEDS=%q is not a positive number", v)
		}
		return n
	}
	return 2000
}

// benchParse parses every feed of the farm with parse on every core. The
// documents are generated in batches with the timer stopped.
func benchParse(b *testing.B, farm *fetchtest.Farm, parse func([]byte) error) {
	const batch = 100
	workers := runtime.GOMAXPROCS(0)
	m := fetchtest.StartPhase(b)
	for range b.N {
		for start := 0; start < farm.Feeds; start += batch {
			m.Pause()
			var bodies [][]byte
			for i := start; i < min(start+batch, farm.Feeds); i++ {
				bodies = append(bodies, farm.Body(i))
			}
			m.Resume()
			var wg sync.WaitGroup
			next := make(chan []byte)
			for range workers {
				wg.Go(func() {
					for body := range next {
						if err := parse(body); err != nil {
							b.Error(err)
						}
					}
				})
			}
			for _, body := range bodies {
				next <- body
			}
			close(next)
			wg.Wait()
		}
	}
	m.End(farm.Feeds)
}

func benchPoller(b *testing.B, farm *fetchtest.Farm, st *keyStore) *poll.Poller {
	client := fetch.New(fetch.Options{AllowPrivate: true, Resolver: farm.Resolver()})
	b.Cleanup(client.Close)
	return poll.New(poll.Config{Fetcher: client, Store: st, Concurrency: 16, PerHost: 2})
}

// keyStore is a poll.Store that keeps feeds and 64-bit hashes of article
// identities only: a database keeps articles on disk, not on the Go heap,
// and a map of 100,000 strings would make every garbage collection of the
// benchmark scan it.
type keyStore struct {
	mu    sync.Mutex
	feeds []*digest.Feed
	keys  map[uint64]int64
	seed  maphash.Seed
	links int
}

func newKeyStore(farm *fetchtest.Farm) *keyStore {
	s := &keyStore{keys: make(map[uint64]int64, farm.Feeds*farm.Items), seed: maphash.MakeSeed()}
	for i := range farm.Feeds {
		s.feeds = append(s.feeds, &digest.Feed{ID: int64(i + 1), URL: farm.URL(i)})
	}
	return s
}

func (s *keyStore) list() []*digest.Feed {
	feeds, _ := s.ListFeeds(context.Background(), digest.FeedFilter{})
	return feeds
}

func (s *keyStore) ListFeeds(ctx context.Context, filter digest.FeedFilter) ([]*digest.Feed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*digest.Feed, 0, len(s.feeds))
	for _, f := range s.feeds {
		c := *f
		out = append(out, &c)
	}
	return out, nil
}

func (s *keyStore) FindFeedByID(ctx context.Context, id int64) (*digest.Feed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < 1 || int(id) > len(s.feeds) {
		return nil, digest.Errorf(digest.ENOTFOUND, "feed %d not found", id)
	}
	c := *s.feeds[id-1]
	return &c, nil
}

func (s *keyStore) UpdateFeed(ctx context.Context, f *digest.Feed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *f
	s.feeds[f.ID-1] = &c
	return nil
}

func (s *keyStore) SaveArticles(ctx context.Context, feedID int64, arts []*digest.Article) ([]*digest.Article, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var inserted []*digest.Article
	for _, a := range arts {
		s.links++
		h := maphash.String(s.seed, a.Key)
		if _, ok := s.keys[h]; ok {
			continue
		}
		a.ID = int64(len(s.keys) + 1)
		s.keys[h] = a.ID
		inserted = append(inserted, a)
	}
	return inserted, nil
}
