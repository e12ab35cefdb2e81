package render

import (
	"regexp"
	"strings"
	"testing"
)

// telegramMention matches what Telegram would turn into a @username
// mention in shown text.
var telegramMention = regexp.MustCompile(`(^|[^A-Za-z0-9_])@[A-Za-z0-9_]`)

func TestTelegramText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Subscribed to world.", "Subscribed to world."},
		{"markup", `<b>x</b> & "y" > z`, "&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot; &gt; z"},
		{"entity stays text", "&amp; &#128512;", "&amp;amp; &amp;#128512;"},
		{"mention", "ping @admin now", "ping @\u200Badmin now"},
		{"mention after bracket", "(@admin)", "(@\u200Badmin)"},
		{"email is no mention", "write to news@example.org", "write to news@example.org"},
		{"lone at", "meet @ 8", "meet @ 8"},
		{"line breaks kept", "problem\nUsage: /digest [24h]", "problem\nUsage: /digest [24h]"},
		{"crlf", "a\r\nb", "a\nb"},
		{"blank line kept", "a\n\nb", "a\n\nb"},
		{"spaces collapsed", "a  \t b ", "a b"},
		{"controls and bidi removed", "a\x00b\u202Ec\x1b[31md", "abcd"},
		{"invalid utf-8", "a\xffb", "a\uFFFDb"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TelegramText(tt.in)
			if got != tt.want {
				t.Fatalf("TelegramText(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if _, _, err := readTelegram(got); err != nil {
				t.Fatalf("TelegramText(%q) = %q is not valid Telegram HTML: %v", tt.in, got, err)
			}
		})
	}
}

func TestTelegramCode(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"cron", "30 7 * * 1-5", "30 7 * * 1-5"},
		{"spacing kept", "a  b\n\tc", "a  b\n\tc"},
		{"markup", "<b>&", "&lt;b&gt;&amp;"},
		{"cron shorthand keeps its @", "@daily", "@daily"},
		{"controls removed", "a\x07b\u2066c\x1b]0;title\ad", "abcd"},
		{"invalid utf-8", "\xff", "\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TelegramCode(tt.in); got != tt.want {
				t.Fatalf("TelegramCode(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTelegramLink(t *testing.T) {
	tests := []struct {
		name, url, text, want string
	}{
		{"link", "https://news.example/a?b=1&c=2", "Story", `<a href="https://news.example/a?b=1&amp;c=2">Story</a>`},
		{"text escaped", "https://news.example/", "<i>x</i> @bob", `<a href="https://news.example/">&lt;i&gt;x&lt;/i&gt; @` + "\u200B" + `bob</a>`},
		{"quote in url encoded", `https://news.example/"onclick`, "x", `<a href="https://news.example/%22onclick">x</a>`},
		{"no text shows the url", "https://news.example/a", "", `<a href="https://news.example/a">https://news.example/a</a>`},
		{"javascript is text", "javascript:alert(1)", "Click", "Click"},
		{"user info is text", "https://bank.example@evil.example/", "Bank", "Bank"},
		{"no url", "", "Just text", "Just text"},
		{"nothing", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TelegramLink(tt.url, tt.text)
			if got != tt.want {
				t.Fatalf("TelegramLink(%q, %q) = %q, want %q", tt.url, tt.text, got, tt.want)
			}
			if _, _, err := readTelegram(got); err != nil {
				t.Fatalf("TelegramLink(%q, %q) = %q is not valid Telegram HTML: %v", tt.url, tt.text, got, err)
			}
		})
	}
}

func TestTelegramTextLen(t *testing.T) {
	tests := []struct {
		html string
		want int
	}{
		{"abc", 3},
		{"<b>abc</b>", 3},
		{`<a href="https://x.example/">ab</a> &amp; &#128512;`, 7}, // "ab & " and an emoji of 2 UTF-16 units
		{"é\n", 2},
	}
	for _, tt := range tests {
		got, err := TelegramTextLen(tt.html)
		if err != nil || got != tt.want {
			t.Errorf("TelegramTextLen(%q) = %d, %v; want %d", tt.html, got, err, tt.want)
		}
	}
	if _, err := TelegramTextLen("<b>open"); err == nil {
		t.Error("TelegramTextLen accepted an unclosed tag")
	}
}

// FuzzTelegramInline checks that whatever a user or feed writes, the
// helpers produce valid Telegram HTML that shows no mention and keeps the
// words.
func FuzzTelegramInline(f *testing.F) {
	for _, s := range []string{"", "a & b", "<b>x</b>", "@admin hi", "x\n\ny", "&#0;", "\x1b[31mred", "a\u202Eb", "mail@x.example"} {
		f.Add(s, "https://news.example/"+s)
	}
	f.Fuzz(func(t *testing.T, text, u string) {
		for what, out := range map[string]string{
			"TelegramText": TelegramText(text),
			"TelegramLink": TelegramLink(u, text),
			"TelegramCode": TelegramCode(text),
		} {
			shown, _, err := readTelegram(out)
			if err != nil {
				t.Fatalf("%s(%q) = %q: %v", what, text, out, err)
			}
			if what != "TelegramCode" && telegramMention.MatchString(shown) {
				t.Fatalf("%s(%q) shows a mention: %q", what, text, shown)
			}
			if n, err := TelegramTextLen(out); err != nil || n != utf16Len(shown) {
				t.Fatalf("TelegramTextLen(%s(%q)) = %d, %v; shown text has %d", what, text, n, err, utf16Len(shown))
			}
		}
		// Every word survives TelegramText (cleaning only drops controls).
		shown, _, _ := readTelegram(TelegramText(text))
		for _, w := range strings.Fields(clean(text)) {
			if !strings.Contains(strings.ReplaceAll(shown, "\u200B", ""), w) {
				t.Fatalf("TelegramText(%q) lost %q: %q", text, w, shown)
			}
		}
	})
}
