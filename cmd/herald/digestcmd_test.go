package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

// seedStore writes two feeds and a story reported by both into a new
// database, and returns its path.
func seedStore(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(tb.TempDir(), "h.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	now := time.Now().Add(-time.Hour)
	var ids []int64
	for i, src := range []string{"Wire <One>", "Daily & Co"} {
		f := &digest.Feed{URL: "https://f" + string(rune('a'+i)) + ".example/rss", Title: src}
		if err := db.CreateFeed(ctx, f); err != nil {
			tb.Fatal(err)
		}
		a := &digest.Article{Key: "k" + src, URL: "https://f.example/" + string(rune('a'+i)), Source: src,
			Title: "Storm Elin cuts power to 80,000 homes", Summary: "Storm Elin brought strong winds to the northern coast overnight. Crews are repairing lines.",
			Published: now.Add(time.Duration(i) * time.Minute), FirstSeen: now}
		if _, err := db.SaveArticles(ctx, f.ID, []*digest.Article{a}); err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	err = db.AssignStories(ctx, []digest.StoryAssignment{{ArticleID: ids[0], StoryID: ids[0]}, {ArticleID: ids[1], StoryID: ids[0]}}, now)
	if err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestDigestCommand(t *testing.T) {
	env := map[string]string{"HERALD_DATABASE": seedStore(t)}
	r := herald(t, env, "digest", "--format", "json", "--since", "24h")
	if r.code != 0 {
		t.Fatalf("digest: %d %s", r.code, r.stderr)
	}
	var d struct {
		Stories []struct {
			Headline   string  `json:"headline"`
			ArticleIDs []int64 `json:"article_ids"`
			Sources    []struct {
				Name, URL string
			} `json:"sources"`
		} `json:"stories"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("digest --format json: %v\n%s", err, r.stdout)
	}
	if len(d.Stories) != 1 || len(d.Stories[0].Sources) != 2 || len(d.Stories[0].ArticleIDs) != 2 {
		t.Fatalf("digest = %+v, want one story with two sources", d)
	}

	r = herald(t, env, "digest")
	if r.code != 0 || !strings.Contains(r.stdout, "Storm Elin cuts power") || !strings.Contains(r.stdout, "Daily & Co") {
		t.Errorf("text digest: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = herald(t, env, "digest", "--format", "telegram")
	if r.code != 0 || !strings.Contains(r.stdout, "Wire &lt;One&gt;") {
		t.Errorf("telegram digest does not escape: %s", r.stdout)
	}
	r = herald(t, env, "digest", "--format", "discord")
	var msg map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(r.stdout, "\n", 2)[0]), &msg); err != nil {
		t.Errorf("discord digest line is not JSON: %v\n%s", err, r.stdout)
	}

	for _, bad := range [][]string{{"--format", "pdf"}, {"--since", "-1h"}, {"--tz", "Mars/Base"}, {"--limit", "-2"}} {
		r := herald(t, env, append([]string{"digest"}, bad...)...)
		if r.code != 2 {
			t.Errorf("digest %v: exit %d, want 2 (stderr %q)", bad, r.code, r.stderr)
		}
	}
	r = herald(t, env, "digest", "--since", "1s")
	if r.code != 0 || strings.Contains(r.stdout, "Storm Elin") {
		t.Errorf("a 1s window still shows the hour-old story: %s", r.stdout)
	}
}
