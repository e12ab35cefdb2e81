package dedup

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// Feature extraction: a document becomes
//   - identity fingerprints (canonical URL, a hash of its normalised
//     headline and body),
//   - a 64-bit SimHash of the word 3-shingles of its body, for syndicated
//     copies,
//   - a sparse, L2-normalised TF-IDF vector of typed terms read from the
//     headline, the summary and the first words of the body: word stems,
//     names (runs of capitalised words: "Ingrid Holt", "Internet
//     Explorer") and numbers, headline and lead words counting more,
//   - which of its terms are key terms (headline words, names, numbers):
//     two articles that share none are never neighbours,
//   - the set of weekdays, months and years it mentions, which scales a
//     similarity rather than making one.
// Words of the source's template (see templates) give no terms.
// Terms are identified by a 64-bit hash of their kind and text, so term
// identifiers never need a shared dictionary and a restart reproduces them.

// Term kinds, the first byte hashed into a term's identifier.
const (
	termWord   = 'w'
	termName   = 'e'
	termNumber = 'n'
)

// dateWords maps the names of weekdays and months, and their usual
// abbreviations, to one form. They count only when capitalised ("march" is
// a verb). Forms that are more often something else are left out: May
// (a modal verb, and a name), Sun, Sat, Wed, Mar.
var dateWords = map[string]uint8{
	"monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6, "sunday": 7,
	"mon": 1, "tue": 2, "tues": 2, "thu": 4, "thurs": 4, "fri": 5,
	"january": 8, "february": 9, "march": 10, "april": 11, "june": 13, "july": 14,
	"august": 15, "september": 16, "october": 17, "november": 18, "december": 19,
	"jan": 8, "feb": 9, "apr": 11, "jun": 13, "jul": 14, "aug": 15, "sep": 16, "sept": 16,
	"oct": 17, "nov": 18, "dec": 19,
}

// dateNames are the words dateWords codes stand for, for explanations.
var dateNames = [...]string{"", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
	"January", "February", "March", "April", "May", "June", "July", "August", "September",
	"October", "November", "December"}

// Dates an article mentions are a set of bits: weekdays and months by
// their dateWords code, years from firstYear on.
type dateSet [2]uint64

const (
	firstYear = 1950
	lastYear  = firstYear + 128 - 20 - 1 // the bits left after weekdays and months
)

func (ds *dateSet) add(bit int) { ds[bit/64] |= 1 << (bit % 64) }

func (ds dateSet) count() int { return bits.OnesCount64(ds[0]) + bits.OnesCount64(ds[1]) }

func (ds dateSet) common(o dateSet) int {
	return bits.OnesCount64(ds[0]&o[0]) + bits.OnesCount64(ds[1]&o[1])
}

// String lists the dates, e.g. "Tuesday, September, 2013".
func (ds dateSet) String() string {
	var parts []string
	for bit := 1; bit < 128; bit++ {
		if ds[bit/64]&(1<<(bit%64)) == 0 {
			continue
		}
		if bit < len(dateNames) {
			parts = append(parts, dateNames[bit])
		} else {
			parts = append(parts, strconv.Itoa(firstYear+bit-len(dateNames)))
		}
	}
	return strings.Join(parts, ", ")
}

// yearBit returns the dateSet bit of a number token that reads as a year of
// modern news, or 0.
func yearBit(b []byte) int {
	if len(b) != 4 {
		return 0
	}
	y := 0
	for _, c := range b {
		if !isDigitByte(c) {
			return 0
		}
		y = 10*y + int(c-'0')
	}
	if y < firstYear || y > lastYear {
		return 0
	}
	return len(dateNames) + y - firstYear
}

// Fields of a document.
const (
	fieldTitle uint8 = iota
	fieldSummary
	fieldText
)

// Limits on how much of a document is read. News puts the event in the
// headline and the first paragraphs; the tail of a long article (related
// links, background, comments) adds cost and noise, not evidence.
const (
	maxTitleTokens   = 64
	maxSummaryTokens = 128
	minShingles      = 20 // fewer shingles than this give no reliable SimHash
	minContentTokens = 6  // fewer words than this give no reliable content hash
	surfaceCacheMax  = 1 << 18
)

// FNV-1a, 64 bit. Deterministic across processes, which term identifiers
// and fingerprints must be.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashBytes(seed uint64, b []byte) uint64 {
	h := seed
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

func hashString(seed uint64, s string) uint64 {
	h := seed
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// mix64 is the SplitMix64 finaliser: it spreads the bits of x, which FNV on
// short keys does poorly in the high bits SimHash depends on.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func termID(kind byte, text []byte) uint64 {
	h := uint64(fnvOffset)
	h ^= uint64(kind)
	h *= fnvPrime
	return mix64(hashBytes(h, text))
}

// surface is what a surface form (a lower-cased token) maps to. It is kept
// small: every token of every article looks one up.
type surface struct {
	term uint64 // word or number term after stop-word removal and stemming; 0 for a stop word
	text int32  // index of the term's text in the extractor's texts
	date uint8  // dateSet bit when the form is a weekday, month or year; 0 if none
	year bool   // the date bit is a year, which counts written in any case
}

// features is what the clusterer keeps of a document.
type features struct {
	terms   []uint64     // sorted ascending
	weights []float32    // same order; the full vector had norm 1 before pruning
	ents    []*termEntry // the index's entries of terms, same order
	dates   dateSet      // the weekdays, months and years mentioned
	simhash uint64
	shingle int      // number of shingles behind simhash
	content uint64   // hash of the normalised words; 0 when too short
	key     []uint64 // bit i set when terms[i] is a key term: in the headline, or a name or number
	tmpl    int      // words left out as the source's template
}

// termCount accumulates a term's weighted frequency while a document is read.
type termCount struct {
	off   int32 // the text is names[off:off+n] when n > 0
	n     int32
	id    uint64
	tf    float32
	kind  byte
	title bool // seen in the headline
	text  string
}

// extractor turns documents into features. It keeps caches and buffers
// between documents and is not safe for concurrent use.
type extractor struct {
	tz       tokenizer
	cacheEN  hashTable[surface] // by token hash
	cacheAny hashTable[surface]
	counts   hashTable[int32] // term → index into pool
	pool     []termCount
	capSet   hashTable[bool] // hashes of words capitalised mid-sentence
	informed [3]bool
	shingles []uint64
	pair     []byte
	keys     []idIndex    // scratch for sorting terms
	names    []byte       // text of the current article's name terms
	texts    []string     // texts of cached surfaces
	twBuf    []termWeight // scratch for featurize
	grams    []uint64     // key of the template word run starting at each token
	tmpl     []bool       // tokens of template word runs
}

func newExtractor() *extractor {
	return &extractor{}
}

// lookup returns the surface entry of a token, computing and caching it.
// The cache is keyed by the token's 64-bit hash: two forms colliding is as
// unlikely as two terms colliding, which identifiers already accept.
func (x *extractor) lookup(b []byte, h uint64, kind tokenKind, english bool) surface {
	cache := &x.cacheAny
	if english && kind == tokWord {
		cache = &x.cacheEN
	}
	h = nonZero(h)
	if s, ok := cache.get(h); ok {
		return s
	}
	if cache.n >= surfaceCacheMax {
		// A cache, not a dictionary: identifiers are hashes. Both tables
		// go, as they share the texts.
		x.cacheEN.reset()
		x.cacheAny.reset()
		x.texts = x.texts[:0]
	}
	form := string(b)
	s := surface{text: int32(len(x.texts))}
	if d, ok := dateWords[form]; ok && kind == tokWord {
		s.date = d
	}
	switch {
	case kind == tokNumber:
		s.term = termID(termNumber, b)
		if bit := yearBit(b); bit != 0 {
			s.date, s.year = uint8(bit), true
		}
		x.texts = append(x.texts, form)
	case english && kind == tokWord:
		if _, stop := englishStopWords[form]; !stop {
			stem := form
			if isASCIIString(form) {
				stem = stemEnglish(form)
			}
			s.term = termID(termWord, []byte(stem))
			x.texts = append(x.texts, stem)
		} else {
			x.texts = append(x.texts, form)
		}
	case kind == tokWord:
		// Not known to be English: not stemmed, but English function
		// words still say nothing. Text too short to detect ("Read more
		// on our website.") is often English; in other languages written
		// in Latin letters the same forms (a, in, so, was) are function
		// words as well.
		if _, stop := englishStopWords[form]; !stop {
			s.term = termID(termWord, b)
		}
		x.texts = append(x.texts, form)
	default:
		s.term = termID(termWord, b)
		x.texts = append(x.texts, form)
	}
	cache.put(h, s)
	return s
}

func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func trimPossessive[T string | []byte](s T) T {
	if n := len(s); n > 2 && s[n-2] == '\'' && s[n-1] == 's' {
		return s[:n-2]
	}
	return s
}

// weights of the parts of a document and of the kinds of term. Together
// with the clusterer's thresholds they are the model's parameters.
type weighting struct {
	title, lead float32 // multiplier of a word's count in the title / lead
	name        float32 // multiplier of a name term's final weight
	number      float32 // multiplier of a number term's final weight
	dateFloor   float32 // similarity factor when two articles' dates disagree completely
	maxText     int     // tokens of the body read for fingerprints
	termText    int     // tokens of the body that give terms
	maxTerms    int     // terms kept per article, highest weight first
	leadTokens  int     // the first tokens of the body count as lead when there is no summary
}

// tfOf is the count one occurrence of t contributes: more in the headline
// and the lead.
func (x *extractor) tfOf(t token, w weighting, hasSummary bool) float32 {
	switch t.field {
	case fieldTitle:
		return w.title
	case fieldSummary:
		return w.lead
	}
	if !hasSummary && int(t.pos) < w.leadTokens {
		return w.lead
	}
	return 1
}

// read tokenises d into x's buffers and returns its language.
func (x *extractor) read(d *Doc, w weighting) int {
	x.tz.reset()
	x.tz.tokenize(d.Title, fieldTitle, maxTitleTokens)
	x.tz.tokenize(d.Summary, fieldSummary, maxSummaryTokens)
	x.tz.tokenize(d.Text, fieldText, w.maxText)
	return languageOf(d.Language, &x.tz)
}

// caseInformative reports, per field, whether capitals mark names there. A
// headline in Title Case or capitals says nothing about names.
func (x *extractor) caseInformative() {
	var words, caps [3]int
	for _, t := range x.tz.toks {
		if t.kind != tokWord || t.flags&flagSentStart != 0 {
			continue
		}
		words[t.field]++
		if t.flags&flagCapital != 0 {
			caps[t.field]++
		}
	}
	for f := range x.informed {
		x.informed[f] = words[f] < 3 || caps[f]*2 < words[f]
	}
}

// isName reports whether token i is written as a name: capitalised where
// capitals are informative, and not merely because it opens a sentence
// (unless the same word is capitalised mid-sentence elsewhere).
func (x *extractor) isName(i int, s surface) bool {
	t := x.tz.toks[i]
	if t.kind != tokWord || s.term == 0 || t.flags&flagCapital == 0 {
		return false
	}
	if x.informed[t.field] && t.flags&flagSentStart == 0 {
		return true
	}
	_, ok := x.capSet.get(nonZero(t.hash))
	return ok
}

// extract reads d and returns its fingerprints and dates, and its distinct
// terms with their weighted counts, appended to buf. observe is called once
// per distinct term to count it in the document frequencies and return its
// index entry; vectorize turns the counts into weights once every article
// arriving together has been counted.
//
// Words of the template of d's source (see templates) give no terms.
func (x *extractor) extract(d *Doc, w weighting, tc templateCheck, observe func(id uint64, kind byte, text string, b []byte) *termEntry, buf []termWeight) (features, []termWeight) {
	english := x.read(d, w) == langEnglish
	toks := x.tz.toks
	var f features
	x.templateKeys(tc.src, w)
	f.tmpl = x.markTemplate(tc.tp, d.ID, tc.t, tc.limit, tc.noted)
	x.caseInformative()
	x.capSet.reset()
	for _, t := range toks {
		if t.kind == tokWord && t.flags&flagCapital != 0 && t.flags&flagSentStart == 0 && x.informed[t.field] {
			if h := nonZero(t.hash); !x.capSet.has(h) {
				x.capSet.put(h, true)
			}
		}
	}
	x.counts.reset()
	x.pool = x.pool[:0]
	x.names = x.names[:0]
	// add counts a term; text is copied only the first time, and only
	// when the term is new to the index is it kept.
	add := func(id uint64, kind byte, text string, b []byte, tf float32, title bool) {
		id = nonZero(id)
		if i, ok := x.counts.get(id); ok {
			x.pool[i].tf += tf
			x.pool[i].title = x.pool[i].title || title
			return
		}
		tc := termCount{id: id, tf: tf, kind: kind, text: text, title: title}
		if b != nil {
			// Keep the bytes; a string is made only if the index has
			// never seen the term.
			tc.off, tc.n = int32(len(x.names)), int32(len(b))
			x.names = append(x.names, b...)
		}
		x.counts.put(id, int32(len(x.pool)))
		x.pool = append(x.pool, tc)
	}

	x.shingles = x.shingles[:0]
	hasSummary := false
	textTokens := 0
	for _, t := range toks {
		switch t.field {
		case fieldSummary:
			hasSummary = true
		case fieldText:
			textTokens++
		}
	}
	// Fingerprints read the body; a document without one is its headline
	// and summary. The content hash covers the headline too: the same body
	// under another headline is a copy, not the same item.
	shortText := textTokens < minContentTokens
	var content uint64 = fnvOffset
	contentWords := 0
	// A name is a maximal run of adjacent capitalised words in one field:
	// "Mark Teixeira", "Internet Explorer", "Qeshm".
	runStart, runLen := 0, 0
	var runTF float32
	endRun := func() {
		x.pair = x.pair[:0]
		for k := runStart; k < runStart+runLen; k++ {
			if k > runStart {
				x.pair = append(x.pair, ' ')
			}
			x.pair = append(x.pair, trimPossessive(x.tz.text(toks[k]))...)
		}
		add(termID(termName, x.pair), termName, "", x.pair, runTF, toks[runStart].field == fieldTitle)
		runLen, runTF = 0, 0
	}
	for i, t := range toks {
		raw := mix64(t.hash)
		if shortText || t.field == fieldText {
			x.shingles = append(x.shingles, raw)
		}
		if shortText || t.field != fieldSummary {
			content = (content ^ raw) * fnvPrime
			contentWords++
		}
		if x.tmpl[i] || t.field == fieldText && int(t.pos) >= w.termText {
			// Template text and the rest of the body only feed the
			// fingerprints: the event is in the headline and the first
			// paragraphs, in the article's own words.
			if runLen > 0 {
				endRun()
			}
			continue
		}
		s := x.lookup(x.tz.text(t), t.hash, t.kind, english)
		tf := x.tfOf(t, w, hasSummary)
		name := s.term != 0 && s.date == 0 && x.isName(i, s)
		if runLen > 0 && (!name || t.flags&flagJoined == 0 || t.field != toks[runStart].field) {
			endRun()
		}
		if s.date != 0 && (s.year || t.flags&flagCapital != 0) {
			// A year, or a capitalised weekday or month: a date, not a
			// term. Dates say when, not what.
			f.dates.add(int(s.date))
			continue
		}
		if s.term == 0 {
			continue
		}
		kind := byte(termWord)
		if t.kind == tokNumber {
			kind = termNumber
		}
		add(s.term, kind, x.texts[s.text], nil, tf, t.field == fieldTitle)
		if name {
			if runLen == 0 {
				runStart = i
			}
			runLen++
			runTF = max(runTF, tf)
		}
	}
	if runLen > 0 {
		endRun()
	}
	if contentWords >= minContentTokens {
		f.content = mix64(content)
	}
	f.simhash, f.shingle = simhash(x.shingles)

	terms := buf[:0]
	for _, c := range x.pool {
		var b []byte
		if c.n > 0 {
			b = x.names[c.off : c.off+c.n]
		}
		e := observe(c.id, c.kind, c.text, b)
		terms = append(terms, termWeight{id: c.id, kind: c.kind, tf: c.tf, e: e, key: c.title || c.kind != termWord})
	}
	return f, terms
}

// termWeight is one term of a document being weighted.
type termWeight struct {
	e    *termEntry
	id   uint64
	kind byte
	key  bool // in the headline, or a name or number
	tf   float32
	w    float64
}

// vectorize turns counted terms into f's pruned, normalised TF-IDF vector:
// weight (1 + ln tf) × idf, times the name or number boost, keeping the
// maxTerms heaviest terms. idf gives a term's inverse document frequency.
func vectorize(f *features, terms []termWeight, w weighting, maxTerms int, idf func(*termEntry) float64, keys *[]idIndex) {
	var norm float64
	for i := range terms {
		t := &terms[i]
		v := (1 + math.Log(float64(t.tf))) * idf(t.e)
		switch t.kind {
		case termName:
			v *= float64(w.name)
		case termNumber:
			v *= float64(w.number)
		}
		t.w = v
		norm += v * v
	}
	terms = top(terms, maxTerms)
	f.terms = make([]uint64, len(terms))
	f.weights = make([]float32, len(terms))
	f.ents = make([]*termEntry, len(terms))
	f.terms, f.weights, f.ents = sparse(terms, norm, f.terms, f.weights, f.ents, keys)
	if len(f.terms) > 0 {
		f.key = make([]uint64, (len(f.terms)+63)/64)
		for i, k := range *keys {
			if terms[k.i].key {
				f.key[i/64] |= 1 << (i % 64)
			}
		}
	}
}

// isKey reports whether term i of f is a key term.
func (f *features) isKey(i int) bool { return f.key[i/64]&(1<<(i%64)) != 0 }

// evidence reports whether two articles share a key term: a word of either
// headline, or a name or number. Words both bodies merely have in common
// ("click here to read the full story") do not make one event.
func evidence(a, b *features) bool {
	i, j := 0, 0
	for i < len(a.terms) && j < len(b.terms) {
		switch {
		case a.terms[i] < b.terms[j]:
			i++
		case a.terms[i] > b.terms[j]:
			j++
		default:
			if a.isKey(i) || b.isKey(j) {
				return true
			}
			i++
			j++
		}
	}
	return false
}

// top returns the max highest-weighted terms.
func top(terms []termWeight, max int) []termWeight {
	if len(terms) <= max {
		return terms
	}
	slices.SortFunc(terms, func(a, b termWeight) int {
		if a.w != b.w {
			return cmp.Compare(b.w, a.w)
		}
		return cmp.Compare(a.id, b.id)
	})
	return terms[:max]
}

// sparse fills ids, ws and es (if not nil) with terms sorted by ID, weights
// divided by the norm of the whole vector (so that pruning only drops
// weight and never inflates a similarity). It returns nil slices for an
// empty vector.
func sparse(terms []termWeight, norm2 float64, ids []uint64, ws []float32, es []*termEntry, keys *[]idIndex) ([]uint64, []float32, []*termEntry) {
	if norm2 == 0 || len(terms) == 0 {
		return nil, nil, nil
	}
	norm := math.Sqrt(norm2)
	// Sort by ID through small keys: moving whole termWeights costs more
	// than the comparisons.
	k := (*keys)[:0]
	if len(terms) <= 1<<packBits {
		// Faster still: an ID with its low bits replaced by the term's
		// index is one integer to sort. IDs that differ only in those
		// bits (as likely as a collision) are put in order after.
		var buf [1 << packBits]uint64
		packed := buf[:len(terms)]
		for i, t := range terms {
			packed[i] = t.id&^(1<<packBits-1) | uint64(i)
		}
		slices.Sort(packed)
		for j, p := range packed {
			i := int32(p & (1<<packBits - 1))
			k = append(k, idIndex{terms[i].id, i})
			for m := j; m > 0 && k[m-1].id > k[m].id; m-- {
				k[m-1], k[m] = k[m], k[m-1]
			}
		}
	} else {
		for i, t := range terms {
			k = append(k, idIndex{t.id, int32(i)})
		}
		slices.SortFunc(k, func(a, b idIndex) int { return cmp.Compare(a.id, b.id) })
	}
	for i, key := range k {
		t := &terms[key.i]
		ids[i] = t.id
		ws[i] = float32(t.w / norm)
		if es != nil {
			es[i] = t.e
		}
	}
	*keys = k
	return ids, ws, es
}

// packBits is the number of low bits of a term ID sparse replaces with the
// term's index.
const packBits = 8

type idIndex struct {
	id uint64
	i  int32
}

// dot is the dot product of two sparse vectors sorted by term.
func dot(at []uint64, aw []float32, bt []uint64, bw []float32) float64 {
	var s float64
	i, j := 0, 0
	for i < len(at) && j < len(bt) {
		switch {
		case at[i] < bt[j]:
			i++
		case at[i] > bt[j]:
			j++
		default:
			s += float64(aw[i]) * float64(bw[j])
			i++
			j++
		}
	}
	return s
}

// dateFactor scales the similarity of two articles by how well the dates
// they mention agree: 1 when either mentions none (no evidence), falling to
// floor when both mention dates and none in common (2008 against 2013,
// Sunday against Thursday). Agreement is the cosine of the two sets.
func dateFactor(a, b dateSet, floor float32) float64 {
	na, nb := a.count(), b.count()
	if na == 0 || nb == 0 {
		return 1
	}
	agree := float64(a.common(b)) / math.Sqrt(float64(na*nb))
	return float64(floor) + (1-float64(floor))*agree
}

// simhash returns the 64-bit SimHash of overlapping 3-shingles of the given
// word hashes, and the number of shingles. Each shingle votes on every bit;
// the votes are counted eight bits at a time in byte lanes of eight
// accumulators, so a shingle costs eight additions rather than 64.
func simhash(words []uint64) (uint64, int) {
	if len(words) < 3 {
		return 0, 0
	}
	const lanes = 0x0101010101010101
	var acc [8]uint64
	var total [64]int32
	n := 0
	flush := func() {
		for j := 0; j < 8; j++ {
			a := acc[j]
			for k := 0; k < 8; k++ {
				total[8*k+j] += int32(a >> (8 * k) & 0xff)
			}
			acc[j] = 0
		}
	}
	pending := 0
	for i := 2; i < len(words); i++ {
		h := mix64(words[i-2]*0x9e3779b97f4a7c15 ^ bits.RotateLeft64(words[i-1], 21) ^ bits.RotateLeft64(words[i], 42))
		for j := 0; j < 8; j++ {
			acc[j] += (h >> j) & lanes
		}
		n++
		pending++
		if pending == 255 {
			flush()
			pending = 0
		}
	}
	flush()
	var out uint64
	for b := 0; b < 64; b++ {
		if 2*int(total[b]) > n {
			out |= 1 << b
		}
	}
	return out, n
}
