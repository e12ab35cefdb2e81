package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// searchFixture is a small newsroom: three feeds and articles about a
// storm (one story reported by three articles from two outlets), other
// weather, football and an archive piece.
type searchFixture struct {
	s                digest.Store
	bbc, nyt, ledger *digest.Feed
	ids              map[string]int64 // article key -> ID
}

// searchArticle is an article of the fixture: key, feed, source, title,
// summary, content and age at base.
type searchArticle struct {
	key, feed, source, title, summary, content string
	age                                        time.Duration
}

var searchArticles = []searchArticle{
	{"elin-bbc", "bbc", "BBC News", "Storm Elin leaves 80,000 homes without power",
		"Storm Elin brought strong winds to the northern coast overnight.", "Engineers worked through the night to restore supplies.", time.Hour},
	{"elin-nyt", "nyt", "The New York Times", "Power cut after Storm Elin hits the coast",
		"Thousands of homes lost power when the storm reached the coast.", "", 2 * time.Hour},
	{"elin-explainer", "ledger", "bbc news", "Elin: what we know",
		"Storm Elin explained, hour by hour.", "", 3 * time.Hour},
	{"football", "ledger", "Daily Ledger", "Football: late goals settle the derby",
		"A storm of late goals decided the match.", "", time.Hour},
	{"hurricane", "nyt", "The New York Times", "Hurricane Maria approaches the islands",
		"The hurricane is expected to reach the coast on Friday.", "", 30 * time.Hour},
	{"typhoon", "bbc", "BBC News", "Typhoon warning for the Pacific islands",
		"A typhoon warning was issued for the islands.", "", 50 * time.Hour},
	{"tips", "ledger", "Daily Ledger", "Energy saving tips for the winter",
		"How to cut power bills this winter, in ten steps.", "", 10 * 24 * time.Hour},
	{"station", "bbc", "BBC News", "Lightning strikes near power station",
		"Lightning struck near the power station during the storm. Follow our live blog.", "", 5 * 24 * time.Hour},
	{"archive", "nyt", "The New York Times", "Archive: the great storm of 1987",
		"Looking back at the storm that felled fifteen million trees.", "", 0},
	{"chapter", "ledger", "Daily Ledger", "A novel about the sea",
		"Its first chapter title: storm season begins.", "", 6 * 24 * time.Hour},
}

// archiveDay is when the archive piece was published.
var archiveDay = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func newSearchFixture(tb testing.TB, open Opener) *searchFixture {
	tb.Helper()
	s := open(tb)
	ctx := ctxFor(tb)
	fx := &searchFixture{s: s, ids: map[string]int64{}}
	fx.bbc = &digest.Feed{URL: "https://feeds.bbc.example/news/rss.xml", Title: "BBC News - Home", CreatedAt: base}
	fx.nyt = &digest.Feed{URL: "https://rss.nyt.example/world.xml", Title: "NYT > World", CreatedAt: base}
	fx.ledger = &digest.Feed{URL: "https://ledger.example/feed", Name: "ledger", Title: "The Daily Ledger", CreatedAt: base}
	feeds := map[string]*digest.Feed{"bbc": fx.bbc, "nyt": fx.nyt, "ledger": fx.ledger}
	for _, f := range []*digest.Feed{fx.bbc, fx.nyt, fx.ledger} {
		must(tb, s.CreateFeed(ctx, f))
	}
	for _, sa := range searchArticles {
		pub := base.Add(-sa.age)
		if sa.key == "archive" {
			pub = archiveDay
		}
		a := &digest.Article{Key: sa.key, URL: "https://news.example/" + sa.key, Title: sa.title, Summary: sa.summary,
			Content: sa.content, Source: sa.source, Language: "en", Published: pub, FirstSeen: pub}
		_, err := s.SaveArticles(ctx, feeds[sa.feed].ID, []*digest.Article{a})
		must(tb, err)
		fx.ids[sa.key] = a.ID
	}
	// The three Elin articles are one story; the others stay unclustered,
	// each a story of its own.
	elin := fx.ids["elin-bbc"]
	must(tb, s.AssignStories(ctx, []digest.StoryAssignment{
		{ArticleID: elin, StoryID: elin},
		{ArticleID: fx.ids["elin-nyt"], StoryID: elin},
		{ArticleID: fx.ids["elin-explainer"], StoryID: elin},
	}, base))
	return fx
}

func (fx *searchFixture) search(tb testing.TB, query string) *digest.SearchPage {
	tb.Helper()
	page, err := fx.s.Search(ctxFor(tb), digest.SearchRequest{Query: query, Limit: 50, Now: base})
	if err != nil {
		tb.Fatalf("Search(%q): %v", query, err)
	}
	return page
}

// keys returns the keys of the hits' articles, in order.
func (fx *searchFixture) keys(hits []digest.SearchHit) []string {
	byID := map[int64]string{}
	for k, id := range fx.ids {
		byID[id] = k
	}
	out := []string{}
	for _, h := range hits {
		out = append(out, byID[h.ArticleID])
	}
	return out
}

// stories returns the story each hit stands for, named by a member's key
// ("elin" for the Elin story).
func (fx *searchFixture) stories(hits []digest.SearchHit) []string {
	out := fx.keys(hits)
	for i, h := range hits {
		if h.StoryID == fx.ids["elin-bbc"] {
			out[i] = "elin"
		}
	}
	return out
}

// wantStories fails unless the query finds exactly these stories, in any
// order.
func (fx *searchFixture) wantStories(tb testing.TB, query string, want ...string) {
	tb.Helper()
	got := fx.stories(fx.search(tb, query).Hits)
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		tb.Errorf("Search(%q) found %q, want %q", query, got, want)
	}
}

func testSearch(t *testing.T, open Opener) {
	fx := newSearchFixture(t, open)
	t.Run("operators", func(t *testing.T) { testSearchOperators(t, fx) })
	t.Run("filters", func(t *testing.T) { testSearchFilters(t, fx) })
	t.Run("hits", func(t *testing.T) { testSearchHits(t, fx) })
	t.Run("hostile input", func(t *testing.T) { testSearchHostile(t, fx) })
	t.Run("ranking", func(t *testing.T) { testSearchRanking(t, open) })
	t.Run("paging", func(t *testing.T) { testSearchPaging(t, open) })
	t.Run("stories change", func(t *testing.T) { testSearchStoriesChange(t, open) })
}

func testSearchOperators(t *testing.T, fx *searchFixture) {
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"one word, in any field", "islands", []string{"hurricane", "typhoon"}},
		{"words are all required", "power coast", []string{"elin"}},
		{"case does not matter", "ELIN", []string{"elin"}},
		{"phrase", `"power cut"`, []string{"elin"}},
		{"phrase keeps word order", `"cut power"`, []string{"tips"}},
		{"phrase words apart do not match", `"power bills winter"`, nil},
		{"excluded word", "storm -football -elin", []string{"station", "archive", "chapter"}},
		{"excluded phrase", `storm -"live blog" -elin`, []string{"football", "archive", "chapter"}},
		{"excluded words and NOT", "storm NOT elin NOT goals NOT trees", []string{"station", "chapter"}},
		{"OR", "hurricane OR typhoon", []string{"hurricane", "typhoon"}},
		{"OR binds tighter than AND", "hurricane OR typhoon warning", []string{"typhoon"}},
		{"parentheses", "(hurricane OR typhoon) Friday", []string{"hurricane"}},
		{"excluded group", "islands -(hurricane OR warning)", nil},
		{"group inside OR", "(lightning station) OR hurricane", []string{"station", "hurricane"}},
		{"punctuation joins a phrase", "80,000", []string{"elin"}},
		{"punctuation phrase keeps order", "000,80", nil},
		{"source words are searched too", "ledger goals", []string{"football"}},
		{"no match", "volcano", nil},
	} {
		t.Run(tc.name, func(t *testing.T) { fx.wantStories(t, tc.query, tc.want...) })
	}
}

func testSearchFilters(t *testing.T, fx *searchFixture) {
	ctx := ctxFor(t)
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"source", "storm source:bbc", []string{"elin", "station"}},
		{"source ignores case", "storm source:BBC", []string{"elin", "station"}},
		{"source phrase", `storm source:"new york"`, []string{"elin", "archive"}},
		{"source phrase keeps order", `storm source:"york new"`, nil},
		{"several sources match any", "storm source:ledger source:bbc", []string{"elin", "football", "station", "chapter"}},
		{"sources joined by OR", "islands (source:bbc OR source:times)", []string{"hurricane", "typhoon"}},
		{"excluded source", "storm -source:bbc -source:ledger", []string{"elin", "archive"}},
		{"feed by ID", fmt.Sprintf("storm feed:%d", fx.nyt.ID), []string{"elin", "archive"}},
		{"feed by name", "islands feed:ledger", nil},
		{"feed by title words", `storm feed:"daily ledger"`, []string{"elin", "football", "chapter"}},
		{"feed by address", "islands feed:nyt.example", []string{"hurricane"}},
		{"excluded feed", "storm -feed:ledger -feed:nyt", []string{"elin", "station"}},
		{"since relative", "storm since:2d", []string{"elin", "football"}},
		{"since date", "storm since:2026-03-17", []string{"elin", "football", "station"}},
		{"before", "storm before:2d", []string{"station", "archive", "chapter"}},
		{"before date", "storm before:2025", []string{"archive"}},
		{"window", "storm since:7d before:1d", []string{"station", "chapter"}},
		{"filters only", "source:ledger", []string{"football", "chapter", "tips"}},
		{"filters only with time", "since:2d -storm", []string{"hurricane"}},
		{"filters only minus words", "source:bbc -storm", []string{"typhoon"}},
	} {
		t.Run(tc.name, func(t *testing.T) { fx.wantStories(t, tc.query, tc.want...) })
	}
	t.Run("filters only, newest first", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"source:ledger", []string{"football", "chapter", "tips"}},
			{"feed:ledger", []string{"football", "elin", "chapter", "tips"}},
			{"feed:ledger -goals", []string{"elin", "chapter", "tips"}},
			{"feed:ledger since:7d -feed:nyt", []string{"football", "elin", "chapter"}},
			{"since:2d -feed:ledger", []string{"elin", "hurricane"}},
			{"before:2d -source:bbc", []string{"chapter", "tips", "archive"}},
		} {
			if got := fx.stories(fx.search(t, tc.query).Hits); !slices.Equal(got, tc.want) {
				t.Errorf("%s found %q, want newest first %q", tc.query, got, tc.want)
			}
		}
	})
	t.Run("article in two feeds", func(t *testing.T) {
		again := &digest.Article{Key: "hurricane", URL: "https://news.example/hurricane", Title: "Hurricane Maria approaches the islands"}
		_, err := fx.s.SaveArticles(ctx, fx.ledger.ID, []*digest.Article{again})
		must(t, err)
		fx.wantStories(t, "hurricane feed:ledger", "hurricane")
		fx.wantStories(t, fmt.Sprintf("hurricane feed:%d", fx.nyt.ID), "hurricane")
		fx.wantStories(t, "hurricane -feed:ledger")
	})
	t.Run("unknown feed", func(t *testing.T) {
		_, err := fx.s.Search(ctx, digest.SearchRequest{Query: "storm feed:nowhere", Now: base})
		wantCode(t, err, digest.EINVALID)
		if msg := digest.ErrorMessage(err); !strings.Contains(msg, "feed:nowhere") {
			t.Errorf("message %q does not name the filter", msg)
		}
	})
	t.Run("calendar days in the searcher's zone", func(t *testing.T) {
		// The hurricane piece is from 03:30 UTC on 21 March: still 20 March
		// five hours west of UTC.
		west := time.FixedZone("UTC-5", -5*3600)
		for _, tc := range []struct {
			loc  *time.Location
			want []string
		}{{time.UTC, nil}, {nil, nil}, {west, []string{"hurricane"}}} {
			page, err := fx.s.Search(ctx, digest.SearchRequest{Query: "hurricane before:2026-03-21", Now: base, Location: tc.loc})
			must(t, err)
			if got := fx.stories(page.Hits); !slices.Equal(got, append([]string{}, tc.want...)) {
				t.Errorf("in %v found %q, want %q", tc.loc, got, tc.want)
			}
		}
	})
}

func testSearchHits(t *testing.T, fx *searchFixture) {
	t.Run("one hit per story", func(t *testing.T) {
		page := fx.search(t, "elin")
		if len(page.Hits) != 1 {
			t.Fatalf("elin: %d hits (%q), want the one story", len(page.Hits), fx.keys(page.Hits))
		}
		h := page.Hits[0]
		if h.StoryID != fx.ids["elin-bbc"] {
			t.Errorf("StoryID = %d, want %d", h.StoryID, fx.ids["elin-bbc"])
		}
		if !slices.Contains([]string{"elin-bbc", "elin-nyt", "elin-explainer"}, fx.keys(page.Hits)[0]) {
			t.Errorf("ArticleID = %d is not a member of the story", h.ArticleID)
		}
		// "BBC News" and "bbc news" are one outlet.
		if h.Sources != 2 {
			t.Errorf("Sources = %d, want 2 (BBC News, The New York Times)", h.Sources)
		}
	})
	t.Run("a story counts all its sources", func(t *testing.T) {
		page := fx.search(t, "explained")
		if len(page.Hits) != 1 || page.Hits[0].Sources != 2 || fx.keys(page.Hits)[0] != "elin-explainer" {
			t.Fatalf("explained: %+v, want the explainer, in a story of 2 sources", page.Hits)
		}
	})
	t.Run("fields of the best article", func(t *testing.T) {
		page := fx.search(t, "typhoon")
		if len(page.Hits) != 1 {
			t.Fatalf("typhoon: %d hits", len(page.Hits))
		}
		h := page.Hits[0]
		want := digest.SearchHit{StoryID: fx.ids["typhoon"], ArticleID: fx.ids["typhoon"], Title: "Typhoon warning for the Pacific islands",
			URL: "https://news.example/typhoon", Source: "BBC News", Sources: 1}
		got := h
		got.Snippet, got.Published = "", time.Time{}
		if got != want {
			t.Errorf("hit = %+v, want %+v", got, want)
		}
		sameTime(t, "Published", h.Published, base.Add(-50*time.Hour))
	})
	t.Run("snippet marks the matched words", func(t *testing.T) {
		page := fx.search(t, "explained hour")
		if len(page.Hits) != 1 {
			t.Fatalf("%d hits", len(page.Hits))
		}
		var marked []string
		text := ""
		for _, p := range digest.SplitSnippet(page.Hits[0].Snippet) {
			text += p.Text
			if p.Match {
				marked = append(marked, strings.ToLower(p.Text))
			}
		}
		if !slices.Contains(marked, "explained") || !slices.Contains(marked, "hour") {
			t.Errorf("snippet %q marks %q, want explained and hour", page.Hits[0].Snippet, marked)
		}
		if !strings.Contains(text, "Storm Elin explained, hour by hour.") {
			t.Errorf("snippet text %q is not the summary", text)
		}
	})
	t.Run("snippet from the content", func(t *testing.T) {
		page := fx.search(t, "engineers")
		if len(page.Hits) != 1 || !strings.Contains(page.Hits[0].Snippet, digest.SnippetMatchStart+"Engineers"+digest.SnippetMatchEnd) {
			t.Errorf("engineers: %+v, want a snippet of the content with the word marked", page.Hits)
		}
	})
	t.Run("snippet of a filter-only query", func(t *testing.T) {
		page := fx.search(t, "source:bbc since:1d")
		if len(page.Hits) != 1 || page.Hits[0].Snippet == "" || strings.Contains(page.Hits[0].Snippet, digest.SnippetMatchStart) {
			t.Errorf("source:bbc since:1d: %+v, want the Elin story with the start of its text, nothing marked", page.Hits)
		}
	})
	t.Run("source falls back to the feed", func(t *testing.T) {
		a := &digest.Article{Key: "nosource", URL: "https://news.example/nosource", Title: "Glacier retreat measured", Published: base, FirstSeen: base}
		_, err := fx.s.SaveArticles(ctxFor(t), fx.ledger.ID, []*digest.Article{a})
		must(t, err)
		page := fx.search(t, "glacier")
		if len(page.Hits) != 1 || page.Hits[0].Source != "ledger" || page.Hits[0].Sources != 1 {
			t.Errorf("glacier: %+v, want source ledger (the feed's name), 1 source", page.Hits)
		}
	})
	t.Run("articles stay searchable when their feed goes", func(t *testing.T) {
		f := mustFeed(t, fx.s, "https://gone.example/feed")
		a := &digest.Article{Key: "orphan", URL: "https://gone.example/a", Title: "Orphaned meteorite story", Source: "Gone Weekly", Published: base}
		_, err := fx.s.SaveArticles(ctxFor(t), f.ID, []*digest.Article{a})
		must(t, err)
		must(t, fx.s.DeleteFeed(ctxFor(t), f.ID))
		page := fx.search(t, "meteorite")
		if len(page.Hits) != 1 || page.Hits[0].ArticleID != a.ID || page.Hits[0].Source != "Gone Weekly" {
			t.Errorf("meteorite: %+v, want the article of the deleted feed", page.Hits)
		}
	})
	t.Run("empty result", func(t *testing.T) {
		page := fx.search(t, "volcano")
		if page.Hits == nil || len(page.Hits) != 0 || page.NextCursor != "" {
			t.Errorf("volcano: %+v, want an empty, non-nil list and no cursor", page)
		}
	})
}

func testSearchHostile(t *testing.T, fx *searchFixture) {
	ctx := ctxFor(t)
	// Each query either finds what its words say, read as plain text, or
	// is refused with EINVALID; never a database or FTS syntax error.
	for _, tc := range []struct {
		name, query string
		want        []string // stories; ignored when invalid
		invalid     bool
	}{
		{"lone quote", `"`, nil, true},
		{"quotes only", `""""`, nil, true},
		{"unbalanced quote", `"power cut`, []string{"elin"}, false},
		{"quote inside a word", `po"wer`, nil, false},
		{"star alone", "*", nil, true},
		{"star is not a wildcard", "pow*", nil, false},
		{"star after a word", "typhoon*", []string{"typhoon"}, false},
		{"NEAR", "NEAR(lightning station)", []string{"station"}, false},
		{"NEAR with distance", "NEAR(storm power, 2)", nil, false},
		{"column filter", "title:storm", []string{"chapter"}, false},
		{"FTS column filter", "{title}: typhoon", nil, false},
		{"FTS column set", "{title summary} : typhoon", nil, false},
		{"caret", "^typhoon", []string{"typhoon"}, false},
		{"plus", "+typhoon", []string{"typhoon"}, false},
		{"FTS operators in lower case", "typhoon and not or near", nil, false},
		{"FTS keywords as words", "AND OR NOT", nil, false},
		{"unbalanced open", "((typhoon", []string{"typhoon"}, false},
		{"unbalanced close", "typhoon))", []string{"typhoon"}, false},
		{"parentheses only", "()()", nil, true},
		{"colons", "a:b:c ::", nil, false},
		{"SQL", `typhoon'; DROP TABLE articles; --`, nil, false},
		{"SQL quote is text, OR ours", `typhoon' OR '1'='1`, []string{"typhoon"}, false},
		{"control characters", "\x00typhoon\x07\r\n\x1b", []string{"typhoon"}, false},
		{"control characters split words", "typh\x00oon", nil, false},
		{"invalid UTF-8", "typhoon \xff\xfe", []string{"typhoon"}, false},
		{"bidi and zero width", "\u202etyphoon\u200b", []string{"typhoon"}, false},
		{"emoji", "🌀 typhoon", []string{"typhoon"}, false},
		{"only excluded", "-typhoon", nil, true},
		{"only excluded phrase", `-"power cut"`, nil, true},
		{"long word", strings.Repeat("x", 400), nil, false},
		{"too long", strings.Repeat("typhoon ", 200), nil, true},
		{"huge", strings.Repeat("\"(-", 100000), nil, true},
		{"deep parentheses", strings.Repeat("(", 40) + "typhoon" + strings.Repeat(")", 40), nil, true},
		{"empty source", "typhoon source:", nil, true},
		{"bad since", "typhoon since:tomorrow", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := fx.s.Search(ctx, digest.SearchRequest{Query: tc.query, Now: base})
			if tc.invalid {
				wantCode(t, err, digest.EINVALID)
				if digest.ErrorMessage(err) == "" {
					t.Error("EINVALID without a message")
				}
				return
			}
			if err != nil {
				t.Fatalf("Search(%.60q): %v", tc.query, err)
			}
			got := fx.stories(page.Hits)
			if !slices.Equal(got, append([]string{}, tc.want...)) {
				t.Errorf("Search(%.60q) found %q, want %q", tc.query, got, tc.want)
			}
		})
	}
	t.Run("limits", func(t *testing.T) {
		_, err := fx.s.Search(ctx, digest.SearchRequest{Query: "storm", Limit: -1, Now: base})
		wantCode(t, err, digest.EINVALID)
		page, err := fx.s.Search(ctx, digest.SearchRequest{Query: "storm", Limit: 1 << 30, Now: base})
		must(t, err)
		if len(page.Hits) != 5 || page.NextCursor != "" {
			t.Errorf("huge limit: %d hits, cursor %q; want all 5 stories, no cursor", len(page.Hits), page.NextCursor)
		}
	})
	t.Run("bad cursors", func(t *testing.T) {
		first, err := fx.s.Search(ctx, digest.SearchRequest{Query: "storm", Limit: 2, Now: base})
		must(t, err)
		if first.NextCursor == "" {
			t.Fatal("no cursor after the first of several pages")
		}
		c := first.NextCursor
		for _, tc := range []struct{ name, query, cursor string }{
			{"garbage", "storm", "garbage"},
			{"control characters", "storm", "\x00\x01"},
			{"truncated", "storm", c[:len(c)-2]},
			{"altered", "storm", c[:len(c)/2] + string(rune(c[len(c)/2]^1)) + c[len(c)/2+1:]},
			{"longer", "storm", c + c},
			{"another query", "storm power", c},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := fx.s.Search(ctx, digest.SearchRequest{Query: tc.query, Cursor: tc.cursor, Now: base})
				wantCode(t, err, digest.EINVALID)
			})
		}
	})
}

// testSearchRanking checks the order of hits on articles that differ in one
// respect only.
func testSearchRanking(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	f := mustFeed(t, s, "https://rank.example/feed")
	filler := "Officials met on Tuesday to discuss the budget, the schedule and the next steps for the region."
	save := func(key, title, summary, content string, age time.Duration) int64 {
		a := &digest.Article{Key: key, URL: "https://rank.example/" + key, Title: title, Summary: summary, Content: content,
			Source: "Rank Wire", Published: base.Add(-age), FirstSeen: base.Add(-age)}
		_, err := s.SaveArticles(ctx, f.ID, []*digest.Article{a})
		must(t, err)
		return a.ID
	}
	order := func(query string) []int64 {
		page, err := s.Search(ctx, digest.SearchRequest{Query: query, Now: base})
		must(t, err)
		var ids []int64
		for _, h := range page.Hits {
			ids = append(ids, h.ArticleID)
		}
		return ids
	}
	t.Run("more relevant first", func(t *testing.T) {
		once := save("once", "Regional council meets", filler, filler+" A volcano was mentioned in passing. "+filler, time.Hour)
		often := save("often", "Volcano erupts, volcano ash spreads", "The volcano sent ash over the valley.", filler, time.Hour)
		if got := order("volcano"); !slices.Equal(got, []int64{often, once}) {
			t.Errorf("volcano: %v, want the article about it (%d) before the one mentioning it (%d)", got, often, once)
		}
	})
	// Ties go to the later article, so each pair below is saved with the
	// one expected first saved first.
	t.Run("title weighs more", func(t *testing.T) {
		inTitle := save("in-title", "Glacier melt raises harbour level", "Harbour reopens after long repairs.", "", 2*time.Hour)
		inSummary := save("in-summary", "Harbour reopens after long repairs", "Glacier melt raises harbour level.", "", 2*time.Hour)
		if got := order("glacier"); !slices.Equal(got, []int64{inTitle, inSummary}) {
			t.Errorf("glacier: %v, want the title match (%d) before the summary match (%d)", got, inTitle, inSummary)
		}
	})
	t.Run("newer first among equals", func(t *testing.T) {
		fresh := save("fresh", "Tsunami drill held on the coast", "Sirens sounded along the coast.", "", time.Hour)
		old := save("old", "Tsunami drill held on the coast", "Sirens sounded along the coast.", "", 20*24*time.Hour)
		if got := order("tsunami drill"); !slices.Equal(got, []int64{fresh, old}) {
			t.Errorf("tsunami drill: %v, want the newer (%d) before the older (%d)", got, fresh, old)
		}
	})
}

// testSearchPaging pages through more stories than fit a page, while new
// articles arrive.
func testSearchPaging(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	f := mustFeed(t, s, "https://quake.example/feed")
	var batch []*digest.Article
	for i := range 40 {
		pub := base.Add(-time.Duration(i) * time.Hour)
		batch = append(batch, &digest.Article{Key: fmt.Sprintf("q%d", i), URL: fmt.Sprintf("https://quake.example/%d", i),
			Title:   fmt.Sprintf("Earthquake report number %d", i),
			Summary: strings.Repeat("Aftershocks continue. ", 1+i%4) + "The earthquake was felt widely.",
			Source:  []string{"Quake Wire", "Seismo Daily", "Fault Line"}[i%3], Published: pub, FirstSeen: pub})
	}
	_, err := s.SaveArticles(ctx, f.ID, batch)
	must(t, err)
	// Pairs of articles form 20 stories of two outlets each... except
	// that the last ten articles stay unclustered: 25 stories in all.
	var as []digest.StoryAssignment
	for i := 0; i < 30; i += 2 {
		as = append(as, digest.StoryAssignment{ArticleID: batch[i].ID, StoryID: batch[i].ID},
			digest.StoryAssignment{ArticleID: batch[i+1].ID, StoryID: batch[i].ID})
	}
	must(t, s.AssignStories(ctx, as, base))
	const stories = 15 + 10

	all, err := s.Search(ctx, digest.SearchRequest{Query: "earthquake", Limit: 100, Now: base})
	must(t, err)
	if len(all.Hits) != stories || all.NextCursor != "" {
		t.Fatalf("one big page: %d hits, cursor %q; want %d stories and no cursor", len(all.Hits), all.NextCursor, stories)
	}
	pairs := map[int64]bool{}
	for _, a := range as {
		pairs[a.StoryID] = true
	}
	var want []int64
	for _, h := range all.Hits {
		want = append(want, h.StoryID)
		if wantSources := map[bool]int{true: 2, false: 1}[pairs[h.StoryID]]; h.Sources != wantSources {
			t.Errorf("story %d: Sources = %d, want %d", h.StoryID, h.Sources, wantSources)
		}
	}

	var got []int64
	cursor := ""
	for pageNo := 0; ; pageNo++ {
		if pageNo > stories {
			t.Fatal("paging does not end")
		}
		page, err := s.Search(ctx, digest.SearchRequest{Query: "earthquake", Limit: 10, Cursor: cursor, Now: base.Add(time.Duration(pageNo) * time.Hour)})
		must(t, err)
		for _, h := range page.Hits {
			got = append(got, h.StoryID)
		}
		if pageNo == 0 {
			// Newer, highly relevant articles arrive between pages: they
			// must not shift the pages of the search under way.
			var more []*digest.Article
			for i := range 5 {
				more = append(more, &digest.Article{Key: fmt.Sprintf("new%d", i), URL: fmt.Sprintf("https://quake.example/new%d", i),
					Title: "Earthquake earthquake earthquake", Summary: "Earthquake.", Source: "Quake Wire", Published: base, FirstSeen: base})
			}
			_, err := s.SaveArticles(ctx, f.ID, more)
			must(t, err)
		}
		if len(page.Hits) == 0 && page.NextCursor != "" {
			t.Fatal("an empty page with a cursor")
		}
		if page.NextCursor == "" {
			break
		}
		if len(page.Hits) != 10 {
			t.Errorf("page %d has %d hits, want 10", pageNo, len(page.Hits))
		}
		cursor = page.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages gave stories\n%v\nwant, as one page\n%v", got, want)
	}

	fresh, err := s.Search(ctx, digest.SearchRequest{Query: "earthquake", Limit: 100, Now: base})
	must(t, err)
	if len(fresh.Hits) != stories+5 {
		t.Errorf("a new search finds %d stories, want %d with the new articles", len(fresh.Hits), stories+5)
	}

	t.Run("filter-only query pages too", func(t *testing.T) {
		var got []int64
		cursor := ""
		for range 10 {
			page, err := s.Search(ctx, digest.SearchRequest{Query: "source:wire", Limit: 4, Cursor: cursor, Now: base})
			must(t, err)
			for _, h := range page.Hits {
				got = append(got, h.StoryID)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		page, err := s.Search(ctx, digest.SearchRequest{Query: "source:wire", Limit: 100, Now: base})
		must(t, err)
		var want []int64
		for _, h := range page.Hits {
			want = append(want, h.StoryID)
		}
		// Quake Wire has articles 0, 3, 6, ... 39 (in ten stories of two
		// and four unclustered) and the five new ones.
		if len(want) != 19 || !slices.Equal(got, want) {
			t.Errorf("paging source:wire by 4 gave %v, one page gives %v (want 19 stories)", got, want)
		}
	})
}

// testSearchStoriesChange checks that hits follow clustering: articles
// assigned to a story after they were indexed, and merged stories.
func testSearchStoriesChange(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	f := mustFeed(t, s, "https://eclipse.example/feed")
	var arts []*digest.Article
	for i, src := range []string{"Sky News", "Star Post", "Moon Daily"} {
		arts = append(arts, &digest.Article{Key: fmt.Sprintf("e%d", i), URL: fmt.Sprintf("https://eclipse.example/%d", i),
			Title: "Eclipse seen across the country", Source: src, Published: base, FirstSeen: base})
	}
	_, err := s.SaveArticles(ctx, f.ID, arts)
	must(t, err)
	count := func() (int, []int) {
		page, err := s.Search(ctx, digest.SearchRequest{Query: "eclipse", Now: base})
		must(t, err)
		var sources []int
		for _, h := range page.Hits {
			sources = append(sources, h.Sources)
		}
		return len(page.Hits), sources
	}
	if n, _ := count(); n != 3 {
		t.Fatalf("unclustered: %d hits, want 3", n)
	}
	must(t, s.AssignStories(ctx, []digest.StoryAssignment{
		{ArticleID: arts[0].ID, StoryID: arts[0].ID}, {ArticleID: arts[1].ID, StoryID: arts[0].ID},
		{ArticleID: arts[2].ID, StoryID: arts[2].ID}}, base))
	if n, sources := count(); n != 2 || !slices.Equal(slices.Sorted(slices.Values(sources)), []int{1, 2}) {
		t.Fatalf("two stories: %d hits with sources %v, want 2 hits with 2 and 1 sources", n, sources)
	}
	must(t, s.MergeStories(ctx, digest.StoryMerge{From: arts[2].ID, Into: arts[0].ID, ArticleID: arts[2].ID, At: base}))
	if n, sources := count(); n != 1 || sources[0] != 3 {
		t.Fatalf("merged: %d hits with sources %v, want 1 hit with 3 sources", n, sources)
	}
}

// FoundArticles returns, sorted, the IDs of the articles standing for the
// stories a search for query finds at now (up to 100). It fails tb when
// Search fails.
func FoundArticles(tb testing.TB, s digest.SearchStore, query string, now time.Time) []int64 {
	tb.Helper()
	page, err := s.Search(ctxFor(tb), digest.SearchRequest{Query: query, Limit: 100, Now: now})
	if err != nil {
		tb.Fatalf("Search(%q): %v", query, err)
	}
	var ids []int64
	for _, h := range page.Hits {
		ids = append(ids, h.ArticleID)
	}
	slices.Sort(ids)
	return ids
}

// SearchFuzzSeeds are queries to start fuzzing Search with: each operator,
// and input a query engine might read as syntax.
var SearchFuzzSeeds = []string{
	"storm", `"power cut"`, "storm -goals", "storm OR derby", "(storm OR derby) power", "source:ledger since:7d",
	"feed:ledger -storm", "feed:nowhere storm", "-storm", "((((", "\x00\xff",
	`source:"a b" -source:c before:2024-03-22 since:yesterday`,
}

// CheckSearchAnswer fails t unless Search answers query with a page (for a
// query ParseQuery accepts) or EINVALID: never a syntax error of the
// store's query language or another failure. Fuzz tests of stores call
// it with whatever the fuzzer makes.
func CheckSearchAnswer(t testing.TB, s digest.SearchStore, query string, now time.Time) {
	t.Helper()
	_, parseErr := digest.ParseQuery(query)
	page, err := s.Search(ctxFor(t), digest.SearchRequest{Query: query, Now: now})
	switch {
	case err == nil:
		if parseErr != nil {
			t.Fatalf("Search(%q) ran a query ParseQuery refuses: %v", query, parseErr)
		}
		if page == nil || page.Hits == nil {
			t.Fatalf("Search(%q) = %+v", query, page)
		}
	case digest.ErrorCode(err) != digest.EINVALID:
		t.Fatalf("Search(%q): %v", query, err)
	}
}
