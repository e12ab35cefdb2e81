package sqlite

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tokenizerTexts exercise what the tokenizer must agree with FTS5 on:
// case, accents and other scripts, separators, numbers, long tokens and
// the suffixes of every step of Porter's algorithm.
var tokenizerTexts = []string{
	"Floods, flooding and FLOODED streets: the river's worst week since 1998.",
	"Café owners in Zürich and Łódź; naïve résumé; Ångström; façade; São Paulo; Ærø.",
	"Straße, İstanbul, ΑΘΗΝΑ Αθήνα, Москва́ и Санкт-Петербург, 東京都の地震, 서울, مرحبا بالعالم",
	"Decomposed: cafe\u0301, re\u0301sume\u0301; private use \ue000x; emoji 🌊 storm🌊surge; nbsp\u00a0here; zero\u200bwidth.",
	"COVID-19 vaccines, 3.5% inflation, $2.6m heist, e-mail, U.S.-led, 24/7, 9:30am, x86_64, ½ and ² and Ⅻ.",
	strings.Repeat("a", 63) + " " + strings.Repeat("b", 64) + " " + strings.Repeat("c", 65) + "ing " + strings.Repeat("é", 40) + "s",
	"caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled sized hopping tanned falling hissing fizzed failing filing happy sky",
	"relational conditional rational valenci hesitanci digitizer conformabli radicalli differentli vileli analogousli vietnamization predication operator feudalism decisiveness hopefulness callousness formaliti sensitiviti sensibiliti analogi",
	"triplicate formative formalize electriciti electrical hopeful goodness revival allowance inference airliner gyroscopic adjustable defensible irritant replacement adjustment dependent adoption homologou communism activate angulariti homologous effective bowdlerize",
	"Москва́ й ё Việt Nam हिन्दी समाचार שָׁלוֹם مَرْحَبًا ſtar µg ς Ǆ ǅ ǆ ı İ K Å ẞ ĳ œ æ ø đ ł þ ð ǧ ǻ ȁ ș ț ɐ ḁ ẚ ỹ ỳ ﬁne ｆｕｌｌ ＡＢＣ ① ⓐ",
	"\u0301 a \u0301\u0301 b x\u0301 \u0300y d\u0301\u0301e; invalid UTF-8: a\xffb \xc3 c",
	"probate rate cease controll roll generalizations oscillators ies sses ss s yy y by eed ing ed bying",
}

// ftsInstances returns, for each text, the terms FTS5 indexes for it in
// token order, read back through an fts5vocab table.
func ftsInstances(t *testing.T, db *DB, texts []string) [][]string {
	t.Helper()
	for _, s := range []string{
		`CREATE VIRTUAL TABLE temp.tok USING fts5 (x, tokenize = 'porter unicode61 remove_diacritics 2')`,
		`CREATE VIRTUAL TABLE temp.tok_instance USING fts5vocab (temp, tok, 'instance')`,
	} {
		if _, err := db.db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range texts {
		if _, err := tx.Exec(`INSERT INTO temp.tok (rowid, x) VALUES (?, ?)`, i+1, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	out := make([][]string, len(texts))
	rows, err := db.db.Query(`SELECT doc, offset, term FROM temp.tok_instance ORDER BY doc, offset`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var doc, offset int
		var term string
		if err := rows.Scan(&doc, &offset, &term); err != nil {
			t.Fatal(err)
		}
		if offset != len(out[doc-1]) {
			t.Fatalf("text %d: FTS5 token %d at offset %d", doc, len(out[doc-1]), offset)
		}
		out[doc-1] = append(out[doc-1], term)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTokenizerMatchesFTS5 checks that ftsTokenizer finds in a text the
// terms FTS5 indexes for it, in the same order, on the texts above and on
// the labelled news beside the repository when it is there.
func TestTokenizerMatchesFTS5(t *testing.T) {
	db, _ := openSearchDB(t)
	texts := append([]string(nil), tokenizerTexts...)
	// Each combining mark: unicode61 removes some, and splits on the others.
	for r := rune(0x300); r < 0x370; r++ {
		texts = append(texts, "ab"+string(r)+"cd")
	}
	if news, err := readNewsTexts(); err != nil {
		t.Logf("only the texts of the test: %v", err)
	} else {
		texts = append(texts, news...)
	}
	want := ftsInstances(t, db, texts)
	var tz ftsTokenizer
	bad := 0
	for i, s := range texts {
		var got []string
		var spans []string
		tz.tokens(s, nil, func(start, end int, term []byte) bool {
			got = append(got, string(term))
			spans = append(spans, s[start:end])
			return true
		})
		for k := range max(len(got), len(want[i])) {
			g, w, span := "(none)", "(none)", ""
			if k < len(got) {
				g, span = got[k], spans[k]
			}
			if k < len(want[i]) {
				w = want[i][k]
			}
			if g != w {
				t.Errorf("text %d, token %d %q: term %q, FTS5 indexes %q", i, k, span, g, w)
				if bad++; bad > 30 {
					t.FailNow()
				}
				break
			}
		}
	}
	t.Logf("%d texts agree", len(texts)-bad)
}

// readNewsTexts returns the title, summary and text of each labelled news
// article of ../shared, when it is there.
func readNewsTexts() ([]string, error) {
	f, err := os.Open(filepath.Join("..", "..", "..", "shared", "data", "dedup", "dev.jsonl"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var texts []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var a struct{ Title, Summary, Text string }
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, fmt.Errorf("dev.jsonl: %w", err)
		}
		texts = append(texts, a.Title, a.Summary, a.Text)
	}
	return texts, sc.Err()
}
