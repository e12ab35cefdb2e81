package render

import (
	"strings"

	"github.com/seed-c50b6fda/herald/digest"
)

// textWidth is the column at which Text wraps lines.
const textWidth = 80

// Text renders d as plain text for a terminal: the title and window, then
// each story numbered with its headline, time and developing marker,
// summary, "3 sources: a, b, c" and one line per source with its link, then
// "and N more stories" and the notices. Lines wrap at 80 characters with a
// hanging indent (a word longer than a line is not broken; wide characters
// count as one). Control
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
	col := runeLen(first)
	empty := true
	for _, word := range strings.Fields(text) {
		n := runeLen(word)
		if !empty && col+1+n > textWidth {
			w.b.WriteString(strings.TrimRight(line, " ") + "\n")
			line, col, empty = rest, runeLen(rest), true
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
