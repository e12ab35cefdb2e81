package telegram_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/bot/telegram"
	"github.com/seed-c50b6fda/herald/bot/telegram/telegramtest"
	"github.com/seed-c50b6fda/herald/digest"
)

func para(s string) bot.Block { return bot.Block{Kind: bot.Paragraph, Text: s} }

// checkPayloads fails unless every payload is a message Telegram accepts:
// valid HTML, at most 4096 characters (1024 for a caption), links only to
// http and https, no @mention in the text; it returns the texts shown.
func checkPayloads(tb testing.TB, ps []telegram.Payload) []string {
	tb.Helper()
	var shown []string
	for i, p := range ps {
		text, ents, err := telegramtest.ParseHTML(p.Text)
		if err != nil {
			tb.Fatalf("payload %d: %v\n%s", i+1, err, p.Text)
		}
		limit := 4096
		if p.Method == "sendDocument" {
			limit = 1024
		}
		if n := utf16Len(text); n > limit {
			tb.Errorf("payload %d: %d characters, limit %d", i+1, n, limit)
		}
		if p.Method != "sendDocument" && text == "" {
			tb.Errorf("payload %d: empty message", i+1)
		}
		for _, e := range ents {
			if e.Type == "text_link" {
				if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
					tb.Errorf("payload %d links to %q", i+1, e.URL)
				}
			}
		}
		if m := mention.FindString(outsideCode(text, ents)); m != "" {
			tb.Errorf("payload %d mentions %q: %q", i+1, m, text)
		}
		shown = append(shown, text)
	}
	return shown
}

// outsideCode returns text with what code and pre entities cover blanked
// out: Telegram finds no mentions there.
func outsideCode(text string, ents []telegramtest.Entity) string {
	units := utf16.Encode([]rune(text))
	for _, e := range ents {
		if e.Type == "code" || e.Type == "pre" {
			for k := e.Offset; k < e.Offset+e.Length && k < len(units); k++ {
				units[k] = ' '
			}
		}
	}
	return string(utf16.Decode(units))
}

// mention matches what Telegram turns into a @username mention.
var mention = regexp.MustCompile(`(^|[^A-Za-z0-9_])@[A-Za-z0-9_]{1,}`)

func TestRenderBlocks(t *testing.T) {
	tests := []struct {
		name  string
		msg   bot.Message
		html  string
		shown string
	}{
		{"escaping and mentions", bot.Message{Blocks: []bot.Block{para(`Subscribed to <b>x</b> & "y" by @admin.`)}},
			`Subscribed to &lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot; by @` + "\u200B" + `admin.`,
			`Subscribed to <b>x</b> & "y" by @` + "\u200B" + `admin.`},
		{"heading, paragraph, code", bot.Message{Blocks: []bot.Block{{Kind: bot.Heading, Text: "Next <digests>"}, para("Set with\n/schedule"), {Kind: bot.Code, Text: "30 7 * * 1-5"}}},
			"<b>Next &lt;digests&gt;</b>\n\nSet with\n/schedule\n\n<code>30 7 * * 1-5</code>",
			"Next <digests>\n\nSet with\n/schedule\n\n30 7 * * 1-5"},
		{"multi-line code is pre", bot.Message{Blocks: []bot.Block{{Kind: bot.Code, Text: "a  b\nc"}}},
			"<pre>a  b\nc</pre>", "a  b\nc"},
		{"list with links and notes", bot.Message{Blocks: []bot.Block{{Kind: bot.List, Items: []bot.Item{
			{Text: "World & co", URL: "https://news.example/rss?a=1&b=2", Note: "ok, 3 articles"},
			{Text: "Evil", URL: "javascript:alert(1)"},
			{Text: "Phish", URL: "https://bank.example@evil.example/"},
			{URL: "https://bare.example/"},
			{Text: "Plain"},
		}}}},
			`• <a href="https://news.example/rss?a=1&amp;b=2">World &amp; co</a> — <i>ok, 3 articles</i>` + "\n• Evil\n• Phish\n" +
				`• <a href="https://bare.example/">https://bare.example/</a>` + "\n• Plain",
			"• World & co — ok, 3 articles\n• Evil\n• Phish\n• https://bare.example/\n• Plain"},
		{"empty blocks are skipped", bot.Message{Blocks: []bot.Block{para(""), {Kind: bot.Heading}, para("x"), {Kind: bot.List}, {Kind: bot.Code, Text: " "}}},
			"x", "x"},
		{"controls and bidi overrides are dropped", bot.Message{Blocks: []bot.Block{para("a\x1b[31mb\u202Ec\x00")}},
			"abc", "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := telegram.Render(&tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != 1 || ps[0].Method != "sendMessage" || ps[0].ParseMode != "HTML" {
				t.Fatalf("payloads = %+v", ps)
			}
			if ps[0].Text != tt.html {
				t.Errorf("HTML\n got %q\nwant %q", ps[0].Text, tt.html)
			}
			if shown := checkPayloads(t, ps); shown[0] != tt.shown {
				t.Errorf("shown\n got %q\nwant %q", shown[0], tt.shown)
			}
		})
	}
}

func TestRenderButtonsFilesAndLength(t *testing.T) {
	next := []bot.Button{{Label: "‹ Previous", Data: "feeds:1"}, {Label: "Next ›", Data: "feeds:3"}}
	long := strings.Repeat("All the news that fits. ", 400) // about 9600 characters
	file := &bot.File{Name: "herald-feeds.opml", Type: "text/x-opml", Data: []byte("<opml/>")}
	tests := []struct {
		name    string
		msg     bot.Message
		methods string // the payloads' methods, first letters: m(essage) d(ocument)
		kbOn    int    // 1-based payload carrying the keyboard, 0 for none
		caption bool   // the document carries the text
	}{
		{"buttons", bot.Message{Blocks: []bot.Block{para("Page 2 of 3")}, Buttons: next}, "m", 1, false},
		{"long text is split, buttons on the last part", bot.Message{Blocks: []bot.Block{para(long)}, Buttons: next}, "mmm", 3, false},
		{"short text captions the file", bot.Message{Blocks: []bot.Block{para("2 feeds of this chat, as OPML.")}, File: file}, "d", 0, true},
		{"long text goes before the file", bot.Message{Blocks: []bot.Block{para(strings.Repeat("x ", 600))}, File: file}, "md", 0, false},
		{"a file alone", bot.Message{File: file}, "d", 0, false},
		{"buttons keep the text apart from the file", bot.Message{Blocks: []bot.Block{para("x")}, Buttons: next, File: file}, "md", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := telegram.Render(&tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			var methods strings.Builder
			for i, p := range ps {
				methods.WriteByte(map[string]byte{"sendMessage": 'm', "sendDocument": 'd'}[p.Method])
				hasKB := len(p.Keyboard) > 0
				if hasKB != (i+1 == tt.kbOn) {
					t.Errorf("payload %d keyboard %v", i+1, p.Keyboard)
				}
				if p.Method == "sendDocument" {
					if p.File == nil || p.File.Name != file.Name || string(p.File.Data) != "<opml/>" {
						t.Errorf("document = %+v", p.File)
					}
					if (p.Text != "") != tt.caption {
						t.Errorf("caption %q", p.Text)
					}
				}
			}
			if methods.String() != tt.methods {
				t.Fatalf("methods %q, want %q", methods.String(), tt.methods)
			}
			shown := checkPayloads(t, ps)
			if tt.msg.Blocks != nil && len(tt.msg.Blocks[0].Text) > 4096 {
				// Cutting only drops the white space at a cut.
				if got, want := strings.Join(strings.Fields(strings.Join(shown, " ")), " "), strings.Join(strings.Fields(long), " "); got != want {
					t.Errorf("split text differs from the original")
				}
			}
			if kb := ps[max(tt.kbOn, 1)-1].Keyboard; tt.kbOn > 0 && (len(kb) != 1 || kb[0][1].Data != "feeds:3" || kb[0][1].Label != "Next ›") {
				t.Errorf("keyboard = %+v", kb)
			}
		})
	}
}

func TestRenderRefusesWhatTelegramWould(t *testing.T) {
	for name, m := range map[string]bot.Message{
		"data over 64 bytes": {Blocks: []bot.Block{para("x")}, Buttons: []bot.Button{{Label: "Next", Data: strings.Repeat("d", 65)}}},
		"empty data":         {Blocks: []bot.Block{para("x")}, Buttons: []bot.Button{{Label: "Next"}}},
		"buttons alone":      {Buttons: []bot.Button{{Label: "Next", Data: "feeds:2"}}},
	} {
		if _, err := telegram.Render(&m); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
}

func TestRenderDigest(t *testing.T) {
	d := longDigest(40, 300)
	ps, err := telegram.Render(&bot.Message{Blocks: []bot.Block{para("Your digest:")}, Digest: d, Buttons: []bot.Button{{Label: "More", Data: "more:1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 4 {
		t.Fatalf("%d payloads for a text and a long digest", len(ps))
	}
	shown := checkPayloads(t, ps)
	if shown[0] != "Your digest:" || !strings.HasPrefix(shown[1], "Herald digest") {
		t.Errorf("the text and then the digest: %q, %q", shown[0], shown[1])
	}
	if len(ps[len(ps)-1].Keyboard) != 1 {
		t.Error("the keyboard is not on the last part")
	}
	all := strings.ReplaceAll(strings.Join(shown, "\n"), "\u200B", "") // mentions are neutralised
	for _, s := range d.Stories {
		if strings.Count(all, s.Headline) != 1 {
			t.Errorf("headline %q appears %d times", s.Headline, strings.Count(all, s.Headline))
		}
	}
}

// longDigest returns a digest of n stories with summaries of the given
// length, with feed text that tries to be markup and to ping.
func longDigest(n, summary int) *digest.Digest {
	at := time.Date(2026, 3, 23, 9, 0, 0, 0, time.UTC)
	d := &digest.Digest{Since: at.Add(-24 * time.Hour), Until: at}
	for i := range n {
		s := digest.DigestStory{
			StoryID:  int64(i + 1),
			Headline: fmt.Sprintf("Story %d: <b>bold</b> claims & @everyone", i+1),
			URL:      fmt.Sprintf("https://news.example/%d?a=1&b=2", i+1),
			Summary:  strings.Repeat("Officials said more details would follow. ", summary/42+1)[:summary],
			Time:     at.Add(-time.Duration(i) * time.Minute),
			Sources:  []digest.Source{{Name: "Outlet A", URL: "https://a.example/"}, {Name: "Outlet B", URL: "https://b.example/"}},
		}
		d.Stories = append(d.Stories, s)
	}
	return d
}

func FuzzRender(f *testing.F) {
	f.Add("Subscribed to <b>x</b> & @admin", "https://news.example/?a=1&b=2", "ok", uint16(10))
	f.Add("a\n\nb\x1b[31m\u202E", "javascript:alert(1)", "@here", uint16(5000))
	f.Add("&amp; &#0; <", "https://bank.example@evil.example/", "", uint16(0))
	f.Fuzz(func(t *testing.T, text, u, note string, repeat uint16) {
		long := strings.Repeat(text+" ", int(repeat%3000)/max(len(text), 1)+1)
		m := &bot.Message{
			Blocks: []bot.Block{
				{Kind: bot.Heading, Text: text}, para(long), {Kind: bot.Code, Text: text},
				{Kind: bot.List, Items: []bot.Item{{Text: text, URL: u, Note: note}, {Text: note, URL: text}}},
				para("Page 1 of 2"), // the buttons need text to go with, whatever the rest renders to
			},
			Buttons: []bot.Button{{Label: "Next", Data: "feeds:2"}},
		}
		ps, err := telegram.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		checkPayloads(t, ps)
	})
}

func BenchmarkRenderDigest(b *testing.B) {
	d := longDigest(40, 300)
	m := &bot.Message{Digest: d}
	a, err := telegram.New(telegram.Config{Token: "1:x", Bot: bot.New(bot.Deps{})})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.RenderPayloads(m); err != nil {
			b.Fatal(err)
		}
	}
}
