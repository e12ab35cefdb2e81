package dedup

import "strings"

// Template text. Many feeds end every summary with the same lines ("Read
// more on our website.", "Follow us for updates.", a newsletter plug):
// shared by every article of the outlet, they are words two unrelated
// articles have in common, and in a short article they are most of its
// words. A sentence of the summary or body (at least minTemplateTokens
// words) that another article of the same source in the window also
// contains is the source's template, not content: it still counts towards
// the article's fingerprints (a re-post is still a copy), but gives no
// terms and no dates. Headlines are never template. A source repeating a
// sentence across two reports of one event loses that sentence as
// evidence, but the reports still share their headlines and the rest of
// their text.

// minTemplateTokens is the fewest words a sentence needs to be recognised
// as template: shorter ones ("Watch.", "Photo: AP.") repeat by chance.
const minTemplateTokens = 3

// templates counts, for each sentence key (a hash of the source and the
// sentence's words), the articles in the window that contain it.
type templates struct {
	counts map[uint64]int32
}

func (t *templates) add(keys []uint64) {
	if t.counts == nil {
		t.counts = make(map[uint64]int32)
	}
	for _, k := range keys {
		t.counts[k]++
	}
}

func (t *templates) remove(keys []uint64) {
	for _, k := range keys {
		if n := t.counts[k]; n > 1 {
			t.counts[k] = n - 1
		} else {
			delete(t.counts, k)
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

// sentenceSpan is a sentence of the summary or body: tokens [start, end).
type sentenceSpan struct {
	start, end int32
	key        uint64
}

// sentences splits the tokens read into the summary's and body's sentences
// of at least minTemplateTokens words and keys each by src and its words.
// It fills x.spans and returns the distinct keys appended to keys[:0].
func (x *extractor) sentences(src uint64, keys []uint64) []uint64 {
	x.spans = x.spans[:0]
	keys = keys[:0]
	if src == 0 {
		return keys
	}
	toks := x.tz.toks
	start := -1
	var h uint64
	flush := func(end int) {
		if start < 0 || end-start < minTemplateTokens {
			return
		}
		key := nonZero(mix64(src ^ mix64(h)))
		x.spans = append(x.spans, sentenceSpan{start: int32(start), end: int32(end), key: key})
		for _, k := range keys {
			if k == key {
				return
			}
		}
		keys = append(keys, key)
	}
	for i, t := range toks {
		if t.field == fieldTitle {
			continue
		}
		if start < 0 || t.flags&flagSentStart != 0 || t.field != toks[i-1].field {
			flush(i)
			start, h = i, fnvOffset
		}
		h = (h ^ t.hash) * fnvPrime
	}
	flush(len(toks))
	return keys
}

// markTemplate sets x.tmpl[i] for every token of a sentence that other
// articles of the source contain, and returns the number of such
// sentences. counted says whether the document itself is already counted
// in t.
func (x *extractor) markTemplate(t *templates, counted bool) int {
	n := len(x.tz.toks)
	if cap(x.tmpl) < n {
		x.tmpl = make([]bool, n)
	}
	x.tmpl = x.tmpl[:n]
	clear(x.tmpl)
	if t == nil || len(x.spans) == 0 {
		return 0
	}
	own := int32(0)
	if counted {
		own = 1
	}
	found := 0
	for _, sp := range x.spans {
		if t.counts[sp.key]-own < 1 {
			continue
		}
		found++
		for i := sp.start; i < sp.end; i++ {
			x.tmpl[i] = true
		}
	}
	return found
}

// sentenceKeys returns the distinct sentence keys of d, as extract computes
// them, for counting the articles of a group before any is read.
func (x *extractor) sentenceKeys(d *Doc, w weighting, canon string) []uint64 {
	x.read(d, w)
	return x.sentences(sourceKey(d, canon), nil)
}
