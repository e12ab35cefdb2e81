package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// testUnassigned follows the clusterer's question, "which articles of the
// window have no story yet?" (ListArticles with Unassigned, Since and
// Limit, paged by AfterID), through what changes the answer: new articles,
// an article saved again by another feed, assignments, reassignments and
// merges. A store may answer it from bookkeeping of its own (PostgreSQL
// keeps a table of unassigned articles), which must follow every one.
func testUnassigned(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	f1 := mustFeed(t, s, "https://un1.example/feed")
	f2 := mustFeed(t, s, "https://un2.example/feed")

	// Twelve articles, one a minute; the first four are old.
	var arts []*digest.Article
	for i := range 12 {
		arts = append(arts, article(fmt.Sprintf("un-%d", i), fmt.Sprintf("Article %d", i), base.Add(time.Duration(i)*time.Minute)))
	}
	_, err := s.SaveArticles(ctx, f1.ID, arts)
	must(t, err)
	id := func(i int) int64 { return arts[i].ID }
	since := base.Add(4 * time.Minute)

	// want checks the unassigned articles of the window, read in pages of
	// three as the clusterer reads them, against the article indexes.
	want := func(t *testing.T, what string, indexes ...int) {
		t.Helper()
		var got []int64
		var after int64
		for {
			page, err := s.ListArticles(ctx, digest.ArticleFilter{Unassigned: true, Since: since, AfterID: after, Limit: 3})
			must(t, err)
			for _, a := range page {
				got = append(got, a.ID)
				if a.StoryID != 0 {
					t.Errorf("%s: unassigned article %d has story %d", what, a.ID, a.StoryID)
				}
			}
			if len(page) < 3 {
				break
			}
			after = page[len(page)-1].ID
		}
		var ids []int64
		for _, i := range indexes {
			ids = append(ids, id(i))
		}
		if !slices.Equal(got, ids) {
			t.Errorf("%s: unassigned since minute 4 = %v, want %v", what, got, ids)
		}
	}
	want(t, "new articles", 4, 5, 6, 7, 8, 9, 10, 11)

	all, err := s.ListArticles(ctx, digest.ArticleFilter{Unassigned: true})
	must(t, err)
	if len(all) != 12 {
		t.Errorf("unassigned without Since = %v, want all 12", articleIDs(all))
	}

	must(t, s.AssignStories(ctx, []digest.StoryAssignment{
		assign(id(4), id(4)), assign(id(6), id(4)), assign(id(9), id(9)), assign(id(1), id(1)),
	}, base.Add(time.Hour)))
	want(t, "after assigning 4, 6 and 9", 5, 7, 8, 10, 11)

	// Another feed carries articles 5 and 8 again and a new one: the
	// seen ones keep their state, the new one is unassigned.
	extra := article("un-12", "Article 12", base.Add(12*time.Minute))
	again := []*digest.Article{article("un-5", "Article 5", base), article("un-8", "Article 8", base), extra}
	_, err = s.SaveArticles(ctx, f2.ID, again)
	must(t, err)
	arts = append(arts, extra)
	want(t, "after another feed carried 5 and 8", 5, 7, 8, 10, 11, 12)

	// A reassignment keeps an article assigned.
	must(t, s.AssignStories(ctx, []digest.StoryAssignment{assign(id(6), id(9)), assign(id(5), id(5))}, base.Add(2*time.Hour)))
	want(t, "after reassigning 6 and assigning 5", 7, 8, 10, 11, 12)

	// So does a merge.
	must(t, s.MergeStories(ctx, digest.StoryMerge{From: id(4), Into: id(9), ArticleID: id(4), At: base.Add(3 * time.Hour)}))
	want(t, "after merging 4 into 9", 7, 8, 10, 11, 12)
	for _, i := range []int{4, 6, 9} {
		got, err := s.FindArticleByID(ctx, id(i))
		must(t, err)
		if got.StoryID != id(9) {
			t.Errorf("article %d: story %d after the merge, want %d", i, got.StoryID, id(9))
		}
	}

	// Other filters combine with it.
	in2, err := s.ListArticles(ctx, digest.ArticleFilter{Unassigned: true, Since: since, FeedID: f2.ID})
	must(t, err)
	if !slices.Equal(articleIDs(in2), []int64{id(8), id(12)}) {
		t.Errorf("unassigned in feed 2 = %v, want [%d %d]", articleIDs(in2), id(8), id(12))
	}
	until, err := s.ListArticles(ctx, digest.ArticleFilter{Unassigned: true, Since: since, Until: base.Add(10 * time.Minute)})
	must(t, err)
	if !slices.Equal(articleIDs(until), []int64{id(7), id(8)}) {
		t.Errorf("unassigned from minute 4 to 10 = %v, want [%d %d]", articleIDs(until), id(7), id(8))
	}

	// Once every article has a story, none is unassigned.
	var rest []digest.StoryAssignment
	for _, a := range arts {
		rest = append(rest, assign(a.ID, id(9)))
	}
	must(t, s.AssignStories(ctx, rest, base.Add(4*time.Hour)))
	want(t, "after assigning every article")
	all, err = s.ListArticles(ctx, digest.ArticleFilter{Unassigned: true})
	must(t, err)
	if len(all) != 0 {
		t.Errorf("unassigned without Since = %v, want none", articleIDs(all))
	}
}
