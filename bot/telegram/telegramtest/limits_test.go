package telegramtest_test

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/bot/telegram/telegramtest"
)

// clock is a settable time for the enforced limits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func send(tb testing.TB, s *telegramtest.Server, chat int64) answer {
	tb.Helper()
	return call(tb, s, "sendMessage", url.Values{"chat_id": {fmt.Sprint(chat)}, "text": {"x"}})
}

// wantSent fails unless a was accepted.
func wantSent(tb testing.TB, what string, a answer) {
	tb.Helper()
	if !a.OK {
		tb.Fatalf("%s: refused with %d %s", what, a.ErrorCode, a.Description)
	}
}

// wantRetryAfter fails unless a is a 429 with this retry_after.
func wantRetryAfter(tb testing.TB, what string, a answer, seconds int) {
	tb.Helper()
	if a.OK || a.ErrorCode != 429 || a.status != 429 || a.Parameters.RetryAfter != seconds ||
		a.Description != fmt.Sprintf("Too Many Requests: retry after %d", seconds) {
		tb.Fatalf("%s: got ok=%v %d %q retry_after=%d, want 429 with retry_after %d",
			what, a.OK, a.ErrorCode, a.Description, a.Parameters.RetryAfter, seconds)
	}
}

func limitedServer(t *testing.T, l telegramtest.Limits) (*telegramtest.Server, *clock) {
	s := telegramtest.NewServer(t)
	c := &clock{t: time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC)}
	l.Now = c.now
	s.EnforceLimits(l)
	return s, c
}

func TestEnforcedLimits(t *testing.T) {
	t.Run("global", func(t *testing.T) {
		s, c := limitedServer(t, telegramtest.Limits{Global: telegramtest.Limit{N: 30, Per: time.Second}})
		for i := range 31 {
			s.AddUser(int64(100+i), "U", "")
			s.AddPrivateChat(int64(100 + i))
		}
		for i := range 30 {
			wantSent(t, fmt.Sprintf("send %d", i+1), send(t, s, int64(100+i)))
			c.add(10 * time.Millisecond) // 30 sends within 300ms
		}
		wantRetryAfter(t, "31st send within the second", send(t, s, 130), 1)
		c.add(700 * time.Millisecond) // the first send is now exactly a second old
		wantSent(t, "once the first send left the window", send(t, s, 130))
		wantRetryAfter(t, "the next one still waits for the second send", send(t, s, 100), 1)
		if n := s.Throttled(); n != 2 {
			t.Errorf("Throttled = %d, want 2", n)
		}
	})
	t.Run("per chat, with a short burst", func(t *testing.T) {
		s, c := limitedServer(t, telegramtest.Limits{PerChat: telegramtest.Limit{N: 3, Per: 3 * time.Second}})
		s.AddUser(10, "Ada", "")
		s.AddPrivateChat(10)
		s.AddUser(20, "Bob", "")
		s.AddPrivateChat(20)
		for i := range 3 {
			wantSent(t, fmt.Sprintf("burst %d", i+1), send(t, s, 10))
		}
		c.add(500 * time.Millisecond)
		wantRetryAfter(t, "a 4th within 3s", send(t, s, 10), 3) // 2.5s, rounded up
		wantSent(t, "another chat", send(t, s, 20))
		c.add(1600 * time.Millisecond)
		wantRetryAfter(t, "0.9s before the burst leaves the window", send(t, s, 10), 1)
		c.add(900 * time.Millisecond)
		wantSent(t, "refused sends did not count", send(t, s, 10))
		wantSent(t, "second of the new burst", send(t, s, 10))
		wantSent(t, "third of the new burst", send(t, s, 10))
		// Edits count as sends.
		wantRetryAfter(t, "an edit in a full window",
			call(t, s, "editMessageText", url.Values{"chat_id": {"10"}, "message_id": {"1"}, "text": {"y"}}), 3)
	})
	t.Run("per group, not private chats", func(t *testing.T) {
		s, c := limitedServer(t, telegramtest.Limits{PerGroup: telegramtest.Limit{N: 20, Per: time.Minute}})
		s.AddChat(telegramtest.Chat{ID: -100, Type: "supergroup", Title: "Team"})
		s.AddChat(telegramtest.Chat{ID: -200, Type: "channel", Title: "News"})
		s.AddUser(10, "Ada", "")
		s.AddPrivateChat(10)
		for i := range 20 {
			wantSent(t, fmt.Sprintf("group send %d", i+1), send(t, s, -100))
			wantSent(t, fmt.Sprintf("private send %d", i+1), send(t, s, 10))
			c.add(time.Second)
		}
		c.add(10 * time.Second) // 30s after the first send
		wantRetryAfter(t, "21st group message within the minute", send(t, s, -100), 30)
		wantSent(t, "a channel has a window of its own", send(t, s, -200))
		wantSent(t, "a private chat has no group limit", send(t, s, 10))
		c.add(30 * time.Second)
		wantSent(t, "after the first left the window", send(t, s, -100))
	})
	t.Run("Telegram's documented limits", func(t *testing.T) {
		s, c := limitedServer(t, telegramtest.TelegramLimits())
		s.AddChat(telegramtest.Chat{ID: -100, Type: "group", Title: "Team"})
		for i := range 3 {
			wantSent(t, fmt.Sprintf("burst %d", i+1), send(t, s, -100))
		}
		wantRetryAfter(t, "a 4th at once", send(t, s, -100), 3)
		for i := range 17 {
			c.add(3 * time.Second)
			wantSent(t, fmt.Sprintf("one every 3s, %d", i+1), send(t, s, -100))
		}
		c.add(3 * time.Second) // 20 sent within the last 54s
		wantRetryAfter(t, "21st within a minute", send(t, s, -100), 6)
	})
	t.Run("off until enforced, and a zero Limits stops enforcing", func(t *testing.T) {
		s := telegramtest.NewServer(t)
		s.AddUser(10, "Ada", "")
		s.AddPrivateChat(10)
		for i := range 10 {
			wantSent(t, fmt.Sprintf("unlimited %d", i+1), send(t, s, 10))
		}
		s.EnforceLimits(telegramtest.Limits{PerChat: telegramtest.Limit{N: 1, Per: time.Hour}})
		wantSent(t, "first under the limit", send(t, s, 10))
		wantRetryAfter(t, "second under the limit", send(t, s, 10), 3600)
		s.EnforceLimits(telegramtest.Limits{})
		wantSent(t, "after a zero Limits", send(t, s, 10))
	})
}
