package telegramtest

import (
	"fmt"
	"time"
)

// Limit is one sending limit: at most N messages in any span of Per. A
// zero Limit does not limit.
type Limit struct {
	N   int
	Per time.Duration
}

func (l Limit) on() bool { return l.N > 0 && l.Per > 0 }

// Limits are the Bot API's sending limits as the server enforces them once
// EnforceLimits is called. Each is a sliding window: a message is refused
// if, counting it, more than N messages would fall within some span of
// Per, which is the strict reading of "N messages per Per" (a token bucket
// of N per Per with a burst of N lets up to 2N through in one span).
type Limits struct {
	Global   Limit // every chat together
	PerChat  Limit // into one chat
	PerGroup Limit // into one group, supergroup or channel, on top of PerChat

	// Now is the clock the windows are counted on; nil means time.Now.
	Now func() time.Time
}

// TelegramLimits returns the limits Telegram documents for bots
// (core.telegram.org/bots/faq, "My bot is hitting limits"): no more than
// 30 messages a second in all; about one message a second into one chat,
// where "short bursts" may go over, which the fake allows as 3 messages in
// any 3 seconds (the burst Telegram tolerates is not documented; 3 is our
// assumption); and no more than 20 messages a minute into a group.
func TelegramLimits() Limits {
	return Limits{
		Global:   Limit{N: 30, Per: time.Second},
		PerChat:  Limit{N: 3, Per: 3 * time.Second},
		PerGroup: Limit{N: 20, Per: time.Minute},
	}
}

// EnforceLimits makes the server refuse sends (sendMessage,
// editMessageText, sendDocument) beyond l with 429 Too Many Requests and
// parameters.retry_after: the whole seconds, at least 1, until the send
// would fit every limit. A refused send counts toward no limit; an
// accepted one counts toward every limit that applies to its chat, even
// if the request then fails validation, as a request Telegram read. It
// replaces limits set before and forgets the messages they counted; a
// zero Limits stops enforcing.
func (s *Server) EnforceLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.Now == nil {
		l.Now = time.Now
	}
	s.limits = &limiter{Limits: l, chats: map[int64]*window{}, groups: map[int64]*window{}}
}

// Throttled returns how many sends the enforced limits refused.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limits == nil {
		return 0
	}
	return s.limits.refused
}

// limiter counts the messages sent within the enforced limits.
type limiter struct {
	Limits
	global  window
	chats   map[int64]*window
	groups  map[int64]*window
	refused int
}

// window holds the times of the messages sent in the last span of a
// Limit, oldest first.
type window struct{ at []time.Time }

// wait returns how long from now a message must wait to fit l: zero when
// it fits now.
func (w *window) wait(now time.Time, l Limit) time.Duration {
	if !l.on() {
		return 0
	}
	cut := now.Add(-l.Per)
	i := 0
	for i < len(w.at) && !w.at[i].After(cut) {
		i++
	}
	w.at = w.at[i:]
	if len(w.at) < l.N {
		return 0
	}
	// The message fits once the N-th newest leaves the span.
	return w.at[len(w.at)-l.N].Add(l.Per).Sub(now)
}

func (w *window) add(now time.Time, l Limit) {
	if l.on() {
		w.at = append(w.at, now)
	}
}

// throttle is the 429 a message into c gets from the enforced limits, if
// any; a message that fits is counted. s.mu must be held.
func (s *Server) throttle(c *chatState) *apiError {
	lim := s.limits
	if lim == nil {
		return nil
	}
	now := lim.Now()
	chat := lim.chats[c.chat.ID]
	if chat == nil {
		chat = &window{}
		lim.chats[c.chat.ID] = chat
	}
	wait := max(lim.global.wait(now, lim.Global), chat.wait(now, lim.PerChat))
	var group *window
	if c.chat.Type != "private" {
		if group = lim.groups[c.chat.ID]; group == nil {
			group = &window{}
			lim.groups[c.chat.ID] = group
		}
		wait = max(wait, group.wait(now, lim.PerGroup))
	}
	if wait > 0 {
		lim.refused++
		ra := int((wait + time.Second - 1) / time.Second)
		return &apiError{Code: 429, Description: fmt.Sprintf("Too Many Requests: retry after %d", ra), RetryAfter: ra}
	}
	lim.global.add(now, lim.Global)
	chat.add(now, lim.PerChat)
	if group != nil {
		group.add(now, lim.PerGroup)
	}
	return nil
}
