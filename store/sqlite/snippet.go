package sqlite

import (
	"slices"
	"sort"
	"strings"

	"github.com/seed-c50b6fda/herald/digest"
)

// A hit's snippet is made here, in Go, from the text of its article: the
// window of snippetTokens tokens of the summary, else of the content, that
// holds the most of the query's phrases, with each match marked as FTS5's
// highlight() marks it. FTS5's snippet() would need a second match of the
// query over the index for the page's hits, which cost as much as a third
// of a search on a merged index and more on one of many segments; the
// tokenizer reproduced in tokenize.go finds the same terms in the text.

// snippetQuery is what the snippets of a page mark: the phrases of the
// query's words, as the terms FTS5 matches, in the tree of the query.
// FTS5 marks a phrase in a row only where the group holding it matches
// the row: for "flood OR (harbour closed)", closed is marked only in rows
// that hold harbour too (live).
type snippetQuery struct {
	phrases [][]string // distinct
	root    snippetNode
	// flat is true when every phrase must match: then each one is marked
	// in every row that matches.
	flat bool
	// first holds the first bytes of the terms. Stemming only rewrites
	// the end of a token, so a token that starts otherwise matches no
	// term and need not be stemmed.
	first [256]bool
}

// snippetNode is a node of the query's tree: a phrase (an index of
// phrases, -1 for one without terms, which matches nothing), or a group
// whose args must all match (one of them if or) and whose not must not.
type snippetNode struct {
	phrase    int
	or        bool
	args, not []snippetNode
}

// newSnippetQuery returns the snippetQuery of a query's words, or nil when
// the query has none.
func newSnippetQuery(text digest.Expr) *snippetQuery {
	if len(text.Args) == 0 {
		return nil
	}
	sq := &snippetQuery{flat: true}
	var tz ftsTokenizer
	var compile func(e digest.Expr) snippetNode
	compile = func(e digest.Expr) snippetNode {
		if e.Kind != digest.ExprPhrase {
			n := snippetNode{phrase: -1, or: e.Kind == digest.ExprOr}
			for _, a := range e.Args {
				n.args = append(n.args, compile(a))
			}
			for _, a := range e.Not {
				n.not = append(n.not, compile(a))
			}
			return n
		}
		var terms []string
		tz.tokens(strings.Join(e.Words, " "), nil, func(_, _ int, term []byte) bool {
			terms = append(terms, string(term))
			return true
		})
		if len(terms) == 0 {
			return snippetNode{phrase: -1}
		}
		i := slices.IndexFunc(sq.phrases, func(p []string) bool { return slices.Equal(p, terms) })
		if i < 0 {
			i = len(sq.phrases)
			sq.phrases = append(sq.phrases, terms)
			for _, t := range terms {
				sq.first[t[0]] = true
			}
		}
		return snippetNode{phrase: i}
	}
	sq.root = compile(text)
	for _, a := range sq.root.args {
		sq.flat = sq.flat && a.args == nil && a.not == nil
	}
	return sq
}

// live returns which phrases to mark in a row that matches the query,
// whose indexed columns are texts.
func (sq *snippetQuery) live(tz *ftsTokenizer, texts ...string) []bool {
	live := make([]bool, len(sq.phrases))
	if sq.flat {
		for _, a := range sq.root.args {
			if a.phrase >= 0 {
				live[a.phrase] = true
			}
		}
		return live
	}
	present := make([]bool, len(sq.phrases))
	for _, t := range texts {
		_, matches := sq.find(tz, t, nil)
		for _, m := range matches {
			present[m.phrase] = true
		}
	}
	sq.root.markLive(present, live)
	return live
}

func (n *snippetNode) matches(present []bool) bool {
	if n.args == nil {
		return n.phrase >= 0 && present[n.phrase]
	}
	for i := range n.not {
		if n.not[i].matches(present) {
			return false
		}
	}
	for i := range n.args {
		if n.args[i].matches(present) == n.or {
			return n.or
		}
	}
	return !n.or
}

// markLive sets live for the phrases of the matching node n that FTS5
// reports matches of: those of its args that match.
func (n *snippetNode) markLive(present, live []bool) {
	if n.args == nil {
		live[n.phrase] = true
		return
	}
	for i := range n.args {
		if !n.or || n.args[i].matches(present) {
			n.args[i].markLive(present, live)
		}
	}
}

// span is a run of tokens, from and to included.
type span struct{ from, to int }

// phraseMatch is a match of phrase in a text: the tokens it covers.
type phraseMatch struct {
	span
	phrase int
}

// find returns the tokens of text and the matches in it of the phrases
// live says to mark (all when live is nil), in order of their start.
func (sq *snippetQuery) find(tz *ftsTokenizer, text string, live []bool) ([]ftsToken, []phraseMatch) {
	var toks []ftsToken
	stem := func(first byte) bool { return sq.first[first] }
	tz.tokens(text, stem, func(start, end int, term []byte) bool {
		t := ftsToken{start: start, end: end}
		if sq.first[term[0]] {
			t.term = string(term)
		}
		toks = append(toks, t)
		return true
	})
	var matches []phraseMatch
	for i := range toks {
		if toks[i].term == "" {
			continue
		}
	phrases:
		for p, terms := range sq.phrases {
			if live != nil && !live[p] || i+len(terms) > len(toks) {
				continue
			}
			for k, t := range terms {
				if toks[i+k].term != t {
					continue phrases
				}
			}
			matches = append(matches, phraseMatch{span{i, i + len(terms) - 1}, p})
		}
	}
	return toks, matches
}

// snippet returns the window of n tokens of text around its matches of
// the live phrases, each marked with digest.SnippetMatchStart and
// SnippetMatchEnd, "…" where the window cuts the text; or "" when text
// holds no match.
func (sq *snippetQuery) snippet(tz *ftsTokenizer, text string, live []bool, n int) string {
	toks, matches := sq.find(tz, text, live)
	if len(matches) == 0 {
		return ""
	}
	// The window: the one starting at a match that holds the most
	// distinct phrases, then the most matches, the earliest among equals;
	// then moved so that its matches sit in its middle.
	win := span{0, len(toks) - 1}
	if len(toks) > n {
		// A window holds at most n matches of each phrase, so this is
		// linear in the matches, however many the text holds.
		best, bestScore := 0, -1
		seen := make([]int, len(sq.phrases)) // the last window that counted each phrase, plus one
		for i, m := range matches {
			from := min(m.from, len(toks)-n)
			to := from + n - 1
			score := 0
			for k := sort.Search(len(matches), func(k int) bool { return matches[k].from >= from }); k < len(matches) && matches[k].from <= to; k++ {
				if o := matches[k]; o.to <= to {
					if seen[o.phrase] != i+1 {
						seen[o.phrase] = i + 1
						score += 1000
					}
					score++
				}
			}
			if score > bestScore {
				best, bestScore = from, score
			}
		}
		first, last := -1, -1
		for _, m := range matches {
			if m.from >= best && m.to < best+n {
				if first < 0 {
					first = m.from
				}
				last = max(last, m.to)
			}
		}
		from := first - (n-(last-first+1))/2
		from = max(0, min(from, len(toks)-n))
		win = span{from, from + n - 1}
	}
	// Marks go around merged runs of overlapping matches, as
	// highlight() puts them, clipped to the window.
	var marks []span
	for _, m := range matches {
		s := span{max(m.from, win.from), min(m.to, win.to)}
		if s.from > s.to {
			continue
		}
		if k := len(marks); k > 0 && s.from <= marks[k-1].to {
			marks[k-1].to = max(marks[k-1].to, s.to)
			continue
		}
		marks = append(marks, s)
	}
	start, end := 0, len(text)
	var b strings.Builder
	if win.from > 0 {
		start = toks[win.from].start
		b.WriteString("…")
	}
	if win.to < len(toks)-1 {
		end = toks[win.to].end
	}
	at := start
	for _, m := range marks {
		writePlain(&b, text[at:toks[m.from].start])
		b.WriteString(digest.SnippetMatchStart)
		writePlain(&b, text[toks[m.from].start:toks[m.to].end])
		b.WriteString(digest.SnippetMatchEnd)
		at = toks[m.to].end
	}
	writePlain(&b, text[at:end])
	if end < len(text) {
		b.WriteString("…")
	}
	return b.String()
}

// writePlain writes s without marker characters, which in stored text
// would read as matches.
func writePlain(b *strings.Builder, s string) {
	if strings.ContainsAny(s, digest.SnippetMatchStart+digest.SnippetMatchEnd) {
		s = digest.PlainSnippet(s)
	}
	b.WriteString(s)
}
