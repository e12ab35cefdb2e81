package dedup

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// tokens returns the lower-cased tokens of s.
func tokens(tb testing.TB, s string) []string {
	tb.Helper()
	var tz tokenizer
	tz.tokenize(s, fieldText, 0)
	out := make([]string, len(tz.toks))
	for i, t := range tz.toks {
		out[i] = string(tz.text(t))
	}
	return out
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"words and punctuation", "Floods hit Brenvik; 40 homes evacuated.", []string{"floods", "hit", "brenvik", "40", "homes", "evacuated"}},
		{"hyphen splits", "out-of-band patch", []string{"out", "of", "band", "patch"}},
		{"apostrophe inside a word", "Quillon's chief didn't say", []string{"quillon's", "chief", "didn't", "say"}},
		{"typographic apostrophe", "Quillon’s chief", []string{"quillon's", "chief"}},
		{"decimal and thousands", "a 5.6 quake, 1,200 homes and 3.", []string{"a", "5.6", "quake", "1200", "homes", "and", "3"}},
		{"acronym keeps its dots", "the U.S. Navy", []string{"the", "u.s", "navy"}},
		{"letters and digits", "IE11 on a 4x4", []string{"ie11", "on", "a", "4x4"}},
		{"accents compose", "Cafe\u0301 São Paulo", []string{"café", "são", "paulo"}},
		{"full-width forms normalise", "ＡＢＣ news", []string{"abc", "news"}},
		{"Cyrillic lower-cases", "Пожар в ТВЕРИ", []string{"пожар", "в", "твери"}},
		{"Han characters pair up", "钱塘江大桥", []string{"钱塘", "塘江", "江大", "大桥"}},
		{"a lone ideograph is a token", "新 bridge", []string{"新", "bridge"}},
		{"kana pair up", "ニュース", []string{"ニュ", "ュー", "ース"}},
		{"empty", "", []string{}},
		{"only punctuation", "-- ... !!", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tokens(t, tc.in)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("tokens(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTokenFlags(t *testing.T) {
	var tz tokenizer
	tz.tokenize("The Angels offered NASA money. Teixeira agreed\nLater, Mark Teixeira signed", fieldText, 0)
	type want struct {
		text                         string
		capital, caps, start, joined bool
	}
	wants := []want{
		{"the", true, false, true, false},
		{"angels", true, false, false, true},
		{"offered", false, false, false, true},
		{"nasa", true, true, false, true},
		{"money", false, false, false, true},
		{"teixeira", true, false, true, false},
		{"agreed", false, false, false, true},
		{"later", true, false, true, false},
		{"mark", true, false, false, false},
		{"teixeira", true, false, false, true},
		{"signed", false, false, false, true},
	}
	if len(tz.toks) != len(wants) {
		t.Fatalf("got %d tokens, want %d", len(tz.toks), len(wants))
	}
	for i, w := range wants {
		tok := tz.toks[i]
		got := want{string(tz.text(tok)), tok.flags&flagCapital != 0, tok.flags&flagAllCaps != 0,
			tok.flags&flagSentStart != 0, tok.flags&flagJoined != 0}
		if got != w {
			t.Errorf("token %d = %+v, want %+v", i, got, w)
		}
	}
}

func TestTokenizeLimitsAndHash(t *testing.T) {
	var tz tokenizer
	if n := tz.tokenize("one two three four five", fieldText, 3); n != 3 || len(tz.toks) != 3 {
		t.Fatalf("max 3: added %d, have %d tokens", n, len(tz.toks))
	}
	tz.reset()
	long := strings.Repeat("a", 200)
	tz.tokenize(long+" b", fieldText, 0)
	if got := len(tz.text(tz.toks[0])); got != maxTokenBytes {
		t.Errorf("a 200-letter run gives a %d-byte token, want %d", got, maxTokenBytes)
	}
	tz.reset()
	tz.tokenize("Brenvik BRENVIK brenvik", fieldText, 0)
	for _, tok := range tz.toks {
		if tok.hash != tz.toks[0].hash || tok.hash != hashString(fnvOffset, "brenvik") {
			t.Errorf("token %q hash %x differs from the hash of its text", tz.text(tok), tok.hash)
		}
	}
}

// FuzzTokenize feeds arbitrary text to the tokeniser, which reads every
// article of every feed. Whatever the input, tokens must be non-empty,
// valid UTF-8, lower-case (lower-casing again changes nothing), at most
// maxTokenBytes long, hashed from their text, and never more than asked for.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{
		"Floods hit Brenvik; 40 homes evacuated.", "U.S. 5.6 1,200 don't ’s", "Пожар в ТВЕРИ",
		"钱塘江大桥 新", "Cafe\u0301 ＡＢＣ", "\xff\xfe broken", "İstanbul ǅemal ß", "a.b.c. 1.2.3 ''x'' -9",
	} {
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 1000
		var tz tokenizer
		n := tz.tokenize(s, fieldTitle, max)
		if n != len(tz.toks) {
			t.Fatalf("reported %d tokens, have %d", n, len(tz.toks))
		}
		if max > 0 && n > max {
			t.Fatalf("%d tokens with max %d", n, max)
		}
		for _, tok := range tz.toks {
			b := tz.text(tok)
			if len(b) == 0 || len(b) > maxTokenBytes {
				t.Fatalf("token of %d bytes", len(b))
			}
			if !utf8.Valid(b) {
				t.Fatalf("token %q is not valid UTF-8", b)
			}
			if tok.hash != hashBytes(fnvOffset, b) {
				t.Fatalf("token %q: hash does not match its text", b)
			}
			if tok.kind == tokWord && strings.ToLower(string(b)) != string(b) && !hasSpecialCase(string(b)) {
				t.Fatalf("token %q is not lower-case", b)
			}
		}
	})
}

// hasSpecialCase reports runes whose lower case is not a fixed point of
// strings.ToLower rune by rune (Turkish dotted I and the like), which the
// fuzz check cannot judge.
func hasSpecialCase(s string) bool {
	for _, r := range s {
		if r >= 0x130 && strings.ToLower(string(r)) != string(r) {
			return true
		}
	}
	return false
}
