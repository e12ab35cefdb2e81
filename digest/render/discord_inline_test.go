package render

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDiscordBuilder(t *testing.T) {
	tests := []struct {
		name  string
		build func(d *DiscordBuilder)
		want  string
	}{
		{"plain", func(d *DiscordBuilder) { d.Text("Subscribed to world.") }, "Subscribed to world."},
		{"markdown escaped", func(d *DiscordBuilder) { d.Text("*not bold* __x__ `code` ~~s~~ ||spoiler|| > quote # h") },
			`\*not bold\* \_\_x\_\_ \` + "`" + `code\` + "`" + ` \~\~s\~\~ \|\|spoiler\|\| \> quote \# h`},
		{"everyone neutralised", func(d *DiscordBuilder) { d.Text("ping @everyone and @here") },
			"ping @\u200Beveryone and @\u200Bhere"},
		{"user mention neutralised", func(d *DiscordBuilder) { d.Text("hi <@123> <#456> <@&7>") },
			"hi <\u200B@123\\> <\u200B\\#456\\> <\u200B@&7\\>"},
		{"line breaks kept", func(d *DiscordBuilder) { d.Text("problem\nUsage: /digest [24h]") },
			"problem\nUsage: /digest \\[24h\\]"},
		{"controls and bidi removed", func(d *DiscordBuilder) { d.Text("a\x00b\u202Ec\x1b[31md") }, "abcd"},
		{"ordered list marker escaped", func(d *DiscordBuilder) { d.Text("1. first") }, "1\\. first"},
		{"bold", func(d *DiscordBuilder) { d.Bold("This chat follows 2 feeds") }, "**This chat follows 2 feeds**"},
		{"italic escapes inside", func(d *DiscordBuilder) { d.Italic("ok, *3* articles") }, `*ok, \*3\* articles*`},
		{"link", func(d *DiscordBuilder) { d.Link("https://news.example/rss", "World [news]") },
			`[World \[news\]](https://news.example/rss)`},
		{"link parentheses encoded", func(d *DiscordBuilder) { d.Link("https://x.example/a_(b)", "x") },
			"[x](https://x.example/a_%28b%29)"},
		{"unsafe link is text", func(d *DiscordBuilder) { d.Link("javascript:alert(1)", "click") }, "click"},
		{"link with user info is text", func(d *DiscordBuilder) { d.Link("https://bank.example@evil.example/", "bank") }, "bank"},
		{"empty link text shows URL", func(d *DiscordBuilder) { d.Link("https://a.example/", "") },
			`[https://a.example/](https://a.example/)`},
		{"code kept verbatim", func(d *DiscordBuilder) { d.Code("30 7 * * 1-5") }, "`30 7 * * 1-5`"},
		{"code backtick replaced", func(d *DiscordBuilder) { d.Code("a`b") }, "`a\u02CBb`"},
		{"empty code omitted", func(d *DiscordBuilder) { d.Text("x"); d.Code(" \x00 ") }, "x"},
		{"list", func(d *DiscordBuilder) {
			d.Bullet()
			d.Link("https://a.example/feed", "A")
			d.Space()
			d.Text("—")
			d.Space()
			d.Italic("ok")
			d.Line()
			d.Bullet()
			d.Text("B")
		}, "- [A](https://a.example/feed) — *ok*\n- B"},
		{"blocks", func(d *DiscordBuilder) { d.Text("a"); d.Block(); d.Text("b") }, "a\n\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDiscordBuilder()
			tt.build(d)
			parts := d.Split(DiscordMaxContent)
			if len(parts) != 1 {
				t.Fatalf("%d parts: %q", len(parts), parts)
			}
			if parts[0] != tt.want {
				t.Errorf("got  %q\nwant %q", parts[0], tt.want)
			}
			checkNoPing(t, "message", parts[0])
		})
	}
}

func TestDiscordBuilderEmpty(t *testing.T) {
	d := NewDiscordBuilder()
	d.Text(" \n ")
	d.Bold("")
	if !d.Empty() || d.Split(DiscordMaxContent) != nil {
		t.Errorf("builder with no text: Empty %v, parts %q", d.Empty(), d.Split(DiscordMaxContent))
	}
}

// TestDiscordBuilderSplit cuts a long list: every part within the limit,
// markup closed in each, links whole, and together all of the text.
func TestDiscordBuilderSplit(t *testing.T) {
	d := NewDiscordBuilder()
	whole := NewDiscordBuilder()
	for _, b := range []*DiscordBuilder{d, whole} {
		b.Bold("This chat follows 60 feeds")
		b.Block()
		for i := range 60 {
			if i > 0 {
				b.Line()
			}
			b.Bullet()
			b.Link("https://feeds.example/"+strings.Repeat("x", i)+"/rss", "Feed number "+strings.Repeat("long ", i%7)+"name")
			b.Space()
			b.Text("—")
			b.Space()
			b.Italic("failing since Mon 23 Mar 06:00 UTC: fetch: 503 Service Unavailable")
		}
	}
	parts := d.Split(DiscordMaxContent)
	if len(parts) < 3 {
		t.Fatalf("%d parts for about %d characters", len(parts), len(whole.Split(1 << 30)[0]))
	}
	var texts []string
	for i, p := range parts {
		if n := utf8.RuneCountInString(p); n > DiscordMaxContent {
			t.Fatalf("part %d: %d characters", i+1, n)
		}
		text, err := readMarkdown(stripBullets(p), discordSpecial, false)
		if err != nil {
			t.Fatalf("part %d: %v\n%s", i+1, err, trunc(p))
		}
		if !strings.HasPrefix(p, "- ") && i > 0 {
			t.Errorf("part %d does not start at a list item: %q", i+1, trunc(p))
		}
		texts = append(texts, text)
	}
	wholeText, err := readMarkdown(stripBullets(whole.Split(1 << 30)[0]), discordSpecial, false)
	if err != nil {
		t.Fatal(err)
	}
	checkStream(t, wholeText, texts)
}

func TestDiscordPlain(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "Next ›", 80, "Next ›"},
		{"cleaned", " a\n\tb\x00 ", 80, "a b"},
		{"cut", "abcdefghij", 5, "abcd…"},
		{"cut drops trailing space", "abc defgh", 5, "abc…"},
		{"flag kept whole", "ab🇩🇪cd", 4, "ab…"},
		{"zero", "abc", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DiscordPlain(tt.in, tt.n)
			if got != tt.want {
				t.Errorf("DiscordPlain(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if utf8.RuneCountInString(got) > max(tt.n, 0) {
				t.Errorf("%q is longer than %d", got, tt.n)
			}
		})
	}
}

func TestDiscordTitle(t *testing.T) {
	if got := DiscordTitle("**Breaking** @everyone"); got != `\*\*Breaking\*\* @`+"\u200B"+`everyone` {
		t.Errorf("DiscordTitle = %q", got)
	}
	long := DiscordTitle(strings.Repeat("word ", 100))
	if n := utf8.RuneCountInString(long); n > DiscordMaxTitle || !strings.HasSuffix(long, "…") {
		t.Errorf("long title: %d characters, %q", n, long)
	}
}

// stripBullets removes the "- " that starts a list item, which
// readMarkdown reads as an unescaped "-" in Discord mode.
func stripBullets(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "- ")
	}
	return strings.Join(lines, "\n")
}

// FuzzDiscordBuilder checks replies built from arbitrary text: every part
// within the limit, strictly valid markdown (nothing from the input
// becomes markup), nothing Discord reads as a mention, no text lost or
// repeated by cutting, and inline code that cannot be closed early.
func FuzzDiscordBuilder(f *testing.F) {
	f.Add("Subscribed to *world*", "https://news.example/rss", "@everyone <@1>", "30 7 * * *", uint16(100))
	f.Add("1. a\n2) b\n\n# x", "https://x.example/(a)", "`code`", "a`b``c", uint16(0))
	f.Add(strings.Repeat("long words ", 300), "javascript:x", "\u202Eevil", "\x1b[31m", uint16(5))
	f.Fuzz(func(t *testing.T, text, u, note, code string, limit uint16) {
		lim := 200 + int(limit)%(DiscordMaxContent-199)
		build := func() *DiscordBuilder {
			d := NewDiscordBuilder()
			d.Bold(note)
			d.Block()
			d.Text(text)
			d.Line()
			d.Bullet()
			d.Link(u, text)
			d.Space()
			d.Text("—")
			d.Space()
			d.Italic(note)
			return d
		}
		whole := build().Split(1 << 30)
		parts := build().Split(lim)
		if len(whole) > 1 {
			t.Fatalf("unlimited rendering in %d parts", len(whole))
		}
		var texts []string
		for i, p := range parts {
			if n := utf8.RuneCountInString(p); n > lim {
				t.Fatalf("part %d: %d characters, limit %d", i+1, n, lim)
			}
			checkNoPing(t, "part", p)
			s, err := readMarkdown(stripBullets(p), discordSpecial, false)
			if err != nil {
				t.Fatalf("part %d: %v\n%q", i+1, err, trunc(p))
			}
			// A bullet before an empty item leaves a space that is
			// the item's, not the cut's.
			texts = append(texts, strings.TrimFunc(s, isGap))
		}
		if len(whole) == 1 {
			wholeText, err := readMarkdown(stripBullets(whole[0]), discordSpecial, false)
			if err != nil {
				t.Fatalf("whole: %v", err)
			}
			checkStream(t, wholeText, texts)
		}

		c := NewDiscordBuilder()
		c.Code(code)
		for _, p := range c.Split(lim) {
			if !strings.HasPrefix(p, "`") || !strings.HasSuffix(p, "`") || strings.Count(p, "`") != 2 {
				t.Fatalf("code part %q is not one code span", p)
			}
			if strings.ContainsAny(p, "\n\x1b") {
				t.Fatalf("code part %q holds a line break or escape", p)
			}
		}
	})
}
