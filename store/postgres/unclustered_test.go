package postgres

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// rewindUnclustered takes a database back to schema version 2, before
// migration 0003 added unclustered_articles and its triggers.
func rewindUnclustered(tb testing.TB, db *DB) {
	tb.Helper()
	ctx := context.Background()
	for _, stmt := range []string{
		`DROP TABLE unclustered_articles`,
		`DROP FUNCTION herald_articles_added, herald_articles_clustered, herald_articles_unclustered CASCADE`,
		`DELETE FROM schema_migrations WHERE version >= 3`,
	} {
		if _, err := db.pool.Exec(ctx, stmt); err != nil {
			tb.Fatalf("%s: %v", stmt, err)
		}
	}
}

// TestUnclusteredMigration upgrades a database whose articles were saved
// and clustered before migration 0003: it must list as unassigned exactly
// the articles without a story, and keep doing so as the clusterer goes on.
func TestUnclusteredMigration(t *testing.T) {
	ctx := context.Background()
	u := freshSchema(t)
	db := openURL(t, u)
	f := &digest.Feed{URL: "https://old.example/feed"}
	if err := db.CreateFeed(ctx, f); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 22, 9, 0, 0, 0, time.UTC)
	var arts []*digest.Article
	for i := range 6 {
		key := fmt.Sprintf("old-%d", i)
		arts = append(arts, &digest.Article{Key: key, URL: "https://old.example/" + key, Title: key,
			FirstSeen: base.Add(time.Duration(i) * time.Minute)})
	}
	if _, err := db.SaveArticles(ctx, f.ID, arts); err != nil {
		t.Fatal(err)
	}
	if err := db.AssignStories(ctx, []digest.StoryAssignment{
		{ArticleID: arts[0].ID, StoryID: arts[0].ID}, {ArticleID: arts[3].ID, StoryID: arts[0].ID},
	}, base); err != nil {
		t.Fatal(err)
	}
	rewindUnclustered(t, db)
	// Written at version 2: no trigger sees these.
	if err := db.AssignStories(ctx, []digest.StoryAssignment{{ArticleID: arts[4].ID, StoryID: arts[4].ID}}, base); err != nil {
		t.Fatal(err)
	}
	late := &digest.Article{Key: "old-6", URL: "https://old.example/old-6", Title: "old-6", FirstSeen: base.Add(6 * time.Minute)}
	if _, err := db.SaveArticles(ctx, f.ID, []*digest.Article{late}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openURL(t, u)
	if v, err := db.Version(ctx); err != nil || v != SchemaVersion() {
		t.Fatalf("version after reopening = %d, %v; want %d", v, err, SchemaVersion())
	}
	unassigned := func(since time.Time) []int64 {
		t.Helper()
		got, err := db.ListArticles(ctx, digest.ArticleFilter{Unassigned: true, Since: since})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, a := range got {
			ids = append(ids, a.ID)
		}
		return ids
	}
	if got, want := unassigned(time.Time{}), []int64{arts[1].ID, arts[2].ID, arts[5].ID, late.ID}; !slices.Equal(got, want) {
		t.Errorf("unassigned after the upgrade = %v, want %v", got, want)
	}
	if got, want := unassigned(base.Add(2*time.Minute)), []int64{arts[2].ID, arts[5].ID, late.ID}; !slices.Equal(got, want) {
		t.Errorf("unassigned since minute 2 after the upgrade = %v, want %v", got, want)
	}
	if err := db.AssignStories(ctx, []digest.StoryAssignment{{ArticleID: arts[2].ID, StoryID: arts[0].ID}}, base); err != nil {
		t.Fatal(err)
	}
	if got, want := unassigned(base.Add(2*time.Minute)), []int64{arts[5].ID, late.ID}; !slices.Equal(got, want) {
		t.Errorf("unassigned since minute 2 after assigning one more = %v, want %v", got, want)
	}
}

// TestUnclusteredFollowsUnassignment covers the trigger Herald's own code
// does not reach today: an article whose story row goes away, while the
// article stays, is unassigned again; a deleted article leaves nothing.
func TestUnclusteredFollowsUnassignment(t *testing.T) {
	ctx := context.Background()
	db := openURL(t, freshSchema(t))
	f := &digest.Feed{URL: "https://un.example/feed"}
	if err := db.CreateFeed(ctx, f); err != nil {
		t.Fatal(err)
	}
	arts := []*digest.Article{{Key: "a", Title: "a"}, {Key: "b", Title: "b"}}
	if _, err := db.SaveArticles(ctx, f.ID, arts); err != nil {
		t.Fatal(err)
	}
	if err := db.AssignStories(ctx, []digest.StoryAssignment{
		{ArticleID: arts[0].ID, StoryID: arts[0].ID}, {ArticleID: arts[1].ID, StoryID: arts[0].ID},
	}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM article_stories WHERE article_id = $1`, arts[1].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM articles WHERE id = $1`, arts[0].ID); err != nil {
		t.Fatal(err)
	}
	rows, err := db.pool.Query(ctx, `SELECT article_id FROM unclustered_articles ORDER BY article_id`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []int64{arts[1].ID}) {
		t.Errorf("unclustered_articles = %v, want [%d]", ids, arts[1].ID)
	}
}
