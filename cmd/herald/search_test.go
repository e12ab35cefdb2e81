package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

// seedSearch writes a story reported by two outlets and an article of its
// own into a new database, and returns the database path and the story ID.
func seedSearch(tb testing.TB) (string, int64) {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(tb.TempDir(), "h.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	f := &digest.Feed{URL: "https://wire.example/rss", Title: "Wire"}
	if err := db.CreateFeed(ctx, f); err != nil {
		tb.Fatal(err)
	}
	now := time.Now().Add(-time.Hour).Truncate(time.Second)
	arts := []*digest.Article{
		{Key: "a", URL: "https://one.example/elin", Source: "One News", Title: "Storm Elin cuts power to homes",
			Summary: "Storm Elin brought strong winds to the coast overnight.", Published: now, FirstSeen: now},
		{Key: "b", URL: "https://two.example/elin", Source: "Two Post", Title: "Power cut after Storm Elin",
			Summary: "Thousands lost power as the storm reached the coast.", Published: now.Add(-time.Minute), FirstSeen: now},
		{Key: "c", URL: "https://three.example/goals", Source: "Sport \x1b[31mDaily\u202e", Title: "Late goals\x07 in the derby",
			Summary: "A storm of late goals decided the match.", Published: now.Add(-48 * time.Hour), FirstSeen: now},
	}
	if _, err := db.SaveArticles(ctx, f.ID, arts); err != nil {
		tb.Fatal(err)
	}
	err = db.AssignStories(ctx, []digest.StoryAssignment{{ArticleID: arts[0].ID, StoryID: arts[0].ID}, {ArticleID: arts[1].ID, StoryID: arts[0].ID}}, now)
	if err != nil {
		tb.Fatal(err)
	}
	return path, arts[0].ID
}

func TestSearchCommandText(t *testing.T) {
	path, story := seedSearch(t)
	env := map[string]string{"HERALD_DATABASE": path}
	r := herald(t, env, "search", "elin", "coast")
	if r.code != 0 {
		t.Fatalf("search: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"1. Storm Elin cuts power to homes", "One News and 1 more source", fmt.Sprintf("story %d", story),
		"https://one.example/elin", "Storm [Elin] brought strong winds to the [coast] overnight."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "2.") || strings.Contains(r.stdout, "More:") {
		t.Errorf("one story printed as several, or a next page offered:\n%s", r.stdout)
	}

	r = herald(t, env, "search", "derby")
	if r.code != 0 || !strings.Contains(r.stdout, "Late goals in the derby") || !strings.Contains(r.stdout, "Sport [31mDaily") {
		t.Errorf("search derby: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.ContainsAny(r.stdout, "\x1b\x07\u202e") {
		t.Errorf("control characters from feed text reach the terminal: %q", r.stdout)
	}

	r = herald(t, env, "search", "volcano")
	if r.code != 0 || !strings.Contains(r.stdout, "No stories match volcano.") {
		t.Errorf("search volcano: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestSearchCommandJSONPaging(t *testing.T) {
	path, story := seedSearch(t)
	env := map[string]string{"HERALD_DATABASE": path}
	var pages []searchJSON
	args := []string{"search", "--json", "--limit", "1", "storm"}
	for i := 0; i < 5; i++ {
		r := herald(t, env, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		var p searchJSON
		if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
			t.Fatalf("%v: not JSON: %v\n%s", args, err, r.stdout)
		}
		pages = append(pages, p)
		if p.NextCursor == nil {
			break
		}
		args = []string{"search", "--json", "--limit", "1", "--cursor", *p.NextCursor, "storm"}
	}
	if len(pages) != 2 || len(pages[0].Hits) != 1 || len(pages[1].Hits) != 1 {
		t.Fatalf("storm by one: %d pages %+v, want two pages of one story", len(pages), pages)
	}
	h := pages[0].Hits[0]
	if h.StoryID != story || h.Sources != 2 || h.Title == "" || h.URL == "" || h.Source == "" || h.Published.IsZero() {
		t.Errorf("first hit = %+v, want the Elin story with 2 sources", h)
	}
	if strings.ContainsAny(h.Snippet, digest.SnippetMatchStart+digest.SnippetMatchEnd) || len(h.Matched) == 0 ||
		!strings.EqualFold(h.Matched[0], "storm") {
		t.Errorf("snippet %q, matched %q: want plain text and the matched word", h.Snippet, h.Matched)
	}
	if pages[1].Hits[0].StoryID == story || pages[0].Query != "storm" {
		t.Errorf("second page = %+v", pages[1])
	}

	// The raw JSON keeps its documented names.
	r := herald(t, env, "search", "--json", "nothing-like-this")
	var raw map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatal(err)
	}
	if hits, ok := raw["hits"].([]any); !ok || len(hits) != 0 || raw["next_cursor"] != nil {
		t.Errorf("empty result = %s, want \"hits\": [] and \"next_cursor\": null", r.stdout)
	}
}

func TestSearchCommandErrors(t *testing.T) {
	path, _ := seedSearch(t)
	env := map[string]string{"HERALD_DATABASE": path}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no query", []string{"search"}, 2, "search takes at least 1 argument(s)"},
		{"only excluded", []string{"search", "--", "-storm"}, 2, "only excluded words; add a word to search for"},
		{"everything after -- is the query", []string{"search", "--", "-storm", "-sport"}, 2, "only excluded words; add a word to search for"},
		{"minus read as a flag", []string{"search", "storm", "-sport"}, 2, "put the query after --"},
		{"bad filter", []string{"search", "storm since:soon"}, 2, `since:"soon" is not a time`},
		{"unknown feed", []string{"search", "storm feed:nowhere"}, 2, "no feed matches feed:nowhere"},
		{"bad cursor", []string{"search", "--cursor", "garbage", "storm"}, 2, "the page cursor is not valid"},
		{"limit too small", []string{"search", "--limit", "0", "storm"}, 2, "--limit must be from 1 to 100"},
		{"limit too large", []string{"search", "--limit", "1000", "storm"}, 2, "--limit must be from 1 to 100"},
		{"help", []string{"search", "--help"}, 0, `"exact phrases", -excluded words`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := herald(t, env, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.want) {
				t.Errorf("%v: exit %d, want %d saying %q\nstdout: %s\nstderr: %s", tc.args, r.code, tc.code, tc.want, r.stdout, r.stderr)
			}
		})
	}
	t.Run("query after --", func(t *testing.T) {
		r := herald(t, env, "search", "--json", "--", "storm", "-elin")
		var p searchJSON
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &p) != nil || len(p.Hits) != 1 || !strings.Contains(p.Hits[0].Title, "derby") {
			t.Errorf("search -- storm -elin: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}
