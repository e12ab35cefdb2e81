package digest_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

func TestOPMLRoundTrip(t *testing.T) {
	feeds := []*digest.Feed{
		{URL: "https://a.example/rss?x=1&y=2", Title: `A "quoted" <feed>`, SiteURL: "https://a.example/"},
		{URL: "https://b.example/atom", Name: "b-news"},
	}
	var buf bytes.Buffer
	if err := digest.WriteOPML(&buf, "Herald feeds", feeds, time.Date(2026, 3, 22, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<opml version="2.0">`) || !strings.Contains(buf.String(), "&amp;y=2") {
		t.Fatalf("not OPML 2.0 with escaped attributes:\n%s", buf.String())
	}
	got, err := digest.ParseOPML(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := []digest.OPMLFeed{{URL: feeds[0].URL, Title: feeds[0].Title}, {URL: feeds[1].URL, Title: "b-news"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("round trip = %+v, want %+v", got, want)
	}
}

func TestParseOPMLNestedAndInvalid(t *testing.T) {
	doc := `<?xml version="1.0"?><opml version="1.0"><head/><body>
	<outline text="Tech"><outline text="One" xmlUrl=" https://one.example/feed "/><outline text="no url"/></outline>
	<outline title="Two" xmlUrl="https://two.example/rss"/>
	<outline text="Three" xmlURL="https://three.example/rss"/><outline text="Four" xmlurl="https://four.example/rss"/></body></opml>`
	got, err := digest.ParseOPML(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].URL != "https://one.example/feed" || got[1].Title != "Two" ||
		got[2].URL != "https://three.example/rss" || got[3].URL != "https://four.example/rss" {
		t.Errorf("nested = %+v", got)
	}
	for _, bad := range []string{"", "<html><body>hi</body></html>", "<opml><body><outline"} {
		if _, err := digest.ParseOPML(strings.NewReader(bad)); digest.ErrorCode(err) != digest.EINVALID {
			t.Errorf("ParseOPML(%q) = %v, want EINVALID", bad, err)
		}
	}
}
