package sqlite

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Search marks the matched words of a hit's text in Go (snippet.go), so
// it needs the terms FTS5 indexes for that text: this file reproduces the
// tokenizer of article_search, 'porter unicode61 remove_diacritics 2'
// (migration 0003). TestTokenizerMatchesFTS5 checks it against FTS5 on
// real news text.

// ftsMaxStemmed is the longest token, in bytes, that FTS5's porter
// tokenizer stems; longer ones, and those under 3 bytes, pass as they are.
const ftsMaxStemmed = 64

// ftsToken is a token of a text: its byte span in the text and its term.
type ftsToken struct {
	start, end int
	term       string
}

// ftsTokenizer splits texts into the tokens FTS5 indexes. Its buffer is
// reused from text to text, so one tokenizer serves one goroutine.
type ftsTokenizer struct {
	buf []byte
}

// tokens calls yield for each token of s in order, with its span and its
// term; the term's bytes are valid only during the call. A non-nil stem
// says, by the folded token's first byte, whether to stem it; a token it
// refuses is only folded. It stops when yield returns false.
func (tz *ftsTokenizer) tokens(s string, stem func(first byte) bool, yield func(start, end int, term []byte) bool) {
	for i := 0; i < len(s); {
		// Skip separators.
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isFTSTokenRune(r) {
			i += n
			continue
		}
		start := i
		tz.buf = tz.buf[:0]
		for i < len(s) {
			r, n = utf8.DecodeRuneInString(s[i:])
			if !isFTSTokenRune(r) {
				break
			}
			tz.buf = appendFolded(tz.buf, r)
			i += n
		}
		term := tz.buf
		if len(term) == 0 {
			continue // only diacritics: FTS5 indexes nothing
		}
		if len(term) >= 3 && len(term) <= ftsMaxStemmed && (stem == nil || stem(term[0])) {
			term = porterStem(term)
		}
		if !yield(start, i, term) {
			return
		}
	}
}

// isFTSTokenRune reports whether unicode61 counts r as part of a token:
// letters, numbers and private-use characters, its default categories,
// and, as diacritics are removed, the combining marks it removes.
func isFTSTokenRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r) || unicode.Is(ftsDiacritics, r)
}

// ftsDiacritics are the combining marks unicode61 removes from tokens.
var ftsDiacritics = &unicode.RangeTable{R16: []unicode.Range16{
	{Lo: 0x300, Hi: 0x304, Stride: 1}, {Lo: 0x306, Hi: 0x30c, Stride: 1}, {Lo: 0x30f, Hi: 0x311, Stride: 2},
	{Lo: 0x31b, Hi: 0x31b, Stride: 1}, {Lo: 0x323, Hi: 0x328, Stride: 1}, {Lo: 0x32d, Hi: 0x32e, Stride: 1},
	{Lo: 0x330, Hi: 0x331, Stride: 1},
}}

// appendFolded appends r folded as unicode61 with remove_diacritics 2
// folds it: case-folded, and a Latin letter without the diacritics of its
// canonical decomposition; a diacritic alone folds to nothing.
func appendFolded(b []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(b, byte(r))
	}
	if unicode.Is(ftsDiacritics, r) {
		return b
	}
	// Simple case folding: the lower case of the upper case when both
	// fold together (µ and ς become μ and σ, but ı stays ı).
	if u := unicode.ToUpper(r); u != r && foldsTo(r, u) {
		r = u
	}
	r = unicode.ToLower(r)
	if r < 0x250 || 0x1e00 <= r && r < 0x1f00 {
		var d [utf8.UTFMax * 4]byte
		dec := norm.NFD.AppendString(d[:0], string(r))
		if base, n := utf8.DecodeRune(dec); n < len(dec) && allMarks(dec[n:]) {
			r = base
		}
	}
	return utf8.AppendRune(b, r)
}

// foldsTo reports whether simple case folding makes r and u the same.
func foldsTo(r, u rune) bool {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f == u {
			return true
		}
	}
	return false
}

func allMarks(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if !unicode.Is(unicode.Mn, r) {
			return false
		}
		b = b[n:]
	}
	return true
}

// porterStem returns the stem of the folded token w by Porter's algorithm
// (M.F. Porter, "An algorithm for suffix stripping", 1980), as FTS5's
// porter tokenizer applies it: to any token, treating every byte other
// than a, e, i, o, u and y as a consonant. It changes w in place.
func porterStem(w []byte) []byte {
	p := porter{w}
	p.step1a()
	p.step1b()
	p.step1c()
	p.replace(porterStep2, 0)
	p.replace(porterStep3, 0)
	p.step4()
	p.step5()
	return p.b
}

type porter struct{ b []byte }

// cons reports whether b[i] is a consonant: y is one at the start of the
// word or after a vowel.
func (p *porter) cons(i int) bool {
	switch p.b[i] {
	case 'a', 'e', 'i', 'o', 'u':
		return false
	case 'y':
		return i == 0 || !p.cons(i-1)
	}
	return true
}

// measure is m, the number of vowel-consonant sequences, of b[:n].
func (p *porter) measure(n int) int {
	i := 0
	for i < n && p.cons(i) {
		i++
	}
	m := 0
	for i < n {
		for i < n && !p.cons(i) {
			i++
		}
		if i == n {
			break
		}
		for i < n && p.cons(i) {
			i++
		}
		m++
	}
	return m
}

// hasVowel reports whether b[:n] holds a vowel.
func (p *porter) hasVowel(n int) bool {
	for i := range n {
		if !p.cons(i) {
			return true
		}
	}
	return false
}

// cvc reports whether b[:n] ends consonant, vowel, consonant, the last
// not w, x or y.
func (p *porter) cvc(n int) bool {
	if n < 3 || !p.cons(n-3) || p.cons(n-2) || !p.cons(n-1) {
		return false
	}
	c := p.b[n-1]
	return c != 'w' && c != 'x' && c != 'y'
}

// ends reports whether the word ends in s with at least one byte before it,
// and returns the length of what precedes s.
func (p *porter) ends(s string) (int, bool) {
	n := len(p.b) - len(s)
	return n, n > 0 && string(p.b[n:]) == s
}

func (p *porter) set(n int, s string) { p.b = append(p.b[:n], s...) }

func (p *porter) step1a() {
	if n, ok := p.ends("sses"); ok {
		p.set(n, "ss")
	} else if n, ok := p.ends("ies"); ok {
		p.set(n, "i")
	} else if _, ok := p.ends("ss"); ok {
	} else if n, ok := p.ends("s"); ok {
		p.b = p.b[:n]
	}
}

func (p *porter) step1b() {
	if n, ok := p.ends("eed"); ok {
		if p.measure(n) > 0 {
			p.set(n, "ee")
		}
		return
	}
	n, ok := p.ends("ed")
	if !ok || !p.hasVowel(n) {
		if n, ok = p.ends("ing"); !ok || !p.hasVowel(n) {
			return
		}
	}
	p.b = p.b[:n]
	switch {
	case p.endsIn("at"), p.endsIn("bl"), p.endsIn("iz"):
		p.b = append(p.b, 'e')
	case n >= 2 && p.b[n-1] == p.b[n-2] && p.cons(n-1) && p.b[n-1] != 'l' && p.b[n-1] != 's' && p.b[n-1] != 'z':
		p.b = p.b[:n-1]
	case p.measure(n) == 1 && p.cvc(n):
		p.b = append(p.b, 'e')
	}
}

// endsIn reports whether the word ends in s, with or without anything
// before it.
func (p *porter) endsIn(s string) bool {
	return len(p.b) >= len(s) && string(p.b[len(p.b)-len(s):]) == s
}

func (p *porter) step1c() {
	if n, ok := p.ends("y"); ok && p.hasVowel(n) {
		p.b[n] = 'i'
	}
}

// replace replaces the first suffix of the table the word ends in, if
// what precedes it has a measure above min.
func (p *porter) replace(table [][2]string, min int) {
	for _, r := range table {
		if n, ok := p.ends(r[0]); ok {
			if p.measure(n) > min {
				p.set(n, r[1])
			}
			return
		}
	}
}

// The suffixes of steps 2 to 4, each list with longer suffixes before the
// shorter ones they end in.
var (
	porterStep2 = [][2]string{
		{"ational", "ate"}, {"tional", "tion"}, {"enci", "ence"}, {"anci", "ance"}, {"izer", "ize"},
		{"logi", "log"}, {"bli", "ble"}, {"alli", "al"}, {"entli", "ent"}, {"eli", "e"}, {"ousli", "ous"},
		{"ization", "ize"}, {"ation", "ate"}, {"ator", "ate"}, {"alism", "al"}, {"iveness", "ive"},
		{"fulness", "ful"}, {"ousness", "ous"}, {"aliti", "al"}, {"iviti", "ive"}, {"biliti", "ble"},
	}
	porterStep3 = [][2]string{
		{"icate", "ic"}, {"ative", ""}, {"alize", "al"}, {"iciti", "ic"}, {"ical", "ic"}, {"ful", ""}, {"ness", ""},
	}
	porterStep4 = []string{
		"al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent",
		"ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize",
	}
)

func (p *porter) step4() {
	for _, s := range porterStep4 {
		n, ok := p.ends(s)
		if !ok {
			continue
		}
		if p.measure(n) > 1 && (s != "ion" || p.b[n-1] == 's' || p.b[n-1] == 't') {
			p.b = p.b[:n]
		}
		return
	}
}

func (p *porter) step5() {
	if n, ok := p.ends("e"); ok {
		if m := p.measure(n); m > 1 || m == 1 && !p.cvc(n) {
			p.b = p.b[:n]
		}
	}
	if n := len(p.b); n > 1 && p.b[n-1] == 'l' && p.b[n-2] == 'l' && p.measure(n-1) > 1 {
		p.b = p.b[:n-1]
	}
}
