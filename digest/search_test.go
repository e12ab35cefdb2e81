package digest_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

func mustParse(tb testing.TB, s string) *digest.Query {
	tb.Helper()
	q, err := digest.ParseQuery(s)
	if err != nil {
		tb.Fatalf("ParseQuery(%q): %v", s, err)
	}
	return q
}

func phrase(words ...string) digest.Expr {
	return digest.Expr{Kind: digest.ExprPhrase, Words: words}
}

func or(args ...digest.Expr) digest.Expr { return digest.Expr{Kind: digest.ExprOr, Args: args} }

func and(args []digest.Expr, not ...digest.Expr) digest.Expr {
	return digest.Expr{Kind: digest.ExprAnd, Args: args, Not: not}
}

func TestParseQueryText(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     digest.Expr // the query's Text
	}{
		{"one word", "storm", and([]digest.Expr{phrase("storm")})},
		{"words are all required", "storm power", and([]digest.Expr{phrase("storm"), phrase("power")})},
		{"phrase", `"power cut" homes`, and([]digest.Expr{phrase("power", "cut"), phrase("homes")})},
		{"curly quotes", "“power cut”", and([]digest.Expr{phrase("power", "cut")})},
		{"excluded word and phrase", `storm -sport -"live blog"`, and([]digest.Expr{phrase("storm")}, phrase("sport"), phrase("live", "blog"))},
		{"NOT excludes", "storm NOT sport", and([]digest.Expr{phrase("storm")}, phrase("sport"))},
		{"OR binds tighter than space", "storm OR flood power", and([]digest.Expr{or(phrase("storm"), phrase("flood")), phrase("power")})},
		{"OR chain", "a OR b OR c", and([]digest.Expr{or(phrase("a"), phrase("b"), phrase("c"))})},
		{"parentheses", "(storm flood) OR hurricane", and([]digest.Expr{or(and([]digest.Expr{phrase("storm"), phrase("flood")}), phrase("hurricane"))})},
		{"excluded group", "power -(storm OR flood)", and([]digest.Expr{phrase("power")}, or(phrase("storm"), phrase("flood")))},
		{"exclusion inside a group", "(storm -rain) OR flood", and([]digest.Expr{or(and([]digest.Expr{phrase("storm")}, phrase("rain")), phrase("flood"))})},
		{"top-level group flattens", "(storm power) -rain", and([]digest.Expr{phrase("storm"), phrase("power")}, phrase("rain"))},
		{"AND is the default", "storm AND power", and([]digest.Expr{phrase("storm"), phrase("power")})},
		{"hyphen joins a phrase", "covid-19", and([]digest.Expr{phrase("covid", "19")})},
		{"dots join a phrase", "U.S. election", and([]digest.Expr{phrase("U", "S"), phrase("election")})},
		{"case is kept", "Berlin", and([]digest.Expr{phrase("Berlin")})},
		{"accents are kept", "café Zürich", and([]digest.Expr{phrase("café"), phrase("Zürich")})},
		{"lower-case or is a word", "salt or pepper", and([]digest.Expr{phrase("salt"), phrase("or"), phrase("pepper")})},
		{"leading OR is a word", "OR storm", and([]digest.Expr{phrase("or"), phrase("storm")})},
		{"trailing OR is a word", "storm OR", and([]digest.Expr{phrase("storm"), phrase("or")})},
		{"lone NOT is a word", "NOT", and([]digest.Expr{phrase("not")})},
		{"quoted OR is a word", `"OR" Oregon`, and([]digest.Expr{phrase("OR"), phrase("Oregon")})},
		{"double minus", "storm --rain", and([]digest.Expr{phrase("storm")}, phrase("rain"))},
		{"minus alone is punctuation", "storm - rain", and([]digest.Expr{phrase("storm"), phrase("rain")})},
		{"excluded twice is included", "-(-storm)", and([]digest.Expr{phrase("storm")})},
		{"star is punctuation", "electr* car", and([]digest.Expr{phrase("electr"), phrase("car")})},
		{"NEAR is a word", "NEAR(storm power, 5)", and([]digest.Expr{phrase("NEAR"), phrase("storm"), phrase("power"), phrase("5")})},
		{"column filter is a phrase", "title:storm", and([]digest.Expr{phrase("title", "storm")})},
		{"FTS column braces", "{title summary}: storm", and([]digest.Expr{phrase("title"), phrase("summary"), phrase("storm")})},
		{"caret and plus", "^storm +power", and([]digest.Expr{phrase("storm"), phrase("power")})},
		{"unclosed quote runs to the end", `"power cut homes`, and([]digest.Expr{phrase("power", "cut", "homes")})},
		{"unclosed parenthesis", "(storm OR flood", and([]digest.Expr{or(phrase("storm"), phrase("flood"))})},
		{"unmatched closing parenthesis", "storm) power)", and([]digest.Expr{phrase("storm"), phrase("power")})},
		{"empty quotes and parentheses", `storm "" () -""`, and([]digest.Expr{phrase("storm")})},
		{"control characters separate", "storm\x00power\x1b[31m\u200bcut", and([]digest.Expr{phrase("storm"), phrase("power"), phrase("31m", "cut")})},
		{"invalid UTF-8 separates", "storm\xffpower", and([]digest.Expr{phrase("storm"), phrase("power")})},
		{"SQL stays text", `storm'; DROP TABLE articles; --`, and([]digest.Expr{phrase("storm"), phrase("DROP"), phrase("TABLE"), phrase("articles")})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := mustParse(t, tc.in)
			if !reflect.DeepEqual(q.Text, tc.want) {
				t.Errorf("ParseQuery(%q).Text =\n  %#v (%s)\nwant\n  %#v (%s)", tc.in, q.Text, q.Text.String(), tc.want, tc.want.String())
			}
			if !q.HasWords() {
				t.Errorf("HasWords() = false")
			}
		})
	}
}

func TestParseQueryFilters(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		check    func(tb testing.TB, q *digest.Query)
	}{
		{"source", "storm source:bbc", func(tb testing.TB, q *digest.Query) {
			wantNames(tb, "Sources", q.Sources, [][]string{{"bbc"}})
		}},
		{"source with spaces", `source:"New York Times" storm`, func(tb testing.TB, q *digest.Query) {
			wantNames(tb, "Sources", q.Sources, [][]string{{"New", "York", "Times"}})
		}},
		{"source with punctuation", "source:bbc.co.uk", func(tb testing.TB, q *digest.Query) {
			wantNames(tb, "Sources", q.Sources, [][]string{{"bbc", "co", "uk"}})
		}},
		{"several sources match any", "storm source:bbc source:cnn", func(tb testing.TB, q *digest.Query) {
			wantNames(tb, "Sources", q.Sources, [][]string{{"bbc"}, {"cnn"}})
		}},
		{"sources joined by OR", "storm (source:bbc OR source:cnn)", func(tb testing.TB, q *digest.Query) {
			wantNames(tb, "Sources", q.Sources, [][]string{{"bbc"}, {"cnn"}})
		}},
		{"excluded source", "storm -source:tabloid", func(tb testing.TB, q *digest.Query) {
			wantNames(tb, "ExcludeSources", q.ExcludeSources, [][]string{{"tabloid"}})
		}},
		{"field names ignore case", "storm Source:bbc FEED:ledger", func(tb testing.TB, q *digest.Query) {
			wantNames(tb, "Sources", q.Sources, [][]string{{"bbc"}})
			wantNames(tb, "Feeds", q.Feeds, [][]string{{"ledger"}})
		}},
		{"feed and excluded feed", "feed:12 -feed:\"daily ledger\" storm", func(tb testing.TB, q *digest.Query) {
			wantNames(tb, "Feeds", q.Feeds, [][]string{{"12"}})
			wantNames(tb, "ExcludeFeeds", q.ExcludeFeeds, [][]string{{"daily", "ledger"}})
		}},
		{"filter only", "source:bbc since:1d", func(tb testing.TB, q *digest.Query) {
			if q.HasWords() {
				tb.Errorf("HasWords() = true for a query of filters")
			}
		}},
		{"filter with excluded words", "since:1d -sport", func(tb testing.TB, q *digest.Query) {
			if q.HasWords() || len(q.Text.Not) != 1 {
				tb.Errorf("Text = %s, want only the exclusion", q.Text.String())
			}
		}},
		{"times", "storm since:7d before:2024-03-22 since:today", func(tb testing.TB, q *digest.Query) {
			want := []digest.TimeBound{{Kind: digest.BoundAgo, Ago: 7 * 24 * time.Hour, Text: "7d"}, {Kind: digest.BoundDay, Text: "today"}}
			if !reflect.DeepEqual(q.Since, want) {
				tb.Errorf("Since = %+v, want %+v", q.Since, want)
			}
			if len(q.Before) != 1 || q.Before[0].Kind != digest.BoundDate || q.Before[0].Date != time.Date(2024, 3, 22, 0, 0, 0, 0, time.UTC) {
				tb.Errorf("Before = %+v", q.Before)
			}
		}},
		{"units", "x since:12h since:2w since:1y since:yesterday since:2024-03 since:2024", func(tb testing.TB, q *digest.Query) {
			if len(q.Since) != 6 || q.Since[0].Ago != 12*time.Hour || q.Since[1].Ago != 14*24*time.Hour ||
				q.Since[2].Ago != 365*24*time.Hour || q.Since[3].DaysBack != 1 || q.Since[4].Date != time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC) ||
				q.Since[5].Date != time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) {
				tb.Errorf("Since = %+v", q.Since)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, mustParse(t, tc.in)) })
	}
}

func wantNames(tb testing.TB, what string, got, want [][]string) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestParseQueryErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "the query is empty"},
		{"blank", " \t\n ", "the query is empty"},
		{"no words", `*** "" () - : ;`, "has no words to search for"},
		{"only excluded", "-storm", "only excluded words; add a word to search for"},
		{"only excluded several", `-storm -"power cut" NOT rain`, "only excluded words"},
		{"only excluded source", "-source:bbc", "only excluded words"},
		{"excluded inside OR", "storm OR -rain", "an excluded word cannot be an alternative of OR"},
		{"group of exclusions inside OR", "(-storm) OR rain", "an excluded word cannot be an alternative of OR"},
		{"group of only exclusions inside OR", "(-storm -hail) OR rain", "only excluded words"},
		{"source with words in OR", "source:bbc OR storm", "source: cannot be an alternative of OR"},
		{"sources and feeds in one OR", "x (source:bbc OR feed:ledger)", "cannot be an alternative of OR"},
		{"since in OR", "x (since:1d OR since:2d)", "since: cannot be an alternative of OR"},
		{"filter in excluded group", "x -(source:bbc storm)", "source: applies to the whole query"},
		{"filter in a group inside OR", "x OR (y source:bbc)", "source: applies to the whole query"},
		{"excluded since", "storm -since:7d", "-since: cannot be excluded; use before: instead"},
		{"empty source", "storm source:", "source: needs a name"},
		{"empty quoted source", `storm source:""`, "source: needs a name"},
		{"bad since", "storm since:soon", `since:"soon" is not a time`},
		{"minutes are ambiguous", "storm since:10m", `since:"10m" is not a time`},
		{"zero duration", "storm since:0d", "is not a time"},
		{"negative duration", "storm before:-3d", "is not a time"},
		{"huge duration", "storm since:999999d", "is not a time"},
		{"bad date", "storm since:2024-02-30", "is not a time"},
		{"long bad value is shortened", "storm since:" + strings.Repeat("x", 100), `"xxxxxxxxxxxxxxxxxxxx…" is not a time`},
		{"too long", strings.Repeat("storm ", 100), "the query is too long (600 characters); use at most 500"},
		{"very long", strings.Repeat("a", 1<<20), "the query is too long"},
		{"too many words", strings.Repeat("w ", 40), "too many words (40); use at most 32"},
		{"too many words in a phrase", `"` + strings.Repeat("w ", 33) + `"`, "too many words"},
		{"nested too deep", strings.Repeat("(", 20) + "storm", "nests parentheses too deeply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := digest.ParseQuery(tc.in)
			if err == nil {
				t.Fatalf("ParseQuery(%.40q) = %s, want an error saying %q", tc.in, q, tc.want)
			}
			if digest.ErrorCode(err) != digest.EINVALID {
				t.Errorf("code = %q, want %q", digest.ErrorCode(err), digest.EINVALID)
			}
			if msg := digest.ErrorMessage(err); !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not say %q", msg, tc.want)
			}
		})
	}
}

func TestQueryString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"storm  power", "storm power"},
		{"“power cut”   -sport", `"power cut" -sport`},
		{"storm OR flood power", "(storm OR flood) power"},
		{"(a b) OR c", "(a b) OR c"},
		{"x -(a OR b) -(c d)", "x -(a OR b) -(c d)"},
		{`"OR" x`, `"OR" x`},
		{"Source:\"New  York\" storm FEED:12 since:24H before:2024-03", `storm source:"New York" feed:12 since:24h before:2024-03`},
		{"-source:x -feed:y z", "z -source:x -feed:y"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			q := mustParse(t, tc.in)
			if got := q.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if back := mustParse(t, q.String()); !reflect.DeepEqual(back, q) {
				t.Errorf("ParseQuery(String()) = %#v, want %#v", back, q)
			}
		})
	}
}

func TestQueryWindow(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	now := time.Date(2024, 3, 22, 1, 30, 0, 0, time.UTC) // 02:30 in Berlin
	for _, tc := range []struct {
		name, in      string
		loc           *time.Location
		since, before time.Time
	}{
		{"no bounds", "storm", nil, time.Time{}, time.Time{}},
		{"relative", "storm since:7d before:12h", nil, now.Add(-7 * 24 * time.Hour), now.Add(-12 * time.Hour)},
		{"date in UTC", "storm since:2024-03-20", nil, time.Date(2024, 3, 20, 0, 0, 0, 0, time.UTC), time.Time{}},
		{"date in the searcher's zone", "storm since:2024-03-20", berlin, time.Date(2024, 3, 20, 0, 0, 0, 0, berlin), time.Time{}},
		{"today in UTC", "storm since:today", nil, time.Date(2024, 3, 22, 0, 0, 0, 0, time.UTC), time.Time{}},
		{"yesterday in Berlin", "storm since:yesterday before:today", berlin,
			time.Date(2024, 3, 21, 0, 0, 0, 0, berlin), time.Date(2024, 3, 22, 0, 0, 0, 0, berlin)},
		{"the latest since and the earliest before win", "storm since:30d since:2d before:1h before:1d", nil,
			now.Add(-2 * 24 * time.Hour), now.Add(-24 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			since, before := mustParse(t, tc.in).Window(now, tc.loc)
			if !since.Equal(tc.since) || !before.Equal(tc.before) {
				t.Errorf("Window = %v, %v; want %v, %v", since, before, tc.since, tc.before)
			}
		})
	}
}

func TestResolveFeeds(t *testing.T) {
	feeds := []*digest.Feed{
		{ID: 1, URL: "https://www.bbc.co.uk/news/rss.xml", Title: "BBC News - Home"},
		{ID: 2, URL: "https://ledger.example/feed", Name: "ledger", Title: "The Daily Ledger"},
		{ID: 12, URL: "https://rundschau.example/atom", Title: "Rundschau Übersicht"},
	}
	for _, tc := range []struct {
		name, in         string
		include, exclude []int64
		err              string
	}{
		{"by ID", "x feed:12", []int64{12}, nil, ""},
		{"by name", "x feed:ledger", []int64{2}, nil, ""},
		{"by title words in order", `x feed:"daily ledger"`, []int64{2}, nil, ""},
		{"words out of order do not match", `x feed:"ledger daily"`, nil, nil, "no feed matches feed:\"ledger daily\""},
		{"by address", "x feed:bbc.co.uk", []int64{1}, nil, ""},
		{"ignoring case", "x feed:ÜBERSICHT", []int64{12}, nil, ""},
		{"several", "x feed:bbc feed:12", []int64{1, 12}, nil, ""},
		{"exclude", "x -feed:bbc", nil, []int64{1}, ""},
		{"exclude nothing known", "x -feed:nowhere", nil, nil, ""},
		{"unknown", "x feed:nowhere", nil, nil, "no feed matches feed:nowhere"},
		{"part of a word does not match", "x feed:led", nil, nil, "no feed matches"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			include, exclude, err := mustParse(t, tc.in).ResolveFeeds(feeds)
			if tc.err != "" {
				if digest.ErrorCode(err) != digest.EINVALID || !strings.Contains(digest.ErrorMessage(err), tc.err) {
					t.Fatalf("err = %v, want EINVALID saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(include, tc.include) || !reflect.DeepEqual(exclude, tc.exclude) {
				t.Errorf("ResolveFeeds = %v, %v; want %v, %v", include, exclude, tc.include, tc.exclude)
			}
		})
	}
}

func TestSearchCursor(t *testing.T) {
	q := mustParse(t, "storm source:bbc")
	c := digest.SearchCursor{Offset: 20, Snapshot: 123456, Now: time.Date(2026, 3, 22, 9, 30, 0, 123456000, time.UTC)}
	s := digest.EncodeSearchCursor(q, c)
	t.Run("round trip", func(t *testing.T) {
		got, err := digest.DecodeSearchCursor(q, s)
		if err != nil {
			t.Fatal(err)
		}
		if got != c {
			t.Errorf("decoded %+v, want %+v", got, c)
		}
		// The same query written differently is the same search.
		if _, err := digest.DecodeSearchCursor(mustParse(t, "storm   Source:bbc"), s); err != nil {
			t.Errorf("cursor refused for the same query: %v", err)
		}
	})
	t.Run("another query", func(t *testing.T) {
		_, err := digest.DecodeSearchCursor(mustParse(t, "storm"), s)
		if digest.ErrorCode(err) != digest.EINVALID || !strings.Contains(digest.ErrorMessage(err), "belongs to another search") {
			t.Errorf("err = %v, want EINVALID: belongs to another search", err)
		}
	})
	t.Run("every altered character", func(t *testing.T) {
		for i := range s {
			for _, r := range []byte{'A', 'z', '0', '_'} {
				if s[i] == r {
					continue
				}
				bad := s[:i] + string(r) + s[i+1:]
				if _, err := digest.DecodeSearchCursor(q, bad); digest.ErrorCode(err) != digest.EINVALID {
					t.Fatalf("cursor altered at %d (%q) accepted: err %v", i, bad, err)
				}
			}
		}
	})
	t.Run("garbage", func(t *testing.T) {
		for _, bad := range []string{"x", "not a cursor", "====", s[:len(s)-1], s + "A", strings.Repeat("A", 200), "AQ", "\x00\xff"} {
			if _, err := digest.DecodeSearchCursor(q, bad); digest.ErrorCode(err) != digest.EINVALID {
				t.Errorf("DecodeSearchCursor(%q): err %v, want EINVALID", bad, err)
			}
		}
	})
}

func TestSplitSnippet(t *testing.T) {
	m, e := digest.SnippetMatchStart, digest.SnippetMatchEnd
	for _, tc := range []struct {
		in   string
		want []digest.SnippetPart
	}{
		{"", nil},
		{"no match", []digest.SnippetPart{{Text: "no match"}}},
		{"the " + m + "storm" + e + " hits " + m + "Elin" + e, []digest.SnippetPart{
			{Text: "the "}, {Text: "storm", Match: true}, {Text: " hits "}, {Text: "Elin", Match: true}}},
		{m + "<b>" + e + " & *x*", []digest.SnippetPart{{Text: "<b>", Match: true}, {Text: " & *x*"}}},
		{"stray " + e + "end and " + m + "open", []digest.SnippetPart{{Text: "stray "}, {Text: "end and "}, {Text: "open", Match: true}}},
	} {
		if got := digest.SplitSnippet(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitSnippet(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	if got := digest.PlainSnippet("the " + m + "storm" + e); got != "the storm" {
		t.Errorf("PlainSnippet = %q", got)
	}
}

func TestPlanSearch(t *testing.T) {
	clock := time.Date(2026, 3, 22, 12, 0, 0, 0, time.UTC)
	asked := clock.Add(-time.Hour)
	for _, tc := range []struct {
		name      string
		req       digest.SearchRequest
		wantLimit int
		wantNow   time.Time
	}{
		{"default limit and the store's clock", digest.SearchRequest{Query: "storm"}, digest.DefaultSearchLimit, clock},
		{"limit as asked", digest.SearchRequest{Query: "storm", Limit: 7}, 7, clock},
		{"limit capped", digest.SearchRequest{Query: "storm", Limit: 5000}, digest.MaxSearchLimit, clock},
		{"the request's clock", digest.SearchRequest{Query: "storm", Now: asked}, digest.DefaultSearchLimit, asked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := digest.PlanSearch(tc.req, clock)
			if err != nil {
				t.Fatal(err)
			}
			if p.Limit != tc.wantLimit || !p.First || !p.Cursor.Now.Equal(tc.wantNow) || p.Cursor.Offset != 0 || p.Query.String() != "storm" {
				t.Errorf("PlanSearch = %+v, want limit %d, a first page at %v", p, tc.wantLimit, tc.wantNow)
			}
		})
	}
	t.Run("next pages", func(t *testing.T) {
		p, err := digest.PlanSearch(digest.SearchRequest{Query: "storm", Limit: 5, Now: asked}, clock)
		if err != nil {
			t.Fatal(err)
		}
		p.Cursor.Snapshot = 99
		p2, err := digest.PlanSearch(digest.SearchRequest{Query: "storm", Limit: 5, Cursor: p.Next()}, clock.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := digest.SearchCursor{Offset: 5, Snapshot: 99, Now: asked}
		if p2.First || p2.Cursor != want {
			t.Errorf("second page: first %v, cursor %+v; want %+v", p2.First, p2.Cursor, want)
		}
		p3, err := digest.PlanSearch(digest.SearchRequest{Query: "storm", Limit: 5, Cursor: p2.Next()}, clock)
		if err != nil {
			t.Fatal(err)
		}
		if p3.Cursor.Offset != 10 || p3.Cursor.Snapshot != 99 {
			t.Errorf("third page cursor %+v, want offset 10 and the first page's snapshot", p3.Cursor)
		}
	})
	for _, tc := range []struct {
		name string
		req  digest.SearchRequest
	}{
		{"negative limit", digest.SearchRequest{Query: "storm", Limit: -1}},
		{"bad query", digest.SearchRequest{Query: "-storm"}},
		{"garbled cursor", digest.SearchRequest{Query: "storm", Cursor: "xyz"}},
		{"another query's cursor", digest.SearchRequest{Query: "flood", Cursor: digest.EncodeSearchCursor(mustParse(t, "storm"), digest.SearchCursor{Offset: 10})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := digest.PlanSearch(tc.req, clock); digest.ErrorCode(err) != digest.EINVALID {
				t.Errorf("PlanSearch: err %v, want EINVALID", err)
			}
		})
	}
}

func TestLeadSnippet(t *testing.T) {
	long := strings.Repeat("word ", 60) // 300 characters
	for _, tc := range []struct {
		name, summary, content, want string
	}{
		{"summary", "  Storm Elin\n hits\tthe coast. ", "Content.", "Storm Elin hits the coast."},
		{"content when no summary", " ", "Engineers worked  overnight.", "Engineers worked overnight."},
		{"nothing", "", "", ""},
		{"markers removed", "a \x02marked\x03 word", "", "a marked word"},
		{"cut at a word", long, "", strings.TrimSpace(strings.Repeat("word ", 40)) + "…"},
		{"exactly the limit", strings.Repeat("x", digest.SearchLeadRunes), "", strings.Repeat("x", digest.SearchLeadRunes)},
		{"no space to cut at", strings.Repeat("é", 300), "", strings.Repeat("é", digest.SearchLeadRunes) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := digest.LeadSnippet(tc.summary, tc.content); got != tc.want {
				t.Errorf("LeadSnippet(%q, %q) = %q, want %q", tc.summary, tc.content, got, tc.want)
			}
		})
	}
}

func TestHitSource(t *testing.T) {
	for _, tc := range []struct {
		name, source, feedName, feedTitle, link, want string
	}{
		{"source first", "BBC News", "bbc", "BBC - Home", "https://www.bbc.example/a", "BBC News"},
		{"feed name", "", "bbc", "BBC - Home", "https://www.bbc.example/a", "bbc"},
		{"feed title", "", "", "BBC - Home", "https://www.bbc.example/a", "BBC - Home"},
		{"host without www", "", "", "", "https://www.bbc.example/a", "bbc.example"},
		{"nothing known", "", "", "", "not a link", "unknown source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := digest.HitSource(tc.source, tc.feedName, tc.feedTitle, tc.link); got != tc.want {
				t.Errorf("HitSource = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRankedHits(t *testing.T) {
	day := time.Date(2026, 3, 22, 9, 0, 0, 0, time.UTC)
	rows := []digest.HitRow{ // in the order a store happened to read them
		{ArticleID: 7, Title: "Seven", URL: "https://www.seven.example/7", Published: day, Summary: "  Summary\tof seven ", Sources: 0},
		{ArticleID: 3, Title: "Three", URL: "https://three.example/3", Source: "Three News", FeedName: "three",
			Summary: "", Content: "Content of three", Sources: 4},
	}
	got := digest.RankedHits(rows, []int64{3, 5, 7}, []int64{30, 50, 3})
	want := []digest.SearchHit{
		{StoryID: 30, ArticleID: 3, Title: "Three", URL: "https://three.example/3", Source: "Three News", Sources: 4, Snippet: "Content of three"},
		{StoryID: 3, ArticleID: 7, Title: "Seven", URL: "https://www.seven.example/7", Source: "seven.example", Sources: 1, Snippet: "Summary of seven", Published: day},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RankedHits =\n%+v\nwant (in rank order, article 5 left out as it has no row)\n%+v", got, want)
	}
	if got := digest.RankedHits(nil, nil, nil); got == nil || len(got) != 0 {
		t.Errorf("RankedHits of nothing = %#v, want an empty slice", got)
	}
}
