package render

import (
	"strings"
	"unicode"

	"github.com/seed-c50b6fda/herald/digest"
)

// textWidth is the column at which Text wraps lines.
const textWidth = 80

// Text renders d as plain text for a terminal: the title and window, then
// each story numbered with its headline, time and developing marker,
// summary, "3 sources: a, b, c" and one line per source with its link, then
// "and N more stories" and the notices. Lines wrap at 80 columns with a
// hanging indent (a word longer than a line is not broken); CJK characters
// and emoji take two columns, combining marks none. Control
// characters in feed text, terminal escape sequences among them, are
// removed.
func Text(d digest.Digest) string {
	v := newView(d)
	var w textWriter
	w.para("", v.title)
	if v.window != "" {
		w.para("", v.window)
	}
	if v.empty != "" {
		w.blank()
		w.para("", v.empty)
	}
	for _, s := range v.stories {
		w.blank()
		indent := strings.Repeat(" ", runeLen(s.number)+1)
		w.hang(s.number+" ", indent, s.headline)
		if s.url != "" && !hasSource(s, s.url) {
			w.para(indent, s.url)
		}
		if s.meta != "" {
			w.para(indent, s.meta)
		}
		if s.summary != "" {
			w.para(indent, s.summary)
		}
		if s.label != "" {
			names := make([]string, len(s.sources))
			for i, src := range s.sources {
				names[i] = src.name
			}
			w.para(indent, s.label+" "+strings.Join(names, ", "))
			for _, src := range s.sources {
				if src.url != "" {
					w.hang(indent+"  "+src.name+": ", indent+"    ", src.url)
				}
			}
		}
	}
	if v.more != "" {
		w.blank()
		w.para("", v.more)
	}
	if len(v.notices) > 0 {
		w.blank()
		w.para("", "Notices:")
		for _, n := range v.notices {
			w.hang("  "+noticeMark, "     ", n)
		}
	}
	return w.b.String()
}

func hasSource(s storyView, u string) bool {
	for _, src := range s.sources {
		if src.url == u {
			return true
		}
	}
	return false
}

// textWriter writes word-wrapped paragraphs.
type textWriter struct{ b strings.Builder }

func (w *textWriter) blank() { w.b.WriteByte('\n') }

// para writes text wrapped, every line starting with indent.
func (w *textWriter) para(indent, text string) { w.hang(indent, indent, text) }

// hang writes text wrapped, the first line starting with first and the
// others with rest.
func (w *textWriter) hang(first, rest, text string) {
	line := first
	col := width(first)
	empty := true
	for _, word := range strings.Fields(text) {
		n := width(word)
		if !empty && col+1+n > textWidth {
			w.b.WriteString(strings.TrimRight(line, " ") + "\n")
			line, col, empty = rest, width(rest), true
		}
		if !empty {
			line += " "
			col++
		}
		line += word
		col += n
		empty = false
	}
	w.b.WriteString(strings.TrimRight(line, " ") + "\n")
}

// width is the number of terminal columns s takes, near enough for
// wrapping: East Asian wide and full-width characters and emoji take two,
// combining marks and invisible format characters none.
func width(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf), r >= '\uFE00' && r <= '\uFE0F':
		case isWide(r):
			n += 2
		default:
			n++
		}
	}
	return n
}

// wideRanges are the main blocks of East Asian wide and full-width
// characters and of emoji.
var wideRanges = [][2]rune{
	{0x1100, 0x115F}, {0x2E80, 0x303E}, {0x3041, 0x33FF}, {0x3400, 0x4DBF},
	{0x4E00, 0x9FFF}, {0xA000, 0xA4CF}, {0xAC00, 0xD7A3}, {0xF900, 0xFAFF},
	{0xFE30, 0xFE4F}, {0xFF00, 0xFF60}, {0xFFE0, 0xFFE6}, {0x1F1E6, 0x1F1FF},
	{0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F900, 0x1F9FF}, {0x1FA70, 0x1FAFF},
	{0x20000, 0x3FFFD},
}

func isWide(r rune) bool {
	for _, w := range wideRanges {
		if r >= w[0] && r <= w[1] {
			return true
		}
	}
	return false
}
