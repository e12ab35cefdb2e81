package fetch_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/seed-c50b6fda/herald/digest/fetch"
)

func TestCleanText(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "Hello world", 0, "Hello world"},
		{"entities", "Tom &amp; Jerry &#8217;s &lt;show&gt; &eacute;t&eacute;", 0, "Tom & Jerry ’s <show> été"},
		{"tags stripped", "<b>Breaking:</b> <a href='x'>markets</a> fall", 0, "Breaking: markets fall"},
		{"whitespace collapsed", "  a \n\t b\u00a0\u00a0c  ", 0, "a b c"},
		{"script and style dropped", "a<script>alert('x')</script><style>p{}</style> b", 0, "a b"},
		{"invisible characters", "a\u200bb\u00adc\ufeffd\u202ee\x07f", 0, "abcdef"},
		{"blocks become spaces", "<p>one</p><p>two</p>", 0, "one two"},
		{"bare ampersand", "AT&T and R&D", 0, "AT&T and R&D"},
		{"lone less-than", "5 < 6 and 7 > 3", 0, "5 < 6 and 7 > 3"},
		{"truncated at a word", "the quick brown fox jumps over the lazy dog", 20, "the quick brown fox…"},
		{"truncated hard", "abcdefghijklmnopqrstuvwxyz", 10, "abcdefghij…"},
		{"exactly max", "abcde", 5, "abcde"},
		{"empty", "", 0, ""},
		{"only tags", "<br/><img src='x.png'>", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fetch.CleanText(tt.in, tt.max); got != tt.want {
				t.Errorf("CleanText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct {
		name, in        string
		wantText, image string
	}{
		{
			name:     "paragraphs",
			in:       "<h1>Title</h1><p>First  paragraph.</p><p>Second<br>line.</p><ul><li>one</li><li>two</li></ul>",
			wantText: "Title\nFirst paragraph.\nSecond\nline.\none\ntwo",
		},
		{
			name:     "first real image",
			in:       `<p><img src="https://t.example/pixel.gif" width="1" height="1"><img src="data:image/png;base64,xx"><img src="/photo.jpg" alt="A photo"> Caption</p>`,
			wantText: "Caption",
			image:    "/photo.jpg",
		},
		{
			name:     "plain text with blank lines",
			in:       "First paragraph\nstill first.\n\nSecond paragraph.",
			wantText: "First paragraph still first.\nSecond paragraph.",
		},
		{
			name:     "nested skipped elements",
			in:       "<div>keep<svg><g><text>drop</text></g></svg> this</div><noscript>drop</noscript>",
			wantText: "keep this",
		},
		{
			name:     "table cells",
			in:       "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
			wantText: "a b\nc",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, image := fetch.PlainText(tt.in, 0)
			if text != tt.wantText || image != tt.image {
				t.Errorf("PlainText(%q) = %q, %q; want %q, %q", tt.in, text, image, tt.wantText, tt.image)
			}
		})
	}
}

func TestPlainTextCap(t *testing.T) {
	in := strings.Repeat("<p>word word word</p>", 10000)
	text, _ := fetch.PlainText(in, 1000)
	if n := len([]rune(text)); n > 1001 || !strings.HasSuffix(text, "…") {
		t.Errorf("capped text has %d runes, ends %q", n, text[len(text)-10:])
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"<p>a&amp;b</p>", "x<script>y</script>z", "\u200b\u202e a  b\n\nc", "<img src=x width=1>", "abc def ghi", "\xff\xfe<b>", "&#0;&#x110000;"} {
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max % 500
		if max < 0 {
			max = -max
		}
		for _, out := range []string{fetch.CleanText(s, max), oneLineOf(fetch.PlainText(s, max))} {
			if !utf8.ValidString(out) {
				t.Fatalf("not UTF-8: %q", out)
			}
			if max > 0 && utf8.RuneCountInString(out) > max+1 {
				t.Fatalf("%d runes over the cap %d: %q", utf8.RuneCountInString(out), max, out)
			}
			for _, r := range out {
				if r < 0x20 && r != '\n' || r == 0x7f || r == 0x200b || r == 0x202e {
					t.Fatalf("control or invisible character %U in %q", r, out)
				}
			}
		}
		clean := fetch.CleanText(s, max)
		if clean != strings.TrimSpace(clean) || strings.Contains(clean, "  ") || strings.ContainsRune(clean, '\n') {
			t.Fatalf("not one clean line: %q", clean)
		}
	})
}

func oneLineOf(text, _ string) string { return text }
