package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestArticlesList(t *testing.T) {
	srv := newFeedServer(t)
	env := testEnv(t)
	a := srv.set("/a.xml", "Alpha", "1", "2")
	b := srv.set("/b.xml", "Beta", "2", "3")
	mustRun(t, env, "feeds", "add", a)
	mustRun(t, env, "feeds", "add", b)

	t.Run("JSON Lines", func(t *testing.T) {
		r := mustRun(t, env, "articles", "list", "--json")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 3 {
			t.Fatalf("%d lines, want 3 articles (the shared one once):\n%s", len(lines), r.stdout)
		}
		var first map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
			t.Fatalf("line 1 is not JSON: %v", err)
		}
		for _, key := range []string{"id", "feed_url", "url", "title", "published", "story"} {
			if _, ok := first[key]; !ok {
				t.Errorf("article JSON lacks %q: %s", key, lines[0])
			}
		}
		var art articleJSON
		json.Unmarshal([]byte(lines[0]), &art)
		if art.FeedURL != a || art.URL != "https://news.example/1" || art.Title != "Story 1" || art.Story == nil || *art.Story != art.ID || art.Source != "Alpha" ||
			!art.Published.Equal(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("article = %+v", art)
		}
	})
	t.Run("by feed", func(t *testing.T) {
		r := mustRun(t, env, "articles", "list", "--json", "--feed", b)
		if n := strings.Count(r.stdout, "\n"); n != 2 || !strings.Contains(r.stdout, "Story 2") || !strings.Contains(r.stdout, "Story 3") {
			t.Errorf("feed b has articles 2 and 3, got %d:\n%s", n, r.stdout)
		}
		r = mustRun(t, env, "articles", "list", "--json", "--feed", "1")
		if n := strings.Count(r.stdout, "\n"); n != 2 {
			t.Errorf("feed 1 by ID: %d articles", n)
		}
		if r := herald(t, env, "articles", "list", "--feed", "https://nowhere.example/feed"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
			t.Errorf("unknown feed: %d %q", r.code, r.stderr)
		}
	})
	t.Run("text table", func(t *testing.T) {
		r := mustRun(t, env, "articles", "list", "--limit", "2")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[2], "Story 3") || !strings.Contains(lines[2], "https://news.example/3") {
			t.Errorf("table:\n%s", r.stdout)
		}
	})
	t.Run("since", func(t *testing.T) {
		// Everything was first seen just now.
		r := mustRun(t, env, "articles", "list", "--since", "1m", "--json")
		if n := strings.Count(r.stdout, "\n"); n != 3 {
			t.Errorf("--since 1m: %d articles", n)
		}
		if r := herald(t, env, "articles", "list", "--since", "yesterday"); r.code != 2 || !strings.Contains(r.stderr, "not a duration") {
			t.Errorf("bad --since: %d %q", r.code, r.stderr)
		}
	})
}

func TestSinceFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"24h", 24 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"7d", 7 * 24 * time.Hour, true},
		{"1.5d", 36 * time.Hour, true},
		{"0", 0, true},
		{"-1h", 0, false},
		{"d", 0, false},
		{"soon", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var s sinceFlag
			err := s.Set(tc.in)
			if (err == nil) != tc.ok || (tc.ok && time.Duration(s) != tc.want) {
				t.Errorf("Set(%q) = %s, %v; want %s ok=%v", tc.in, time.Duration(s), err, tc.want, tc.ok)
			}
		})
	}
}
