package render

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/seed-c50b6fda/herald/digest"
)

// Discord limits. Discord counts characters (Unicode code points) in every
// one of them.
const (
	DiscordMaxContent     = 2000 // message content
	DiscordMaxEmbeds      = 10   // embeds in one message
	DiscordMaxEmbedsTotal = 6000 // titles, descriptions, field names and values, footers and author names of all embeds of one message
	DiscordMaxTitle       = 256
	DiscordMaxDescription = 4096
	DiscordMaxFields      = 25
	DiscordMaxFieldName   = 256
	DiscordMaxFieldValue  = 1024
	DiscordMaxFooter      = 2048
	DiscordMaxAuthorName  = 256
)

// DiscordFlagSuppressEmbeds is the message flag that keeps Discord from
// adding link previews; it is one of the flags a bot may set when sending.
const DiscordFlagSuppressEmbeds = 1 << 2

// Embed colours.
const (
	discordColorStory      = 0x5865F2 // Discord's blurple
	discordColorDeveloping = 0xE67E22 // orange: the story grew
	discordColorNotes      = 0x99AAB5 // grey: "more" and notices
)

// DiscordMessage is a message payload in the JSON shape of Discord's Create
// Message endpoint, ready to send as it is. Its allowed_mentions always
// marshals with an explicit empty parse list, so nothing in it can ping.
type DiscordMessage struct {
	Content         string                 `json:"content,omitempty"`
	Embeds          []DiscordEmbed         `json:"embeds,omitempty"`
	AllowedMentions DiscordAllowedMentions `json:"allowed_mentions"`
	Flags           int                    `json:"flags,omitempty"`
}

// DiscordAllowedMentions is Discord's allowed mentions object. Its zero
// value allows none: it marshals as {"parse":[]}, which Discord reads as
// "notify nobody", whereas a missing or null list means "the defaults".
type DiscordAllowedMentions struct {
	Parse       []string `json:"parse"`
	Roles       []string `json:"roles,omitempty"`
	Users       []string `json:"users,omitempty"`
	RepliedUser bool     `json:"replied_user,omitempty"`
}

// MarshalJSON implements json.Marshaler, writing a nil Parse as [].
func (m DiscordAllowedMentions) MarshalJSON() ([]byte, error) {
	type plain DiscordAllowedMentions
	if m.Parse == nil {
		m.Parse = []string{}
	}
	return json.Marshal(plain(m))
}

// DiscordEmbed is Discord's embed object (the parts Herald uses).
type DiscordEmbed struct {
	Title       string              `json:"title,omitempty"`
	Description string              `json:"description,omitempty"`
	URL         string              `json:"url,omitempty"`
	Timestamp   string              `json:"timestamp,omitempty"` // ISO 8601
	Color       int                 `json:"color,omitempty"`
	Footer      *DiscordEmbedFooter `json:"footer,omitempty"`
	Author      *DiscordEmbedAuthor `json:"author,omitempty"`
	Fields      []DiscordEmbedField `json:"fields,omitempty"`
}

// DiscordEmbedFooter is an embed's footer. Discord shows it as plain text.
type DiscordEmbedFooter struct {
	Text    string `json:"text"`
	IconURL string `json:"icon_url,omitempty"`
}

// DiscordEmbedAuthor is an embed's author line.
type DiscordEmbedAuthor struct {
	Name    string `json:"name"`
	URL     string `json:"url,omitempty"`
	IconURL string `json:"icon_url,omitempty"`
}

// DiscordEmbedField is one name and value pair of an embed.
type DiscordEmbedField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline,omitempty"`
}

// Len returns the characters e counts against DiscordMaxEmbedsTotal.
func (e DiscordEmbed) Len() int {
	n := runeLen(e.Title) + runeLen(e.Description)
	if e.Footer != nil {
		n += runeLen(e.Footer.Text)
	}
	if e.Author != nil {
		n += runeLen(e.Author.Name)
	}
	for _, f := range e.Fields {
		n += runeLen(f.Name) + runeLen(f.Value)
	}
	return n
}

// Validate reports the first Discord limit m exceeds, as a *digest.Error
// with code EINVALID, or nil. A message must also have content or an embed.
func (m DiscordMessage) Validate() error {
	bad := func(format string, args ...any) error {
		return digest.Errorf(digest.EINVALID, "discord message: "+format, args...)
	}
	if m.Content == "" && len(m.Embeds) == 0 {
		return bad("neither content nor embeds")
	}
	if n := runeLen(m.Content); n > DiscordMaxContent {
		return bad("content of %d characters, limit %d", n, DiscordMaxContent)
	}
	if n := len(m.Embeds); n > DiscordMaxEmbeds {
		return bad("%d embeds, limit %d", n, DiscordMaxEmbeds)
	}
	total := 0
	for i, e := range m.Embeds {
		checks := []struct {
			what   string
			n, max int
		}{
			{"title", runeLen(e.Title), DiscordMaxTitle},
			{"description", runeLen(e.Description), DiscordMaxDescription},
			{"fields", len(e.Fields), DiscordMaxFields},
		}
		if e.Footer != nil {
			checks = append(checks, struct {
				what   string
				n, max int
			}{"footer", runeLen(e.Footer.Text), DiscordMaxFooter})
		}
		if e.Author != nil {
			checks = append(checks, struct {
				what   string
				n, max int
			}{"author name", runeLen(e.Author.Name), DiscordMaxAuthorName})
		}
		for _, f := range e.Fields {
			checks = append(checks, struct {
				what   string
				n, max int
			}{"field name", runeLen(f.Name), DiscordMaxFieldName}, struct {
				what   string
				n, max int
			}{"field value", runeLen(f.Value), DiscordMaxFieldValue})
		}
		for _, c := range checks {
			if c.n > c.max {
				return bad("embed %d: %s of %d, limit %d", i+1, c.what, c.n, c.max)
			}
		}
		total += e.Len()
	}
	if total > DiscordMaxEmbedsTotal {
		return bad("embeds of %d characters in total, limit %d", total, DiscordMaxEmbedsTotal)
	}
	return nil
}

var discordURLEscaper = strings.NewReplacer("(", "%28", ")", "%29")

// discordLink returns the markup of a Discord masked link to u (from
// safeURL), or none when the URL is too long once encoded. Parentheses are
// percent-encoded, since Discord ends the link at the first ), and so is
// the @ of an @everyone or @here in the URL.
func discordLink(u string) (string, string) {
	u = discordURLEscaper.Replace(u)
	u = neutraliseURLMentions(u)
	if runeLen(u) > maxURLLen {
		return "", ""
	}
	return "[", "](" + u + ")"
}

// discordContentMaxURL is the longest URL DiscordContent links: the link
// markup is repeated when a message is cut inside a link, and has to leave
// room for text in a 2000-character message. Longer URLs (no article needs
// one) leave the name unlinked.
const discordContentMaxURL = 1000

func discordContentLink(u string) (string, string) {
	o, c := discordLink(u)
	if runeLen(c) > discordContentMaxURL+3 {
		return "", ""
	}
	return o, c
}

func neutraliseURLMentions(u string) string {
	lower := strings.ToLower(u)
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		if u[i] == '@' && (strings.HasPrefix(lower[i+1:], "everyone") || strings.HasPrefix(lower[i+1:], "here")) {
			b.WriteString("%40")
			continue
		}
		b.WriteByte(u[i])
	}
	return b.String()
}

// DiscordContent renders d as plain Discord messages: markdown content of
// at most DiscordMaxContent characters each, cut between stories (a story
// too long for one message is cut at a line break or space, with its
// markup closed and reopened), with link previews suppressed so that a
// digest does not unfurl a card per link. Feed text is escaped and its
// mentions neutralised, and every message allows no mentions.
func DiscordContent(d digest.Digest) []DiscordMessage {
	return discordContent(d, cost{DiscordMaxContent})
}

func discordContent(d digest.Digest, lim cost) []DiscordMessage {
	v := newView(d)
	b := newBuilder(&discordDialect, v.size())
	b.open("**", "**")
	b.text(v.title)
	b.close()
	if v.window != "" {
		b.line()
		italic(b, v.window)
	}
	if v.empty != "" {
		b.block()
		b.text(v.empty)
	}
	for _, s := range v.stories {
		b.block()
		b.open("**", "**")
		b.raw(s.number)
		b.space(" ", cutSpace)
		link(b, s.url, s.headline, discordContentLink)
		b.close()
		if s.meta != "" {
			b.line()
			italic(b, s.meta)
		}
		if s.summary != "" {
			b.line()
			b.text(s.summary)
		}
		if s.label != "" {
			b.line()
			sources(b, s, discordContentLink)
		}
	}
	notes(b, v)
	var out []DiscordMessage
	for _, p := range split(b.ps, lim) {
		out = append(out, DiscordMessage{Content: join(p), Flags: DiscordFlagSuppressEmbeds})
	}
	return out
}

// notes appends the "more" line and the notices as blocks.
func notes(b *builder, v view) {
	if v.more != "" {
		b.block()
		italic(b, v.more)
	}
	for i, n := range v.notices {
		if i == 0 {
			b.block()
		} else {
			b.line()
		}
		b.text(noticeMark + n)
	}
}

// Discord renders d as Discord messages with one embed per story: the
// first message's content names the digest and its window; each story's
// embed has the headline as its title, linked (embeds are cards, so they
// need no numbers), the developing marker, summary and linked sources as
// its description, and its time in the footer; a last embed holds the
// "more" line and notices. Every limit
// is kept: a headline longer than a title is cut there and given in full
// in the description, a description longer than its limit continues in
// another embed, and embeds are packed at most DiscordMaxEmbeds and
// DiscordMaxEmbedsTotal characters to a message, keeping a story's embeds
// in one message when they fit. Feed text is escaped and its mentions
// neutralised, and every message allows no mentions.
func Discord(d digest.Digest) []DiscordMessage {
	return discordEmbeds(d, DiscordMaxDescription)
}

func discordEmbeds(d digest.Digest, descLimit int) []DiscordMessage {
	v := newView(d)
	lim := limits(descLimit)

	hb := &builder{d: &discordDialect}
	hb.open("**", "**")
	hb.text(v.title)
	hb.close()
	if v.window != "" {
		hb.line()
		italic(hb, v.window)
	}
	if v.empty != "" {
		hb.block()
		hb.text(v.empty)
	}
	// A title too long for one message's content (no real one is) goes
	// out in as many messages as it needs.
	var header []string
	for _, p := range split(hb.ps, cost{DiscordMaxContent}) {
		header = append(header, join(p))
	}

	var groups [][]DiscordEmbed
	for _, s := range v.stories {
		color := discordColorStory
		if s.dev != "" {
			color = discordColorDeveloping
		}
		title, cut := discordTitle(s.headline)
		db := &builder{d: &discordDialect}
		if cut {
			db.open("**", "**")
			db.text(s.headline)
			db.close()
			db.line()
		}
		if dev := s.dev; dev != "" {
			db.open("**", "**")
			db.text(dev)
			db.close()
			db.line()
		}
		if s.summary != "" {
			db.text(s.summary)
			db.line()
		}
		if s.label != "" {
			sources(db, s, discordLink)
		}
		first := DiscordEmbed{Title: title, URL: asciiOnly(s.url), Color: color}
		g := []DiscordEmbed{first}
		for i, p := range split(db.ps, lim) {
			if i == 0 {
				g[0].Description = join(p)
				continue
			}
			g = append(g, DiscordEmbed{Description: join(p), Color: color})
		}
		if t := s.time; t != "" {
			g[len(g)-1].Footer = &DiscordEmbedFooter{Text: t}
		}
		groups = append(groups, g)
	}
	nb := &builder{d: &discordDialect}
	notes(nb, v)
	var g []DiscordEmbed
	for _, p := range split(nb.ps, lim) {
		g = append(g, DiscordEmbed{Description: join(p), Color: discordColorNotes})
	}
	if len(g) > 0 {
		groups = append(groups, g)
	}

	var msgs []DiscordMessage
	for _, h := range header {
		msgs = append(msgs, DiscordMessage{Content: h})
	}
	cur := &msgs[len(msgs)-1]
	size := 0
	for _, g := range groups {
		gs := 0
		for _, e := range g {
			gs += e.Len()
		}
		// Start a new message for a story that does not fit in what is
		// left of this one but would fit in a message of its own.
		if len(cur.Embeds) > 0 && (len(cur.Embeds)+len(g) > DiscordMaxEmbeds || size+gs > DiscordMaxEmbedsTotal) &&
			len(g) <= DiscordMaxEmbeds && gs <= DiscordMaxEmbedsTotal {
			msgs = append(msgs, DiscordMessage{})
			cur, size = &msgs[len(msgs)-1], 0
		}
		for _, e := range g {
			if len(cur.Embeds) > 0 && (len(cur.Embeds)+1 > DiscordMaxEmbeds || size+e.Len() > DiscordMaxEmbedsTotal) {
				msgs = append(msgs, DiscordMessage{})
				cur, size = &msgs[len(msgs)-1], 0
			}
			cur.Embeds = append(cur.Embeds, e)
			size += e.Len()
		}
	}
	return msgs
}

// asciiOnly returns u if it is all ASCII, else "". Discord refuses a whole
// message whose embed URL it does not consider well formed; an
// internationalised host name is the one non-ASCII part safeURL leaves.
func asciiOnly(u string) string {
	for i := 0; i < len(u); i++ {
		if u[i] >= utf8.RuneSelf {
			return ""
		}
	}
	return u
}

// discordTitle escapes a headline for an embed title (Discord renders
// markdown in titles) and cuts it to DiscordMaxTitle characters with an ellipsis,
// reporting whether it did.
func discordTitle(headline string) (string, bool) {
	b := &builder{d: &discordDialect}
	b.text(headline)
	if runeLen(join(b.ps)) <= DiscordMaxTitle {
		return join(b.ps), false
	}
	var out strings.Builder
	n := 0
	for _, p := range b.ps {
		c := runeLen(p.out)
		if n+c > DiscordMaxTitle-1 {
			break
		}
		out.WriteString(p.out)
		n += c
	}
	return strings.TrimRight(out.String(), " ") + "…", true
}
