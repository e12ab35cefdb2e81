package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
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
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(tb.TempDir(), "search.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	f := &digest.Feed{URL: "https://ledger.example/feed", Name: "ledger"}
	if err := db.CreateFeed(ctx, f); err != nil {
		tb.Fatal(err)
	}
	return db, f
}

// openSearchDB2 is openSearchDB with a second feed.
func openSearchDB2(tb testing.TB) (*DB, *digest.Feed, *digest.Feed) {
	tb.Helper()
	db, f := openSearchDB(tb)
	other := &digest.Feed{URL: "https://other.example/feed"}
	if err := db.CreateFeed(context.Background(), other); err != nil {
		tb.Fatal(err)
	}
	return db, f, other
}

func saveSearchArticles(tb testing.TB, db *DB, feedID int64, titles ...string) []*digest.Article {
	tb.Helper()
	var arts []*digest.Article
	for i, t := range titles {
		arts = append(arts, &digest.Article{Key: t, URL: "https://ledger.example/" + t, Title: t, Summary: "Summary: " + t,
			Source: "Ledger", Published: searchNow.Add(-time.Duration(i) * time.Hour)})
	}
	if _, err := db.SaveArticles(context.Background(), feedID, arts); err != nil {
		tb.Fatal(err)
	}
	return arts
}

// found returns the IDs of the articles a query finds, sorted.
func found(tb testing.TB, db *DB, query string) []int64 {
	tb.Helper()
	return storetest.FoundArticles(tb, db, query, searchNow)
}

func checkIndex(tb testing.TB, db *DB) {
	tb.Helper()
	if _, err := db.db.Exec(`INSERT INTO article_search (article_search, rank) VALUES ('integrity-check', 1)`); err != nil {
		tb.Fatalf("FTS5 integrity check: %v", err)
	}
}

// TestSearchIndexFollowsArticles checks the triggers: the index changes with
// the articles table, in the same transaction.
func TestSearchIndexFollowsArticles(t *testing.T) {
	db, f := openSearchDB(t)
	ctx := context.Background()
	arts := saveSearchArticles(t, db, f.ID, "comet sighted", "comet tail")
	if got := found(t, db, "comet"); !slices.Equal(got, []int64{arts[0].ID, arts[1].ID}) {
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

	if _, err := db.db.Exec(`UPDATE articles SET title = 'asteroid tail', summary = 'asteroid' WHERE id = ?`, arts[1].ID); err != nil {
		t.Fatal(err)
	}
	if got := found(t, db, "asteroid"); !slices.Equal(got, []int64{arts[1].ID}) {
		t.Errorf("after retitling, asteroid: %v", got)
	}
	if got := found(t, db, "comet"); !slices.Equal(got, []int64{arts[0].ID}) {
		t.Errorf("after retitling, comet: %v (the old title is still indexed)", got)
	}
	// Assigning a story does not touch the index.
	if err := db.AssignStories(ctx, []digest.StoryAssignment{{ArticleID: arts[0].ID, StoryID: arts[0].ID}}, searchNow); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec(`DELETE FROM article_feeds WHERE article_id = ?`, arts[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec(`UPDATE articles SET story_id = NULL WHERE id = ?`, arts[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec(`DELETE FROM stories`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec(`DELETE FROM articles WHERE id = ?`, arts[0].ID); err != nil {
		t.Fatal(err)
	}
	if got := found(t, db, "comet"); len(got) != 0 {
		t.Errorf("deleted article is searchable: %v", got)
	}
	checkIndex(t, db)
}

// TestSearchMigrationIndexesExistingArticles runs migration 0003 on a
// database that already holds articles, as an upgrade does.
func TestSearchMigrationIndexesExistingArticles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	f := &digest.Feed{URL: "https://ledger.example/feed"}
	if err := db.CreateFeed(ctx, f); err != nil {
		t.Fatal(err)
	}
	arts := saveSearchArticles(t, db, f.ID, "glacier retreat", "glacier lake")
	// Take the database back to version 2, articles and all.
	for _, stmt := range []string{
		`DROP TABLE search_blocks`, `DROP TRIGGER articles_search_block_insert`, `DROP TRIGGER articles_search_block_update`, // 0005
		`DROP TABLE leases`, // 0004
		`DROP TABLE article_search`, `DROP TRIGGER articles_search_insert`, `DROP TRIGGER articles_search_delete`,
		`DROP TRIGGER articles_search_update`, `DROP INDEX articles_search_meta`,
		`PRAGMA user_version = 2`, // articles_published, of 0003, went in 0005
	} {
		if _, err := db.db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	db.Close()

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := found(t, db, "glacier"); !slices.Equal(got, []int64{arts[0].ID, arts[1].ID}) {
		t.Errorf("after migrating, glacier: %v, want both older articles", got)
	}
	checkIndex(t, db)
	checkSearchBlocks(t, db)
}

// checkSearchBlocks checks that search_blocks bounds the publication time
// of every article: each article's block is there, with an earliest time
// no later and a latest time no earlier than the article's.
func checkSearchBlocks(t *testing.T, db *DB) {
	t.Helper()
	var n int
	err := db.db.QueryRow(`SELECT count(*) FROM articles a LEFT JOIN search_blocks s ON s.block = a.id >> ` + searchBlockShift + `
		WHERE s.block IS NULL OR s.oldest > a.published OR s.newest < a.published`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		t.Errorf("%d articles are not bounded by search_blocks", n)
	}
}

// TestSearchIDRange checks the ID range of time windows, the shortcut a
// since: or before: search takes: it holds every article published in the
// window and is no wider than the blocks of search_blocks that hold them.
func TestSearchIDRange(t *testing.T) {
	db, f := openSearchDB(t)
	ctx := context.Background()
	// Five blocks of IDs: articles an hour apart, oldest first, with every
	// tenth one backfilled from days earlier, as a feed added later gives
	// them.
	const n = 1100
	var arts []*digest.Article
	for i := range n {
		age := time.Duration(n-i) * time.Hour
		if i%10 == 3 {
			age += time.Duration(24*(i%7+1)) * time.Hour
		}
		arts = append(arts, &digest.Article{Key: fmt.Sprint(i), Title: "tide", Published: searchNow.Add(-age)})
	}
	if _, err := db.SaveArticles(ctx, f.ID, arts); err != nil {
		t.Fatal(err)
	}
	checkSearchBlocks(t, db)
	snapshot := arts[n-1].ID - 5 // as if the last five came after the first page
	blockStart := func(id int64) int64 { return max(1, id>>searchBlockBits<<searchBlockBits) }
	blockEnd := func(id int64) int64 { return min(snapshot, (id>>searchBlockBits+1)<<searchBlockBits-1) }
	for _, tc := range []struct {
		name          string
		since, before time.Duration // how long ago; 0 for no bound
	}{
		{"open", 0, 0},
		{"since 5h", 5 * time.Hour, 0},
		{"since 300h", 300 * time.Hour, 0},
		{"since 900h", 900 * time.Hour, 0},
		{"since 3000h: all", 3000 * time.Hour, 0},
		{"since 30m: none", 30 * time.Minute, 0},
		{"before 1000h", 0, 1000 * time.Hour},
		{"before 200h", 0, 200 * time.Hour},
		{"before 3000h: none", 0, 3000 * time.Hour},
		{"window", 600 * time.Hour, 400 * time.Hour},
		{"window without articles", 1000*time.Hour + 30*time.Minute, 1000 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var since, before time.Time
			if tc.since > 0 {
				since = searchNow.Add(-tc.since)
			}
			if tc.before > 0 {
				before = searchNow.Add(-tc.before)
			}
			// What the range must be: from the block of the first article
			// published since the window's start to that of the last one
			// published before its end, within the snapshot.
			wantLo, wantHi := int64(1), snapshot
			var in []int64
			firstSince, lastBefore := int64(0), int64(0)
			for _, a := range arts {
				after, beforeEnd := since.IsZero() || !a.Published.Before(since), before.IsZero() || a.Published.Before(before)
				if after && firstSince == 0 {
					firstSince = a.ID
				}
				if beforeEnd {
					lastBefore = a.ID
				}
				if after && beforeEnd && a.ID <= snapshot {
					in = append(in, a.ID)
				}
			}
			if !since.IsZero() {
				wantLo = blockStart(firstSince)
			}
			if !before.IsZero() {
				wantHi = blockEnd(lastBefore)
			}
			lo, hi, err := db.idRange(ctx, since, before, snapshot)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range in {
				if id < lo || id > hi {
					t.Fatalf("idRange = [%d, %d] leaves out article %d, published in the window", lo, hi, id)
				}
			}
			empty := (!since.IsZero() && firstSince == 0) || (!before.IsZero() && lastBefore == 0)
			switch {
			case empty && lo <= hi:
				t.Errorf("idRange = [%d, %d], want empty: nothing was published in the window", lo, hi)
			case !empty && (lo != wantLo || hi != wantHi):
				t.Errorf("idRange = [%d, %d], want [%d, %d]", lo, hi, wantLo, wantHi)
			}
			if len(in) > 0 && hi-lo+1 > int64(len(in))+4<<searchBlockBits {
				t.Errorf("idRange = [%d, %d] is much wider than the %d articles of the window", lo, hi, len(in))
			}
		})
	}
}

// FuzzSearch checks that whatever the query, Search gives a page or
// EINVALID: never an FTS5 syntax error or another failure.
func FuzzSearch(f *testing.F) {
	db, feed := openSearchDB(f)
	saveSearchArticles(f, db, feed.ID, "Storm Elin cuts power", "power cut after storm", "late goals settle the derby",
		`quotes " and 'apostrophes' and NEAR(x y) and {title}: and *stars*`)
	// The shared seeds and FTS5 syntax.
	for _, s := range append([]string{`NEAR(storm power, 2) title:storm {title}: x ^y z* "`}, storetest.SearchFuzzSeeds...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		if q, err := digest.ParseQuery(query); err == nil {
			m := queryMatch(q)
			checkMatchSyntax(t, m.pos)
			checkMatchSyntax(t, m.neg)
		}
		storetest.CheckSearchAnswer(t, db, query, searchNow)
	})
}

// ftsString is a quoted FTS5 string, with doubled quotes inside.
var ftsString = regexp.MustCompile(`"(?:[^"]|"")*"`)

// checkMatchSyntax fails unless expr, once its quoted strings are taken
// out, holds nothing but parentheses, AND, OR, NOT and the source column
// filter: no user text outside quotes.
func checkMatchSyntax(tb testing.TB, expr string) {
	tb.Helper()
	rest := ftsString.ReplaceAllString(expr, " ")
	for _, tok := range strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(rest)) {
		switch tok {
		case "AND", "OR", "NOT", "source", ":":
		default:
			tb.Fatalf("MATCH expression %q has %q outside quotes", expr, tok)
		}
	}
}

func TestMatchExpression(t *testing.T) {
	for _, tc := range []struct{ query, pos, neg string }{
		{"storm", `(("storm"))`, ""},
		{`"power cut" -sport`, `(("power cut"))`, `("sport")`},
		{"(storm OR flood) power -(rain OR hail)", `((("storm" OR "flood") AND "power"))`, `(("rain" OR "hail"))`},
		{"(a -b) OR c", `((((("a") NOT ("b")) OR "c")))`, ""},
		{`source:"new york" -source:fox since:1d`, `(source : ("new york"))`, `(source : ("fox"))`},
		{`NEAR(x y) title:z "a""b"`, `(("NEAR" AND "x" AND "y" AND "title z" AND "a" AND "b"))`, ""},
	} {
		m := queryMatch(mustParseQuery(t, tc.query))
		if m.pos != tc.pos || m.neg != tc.neg {
			t.Errorf("%s: MATCH %q NOT %q, want %q NOT %q", tc.query, m.pos, m.neg, tc.pos, tc.neg)
		}
		checkMatchSyntax(t, m.pos)
		checkMatchSyntax(t, m.neg)
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

func TestMergeSearchIndex(t *testing.T) {
	db, f := openSearchDB(t)
	ctx := context.Background()
	// One SaveArticles call per article: one index segment each.
	for i := range 60 {
		saveSearchArticles(t, db, f.ID, fmt.Sprintf("quasar %d", i))
	}
	before := found(t, db, "quasar")
	if _, err := db.MergeSearchIndex(ctx, 0); digest.ErrorCode(err) != digest.EINVALID {
		t.Errorf("MergeSearchIndex(0): %v, want EINVALID", err)
	}
	calls := 0
	for more := true; more; calls++ {
		if calls > 100 {
			t.Fatal("MergeSearchIndex never reports that it is done")
		}
		var err error
		if more, err = db.MergeSearchIndex(ctx, 5); err != nil {
			t.Fatal(err)
		}
	}
	if calls < 2 {
		t.Errorf("merging 60 segments took %d call(s) of 5 pages, want several", calls)
	}
	checkIndex(t, db)
	if after := found(t, db, "quasar"); !slices.Equal(after, before) || len(after) != 60 {
		t.Errorf("after merging, quasar finds %d articles, want the same 60", len(after))
	}
}

// TestRankByRelevanceIsExact checks the shortcut of rankByRelevance, which
// bounds candidates by their block of IDs and stops reading them early,
// against scoring every candidate in SQL: with publication times in ID
// order, as a live feed gives them, and out of order, as backfilled feeds
// do; after publication times change; and with blocks missing from
// search_blocks.
func TestRankByRelevanceIsExact(t *testing.T) {
	for _, inOrder := range []bool{true, false} {
		t.Run(fmt.Sprintf("published in ID order %v", inOrder), func(t *testing.T) {
			db, f := openSearchDB(t)
			ctx := context.Background()
			r := rand.New(rand.NewPCG(1, 2))
			zipf := rand.NewZipf(r, 1.2, 1, 299)
			words := func(n int) string {
				var w []string
				for range n {
					w = append(w, fmt.Sprintf("w%d", zipf.Uint64()))
				}
				return strings.Join(w, " ")
			}
			const articles = 1200 // blocks of 256 IDs: four full and one part
			var ids []int64
			for batch := range articles / 100 {
				var arts []*digest.Article
				for i := range 100 {
					n := batch*100 + i
					// Thirty days, oldest first, give or take an hour.
					age := time.Duration(articles-n)*30*24*time.Hour/articles + time.Duration(r.IntN(120)-60)*time.Minute
					if !inOrder {
						age = time.Duration(r.IntN(30*24*60)) * time.Minute
					}
					arts = append(arts, &digest.Article{Key: fmt.Sprint(n), Title: words(3 + r.IntN(8)), Summary: words(10 + r.IntN(30)),
						Content: words(r.IntN(80)), Source: fmt.Sprintf("s%d", r.IntN(7)), Published: searchNow.Add(-age)})
				}
				if _, err := db.SaveArticles(ctx, f.ID, arts); err != nil {
					t.Fatal(err)
				}
				var as []digest.StoryAssignment
				for _, a := range arts {
					story := a.ID
					if len(ids) > 0 && r.IntN(3) == 0 {
						story = ids[r.IntN(len(ids))]
					}
					as = append(as, digest.StoryAssignment{ArticleID: a.ID, StoryID: story})
					ids = append(ids, story)
				}
				if err := db.AssignStories(ctx, as, searchNow); err != nil {
					t.Fatal(err)
				}
			}
			var snapshot int64
			if err := db.db.QueryRow(`SELECT max(id) FROM articles`).Scan(&snapshot); err != nil {
				t.Fatal(err)
			}
			queries := []string{"w0", "w1", "w5", "w40", "w3 w8", "w2 OR w9", `"w0 w1"`, "w4 -w30", "w7 source:s3", "(w1 OR w2) w6"}
			for i := range 8 {
				queries = append(queries, fmt.Sprintf("w%d", 10+i*17))
			}
			// check compares the shortcut with scoring every candidate, for
			// pages of one, eleven and forty stories; and so does a pass
			// over only the few candidates with the highest bounds, for each
			// number in few, when it says they were enough. Some must not be.
			check := func(t *testing.T, queries []string, few ...int) {
				short := 0
				for _, query := range queries {
					q := mustParseQuery(t, query)
					m := queryMatch(q)
					full, err := db.rankFiltered(ctx, q, m, nil, nil, nil, 1, snapshot, searchNow, 40)
					if err != nil {
						t.Fatal(err)
					}
					if len(full) == 0 {
						t.Errorf("%s: nothing found; the test needs matches", query)
					}
					for _, need := range []int{1, 11, 40} {
						fast, err := db.rankByRelevance(ctx, m.full(), 1, snapshot, searchNow, need)
						if err != nil {
							t.Fatal(err)
						}
						want := full[:min(need, len(full))]
						if !slices.Equal(fast, want) {
							t.Errorf("%s, first %d: shortcut ranks\n%v\nscoring all ranks\n%v", query, need, fast, want)
						}
						for _, limit := range few {
							some, complete, err := db.rankCandidates(ctx, m.full(), 1, snapshot, searchNow, need, limit)
							if err != nil {
								t.Fatal(err)
							}
							if !complete {
								short++
							} else if !slices.Equal(some, want) {
								t.Errorf("%s, first %d: %d candidates said to be enough rank\n%v\nscoring all ranks\n%v", query, need, limit, some, want)
							}
						}
					}
				}
				if len(few) > 0 && short == 0 {
					t.Error("every pass over a few candidates was enough; the test needs some that are not")
				}
			}
			t.Run("as stored", func(t *testing.T) {
				checkSearchBlocks(t, db)
				check(t, queries, 3, 12)
			})
			// Publication times changed later, some to now, some to long
			// ago: their blocks' times must widen.
			if _, err := db.db.Exec(`UPDATE articles SET published = ? WHERE id % 97 = 0`, micros(searchNow.Add(-time.Minute))); err != nil {
				t.Fatal(err)
			}
			if _, err := db.db.Exec(`UPDATE articles SET published = ? WHERE id % 89 = 0`, micros(searchNow.Add(-90*24*time.Hour))); err != nil {
				t.Fatal(err)
			}
			t.Run("republished", func(t *testing.T) {
				checkSearchBlocks(t, db)
				check(t, queries[:6])
			})
			if _, err := db.db.Exec(`DELETE FROM search_blocks WHERE block % 3 = 1`); err != nil {
				t.Fatal(err)
			}
			t.Run("blocks missing", func(t *testing.T) { check(t, queries[:6]) })
		})
	}
}

// TestSaveArticlesInChunks saves a batch larger than one INSERT statement
// takes, with keys repeated within a chunk, across chunks and from an
// earlier batch, and checks what SaveArticles promises and the index.
func TestSaveArticlesInChunks(t *testing.T) {
	db, f, other := openSearchDB2(t)
	ctx := context.Background()
	earlier := saveSearchArticles(t, db, other.ID, "pulsar 0", "pulsar 1")

	n := 2*saveChunk + 7
	var batch, want []*digest.Article
	for i := range n {
		key := fmt.Sprintf("pulsar %d", i)
		a := &digest.Article{Key: key, Title: key + " observed", Summary: "Summary of " + key,
			Published: searchNow.Add(-time.Duration(i) * time.Minute)}
		batch = append(batch, a)
		if i >= 2 {
			want = append(want, a)
		}
		switch i {
		case 10, saveChunk + 3: // again in the same chunk and in the next
			batch = append(batch, &digest.Article{Key: fmt.Sprintf("pulsar %d", i-5), Title: "repeated"})
		}
	}
	ins, err := db.SaveArticles(ctx, f.ID, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != len(want) {
		t.Fatalf("inserted %d articles, want %d", len(ins), len(want))
	}
	for i, a := range ins {
		if a != want[i] {
			t.Fatalf("inserted[%d] is %q, want %q: not the input order", i, a.Key, want[i].Key)
		}
		if a.ID == 0 || a.FeedID != f.ID || a.FirstSeen.IsZero() {
			t.Fatalf("inserted %q has ID %d, feed %d, first seen %v", a.Key, a.ID, a.FeedID, a.FirstSeen)
		}
		if i > 0 && a.ID <= ins[i-1].ID {
			t.Fatalf("IDs %d then %d: not in input order", ins[i-1].ID, a.ID)
		}
	}
	for _, key := range []string{"pulsar 0", "pulsar 5", fmt.Sprintf("pulsar %d", saveChunk-2), fmt.Sprintf("pulsar %d", n-1)} {
		got, err := db.FindArticleByKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title == "repeated" {
			t.Errorf("%s was stored from its repetition", key)
		}
		feeds, err := db.ArticleFeeds(ctx, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantFeeds := []int64{f.ID}
		if key == "pulsar 0" {
			wantFeeds = []int64{f.ID, other.ID}
			if got.ID != earlier[0].ID {
				t.Errorf("pulsar 0 has ID %d, stored before as %d", got.ID, earlier[0].ID)
			}
		}
		if !slices.Equal(feeds, wantFeeds) {
			t.Errorf("%s is linked to feeds %v, want %v", key, feeds, wantFeeds)
		}
	}
	var links int
	if err := db.db.QueryRow(`SELECT count(*) FROM article_feeds WHERE feed_id = ?`, f.ID).Scan(&links); err != nil {
		t.Fatal(err)
	}
	if links != n {
		t.Errorf("feed has %d article links, want %d", links, n)
	}
	checkIndex(t, db)
	if got := found(t, db, "observed"); len(got) != 100 {
		t.Errorf("observed finds %d articles, want a full page of 100", len(got))
	}
	page, err := db.Search(ctx, digest.SearchRequest{Query: fmt.Sprintf(`"pulsar %d"`, n-1), Now: searchNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Hits) != 1 || page.Hits[0].ArticleID != ins[len(ins)-1].ID {
		t.Errorf("the last article of the batch is not found by its title: %+v", page.Hits)
	}
}

// TestSaveArticlesSizeClasses saves batches of every size from 1 to 9, and
// of 2049, through statements padded to a power of two (or saveChunk) with
// NULL rows: the batches hold new keys, a key repeated within the batch and
// one or two keys stored before. Only real rows are stored and linked, and
// each statement is prepared once per class.
func TestSaveArticlesSizeClasses(t *testing.T) {
	for _, c := range []struct{ n, class, rows int }{
		{1, 0, 1}, {2, 1, 2}, {3, 2, 4}, {4, 2, 4}, {5, 3, 8}, {100, 7, 128},
		{2048, 11, 2048}, {2049, 12, saveChunk}, {saveChunk, 12, saveChunk},
	} {
		if class, rows := saveClass(c.n); class != c.class || rows != c.rows {
			t.Errorf("saveClass(%d) = %d, %d; want %d, %d", c.n, class, rows, c.class, c.rows)
		}
	}

	db, f, other := openSearchDB2(t)
	ctx := context.Background()
	stored := saveSearchArticles(t, db, other.ID, "quasar stored a", "quasar stored b")
	articles, links := 2, 0 // stored, and linked to f
	for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 2049} {
		var batch, want []*digest.Article
		for i := range n {
			switch {
			case i == 1 || i == 3: // stored before, by the other feed
				batch = append(batch, &digest.Article{Key: stored[i/2].Key, Title: "again"})
				if n == 2 && i == 1 || n == 4 && i == 3 {
					links++ // its first link to f
				}
			case i == 2: // repeated within the batch
				batch = append(batch, &digest.Article{Key: batch[0].Key, Title: "repeated"})
			default:
				key := fmt.Sprintf("quasar %d-%d", n, i)
				a := &digest.Article{Key: key, Title: key + " observed", Published: searchNow}
				batch = append(batch, a)
				want = append(want, a)
			}
		}
		ins, err := db.SaveArticles(ctx, f.ID, batch)
		if err != nil {
			t.Fatalf("batch of %d: %v", n, err)
		}
		if len(ins) != len(want) {
			t.Fatalf("batch of %d: inserted %d articles, want %d", n, len(ins), len(want))
		}
		for i, a := range ins {
			if a != want[i] || a.ID == 0 {
				t.Fatalf("batch of %d: inserted[%d] is %q with ID %d, want %q", n, i, a.Key, a.ID, want[i].Key)
			}
		}
		articles += len(want)
		links += len(want)
		var gotArticles, gotLinks int
		if err := db.db.QueryRow(`SELECT count(*) FROM articles`).Scan(&gotArticles); err != nil {
			t.Fatal(err)
		}
		if err := db.db.QueryRow(`SELECT count(*) FROM article_feeds WHERE feed_id = ?`, f.ID).Scan(&gotLinks); err != nil {
			t.Fatal(err)
		}
		if gotArticles != articles || gotLinks != links {
			t.Fatalf("after a batch of %d: %d articles and %d links of the feed, want %d and %d", n, gotArticles, gotLinks, articles, links)
		}
	}
	for _, a := range stored {
		feeds, err := db.ArticleFeeds(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(feeds, []int64{f.ID, other.ID}) {
			t.Errorf("%s, stored before, is linked to feeds %v, want %v", a.Key, feeds, []int64{f.ID, other.ID})
		}
	}
	got, err := db.FindArticleByKey(ctx, "quasar 3-0")
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "quasar 3-0 observed" {
		t.Errorf("quasar 3-0 was stored with title %q, from its repetition", got.Title)
	}
	checkIndex(t, db)
	// Sizes 1 to 9 and 2049 fall in classes 0 to 4 and 12; batches look up
	// one or two stored keys.
	for kind := range saveStmtKinds {
		var classes []int
		for c, st := range db.save.stmts[kind] {
			if st != nil {
				classes = append(classes, c)
			}
		}
		want := []int{0, 1, 2, 3, 4, 12}
		if kind == findArticles {
			want = []int{0, 1}
		}
		if !slices.Equal(classes, want) {
			t.Errorf("statements of kind %d prepared for classes %v, want %v", kind, classes, want)
		}
	}
}

func TestMaintainSearchIndex(t *testing.T) {
	db, f := openSearchDB(t)
	ctx := context.Background()
	// One SaveArticles call per article: one index segment each, with
	// words enough to take a few merge steps of one page.
	for i := range 200 {
		name := "pulsar"
		if i < 60 {
			name = "quasar"
		}
		saveSearchArticles(t, db, f.ID, fmt.Sprintf("%s %d %s", name, i, strings.Repeat(fmt.Sprintf("w%d ", i), 50)))
	}
	before := found(t, db, "quasar")
	// A clock that moves a second each time it is read: a budget of 1.5s
	// leaves time for two steps.
	clock := searchNow
	db.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	more, err := db.maintainSearchIndex(ctx, 1500*time.Millisecond, 1)
	if err != nil || !more {
		t.Fatalf("first call: more %v, err %v; want more work after its budget", more, err)
	}
	calls := 1
	for ; more; calls++ {
		if calls > 50 {
			t.Fatal("MaintainSearchIndex never reports that it is done")
		}
		if more, err = db.maintainSearchIndex(ctx, 1500*time.Millisecond, 1); err != nil {
			t.Fatal(err)
		}
	}
	if calls < 2 {
		t.Errorf("merging 200 segments took %d call(s) of two steps of 1 page, want several", calls)
	}
	checkIndex(t, db)
	if after := found(t, db, "quasar"); !slices.Equal(after, before) || len(after) != 60 {
		t.Errorf("after merging, quasar finds %d articles, want the same 60", len(after))
	}
	// Once merged, a call finds nothing to do.
	if more, err := db.MaintainSearchIndex(ctx, time.Minute); more || err != nil {
		t.Errorf("on a merged index: more %v, err %v", more, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.MaintainSearchIndex(cancelled, time.Minute); err == nil {
		t.Error("a cancelled context: no error")
	}
}
