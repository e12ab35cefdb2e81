package digest_test

import (
	"reflect"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/seed-c50b6fda/herald/digest"
)

// FuzzParseQuery checks that any input gives a query or an EINVALID error
// with a message, never a panic; that a query's words are words an index
// can hold; that the limits hold; and that the canonical form parses back
// to the same query.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"storm power", `"power cut" -sport`, "storm OR flood power", "(a b) OR (c -d)", "-(a OR b) c",
		"source:bbc feed:12 since:7d before:2024-03-22", `source:"new york" -source:x -feed:"a b"`,
		`NEAR(a b, 5) title:x {a b}: c ^d e* "f`, "((((a)))", "a)))(((b", "OR AND NOT", "- -- -\"\" -()",
		"since:today before:yesterday since:2024", "x\x00y\xffz\u200b\u202e", "“a” „b“ «c»", "covid-19 U.S.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := digest.ParseQuery(s)
		if err != nil {
			if digest.ErrorCode(err) != digest.EINVALID || digest.ErrorMessage(err) == "" {
				t.Fatalf("ParseQuery(%q): error %v is not EINVALID with a message", s, err)
			}
			return
		}
		if utf8.RuneCountInString(s) > digest.MaxQueryRunes {
			t.Fatalf("ParseQuery accepted %d characters", utf8.RuneCountInString(s))
		}
		positive := q.HasWords() || len(q.Sources)+len(q.Feeds)+len(q.Since)+len(q.Before) > 0
		if !positive {
			t.Fatalf("ParseQuery(%q) = %s: nothing to search for", s, q)
		}
		if q.Text.Kind != digest.ExprAnd {
			t.Fatalf("Text.Kind = %d, want ExprAnd", q.Text.Kind)
		}
		words := checkExpr(t, q.Text, true)
		for _, l := range [][][]string{q.Sources, q.ExcludeSources, q.Feeds, q.ExcludeFeeds} {
			for _, name := range l {
				if len(name) == 0 {
					t.Fatalf("empty filter name in %#v", q)
				}
				checkWords(t, name)
				words += len(name)
			}
		}
		if words > digest.MaxQueryWords {
			t.Fatalf("%d words accepted", words)
		}
		now := time.Date(2026, 3, 22, 12, 0, 0, 0, time.UTC)
		since, before := q.Window(now, time.UTC)
		if len(q.Since) > 0 && since.IsZero() || len(q.Before) > 0 && before.IsZero() {
			t.Fatalf("Window of %s = %v, %v", q, since, before)
		}
		back, err := digest.ParseQuery(q.String())
		if err != nil && utf8.RuneCountInString(q.String()) > digest.MaxQueryRunes {
			return // quoting made it longer than the limit; the limit is on what people type
		}
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", q.String(), s, err)
		}
		if !reflect.DeepEqual(back, q) {
			t.Fatalf("ParseQuery(%q) =\n%#v\nits canonical form %q parses to\n%#v", s, q, q.String(), back)
		}
	})
}

// checkExpr checks the invariants of an Expr and returns its word count.
func checkExpr(t *testing.T, e digest.Expr, top bool) int {
	t.Helper()
	n := 0
	switch e.Kind {
	case digest.ExprPhrase:
		if len(e.Words) == 0 || len(e.Args) > 0 || len(e.Not) > 0 {
			t.Fatalf("bad phrase %#v", e)
		}
		checkWords(t, e.Words)
		return len(e.Words)
	case digest.ExprOr:
		if len(e.Args) < 2 || len(e.Not) > 0 {
			t.Fatalf("bad OR %#v", e)
		}
		for _, a := range e.Args {
			if a.Kind == digest.ExprOr {
				t.Fatalf("OR inside OR: %#v", e)
			}
			n += checkExpr(t, a, false)
		}
	case digest.ExprAnd:
		if !top && (len(e.Args) == 0 || len(e.Args) == 1 && len(e.Not) == 0) {
			t.Fatalf("bad nested AND %#v", e)
		}
		for _, a := range e.Args {
			if a.Kind == digest.ExprAnd {
				t.Fatalf("AND inside AND: %#v", e)
			}
			n += checkExpr(t, a, false)
		}
		for _, a := range e.Not {
			n += checkExpr(t, a, false)
		}
	default:
		t.Fatalf("bad kind %#v", e)
	}
	return n
}

func checkWords(t *testing.T, words []string) {
	t.Helper()
	for _, w := range words {
		if w == "" || !utf8.ValidString(w) {
			t.Fatalf("bad word %q", w)
		}
		for _, r := range w {
			if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Co, r) {
				t.Fatalf("word %q holds %q", w, r)
			}
		}
	}
}

// FuzzDecodeSearchCursor checks that any string is a cursor or EINVALID.
func FuzzDecodeSearchCursor(f *testing.F) {
	q, err := digest.ParseQuery("storm")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(digest.EncodeSearchCursor(q, digest.SearchCursor{Offset: 10, Snapshot: 99, Now: time.Unix(1700000000, 0)}))
	f.Add("")
	f.Add("AQEG")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := digest.DecodeSearchCursor(q, s)
		if err != nil {
			if digest.ErrorCode(err) != digest.EINVALID {
				t.Fatalf("DecodeSearchCursor(%q): %v", s, err)
			}
			return
		}
		if c.Offset < 0 || c.Snapshot < 0 {
			t.Fatalf("DecodeSearchCursor(%q) = %+v", s, c)
		}
	})
}
