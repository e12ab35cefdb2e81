package dedup

import "strings"

// Language handling. English articles are stemmed and lose their stop words,
// so "offers", "offered" and "offering" meet; every other language is
// compared on its lower-cased, normalised words, which is always safe. An
// article is treated as English when its language tag says so, or, when it
// has no tag, when enough of its words are common English function words.

// englishStopWords are dropped from English text before weighting: function
// words and the reporting verbs every news story uses.
var englishStopWords = makeSet(`a about above after again against all am an and any are aren't as at
be because been before being below between both but by can can't cannot could couldn't did didn't
do does doesn't doing don't down during each few for from further had hadn't has hasn't have haven't
having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've
if in into is isn't it it's its itself let's me more most mustn't my myself no nor not of off on once
only or other ought our ours ourselves out over own same shan't she she'd she'll she's should
shouldn't so some such than that that's the their theirs them themselves then there there's these
they they'd they'll they're they've this those through to too under until up very was wasn't we we'd
we'll we're we've were weren't what what's when when's where where's which while who who's whom why
why's will with won't would wouldn't you you'd you'll you're you've your yours yourself yourselves
also just now said says say told according`)

// englishMarkers are frequent English words that are rare in other
// languages written in the Latin alphabet (unlike "in", "die" or "on").
var englishMarkers = makeSet(`the of and to is was that for with by from it he she they his her their
this have has had are were been which who said but not or would will`)

// englishMarkerHashes holds the token hashes of englishMarkers, so that
// detection compares numbers, not strings.
var englishMarkerHashes = func() *hashTable[bool] {
	t := &hashTable[bool]{}
	for w := range englishMarkers {
		t.put(nonZero(hashString(fnvOffset, w)), true)
	}
	return t
}()

func makeSet(words string) map[string]struct{} {
	m := make(map[string]struct{})
	for _, w := range strings.Fields(words) {
		m[w] = struct{}{}
	}
	return m
}

// langEnglish and langOther are the two ways text is processed.
const (
	langOther = iota
	langEnglish
)

// languageOf decides how to process a document from its BCP 47 tag, or from
// its tokens when the tag is empty.
func languageOf(tag string, tz *tokenizer) int {
	if tag != "" {
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		base, _, _ = strings.Cut(base, "_")
		if base == "en" || base == "eng" {
			return langEnglish
		}
		return langOther
	}
	return detectLanguage(tz)
}

// englishStopHashes holds the token hashes of englishStopWords.
var englishStopHashes = func() *hashTable[bool] {
	t := &hashTable[bool]{}
	for w := range englishStopWords {
		t.put(nonZero(hashString(fnvOffset, w)), true)
	}
	return t
}()

// detectLanguage looks at the first 200 words: English when few contain
// non-ASCII letters, at least one is an English marker word, and either one
// in ten is a marker or one in five is an English stop word. Headlines drop
// most function words ("Robbers in drag steal e80 million from Paris diamond
// store in biggest French heist" has one marker in 14 words, but three stop
// words); other languages written in Latin letters share few of them (a, in,
// on, was), well under one word in five. Text too short to judge (a
// headline alone) counts as English when it is plain ASCII and has a
// marker word.
func detectLanguage(tz *tokenizer) int {
	words, markers, foreign := 0, 0, 0
	for _, t := range tz.toks {
		if words == 200 {
			break
		}
		switch t.kind {
		case tokCJK:
			foreign++
			words++
			continue
		case tokNumber:
			continue
		}
		words++
		if t.flags&flagNonASCII != 0 {
			foreign++
			continue
		}
		if englishMarkerHashes.has(nonZero(t.hash)) {
			markers++
		}
	}
	if words == 0 || foreign*5 > words || markers == 0 {
		return langOther
	}
	if words < 10 || markers*10 >= words || englishStops(tz, words)*5 >= words {
		return langEnglish
	}
	return langOther
}

// englishStops counts the English stop words among the first n words.
func englishStops(tz *tokenizer, n int) int {
	words, stops := 0, 0
	for _, t := range tz.toks {
		if words == n {
			break
		}
		if t.kind == tokNumber {
			continue
		}
		words++
		if englishStopHashes.has(nonZero(t.hash)) {
			stops++
		}
	}
	return stops
}
