package render

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/seed-c50b6fda/herald/digest"
)

// Telegram limits, per message sent with parse_mode HTML.
const (
	// TelegramMaxText is the Bot API's limit on a message's text: 4096
	// characters after entity parsing, counted in UTF-16 code units. Herald
	// counts exactly that: the text left once tags are removed and entities
	// (&amp;, &#128512;) decoded, in UTF-16 units, so an emoji outside the
	// Basic Multilingual Plane counts 2.
	TelegramMaxText = 4096
	// TelegramMaxHTML bounds the raw HTML of a message, in UTF-16 units.
	// Telegram also rejects a message whose entities are too large in
	// total (Entities_too_long, about 9500 characters of source according
	// to the Bot API maintainers), which a digest with many long links could
	// reach while its text is short. Counting the raw HTML against a lower
	// figure keeps well clear of that limit.
	TelegramMaxHTML = 8192
	// TelegramMaxEntities is the number of formatting entities (tags) a
	// message may carry: Telegram silently ignores formatting beyond 100.
	TelegramMaxEntities = 100
)

// telegramLimits are the dimensions of cost for Telegram: [0] text in UTF-16
// units after parsing, [1] raw HTML in UTF-16 units, [2] entities.
var telegramLimits = cost{TelegramMaxText, TelegramMaxHTML, TelegramMaxEntities}

var telegramDialect = dialect{
	escape: escapeTelegramWord,
	textCost: func(out, shown string) cost {
		return limits(utf16Len(shown), utf16Len(out), 0)
	},
	markupCost: func(out string, opening bool) cost {
		c := limits(0, utf16Len(out), 0)
		if opening {
			c[2] = 1
		}
		return c
	},
}

// escapeTelegramWord escapes the four characters Telegram's HTML parser
// gives meaning to (& < > "), and puts a zero-width space after an @ that
// would otherwise start a @username mention: Telegram turns those into
// mentions by itself, and a mention of a member notifies them.
func escapeTelegramWord(w string, emit func(out, shown string, canStart bool)) {
	cs := clusters(w)
	for i, c := range cs {
		out, shown := escapeHTML(c), c
		if strings.HasPrefix(c, "@") && i+1 < len(cs) && isUsernameChar(cs[i+1]) && (i == 0 || !isUsernameChar(cs[i-1])) {
			out, shown = out+"\u200B", shown+"\u200B"
		}
		emit(out, shown, true)
	}
}

// isUsernameChar reports whether a cluster starts with a character of a
// Telegram username (ASCII letters, digits and _): an @ right after one is
// part of an e-mail address, an @ right before one starts a mention.
func isUsernameChar(c string) bool {
	r := c[0]
	return r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// htmlEscaper escapes what Telegram's HTML parser reads as markup, with the
// named entities it knows.
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func escapeHTML(s string) string { return htmlEscaper.Replace(s) }

// telegramMaxHref bounds the escaped URL of a link, in UTF-16 units, so
// that a link reopened after a cut always leaves room in TelegramMaxHTML.
const telegramMaxHref = 4096

// telegramLink returns the opening and closing tags of a link to u (from
// safeURL), or none when its escaped form is too long.
func telegramLink(u string) (string, string) {
	h := escapeHTML(u)
	if utf16Len(h) > telegramMaxHref {
		return "", ""
	}
	return `<a href="` + h + `">`, "</a>"
}

// Telegram renders d as Telegram HTML (parse_mode HTML), in as many
// messages as the limits require: each part is at most TelegramMaxText
// characters counted the way Telegram counts them (see TelegramMaxText),
// carries at most TelegramMaxEntities tags and TelegramMaxHTML units of
// HTML. Parts are cut between stories; a story that does not fit in a
// message of its own is cut at a line break or a space, with its tags
// closed at the end of one part and reopened in the next. Feed text is escaped, links
// are only http and https, and @username mentions are neutralised.
func Telegram(d digest.Digest) []string {
	return telegramParts(d, telegramLimits)
}

func telegramParts(d digest.Digest, lim cost) []string {
	v := newView(d)
	b := newBuilder(&telegramDialect, v.size())
	b.open("<b>", "</b>")
	b.text(v.title)
	b.close()
	if v.window != "" {
		b.line()
		b.open("<i>", "</i>")
		b.text(v.window)
		b.close()
	}
	if v.empty != "" {
		b.block()
		b.text(v.empty)
	}
	for _, s := range v.stories {
		b.block()
		b.open("<b>", "</b>")
		b.raw(s.number)
		b.space(" ", cutSpace)
		link(b, s.url, s.headline, telegramLink)
		b.close()
		if s.meta != "" {
			b.line()
			b.open("<i>", "</i>")
			b.text(s.meta)
			b.close()
		}
		if s.summary != "" {
			b.line()
			b.text(s.summary)
		}
		if s.label != "" {
			b.line()
			sources(b, s, telegramLink)
		}
	}
	if v.more != "" {
		b.block()
		b.open("<i>", "</i>")
		b.text(v.more)
		b.close()
	}
	for i, n := range v.notices {
		if i == 0 {
			b.block()
		} else {
			b.line()
		}
		b.text(noticeMark + n)
	}
	var out []string
	for _, p := range split(b.ps, lim) {
		out = append(out, join(p))
	}
	return out
}

// telegramTags are the tags Telegram's HTML parse mode accepts.
var telegramTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true,
	"a": true, "tg-emoji": true, "code": true, "pre": true, "blockquote": true,
}

// SplitTelegram cuts a message in Telegram HTML into parts within
// Telegram's limits (see Telegram): at blank lines outside any tag first,
// then at line breaks, spaces, and as a last resort between characters,
// never inside a tag, an entity or a character; tags open at a cut are
// closed and reopened. White space at a cut is dropped. It returns an
// *digest.Error with code EINVALID when html is not valid Telegram HTML
// (an unknown tag, a tag left open or closed out of order, an entity
// Telegram does not know, a stray < > or &, invalid UTF-8), or when its
// tags nest so deep (more than 16, or more than half of TelegramMaxHTML of
// open tags) that repeating them in every part would leave no room.
func SplitTelegram(html string) ([]string, error) {
	return splitTelegram(html, telegramLimits)
}

func splitTelegram(src string, lim cost) ([]string, error) {
	ps, err := parseTelegram(src)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range split(ps, lim) {
		out = append(out, join(p))
	}
	return out, nil
}

// maxTelegramDepth bounds how deep SplitTelegram accepts tags nested.
const maxTelegramDepth = 16

// parseTelegram reads Telegram HTML into pieces.
func parseTelegram(s string) ([]piece, error) {
	d := &telegramDialect
	var ps []piece
	var stack []string // open tag names
	var open []int     // their indices in ps
	// A run of text is collected as decoded runes with their source so that
	// clusters and white space are found on what Telegram shows.
	type unit struct {
		r   rune
		src string
	}
	var run []unit
	flush := func() {
		for k := 0; k < len(run); {
			if isSpace(run[k].r) {
				var out, shown strings.Builder
				nl := 0
				for ; k < len(run) && isSpace(run[k].r); k++ {
					out.WriteString(run[k].src)
					shown.WriteRune(run[k].r)
					if run[k].r == '\n' {
						nl++
					}
				}
				c := int8(cutSpace)
				switch {
				case nl >= 2 && len(stack) == 0:
					c = cutBlock
				case nl >= 1:
					c = cutLine
				}
				o := out.String()
				ps = append(ps, piece{kind: kSpace, out: o, cost: d.textCost(o, shown.String()), cut: c})
				continue
			}
			var word []rune
			var srcs []string
			for ; k < len(run) && !isSpace(run[k].r); k++ {
				word = append(word, run[k].r)
				srcs = append(srcs, run[k].src)
			}
			at := 0
			for _, c := range clusters(string(word)) {
				n := utf8.RuneCountInString(c)
				out := strings.Join(srcs[at:at+n], "")
				at += n
				ps = append(ps, piece{kind: kText, out: out, cost: d.textCost(out, c), cut: cutHard})
			}
		}
		run = run[:0]
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			flush()
			end := tagEnd(s, i)
			if end < 0 {
				return nil, invalidHTML("unterminated tag at byte %d", i)
			}
			tag := s[i:end]
			name, closing, err := tagName(tag)
			if err != nil {
				return nil, invalidHTML("%v at byte %d", err, i)
			}
			if closing {
				if len(stack) == 0 || stack[len(stack)-1] != name {
					return nil, invalidHTML("unexpected </%s> at byte %d", name, i)
				}
				o := open[len(open)-1]
				stack, open = stack[:len(stack)-1], open[:len(open)-1]
				ps[o].closeOut = tag
				ps[o].closeCost = d.markupCost(tag, false)
				ps = append(ps, piece{kind: kClose, out: tag, cost: ps[o].closeCost})
			} else {
				stack = append(stack, name)
				open = append(open, len(ps))
				ps = append(ps, piece{kind: kOpen, out: tag, cost: d.markupCost(tag, true)})
				// Tags open at a cut are repeated in the next part, so
				// together they must leave room for text in every part.
				var markup cost
				for _, o := range open {
					markup = markup.add(ps[o].cost)
				}
				if len(stack) > maxTelegramDepth || markup[1] > TelegramMaxHTML/2 {
					return nil, invalidHTML("tags nested too deep to split at byte %d", i)
				}
			}
			i = end
		case '&':
			end := strings.IndexByte(s[i:], ';')
			if end < 0 || end > 12 {
				return nil, invalidHTML("stray & at byte %d", i)
			}
			ent := s[i : i+end+1]
			r, ok := decodeEntity(ent)
			if !ok {
				return nil, invalidHTML("unsupported entity %q at byte %d", ent, i)
			}
			run = append(run, unit{r, ent})
			i += end + 1
		case '>':
			// Telegram accepts a bare >, but it is never written by Herald
			// and would be a sign of markup gone wrong.
			return nil, invalidHTML("stray > at byte %d", i)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, invalidHTML("invalid UTF-8 at byte %d", i)
			}
			run = append(run, unit{r, s[i : i+n]})
			i += n
		}
	}
	flush()
	if len(stack) > 0 {
		return nil, invalidHTML("<%s> is not closed", stack[len(stack)-1])
	}
	return ps, nil
}

func isSpace(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == '\r' }

// tagEnd returns the index just past the > that ends the tag starting at
// s[i], honouring quoted attribute values, or -1.
func tagEnd(s string, i int) int {
	var quote byte
	for k := i + 1; k < len(s); k++ {
		c := s[k]
		switch {
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

// tagName returns the name of a tag such as <a href="x"> or </b>, checked
// against the tags Telegram accepts.
func tagName(tag string) (name string, closing bool, err error) {
	body := tag[1 : len(tag)-1]
	if strings.HasPrefix(body, "/") {
		closing = true
		body = body[1:]
	}
	n := 0
	for n < len(body) && (body[n] >= 'a' && body[n] <= 'z' || body[n] == '-') {
		n++
	}
	name = body[:n]
	if !telegramTags[name] {
		return "", false, fmt.Errorf("unsupported tag %q", tag)
	}
	if rest := body[n:]; rest != "" && (closing || rest[0] != ' ') {
		return "", false, fmt.Errorf("malformed tag %q", tag)
	}
	return name, closing, nil
}

// decodeEntity decodes the entities Telegram accepts: &lt; &gt; &amp;
// &quot; and numeric references.
func decodeEntity(e string) (rune, bool) {
	switch e {
	case "&lt;":
		return '<', true
	case "&gt;":
		return '>', true
	case "&amp;":
		return '&', true
	case "&quot;":
		return '"', true
	}
	if !strings.HasPrefix(e, "&#") {
		return 0, false
	}
	num := e[2 : len(e)-1]
	base := 10
	if strings.HasPrefix(num, "x") || strings.HasPrefix(num, "X") {
		num, base = num[1:], 16
	}
	n, err := strconv.ParseUint(num, base, 32)
	if err != nil || n == 0 || n > utf8.MaxRune || (n >= 0xD800 && n <= 0xDFFF) {
		return 0, false
	}
	return rune(n), true
}

func invalidHTML(format string, args ...any) error {
	return digest.Errorf(digest.EINVALID, "invalid Telegram HTML: "+format, args...)
}
