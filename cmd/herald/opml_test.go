package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed-c50b6fda/herald/digest"
)

func TestFeedsImportExport(t *testing.T) {
	srv := newFeedServer(t)
	a := srv.set("/a.xml", "Alpha", "1")
	b := srv.set("/b.xml", "Beta", "2")
	c := srv.set("/c.xml", "Gamma", "3")
	srv.raw("/down.xml", "", "STATUS 502")
	srv.raw("/site/", "text/html", `<html><head><link rel="alternate" type="application/atom+xml" href="/c.xml"></head></html>`)
	env := testEnv(t)
	mustRun(t, env, "feeds", "add", a)

	opml := `<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>My feeds</title></head><body>
  <outline text="News">
    <outline text="Alpha (already here)" type="rss" xmlUrl="` + a + `"/>
    <outline text="Beta" type="rss" xmlUrl="` + b + `" htmlUrl="https://news.example/"/>
    <outline text="Tech">
      <outline text="A site, not a feed" xmlUrl="` + srv.URL + `/site/"/>
      <outline text="Gone" xmlUrl="` + srv.URL + `/gone.xml"/>
    </outline>
  </outline>
  <outline text="Beta again" xmlUrl="` + b + `"/>
  <outline text="Down" xmlUrl="` + srv.URL + `/down.xml"/>
  <outline text="Mail" xmlUrl="mailto:editor@example.com"/>
  <outline text="Folder without feeds"/>
</body></opml>`
	path := filepath.Join(t.TempDir(), "subs.opml")
	if err := os.WriteFile(path, []byte(opml), 0o600); err != nil {
		t.Fatal(err)
	}

	r := herald(t, env, "feeds", "import", path)
	if r.code != 1 || !strings.Contains(r.stderr, "2 of 7 feeds could not be imported") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{
		"imported " + path + ": 3 added, 1 already present, 2 failed",
		"failed  " + srv.URL + "/gone.xml: fetch " + srv.URL + "/gone.xml: HTTP 404 Not Found",
		"failed  mailto:editor@example.com: not an http or https URL",
		"failing " + srv.URL + "/down.xml: added, but it could not be fetched now",
		"note    " + srv.URL + "/site/: a web page; added the feed it advertises, " + c,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stderr, "\r") {
		t.Errorf("progress bar drawn on a non-terminal: %q", r.stderr)
	}
	feeds := listFeeds(t, env)
	var urls []string
	for _, f := range feeds {
		urls = append(urls, f.URL)
	}
	if got, want := strings.Join(urls, " "), a+" "+b+" "+c+" "+srv.URL+"/down.xml"; len(feeds) != 4 || !sameSet(urls, strings.Fields(want)) {
		t.Errorf("feeds after import: %s\nwant %s", got, want)
	}

	// Export and import into a fresh database: the same feeds.
	out := mustRun(t, env, "feeds", "export")
	if !strings.HasPrefix(out.stdout, `<?xml version="1.0" encoding="UTF-8"?>`) || !strings.Contains(out.stdout, `<opml version="2.0">`) {
		t.Errorf("export:\n%s", out.stdout)
	}
	list, err := digest.ParseOPML(strings.NewReader(out.stdout))
	if err != nil {
		t.Fatalf("export is not OPML: %v\n%s", err, out.stdout)
	}
	if len(list) != 4 {
		t.Errorf("export lists %d feeds:\n%s", len(list), out.stdout)
	}
	if !strings.Contains(out.stdout, `text="Beta"`) || !strings.Contains(out.stdout, `xmlUrl="`+b+`"`) {
		t.Errorf("export lacks Beta's title or URL:\n%s", out.stdout)
	}
	fresh := testEnv(t)
	exported := filepath.Join(t.TempDir(), "export.opml")
	os.WriteFile(exported, []byte(out.stdout), 0o600)
	r = herald(t, fresh, "feeds", "import", "--no-fetch", exported)
	if r.code != 0 || !strings.Contains(r.stdout, "4 added, 0 already present, 0 failed") {
		t.Errorf("re-import: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if feeds := listFeeds(t, fresh); len(feeds) != 4 || feeds[0].Status != "new" {
		t.Errorf("re-imported feeds: %+v", feeds)
	}
}

func TestFeedsImportErrors(t *testing.T) {
	env := testEnv(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	for _, tc := range []struct{ name, file, want string }{
		{"missing file", filepath.Join(dir, "nope.opml"), "no such file"},
		{"not OPML", write("x.opml", "this is not xml"), "not an OPML file"},
		{"no feeds", write("empty.opml", `<opml version="2.0"><head/><body><outline text="x"/></body></opml>`), "no feeds found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := herald(t, env, "feeds", "import", tc.file)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		if m[s]--; m[s] < 0 {
			return false
		}
	}
	return true
}
