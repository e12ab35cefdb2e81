package digest

import "time"

// Platform names.
const (
	PlatformTelegram = "telegram"
	PlatformDiscord  = "discord"
	PlatformConsole  = "console"
)

// Chat is a place the bot talks to: a Telegram chat, a Discord channel or DM,
// or the console.
type Chat struct {
	Platform  string
	ID        string // the platform's chat or channel id
	Kind      string // "private", "group", "channel"
	Title     string
	Active    bool   // false once the platform refused us (bot blocked or kicked)
	Inactive  string // why it became inactive
	CreatedAt time.Time
}

// Filters decide which stories a subscription's digests include. Each entry
// is a word or phrase matched case-insensitively, or an RE2 expression
// written between slashes (/regexp/).
type Filters struct {
	Include []string // a story must match at least one, when any are set
	Exclude []string // a story matching any is dropped
}

// Subscription is a chat destination (chat and optional thread or topic)
// together with the feeds it follows and when and how it wants its digests.
type Subscription struct {
	ID       int64
	Platform string
	ChatID   string
	ThreadID string // Telegram topic or Discord thread; empty for the chat itself
	FeedIDs  []int64
	Filters  Filters
	Schedule string // cron expression (5 fields) or empty for no scheduled digest
	TimeZone string // IANA name; empty means UTC
	Limit    int    // stories per digest; 0 means the default

	LastDigestAt time.Time // end of the window of the last digest built
	CreatedAt    time.Time
}

// SubscriptionFilter narrows ListSubscriptions. Zero fields do not filter.
type SubscriptionFilter struct {
	Platform  string
	ChatID    string
	FeedID    int64 // following this feed
	Scheduled bool  // only those with a schedule, in active chats
}
