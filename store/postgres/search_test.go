package postgres

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/store/storetest"
)

var searchNow = time.Date(2026, 3, 22, 12, 0, 0, 0, time.UTC)

func openSearchDB(tb testing.TB) (*DB, *digest.Feed) {
	tb.Helper()
	db := openURL(tb, freshSchema(tb))
	f := &digest.Feed{URL: "https://ledger.example/feed", Name: "ledger"}
	if err := db.CreateFeed(context.Background(), f); err != nil {
		tb.Fatal(err)
	}
	return db, f
}

// saveText saves one article per title, with the given summary and
// content, newest first.
func saveText(tb testing.TB, db *DB, feedID int64, arts ...*digest.Article) {
	tb.Helper()
	for i, a := range arts {
		if a.Key == "" {
			a.Key = a.Title
		}
		if a.Published.IsZero() {
			a.Published = searchNow.Add(-time.Duration(i) * time.Hour)
		}
	}
	if _, err := db.SaveArticles(context.Background(), feedID, arts); err != nil {
		tb.Fatal(err)
	}
}

func titled(titles ...string) []*digest.Article {
	var out []*digest.Article
	for _, t := range titles {
		out = append(out, &digest.Article{Key: t, Title: t, Summary: "Summary: " + t, Source: "Ledger"})
	}
	return out
}

// found returns the IDs of the articles a query finds, sorted.
func found(tb testing.TB, db *DB, query string) []int64 {
	tb.Helper()
	return storetest.FoundArticles(tb, db, query, searchNow)
}

func ids(arts ...*digest.Article) []int64 {
	var out []int64
	for _, a := range arts {
		out = append(out, a.ID)
	}
	slices.Sort(out)
	return out
}

// TestSearchIndexFollowsArticles checks the generated column: the index
// changes with the articles table, in the same statement, whoever writes.
func TestSearchIndexFollowsArticles(t *testing.T) {
	db, f := openSearchDB(t)
	ctx := context.Background()
	arts := titled("comet sighted", "comet tail")
	saveText(t, db, f.ID, arts...)
	if got := found(t, db, "comet"); !slices.Equal(got, ids(arts...)) {
		t.Fatalf("comet: %v", got)
	}
	// A rejected batch leaves nothing in the index either.
	_, err := db.SaveArticles(ctx, f.ID, []*digest.Article{{Key: "nebula", Title: "nebula photographed"}, {Title: "no key"}})
	if digest.ErrorCode(err) != digest.EINVALID {
		t.Fatalf("SaveArticles with a keyless article: %v", err)
	}
	if got := found(t, db, "nebula"); len(got) != 0 {
		t.Errorf("rejected article is searchable: %v", got)
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`UPDATE articles SET title = 'asteroid tail', summary = 'asteroid' WHERE id = $1`, arts[1].ID)
	if got := found(t, db, "asteroid"); !slices.Equal(got, ids(arts[1])) {
		t.Errorf("after retitling, asteroid: %v", got)
	}
	if got := found(t, db, "comet"); !slices.Equal(got, ids(arts[0])) {
		t.Errorf("after retitling, comet: %v (the old title is still indexed)", got)
	}
	exec(`DELETE FROM article_feeds WHERE article_id = $1`, arts[0].ID)
	exec(`DELETE FROM articles WHERE id = $1`, arts[0].ID)
	if got := found(t, db, "comet"); len(got) != 0 {
		t.Errorf("deleted article is searchable: %v", got)
	}
}

// TestSearchText checks how text is folded: case and accents in any
// script, typographic punctuation, word endings, small words, and the
// borders between fields.
func TestSearchText(t *testing.T) {
	db, f := openSearchDB(t)
	arts := []*digest.Article{
		{Key: "mexico", Title: "Élections au México: LE VOTE", Source: "Le Monde"},
		{Key: "quotes", Title: "A “storm” hit—then «calm» returned", Source: "Wire"},
		{Key: "russian", Title: "ПРИВЕТ мир: Новости", Source: "ТАСС"},
		{Key: "floods", Title: "Flooding closes roads", Summary: "The floods reached the town.", Source: "Wire"},
		{Key: "who", Title: "The Who play tonight", Source: "Music Weekly"},
		{Key: "fields", Title: "Harbour reopens", Summary: "Crowds cheer", Source: "Coast News"},
		{Key: "covid", Title: "COVID-19 cases fall in the U.S.", Source: "Health Desk"},
	}
	saveText(t, db, f.ID, arts...)
	byKey := map[string]*digest.Article{}
	for _, a := range arts {
		byKey[a.Key] = a
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"mexico", []string{"mexico"}},
		{"MÉXICO", []string{"mexico"}},
		{"elections vote", []string{"mexico"}},
		{"storm", []string{"quotes"}},
		{`"hit then calm"`, []string{"quotes"}},
		{"привет", []string{"russian"}},
		{"МИР новости", []string{"russian"}},
		{"source:тасс", []string{"russian"}},
		{"flood", []string{"floods"}},
		{"flooded", []string{"floods"}},
		{`"the who"`, []string{"who"}},
		{"the who", []string{"who"}},
		{`"reopens crowds"`, nil}, // title then summary: not a phrase
		{`"cheer coast"`, nil},    // summary then source
		{"covid-19", []string{"covid"}},
		{`"19 cases"`, []string{"covid"}},
		{"u.s.", []string{"covid"}},
		{"source:coast", []string{"fields"}},
		{"source:harbour", nil}, // a title word is not a source
	} {
		t.Run(tc.query, func(t *testing.T) {
			var want []*digest.Article
			for _, k := range tc.want {
				want = append(want, byKey[k])
			}
			if got := found(t, db, tc.query); !slices.Equal(got, ids(want...)) {
				t.Errorf("Search(%q) = %v, want %v (%v)", tc.query, got, ids(want...), tc.want)
			}
		})
	}
}

// TestSearchHugeArticle saves an article whose text is far larger than a
// tsvector holds: the article is stored and its beginning searchable.
func TestSearchHugeArticle(t *testing.T) {
	db, f := openSearchDB(t)
	var b strings.Builder
	for i := 0; b.Len() < 3<<20; i++ {
		fmt.Fprintf(&b, "w%dx ", i) // every word distinct
	}
	a := &digest.Article{Key: "huge", Title: "Enormous report", Content: b.String()}
	saveText(t, db, f.ID, a)
	if got := found(t, db, "w12x"); !slices.Equal(got, ids(a)) {
		t.Errorf("a word near the start: %v", got)
	}
	if got := found(t, db, "enormous"); !slices.Equal(got, ids(a)) {
		t.Errorf("the title: %v", got)
	}
}

func TestSearchSnippets(t *testing.T) {
	db, f := openSearchDB(t)
	filler := strings.Repeat("Officials met again to discuss the budget and the schedule. ", 8)
	arts := []*digest.Article{
		{Key: "middle", Title: "Council news", Summary: "Short summary.", Content: filler + "A volcano erupted near the coast. " + filler},
		{Key: "end", Title: "Council news", Summary: "Budget talks went on until the volcano erupted!"},
		{Key: "control", Title: "Council volcano", Summary: "Marker \x02characters\x03 in volcano text"},
	}
	saveText(t, db, f.ID, arts...)
	snippets := map[int64]string{}
	page, err := db.Search(context.Background(), digest.SearchRequest{Query: "volcano", Now: searchNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range page.Hits {
		snippets[h.ArticleID] = h.Snippet
	}
	mark := digest.SnippetMatchStart + "volcano" + digest.SnippetMatchEnd
	if s := snippets[arts[0].ID]; !strings.HasPrefix(s, "…") || !strings.HasSuffix(s, "…") || !strings.Contains(s, mark) {
		t.Errorf("match in the middle of the content: snippet %q, want … around a fragment with %q", s, mark)
	}
	if s := snippets[arts[1].ID]; s != "Budget talks went on until the "+mark+" erupted!" {
		t.Errorf("match in a short summary: snippet %q, want the whole summary, its ! kept", s)
	}
	s := snippets[arts[2].ID]
	var marked []string
	for _, p := range digest.SplitSnippet(s) {
		if p.Match {
			marked = append(marked, p.Text)
		}
	}
	if !slices.Equal(marked, []string{"volcano"}) {
		t.Errorf("stored marker characters: snippet %q marks %q, want only volcano", s, marked)
	}
}

// TestSearchInsertLock checks that new articles wait for the insert lock,
// so that IDs become visible in order, and that a batch of known articles
// (links only) does not.
func TestSearchInsertLock(t *testing.T) {
	db, f := openSearchDB(t)
	ctx := context.Background()
	known := titled("known article")
	saveText(t, db, f.ID, known...)
	other := &digest.Feed{URL: "https://other.example/feed"}
	if err := db.CreateFeed(ctx, other); err != nil {
		t.Fatal(err)
	}

	// Another writer holds the lock, as a transaction inserting does.
	holder, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, articleInsertLock); err != nil {
		t.Fatal(err)
	}

	linkCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	again := titled("known article")
	if _, err := db.SaveArticles(linkCtx, other.ID, again); err != nil {
		t.Fatalf("linking a known article waited for the insert lock: %v", err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := db.SaveArticles(ctx, f.ID, titled("new article"))
		done <- err
	}()
	// It must still be waiting while the lock is held.
	var waiting bool
	for range 100 {
		if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted)`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !waiting {
		t.Fatal("a batch with a new article did not wait for the insert lock")
	}
	select {
	case err := <-done:
		t.Fatalf("SaveArticles returned (%v) while the insert lock was held", err)
	default:
	}
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestTSQuery checks the tsquery text built from parsed queries, with
// lexemes that are the words themselves.
func TestTSQuery(t *testing.T) {
	for _, tc := range []struct {
		query                     string
		none                      bool
		match, exclude, highlight string
	}{
		{query: "storm", match: "('storm')", highlight: "('storm')"},
		{query: `"power cut" -sport`, match: "('power' <-> 'cut') & !('sport')", highlight: "('power' <-> 'cut')"},
		{query: "(storm OR flood) power -(rain OR hail)",
			match:     "((('storm') | ('flood')) & ('power')) & !(('rain') | ('hail'))",
			highlight: "(('storm') | ('flood') | ('power'))"},
		{query: "(a -b) OR c", match: "((('a') & !('b')) | ('c'))", highlight: "(('a') | ('c'))"},
		{query: `source:"new york" -source:fox since:1d`, match: "('new':D <-> 'york':D) & !('fox':D)"},
		{query: "source:bbc source:ledger", match: "(('bbc':D) | ('ledger':D))"},
		{query: "source:bbc -storm", match: "('bbc':D) & !('storm')"},
		{query: "since:2d -storm -source:x", exclude: "(('storm') | ('x':D))"},
		{query: "feed:x", match: ""},
		{query: `it's o'clock \ done`, match: `(('it' <-> 's') & ('o' <-> 'clock') & ('done'))`,
			highlight: `(('it' <-> 's') | ('o' <-> 'clock') | ('done'))`},
		// "²" folds to no word: a phrase that can match nothing.
		{query: "storm ²", none: true},
		{query: "storm OR ²", match: "('storm')", highlight: "('storm')"},
		{query: "storm -²", match: "('storm')", highlight: "('storm')"},
		{query: "source:² storm", none: true},
	} {
		t.Run(tc.query, func(t *testing.T) {
			q := mustParseQuery(t, tc.query)
			got := tsBuilder{lex: wordLexemes(q)}.build(q)
			want := tsQueries{none: tc.none, match: tc.match, exclude: tc.exclude, highlight: tc.highlight}
			if !tc.none {
				want.rank = got.rank // checked below
			}
			if got != want {
				t.Errorf("build = %+v\nwant    %+v", got, want)
			}
			for _, s := range []string{got.match, got.exclude, got.rank, got.highlight} {
				checkTSQuerySyntax(t, s)
			}
		})
	}
}

// wordLexemes normalises like the server would for ASCII words: lower
// case, a word per lexeme; "²" has no lexeme.
func wordLexemes(q *digest.Query) lexemes {
	out := lexemes{}
	for _, p := range queryPhrases(q) {
		for i, w := range strings.Fields(p) {
			if w == "²" {
				continue
			}
			out[p] = append(out[p], lexeme{text: strings.ToLower(w), pos: i + 1})
		}
	}
	return out
}

// tsOperand is a quoted tsquery operand, with an optional weight label.
var tsOperand = regexp.MustCompile(`'(?:[^'\\]|''|\\.)*'(?::[A-D])?`)

// checkTSQuerySyntax fails unless text, once its quoted operands are taken
// out, holds only operators and parentheses: no user text outside quotes.
func checkTSQuerySyntax(tb testing.TB, text string) {
	tb.Helper()
	rest := tsOperand.ReplaceAllString(text, " ")
	for _, tok := range strings.Fields(strings.NewReplacer("(", " ", ")", " ", "!", " ! ").Replace(rest)) {
		switch tok {
		case "&", "|", "!", "<->":
		default:
			if !regexp.MustCompile(`^<\d+>$`).MatchString(tok) {
				tb.Fatalf("tsquery %q has %q outside quotes", text, tok)
			}
		}
	}
}

func mustParseQuery(tb testing.TB, s string) *digest.Query {
	tb.Helper()
	q, err := digest.ParseQuery(s)
	if err != nil {
		tb.Fatal(err)
	}
	return q
}

// TestTSQuote has the server parse quoted lexemes of awkward text: each
// must come back as one operand, unchanged.
func TestTSQuote(t *testing.T) {
	db := openURL(t, freshSchema(t))
	for _, lex := range []string{"plain", "it's", `back\slash`, `'`, `''`, `\`, `\'`, "a b", "x:D", "!&|<->()", "ünïcödé", "*"} {
		var nodes int
		if err := db.pool.QueryRow(context.Background(), `SELECT numnode($1::tsquery)`, tsQuote(lex)).Scan(&nodes); err != nil {
			t.Fatalf("%q as %s: %v", lex, tsQuote(lex), err)
		}
		if nodes != 1 {
			t.Errorf("%q as %s: the server reads %d nodes, want one operand", lex, tsQuote(lex), nodes)
		}
		var text string
		if err := db.pool.QueryRow(context.Background(), `SELECT $1::tsquery::text`, tsQuote(lex)).Scan(&text); err != nil {
			t.Fatal(err)
		}
		if text != tsQuote(lex) {
			t.Errorf("%q: quoted %s, server reads %s", lex, tsQuote(lex), text)
		}
	}
}

// FuzzSearch checks that whatever the query, Search gives a page or
// EINVALID: never a tsquery syntax error or another failure.
func FuzzSearch(f *testing.F) {
	db, feed := openSearchDB(f)
	saveText(f, db, feed.ID, titled("Storm Elin cuts power", "power cut after storm", "late goals settle the derby",
		`quotes " and 'apostrophes' and back\slashes and <-> & | ! operators:*`)...)
	// The shared seeds and tsquery syntax.
	for _, s := range append([]string{`'apostrophes' back\slashes <-> & | ! operators:* x:D`, "² ³", "'':*"}, storetest.SearchFuzzSeeds...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		if q, err := digest.ParseQuery(query); err == nil {
			lex, err := db.normalize(context.Background(), queryPhrases(q))
			if err != nil {
				t.Fatal(err)
			}
			tsq := tsBuilder{lex: lex}.build(q)
			for _, s := range []string{tsq.match, tsq.exclude, tsq.rank, tsq.highlight} {
				checkTSQuerySyntax(t, s)
			}
		}
		storetest.CheckSearchAnswer(t, db, query, searchNow)
	})
}

// TestArticleRowsStayPut checks that clustering and deleting feeds do not
// update article rows: PostgreSQL would recompute each one's search column
// and index it again.
func TestArticleRowsStayPut(t *testing.T) {
	db, f := openSearchDB(t)
	ctx := context.Background()
	arts := titled("quasar found", "quasar lost")
	saveText(t, db, f.ID, arts...)
	version := func() string {
		t.Helper()
		var v string
		if err := db.pool.QueryRow(ctx, `SELECT string_agg(xmin::text || ctid::text, ',' ORDER BY id) FROM articles`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := version()
	a, b := arts[0].ID, arts[1].ID
	if err := db.AssignStories(ctx, []digest.StoryAssignment{{ArticleID: a, StoryID: a}, {ArticleID: b, StoryID: b}}, searchNow); err != nil {
		t.Fatal(err)
	}
	if err := db.MergeStories(ctx, digest.StoryMerge{From: b, Into: a, ArticleID: b, At: searchNow}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteFeed(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if after := version(); after != before {
		t.Errorf("article rows were rewritten: versions %s, then %s", before, after)
	}
	got, err := db.FindArticleByID(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if got.StoryID != a || got.FeedID != 0 {
		t.Errorf("article %d: story %d, feed %d; want story %d, feed 0", b, got.StoryID, got.FeedID, a)
	}
}
