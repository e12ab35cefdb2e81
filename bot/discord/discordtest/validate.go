package discordtest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Discord's limits, written out here independently of digest/render so
// that the fake checks the renderers instead of agreeing with them.
const (
	maxContent      = 2000
	maxEmbeds       = 10
	maxEmbedTotal   = 6000
	maxTitle        = 256
	maxDescription  = 4096
	maxFields       = 25
	maxFieldName    = 256
	maxFieldValue   = 1024
	maxFooter       = 2048
	maxAuthor       = 256
	maxRows         = 5
	maxRowButtons   = 5
	maxButtonLabel  = 80
	maxCustomID     = 100
	maxNonce        = 25
	flagSuppressNot = 1 << 12
)

// bodyKind says where a message body was sent, which decides what it
// must hold and which flags it may set.
type bodyKind int

const (
	bodyCreate   bodyKind = iota // a channel message or forum post
	bodyFollowUp                 // an interaction follow-up
	bodyResponse                 // an interaction response (callback type 4)
	bodyEdit                     // an edit: of the original response, or callback type 7
)

// wireMessage is a message body as Discord reads it. Pointer fields tell
// absent from empty, which matters for edits.
type wireMessage struct {
	Content         *string         `json:"content"`
	Embeds          *[]Embed        `json:"embeds"`
	AllowedMentions json.RawMessage `json:"allowed_mentions"`
	Components      *[]wireRow      `json:"components"`
	Flags           *int            `json:"flags"`
	Nonce           json.RawMessage `json:"nonce"`
	EnforceNonce    bool            `json:"enforce_nonce"`
	Attachments     []struct {
		ID       json.RawMessage `json:"id"`
		Filename string          `json:"filename"`
	} `json:"attachments"`

	nonce string
}

type wireRow struct {
	Type       int      `json:"type"`
	Components []wireCo `json:"components"`
}

type wireCo struct {
	Type int `json:"type"`
	Button
}

// pingPattern matches what Discord would read as a mention, a channel, a
// command, an emoji or a timestamp.
var pingPattern = regexp.MustCompile(`(?i)@(everyone|here)|<[@#/:]|<a:|<t:`)

// checkBody decodes and checks a message body; it records violations and
// returns the first problem, which the caller answers with 400.
func (s *Server) checkBody(where string, raw json.RawMessage, files []File, kind bodyKind) (*wireMessage, string) {
	var w wireMessage
	if err := json.Unmarshal(raw, &w); err != nil {
		s.violate("%s: body is not a JSON message: %v", where, err)
		return nil, "not JSON"
	}
	problems := w.check(kind, len(files))
	if !mentionsOff(w.AllowedMentions) {
		problems = append(problems, fmt.Sprintf("allowed_mentions is %s, not {\"parse\":[]}", orNone(w.AllowedMentions)))
	}
	for _, t := range w.texts() {
		if m := pingPattern.FindStringIndex(t); m != nil {
			problems = append(problems, fmt.Sprintf("text holds %q, which Discord reads as a mention: %q", t[m[0]:m[1]], t[max(0, m[0]-20):min(len(t), m[1]+20)]))
		}
	}
	for _, p := range problems {
		s.violate("%s: %s", where, p)
	}
	if len(problems) > 0 {
		return nil, problems[0]
	}
	return &w, ""
}

func orNone(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "missing"
	}
	return string(raw)
}

// mentionsOff reports whether allowed_mentions is present with an explicit
// empty parse list and nobody listed: Discord then notifies nobody.
func mentionsOff(raw json.RawMessage) bool {
	var am struct {
		Parse       *[]string `json:"parse"`
		Users       []string  `json:"users"`
		Roles       []string  `json:"roles"`
		RepliedUser bool      `json:"replied_user"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &am) != nil {
		return false
	}
	return am.Parse != nil && len(*am.Parse) == 0 && len(am.Users) == 0 && len(am.Roles) == 0 && !am.RepliedUser
}

func runes(s string) int { return utf8.RuneCountInString(s) }

func (w *wireMessage) check(kind bodyKind, files int) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	content := ""
	if w.Content != nil {
		content = *w.Content
	}
	if n := runes(content); n > maxContent {
		bad("content of %d characters (limit %d)", n, maxContent)
	}
	var embeds []Embed
	if w.Embeds != nil {
		embeds = *w.Embeds
	}
	if kind != bodyEdit && content == "" && len(embeds) == 0 && files == 0 {
		bad("an empty message: no content, embeds or files")
	}
	if len(embeds) > maxEmbeds {
		bad("%d embeds (limit %d)", len(embeds), maxEmbeds)
	}
	total := 0
	for i, e := range embeds {
		lim := func(what string, n, max int) {
			if n > max {
				bad("embed %d: %s of %d characters (limit %d)", i+1, what, n, max)
			}
			total += n
		}
		lim("title", runes(e.Title), maxTitle)
		lim("description", runes(e.Description), maxDescription)
		if len(e.Fields) > maxFields {
			bad("embed %d: %d fields (limit %d)", i+1, len(e.Fields), maxFields)
		}
		for _, f := range e.Fields {
			if f.Name == "" || f.Value == "" {
				bad("embed %d: a field without name or value", i+1)
			}
			lim("field name", runes(f.Name), maxFieldName)
			lim("field value", runes(f.Value), maxFieldValue)
		}
		if e.Footer != nil {
			lim("footer", runes(e.Footer.Text), maxFooter)
		}
		if e.Author != nil {
			lim("author name", runes(e.Author.Name), maxAuthor)
		}
		if e.URL != "" {
			if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !isASCII(e.URL) {
				bad("embed %d: url %q is not a well-formed http(s) URL", i+1, e.URL)
			}
		}
		if e.Title == "" && e.Description == "" && len(e.Fields) == 0 && e.Footer == nil && e.Author == nil {
			bad("embed %d is empty", i+1)
		}
	}
	if total > maxEmbedTotal {
		bad("embeds of %d characters in total (limit %d)", total, maxEmbedTotal)
	}
	if w.Components != nil {
		rows := *w.Components
		if len(rows) > maxRows {
			bad("%d component rows (limit %d)", len(rows), maxRows)
		}
		ids := map[string]bool{}
		for i, r := range rows {
			if r.Type != 1 {
				bad("component row %d has type %d, not an action row", i+1, r.Type)
			}
			if len(r.Components) == 0 || len(r.Components) > maxRowButtons {
				bad("component row %d holds %d buttons (1 to %d)", i+1, len(r.Components), maxRowButtons)
			}
			for _, c := range r.Components {
				switch {
				case c.Type != 2:
					bad("component of type %d, not a button", c.Type)
				case c.Style < 1 || c.Style > 5:
					bad("button style %d", c.Style)
				case c.Style == 5 && c.URL == "":
					bad("link button without a url")
				case c.Style != 5 && (c.CustomID == "" || runes(c.CustomID) > maxCustomID):
					bad("button custom_id %q (1 to %d characters)", c.CustomID, maxCustomID)
				case runes(c.Label) > maxButtonLabel || c.Label == "":
					bad("button label %q (1 to %d characters)", c.Label, maxButtonLabel)
				case ids[c.CustomID] && c.CustomID != "":
					bad("two buttons with custom_id %q", c.CustomID)
				}
				ids[c.CustomID] = true
			}
		}
	}
	if w.Flags != nil {
		allowed := FlagSuppressEmbeds | flagSuppressNot
		if kind == bodyFollowUp || kind == bodyResponse {
			allowed |= FlagEphemeral
		}
		if kind == bodyEdit {
			allowed |= FlagEphemeral // ignored by Discord on edits
		}
		if *w.Flags&^allowed != 0 {
			bad("flags %d not allowed here", *w.Flags)
		}
		if *w.Flags&FlagSuppressEmbeds != 0 && len(embeds) > 0 {
			bad("SUPPRESS_EMBEDS set on a message with embeds of its own, which it hides")
		}
	}
	if len(w.Nonce) > 0 {
		var str string
		var num json.Number
		switch {
		case json.Unmarshal(w.Nonce, &str) == nil:
			w.nonce = str
		case json.Unmarshal(w.Nonce, &num) == nil:
			w.nonce = num.String()
		default:
			bad("nonce %s is neither a string nor an integer", w.Nonce)
		}
		if runes(w.nonce) > maxNonce {
			bad("nonce %q longer than %d characters", w.nonce, maxNonce)
		}
		if kind != bodyCreate {
			bad("nonce on a webhook or interaction message")
		}
	}
	if w.EnforceNonce && w.nonce == "" {
		bad("enforce_nonce without a nonce")
	}
	if files > 0 && len(w.Attachments) != files {
		bad("%d files but %d attachments described", files, len(w.Attachments))
	}
	return p
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// texts returns the text Discord shows.
func (w *wireMessage) texts() []string {
	var out []string
	if w.Content != nil {
		out = append(out, *w.Content)
	}
	if w.Embeds != nil {
		for _, e := range *w.Embeds {
			out = append(out, e.Title, e.Description)
			for _, f := range e.Fields {
				out = append(out, f.Name, f.Value)
			}
			if e.Footer != nil {
				out = append(out, e.Footer.Text)
			}
		}
	}
	return out
}

// apply sets what w holds on m: everything for a new message, only the
// fields present for an edit, which cannot change who sees the message.
func (w *wireMessage) apply(m *Message, raw json.RawMessage, create bool) {
	if w.Content != nil {
		m.Content = *w.Content
	}
	if w.Embeds != nil {
		m.Embeds = *w.Embeds
	}
	if w.Components != nil {
		m.Buttons = nil
		for _, r := range *w.Components {
			for _, c := range r.Components {
				m.Buttons = append(m.Buttons, c.Button)
			}
		}
	}
	switch {
	case w.Flags != nil && create:
		m.Flags = *w.Flags
	case w.Flags != nil:
		m.Flags = m.Flags&FlagEphemeral | *w.Flags&^FlagEphemeral
	}
	m.AllowedMentions = w.AllowedMentions
	m.Raw = append(json.RawMessage(nil), raw...)
}

var commandName = regexp.MustCompile(`^[-_\p{L}\p{N}]{1,32}$`)

// validateCommands checks a bulk overwrite the way Discord does.
func validateCommands(cmds []Command) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if len(cmds) > 100 {
		bad("%d commands (limit 100)", len(cmds))
	}
	names := map[string]bool{}
	for _, c := range cmds {
		if !commandName.MatchString(c.Name) || c.Name != strings.ToLower(c.Name) {
			bad("command name %q", c.Name)
		}
		if names[c.Name] {
			bad("two commands named %q", c.Name)
		}
		names[c.Name] = true
		if c.Type != 0 && c.Type != 1 {
			bad("/%s: type %d, not a slash command", c.Name, c.Type)
		}
		if n := runes(c.Description); n < 1 || n > 100 {
			bad("/%s: description of %d characters (1 to 100)", c.Name, n)
		}
		if len(c.Options) > 25 {
			bad("/%s: %d options (limit 25)", c.Name, len(c.Options))
		}
		total := runes(c.Name) + runes(c.Description)
		optional := false
		opts := map[string]bool{}
		for _, o := range c.Options {
			total += runes(o.Name) + runes(o.Description)
			if !commandName.MatchString(o.Name) || o.Name != strings.ToLower(o.Name) || opts[o.Name] {
				bad("/%s: option name %q", c.Name, o.Name)
			}
			opts[o.Name] = true
			if n := runes(o.Description); n < 1 || n > 100 {
				bad("/%s %s: description of %d characters (1 to 100)", c.Name, o.Name, n)
			}
			if o.Type < 3 || o.Type > 11 {
				bad("/%s %s: option type %d", c.Name, o.Name, o.Type)
			}
			if o.Required && optional {
				bad("/%s %s: a required option after an optional one", c.Name, o.Name)
			}
			optional = optional || !o.Required
			if o.Autocomplete && len(o.Choices) > 0 {
				bad("/%s %s: autocomplete and choices together", c.Name, o.Name)
			}
			if len(o.Choices) > 25 {
				bad("/%s %s: %d choices (limit 25)", c.Name, o.Name, len(o.Choices))
			}
			if o.MaxLength < 0 || o.MaxLength > 6000 {
				bad("/%s %s: max_length %d", c.Name, o.Name, o.MaxLength)
			}
			for _, ch := range o.Choices {
				total += runes(ch.Name) + runes(fmt.Sprint(ch.Value))
			}
		}
		if total > 4000 {
			bad("/%s: %d characters of names and descriptions (limit 4000)", c.Name, total)
		}
	}
	return p
}
