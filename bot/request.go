package bot

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Request is one thing a person did in a chat: a command, or a press on
// one of the bot's buttons. Adapters fill it from their platform's update.
type Request struct {
	Platform  string
	ChatID    string
	ThreadID  string // Telegram topic or Discord thread; empty for the chat itself
	ChatKind  string // "private", "group" or "channel"
	ChatTitle string
	UserID    string
	UserName  string

	// Admin reports whether the user may change this chat's settings:
	// a chat administrator (Telegram), a member with Manage Channels or
	// Administrator (Discord). Adapters decide; in a private chat the
	// user always may.
	Admin bool

	Command string // command name without "/" and "@bot", lower-case
	Args    string // the rest of the message, trimmed
	// Callback is the Data of a pressed button; Command is empty then.
	Callback string
}

// Private reports whether the request comes from a direct message.
func (r *Request) Private() bool { return r.ChatKind == "private" }

// maxCommandLen bounds the command text a request may carry; longer input
// is cut at a character boundary (nothing a user needs is longer).
const maxCommandLen = 4096

// ParseCommand splits a chat message into command and arguments:
// "/subscribe@HeraldBot https://x.example/feed news" gives "subscribe",
// "https://x.example/feed news". ok is false for a message that is not a
// command, or that is addressed to another bot ("/start@OtherBot").
// botName is compared without case and without the leading "@".
func ParseCommand(message, botName string) (command, args string, ok bool) {
	s := strings.TrimLeftFunc(message, unicode.IsSpace)
	if len(s) > maxCommandLen {
		cut := maxCommandLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	if !strings.HasPrefix(s, "/") {
		return "", "", false
	}
	word, rest, _ := strings.Cut(s[1:], " ")
	if i := strings.IndexFunc(word, unicode.IsSpace); i >= 0 { // newline or tab after the command
		rest = word[i:] + " " + rest
		word = word[:i]
	}
	name, target, addressed := strings.Cut(word, "@")
	if addressed && botName != "" && !strings.EqualFold(target, strings.TrimPrefix(botName, "@")) {
		return "", "", false
	}
	if name == "" {
		return "", "", false
	}
	for _, r := range name {
		if !(r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return "", "", false
		}
	}
	return strings.ToLower(name), strings.TrimSpace(rest), true
}
