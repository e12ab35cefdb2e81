package dedup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// memStore is an in-memory Store with the contract of digest.ArticleStore
// and digest.StoryStore for the methods a Grouper uses.
type memStore struct {
	mu       sync.Mutex
	articles map[int64]*digest.Article
	stories  map[int64]bool
	merges   []digest.StoryMerge
	fail     error // returned once by the next write
	lists    int   // ListArticles calls
}

func newMemStore() *memStore {
	return &memStore{articles: map[int64]*digest.Article{}, stories: map[int64]bool{}}
}

func (s *memStore) put(as ...*digest.Article) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range as {
		cp := *a
		s.articles[a.ID] = &cp
		if a.StoryID != 0 {
			s.stories[a.StoryID] = true
		}
	}
}

func (s *memStore) ListArticles(ctx context.Context, f digest.ArticleFilter) ([]*digest.Article, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	var ids []int64
	for id := range s.articles {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []*digest.Article
	for _, id := range ids {
		a := s.articles[id]
		switch {
		case id <= f.AfterID:
		case !f.Since.IsZero() && a.FirstSeen.Before(f.Since):
		case f.Unassigned && a.StoryID != 0:
		default:
			cp := *a
			out = append(out, &cp)
		}
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

func (s *memStore) AssignStories(ctx context.Context, as []digest.StoryAssignment, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail; err != nil {
		s.fail = nil
		return err
	}
	for _, a := range as {
		if s.articles[a.ArticleID] == nil {
			return digest.Errorf(digest.ENOTFOUND, "article %d not found", a.ArticleID)
		}
	}
	for _, a := range as {
		s.articles[a.ArticleID].StoryID = a.StoryID
		s.stories[a.StoryID] = true
	}
	return nil
}

func (s *memStore) MergeStories(ctx context.Context, m digest.StoryMerge) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail; err != nil {
		s.fail = nil
		return err
	}
	if m.From == m.Into {
		return digest.Errorf(digest.EINVALID, "merge story %d into itself", m.From)
	}
	if !s.stories[m.From] || !s.stories[m.Into] {
		return digest.Errorf(digest.ENOTFOUND, "story %d or %d not found", m.From, m.Into)
	}
	for _, a := range s.articles {
		if a.StoryID == m.From {
			a.StoryID = m.Into
		}
	}
	delete(s.stories, m.From)
	s.merges = append(s.merges, m)
	return nil
}

// storyOf returns the persisted story of an article.
func (s *memStore) storyOf(id int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.articles[id].StoryID
}

// fixtureArticles returns the fixture articles as stored articles, with IDs
// in time order as a store assigns them, keyed by fixture id.
func fixtureArticles(tb testing.TB) (map[string]*digest.Article, []*digest.Article) {
	tb.Helper()
	docs, _, ls := fixtureDocs(tb)
	byName := map[string]*digest.Article{}
	var all []*digest.Article
	for rank, i := range timeOrder(docs) {
		d := docs[i]
		a := &digest.Article{
			ID: int64(rank + 1), Key: ls[i].ID, URL: d.URL, Title: d.Title, Content: d.Text,
			Source: d.Source, Published: d.Time, FirstSeen: d.Time.Add(5 * time.Minute),
		}
		byName[ls[i].ID] = a
		all = append(all, a)
	}
	return byName, all
}

func testGrouper(st Store, now time.Time) *Grouper {
	opts := DefaultOptions()
	opts.Now = fixedClock(now)
	return NewGrouper(st, opts)
}

func TestGrouperPersistsAndRestores(t *testing.T) {
	ctx := context.Background()
	f, _ := fixtureArticles(t)
	st := newMemStore()
	first := []*digest.Article{f["quillon-profit-1"], f["quillon-recall-1"], f["quillon-recall-2"]}
	st.put(first...)
	now := f["quillon-recall-2"].FirstSeen
	g := testGrouper(st, now)
	if err := g.Group(ctx, first); err != nil {
		t.Fatal(err)
	}
	recall := f["quillon-recall-1"].ID
	if f["quillon-recall-1"].StoryID != recall || f["quillon-recall-2"].StoryID != recall {
		t.Errorf("recall reports in stories %d and %d, want %d", f["quillon-recall-1"].StoryID, f["quillon-recall-2"].StoryID, recall)
	}
	for _, a := range first {
		if got := st.storyOf(a.ID); got != a.StoryID {
			t.Errorf("article %d: stored story %d, set %d", a.ID, got, a.StoryID)
		}
	}

	// A restart: a new Grouper rebuilds the window from the store, and a
	// third report joins the persisted story.
	third := f["quillon-recall-3"]
	st.put(third)
	g2 := testGrouper(st, third.FirstSeen)
	if err := g2.Load(ctx, third.FirstSeen); err != nil {
		t.Fatal(err)
	}
	if err := g2.Group(ctx, []*digest.Article{third}); err != nil {
		t.Fatal(err)
	}
	if third.StoryID != recall || st.storyOf(third.ID) != recall {
		t.Errorf("after restart the third report is in story %d (stored %d), want %d", third.StoryID, st.storyOf(third.ID), recall)
	}
	if got := st.storyOf(f["quillon-profit-1"].ID); got == recall {
		t.Errorf("the profit report joined the recall story")
	}
	if c := g2.Clusterer(); c == nil || c.Len() != 4 {
		t.Errorf("window after restart holds %v articles, want 4", c)
	}
}

// Load clusters articles that were stored but never assigned (a crash
// between saving and grouping).
func TestGrouperLoadClustersUnassigned(t *testing.T) {
	ctx := context.Background()
	f, _ := fixtureArticles(t)
	st := newMemStore()
	assigned := *f["rydell-1"]
	assigned.StoryID = assigned.ID
	st.put(&assigned, f["rydell-2"])
	g := testGrouper(st, f["rydell-2"].FirstSeen)
	if err := g.Load(ctx, f["rydell-2"].FirstSeen); err != nil {
		t.Fatal(err)
	}
	if got := st.storyOf(f["rydell-2"].ID); got != assigned.ID {
		t.Errorf("unassigned report stored in story %d, want %d", got, assigned.ID)
	}
}

// TestGrouperMerges: a bridging article merges two persisted stories in
// the store, the younger into the older.
func TestGrouperMerges(t *testing.T) {
	ctx := context.Background()
	t0 := clock.Add(-10 * time.Hour)
	a := []string{"zorvath", "quellbridge", "ammoniac", "brisket", "calloway", "dunmere"}
	b := []string{"yelverton", "pashmina", "ostrander", "kilnworth", "harrowgate", "ellsmere"}
	article := func(d Doc) *digest.Article {
		return &digest.Article{ID: d.ID, Key: fmt.Sprint(d.ID), Title: d.Title, Content: d.Text, Language: "en", Published: d.Time, FirstSeen: d.Time}
	}
	arts := []*digest.Article{
		article(vocabDoc(1, t0, a...)), article(vocabDoc(2, t0.Add(time.Minute), a[:5]...)),
		article(vocabDoc(3, t0.Add(2*time.Minute), b...)), article(vocabDoc(4, t0.Add(3*time.Minute), b[:5]...)),
		article(vocabDoc(5, t0.Add(4*time.Minute), append(slices.Clone(a), b...)...)),
	}
	st := newMemStore()
	g := testGrouper(st, clock)
	for _, batch := range [][]*digest.Article{arts[:2], arts[2:4], arts[4:]} {
		st.put(batch...) // saved by the poller, then grouped
		if err := g.Group(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if len(st.merges) != 1 || st.merges[0].From != 3 || st.merges[0].Into != 1 || st.merges[0].ArticleID != 5 {
		t.Fatalf("stored merges %+v, want 3 into 1 by article 5", st.merges)
	}
	for id := int64(1); id <= 5; id++ {
		if got := st.storyOf(id); got != 1 {
			t.Errorf("article %d stored in story %d, want 1", id, got)
		}
	}
}

// TestGrouperRecovers: a failed write leaves memory ahead of the store; the
// next Group reloads the window first, so both agree again.
func TestGrouperRecovers(t *testing.T) {
	ctx := context.Background()
	f, _ := fixtureArticles(t)
	st := newMemStore()
	one, two := f["de-zug-1"], f["de-zug-2"]
	st.put(one, two)
	g := testGrouper(st, two.FirstSeen)
	if err := g.Load(ctx, two.FirstSeen); err != nil { // clusters both
		t.Fatal(err)
	}
	three := f["ru-pozhar-1"]
	three.FirstSeen, three.Published = two.FirstSeen, two.Published
	st.put(three)
	boom := errors.New("disk full")
	st.fail = boom
	if err := g.Group(ctx, []*digest.Article{three}); !errors.Is(err, boom) {
		t.Fatalf("Group with a failing store: %v, want it to wrap %v", err, boom)
	}
	lists := st.lists
	if err := g.Group(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if st.lists == lists {
		t.Error("Group after a failure did not reload the window")
	}
	if got := st.storyOf(three.ID); got != three.ID {
		t.Errorf("after recovery the article is stored in story %d, want its own %d", got, three.ID)
	}
}

func TestGrouperConcurrent(t *testing.T) {
	ctx := context.Background()
	_, all := fixtureArticles(t)
	st := newMemStore()
	st.put(all...)
	g := testGrouper(st, clock)
	var wg sync.WaitGroup
	errs := make(chan error, len(all))
	for _, a := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- g.Group(ctx, []*digest.Article{a})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range all {
		if st.storyOf(a.ID) == 0 {
			t.Errorf("article %d has no story", a.ID)
		}
	}
}

// TestGrouperBackfill: articles stored long before they are grouped (after
// downtime) arrive older than the window the store already holds. A new
// story then absorbs a persisted one and is itself absorbed by an older
// persisted story; the merge recorded must name the story that survives.
func TestGrouperBackfill(t *testing.T) {
	ctx := context.Background()
	t0 := clock.Add(-10 * time.Hour)
	a := []string{"zorvath", "quellbridge", "ammoniac", "brisket", "calloway", "dunmere"}
	b := []string{"yelverton", "pashmina", "ostrander", "kilnworth", "harrowgate", "ellsmere"}
	article := func(d Doc) *digest.Article {
		return &digest.Article{ID: d.ID, Key: fmt.Sprint(d.ID), Title: d.Title, Content: d.Text, Language: "en", Published: d.Time, FirstSeen: d.Time}
	}
	older := article(vocabDoc(1, t0, a...))                                               // story 1, persisted
	newer := article(vocabDoc(10, t0.Add(2*time.Hour), b...))                             // story 10, persisted
	late := article(vocabDoc(5, t0.Add(time.Hour), append(slices.Clone(b), a[:4]...)...)) // grouped last
	st := newMemStore()
	st.put(older, newer)
	g := testGrouper(st, clock)
	if err := g.Load(ctx, clock); err != nil {
		t.Fatal(err)
	}
	st.put(late)
	if err := g.Group(ctx, []*digest.Article{late}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{1, 5, 10} {
		if got := st.storyOf(id); got != 1 {
			t.Errorf("article %d stored in story %d, want 1", id, got)
		}
	}
	if len(st.merges) != 1 || st.merges[0] != (digest.StoryMerge{From: 10, Into: 1, ArticleID: 5, At: clock}) {
		t.Errorf("stored merges %+v, want story 10 into 1 by article 5", st.merges)
	}
}
