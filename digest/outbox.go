package digest

import "time"

// Outbox message states.
const (
	OutboxPending = "pending" // waiting to be sent, or to be retried
	OutboxSent    = "sent"    // the platform confirmed it
	OutboxFailed  = "failed"  // given up on; LastError says why
)

// OutboxMessage is one message part to deliver. It is written before it is
// sent and marked sent only after the platform confirms, so that a restart
// resumes unsent parts and never re-sends sent ones.
type OutboxMessage struct {
	ID             int64
	Key            string // idempotency key, unique: e.g. "digest/<sub>/<slot>/<part>"
	Platform       string
	ChatID         string
	ThreadID       string
	SubscriptionID int64     // 0 when not part of a subscription's digest
	Slot           time.Time // the scheduled slot a digest part belongs to; zero otherwise
	Part           int       // 1-based index of this part
	Parts          int       // number of parts of the same delivery
	Kind           string    // "digest", "reply", "notice"
	Payload        []byte    // the rendered message, in the adapter's format

	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	PlatformID    string // the platform's id for the sent message
	CreatedAt     time.Time
	SentAt        time.Time
}

// OutboxFilter narrows ListOutbox. Zero fields do not filter.
type OutboxFilter struct {
	Status   string
	Platform string
	ChatID   string
	Kind     string
	DueAt    time.Time // pending and NextAttemptAt at or before this time
	Newest   bool      // newest first instead of oldest first
	Limit    int
}
