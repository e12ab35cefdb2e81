package render

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is the layout engine the chat renderers share. A message is
// built as a flat list of pieces: unbreakable clusters of escaped text,
// white space where a message may be cut, and opening and closing markup.
// split packs the pieces into parts that each stay within a platform's
// limits. Because text is escaped cluster by cluster before splitting, a cut
// can never fall inside an escape sequence (&amp;, \*), a tag, a surrogate
// pair or a grapheme cluster; markup open at a cut is closed at the end of
// the part and opened again at the start of the next one.

// cost is what a piece counts against a platform's limits: one number per
// limit. Telegram uses all three (see telegramLimits); Discord counts one,
// characters.
type cost [3]int32

func (c cost) add(d cost) cost { return cost{c[0] + d[0], c[1] + d[1], c[2] + d[2]} }
func (c cost) sub(d cost) cost { return cost{c[0] - d[0], c[1] - d[1], c[2] - d[2]} }

// within reports whether c is within lim in every dimension; a limit of 0
// means that dimension is not limited.
func (c cost) within(lim cost) bool {
	for i := range c {
		if lim[i] > 0 && c[i] > lim[i] {
			return false
		}
	}
	return true
}

// fill is how full c makes a part with limits lim: the largest ratio.
func (c cost) fill(lim cost) float64 {
	f := 0.0
	for i := range c {
		if lim[i] > 0 {
			f = max(f, float64(c[i])/float64(lim[i]))
		}
	}
	return f
}

// limits builds a cost from ints.
func limits(n ...int) cost {
	var c cost
	for i, v := range n {
		c[i] = int32(min(v, 1<<30))
	}
	return c
}

type pieceKind uint8

const (
	kText  pieceKind = iota // an unbreakable cluster of escaped text
	kSpace                  // white space at which a part may end
	kOpen                   // opening markup
	kClose                  // closing markup of the innermost open piece
)

// Places to cut, from worst to best. A cut at white space drops that white
// space; a hard cut falls between two clusters of one word.
const (
	cutNever = -1 // on kText: a part must not start with this cluster
	cutHard  = 0
	cutSpace = 1 // between words
	cutLine  = 2 // at a line break
	cutBlock = 3 // between blocks: stories, header, notices
)

// piece is one element of a message.
type piece struct {
	kind pieceKind
	cut  int8   // kSpace: how good a place to cut it is; kText: cutNever or cutHard
	out  string // what is written to the message
	cost cost

	closeOut  string // kOpen: the markup that closes it
	closeCost cost   // kOpen: the cost of closeOut
}

// closer returns the closing piece of an opening piece.
func (p piece) closer() piece {
	return piece{kind: kClose, out: p.closeOut, cost: p.closeCost}
}

// join writes pieces out as one message.
func join(ps []piece) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.out)
	}
	return b.String()
}

// split packs ps into parts within lim. It cuts at the best place that
// still fits: between blocks when the part holds a block boundary and the
// block after it fits in a part of its own (so a story is only cut when it
// does not fit in one message, and then it starts right away rather than
// after a short part), otherwise at a line break, then at a space, then
// between clusters, taking the better kind only when it fills at least
// half of the part, so that a long story does not leave half-empty
// messages behind. White space at a cut is
// dropped, parts start and end with text, and markup open at a cut is
// closed and reopened. ps must be well nested. Every part holds at least one
// cluster of text; a part exceeds lim only if lim cannot hold the markup
// open at that point plus one cluster, which the renderers rule out by
// bounding clusters and markup.
func split(ps []piece, lim cost) [][]piece {
	last := -1
	for k, p := range ps {
		if p.kind == kText {
			last = k
		}
	}
	var parts [][]piece
	var reopen []int // indices in ps of the markup open at the start of the part
	for i := 0; i <= last; {
		var acc, reserve cost
		stack := append([]int(nil), reopen...)
		for _, o := range stack {
			acc = acc.add(ps[o].cost)
			reserve = reserve.add(ps[o].closeCost)
		}
		best := [4]int{-1, -1, -1, -1}
		var bestFill [4]float64
		text := false
		j := i
		for ; j < len(ps); j++ {
			p := ps[j]
			if text {
				c := cutNever
				if p.kind == kSpace || p.kind == kText {
					c = int(p.cut)
				}
				// acc+reserve never decreases along the scan (a close only
				// moves its cost from reserve to acc), so the last fitting
				// place of each kind is the best one of that kind.
				if total := acc.add(reserve); c >= 0 && total.within(lim) {
					best[c], bestFill[c] = j, total.fill(lim)
				}
			}
			acc = acc.add(p.cost)
			switch p.kind {
			case kOpen:
				stack = append(stack, j)
				reserve = reserve.add(p.closeCost)
			case kClose:
				if n := len(stack); n > 0 {
					reserve = reserve.sub(ps[stack[n-1]].closeCost)
					stack = stack[:n-1]
				}
			case kText:
				text = true
			}
			if !acc.add(reserve).within(lim) {
				break
			}
		}
		if j == len(ps) {
			parts = append(parts, emit(ps, i, len(ps), reopen))
			break
		}
		if b := best[cutBlock]; b >= 0 && !blockFits(ps, b, lim) {
			// The block after the last block boundary will be cut anyway:
			// start it here rather than leave this part short.
			best[cutBlock] = -1
		}
		cut := choose(best, bestFill)
		if cut < 0 {
			// Not even one cluster fits with the open markup: take one
			// anyway rather than loop forever (see the doc comment).
			cut = i
			for ps[cut].kind != kText {
				cut++
			}
			cut++
		}
		parts = append(parts, emit(ps, i, cut, reopen))
		reopen = openAt(ps, reopen, i, cut)
		if cut < len(ps) && ps[cut].kind == kSpace {
			cut++
		}
		i = cut
	}
	return parts
}

// blockFits reports whether the block after the block boundary ps[at]
// fits in a part of its own. Block boundaries are outside all markup.
func blockFits(ps []piece, at int, lim cost) bool {
	var acc cost
	for k := at + 1; k < len(ps); k++ {
		if ps[k].kind == kSpace && ps[k].cut == cutBlock {
			break
		}
		if acc = acc.add(ps[k].cost); !acc.within(lim) {
			return false
		}
	}
	return true
}

// choose picks the place to cut from the last fitting place of each kind.
func choose(best [4]int, fill [4]float64) int {
	if best[cutBlock] >= 0 {
		return best[cutBlock]
	}
	for _, c := range []int{cutLine, cutSpace, cutHard} {
		if best[c] >= 0 && fill[c] >= 0.5 {
			return best[c]
		}
	}
	return max(best[cutLine], best[cutSpace], best[cutHard])
}

// openAt returns the markup open after ps[from:to], given what was open at
// from.
func openAt(ps []piece, open []int, from, to int) []int {
	stack := append([]int(nil), open...)
	for k := from; k < to; k++ {
		switch ps[k].kind {
		case kOpen:
			stack = append(stack, k)
		case kClose:
			if n := len(stack); n > 0 {
				stack = stack[:n-1]
			}
		}
	}
	return stack
}

// emit builds the part ps[from:to]: the markup open at from reopened, the
// pieces without white space before the first or after the last cluster of
// text, what is still open closed, and markup that would enclose nothing
// dropped.
func emit(ps []piece, from, to int, open []int) []piece {
	first, last := -1, -1
	for k := from; k < to; k++ {
		if ps[k].kind == kText {
			if first < 0 {
				first = k
			}
			last = k
		}
	}
	out := make([]piece, 0, len(open)*2+to-from)
	add := func(p piece) {
		if n := len(out); p.kind == kClose && n > 0 && out[n-1].kind == kOpen {
			out = out[:n-1]
			return
		}
		out = append(out, p)
	}
	for _, o := range open {
		add(ps[o])
	}
	for k := from; k < to; k++ {
		if ps[k].kind == kSpace && (k < first || k > last) {
			continue
		}
		add(ps[k])
	}
	still := openAt(ps, open, from, to)
	for k := len(still) - 1; k >= 0; k-- {
		add(ps[still[k]].closer())
	}
	return out
}

// maxCluster bounds the runes in one cluster, so that a pathological run of
// combining marks cannot make a cluster larger than a message.
const maxCluster = 32

// clusters cuts a word into approximate grapheme clusters: a base character
// with the combining marks, variation selectors, emoji modifiers and tags
// that follow it, emoji joined by U+200D, and pairs of regional indicators
// (flags). Cutting a message between two clusters never splits what a
// reader sees as one character.
func clusters(w string) []string {
	var out []string
	start, n := 0, 0
	joined := false // the previous rune was U+200D
	ri := 0         // regional indicators in the current cluster
	for i, r := range w {
		if i > start {
			glue := joined || extends(r) || (isRegional(r) && ri%2 == 1)
			if !glue || n >= maxCluster {
				out = append(out, w[start:i])
				start, n, ri = i, 0, 0
			}
		}
		n++
		joined = r == '\u200D'
		if isRegional(r) {
			ri++
		}
	}
	if start < len(w) {
		out = append(out, w[start:])
	}
	return out
}

func extends(r rune) bool {
	switch {
	case r == '\u200D', r >= '\uFE00' && r <= '\uFE0F', r >= 0xE0100 && r <= 0xE01EF:
		return true
	case r >= 0x1F3FB && r <= 0x1F3FF, r >= 0xE0020 && r <= 0xE007F:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc)
}

func isRegional(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// utf16Len is the length of s in UTF-16 code units, the way Telegram counts.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// runeLen is the length of s in code points, the way Discord counts.
func runeLen(s string) int { return utf8.RuneCountInString(s) }

// dialect is how one target writes text and markup.
type dialect struct {
	// escape writes one word of clean text (no spaces) as clusters of
	// escaped output. It calls emit once per cluster with the escaped form,
	// the text the platform displays for it, and whether a part may start
	// at that cluster.
	escape func(word string, emit func(out, shown string, canStart bool))
	// textCost and markupCost say what text and markup count.
	textCost   func(out, shown string) cost
	markupCost func(out string, opening bool) cost
}

// builder appends pieces in a dialect.
type builder struct {
	d     *dialect
	ps    []piece
	stack []int
}

// newBuilder returns a builder for about size bytes of text.
func newBuilder(d *dialect, size int) *builder {
	return &builder{d: d, ps: make([]piece, 0, size)}
}

// text appends clean text (words separated by single spaces).
func (b *builder) text(s string) {
	for i, w := range strings.Split(s, " ") {
		if i > 0 {
			b.space(" ", cutSpace)
		}
		if w == "" {
			continue
		}
		b.d.escape(w, func(out, shown string, canStart bool) {
			c := int8(cutHard)
			if !canStart {
				c = cutNever
			}
			b.ps = append(b.ps, piece{kind: kText, out: out, cost: b.d.textCost(out, shown), cut: c})
		})
	}
}

// raw appends text of Herald's own that needs no escaping, as one cluster.
func (b *builder) raw(s string) {
	b.ps = append(b.ps, piece{kind: kText, out: s, cost: b.d.textCost(s, s), cut: cutHard})
}

// space appends white space where a part may be cut.
func (b *builder) space(s string, cut int8) {
	b.ps = append(b.ps, piece{kind: kSpace, out: s, cost: b.d.textCost(s, s), cut: cut})
}

// line ends a line; block ends a block.
func (b *builder) line()  { b.space("\n", cutLine) }
func (b *builder) block() { b.space("\n\n", cutBlock) }

// open appends opening markup that close will end with closeOut.
func (b *builder) open(out, closeOut string) {
	b.stack = append(b.stack, len(b.ps))
	b.ps = append(b.ps, piece{
		kind: kOpen, out: out, cost: b.d.markupCost(out, true),
		closeOut: closeOut, closeCost: b.d.markupCost(closeOut, false),
	})
}

// close ends the innermost open markup.
func (b *builder) close() {
	n := len(b.stack)
	o := b.ps[b.stack[n-1]]
	b.stack = b.stack[:n-1]
	b.ps = append(b.ps, o.closer())
}
