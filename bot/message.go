package bot

import "github.com/seed-c50b6fda/herald/digest"

// Message is what the bot says, independent of any platform. Adapters
// render it: text blocks and lists with their own escaping, a digest with
// the digest renderers, buttons as inline keyboards or components.
type Message struct {
	Blocks  []Block
	Digest  *digest.Digest // a digest to render after the blocks
	Buttons []Button       // one row of buttons, e.g. for paging
	File    *File          // an attachment, e.g. /export's OPML

	// Ephemeral asks for a reply only the caller sees, where the platform
	// can do that (Discord); others send it normally.
	Ephemeral bool
	// Replace asks to edit the message a button was pressed on instead of
	// sending a new one (paging).
	Replace bool
	// Error marks a reply that reports a problem with the request.
	Error bool
}

// BlockKind says how a block is shown.
type BlockKind int

// Block kinds.
const (
	Paragraph BlockKind = iota // plain text
	Heading                    // bold line
	List                       // bulleted Items
	Code                       // preformatted text, e.g. a cron expression
)

// Block is a piece of a message.
type Block struct {
	Kind  BlockKind
	Text  string // for Paragraph, Heading and Code
	Items []Item // for List
}

// Item is one list entry: text, with an optional link and a note shown
// after it in a quieter style.
type Item struct {
	Text string
	URL  string
	Note string
}

// Button is a pressable button. Data comes back in a callback Request; it
// is at most 64 bytes (Telegram's limit for callback data).
type Button struct {
	Label string
	Data  string
}

// File is an attachment.
type File struct {
	Name string
	Type string // MIME type
	Data []byte
}

func text(s string) Block          { return Block{Kind: Paragraph, Text: s} }
func heading(s string) Block       { return Block{Kind: Heading, Text: s} }
func code(s string) Block          { return Block{Kind: Code, Text: s} }
func bullets(items ...Item) Block  { return Block{Kind: List, Items: items} }
func say(blocks ...Block) *Message { return &Message{Blocks: blocks} }
func oops(format string) *Message {
	return &Message{Blocks: []Block{text(format)}, Error: true, Ephemeral: true}
}
func replyText(s string) []*Message  { return []*Message{say(text(s))} }
func replyError(s string) []*Message { return []*Message{oops(s)} }
