package telegramtest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Entity is a formatting entity of a message, as the Bot API reports it:
// offsets and lengths count UTF-16 code units of the message text.
type Entity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	URL    string `json:"url,omitempty"`
}

// entityTypes maps the tags of Telegram's HTML parse mode to entity types.
var entityTypes = map[string]string{
	"b": "bold", "strong": "bold", "i": "italic", "em": "italic",
	"u": "underline", "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
	"tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
	"blockquote": "blockquote", "tg-emoji": "custom_emoji",
}

// ParseHTML reads a message text in Telegram's HTML parse mode the way the
// Bot API does and returns the text it shows (tags removed, entities
// decoded, leading and trailing white space trimmed) and its formatting
// entities. Like the Bot API it refuses unknown tags, tags closed out of
// order or left open, <a> without href, <span> that is not a spoiler, and
// entities other than &lt; &gt; &amp; &quot; and numeric ones; it is
// stricter than Telegram in also refusing a bare & or <, which Herald never
// means to send. It is written independently of Herald's renderer, so that
// tests check one against the other.
func ParseHTML(s string) (text string, entities []Entity, err error) {
	if !utf8.ValidString(s) {
		return "", nil, fmt.Errorf("can't parse entities: strings must be encoded in UTF-8")
	}
	type open struct {
		name, url string
		at        int // UTF-16 offset of the entity's start
	}
	var (
		b     strings.Builder
		units int // UTF-16 length of b
		stack []open
	)
	write := func(r rune) {
		b.WriteRune(r)
		units += utf16.RuneLen(r)
	}
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '<':
			end := tagEnd(s, i)
			if end < 0 {
				return "", nil, fmt.Errorf("can't parse entities: unclosed start tag at byte offset %d", i)
			}
			tag := s[i+1 : end-1]
			if strings.HasPrefix(tag, "/") {
				name := strings.ToLower(strings.TrimSpace(tag[1:]))
				if len(stack) == 0 || stack[len(stack)-1].name != name {
					return "", nil, fmt.Errorf("can't parse entities: unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top(stack, func(o open) string { return o.name }), name)
				}
				o := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if units > o.at {
					entities = append(entities, Entity{Type: entityTypes[o.name], Offset: o.at, Length: units - o.at, URL: o.url})
				}
			} else {
				name, attrs, err := parseTag(tag)
				if err != nil {
					return "", nil, fmt.Errorf("can't parse entities: %v at byte offset %d", err, i)
				}
				o := open{name: name, at: units}
				switch name {
				case "a":
					href, ok := attrs["href"]
					if !ok || href == "" {
						return "", nil, fmt.Errorf("can't parse entities: <a> without href at byte offset %d", i)
					}
					o.url = href
				case "span":
					if attrs["class"] != "tg-spoiler" {
						return "", nil, fmt.Errorf("can't parse entities: tag \"span\" must have class \"tg-spoiler\" at byte offset %d", i)
					}
				}
				stack = append(stack, o)
			}
			i = end
		case '&':
			semi := strings.IndexByte(s[i:], ';')
			if semi < 2 || semi > 10 {
				return "", nil, fmt.Errorf("can't parse entities: bare & at byte offset %d", i)
			}
			r, ok := decodeEntity(s[i+1 : i+semi])
			if !ok {
				return "", nil, fmt.Errorf("can't parse entities: unsupported entity %q at byte offset %d", s[i:i+semi+1], i)
			}
			write(r)
			i += semi + 1
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			write(r)
			i += n
		}
	}
	if len(stack) > 0 {
		return "", nil, fmt.Errorf("can't parse entities: can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name)
	}
	return trim(b.String(), entities)
}

func top[T any](s []T, f func(T) string) string {
	if len(s) == 0 {
		return ""
	}
	return f(s[len(s)-1])
}

// tagEnd returns the index just past the > ending the tag that starts at
// s[i], honouring quoted attribute values, or -1.
func tagEnd(s string, i int) int {
	var quote byte
	for k := i + 1; k < len(s); k++ {
		switch c := s[k]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '<':
			return -1
		case c == '>':
			return k + 1
		}
	}
	return -1
}

// parseTag reads an opening tag's name and attributes (without < and >).
func parseTag(tag string) (string, map[string]string, error) {
	n := 0
	for n < len(tag) && (tag[n] >= 'a' && tag[n] <= 'z' || tag[n] >= 'A' && tag[n] <= 'Z' || tag[n] == '-') {
		n++
	}
	name := strings.ToLower(tag[:n])
	if _, ok := entityTypes[name]; !ok {
		return "", nil, fmt.Errorf("unsupported start tag %q", name)
	}
	attrs := map[string]string{}
	rest := tag[n:]
	for {
		rest = strings.TrimLeft(rest, " \t\n")
		if rest == "" {
			return name, attrs, nil
		}
		k := strings.IndexAny(rest, "= \t\n")
		if k < 0 {
			attrs[strings.ToLower(rest)] = ""
			return name, attrs, nil
		}
		key := strings.ToLower(rest[:k])
		rest = strings.TrimLeft(rest[k:], " \t\n")
		if !strings.HasPrefix(rest, "=") {
			attrs[key] = ""
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t\n")
		var val string
		if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
			end := strings.IndexByte(rest[1:], rest[0])
			if end < 0 {
				return "", nil, fmt.Errorf("unclosed attribute value in tag %q", name)
			}
			val, rest = rest[1:1+end], rest[2+end:]
		} else {
			end := strings.IndexAny(rest, " \t\n")
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
		}
		dec, _, err := ParseHTML(val)
		if err != nil {
			return "", nil, fmt.Errorf("attribute %s of tag %q: %v", key, name, err)
		}
		attrs[key] = dec
	}
}

// decodeEntity decodes the body of &...; as the Bot API does.
func decodeEntity(e string) (rune, bool) {
	switch e {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "quot":
		return '"', true
	}
	num, ok := strings.CutPrefix(e, "#")
	if !ok {
		return 0, false
	}
	base := 10
	if h, ok := strings.CutPrefix(strings.ToLower(num), "x"); ok {
		num, base = h, 16
	}
	n, err := strconv.ParseUint(num, base, 32)
	if err != nil || n == 0 || n > utf8.MaxRune || n >= 0xD800 && n <= 0xDFFF {
		return 0, false
	}
	return rune(n), true
}

// trim removes leading and trailing white space from a message text, as
// the Bot API does, and moves the entities with it.
func trim(text string, entities []Entity) (string, []Entity, error) {
	trimmed := strings.TrimLeft(text, " \t\n\r")
	lead := utf16Len(text[:len(text)-len(trimmed)])
	trimmed = strings.TrimRight(trimmed, " \t\n\r")
	size := utf16Len(trimmed)
	var out []Entity
	for _, e := range entities {
		start, end := max(e.Offset-lead, 0), min(e.Offset+e.Length-lead, size)
		if end > start {
			e.Offset, e.Length = start, end-start
			out = append(out, e)
		}
	}
	return trimmed, out, nil
}

// utf16Len is the length of s in UTF-16 code units, the unit of the Bot
// API's limits and offsets.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// PlainText returns the text Telegram shows for a message written in its
// HTML parse mode (see ParseHTML).
func PlainText(html string) (string, error) {
	text, _, err := ParseHTML(html)
	return text, err
}
