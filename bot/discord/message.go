package discord

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/render"
)

// payload is the outbox payload of one Discord message, stored as JSON:
//
//	{
//	  "message":     {...},  // the body, as POST /channels/{id}/messages takes it
//	  "files":       [{"name": "feeds.opml", "type": "text/x-opml", "data": "<base64>"}],
//	  "thread_name": "...",  // the post's title when the chat is a forum channel
//	  "ephemeral":   true,   // only the invoking user sees it (interaction replies)
//	  "interaction": {"application_id": "...", "token": "...",
//	                  "edit_original": true,    // complete the deferred response
//	                  "delete_original": true}  // after a follow-up, delete the deferred response
//	}
//
// Without "interaction" the message goes to the outbox message's ThreadID,
// or else its ChatID. The nonce is not stored: Send derives it from the
// outbox key.
type payload struct {
	Message     body               `json:"message"`
	Files       []payloadFile      `json:"files,omitempty"`
	ThreadName  string             `json:"thread_name,omitempty"`
	Ephemeral   bool               `json:"ephemeral,omitempty"`
	Interaction *interactionTarget `json:"interaction,omitempty"`
	// Replace marks the part that replaces the message a button was
	// pressed on; it is not stored (replies are answered or enqueued
	// with their target already decided).
	Replace bool `json:"-"`
}

// interactionTarget sends a message with an interaction's token.
type interactionTarget struct {
	AppID          string `json:"application_id"`
	Token          string `json:"token"`
	EditOriginal   bool   `json:"edit_original,omitempty"`
	DeleteOriginal bool   `json:"delete_original,omitempty"`
}

type payloadFile struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data []byte `json:"data"`
}

// body is a message body in Discord's JSON shape. Embeds and components
// are always sent (empty lists when none), so that an edit clears what
// the message had.
type body struct {
	Content         string                        `json:"content"`
	Embeds          []render.DiscordEmbed         `json:"embeds"`
	AllowedMentions render.DiscordAllowedMentions `json:"allowed_mentions"`
	Flags           int                           `json:"flags,omitempty"`
	Components      []actionRow                   `json:"components"`
	Attachments     []attachment                  `json:"attachments,omitempty"`
	Nonce           string                        `json:"nonce,omitempty"`
	EnforceNonce    bool                          `json:"enforce_nonce,omitempty"`
}

type actionRow struct {
	Type       int      `json:"type"` // 1
	Components []button `json:"components"`
}

type button struct {
	Type     int    `json:"type"`  // 2
	Style    int    `json:"style"` // 2: secondary (grey)
	Label    string `json:"label"`
	CustomID string `json:"custom_id"`
}

type attachment struct {
	ID       int    `json:"id"`
	Filename string `json:"filename"`
}

// Message flags.
const (
	flagSuppressEmbeds = render.DiscordFlagSuppressEmbeds
	flagEphemeral      = 1 << 6
)

// Component limits.
const (
	maxButtonsPerRow = 5
	maxRows          = 5
	maxButtonLabel   = 80
	maxCustomID      = 100
	maxThreadName    = 100
)

// Embed colours of replies.
const (
	colorReply = 0x5865F2 // Discord's blurple
	colorError = 0xED4245 // Discord's red
)

// RenderPayloads renders m as outbox payloads, one per Discord message; it
// implements bot.Renderer.
func (a *Adapter) RenderPayloads(m *bot.Message) ([][]byte, error) {
	parts, err := renderMessage(m)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(parts))
	for i, p := range parts {
		if out[i], err = json.Marshal(p); err != nil {
			return nil, fmt.Errorf("render discord message part %d: %w", i+1, err)
		}
	}
	return out, nil
}

// renderMessage renders m as Discord messages: its blocks as markdown
// content, or as an embed card when the first block is a heading (the
// heading its title), then a digest as render.Discord lays it out, with
// the buttons under the last message and a file on the first. Each is
// checked against Discord's limits.
func renderMessage(m *bot.Message) ([]payload, error) {
	var parts []payload
	if len(m.Blocks) > 0 {
		parts = append(parts, renderBlocks(m)...)
	}
	if m.Digest != nil {
		for _, dm := range render.Discord(*m.Digest) {
			parts = append(parts, payload{Message: body{Content: dm.Content, Embeds: dm.Embeds, Flags: dm.Flags}})
		}
	}
	if len(parts) == 0 && m.File != nil {
		parts = append(parts, payload{}) // the file alone
	}
	if len(parts) == 0 {
		return nil, nil
	}
	if rows := components(m.Buttons); len(rows) > 0 {
		parts[len(parts)-1].Message.Components = rows
	}
	if f := m.File; f != nil {
		parts[0].Files = []payloadFile{{Name: fileName(f.Name), Type: f.Type, Data: f.Data}}
		parts[0].Message.Attachments = []attachment{{ID: 0, Filename: fileName(f.Name)}}
	}
	name := threadName(m)
	for i := range parts {
		p := &parts[i]
		if p.Message.Embeds == nil {
			p.Message.Embeds = []render.DiscordEmbed{}
		}
		if p.Message.Components == nil {
			p.Message.Components = []actionRow{}
		}
		p.Ephemeral = m.Ephemeral
		p.Replace = m.Replace && i == 0
		if i == 0 {
			p.ThreadName = name
		}
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("render discord message part %d of %d: %w", i+1, len(parts), err)
		}
	}
	return parts, nil
}

// renderBlocks renders m's blocks.
func renderBlocks(m *bot.Message) []payload {
	blocks := m.Blocks
	title := ""
	if blocks[0].Kind == bot.Heading && len(blocks) > 1 {
		title, blocks = blocks[0].Text, blocks[1:]
	}
	b := render.NewDiscordBuilder()
	for i, bl := range blocks {
		if i > 0 {
			b.Block()
		}
		switch bl.Kind {
		case bot.Heading:
			b.Bold(bl.Text)
		case bot.Code:
			for j, line := range strings.Split(bl.Text, "\n") {
				if j > 0 {
					b.Line()
				}
				b.Code(line)
			}
		case bot.List:
			for j, it := range bl.Items {
				if j > 0 {
					b.Line()
				}
				b.Bullet()
				if it.URL != "" {
					b.Link(it.URL, it.Text)
				} else {
					b.Text(it.Text)
				}
				if strings.TrimSpace(it.Note) != "" {
					b.Space()
					b.Text("—")
					b.Space()
					b.Italic(it.Note)
				}
			}
		default:
			b.Text(bl.Text)
		}
	}
	if title == "" {
		// Plain content; link previews off, so that a list of feeds does
		// not unfurl a card per link.
		var out []payload
		for _, c := range b.Split(render.DiscordMaxContent) {
			out = append(out, payload{Message: body{Content: c, Flags: flagSuppressEmbeds}})
		}
		return out
	}
	color := colorReply
	if m.Error {
		color = colorError
	}
	descs := b.Split(render.DiscordMaxDescription)
	if len(descs) == 0 {
		descs = []string{""}
	}
	var out []payload
	for i, d := range descs {
		e := render.DiscordEmbed{Description: d, Color: color}
		if i == 0 {
			e.Title = render.DiscordTitle(title)
		}
		out = append(out, payload{Message: body{Embeds: []render.DiscordEmbed{e}}})
	}
	return out
}

// components lays buttons out in rows of five; buttons whose data Discord
// would refuse as a custom id are left out.
func components(buttons []bot.Button) []actionRow {
	var rows []actionRow
	for _, btn := range buttons {
		if btn.Data == "" || utf8.RuneCountInString(btn.Data) > maxCustomID {
			continue
		}
		if len(rows) == 0 || len(rows[len(rows)-1].Components) == maxButtonsPerRow {
			if len(rows) == maxRows {
				break
			}
			rows = append(rows, actionRow{Type: 1})
		}
		label := render.DiscordPlain(btn.Label, maxButtonLabel)
		if label == "" {
			label = "…"
		}
		r := &rows[len(rows)-1]
		r.Components = append(r.Components, button{Type: 2, Style: 2, Label: label, CustomID: btn.Data})
	}
	return rows
}

// fileName keeps an attachment's name to what Discord shows well.
func fileName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < ' ' || r == '/' || r == '\\' || r == '"' {
			return -1
		}
		return r
	}, name)
	if name == "" {
		return "file"
	}
	return render.DiscordPlain(name, 100)
}

// threadName is the title of a forum post made for m: a digest's title
// and date, else its first heading or words.
func threadName(m *bot.Message) string {
	if d := m.Digest; d != nil {
		title := d.Title
		if title == "" {
			title = "Herald digest"
		}
		until := d.Until
		if until.IsZero() {
			until = time.Now()
		}
		loc := d.Location
		if loc == nil {
			loc = time.UTC
		}
		return render.DiscordPlain(title+" · "+until.In(loc).Format("Mon 2 Jan 2006"), maxThreadName)
	}
	for _, bl := range m.Blocks {
		text := bl.Text
		if bl.Kind == bot.List && len(bl.Items) > 0 {
			text = bl.Items[0].Text
		}
		if t := render.DiscordPlain(text, maxThreadName); t != "" {
			return t
		}
	}
	return "Herald"
}

// validate checks p against Discord's limits before it is sent, so that
// Discord never has to refuse it.
func (p *payload) validate() error {
	b := &p.Message
	if len(p.Files) == 0 || b.Content != "" || len(b.Embeds) > 0 {
		dm := render.DiscordMessage{Content: b.Content, Embeds: b.Embeds, Flags: b.Flags}
		if err := dm.Validate(); err != nil {
			return err
		}
	}
	if len(b.Components) > maxRows {
		return digest.Errorf(digest.EINVALID, "discord message: %d rows of buttons, limit %d", len(b.Components), maxRows)
	}
	for _, r := range b.Components {
		if len(r.Components) == 0 || len(r.Components) > maxButtonsPerRow {
			return digest.Errorf(digest.EINVALID, "discord message: a row of %d buttons", len(r.Components))
		}
		for _, btn := range r.Components {
			if n := utf8.RuneCountInString(btn.Label); n == 0 || n > maxButtonLabel {
				return digest.Errorf(digest.EINVALID, "discord message: button label of %d characters", n)
			}
			if n := utf8.RuneCountInString(btn.CustomID); n == 0 || n > maxCustomID {
				return digest.Errorf(digest.EINVALID, "discord message: button custom id of %d characters", n)
			}
		}
	}
	if len(b.Attachments) != len(p.Files) {
		return digest.Errorf(digest.EINVALID, "discord message: %d files, %d attachments", len(p.Files), len(b.Attachments))
	}
	if p.Message.Flags&flagSuppressEmbeds != 0 && len(b.Embeds) > 0 {
		return digest.Errorf(digest.EINVALID, "discord message: embeds suppressed by the message's own flags")
	}
	return nil
}
