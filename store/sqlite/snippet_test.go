package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/seed-c50b6fda/herald/digest"
)

// TestSnippetMarksWhatFTS5Highlights checks that a snippet wide enough
// for the whole text marks what FTS5's highlight() marks, for queries of
// every kind, on texts with inflected, accented and repeated words, and
// on the labelled news beside the repository when it is there.
func TestSnippetMarksWhatFTS5Highlights(t *testing.T) {
	db, f := openSearchDB(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	vocab := []string{"flood", "Floods", "flooding", "FLOODED", "harbour", "harbours", "café", "Cafe", "CAFÉS",
		"storm", "storms", "stormy", "port", "ports", "close", "closed", "closing", "the", "a", "of", "and"}
	text := func(n int) string {
		var w []string
		for range n {
			w = append(w, vocab[r.IntN(len(vocab))])
			if r.IntN(5) == 0 {
				w[len(w)-1] += []string{",", ".", ";", " —", "'s"}[r.IntN(5)]
			}
		}
		return strings.Join(w, " ")
	}
	var arts []*digest.Article
	for i := range 300 {
		arts = append(arts, &digest.Article{Key: fmt.Sprint("a", i), Title: text(5), Summary: text(3 + r.IntN(30)),
			Content: text(r.IntN(80)), Published: searchNow})
	}
	queries := []string{"flooding", "floods harbour", `"the storm"`, `"storm storm"`, "cafes OR closing",
		"port -storm", `"flood the" OR (harbours closed)`, "the", `(cafe -storm) OR "closing the"`, "(flood OR storm) (port OR harbour)"}
	if news, err := readNewsTexts(); err != nil {
		t.Logf("only the texts of the test: %v", err)
	} else {
		for i := 0; i+2 < len(news); i += 3 {
			arts = append(arts, &digest.Article{Key: fmt.Sprint("news", i), Title: news[i], Summary: news[i+1],
				Content: news[i+2], Published: searchNow})
		}
		queries = append(queries, "killed", "police said", `"prime minister"`, "earthquake OR attack", "said -police",
			"microsoft patch", `"according to"`, "Moscow concert hall", "2013")
	}
	if _, err := db.SaveArticles(ctx, f.ID, arts); err != nil {
		t.Fatal(err)
	}
	var tz ftsTokenizer
	checked := 0
	for _, query := range queries {
		q := mustParseQuery(t, query)
		sq := newSnippetQuery(q.Text)
		rows, err := db.db.Query(`SELECT s.title, s.source, s.summary, s.content, highlight(article_search, 1, char(2), char(3)),
			highlight(article_search, 2, char(2), char(3))
			FROM article_search JOIN articles s ON s.id = article_search.rowid WHERE article_search MATCH ?`, ftsAll(q.Text.Args))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var title, source string
			var texts, want [2]string
			if err := rows.Scan(&title, &source, &texts[0], &texts[1], &want[0], &want[1]); err != nil {
				t.Fatal(err)
			}
			live := sq.live(&tz, title, texts[0], texts[1], source)
			for c := range texts {
				if !strings.Contains(want[c], digest.SnippetMatchStart) {
					want[c] = ""
				}
				if got := sq.snippet(&tz, texts[c], live, 1<<30); got != want[c] {
					t.Errorf("%s: snippet\n%q\nhighlight()\n%q", query, got, want[c])
				}
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if n == 0 {
			t.Errorf("%s matches nothing; the test needs matches", query)
		}
		checked += n
	}
	t.Logf("%d matching articles checked", checked)
}

func TestSnippetWindow(t *testing.T) {
	const s, e = digest.SnippetMatchStart, digest.SnippetMatchEnd
	words := func(from, to int) string {
		var w []string
		for i := from; i <= to; i++ {
			w = append(w, fmt.Sprint("w", i))
		}
		return strings.Join(w, " ")
	}
	for _, tc := range []struct {
		name, query, text string
		n                 int
		want              string
	}{
		{"no match", "storm", "A calm day.", 5, ""},
		{"a short text whole", "storms", "The storm closed the port.", 24, "The " + s + "storm" + e + " closed the port."},
		{"a match in the middle, centred", "w10", words(0, 20), 5, "…w8 w9 " + s + "w10" + e + " w11 w12…"},
		{"a match at the start", "w0", words(0, 20) + ".", 5, s + "w0" + e + " w1 w2 w3 w4…"},
		{"a match at the end keeps the text's end", "w20", words(0, 20) + ".", 5, "…w16 w17 w18 w19 " + s + "w20" + e + "."},
		{"the window with most phrases", "w2 w15", words(0, 12) + " w2 w2 w2 " + words(30, 35) + " " + words(13, 20) + " w15 w2 w21", 5,
			"…w19 w20 " + s + "w15" + e + " " + s + "w2" + e + " w21"},
		{"a phrase is one mark", `"w3 w4"`, words(0, 8), 24, words(0, 2) + " " + s + "w3 w4" + e + " " + words(5, 8)},
		{"neighbouring matches are marked apart", "w3 w4", words(0, 5), 24, words(0, 2) + " " + s + "w3" + e + " " + s + "w4" + e + " w5"},
		{"overlapping matches are marked as one", `"w1 w1"`, "w0 w1 w1 w1 w2", 24, "w0 " + s + "w1 w1 w1" + e + " w2"},
		{"markers in the text are dropped", "storm", "The \x02storm\x03 \x02hit.", 24, "The " + s + "storm" + e + " hit."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tz ftsTokenizer
			sq := newSnippetQuery(mustParseQuery(t, tc.query).Text)
			got := sq.snippet(&tz, tc.text, sq.live(&tz, tc.text), tc.n)
			if got != tc.want {
				t.Errorf("snippet of %q for %s =\n%q, want\n%q", tc.text, tc.query, got, tc.want)
			}
		})
	}
	if sq := newSnippetQuery(mustParseQuery(t, "source:bbc since:7d").Text); sq != nil {
		t.Errorf("a query without words has phrases to mark: %v", sq.phrases)
	}
}

// FuzzSnippet checks that any text and query give a snippet that is the
// text's own words, with balanced marks, and never a panic.
func FuzzSnippet(f *testing.F) {
	f.Add("The storm closed the port.", "storm")
	f.Add("a \u0301\u0301 b \xff\xc3 c \x02d\x03", `"a b" OR c -d`)
	f.Add(strings.Repeat("w1 w2 ", 40), `"w2 w1" w1`)
	f.Fuzz(func(t *testing.T, text, query string) {
		q, err := digest.ParseQuery(query)
		if err != nil {
			return
		}
		sq := newSnippetQuery(q.Text)
		if sq == nil {
			return
		}
		var tz ftsTokenizer
		got := sq.snippet(&tz, text, sq.live(&tz, text), 5)
		depth := 0
		for _, r := range got {
			switch string(r) {
			case digest.SnippetMatchStart:
				depth++
			case digest.SnippetMatchEnd:
				depth--
			}
			if depth < 0 || depth > 1 {
				t.Fatalf("unbalanced marks in %q", got)
			}
		}
		if depth != 0 {
			t.Fatalf("unbalanced marks in %q", got)
		}
		plain := strings.TrimSuffix(strings.TrimPrefix(digest.PlainSnippet(got), "…"), "…")
		if !strings.Contains(digest.PlainSnippet(text), plain) {
			t.Fatalf("snippet %q is not from the text %q", got, text)
		}
	})
}

// BenchmarkSnippet makes the snippet of a 20 KB text that holds the
// query's words hundreds of times.
//
//	go test ./store/sqlite -run '^$' -bench Snippet$
func BenchmarkSnippet(b *testing.B) {
	text := strings.Repeat("The harbour storm closed the port for a day, and the storms went on. ", 300)
	sq := newSnippetQuery(mustParseQuery(b, "the storm").Text)
	var tz ftsTokenizer
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if sq.snippet(&tz, text, sq.live(&tz, text), snippetTokens) == "" {
			b.Fatal("no snippet")
		}
	}
}
