package dedup

import "strings"

// Template text. Many feeds put the same words in every article: a closing
// line ("Read more on our website."), a newsletter plug, WordPress's "The
// post ... appeared first on Harbour Gazette." Shared by every article of
// the outlet, they are words two unrelated articles have in common, and in
// a short article they are most of its words. So a run of templateGram
// words near the start or end of the summary or body (templateEdge) that
// another article of the same source in the window also contains is that
// source's template, not content: it still counts towards the article's
// fingerprints (a re-post is still a copy) but gives no terms and no dates.
// Headlines are never template. A source repeating a phrase across two
// reports of one event loses that phrase as evidence, but the reports still
// share their headlines and the rest of their text, and other outlets'
// reports are not affected.

// templateGram is the length of the word runs compared: long enough that
// two articles of one outlet rarely share one by chance (a stock phrase
// such as "for the first time" is the usual exception, and costs a word or
// two of evidence), short enough to catch a template line with a headline
// or a date inside it.
const templateGram = 4

// templates remembers, for each key of a word run (a hash of the source
// and the words), the latest article that contained it and when, and when
// another article last did: enough to tell whether an article other than a
// given one within the window contains it. Nothing is removed as articles
// leave the window; entries older than the window do not count, and the
// table drops them instead of growing.
type templates struct {
	seen hashTable[gramSeen]
}

// gramSeen is kept small, as the table holds a few dozen runs per article
// in the window: the low 32 bits of the latest article's ID (two articles
// of one window agreeing on them is as unlikely as a hash collision), and
// times in minutes since 1970.
type gramSeen struct {
	id     uint32 // latest article to contain the run
	t      uint32 // its time
	tOther uint32 // latest time of an article other than id; 0 if none
}

func minutes(unix int64) uint32 { return uint32(max(unix, 0) / 60) }

// note records that article id, of time t, contains the run key, and
// reports whether another article within the window (from limit on)
// contains it.
func (tp *templates) note(key uint64, id, t, limit int64) bool {
	g := tp.seen.ref(key)
	if g == nil {
		if 2*(tp.seen.n+1) > len(tp.seen.cells) {
			tp.purge(limit)
		}
		tp.seen.put(key, gramSeen{id: uint32(id), t: minutes(t)})
		return false
	}
	other := g.other(id, limit)
	if g.id != uint32(id) {
		g.tOther = g.t
		g.id, g.t = uint32(id), minutes(t)
	} else {
		g.t = max(g.t, minutes(t))
	}
	return other
}

// other reports whether an article other than id within the window (from
// limit on) contains the run.
func (g gramSeen) other(id, limit int64) bool {
	lim := minutes(limit)
	if g.id != uint32(id) {
		return g.t != 0 && g.t >= lim
	}
	return g.tOther != 0 && g.tOther >= lim
}

// purge drops the runs no article in the window (from limit on) contains,
// into a table with room for as many again.
func (tp *templates) purge(limit int64) {
	lim := minutes(limit)
	kept := 0
	for _, c := range tp.seen.cells {
		if c.key != 0 && c.val.t >= lim {
			kept++
		}
	}
	size := 1024
	for size < 4*kept {
		size *= 2
	}
	old := tp.seen.cells
	tp.seen = hashTable[gramSeen]{cells: make([]cell[gramSeen], size)}
	for _, c := range old {
		if c.key != 0 && c.val.t >= lim {
			tp.seen.put(c.key, c.val)
		}
	}
}

// sourceKey identifies the outlet of d: its source, or failing that the
// host of its link; 0 when it has neither, and then no text of d is
// template.
func sourceKey(d *Doc, canon string) uint64 {
	src := strings.ToLower(strings.TrimSpace(d.Source))
	if src == "" {
		host, ok := strings.CutPrefix(canon, "https://")
		if !ok {
			return 0
		}
		src, _, _ = strings.Cut(host, "/")
	}
	if src == "" {
		return 0
	}
	return nonZero(mix64(hashString(fnvOffset, src)))
}

// templateCheck is what extract needs to find a document's template text:
// its source (0 for none), the runs seen so far, its time, the start of the
// window, and whether its own runs are already recorded.
type templateCheck struct {
	src      uint64
	tp       *templates
	t, limit int64
	noted    bool
}

// templateEdge is how far into the summary and the body, from either end,
// template text is looked for: outlets put it before or after the article
// ("By the newsroom", "Read more on our website."), and looking at the
// edges alone keeps the table small. The end of the body is an edge only
// when the body ends within the part that gives terms.
const templateEdge = 16

// templateKeys keys every run of templateGram words at the edges of the
// summary and of the body by src and the words, recording in x.grams the
// key of the run starting at each token (0 if none).
func (x *extractor) templateKeys(src uint64, w weighting) {
	toks := x.tz.toks
	n := len(toks)
	if cap(x.grams) < n {
		x.grams = make([]uint64, n)
	}
	x.grams = x.grams[:n]
	clear(x.grams)
	if src == 0 {
		return
	}
	var size [3]int // tokens read per field
	for _, t := range toks {
		size[t.field]++
	}
	edge := func(t token) bool {
		switch {
		case t.field == fieldTitle:
			return false
		case int(t.pos) < templateEdge:
			return true
		case t.field == fieldText && size[fieldText] > w.termText:
			return false
		}
		return int(t.pos) >= size[t.field]-templateEdge
	}
	for i := 0; i+templateGram <= n; i++ {
		first, last := toks[i], toks[i+templateGram-1]
		if last.field != first.field || !edge(first) || !edge(last) {
			continue
		}
		h := uint64(fnvOffset)
		for _, t := range toks[i : i+templateGram] {
			h = (h ^ t.hash) * fnvPrime
		}
		x.grams[i] = nonZero(mix64(h ^ src))
	}
}

// markTemplate sets x.tmpl[i] for every token of a word run that another
// article of the source within the window (from limit on) contains, and
// returns the number of such tokens. Unless noted says the document's runs
// are already recorded in tp, it records them.
func (x *extractor) markTemplate(tp *templates, id, t, limit int64, noted bool) int {
	n := len(x.tz.toks)
	if cap(x.tmpl) < n {
		x.tmpl = make([]bool, n)
	}
	x.tmpl = x.tmpl[:n]
	clear(x.tmpl)
	if tp == nil {
		return 0
	}
	marked := 0
	for i, key := range x.grams {
		if key == 0 {
			continue
		}
		var other bool
		if noted {
			g, _ := tp.seen.get(key)
			other = g.other(id, limit)
		} else {
			other = tp.note(key, id, t, limit)
		}
		if !other {
			continue
		}
		for k := i; k < i+templateGram; k++ {
			if !x.tmpl[k] {
				x.tmpl[k] = true
				marked++
			}
		}
	}
	return marked
}

// noteTemplate records the word runs of d, of time t, in tp, for articles
// arriving together: all are recorded before any is read, so that each
// sees the others whatever their order.
func (x *extractor) noteTemplate(tp *templates, d *Doc, w weighting, canon string, t, limit int64) {
	x.read(d, w)
	x.templateKeys(sourceKey(d, canon), w)
	for _, key := range x.grams {
		if key != 0 {
			tp.note(key, d.ID, t, limit)
		}
	}
}
