// Package render owns how a digest looks on each target: plain text for a
// terminal, CommonMark, Telegram HTML, Discord messages (embeds or plain
// content) and JSON for scripts. Renderers are pure functions of a
// digest.Digest: no I/O, no platform SDKs (the Discord types marshal to the
// exact JSON of Discord's message payloads, so an adapter sends them as
// they are).
//
// Every renderer treats feed text as hostile. It is cleaned first (control
// characters, terminal escapes and bidi overrides removed, white space
// collapsed) and then escaped for the target, so that a headline can never
// become markup, break a message, or ping anyone: Discord mentions and
// Telegram @username mentions are neutralised with a zero-width space, and
// Discord messages allow no mentions at all. Only http and https URLs
// become links.
//
// Chat renderers keep each platform's limits, counting the way the
// platform counts (UTF-16 code units of parsed text for Telegram, code
// points for Discord), and cut long digests between stories, never inside
// markup, an escape sequence or a character.
package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/seed-c50b6fda/herald/digest"
)

// Format is an output format.
type Format string

// Formats.
const (
	FormatText     Format = "text"     // plain text for a terminal
	FormatMarkdown Format = "markdown" // CommonMark
	FormatTelegram Format = "telegram" // Telegram HTML, one part per message
	FormatDiscord  Format = "discord"  // Discord message payloads with embeds, as JSON
	FormatJSON     Format = "json"     // JSONDigest, for scripts
)

// Formats returns every format, in the order help texts list them.
func Formats() []Format {
	return []Format{FormatText, FormatMarkdown, FormatTelegram, FormatDiscord, FormatJSON}
}

// ParseFormat returns the format named s (case does not matter). For any
// other name it returns a *digest.Error with code EINVALID that lists the
// valid names.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	for _, g := range Formats() {
		if f == g {
			return f, nil
		}
	}
	names := make([]string, 0, 5)
	for _, g := range Formats() {
		names = append(names, string(g))
	}
	return "", digest.Errorf(digest.EINVALID, "unknown format %q: use one of %s", s, strings.Join(names, ", "))
}

// String implements fmt.Stringer and flag.Value.
func (f Format) String() string { return string(f) }

// Set implements flag.Value, so that a Format can be a command-line flag.
// Its error is the bare message (the flag package adds its own context).
func (f *Format) Set(s string) error {
	g, err := ParseFormat(s)
	if err != nil {
		return errors.New(digest.ErrorMessage(err))
	}
	*f = g
	return nil
}

// Render renders d in format f as a list of message payloads, each ready to
// send or print as it is: one for text, markdown and json; one HTML message
// per part for telegram; one JSON object per message for discord (see
// Discord). It fails only for an unknown format.
func Render(f Format, d digest.Digest) ([]string, error) {
	switch f {
	case FormatText:
		return []string{Text(d)}, nil
	case FormatMarkdown:
		return []string{Markdown(d)}, nil
	case FormatTelegram:
		return Telegram(d), nil
	case FormatDiscord:
		var out []string
		for i, m := range Discord(d) {
			b, err := json.Marshal(m)
			if err != nil {
				return nil, fmt.Errorf("render discord message %d: %w", i+1, err)
			}
			out = append(out, string(b))
		}
		return out, nil
	case FormatJSON:
		b, err := JSON(d)
		if err != nil {
			return nil, err
		}
		return []string{string(b)}, nil
	}
	_, err := ParseFormat(string(f))
	return nil, err
}
