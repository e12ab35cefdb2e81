package telegram

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest/render"
)

// Bot API methods a Payload names.
const (
	methodSend     = "sendMessage"
	methodEdit     = "editMessageText"
	methodDocument = "sendDocument"
)

// Payload is one Bot API call as the outbox stores it, encoded as JSON:
//
//	{"method": "sendMessage", "text": "<b>Herald digest</b>…", "parse_mode": "HTML",
//	 "keyboard": [[{"label": "Next ›", "data": "feeds:2"}]]}
//	{"method": "editMessageText", "message_id": 42, "text": "…", "parse_mode": "HTML", "keyboard": …}
//	{"method": "sendDocument", "text": "caption", "parse_mode": "HTML",
//	 "file": {"name": "herald-feeds.opml", "type": "text/x-opml", "data": "<base64>"}}
//
// The chat and the forum topic are not part of it: Send takes them from the
// outbox message, so that a message queued for a group that has since
// become a supergroup goes to the new chat id. Link previews are always
// off: a digest's first link would otherwise bring a large card.
type Payload struct {
	Method    string     `json:"method"`               // sendMessage, editMessageText or sendDocument
	Text      string     `json:"text,omitempty"`       // the message (a document's caption), in ParseMode
	ParseMode string     `json:"parse_mode,omitempty"` // "HTML"
	MessageID int        `json:"message_id,omitempty"` // the message editMessageText replaces
	Keyboard  [][]Button `json:"keyboard,omitempty"`   // an inline keyboard of callback buttons
	File      *File      `json:"file,omitempty"`       // sendDocument's document
}

// Button is an inline keyboard button whose press comes back as a callback
// query carrying Data.
type Button struct {
	Label string `json:"label"`
	Data  string `json:"data"`
}

// File is a document to upload.
type File struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
	Data []byte `json:"data"`
}

// Telegram's limits on what the adapter renders.
const (
	maxCallbackData = 64   // bytes of a button's callback data
	maxCaption      = 1024 // a document's caption, counted like a message's text
)

// RenderPayloads renders a message as the outbox payloads that send it,
// one per Telegram message, in order (see Payload and Render).
func (a *Adapter) RenderPayloads(m *bot.Message) ([][]byte, error) {
	ps, err := Render(m)
	if err != nil {
		return nil, err
	}
	return encodePayloads(ps)
}

func encodePayloads(ps []Payload) ([][]byte, error) {
	out := make([][]byte, len(ps))
	for i, p := range ps {
		b, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("telegram: encode payload %d: %w", i+1, err)
		}
		out[i] = b
	}
	return out, nil
}

// Render turns a message of the chat core into Telegram messages in HTML
// parse mode. Text blocks are escaped (headings bold, lists as bullet
// lines with links only to http and https addresses, code in <code> or
// <pre>) and split with render.SplitTelegram when longer than Telegram
// allows; a digest is rendered by render.Telegram, already in parts. The
// buttons become an inline keyboard on the last part, and a file a
// document, captioned with the text when the text is one short message
// without buttons. Render fails only for a message the chat core must
// not produce (button data over 64 bytes, buttons without text).
func Render(m *bot.Message) ([]Payload, error) {
	var out []Payload
	if html := blocksHTML(m.Blocks); html != "" {
		parts, err := render.SplitTelegram(html)
		if err != nil {
			return nil, fmt.Errorf("telegram: render reply: %w", err)
		}
		for _, p := range parts {
			out = append(out, Payload{Method: methodSend, Text: p, ParseMode: "HTML"})
		}
	}
	if m.Digest != nil {
		for _, p := range render.Telegram(*m.Digest) {
			out = append(out, Payload{Method: methodSend, Text: p, ParseMode: "HTML"})
		}
	}
	if len(m.Buttons) > 0 {
		if len(out) == 0 {
			return nil, errors.New("telegram: render reply: buttons without a message to carry them")
		}
		var row []Button
		for _, b := range m.Buttons {
			if b.Label == "" || b.Data == "" || len(b.Data) > maxCallbackData {
				return nil, fmt.Errorf("telegram: render reply: button %q: data %q must be 1 to %d bytes and the label non-empty", b.Label, b.Data, maxCallbackData)
			}
			row = append(row, Button{Label: b.Label, Data: b.Data})
		}
		out[len(out)-1].Keyboard = [][]Button{row}
	}
	if f := m.File; f != nil {
		doc := Payload{Method: methodDocument, File: &File{Name: f.Name, Type: f.Type, Data: f.Data}}
		if len(out) == 1 && out[0].Keyboard == nil {
			if n, err := render.TelegramTextLen(out[0].Text); err == nil && n <= maxCaption {
				doc.Text, doc.ParseMode = out[0].Text, out[0].ParseMode
				out = out[:0]
			}
		}
		out = append(out, doc)
	}
	return out, nil
}

// blocksHTML renders text blocks as one Telegram HTML text, blocks
// separated by a blank line.
func blocksHTML(blocks []bot.Block) string {
	var parts []string
	for _, b := range blocks {
		var s string
		switch b.Kind {
		case bot.Heading:
			if t := render.TelegramText(b.Text); strings.TrimSpace(t) != "" {
				s = "<b>" + t + "</b>"
			}
		case bot.Code:
			if t := render.TelegramCode(b.Text); strings.TrimSpace(t) != "" {
				if strings.Contains(t, "\n") {
					s = "<pre>" + t + "</pre>"
				} else {
					s = "<code>" + t + "</code>"
				}
			}
		case bot.List:
			var lines []string
			for _, it := range b.Items {
				if line := itemHTML(it); line != "" {
					lines = append(lines, "• "+line)
				}
			}
			s = strings.Join(lines, "\n")
		default:
			s = render.TelegramText(b.Text)
		}
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n")
}

// itemHTML renders a list item: its text, linked when it has a safe URL,
// and its note in italics.
func itemHTML(it bot.Item) string {
	s := strings.TrimSpace(render.TelegramLink(it.URL, it.Text))
	if note := strings.TrimSpace(render.TelegramText(it.Note)); note != "" {
		if s != "" {
			s += " — "
		}
		s += "<i>" + note + "</i>"
	}
	return s
}

// toastText is the text of a message short enough to answer a button
// press with (a notification over the chat, at most 200 characters), or
// "" when the message needs to be a message.
func toastText(m *bot.Message) string {
	if !m.Error || m.Digest != nil || m.File != nil || len(m.Buttons) > 0 {
		return ""
	}
	var parts []string
	for _, b := range m.Blocks {
		if b.Kind == bot.List {
			return ""
		}
		parts = append(parts, strings.TrimSpace(b.Text))
	}
	s := strings.Join(parts, "\n")
	if s == "" || utf16Len(s) > 200 {
		return ""
	}
	return s
}
