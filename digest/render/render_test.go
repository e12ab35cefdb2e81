package render

import (
	"encoding/json"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in   string
		want Format
		ok   bool
	}{
		{"text", FormatText, true},
		{"markdown", FormatMarkdown, true},
		{"Telegram", FormatTelegram, true},
		{" discord ", FormatDiscord, true},
		{"json", FormatJSON, true},
		{"html", "", false},
		{"", "", false},
		{"md", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if !tt.ok {
				if digest.ErrorCode(err) != digest.EINVALID {
					t.Fatalf("ParseFormat(%q) error %v, want code %s", tt.in, err, digest.EINVALID)
				}
				msg := digest.ErrorMessage(err)
				for _, f := range Formats() {
					if !strings.Contains(msg, string(f)) {
						t.Errorf("error %q does not list %q", msg, f)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseFormat(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatFlag(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := FormatText
	fs.Var(&f, "format", "")
	if err := fs.Parse([]string{"--format", "discord"}); err != nil || f != FormatDiscord {
		t.Fatalf("--format discord: %q, %v", f, err)
	}
	if err := fs.Parse([]string{"--format", "pdf"}); err == nil {
		t.Fatal("--format pdf accepted")
	}
}

func TestRender(t *testing.T) {
	d := nastyDigest()
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			parts, err := Render(f, d)
			if err != nil || len(parts) == 0 {
				t.Fatalf("Render: %d parts, %v", len(parts), err)
			}
			switch f {
			case FormatDiscord:
				for _, p := range parts {
					var m map[string]any
					if err := json.Unmarshal([]byte(p), &m); err != nil {
						t.Fatalf("part is not JSON: %v", err)
					}
					if !strings.Contains(p, `"allowed_mentions":{"parse":[]}`) {
						t.Fatalf("part allows mentions: %s", p)
					}
				}
			case FormatTelegram:
				if len(parts) < 2 {
					t.Fatalf("a digest with a 5000-character summary fits one Telegram message?")
				}
			}
		})
	}
	if _, err := Render("pdf", d); digest.ErrorCode(err) != digest.EINVALID {
		t.Fatalf("Render(pdf) error %v", err)
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"spaces", "  a \t b\n\nc  ", "a b c"},
		{"terminal colour", "\x1b[1;31mred\x1b[0m text", "red text"},
		{"terminal title", "\x1b]0;pwned\x07ok", "ok"},
		{"controls", "a\x00b\x07c\x7fd", "abcd"},
		{"next line is white space", "a\u0085b", "a b"},
		{"bidi override", "abc\u202Efed\u202C ghi \u2067x\u2069", "abcfed ghi x"},
		{"bidi marks kept", "a\u200Fb", "a\u200Fb"},
		{"line separators", "a\u2028b\u2029c", "a b c"},
		{"invalid utf-8", "a\xffb", "a\uFFFDb"},
		{"rtl", "  שלום עולם ", "שלום עולם"},
		{"emoji", "👨‍👩‍👧 🇷🇺", "👨‍👩‍👧 🇷🇺"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clean(tt.in); got != tt.want {
				t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSafeURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/a?b=1&c=2", "https://example.com/a?b=1&c=2"},
		{" http://example.com/(x) ", "http://example.com/(x)"},
		{"HTTPS://Example.com/", "HTTPS://Example.com/"},
		{`https://example.com/"><script>`, "https://example.com/%22%3E%3Cscript%3E"},
		{"https://example.com/a|b{c}", "https://example.com/a%7Cb%7Bc%7D"},
		{"https://ru.wikipedia.org/wiki/Крокус?q=é#ä", "https://ru.wikipedia.org/wiki/%D0%9A%D1%80%D0%BE%D0%BA%D1%83%D1%81?q=%C3%A9#%C3%A4"},
		{"https://пример.рф/путь", "https://пример.рф/%D0%BF%D1%83%D1%82%D1%8C"},
		{"javascript:alert(1)", ""},
		{"data:text/html,hi", ""},
		{"ftp://example.com/f", ""},
		{"//example.com/x", ""},
		{"/relative", ""},
		{"https://bank.example@evil.example/", ""},
		{"https://example.com/a b", ""},
		{"https://example.com/\x00", ""},
		{"https://exa\"mple.com/", ""},
		{"https://" + strings.Repeat("a", 2100) + ".com/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := safeURL(tt.in); got != tt.want {
				t.Errorf("safeURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// escaped runs a dialect's escaping over clean text.
func escaped(d *dialect, s string) string {
	b := &builder{d: d}
	b.text(s)
	return join(b.ps)
}

func TestEscapeTelegram(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<b>"x" & y</b>`, `&lt;b&gt;&quot;x&quot; &amp; y&lt;/b&gt;`},
		{"it's", "it's"},
		{"&amp;", "&amp;amp;"},
		{"follow @durov", "follow @\u200Bdurov"},
		{"(@user_1)", "(@\u200Buser_1)"},
		{"mail me@example.com", "mail me@example.com"},
		{"@ alone", "@ alone"},
		{"*not* _markdown_", "*not* _markdown_"},
		{"😀𝕏", "😀𝕏"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := escaped(&telegramDialect, tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEscapeMarkdown(t *testing.T) {
	tests := []struct{ in, want string }{
		{"*bold* _it_ `code` ~~s~~", `\*bold\* \_it\_ \` + "`" + `code\` + "`" + ` \~\~s\~\~`},
		{"[link](x) ![img](y)", `\[link\](x) \!\[img\](y)`},
		{"<b>html</b>", `\<b\>html\</b\>`},
		{"# h - i + j > k = l | m", `\# h \- i \+ j \> k \= l \| m`},
		{"1. list", `1\. list`},
		{"12) list", `12\) list`},
		{"in 2024. then", `in 2024\. then`},
		{"3.5%", "3.5%"},
		{"AT&T &copy; &#169; & x", `AT&T \&copy; \&\#169; & x`},
		{`back\slash`, `back\\slash`},
		{"@everyone", "@everyone"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := escaped(&markdownDialect, tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEscapeDiscordNoPing(t *testing.T) {
	tests := []struct{ in, want string }{
		{"@everyone", "@\u200Beveryone"},
		{"@here now", "@\u200Bhere now"},
		{"@EVERYONE", "@\u200BEVERYONE"},
		{"x@everyone", "x@\u200Beveryone"},
		{"<@123>", "<\u200B@123\\>"},
		{"<@!123>", "<\u200B@!123\\>"},
		{"<@&456>", "<\u200B@&456\\>"},
		{"<#789>", "<\u200B\\#789\\>"},
		{"</cmd:1>", "<\u200B/cmd:1\\>"},
		{"<:emoji:1>", "<\u200B:emoji:1\\>"},
		{"<a:emoji:1>", "<\u200Ba:emoji:1\\>"},
		{"<t:1700000000:R>", "<\u200Bt:1700000000:R\\>"},
		{"mail me@example.com", "mail me@example.com"},
		{"a < b", "a < b"},
		{"**b** __u__ ~~s~~ ||spoiler|| `c` > q", `\*\*b\*\* \_\_u\_\_ \~\~s\~\~ \|\|spoiler\|\| \` + "`" + `c\` + "`" + ` \> q`},
		{"-# subtext", `\-\# subtext`},
		{"1. list", `1\. list`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := escaped(&discordDialect, tt.in)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			checkNoPing(t, "escaped text", got)
		})
	}
}

func TestDiscordNoPingEverywhere(t *testing.T) {
	d := digest.Digest{
		Title: "@everyone digest",
		Stories: []digest.DigestStory{{
			Headline: "@here <@1> <@!2> <@&3> <#4>",
			URL:      "https://example.com/@everyone/@HERE",
			Summary:  "@everyone",
			Sources:  []digest.Source{{Name: "@here", URL: "https://example.com/(@everyone)"}},
		}},
		Notices: []string{"<@&5> @everyone"},
	}
	msgs := append(Discord(d), DiscordContent(d)...)
	for _, m := range msgs {
		checkDiscordMessage(t, m)
		b, _ := json.Marshal(m)
		checkNoPing(t, "message JSON", strings.ReplaceAll(string(b), `"url":"https://example.com/@everyone/@HERE"`, ""))
	}
}

func TestDiscordEmbedURLIsASCII(t *testing.T) {
	d := digest.Digest{Stories: []digest.DigestStory{
		{Headline: "a", URL: "https://пример.рф/x"},
		{Headline: "b", URL: "https://example.com/путь"},
	}}
	e := Discord(d)[0].Embeds
	if e[0].URL != "" || e[1].URL != "https://example.com/%D0%BF%D1%83%D1%82%D1%8C" {
		t.Fatalf("embed URLs %q, %q", e[0].URL, e[1].URL)
	}
}

func TestDiscordAllowedMentionsJSON(t *testing.T) {
	tests := []struct {
		name string
		m    DiscordMessage
		want string
	}{
		{"zero", DiscordMessage{Content: "x"}, `{"content":"x","allowed_mentions":{"parse":[]}}`},
		{"users", DiscordMessage{Content: "x", AllowedMentions: DiscordAllowedMentions{Users: []string{"1"}}}, `{"content":"x","allowed_mentions":{"parse":[],"users":["1"]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.m)
			if err != nil || string(b) != tt.want {
				t.Fatalf("got %s, %v; want %s", b, err, tt.want)
			}
		})
	}
}

func TestDiscordValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // 1 code point, 2 bytes
	embeds := func(n, desc int) []DiscordEmbed {
		es := make([]DiscordEmbed, n)
		for i := range es {
			es[i].Description = long(desc)
		}
		return es
	}
	tests := []struct {
		name string
		m    DiscordMessage
		ok   bool
	}{
		{"empty", DiscordMessage{}, false},
		{"content at limit", DiscordMessage{Content: long(2000)}, true},
		{"content over", DiscordMessage{Content: long(2001)}, false},
		{"title over", DiscordMessage{Embeds: []DiscordEmbed{{Title: long(257)}}}, false},
		{"description at limit", DiscordMessage{Embeds: embeds(1, 4096)}, true},
		{"description over", DiscordMessage{Embeds: embeds(1, 4097)}, false},
		{"ten embeds", DiscordMessage{Embeds: embeds(10, 600)}, true},
		{"eleven embeds", DiscordMessage{Embeds: embeds(11, 1)}, false},
		{"total over", DiscordMessage{Embeds: embeds(2, 3001)}, false},
		{"footer over", DiscordMessage{Embeds: []DiscordEmbed{{Footer: &DiscordEmbedFooter{Text: long(2049)}}}}, false},
		{"author over", DiscordMessage{Embeds: []DiscordEmbed{{Author: &DiscordEmbedAuthor{Name: long(257)}}}}, false},
		{"field value over", DiscordMessage{Embeds: []DiscordEmbed{{Fields: []DiscordEmbedField{{Name: "n", Value: long(1025)}}}}}, false},
		{"fields count over", DiscordMessage{Embeds: []DiscordEmbed{{Fields: make([]DiscordEmbedField, 26)}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tt.ok)
			}
			if err != nil && digest.ErrorCode(err) != digest.EINVALID {
				t.Fatalf("error code %q", digest.ErrorCode(err))
			}
		})
	}
}

// manyStories is a digest of n ordinary stories.
func manyStories(n int) digest.Digest {
	d := digest.Digest{Title: "Morning", Location: msk}
	for i := range n {
		d.Stories = append(d.Stories, digest.DigestStory{
			StoryID:  int64(i + 1),
			Headline: "Story number " + strings.Repeat("x", i%7) + " about events",
			URL:      "https://news.example/" + string(rune('a'+i%26)),
			Summary:  strings.Repeat("A sentence of the summary. ", 3+i%5),
			Time:     time.Date(2024, 3, 22, i%24, 0, 0, 0, time.UTC),
			Sources: []digest.Source{
				{Name: "Outlet A", URL: "https://a.example/" + string(rune('a'+i%26))},
				{Name: "Outlet B", URL: "https://b.example/" + string(rune('a'+i%26))},
			},
		})
	}
	return d
}

func TestDiscordPacking(t *testing.T) {
	d := manyStories(25)
	msgs := Discord(d)
	if !strings.HasPrefix(msgs[0].Content, "**Morning**") {
		t.Errorf("first message content %q does not name the digest", msgs[0].Content)
	}
	n := 0
	for i, m := range msgs {
		checkDiscordMessage(t, m)
		if i > 0 && m.Content != "" {
			t.Errorf("message %d has content %q", i+1, m.Content)
		}
		n += len(m.Embeds)
	}
	if n != 25 {
		t.Fatalf("%d embeds for 25 stories", n)
	}
	if len(msgs) != 3 {
		t.Errorf("25 small stories in %d messages, want 3 (10 embeds each)", len(msgs))
	}
}

func TestTelegramCutsBetweenStories(t *testing.T) {
	d := manyStories(30)
	parts := Telegram(d)
	if len(parts) < 2 {
		t.Fatalf("30 stories in %d part(s)", len(parts))
	}
	checkTelegramParts(t, parts, telegramLimits)
	next := 1
	for i, p := range parts {
		text, _, _ := readTelegram(p)
		// Each part after the first starts with a story, and every story
		// is whole: its headline and its sources line are in one part.
		for strings.Contains(text, "Story number") {
			rest := text[strings.Index(text, "Story number"):]
			end := strings.Index(rest, "2 sources: Outlet A, Outlet B")
			if end < 0 {
				t.Fatalf("part %d: story %d is cut: %q", i+1, next, trunc(rest))
			}
			text = rest[end:]
			next++
		}
		if i > 0 && !strings.HasPrefix(p, "<b>") {
			t.Errorf("part %d does not start with a story: %q", i+1, trunc(p))
		}
	}
	if next != 31 {
		t.Fatalf("found %d stories", next-1)
	}
}

func TestTelegramLongStoryReopensTags(t *testing.T) {
	d := digest.Digest{Stories: []digest.DigestStory{{
		Headline: strings.Repeat("very long headline ", 40),
		URL:      "https://example.com/x?a=1&b=2",
	}}}
	parts := telegramParts(d, cost{200, 0, 0})
	// The story does not fit in a message of its own, so it starts right
	// after the digest's title rather than in a message of its own.
	if len(parts) < 4 || !strings.HasPrefix(parts[0], "<b>Herald digest</b>\n\n<b>1. <a ") {
		t.Fatalf("760 characters in %d parts of 200: %q", len(parts), parts)
	}
	const open, close = `<b><a href="https://example.com/x?a=1&amp;b=2">`, "</a></b>"
	for i, p := range parts {
		if i > 0 && !strings.HasPrefix(p, open) || !strings.HasSuffix(p, close) {
			t.Errorf("part %d does not reopen and close the headline's tags: %q", i+1, p)
		}
	}
}

func TestSplitTelegram(t *testing.T) {
	t.Run("utf-16", func(t *testing.T) {
		in := strings.Repeat("😀", 3000) // 6000 UTF-16 units, one word
		parts, err := SplitTelegram(in)
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != 2 || utf16Len(parts[0]) != TelegramMaxText {
			t.Fatalf("%d parts, first of %d units", len(parts), utf16Len(parts[0]))
		}
		checkStream(t, in, checkTelegramParts(t, parts, telegramLimits))
	})
	t.Run("html limit", func(t *testing.T) {
		in := strings.Repeat("&amp;", 4096) // 4096 characters once parsed
		parts, err := SplitTelegram(in)
		if err != nil || len(parts) != 3 { // the HTML limit cuts it
			t.Fatalf("%d parts, %v", len(parts), err)
		}
	})
	t.Run("entity limit", func(t *testing.T) {
		in := strings.Repeat("<b>x</b> ", 150)
		parts, err := SplitTelegram(in)
		if err != nil || len(parts) != 2 {
			t.Fatalf("%d parts, %v", len(parts), err)
		}
		checkTelegramParts(t, parts, telegramLimits)
	})
	invalid := []string{
		"<b>open", "close</b>", "<b><i>x</b></i>", "<script>x</script>", "<br>",
		"a & b", "&nbsp;", "&#0;", "&#xD800;", "<a href=\"x\"", "a > b", "<b\x00>x</b>", "\xff",
		strings.Repeat("<b>", 17) + "x" + strings.Repeat("</b>", 17),
		`<a href="https://x.example/` + strings.Repeat("a", 4100) + `">x</a>`,
	}
	for _, in := range invalid {
		t.Run("invalid "+in[:min(len(in), 40)], func(t *testing.T) {
			if _, err := SplitTelegram(in); digest.ErrorCode(err) != digest.EINVALID {
				t.Fatalf("SplitTelegram(%q) error %v, want %s", in, err, digest.EINVALID)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	b, err := JSON(nastyDigest())
	if err != nil {
		t.Fatal(err)
	}
	var got JSONDigest
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	s := got.Stories[0]
	if s.Time != "2024-03-22T20:05:00+03:00" || len(s.ArticleIDs) != 5 || len(s.Sources) != 5 || s.Sources[1].Name != "AP & Co" {
		t.Errorf("story 1: %+v", s)
	}
	if !got.Stories[1].Developing || got.Stories[1].NewSources != 2 || got.More != 7 || len(got.Notices) != 2 {
		t.Errorf("digest: %+v", got)
	}
	var raw map[string]any
	b, _ = JSON(digest.Digest{})
	_ = json.Unmarshal(b, &raw)
	if _, ok := raw["stories"].([]any); !ok {
		t.Errorf("stories of an empty digest is %v, want []", raw["stories"])
	}
	if _, ok := raw["notices"].([]any); !ok {
		t.Errorf("notices of an empty digest is %v, want []", raw["notices"])
	}
}

func TestTextWraps(t *testing.T) {
	tests := []struct {
		name, headline string
		maxWidth       int
		lines          int // title, blank line, headline lines
	}{
		{"latin", strings.Repeat("word ", 40), 80, 2 + 3},
		{"cjk", strings.Repeat("東京で地震 ", 30), 80, 2 + 5}, // 7 words of 10 columns a line
		{"emoji", strings.Repeat("🔥🔥 ", 40), 80, 2 + 3},
		{"long word", strings.Repeat("x", 120), 123, 2 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Text(digest.Digest{Stories: []digest.DigestStory{{Headline: tt.headline}}})
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			for _, l := range lines {
				if w := width(l); w > tt.maxWidth {
					t.Errorf("line of %d columns: %q", w, l)
				}
			}
			if len(lines) != tt.lines {
				t.Errorf("%d lines, want %d:\n%s", len(lines), tt.lines, out)
			}
		})
	}
}
