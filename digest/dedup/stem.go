package dedup

// This file implements the Porter2 ("Snowball English") stemmer, written from
// the published algorithm description at snowballstem.org. It works on
// lower-case ASCII words; callers pass other words through unchanged.

// stemEnglish returns the Porter2 stem of the lower-case ASCII word w.
func stemEnglish(w string) string {
	if len(w) <= 2 {
		return w
	}
	if s, ok := stemExceptions1[w]; ok {
		return s
	}
	b := []byte(w)
	if b[0] == '\'' {
		b = b[1:]
	}
	// Mark consonant y as Y: at the start, or after a vowel.
	for i := range b {
		if b[i] == 'y' && (i == 0 || isVowel(b[i-1])) {
			b[i] = 'Y'
		}
	}
	r1, r2 := regions(b)

	b = step0(b)
	b = step1a(b)
	if len(b) > 0 {
		if _, ok := stemExceptions2[string(b)]; ok {
			return restoreY(b)
		}
	}
	b = step1b(b, r1)
	b = step1c(b)
	b = step2(b, r1)
	b = step3(b, r1, r2)
	b = step4(b, r2)
	b = step5(b, r1, r2)
	return restoreY(b)
}

// stemExceptions1 are the words the algorithm treats specially before any
// step: irregular forms and words it must leave alone.
var stemExceptions1 = map[string]string{
	"skis": "ski", "skies": "sky", "dying": "die", "lying": "lie", "tying": "tie",
	"idly": "idl", "gently": "gentl", "ugly": "ugli", "early": "earli", "only": "onli",
	"singly": "singl", "sky": "sky", "news": "news", "howe": "howe", "atlas": "atlas",
	"cosmos": "cosmos", "bias": "bias", "andes": "andes",
}

// stemExceptions2 are left alone once step 1a has run.
var stemExceptions2 = map[string]struct{}{
	"inning": {}, "outing": {}, "canning": {}, "herring": {}, "earring": {},
	"proceed": {}, "exceed": {}, "succeed": {},
}

func restoreY(b []byte) string {
	for i := range b {
		if b[i] == 'Y' {
			b[i] = 'y'
		}
	}
	return string(b)
}

func isVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

// regions returns the start of R1 and R2: R1 is the region after the first
// non-vowel that follows a vowel, R2 the same rule applied inside R1. A few
// prefixes fix R1 so that, for example, "generous" and "general" keep apart.
func regions(b []byte) (r1, r2 int) {
	r1 = len(b)
	for _, p := range []string{"gener", "commun", "arsen"} {
		if len(b) >= len(p) && string(b[:len(p)]) == p {
			r1 = len(p)
			break
		}
	}
	if r1 == len(b) {
		r1 = regionAfter(b, 0)
	}
	r2 = regionAfter(b, r1)
	return r1, r2
}

func regionAfter(b []byte, from int) int {
	for i := from + 1; i < len(b); i++ {
		if !isVowel(b[i]) && isVowel(b[i-1]) {
			return i + 1
		}
	}
	return len(b)
}

func hasSuffix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
}

// shortSyllableAt reports whether the word ends in a short syllable: a vowel
// followed by a non-vowel other than w, x or Y and preceded by a non-vowel,
// or a vowel at the start followed by a non-vowel.
func endsShortSyllable(b []byte) bool {
	n := len(b)
	if n == 2 {
		return isVowel(b[0]) && !isVowel(b[1])
	}
	if n >= 3 {
		c := b[n-1]
		return !isVowel(b[n-3]) && isVowel(b[n-2]) && !isVowel(c) && c != 'w' && c != 'x' && c != 'Y'
	}
	return false
}

func isShortWord(b []byte, r1 int) bool {
	return r1 >= len(b) && endsShortSyllable(b)
}

func containsVowel(b []byte) bool {
	for _, c := range b {
		if isVowel(c) {
			return true
		}
	}
	return false
}

func step0(b []byte) []byte {
	for _, s := range []string{"'s'", "'s", "'"} {
		if hasSuffix(b, s) {
			return b[:len(b)-len(s)]
		}
	}
	return b
}

func step1a(b []byte) []byte {
	switch {
	case hasSuffix(b, "sses"):
		return b[:len(b)-2]
	case hasSuffix(b, "ied"), hasSuffix(b, "ies"):
		if len(b) > 4 {
			return append(b[:len(b)-3], 'i')
		}
		return append(b[:len(b)-3], 'i', 'e')
	case hasSuffix(b, "us"), hasSuffix(b, "ss"):
		return b
	case hasSuffix(b, "s"):
		// Delete if the part before the s has a vowel not immediately
		// before it: gaps -> gap, but gas and this stay.
		if len(b) >= 3 && containsVowel(b[:len(b)-2]) {
			return b[:len(b)-1]
		}
	}
	return b
}

func step1b(b []byte, r1 int) []byte {
	for _, s := range []string{"eedly", "eed"} {
		if hasSuffix(b, s) {
			if len(b)-len(s) >= r1 {
				return append(b[:len(b)-len(s)], 'e', 'e')
			}
			return b
		}
	}
	for _, s := range []string{"ingly", "edly", "ing", "ed"} {
		if !hasSuffix(b, s) {
			continue
		}
		stem := b[:len(b)-len(s)]
		if !containsVowel(stem) {
			return b
		}
		switch {
		case hasSuffix(stem, "at"), hasSuffix(stem, "bl"), hasSuffix(stem, "iz"):
			return append(stem, 'e')
		case endsDouble(stem):
			return stem[:len(stem)-1]
		case isShortWord(stem, r1):
			return append(stem, 'e')
		}
		return stem
	}
	return b
}

func endsDouble(b []byte) bool {
	n := len(b)
	if n < 2 || b[n-1] != b[n-2] {
		return false
	}
	switch b[n-1] {
	case 'b', 'd', 'f', 'g', 'm', 'n', 'p', 'r', 't':
		return true
	}
	return false
}

func step1c(b []byte) []byte {
	n := len(b)
	if n > 2 && (b[n-1] == 'y' || b[n-1] == 'Y') && !isVowel(b[n-2]) {
		b[n-1] = 'i'
	}
	return b
}

type suffixRule struct {
	suffix, repl string
}

// step2Rules are tried longest first; only the longest matching suffix is
// considered, and it is replaced only when it lies in R1.
var step2Rules = []suffixRule{
	{"ization", "ize"}, {"ational", "ate"}, {"fulness", "ful"}, {"ousness", "ous"},
	{"iveness", "ive"}, {"tional", "tion"}, {"biliti", "ble"}, {"lessli", "less"},
	{"entli", "ent"}, {"ation", "ate"}, {"alism", "al"}, {"aliti", "al"},
	{"ousli", "ous"}, {"iviti", "ive"}, {"fulli", "ful"}, {"enci", "ence"},
	{"anci", "ance"}, {"abli", "able"}, {"izer", "ize"}, {"ator", "ate"},
	{"alli", "al"}, {"bli", "ble"}, {"ogi", "og"}, {"li", ""},
}

func step2(b []byte, r1 int) []byte {
	for _, r := range step2Rules {
		if !hasSuffix(b, r.suffix) {
			continue
		}
		stem := b[:len(b)-len(r.suffix)]
		if len(stem) < r1 {
			return b
		}
		switch r.suffix {
		case "ogi":
			if !hasSuffix(stem, "l") {
				return b
			}
		case "li":
			if len(stem) == 0 || !validLiEnding(stem[len(stem)-1]) {
				return b
			}
		}
		return append(stem, r.repl...)
	}
	return b
}

func validLiEnding(c byte) bool {
	switch c {
	case 'c', 'd', 'e', 'g', 'h', 'k', 'm', 'n', 'r', 't':
		return true
	}
	return false
}

var step3Rules = []suffixRule{
	{"ational", "ate"}, {"tional", "tion"}, {"alize", "al"}, {"icate", "ic"},
	{"iciti", "ic"}, {"ative", ""}, {"ical", "ic"}, {"ness", ""}, {"ful", ""},
}

func step3(b []byte, r1, r2 int) []byte {
	for _, r := range step3Rules {
		if !hasSuffix(b, r.suffix) {
			continue
		}
		stem := b[:len(b)-len(r.suffix)]
		if len(stem) < r1 || (r.suffix == "ative" && len(stem) < r2) {
			return b
		}
		return append(stem, r.repl...)
	}
	return b
}

var step4Suffixes = []string{
	"ement", "ance", "ence", "able", "ible", "ment", "ant", "ent", "ism", "ate",
	"iti", "ous", "ive", "ize", "ion", "al", "er", "ic",
}

func step4(b []byte, r2 int) []byte {
	for _, s := range step4Suffixes {
		if !hasSuffix(b, s) {
			continue
		}
		stem := b[:len(b)-len(s)]
		if len(stem) < r2 {
			return b
		}
		if s == "ion" && !(hasSuffix(stem, "s") || hasSuffix(stem, "t")) {
			return b
		}
		return stem
	}
	return b
}

func step5(b []byte, r1, r2 int) []byte {
	n := len(b)
	switch {
	case n > 0 && b[n-1] == 'e':
		stem := b[:n-1]
		if len(stem) >= r2 || (len(stem) >= r1 && !endsShortSyllable(stem)) {
			return stem
		}
	case n > 1 && b[n-1] == 'l' && b[n-2] == 'l' && n-1 >= r2:
		return b[:n-1]
	}
	return b
}
