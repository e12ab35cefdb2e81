package fetch

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Feed text is HTML more often than not, whatever the format says: titles
// carry entities and the odd <b>, descriptions carry whole articles. Herald
// keeps clean text only; renderers escape it for each platform.

// CleanText returns s as one line of clean text: HTML tags stripped (the
// contents of script, style and similar elements dropped), entities
// decoded, control and invisible formatting characters removed, runs of
// white space collapsed to one space. When max > 0 the result holds at most
// max runes; a longer text is cut, at a word boundary when one is near, and
// ends in "…" (one rune more).
func CleanText(s string, max int) string {
	t := textBuilder{max: max}
	t.html(s, false)
	return t.String()
}

// PlainText returns the text of an HTML fragment with block elements (p,
// div, li, br, headings...) as line breaks, otherwise cleaned like
// CleanText, together with the src of its first meaningful <img> (tracking
// pixels and data: URIs skipped). max caps the text as in CleanText.
func PlainText(s string, max int) (text, image string) {
	t := textBuilder{max: max, multiline: true, wantImage: true}
	t.html(s, true)
	return t.String(), t.image
}

// textBuilder accumulates clean text, collapsing white space as it goes.
type textBuilder struct {
	b         strings.Builder
	max       int  // rune cap; 0 means none
	runes     int  // runes written
	multiline bool // keep paragraph breaks
	space     bool // a space is pending
	newline   bool // a line break is pending
	nl        int  // newlines seen since the last visible rune
	truncated bool

	wantImage bool
	image     string
}

// Elements whose content is not text a reader sees.
var skipElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true, atom.Iframe: true,
	atom.Svg: true, atom.Math: true, atom.Object: true, atom.Head: true, atom.Select: true, atom.Button: true,
}

// Elements that start a new line of text.
var blockElements = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Br: true, atom.Li: true, atom.Ul: true, atom.Ol: true, atom.Dl: true,
	atom.Dt: true, atom.Dd: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true,
	atom.H6: true, atom.Blockquote: true, atom.Pre: true, atom.Table: true, atom.Tr: true, atom.Section: true,
	atom.Article: true, atom.Header: true, atom.Footer: true, atom.Aside: true, atom.Figure: true,
	atom.Figcaption: true, atom.Hr: true, atom.Address: true, atom.Main: true, atom.Nav: true,
	atom.Details: true, atom.Summary: true, atom.Caption: true, atom.Center: true,
}

// html feeds the text content of an HTML fragment into t.
func (t *textBuilder) html(s string, multiline bool) {
	if !strings.Contains(s, "<") {
		if strings.Contains(s, "&") {
			s = html.UnescapeString(s) // what the tokenizer does to text
		}
		t.write([]byte(s))
		return
	}
	if t.b.Len() == 0 {
		t.b.Grow(min(len(s), 4*t.max+8))
	}
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for !t.truncated {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return
		case html.TextToken:
			if skip == 0 {
				t.write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			tag := atom.Lookup(name) // no allocation, unlike string(name)
			if skipElements[tag] {
				switch {
				case tt == html.StartTagToken:
					skip++
				case tt == html.EndTagToken && skip > 0:
					skip--
				}
				continue
			}
			switch {
			case blockElements[tag] && multiline:
				t.block()
			case blockElements[tag], tag == atom.Td, tag == atom.Th:
				t.space = true
			}
			if tag == atom.Img && tt != html.EndTagToken && hasAttr && t.wantImage && t.image == "" && skip == 0 {
				t.image = imageSrc(z)
			}
		}
	}
}

// imageSrc returns the src of the <img> the tokenizer is on, or "" for
// tracking pixels and inline data.
func imageSrc(z *html.Tokenizer) string {
	var src string
	for {
		key, val, more := z.TagAttr()
		switch string(key) {
		case "src":
			src = strings.TrimSpace(string(val))
		case "width", "height":
			if v := strings.TrimSpace(string(val)); v == "1" || v == "0" || v == "1px" || v == "0px" {
				return ""
			}
		}
		if !more {
			break
		}
	}
	if strings.HasPrefix(strings.ToLower(src), "data:") {
		return ""
	}
	return src
}

// block records a paragraph break.
func (t *textBuilder) block() {
	if t.b.Len() > 0 {
		t.newline = true
	}
}

func (t *textBuilder) write(s []byte) {
	for i := 0; i < len(s) && !t.truncated; {
		// Fast path: a run of visible ASCII, single spaces between words
		// included, is copied in one go.
		j := i
		for j < len(s) {
			if c := s[j]; c > ' ' && c < 0x7f || c == ' ' && j > i && j+1 < len(s) && s[j+1] > ' ' && s[j+1] < 0x7f {
				j++
				continue
			}
			break
		}
		if j > i {
			t.visible(s[i:j])
			i = j
			continue
		}
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(s[i:])
		}
		i += size
		switch {
		case r == '\n':
			// Plain-text bodies separate paragraphs with blank lines.
			t.space = true
			if t.nl++; t.nl >= 2 {
				t.block()
			}
		case unicode.IsSpace(r):
			t.space = true
		case invisible(r):
		case size == 1 && r == utf8.RuneError:
			t.visible(replacementChar) // an invalid byte
		default:
			t.visible(s[i-size : i])
		}
	}
}

var replacementChar = []byte("\uFFFD")

// visible appends a run of visible characters (and single spaces between
// them), after the pending separator, cutting it at the cap.
func (t *textBuilder) visible(run []byte) {
	t.nl = 0
	sep := t.b.Len() > 0 && (t.space || t.newline)
	n := len(run)
	if run[0] >= utf8.RuneSelf {
		n = utf8.RuneCount(run)
	}
	if t.max > 0 && t.runes+n+b2i(sep) > t.max {
		// Write what fits, rune by rune, then cut.
		for len(run) > 0 {
			if t.runes+1+b2i(sep) > t.max {
				t.truncate(sep)
				return
			}
			r, size := utf8.DecodeRune(run)
			run = run[size:]
			t.flush()
			t.b.WriteRune(r)
			t.runes++
			sep = r == ' '
		}
		return
	}
	t.flush()
	t.b.Write(run)
	t.runes += n
}

// flush writes the pending separator, if any, before the next visible rune.
func (t *textBuilder) flush() {
	if t.b.Len() == 0 {
		t.space, t.newline = false, false
		return
	}
	if t.newline && t.multiline {
		t.b.WriteByte('\n')
		t.runes++
	} else if t.space || t.newline {
		t.b.WriteByte(' ')
		t.runes++
	}
	t.space, t.newline = false, false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// truncate ends the text and appends an ellipsis: here when the cut falls
// between words, else at the last word boundary within the final fifth of
// the cap, else in the middle of the word.
func (t *textBuilder) truncate(atBoundary bool) {
	t.truncated = true
	s := strings.TrimRightFunc(t.b.String(), unicode.IsSpace)
	if cut := strings.LastIndexAny(s, " \n"); !atBoundary && cut > 0 && utf8.RuneCountInString(s[cut:]) <= t.max/5+1 {
		s = strings.TrimRightFunc(s[:cut], func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) && r != ')' && r != '"' })
	}
	t.b.Reset()
	t.b.WriteString(s)
	t.b.WriteString("…")
}

// String returns the text without trailing white space.
func (t *textBuilder) String() string {
	return t.b.String()
}

// invisible reports whether r is a character that has no business in clean
// text: controls, zero-width and bidirectional formatting characters, soft
// hyphens, and byte-order marks.
func invisible(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r == 0xad, r == 0xfeff, r == 0x2060, r == 0x180e:
		return true
	case r >= 0x200b && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
