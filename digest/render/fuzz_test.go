package render

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/seed-c50b6fda/herald/digest"
)

// fuzzDigest builds a digest of 1 to 8 stories from fuzzed text, with
// sources taken from the |-separated fields of source (each also tried as a
// URL) and summaries of varying length.
func fuzzDigest(headline, summary, source string, n uint8) digest.Digest {
	d := digest.Digest{
		Title:    headline,
		Since:    time.Date(2024, 3, 22, 6, 0, 0, 0, time.UTC),
		Until:    time.Date(2024, 3, 23, 6, 0, 0, 0, time.UTC),
		Location: msk,
		More:     int(n % 5),
		Notices:  []string{summary, source},
	}
	names := strings.Split(source, "|")
	for i := range 1 + int(n%8) {
		s := digest.DigestStory{
			StoryID:    int64(i + 1),
			Headline:   headline + " " + strconv.Itoa(i),
			URL:        "https://news.example/" + headline,
			Summary:    strings.Repeat(summary+" ", 1+i%2),
			Time:       time.Date(2024, 3, 22, i, 0, 0, 0, time.UTC),
			ArticleIDs: []int64{int64(i)},
			Developing: i%3 == 1,
			NewSources: i % 4,
		}
		for k, name := range names {
			u := "https://news.example/" + name
			if k%2 == 1 {
				u = name
			}
			s.Sources = append(s.Sources, digest.Source{Name: name, URL: u})
		}
		d.Stories = append(d.Stories, s)
	}
	return d
}

// wantText is the feed text a rendering of d must show, in order.
func wantText(d digest.Digest) []string {
	title := clean(d.Title)
	if title == "" {
		title = defaultTitle
	}
	want := []string{title}
	for _, s := range d.Stories {
		h := clean(s.Headline)
		if h == "" {
			h = "(untitled)"
		}
		want = append(want, h, clean(s.Summary))
		for _, src := range s.Sources {
			name := clean(src.Name)
			if name == "" {
				name = clean(hostOf(src.URL))
			}
			want = append(want, name)
		}
	}
	if d.More > 0 {
		want = append(want, "and "+strconv.Itoa(d.More)+" more stor")
	}
	for _, n := range d.Notices {
		want = append(want, clean(n))
	}
	return want
}

var fuzzSeeds = []struct {
	headline, summary, source string
	n                         uint8
}{
	{"Crocus City Hall attack", "Gunmen opened fire.", "Reuters|AP|TASS", 3},
	{`<b>"x" & y</b> @everyone <@123> <@!1> <@&2> <#3> </cmd:4> <:e:5> <t:6>`, "**bold** _it_ ~~s~~ `c` | > [l](u) ||sp||", "@here|<@&9>|a&b", 11},
	{"# h", "1. list\n- item\n+ plus\n> quote\n=== ---", "1)|2.|-", 7},
	{"😀𝕏🇷🇺👨‍👩‍👧 e\u0301\u0301", "ישראל تحديث \u202Eevil\u202C \x1b[31mred", "ТАСС|الجزيرة", 5},
	{strings.Repeat("long ", 60), strings.Repeat("Summary sentence that goes on. ", 70), strings.Repeat("S|", 30), 7},
	{strings.Repeat("x", 300), strings.Repeat("y", 2100), "javascript:alert(1)|https://a.example/(x)@everyone", 2},
	{"&copy; &#169; AT&T", "\\* \\_ \\\\", "https://user:pw@evil.example/", 0},
}

// FuzzTelegram checks the Telegram renderer: every part valid Telegram
// HTML within the limits, together exactly the text of the uncut
// rendering, which shows all of the digest's text in order.
func FuzzTelegram(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.headline, s.summary, s.source, s.n, uint16(300))
	}
	f.Fuzz(func(t *testing.T, headline, summary, source string, n uint8, limit uint16) {
		d := fuzzDigest(headline, summary, source, n)
		lim := limits(100+int(limit)%(TelegramMaxText-99), TelegramMaxHTML, 4+int(limit)%97)
		checkTelegramDigest(t, d, lim)
		checkTelegramDigest(t, d, telegramLimits)
	})
}

func checkTelegramDigest(t *testing.T, d digest.Digest, lim cost) {
	t.Helper()
	whole := telegramParts(d, cost{})
	if len(whole) != 1 {
		t.Fatalf("unlimited rendering in %d parts", len(whole))
	}
	wholeText, _, err := readTelegram(whole[0])
	if err != nil {
		t.Fatalf("unlimited rendering: %v\n%s", err, trunc(whole[0]))
	}
	checkContains(t, "telegram", wholeText, wantText(d))
	parts := telegramParts(d, lim)
	texts := checkTelegramParts(t, parts, lim)
	checkStream(t, wholeText, texts)
}

// checkTelegramParts checks each part's markup and limits and returns
// their texts.
func checkTelegramParts(t *testing.T, parts []string, lim cost) []string {
	t.Helper()
	var texts []string
	for i, p := range parts {
		text, tags, err := readTelegram(p)
		if err != nil {
			t.Fatalf("part %d of %d: %v\n%s", i+1, len(parts), err, trunc(p))
		}
		got := limits(utf16Len(text), utf16Len(p), tags)
		if !got.within(lim) {
			t.Fatalf("part %d of %d costs %v (text, html, tags), limits %v", i+1, len(parts), got, lim)
		}
		texts = append(texts, text)
	}
	return texts
}

// FuzzSplitTelegram checks SplitTelegram on arbitrary input (which it must
// reject or split correctly) and on valid HTML generated from the input.
func FuzzSplitTelegram(f *testing.F) {
	f.Add("hello <b>world</b> &amp; more", []byte{0, 4, 1, 6, 2, 5, 7, 3}, uint16(20))
	f.Add("a\n\nb <a href=\"https://x.example/\">link text</a>", []byte{4, 4, 0, 0, 0, 7, 1, 5, 5}, uint16(5))
	f.Add("😀𝕏 e\u0301 &lt;&gt;", []byte{4, 0, 4, 1, 4, 2, 6, 3, 7, 0}, uint16(1))
	f.Add(strings.Repeat("word ", 500), []byte{4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, uint16(0))
	f.Fuzz(func(t *testing.T, text string, ops []byte, limit uint16) {
		lim := limits(40+int(limit)%TelegramMaxText, TelegramMaxHTML, 6+int(limit)%95)
		if parts, err := splitTelegram(text, lim); err == nil {
			ps, _ := parseTelegram(text)
			if len(ps) > 0 {
				whole, _, err := readTelegram(text)
				if err == nil {
					checkStream(t, whole, checkTelegramParts(t, parts, lim))
				}
			}
		}
		src := generateHTML(text, ops)
		whole, _, err := readTelegram(src)
		if err != nil {
			t.Fatalf("generated invalid HTML: %v\n%s", err, src)
		}
		parts, err := splitTelegram(src, lim)
		if err != nil {
			t.Fatalf("SplitTelegram rejected valid HTML: %v\n%s", err, src)
		}
		checkStream(t, whole, checkTelegramParts(t, parts, lim))
	})
}

// generateHTML builds valid Telegram HTML from fuzz input: ops says what
// comes next (text, a tag opened or closed, white space), text supplies the
// characters.
func generateHTML(text string, ops []byte) string {
	var b strings.Builder
	var stack []string
	runes := []rune(strings.ToValidUTF8(text, "?"))
	next := func(n int) string {
		n = min(n, len(runes))
		s := string(runes[:n])
		runes = runes[n:]
		return s
	}
	tags := []string{"b", "i", "u", "s", "code", "a", "blockquote", "pre"}
	for k, op := range ops {
		switch op % 8 {
		case 0, 1, 2, 3:
			b.WriteString(escapeHTML(next(1 + int(op)/8)))
		case 4:
			if len(stack) < 6 {
				tag := tags[int(op/8)%len(tags)]
				if tag == "a" {
					b.WriteString(`<a href="https://x.example/` + strconv.Itoa(k) + `?a=1&amp;b=2">`)
				} else {
					b.WriteString("<" + tag + ">")
				}
				stack = append(stack, tag)
			}
		case 5:
			if n := len(stack); n > 0 {
				b.WriteString("</" + stack[n-1] + ">")
				stack = stack[:n-1]
			}
		case 6:
			b.WriteString(" ")
		case 7:
			b.WriteString(strings.Repeat("\n", 1+int(op/8)%2))
		}
	}
	b.WriteString(escapeHTML(next(len(runes))))
	for k := len(stack) - 1; k >= 0; k-- {
		b.WriteString("</" + stack[k] + ">")
	}
	return b.String()
}

// FuzzDiscord checks both Discord renderers: every message within
// Discord's limits, allowing no mentions, its markdown strictly valid
// without anything Discord reads as a mention, and together all the text
// of the uncut rendering, which shows all of the digest's text in order.
func FuzzDiscord(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.headline, s.summary, s.source, s.n, uint16(300))
	}
	f.Fuzz(func(t *testing.T, headline, summary, source string, n uint8, limit uint16) {
		d := fuzzDigest(headline, summary, source, n)
		checkDiscordContent(t, d, limits(1100+int(limit)%(DiscordMaxContent-1099)))
		checkDiscordContent(t, d, cost{DiscordMaxContent})
		checkDiscordEmbeds(t, d, 2200+int(limit)%(DiscordMaxDescription-2199))
		checkDiscordEmbeds(t, d, DiscordMaxDescription)
	})
}

func checkDiscordContent(t *testing.T, d digest.Digest, lim cost) {
	t.Helper()
	whole := discordContent(d, cost{})
	if len(whole) != 1 {
		t.Fatalf("unlimited rendering in %d messages", len(whole))
	}
	wholeText, err := readMarkdown(whole[0].Content, discordSpecial, false)
	if err != nil {
		t.Fatalf("unlimited rendering: %v\n%s", err, trunc(whole[0].Content))
	}
	checkContains(t, "discord content", wholeText, wantText(d))
	var texts []string
	for i, m := range discordContent(d, lim) {
		checkDiscordMessage(t, m)
		if n := runeLen(m.Content); n > int(lim[0]) {
			t.Fatalf("message %d: %d characters, limit %d", i+1, n, lim[0])
		}
		text, err := readMarkdown(m.Content, discordSpecial, false)
		if err != nil {
			t.Fatalf("message %d: %v\n%s", i+1, err, trunc(m.Content))
		}
		texts = append(texts, text)
	}
	checkStream(t, wholeText, texts)
}

func checkDiscordEmbeds(t *testing.T, d digest.Digest, descLimit int) {
	t.Helper()
	flat := func(msgs []DiscordMessage) (stream string, titles, footers, descs []string) {
		var b strings.Builder
		for i, m := range msgs {
			text, err := readMarkdown(m.Content, discordSpecial, false)
			if err != nil {
				t.Fatalf("message %d content: %v\n%s", i+1, err, trunc(m.Content))
			}
			b.WriteString(text + "\n")
			for k, e := range m.Embeds {
				title, err := readMarkdown(e.Title, discordSpecial, false)
				if err != nil {
					t.Fatalf("message %d embed %d title: %v\n%s", i+1, k+1, err, e.Title)
				}
				desc, err := readMarkdown(e.Description, discordSpecial, false)
				if err != nil {
					t.Fatalf("message %d embed %d description: %v\n%s", i+1, k+1, err, trunc(e.Description))
				}
				titles = append(titles, title)
				descs = append(descs, desc)
				b.WriteString(title + "\n" + desc + "\n")
				if e.Footer != nil {
					footers = append(footers, e.Footer.Text)
					b.WriteString(e.Footer.Text + "\n")
				}
			}
		}
		return b.String(), titles, footers, descs
	}
	wholeStream, wholeTitles, wholeFooters, wholeDescs := flat(discordEmbeds(d, 0))
	checkContains(t, "discord embeds", wholeStream, wantText(d))

	msgs := discordEmbeds(d, descLimit)
	for _, m := range msgs {
		checkDiscordMessage(t, m)
		for _, e := range m.Embeds {
			if n := runeLen(e.Description); n > descLimit {
				t.Fatalf("description of %d characters, limit %d", n, descLimit)
			}
		}
	}
	_, titles, footers, descs := flat(msgs)
	if got, want := nonEmpty(titles), nonEmpty(wholeTitles); strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Fatalf("titles differ when descriptions are cut:\n%q\n%q", got, want)
	}
	if strings.Join(footers, "\x00") != strings.Join(wholeFooters, "\x00") {
		t.Fatalf("footers differ when descriptions are cut:\n%q\n%q", footers, wholeFooters)
	}
	checkStream(t, strings.Join(nonEmpty(wholeDescs), "\n"), nonEmpty(descs))
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// checkDiscordMessage checks one message against every Discord limit, that
// it marshals with an empty allowed-mentions parse list, and that nothing
// in it reads as a mention.
func checkDiscordMessage(t *testing.T, m DiscordMessage) {
	t.Helper()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"allowed_mentions":{"parse":[]}`) {
		t.Fatalf("message allows mentions: %s", trunc(string(b)))
	}
	checkNoPing(t, "content", m.Content)
	for _, e := range m.Embeds {
		checkNoPing(t, "embed title", e.Title)
		checkNoPing(t, "embed description", e.Description)
	}
}

// FuzzMarkdown checks that feed text never becomes CommonMark markup and
// that all of it is shown, in order.
func FuzzMarkdown(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.headline, s.summary, s.source, s.n)
	}
	f.Fuzz(func(t *testing.T, headline, summary, source string, n uint8) {
		d := fuzzDigest(headline, summary, source, n)
		md := Markdown(d)
		text, err := readMarkdown(md, commonMarkSpecial, true)
		if err != nil {
			t.Fatalf("%v\n%s", err, trunc(md))
		}
		checkContains(t, "markdown", text, wantText(d))
	})
}

// FuzzText checks that plain text shows all the feed text, in order, and
// no control character but the line break.
func FuzzText(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.headline, s.summary, s.source, s.n)
	}
	f.Fuzz(func(t *testing.T, headline, summary, source string, n uint8) {
		d := fuzzDigest(headline, summary, source, n)
		out := Text(d)
		for _, r := range out {
			if r != '\n' && (unicode.IsControl(r) || isBidiControl(r)) {
				t.Fatalf("control character %U in output", r)
			}
		}
		checkContains(t, "text", out, wantText(d))
	})
}
