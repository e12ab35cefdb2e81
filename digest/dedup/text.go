package dedup

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Tokenisation. Articles come from any feed in any language, so the
// tokeniser works on Unicode classes, not on ASCII: a token is a run of
// letters, marks and digits (apostrophes inside words and decimal points
// inside numbers included); Chinese and Japanese, which are written without
// spaces, become overlapping two-character tokens, the usual unit for
// indexing them. Tokens are NFKC-normalised (full-width forms, ligatures and
// decomposed accents compare equal to their plain forms) and lower-cased;
// the case of the original is kept in flags because capitalisation is how
// names are found.

// tokenKind says what a token is made of.
type tokenKind uint8

const (
	tokWord   tokenKind = iota + 1 // letters, possibly with digits (ie11, 4x4)
	tokNumber                      // digits, with decimal points (5.6) and thousands separators dropped
	tokCJK                         // two consecutive Han or kana characters
)

// Token flags.
const (
	flagCapital   uint8 = 1 << iota // first letter upper-case in the text
	flagAllCaps                     // every letter upper-case, at least two letters
	flagSentStart                   // first token of a sentence, line or field
	flagNonASCII                    // contains runes outside ASCII
	flagJoined                      // only spaces separate it from the previous token
)

// maxTokenBytes caps a token's length; longer runs (URLs glued together,
// scripts without spaces) are cut there.
const maxTokenBytes = 48

// token is one token of a field. Its text lives in the tokeniser's arena.
type token struct {
	hash  uint64 // FNV-1a of the text
	off   uint32 // offset of the lower-cased text in the arena
	n     uint8  // length of the text in bytes
	kind  tokenKind
	flags uint8
	field uint8  // fieldTitle, fieldSummary or fieldText
	pos   uint16 // position in its field, saturating
}

// tokenizer splits text into tokens, reusing its buffers between documents.
// It is not safe for concurrent use.
type tokenizer struct {
	arena []byte
	toks  []token
	raw   []byte // the current token before normalisation
	norm  []byte // the current token after normalisation
}

func (tz *tokenizer) reset() {
	tz.arena = tz.arena[:0]
	tz.toks = tz.toks[:0]
}

// text returns the lower-cased text of tok.
func (tz *tokenizer) text(tok token) []byte {
	return tz.arena[tok.off : tok.off+uint32(tok.n)]
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' || r == 'ʼ' }

func isCJK(r rune) bool {
	switch r {
	case 'ー', '々', 'ゝ', 'ゞ', 'ヽ', 'ヾ', 'ｰ': // length and iteration marks, script Common
		return true
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

func isDigitByte(c byte) bool { return '0' <= c && c <= '9' }

// tokenize appends the tokens of s, tagged with field, stopping after max
// tokens (max <= 0 means no limit). It returns the number of tokens added.
func (tz *tokenizer) tokenize(s string, field uint8, max int) int {
	first := len(tz.toks)
	defer func() {
		for k := first; k < len(tz.toks); k++ {
			tz.toks[k].pos = uint16(min(k-first, 1<<16-1))
		}
	}()
	added := 0
	sentStart := true
	joined := false
	var cjkPrev rune // previous rune of a CJK run, 0 outside one
	cjkRun := 0
	i := 0
	for i < len(s) && (max <= 0 || added < max) {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if r >= utf8.RuneSelf && isCJK(r) {
			if cjkPrev != 0 {
				tz.emitCJK(cjkPrev, r, field, sentStart)
				sentStart = false
				added++
			}
			cjkPrev = r
			cjkRun++
			i += size
			continue
		}
		if cjkRun == 1 {
			// A lone ideograph is a word on its own.
			tz.emitCJK(cjkPrev, 0, field, sentStart)
			sentStart = false
			added++
			if max > 0 && added >= max {
				break
			}
		}
		cjkPrev, cjkRun = 0, 0
		if isWordRune(r) {
			before := len(tz.toks)
			i = tz.word(s, i, field, sentStart)
			if len(tz.toks) > before { // a run of combining marks alone gives none
				if joined {
					tz.toks[len(tz.toks)-1].flags |= flagJoined
				}
				sentStart = false
				joined = true
				added++
			}
			continue
		}
		switch r {
		case '.', '!', '?', '\n', '\r', '。', '！', '？':
			sentStart = true
		}
		if r != ' ' && r != '\t' {
			joined = false
		}
		i += size
	}
	if cjkRun == 1 && (max <= 0 || added < max) {
		tz.emitCJK(cjkPrev, 0, field, sentStart)
		added++
	}
	return added
}

func (tz *tokenizer) emitCJK(a, b rune, field uint8, sentStart bool) {
	off := len(tz.arena)
	tz.arena = utf8.AppendRune(tz.arena, a)
	if b != 0 {
		tz.arena = utf8.AppendRune(tz.arena, b)
	}
	var flags uint8 = flagNonASCII
	if sentStart {
		flags |= flagSentStart
	}
	tz.toks = append(tz.toks, token{hash: hashBytes(fnvOffset, tz.arena[off:]), off: uint32(off), n: uint8(len(tz.arena) - off), kind: tokCJK, flags: flags, field: field})
}

// asciiWord classifies ASCII bytes for the tokeniser's fast path.
var asciiWord = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = 1
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = 2
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 3
	}
	return t
}()

// word reads the word or number starting at s[i], appends it and returns the
// index after it. Most words are plain ASCII letters or digits followed by a
// space or punctuation; they are lower-cased and hashed in one pass. Anything
// else (non-ASCII letters, apostrophes, decimal points, acronyms) takes the
// general path.
func (tz *tokenizer) word(s string, i int, field uint8, sentStart bool) int {
	off := len(tz.arena)
	h := uint64(fnvOffset)
	letters, uppers, digits := 0, 0, 0
	firstUpper := false
	j := i
	for ; j < len(s) && j-i < maxTokenBytes; j++ {
		c := s[j]
		switch asciiWord[c] {
		case 1:
			letters++
		case 2:
			if letters == 0 {
				firstUpper = true
			}
			letters++
			uppers++
			c += 'a' - 'A'
		case 3:
			digits++
		default:
			goto end
		}
		tz.arena = append(tz.arena, c)
		h = (h ^ uint64(c)) * fnvPrime
	}
end:
	if j < len(s) {
		c := s[j]
		slow := c >= utf8.RuneSelf || j-i >= maxTokenBytes ||
			c == '\'' && letters > 0 ||
			(c == '.' || c == ',') && j+1 < len(s) && (isDigitByte(s[j+1]) || isASCIILetter(s[j+1]))
		if slow {
			tz.arena = tz.arena[:off]
			return tz.wordSlow(s, i, field, sentStart)
		}
	}
	kind := tokWord
	if letters == 0 {
		kind = tokNumber
	}
	var flags uint8
	if sentStart {
		flags |= flagSentStart
	}
	if firstUpper {
		flags |= flagCapital
	}
	if letters >= 2 && uppers == letters {
		flags |= flagAllCaps
	}
	tz.toks = append(tz.toks, token{hash: h, off: uint32(off), n: uint8(j - i), kind: kind, flags: flags, field: field})
	return j
}

// wordSlow is word for any text.
func (tz *tokenizer) wordSlow(s string, i int, field uint8, sentStart bool) int {
	tz.raw = tz.raw[:0]
	letters, uppers, digits := 0, 0, 0
	nonASCII := false
	firstUpper := false
	acronym := true // so far single letters separated by dots: U.S.
	for i < len(s) {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		switch {
		case r < utf8.RuneSelf && isWordRune(r):
			c := byte(r)
			if c <= '9' {
				digits++
				acronym = false
			} else {
				if letters == 0 {
					firstUpper = c <= 'Z'
				}
				letters++
				if c <= 'Z' {
					uppers++
				}
				if len(tz.raw) > 0 && tz.raw[len(tz.raw)-1] != '.' {
					acronym = false
				}
			}
			tz.raw = append(tz.raw, c)
		case r >= utf8.RuneSelf && !isCJK(r) && isWordRune(r):
			if unicode.IsLetter(r) {
				if letters == 0 {
					firstUpper = unicode.IsUpper(r) || unicode.IsTitle(r)
				}
				letters++
				if unicode.IsUpper(r) {
					uppers++
				}
			} else if unicode.IsDigit(r) {
				digits++
			}
			nonASCII = true
			acronym = false
			tz.raw = utf8.AppendRune(tz.raw, r)
		case isApostrophe(r) && letters > 0 && i+size < len(s) && nextIsLetter(s[i+size:]):
			tz.raw = append(tz.raw, '\'')
		case (r == '.' || r == ',') && letters == 0 && digits > 0 && i+1 < len(s) && isDigitByte(s[i+1]):
			if r == '.' {
				tz.raw = append(tz.raw, '.')
			}
		case r == '.' && acronym && letters > 0 && digits == 0 && i+2 < len(s) &&
			isASCIILetter(s[i+1]) && s[i+2] == '.':
			tz.raw = append(tz.raw, '.')
		default:
			tz.finishWord(field, sentStart, letters, uppers, digits, nonASCII, firstUpper)
			return i
		}
		i += size
	}
	tz.finishWord(field, sentStart, letters, uppers, digits, nonASCII, firstUpper)
	return i
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func nextIsLetter(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r)
}

func (tz *tokenizer) finishWord(field uint8, sentStart bool, letters, uppers, digits int, nonASCII, firstUpper bool) {
	off := len(tz.arena)
	if nonASCII {
		// NFKC may turn a full-width or compatibility form into ASCII.
		// It normalises into a buffer of its own: appending to the arena
		// would compose a leading combining mark with the previous token.
		tz.norm = norm.NFKC.Append(tz.norm[:0], tz.raw...)
		tz.arena = append(tz.arena, tz.norm...)
		lowerInPlace(tz, off)
	} else {
		for _, c := range tz.raw {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			tz.arena = append(tz.arena, c)
		}
	}
	if len(tz.arena)-off > maxTokenBytes {
		cut := off + maxTokenBytes
		for cut > off && !utf8.RuneStart(tz.arena[cut]) {
			cut--
		}
		tz.arena = tz.arena[:cut]
	}
	n := len(tz.arena) - off
	if n == 0 {
		return
	}
	kind := tokWord
	if letters == 0 {
		if digits == 0 {
			tz.arena = tz.arena[:off] // only combining marks
			return
		}
		kind = tokNumber
	}
	var flags uint8
	if sentStart {
		flags |= flagSentStart
	}
	if firstUpper {
		flags |= flagCapital
	}
	if letters >= 2 && uppers == letters {
		flags |= flagAllCaps
	}
	if nonASCII {
		flags |= flagNonASCII
	}
	tz.toks = append(tz.toks, token{hash: hashBytes(fnvOffset, tz.arena[off:]), off: uint32(off), n: uint8(n), kind: kind, flags: flags, field: field})
}

// lowerInPlace lower-cases the arena from off on, rune by rune.
func lowerInPlace(tz *tokenizer, off int) {
	src := tz.arena[off:]
	ascii := true
	for _, c := range src {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		for i, c := range src {
			if 'A' <= c && c <= 'Z' {
				src[i] = c + 'a' - 'A'
			}
		}
		return
	}
	// Lower-casing can change a rune's length, so rebuild from a copy.
	tmp := append([]byte(nil), src...)
	tz.arena = tz.arena[:off]
	for len(tmp) > 0 {
		r, size := utf8.DecodeRune(tmp)
		tz.arena = utf8.AppendRune(tz.arena, unicode.ToLower(r))
		tmp = tmp[size:]
	}
}
