package fetch_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/fetch"
)

var fetchedAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func parse(tb testing.TB, feedURL, body string) *fetch.Feed {
	tb.Helper()
	f, err := fetch.Parse(fetch.Document{URL: feedURL, Body: []byte(body), FetchedAt: fetchedAt})
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	return f
}

func keys(arts []*digest.Article) []string {
	var out []string
	for _, a := range arts {
		out = append(out, a.Key)
	}
	return out
}

func TestParseRelativeLinks(t *testing.T) {
	tests := []struct {
		name, url, body string
		wantLink        string
		wantImage       string
		wantSite        string
	}{
		{
			name: "RSS resolves against the site link",
			url:  "https://feeds.example/proxy/blog.xml",
			body: `<rss version="2.0"><channel><title>B</title><link>https://blog.example/news/</link>
<item><title>t</title><link>2026/03/post?utm_source=rss</link><description>&lt;img src="../img/a.jpg"&gt; text</description></item></channel></rss>`,
			wantLink:  "https://blog.example/news/2026/03/post",
			wantImage: "https://blog.example/img/a.jpg",
			wantSite:  "https://blog.example/news/",
		},
		{
			name: "RSS without site link resolves against the feed URL",
			url:  "https://blog.example/feeds/main.xml",
			body: `<rss version="2.0"><channel><title>B</title>
<item><title>t</title><link>/posts/1</link><enclosure url="/media/1.png" type="image/png" length="1"/></item></channel></rss>`,
			wantLink:  "https://blog.example/posts/1",
			wantImage: "https://blog.example/media/1.png",
		},
		{
			name: "relative site link",
			url:  "https://blog.example/feeds/main.xml",
			body: `<rss version="2.0"><channel><title>B</title><link>/</link>
<item><title>t</title><link>p/1</link></item></channel></rss>`,
			wantLink: "https://blog.example/p/1",
			wantSite: "https://blog.example/",
		},
		{
			name: "Atom with xml:base",
			url:  "https://atom.example/feed.atom",
			body: `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://atom.example/blog/">
<title>A</title><link href="/"/><id>urn:x</id><updated>2026-01-01T00:00:00Z</updated>
<entry><title>e</title><id>tag:atom.example,2026:1</id><link rel="alternate" href="entries/1"/><updated>2026-01-01T00:00:00Z</updated></entry></feed>`,
			wantLink: "https://atom.example/blog/entries/1",
			wantSite: "https://atom.example/",
		},
		{
			name:     "JSON Feed",
			url:      "https://json.example/feed.json",
			body:     `{"version":"https://jsonfeed.org/version/1.1","title":"J","home_page_url":"https://json.example/","items":[{"id":"1","url":"/posts/1#top","title":"t","image":"/i.png"}]}`,
			wantLink: "https://json.example/posts/1", wantImage: "https://json.example/i.png", wantSite: "https://json.example/",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parse(t, tt.url, tt.body)
			if len(f.Articles) != 1 {
				t.Fatalf("got %d articles", len(f.Articles))
			}
			a := f.Articles[0]
			if a.URL != tt.wantLink || a.ImageURL != tt.wantImage || f.SiteURL != tt.wantSite {
				t.Errorf("link %q image %q site %q; want %q %q %q", a.URL, a.ImageURL, f.SiteURL, tt.wantLink, tt.wantImage, tt.wantSite)
			}
		})
	}
}

func TestParseIdentity(t *testing.T) {
	const feedA, feedB = "https://a.example/feed", "https://b.example/rss"
	tests := []struct {
		name   string
		feed   string
		items  string
		want   []string
		dups   int
		titles []string
	}{
		{
			name:  "URL GUID is global and canonical",
			feed:  feedA,
			items: `<item><guid>https://Site.example/a?utm_source=x</guid><title>a</title></item>`,
			want:  []string{"url:https://site.example/a"},
		},
		{
			name:  "opaque GUID is scoped to the feed",
			feed:  feedA,
			items: `<item><guid isPermaLink="false">123</guid><title>a</title></item>`,
			want:  []string{"guid:https://a.example/feed#123"},
		},
		{
			name:  "tag and urn GUIDs are global",
			feed:  feedA,
			items: `<item><guid>tag:site.example,2026:post-1</guid><title>a</title></item><item><guid>urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427</guid><title>b</title></item>`,
			want:  []string{"id:tag:site.example,2026:post-1", "id:urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"},
		},
		{
			name:  "no GUID: canonical link",
			feed:  feedA,
			items: `<item><link>https://site.example/a#comments</link><title>a</title></item>`,
			want:  []string{"url:https://site.example/a"},
		},
		{
			name:  "neither: hash of title and text",
			feed:  feedA,
			items: `<item><title>Only a title</title><description>and text</description></item>`,
			want:  []string{"hash:"},
		},
		{
			name:   "duplicate GUID with the same link: first kept",
			feed:   feedA,
			items:  `<item><guid>42</guid><link>https://site.example/42</link><title>first</title></item><item><guid>42</guid><link>https://site.example/42</link><title>second</title></item>`,
			want:   []string{"guid:https://a.example/feed#42"},
			dups:   1,
			titles: []string{"first"},
		},
		{
			name:   "GUID reused for different links: keyed by link",
			feed:   feedA,
			items:  `<item><guid>https://site.example/</guid><link>https://site.example/x</link><title>x</title></item><item><guid>https://site.example/</guid><link>https://site.example/y</link><title>y</title></item>`,
			want:   []string{"url:https://site.example/x", "url:https://site.example/y"},
			titles: []string{"x", "y"},
		},
		{
			name:   "same link twice without GUID",
			feed:   feedA,
			items:  `<item><link>https://site.example/x?utm_medium=a</link><title>x</title></item><item><link>https://site.example/x?utm_medium=b</link><title>x again</title></item>`,
			want:   []string{"url:https://site.example/x"},
			dups:   1,
			titles: []string{"x"},
		},
		{
			name:  "empty items dropped",
			feed:  feedA,
			items: `<item><description>  </description></item><item><title>kept</title></item>`,
			want:  []string{"hash:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parse(t, tt.feed, rssDoc("F", tt.items))
			got := keys(f.Articles)
			if len(got) != len(tt.want) {
				t.Fatalf("keys %q, want %q", got, tt.want)
			}
			for i := range got {
				if tt.want[i] == "hash:" {
					if !strings.HasPrefix(got[i], "hash:") || len(got[i]) != len("hash:")+64 {
						t.Errorf("key %q, want a hash key", got[i])
					}
				} else if got[i] != tt.want[i] {
					t.Errorf("key %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
			if f.Duplicates != tt.dups {
				t.Errorf("Duplicates = %d, want %d", f.Duplicates, tt.dups)
			}
			for i, title := range tt.titles {
				if f.Articles[i].Title != title {
					t.Errorf("article %d title %q, want %q", i, f.Articles[i].Title, title)
				}
			}
		})
	}

	t.Run("across feeds", func(t *testing.T) {
		items := `<item><guid isPermaLink="false">123</guid><title>a</title></item><item><guid>https://wire.example/story</guid><title>b</title></item><item><title>c</title><description>same text</description></item>`
		a := parse(t, feedA, rssDoc("A", items))
		b := parse(t, feedB, rssDoc("B", items))
		if a.Articles[0].Key == b.Articles[0].Key {
			t.Errorf("opaque GUID 123 collides across feeds: %q", a.Articles[0].Key)
		}
		if a.Articles[1].Key != b.Articles[1].Key {
			t.Errorf("URL GUID differs across feeds: %q vs %q", a.Articles[1].Key, b.Articles[1].Key)
		}
		if a.Articles[2].Key != b.Articles[2].Key {
			t.Errorf("content hash differs across feeds: %q vs %q", a.Articles[2].Key, b.Articles[2].Key)
		}
	})
	t.Run("feed URL variants scope alike", func(t *testing.T) {
		items := `<item><guid isPermaLink="false">7</guid><title>a</title></item>`
		a := parse(t, "HTTPS://A.example:443/feed#x", rssDoc("A", items))
		b := parse(t, feedA, rssDoc("A", items))
		if a.Articles[0].Key != b.Articles[0].Key {
			t.Errorf("%q vs %q", a.Articles[0].Key, b.Articles[0].Key)
		}
	})
}

func TestParseDates(t *testing.T) {
	items := strings.Join([]string{
		`<item><guid>1</guid><title>past</title><pubDate>Tue, 10 Feb 2026 09:30:00 +0100</pubDate></item>`,
		`<item><guid>2</guid><title>future</title><pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>`,
		`<item><guid>3</guid><title>missing</title></item>`,
		`<item><guid>4</guid><title>garbage</title><pubDate>yesterday-ish</pubDate></item>`,
		`<item><guid>5</guid><title>epoch</title><pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate></item>`,
	}, "")
	f := parse(t, "https://d.example/feed", rssDoc("D", items))
	want := map[string]time.Time{
		"past":    time.Date(2026, 2, 10, 8, 30, 0, 0, time.UTC),
		"future":  fetchedAt,
		"missing": fetchedAt,
		"garbage": fetchedAt,
		"epoch":   fetchedAt,
	}
	if len(f.Articles) != len(want) {
		t.Fatalf("%d articles", len(f.Articles))
	}
	for _, a := range f.Articles {
		if !a.Published.Equal(want[a.Title]) || a.Published.Location() != time.UTC {
			t.Errorf("%s: Published %s, want %s UTC", a.Title, a.Published, want[a.Title])
		}
		if !a.FirstSeen.Equal(fetchedAt) {
			t.Errorf("%s: FirstSeen %s", a.Title, a.FirstSeen)
		}
	}

	t.Run("Atom updated when not published", func(t *testing.T) {
		f := parse(t, "https://d.example/atom", `<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>x</id>
<entry><id>tag:d.example,2026:1</id><title>e</title><updated>2026-02-01T10:00:00+02:00</updated></entry></feed>`)
		if got := f.Articles[0].Published; !got.Equal(time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)) {
			t.Errorf("Published %s", got)
		}
	})
}

func TestParseFields(t *testing.T) {
	body := `<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
<channel><title>The &lt;i&gt;Daily&lt;/i&gt; &amp;amp; Co</title><link>https://daily.example/</link><language>en-us</language>
<description>News &amp;amp; views</description><sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>
<image><url>/logo.png</url><title>x</title><link>https://daily.example/</link></image>
<item>
 <title>  Markets   &lt;b&gt;rally&lt;/b&gt; &amp;#8212; again </title>
 <link>https://daily.example/markets?utm_campaign=rss</link>
 <dc:creator>Jane Roe</dc:creator>
 <dc:language>fr_FR</dc:language>
 <description>&lt;p&gt;Short &lt;em&gt;summary&lt;/em&gt;.&lt;/p&gt;</description>
 <content:encoded><![CDATA[<p>Full text, first paragraph.</p><script>track()</script><p>Second&nbsp;paragraph.</p>]]></content:encoded>
 <media:thumbnail url="https://cdn.daily.example/thumb.jpg"/>
</item>
</channel></rss>`
	f := parse(t, "https://daily.example/feed", body)
	if f.Title != "The Daily & Co" || f.Description != "News & views" || f.Language != "en-US" || f.ImageURL != "https://daily.example/logo.png" {
		t.Errorf("feed = %+v", f)
	}
	if f.TTL != 30*time.Minute {
		t.Errorf("TTL = %s, want 30m from sy:updatePeriod hourly / 2", f.TTL)
	}
	a := f.Articles[0]
	want := digest.Article{
		Key:      "url:https://daily.example/markets",
		URL:      "https://daily.example/markets",
		Title:    "Markets rally — again",
		Summary:  "Short summary.",
		Content:  "Full text, first paragraph.\nSecond paragraph.",
		Author:   "Jane Roe",
		ImageURL: "https://cdn.daily.example/thumb.jpg",
		Language: "fr-FR",
		Source:   "The Daily & Co",
	}
	got := *a
	got.Published, got.FirstSeen = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("article\n got %+v\nwant %+v", got, want)
	}

	t.Run("RSS ttl", func(t *testing.T) {
		f := parse(t, "https://x.example/f", `<rss version="2.0"><channel><title>T</title><ttl>90</ttl><item><title>a</title></item></channel></rss>`)
		if f.TTL != 90*time.Minute {
			t.Errorf("TTL = %s", f.TTL)
		}
	})
	t.Run("source falls back to the host", func(t *testing.T) {
		f := parse(t, "https://www.untitled.example/f", `<rss version="2.0"><channel><item><title>a</title></item></channel></rss>`)
		if f.Articles[0].Source != "untitled.example" {
			t.Errorf("Source = %q", f.Articles[0].Source)
		}
	})
}

func utf16LE(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = []byte{0xFF, 0xFE}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestParseEncodings(t *testing.T) {
	doc := func(decl, title string) string {
		return `<?xml version="1.0"` + decl + `?><rss version="2.0"><channel><title>` + title + `</title><item><title>x</title></item></channel></rss>`
	}
	tests := []struct {
		name, contentType string
		body              []byte
		want              string
	}{
		{"UTF-8 with BOM", "", append([]byte{0xEF, 0xBB, 0xBF}, doc("", "Café")...), "Café"},
		{"UTF-16LE with BOM", "", utf16LE(doc(` encoding="UTF-16"`, "Café ☕"), true), "Café ☕"},
		{"UTF-16LE without BOM", "", utf16LE(doc(` encoding="UTF-16"`, "Ελλάδα"), false), "Ελλάδα"},
		{"declared UTF-16 but really UTF-8", "", []byte(doc(` encoding="UTF-16"`, "Café")), "Café"},
		{"declared KOI8-R", "", []byte(doc(` encoding="KOI8-R"`, "\xf0\xd2\xc9\xd7\xc5\xd4")), "Привет"},
		{"unknown label, HTTP charset used", "text/xml; charset=windows-1252", []byte(doc(` encoding="x-made-up"`, "Caf\xe9")), "Café"},
		{"unknown label, UTF-8 body", "", []byte(doc(` encoding="x-made-up"`, "Café")), "Café"},
		{"Latin-1 bytes labelled UTF-8", "", []byte(doc(` encoding="utf-8"`, "Caf\xe9 cr\xe8me")), "Café crème"},
		{"mostly UTF-8 with a stray byte", "", []byte(doc("", "Café \xff ok")), "Café \uFFFD ok"},
		{"JSON Feed with BOM", "application/feed+json", append([]byte{0xEF, 0xBB, 0xBF}, `{"version":"https://jsonfeed.org/version/1.1","title":"Jé","items":[{"id":"1","title":"x"}]}`...), "Jé"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := fetch.Parse(fetch.Document{URL: "https://e.example/f", ContentType: tt.contentType, Body: tt.body, FetchedAt: fetchedAt})
			if err != nil {
				t.Fatal(err)
			}
			if f.Title != tt.want {
				t.Errorf("title %q, want %q", f.Title, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	_, err := fetch.Parse(fetch.Document{URL: "https://e.example/", ContentType: "text/html", Body: []byte(`<html><head><link rel="alternate" type="application/rss+xml" href="/rss"></head></html>`)})
	var fe *fetch.Error
	if !errors.As(err, &fe) || fe.Kind != fetch.KindNotFeed || len(fe.Alternates) != 1 || fe.Alternates[0] != "https://e.example/rss" {
		t.Errorf("got %v", err)
	}
	if digest.ErrorCode(err) != digest.EINVALID || !strings.Contains(digest.ErrorMessage(err), "https://e.example/rss") {
		t.Errorf("user message %q (%s) should name the feed to use", digest.ErrorMessage(err), digest.ErrorCode(err))
	}
}

// FuzzParse feeds arbitrary documents through parsing and normalisation and
// checks what the rest of Herald relies on.
func FuzzParse(f *testing.F) {
	f.Add([]byte(rssDoc("T", rssItem("1", "/a?utm_source=x", "<b>x</b> &amp; y"), rssItem("1", "/b", "dup"))), "")
	f.Add([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>x</id><title type="html">&lt;p&gt;t</title><link href="../e"/></entry></feed>`), "text/xml; charset=iso-8859-1")
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1","items":[{"id":"1","content_html":"<p>hi</p>","url":"//x.example/a"}]}`), "application/json")
	f.Add(utf16LE(`<?xml version="1.0" encoding="UTF-16"?><rss><channel><item><title>é</title></item></channel></rss>`, true), "")
	f.Add([]byte("<rss><channel><item><title>\xe9\x00\x01</title><pubDate>Sat, 01 Jan 2300 00:00:00 GMT</pubDate></item></channel></rss>"), "text/xml; charset=windows-1251")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		feed, err := fetch.Parse(fetch.Document{URL: "https://fuzz.example/dir/feed", ContentType: contentType, Body: body, FetchedAt: fetchedAt})
		if err != nil {
			var fe *fetch.Error
			if !errors.As(err, &fe) || (fe.Kind != fetch.KindParse && fe.Kind != fetch.KindNotFeed) {
				t.Fatalf("error %v is not a parse or not-a-feed *fetch.Error", err)
			}
			return
		}
		checkFeed(t, feed, fetchedAt)
	})
}

// checkFeed checks what the rest of Herald relies on in a parsed feed.
func checkFeed(t testing.TB, feed *fetch.Feed, fetchedAt time.Time) {
	t.Helper()
	for _, s := range []string{feed.Title, feed.Description, feed.Language, feed.SiteURL, feed.ImageURL} {
		if !utf8.ValidString(s) {
			t.Fatalf("feed field %q is not valid UTF-8", s)
		}
	}
	if feed.Items != len(feed.Articles)+feed.Duplicates+feed.Empty+feed.Overflow {
		t.Fatalf("items %d != %d articles + %d duplicates + %d empty + %d overflow", feed.Items, len(feed.Articles), feed.Duplicates, feed.Empty, feed.Overflow)
	}
	seen := map[string]bool{}
	for _, a := range feed.Articles {
		if a.Key == "" || len(a.Key) > 512 || seen[a.Key] {
			t.Fatalf("bad or repeated key %q", a.Key)
		}
		seen[a.Key] = true
		for _, s := range []string{a.Title, a.Summary, a.Author, a.Source} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\n\t\r\x00") || s != strings.TrimSpace(s) || strings.Contains(s, "  ") {
				t.Fatalf("%q is not one line of clean text", s)
			}
		}
		if !utf8.ValidString(a.Content) || strings.ContainsRune(a.Content, 0) {
			t.Fatalf("content %q is not clean text", a.Content)
		}
		if a.Published.After(fetchedAt) || a.Published.IsZero() || !a.FirstSeen.Equal(fetchedAt) {
			t.Fatalf("Published %s, FirstSeen %s, fetched %s", a.Published, a.FirstSeen, fetchedAt)
		}
		if a.URL != "" {
			if c, err := fetch.CanonicalURL(a.URL, ""); err != nil || c != a.URL {
				t.Fatalf("URL %q is not canonical (%q, %v)", a.URL, c, err)
			}
		}
		if len([]rune(a.Title)) > 301 || len([]rune(a.Summary)) > 1001 {
			t.Fatalf("title or summary over its cap")
		}
		if a.Title == "" && a.URL == "" && a.Content == "" {
			t.Fatal("empty article kept")
		}
	}
}

func TestParseRefusesDeepNesting(t *testing.T) {
	// gofeed's extension parsing is quadratic in the nesting depth: 200,000
	// nested elements would take it seconds to minutes.
	doc := `<rss version="2.0" xmlns:x="urn:x"><channel><item><title>x</title>` + strings.Repeat("<x:a>", 200000) + strings.Repeat("</x:a>", 200000) + `</item></channel></rss>`
	_, err := fetch.Parse(fetch.Document{URL: "https://a.example/f", Body: []byte(doc)})
	var fe *fetch.Error
	if !errors.As(err, &fe) || fe.Kind != fetch.KindParse || !strings.Contains(err.Error(), "nested over 256 levels") {
		t.Errorf("got %v", err)
	}
}

func TestParseCapsItems(t *testing.T) {
	var items []string
	for i := range 1500 {
		items = append(items, fmt.Sprintf(`<item><guid>https://x.example/%d</guid><title>%d</title></item>`, i, i))
	}
	f := parse(t, "https://x.example/feed", rssDoc("Many", items...))
	if len(f.Articles) != 1000 || f.Overflow != 500 || f.Items != 1500 || f.Articles[0].Title != "0" {
		t.Errorf("%d articles, %d overflow, %d items, first %q", len(f.Articles), f.Overflow, f.Items, f.Articles[0].Title)
	}
}
