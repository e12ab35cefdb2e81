package discord

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/render"
)

func TestRenderMessage(t *testing.T) {
	tests := []struct {
		name  string
		msg   *bot.Message
		check func(t *testing.T, parts []payload)
	}{
		{"plain reply is content without previews", &bot.Message{Blocks: []bot.Block{{Text: "Subscribed to *world* @everyone."}}},
			func(t *testing.T, parts []payload) {
				b := parts[0].Message
				if len(parts) != 1 || b.Content != `Subscribed to \*world\* @`+"\u200B"+`everyone.` || len(b.Embeds) != 0 {
					t.Errorf("parts = %+v", parts)
				}
				if b.Flags != flagSuppressEmbeds {
					t.Errorf("flags %d, want link previews suppressed", b.Flags)
				}
			}},
		{"heading first is an embed card", &bot.Message{Blocks: []bot.Block{
			{Kind: bot.Heading, Text: "This chat follows 2 feeds"},
			{Kind: bot.List, Items: []bot.Item{{Text: "World", URL: "https://news.example/rss", Note: "ok, 3 articles"}, {Text: "Local"}}},
			{Text: "Page 1 of 2"},
		}}, func(t *testing.T, parts []payload) {
			if len(parts) != 1 || len(parts[0].Message.Embeds) != 1 {
				t.Fatalf("parts = %+v", parts)
			}
			e := parts[0].Message.Embeds[0]
			want := "- [World](https://news.example/rss) — *ok, 3 articles*\n- Local\n\nPage 1 of 2"
			if e.Title != "This chat follows 2 feeds" || e.Description != want || e.Color != colorReply {
				t.Errorf("embed = %+v\nwant description %q", e, want)
			}
			if parts[0].Message.Flags&flagSuppressEmbeds != 0 {
				t.Error("an embed card suppresses its own embed")
			}
		}},
		{"error card is red", &bot.Message{Blocks: []bot.Block{{Kind: bot.Heading, Text: "Problem"}, {Text: "x"}}, Error: true, Ephemeral: true},
			func(t *testing.T, parts []payload) {
				if parts[0].Message.Embeds[0].Color != colorError || !parts[0].Ephemeral {
					t.Errorf("parts = %+v", parts)
				}
			}},
		{"a lone heading is bold content", &bot.Message{Blocks: []bot.Block{{Kind: bot.Heading, Text: "Status"}}},
			func(t *testing.T, parts []payload) {
				if parts[0].Message.Content != "**Status**" {
					t.Errorf("content %q", parts[0].Message.Content)
				}
			}},
		{"code keeps its text", &bot.Message{Blocks: []bot.Block{{Text: "Done."}, {Kind: bot.Code, Text: "30 7 * * 1-5"}}},
			func(t *testing.T, parts []payload) {
				if parts[0].Message.Content != "Done.\n\n`30 7 * * 1-5`" {
					t.Errorf("content %q", parts[0].Message.Content)
				}
			}},
		{"buttons under the last part", &bot.Message{Blocks: []bot.Block{{Text: strings.Repeat("word ", 900)}},
			Buttons: []bot.Button{{Label: "‹ Previous", Data: "feeds:1"}, {Label: "Next ›", Data: "feeds:3"}}, Replace: true},
			func(t *testing.T, parts []payload) {
				if len(parts) != 3 {
					t.Fatalf("%d parts for 4500 characters", len(parts))
				}
				for i, p := range parts {
					if (len(p.Message.Components) > 0) != (i == len(parts)-1) {
						t.Errorf("part %d has %d rows of buttons", i+1, len(p.Message.Components))
					}
					if p.Replace != (i == 0) {
						t.Errorf("part %d replace %v", i+1, p.Replace)
					}
				}
				row := parts[2].Message.Components[0]
				if row.Type != 1 || len(row.Components) != 2 || row.Components[1].CustomID != "feeds:3" || row.Components[1].Style != 2 {
					t.Errorf("row = %+v", row)
				}
			}},
		{"six buttons make two rows", &bot.Message{Blocks: []bot.Block{{Text: "x"}}, Buttons: sixButtons()},
			func(t *testing.T, parts []payload) {
				rows := parts[0].Message.Components
				if len(rows) != 2 || len(rows[0].Components) != 5 || len(rows[1].Components) != 1 {
					t.Errorf("rows = %+v", rows)
				}
			}},
		{"file on the first part", &bot.Message{Blocks: []bot.Block{{Text: "2 feeds, as OPML."}},
			File: &bot.File{Name: "herald-feeds.opml", Type: "text/x-opml", Data: []byte("<opml/>")}},
			func(t *testing.T, parts []payload) {
				p := parts[0]
				if len(p.Files) != 1 || len(p.Message.Attachments) != 1 || p.Message.Attachments[0].Filename != "herald-feeds.opml" {
					t.Errorf("part = %+v", p)
				}
			}},
		{"a file alone", &bot.Message{File: &bot.File{Name: "a/b.txt", Data: []byte("x")}},
			func(t *testing.T, parts []payload) {
				if len(parts) != 1 || parts[0].Files[0].Name != "ab.txt" {
					t.Errorf("parts = %+v", parts)
				}
			}},
		{"digest as embeds with a forum title", &bot.Message{Digest: testDigest(3)},
			func(t *testing.T, parts []payload) {
				if len(parts) != 1 || len(parts[0].Message.Embeds) != 3 || !strings.Contains(parts[0].Message.Content, "Morning") {
					t.Fatalf("parts = %+v", parts)
				}
				if got := parts[0].ThreadName; got != "Morning · Mon 23 Mar 2026" {
					t.Errorf("thread name %q", got)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := renderMessage(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) == 0 {
				t.Fatal("no parts")
			}
			for i, p := range parts {
				js, err := json.Marshal(p)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(js), `"allowed_mentions":{"parse":[]}`) {
					t.Errorf("part %d allows mentions: %s", i+1, js)
				}
				if !strings.Contains(string(js), `"embeds":[`) || !strings.Contains(string(js), `"components":[`) {
					t.Errorf("part %d lacks the embeds or components list an edit needs: %s", i+1, js)
				}
			}
			tt.check(t, parts)
		})
	}
}

func sixButtons() []bot.Button {
	var out []bot.Button
	for i := range 6 {
		out = append(out, bot.Button{Label: fmt.Sprint(i), Data: fmt.Sprint("b:", i)})
	}
	return out
}

func testDigest(n int) *digest.Digest {
	until := time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC)
	d := &digest.Digest{Title: "Morning", Since: until.Add(-24 * time.Hour), Until: until}
	for i := range n {
		d.Stories = append(d.Stories, digest.DigestStory{
			StoryID: int64(i + 1), Headline: fmt.Sprintf("Headline %d", i+1), URL: fmt.Sprintf("https://a.example/%d", i),
			Summary: strings.Repeat("Summary sentence. ", 20), Time: until.Add(-time.Hour),
			Sources: []digest.Source{{Name: "Outlet A", URL: fmt.Sprintf("https://a.example/%d", i)}},
		})
	}
	return d
}

// TestRenderLongCard cuts a card whose list is longer than an embed
// description into several cards, each within Discord's limits.
func TestRenderLongCard(t *testing.T) {
	var items []bot.Item
	for i := range 60 {
		items = append(items, bot.Item{Text: fmt.Sprintf("Feed %d with a long name", i), URL: fmt.Sprintf("https://f%d.example/rss", i),
			Note: "failing since Mon 23 Mar 06:00 UTC: fetch: 503 Service Unavailable from the upstream server"})
	}
	parts, err := renderMessage(&bot.Message{Blocks: []bot.Block{{Kind: bot.Heading, Text: "Status"}, {Kind: bot.List, Items: items}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 2 {
		t.Fatalf("%d parts", len(parts))
	}
	seen := 0
	for i, p := range parts {
		e := p.Message.Embeds[0]
		if (e.Title != "") != (i == 0) {
			t.Errorf("part %d title %q", i+1, e.Title)
		}
		if n := utf8.RuneCountInString(e.Description); n > render.DiscordMaxDescription {
			t.Errorf("part %d description of %d characters", i+1, n)
		}
		seen += strings.Count(e.Description, "- [Feed ")
	}
	if seen != 60 {
		t.Errorf("%d of 60 items shown", seen)
	}
}

func TestRenderPayloadsRoundTrip(t *testing.T) {
	a := &Adapter{}
	raws, err := a.RenderPayloads(&bot.Message{Digest: testDigest(25)})
	if err != nil {
		t.Fatal(err)
	}
	if len(raws) < 3 {
		t.Fatalf("25 long stories in %d messages", len(raws))
	}
	for i, raw := range raws {
		var p payload
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		if err := p.validate(); err != nil {
			t.Errorf("payload %d: %v", i+1, err)
		}
		if (p.ThreadName != "") != (i == 0) {
			t.Errorf("payload %d thread name %q", i+1, p.ThreadName)
		}
	}
}

func TestComponentsDropUnusableButtons(t *testing.T) {
	rows := components([]bot.Button{{Label: "", Data: "x"}, {Label: "ok", Data: ""}, {Label: strings.Repeat("l", 90), Data: strings.Repeat("d", 101)},
		{Label: strings.Repeat("l", 90), Data: "y"}})
	if len(rows) != 1 || len(rows[0].Components) != 2 {
		t.Fatalf("rows = %+v", rows)
	}
	if rows[0].Components[0].Label != "…" || utf8.RuneCountInString(rows[0].Components[1].Label) != maxButtonLabel {
		t.Errorf("labels = %q, %q", rows[0].Components[0].Label, rows[0].Components[1].Label)
	}
}

func BenchmarkRenderDigest(b *testing.B) {
	a := &Adapter{}
	m := &bot.Message{Digest: testDigest(10)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.RenderPayloads(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderReply(b *testing.B) {
	var items []bot.Item
	for i := range 10 {
		items = append(items, bot.Item{Text: fmt.Sprintf("Feed %d", i), URL: fmt.Sprintf("https://f%d.example/rss", i), Note: "ok, 12 articles"})
	}
	m := &bot.Message{Blocks: []bot.Block{{Kind: bot.Heading, Text: "This chat follows 25 feeds"}, {Kind: bot.List, Items: items},
		{Text: "Page 1 of 3"}}, Buttons: []bot.Button{{Label: "Next ›", Data: "feeds:2"}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := renderMessage(m); err != nil {
			b.Fatal(err)
		}
	}
}

// pingPattern matches what Discord reads as a mention, a channel, a
// command, an emoji or a timestamp.
var pingPattern = regexp.MustCompile(`(?i)@(everyone|here)|<[@#/:]|<a:|<t:`)

// FuzzRenderMessage renders replies made of arbitrary text: every part
// must pass Discord's limits, allow no mentions and show none.
func FuzzRenderMessage(f *testing.F) {
	f.Add("This chat follows 2 feeds", "Subscribed to *world* @everyone", "World <@123>", "https://news.example/rss", "ok, 3 articles", "Next ›", "feeds:2", uint8(3))
	f.Add("", "1. a\n2) b", "", "javascript:alert(1)", "", "", "", uint8(0))
	f.Add("h", strings.Repeat("long text ", 700), strings.Repeat("x", 300), "https://x.example/("+strings.Repeat("a", 2100), "n", strings.Repeat("l", 100), strings.Repeat("d", 120), uint8(60))
	f.Fuzz(func(t *testing.T, heading, text, item, u, note, label, data string, n uint8) {
		var blocks []bot.Block
		if heading != "" {
			blocks = append(blocks, bot.Block{Kind: bot.Heading, Text: heading})
		}
		blocks = append(blocks, bot.Block{Text: text})
		var items []bot.Item
		for i := range int(n % 64) {
			items = append(items, bot.Item{Text: fmt.Sprint(item, i), URL: u, Note: note})
		}
		blocks = append(blocks, bot.Block{Kind: bot.List, Items: items}, bot.Block{Kind: bot.Code, Text: note})
		m := &bot.Message{Blocks: blocks, Buttons: []bot.Button{{Label: label, Data: data}, {Label: "Next", Data: "x:2"}}}
		parts, err := renderMessage(m)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		for i, p := range parts {
			if err := p.validate(); err != nil {
				t.Fatalf("part %d: %v", i+1, err)
			}
			js, err := json.Marshal(p.Message)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(js), `"allowed_mentions":{"parse":[]}`) {
				t.Fatalf("part %d allows mentions", i+1)
			}
			texts := []string{p.Message.Content}
			for _, e := range p.Message.Embeds {
				texts = append(texts, e.Title, e.Description)
			}
			for _, s := range texts {
				if loc := pingPattern.FindStringIndex(s); loc != nil && !inCode(s, loc[0]) {
					t.Fatalf("part %d shows a mention: %q", i+1, s[max(0, loc[0]-20):min(len(s), loc[1]+20)])
				}
			}
		}
	})
}

// inCode reports whether byte i of s is inside an inline code span,
// where Discord reads no mentions.
func inCode(s string, i int) bool {
	return strings.Count(s[:i], "`")%2 == 1
}

func TestSnowflakeTime(t *testing.T) {
	// 175928847299117063 is the example of Discord's documentation:
	// 2016-04-30 11:18:25.796 UTC.
	want := time.Date(2016, 4, 30, 11, 18, 25, 796e6, time.UTC)
	if got := snowflakeTime("175928847299117063"); !got.Equal(want) {
		t.Errorf("snowflakeTime = %s, want %s", got.UTC(), want)
	}
	if !snowflakeTime("x").IsZero() || !snowflakeTime("").IsZero() {
		t.Error("an id that is no snowflake has a time")
	}
}
