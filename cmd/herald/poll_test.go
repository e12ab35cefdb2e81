package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// feedServer serves test feeds whose items can change between requests.
type feedServer struct {
	*httptest.Server
	mu    sync.Mutex
	feeds map[string]string // path -> body
	types map[string]string // path -> Content-Type
	hits  map[string]int
}

func newFeedServer(tb testing.TB) *feedServer {
	tb.Helper()
	s := &feedServer{feeds: map[string]string{}, types: map[string]string{}, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.hits[r.URL.Path]++
		body, ok := s.feeds[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		etag := fmt.Sprintf(`"%x"`, len(body)*31+strings.Count(body, "<item>"))
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		if ct := s.types[r.URL.Path]; ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		if strings.HasPrefix(body, "STATUS ") {
			var code int
			fmt.Sscanf(body, "STATUS %d", &code)
			w.WriteHeader(code)
			return
		}
		fmt.Fprint(w, body)
	}))
	tb.Cleanup(s.Close)
	return s
}

// set serves an RSS feed with the given title and items (each "slug" is an
// item linked to https://news.example/<slug>).
func (s *feedServer) set(path, title string, slugs ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title><link>https://news.example/</link>`, title)
	for _, slug := range slugs {
		fmt.Fprintf(&b, `<item><title>Story %s</title><link>https://news.example/%s?utm_source=rss</link><guid>https://news.example/%s</guid><description>Text of %s.</description><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate></item>`, slug, slug, slug, slug)
	}
	b.WriteString(`</channel></rss>`)
	s.raw(path, "application/rss+xml", b.String())
	return s.URL + path
}

func (s *feedServer) raw(path, contentType, body string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.feeds[path] = body
	s.types[path] = contentType
	return s.URL + path
}

func (s *feedServer) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// testEnv is the environment of a herald run against a fresh database that
// may fetch from httptest servers on 127.0.0.1.
func testEnv(tb testing.TB) map[string]string {
	tb.Helper()
	return map[string]string{
		"HERALD_DATABASE":            filepath.Join(tb.TempDir(), "herald.db"),
		"HERALD_FETCH_ALLOW_PRIVATE": "1",
		"HERALD_LOG_LEVEL":           "error",
	}
}

func mustRun(tb testing.TB, env map[string]string, args ...string) result {
	tb.Helper()
	r := herald(tb, env, args...)
	if r.code != 0 {
		tb.Fatalf("herald %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func listFeeds(tb testing.TB, env map[string]string) []feedJSON {
	tb.Helper()
	var feeds []feedJSON
	r := mustRun(tb, env, "feeds", "list", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &feeds); err != nil {
		tb.Fatalf("feeds list --json: %v\n%s", err, r.stdout)
	}
	return feeds
}

func TestFeedsAddFetchesFirst(t *testing.T) {
	srv := newFeedServer(t)
	good := srv.set("/good.xml", "Good News", "a", "b", "c")
	srv.raw("/page.html", "text/html", `<html><head><link rel="alternate" type="application/rss+xml" href="/good.xml"></head></html>`)
	srv.raw("/two.html", "text/html", `<html><head><link rel="alternate" type="application/rss+xml" href="/a.xml"><link rel="alternate" type="application/atom+xml" href="/b.atom"></head></html>`)
	srv.raw("/down.xml", "", "STATUS 503")
	srv.raw("/broken.xml", "application/rss+xml", `<rss version="2.0"><channel><title>x</title><item><title>a</item>`)

	t.Run("a feed", func(t *testing.T) {
		env := testEnv(t)
		r := mustRun(t, env, "feeds", "add", good)
		if want := "added feed 1: Good News (" + good + ") with 3 item(s)"; !strings.Contains(r.stdout, want) {
			t.Errorf("stdout %q, want %q", r.stdout, want)
		}
		feeds := listFeeds(t, env)
		if len(feeds) != 1 || feeds[0].Title != "Good News" || feeds[0].Status != "ok" || feeds[0].Articles != 3 || feeds[0].NextCheckAt == nil {
			t.Errorf("feeds = %+v", feeds)
		}
		r = herald(t, env, "feeds", "add", good)
		if r.code != 1 || !strings.Contains(r.stderr, "already added") {
			t.Errorf("second add: %d %q", r.code, r.stderr)
		}
	})
	t.Run("a page that advertises one feed", func(t *testing.T) {
		env := testEnv(t)
		r := mustRun(t, env, "feeds", "add", srv.URL+"/page.html")
		if !strings.Contains(r.stdout, "is a web page; it advertises the feed "+good) || !strings.Contains(r.stdout, "added feed 1: Good News") {
			t.Errorf("stdout %q", r.stdout)
		}
		if feeds := listFeeds(t, env); len(feeds) != 1 || feeds[0].URL != good {
			t.Errorf("feeds = %+v", feeds)
		}
	})

	for _, tc := range []struct {
		name, url, want string
	}{
		{"not found", srv.URL + "/missing.xml", "HTTP 404 Not Found: the feed does not exist at this address"},
		{"a page with two feeds", srv.URL + "/two.html", "it advertises these feeds: " + srv.URL + "/a.xml, " + srv.URL + "/b.atom"},
		{"malformed", srv.URL + "/broken.xml", "malformed feed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testEnv(t)
			r := herald(t, env, "feeds", "add", tc.url)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, tc.url) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, tc.want)
			}
			if feeds := listFeeds(t, env); len(feeds) != 0 {
				t.Errorf("a feed that failed was saved: %+v", feeds)
			}
		})
	}

	t.Run("refused address", func(t *testing.T) {
		env := testEnv(t)
		delete(env, "HERALD_FETCH_ALLOW_PRIVATE")
		r := herald(t, env, "feeds", "add", good)
		if r.code != 1 || !strings.Contains(r.stderr, "refused to connect to 127.0.0.1: loopback address") || !strings.Contains(r.stderr, "HERALD_FETCH_ALLOW_PRIVATE=1") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("a server error adds the feed with a warning", func(t *testing.T) {
		env := testEnv(t)
		r := mustRun(t, env, "feeds", "add", srv.URL+"/down.xml")
		if !strings.Contains(r.stdout, "added feed 1") || !strings.Contains(r.stderr, "could not be fetched now") || !strings.Contains(r.stderr, "HTTP 503") {
			t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
		}
		if feeds := listFeeds(t, env); len(feeds) != 1 || feeds[0].Status != "failing" || !strings.Contains(feeds[0].LastError, "503") {
			t.Errorf("feeds = %+v", feeds)
		}
	})
	t.Run("--no-fetch", func(t *testing.T) {
		env := testEnv(t)
		before := srv.hitsOf("/missing.xml")
		r := mustRun(t, env, "feeds", "add", "--no-fetch", srv.URL+"/missing.xml")
		if !strings.Contains(r.stdout, "not fetched yet") || srv.hitsOf("/missing.xml") != before {
			t.Errorf("stdout %q, fetched %d time(s)", r.stdout, srv.hitsOf("/missing.xml")-before)
		}
		if feeds := listFeeds(t, env); len(feeds) != 1 || feeds[0].Status != "new" {
			t.Errorf("feeds = %+v", feeds)
		}
	})
}

func TestPollCommand(t *testing.T) {
	srv := newFeedServer(t)
	env := testEnv(t)
	a := srv.set("/a.xml", "Alpha", "1", "2")
	b := srv.set("/b.xml", "Beta", "2", "3")
	mustRun(t, env, "feeds", "add", a)
	mustRun(t, env, "feeds", "add", b)

	r := mustRun(t, env, "poll")
	if !strings.Contains(r.stdout, "no feeds due; the next is") || !strings.Contains(r.stdout, "--all") {
		t.Errorf("poll with nothing due: %q", r.stdout)
	}

	r = mustRun(t, env, "poll", "--all")
	if !strings.Contains(r.stdout, "polled 2 feed(s)") || !strings.Contains(r.stdout, "2 not modified") || !strings.Contains(r.stdout, "0 new article(s)") {
		t.Errorf("poll --all, nothing changed: %q", r.stdout)
	}

	srv.set("/a.xml", "Alpha", "4", "1", "2")
	srv.raw("/b.xml", "", "STATUS 500")
	r = herald(t, env, "poll", "--all", "--json")
	if r.code != 0 {
		t.Fatalf("poll --all --json: %d %s", r.code, r.stderr)
	}
	var sum pollSummaryJSON
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("poll --json: %v\n%s", err, r.stdout)
	}
	if sum.Feeds != 2 || sum.OK != 1 || sum.Failed != 1 || sum.NewArticles != 1 || len(sum.Results) != 2 {
		t.Errorf("summary = %+v", sum)
	}
	for _, res := range sum.Results {
		if res.FeedURL == b && (res.Outcome != "failed" || !strings.Contains(res.Error, "HTTP 500") || res.NextCheckAt == nil) {
			t.Errorf("failed feed result = %+v", res)
		}
	}

	srv.set("/b.xml", "Beta", "5", "2", "3")
	r = mustRun(t, env, "poll", "--all")
	if !strings.Contains(r.stdout, "new    Beta: 1 new of 3 items") || !strings.Contains(r.stdout, "1 new article(s)") {
		t.Errorf("poll after recovery: %q", r.stdout)
	}
	if feeds := listFeeds(t, env); feeds[1].Status != "ok" || feeds[1].LastError != "" {
		t.Errorf("feed b after recovery: %+v", feeds[1])
	}

	t.Run("failures are listed with their reason", func(t *testing.T) {
		srv.raw("/a.xml", "text/html", "<html><body>moved to a new site</body></html>")
		r := mustRun(t, env, "poll", "--all")
		if !strings.Contains(r.stdout, "failed Alpha: fetch "+a+": this is an HTML page, not a feed") || !strings.Contains(r.stdout, "1 failed") {
			t.Errorf("stdout %q", r.stdout)
		}
	})
}
