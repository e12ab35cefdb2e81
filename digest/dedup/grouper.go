package dedup

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// Store is what a Grouper needs of Herald's store; digest.ArticleStore and
// digest.StoryStore together provide it. Errors are returned as the store
// returns them.
type Store interface {
	// ListArticles returns the articles matching the filter, ordered by
	// ID.
	ListArticles(ctx context.Context, filter digest.ArticleFilter) ([]*digest.Article, error)

	// AssignStories puts each article into its story, creating stories
	// that do not exist yet.
	AssignStories(ctx context.Context, assignments []digest.StoryAssignment, at time.Time) error

	// MergeStories moves every member of m.From into m.Into and records
	// the merge.
	MergeStories(ctx context.Context, m digest.StoryMerge) error
}

// Grouper keeps a Clusterer in step with the store: Load rebuilds the time
// window from persisted story membership (after a restart), Group clusters
// newly stored articles and persists their stories and any merges. It is
// safe for concurrent use.
type Grouper struct {
	store Store
	opts  Options

	mu    sync.Mutex
	c     *Clusterer
	stale bool // the clusterer may disagree with the store; reload first
}

// loadPage is the number of articles Load reads per query.
const loadPage = 1000

// NewGrouper returns a Grouper over store. It holds nothing until Load or
// the first Group.
func NewGrouper(store Store, opts Options) *Grouper {
	opts = opts.withDefaults()
	return &Grouper{store: store, opts: opts, stale: true}
}

// Clusterer returns the Grouper's clusterer, for Explain. Callers must not
// add articles to it.
func (g *Grouper) Clusterer() *Clusterer {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.c
}

// Load rebuilds the window ending at now from the store: articles first
// seen within the window that already belong to a story are restored into
// it, and articles without a story are clustered and their stories
// persisted.
func (g *Grouper) Load(ctx context.Context, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.load(ctx, now)
}

func (g *Grouper) load(ctx context.Context, now time.Time) error {
	g.c = New(g.opts)
	g.stale = true
	var all []*digest.Article
	filter := digest.ArticleFilter{Since: now.Add(-g.opts.Window), Limit: loadPage}
	for {
		page, err := g.store.ListArticles(ctx, filter)
		if err != nil {
			return fmt.Errorf("load story window since %s: %w", filter.Since.Format(time.RFC3339), err)
		}
		all = append(all, page...)
		if len(page) < loadPage {
			break
		}
		filter.AfterID = page[len(page)-1].ID
	}
	sortArticles(all)
	var unassigned []*digest.Article
	for _, a := range all {
		if a.StoryID == 0 {
			unassigned = append(unassigned, a)
			continue
		}
		g.c.Restore(docOf(a), a.StoryID)
	}
	g.stale = false
	if len(unassigned) > 0 {
		return g.group(ctx, unassigned)
	}
	return nil
}

// Group clusters newly stored articles (with their IDs set), persists
// their stories and the merges they cause, and sets each article's
// StoryID. If an earlier call failed half-way, it first reloads the window
// from the store, so that memory and store agree again.
func (g *Grouper) Group(ctx context.Context, articles []*digest.Article) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stale {
		if err := g.load(ctx, g.opts.Now()); err != nil {
			return err
		}
	}
	return g.group(ctx, articles)
}

func (g *Grouper) group(ctx context.Context, articles []*digest.Article) error {
	if len(articles) == 0 {
		return nil
	}
	batch := slices.Clone(articles)
	sortArticles(batch)
	docs := make([]Doc, len(batch))
	inBatch := make(map[int64]bool, len(batch))
	for i, a := range batch {
		docs[i] = docOf(a)
		inBatch[a.ID] = true
	}
	results := g.c.AddBatch(docs)

	// The clusterer now differs from the store until the writes succeed.
	g.stale = true
	into := map[int64]int64{}
	for _, r := range results {
		for _, m := range r.Merged {
			into[m.From] = m.Into
		}
	}
	final := func(id int64) int64 {
		for {
			next, ok := into[id]
			if !ok {
				return id
			}
			id = next
		}
	}
	// Assign first: it creates the stories founded in this batch, which a
	// merge may move older stories into.
	assignments := make([]digest.StoryAssignment, len(batch))
	for i, a := range batch {
		assignments[i] = digest.StoryAssignment{ArticleID: a.ID, StoryID: results[i].Story}
	}
	if err := g.store.AssignStories(ctx, assignments, g.opts.Now()); err != nil {
		return fmt.Errorf("assign %d articles to stories: %w", len(assignments), err)
	}
	// Stories founded in this batch never reached the store: their
	// articles were assigned to the final story directly. Stories in the
	// store are merged there, into the story that survives.
	for _, r := range results {
		for _, m := range r.Merged {
			if inBatch[m.From] {
				continue
			}
			m.Into = final(m.Into)
			if err := g.store.MergeStories(ctx, m); err != nil {
				return fmt.Errorf("merge story %d into %d: %w", m.From, m.Into, err)
			}
		}
	}
	for i, a := range batch {
		a.StoryID = results[i].Story
	}
	g.stale = false
	return nil
}

// sortArticles orders articles as the clusterer takes them: by time, then
// ID.
func sortArticles(as []*digest.Article) {
	slices.SortStableFunc(as, func(a, b *digest.Article) int {
		if c := articleTime(a).Compare(articleTime(b)); c != 0 {
			return c
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
}

func articleTime(a *digest.Article) time.Time {
	if a.Published.IsZero() {
		return a.FirstSeen
	}
	return a.Published
}

// docOf is the clusterer's view of an article.
func docOf(a *digest.Article) Doc {
	return Doc{
		ID: a.ID, Key: a.Key, URL: a.URL, Source: a.Source, Language: a.Language,
		Title: a.Title, Summary: a.Summary, Text: a.Content,
		Time: articleTime(a),
	}
}
