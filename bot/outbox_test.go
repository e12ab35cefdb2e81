package bot_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

// fakeSender records what it delivered and answers from a script: the
// error for the n-th call to a chat, if any.
type fakeSender struct {
	mu     sync.Mutex
	sent   []string // chat:payload, in order
	script map[string][]error
	calls  map[string]int
}

func (f *fakeSender) Send(_ context.Context, m *digest.OutboxMessage) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.calls[m.ChatID]
	f.calls[m.ChatID]++
	if s := f.script[m.ChatID]; n < len(s) && s[n] != nil {
		return "", s[n]
	}
	f.sent = append(f.sent, m.ChatID+":"+string(m.Payload))
	return fmt.Sprintf("msg-%d", len(f.sent)), nil
}

type outboxEnv struct {
	st     *sqlite.DB
	ob     *bot.Outbox
	sender *fakeSender
	clock  time.Time
}

func newOutboxEnv(t *testing.T, script map[string][]error) *outboxEnv {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ob.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &outboxEnv{st: st, sender: &fakeSender{script: script, calls: map[string]int{}}, clock: now}
	st.Now = func() time.Time { return e.clock }
	e.ob = bot.NewOutbox(bot.OutboxConfig{
		Store: st, Senders: map[string]bot.Sender{"telegram": e.sender}, MaxAttempts: 3,
		Now: func() time.Time { return e.clock },
	})
	ctx := context.Background()
	for _, chat := range []string{"1", "2", "-100"} {
		if err := st.UpsertChat(ctx, &digest.Chat{Platform: "telegram", ID: chat, Kind: "group"}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *outboxEnv) enqueue(t *testing.T, chat string, parts ...string) {
	t.Helper()
	var msgs []*digest.OutboxMessage
	for i, p := range parts {
		msgs = append(msgs, &digest.OutboxMessage{Key: chat + "/" + p, Platform: "telegram", ChatID: chat, Kind: "digest",
			Part: i + 1, Parts: len(parts), Payload: []byte(p)})
	}
	if err := e.ob.Enqueue(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
}

func (e *outboxEnv) flush(t *testing.T) {
	t.Helper()
	if err := e.ob.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (e *outboxEnv) status(t *testing.T, key string) *digest.OutboxMessage {
	t.Helper()
	all, err := e.st.ListOutbox(context.Background(), digest.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.Key == key {
			return m
		}
	}
	t.Fatalf("no outbox message %s", key)
	return nil
}

func TestOutboxOrderAndRetryAfter(t *testing.T) {
	e := newOutboxEnv(t, map[string][]error{
		"1": {nil, &bot.SendError{Err: errors.New("429 Too Many Requests: retry after 30"), RetryAfter: 30 * time.Second}},
	})
	e.enqueue(t, "1", "a", "b", "c")
	e.enqueue(t, "2", "x")
	e.flush(t)
	if got := strings.Join(e.sender.sent, " "); got != "1:a 2:x" && got != "2:x 1:a" {
		t.Fatalf("sent %q: want a, then b held back by the 429 and c behind it", got)
	}
	b := e.status(t, "1/b")
	if b.Status != digest.OutboxPending || !b.NextAttemptAt.Equal(now.Add(30*time.Second)) || !strings.Contains(b.LastError, "429") {
		t.Fatalf("after 429: %+v", b)
	}
	e.flush(t) // not due yet: nothing moves
	if len(e.sender.sent) != 2 {
		t.Fatalf("sent before retry-after elapsed: %v", e.sender.sent)
	}
	e.clock = now.Add(31 * time.Second)
	e.flush(t)
	if got := strings.Join(e.sender.sent, " "); !strings.HasSuffix(got, "1:b 1:c") {
		t.Errorf("after the wait sent %q, want b then c", got)
	}
	if c := e.status(t, "1/c"); c.Status != digest.OutboxSent || c.PlatformID == "" {
		t.Errorf("c = %+v", c)
	}
}

func TestOutboxForbiddenMarksChatInactive(t *testing.T) {
	e := newOutboxEnv(t, map[string][]error{
		"1": {&bot.SendError{Err: errors.New("403 Forbidden: bot was blocked by the user"), Forbidden: true}},
	})
	e.enqueue(t, "1", "a")
	e.flush(t)
	if m := e.status(t, "1/a"); m.Status != digest.OutboxFailed || !strings.Contains(m.LastError, "blocked") {
		t.Errorf("message = %+v, want failed with the reason", m)
	}
	c, err := e.st.FindChat(context.Background(), "telegram", "1")
	if err != nil || c.Active || !strings.Contains(c.Inactive, "blocked") {
		t.Errorf("chat = %+v, %v; want inactive", c, err)
	}
}

func TestOutboxFollowsMigration(t *testing.T) {
	e := newOutboxEnv(t, map[string][]error{
		"-100": {&bot.SendError{Err: errors.New("400 Bad Request: group chat was upgraded to a supergroup chat"), MigratedTo: "-100999"}},
	})
	e.enqueue(t, "-100", "a", "b")
	e.flush(t)
	if got := strings.Join(e.sender.sent, " "); got != "-100999:a -100999:b" {
		t.Errorf("sent %q, want both parts to the new chat id", got)
	}
	if _, err := e.st.FindChat(context.Background(), "telegram", "-100999"); err != nil {
		t.Errorf("chat not migrated: %v", err)
	}
}

func TestOutboxGivesUpVisibly(t *testing.T) {
	boom := errors.New("connection reset by peer")
	e := newOutboxEnv(t, map[string][]error{"1": {boom, boom, boom, boom}, "2": {&bot.SendError{Err: errors.New("400 Bad Request: message is too long"), Permanent: true}}})
	e.enqueue(t, "1", "a")
	e.enqueue(t, "2", "x", "y")
	for range 3 {
		e.flush(t)
		e.clock = e.clock.Add(time.Hour)
	}
	if m := e.status(t, "1/a"); m.Status != digest.OutboxFailed || m.Attempts != 3 || !strings.Contains(m.LastError, "gave up after 3 attempts") {
		t.Errorf("transient failures: %+v", m)
	}
	if x := e.status(t, "2/x"); x.Status != digest.OutboxFailed || x.Attempts != 1 {
		t.Errorf("permanent failure: %+v", x)
	}
	if y := e.status(t, "2/y"); y.Status != digest.OutboxSent {
		t.Errorf("the part after a permanently bad one: %+v, want sent", y)
	}
}

func TestOutboxRunStopsAndResumes(t *testing.T) {
	e := newOutboxEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.ob.Run(ctx) }()
	e.enqueue(t, "1", "a", "b")
	deadline := time.After(5 * time.Second)
	for {
		e.sender.mu.Lock()
		n := len(e.sender.sent)
		e.sender.mu.Unlock()
		if n == 2 {
			break
		}
		select {
		case <-deadline:
			t.Fatal("Run did not deliver enqueued messages")
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	// Sent messages are never sent again, by this outbox or a new one.
	again := bot.NewOutbox(bot.OutboxConfig{Store: e.st, Senders: map[string]bot.Sender{"telegram": e.sender}, Now: func() time.Time { return e.clock.Add(time.Hour) }})
	if err := again.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(e.sender.sent) != 2 {
		t.Errorf("sent %v after restart, want the two messages once", e.sender.sent)
	}
	if err := e.ob.Enqueue(context.Background(), []*digest.OutboxMessage{{Key: "1/a", Platform: "telegram", ChatID: "1", Kind: "digest", Payload: []byte("a")}}); !digest.IsConflict(err) {
		t.Errorf("enqueueing a delivered key again: %v, want conflict", err)
	}
}

// TestOutboxInterleavesChats: while one chat waits for its bucket, the
// other chats' parts go, and each chat's parts stay in order.
func TestOutboxInterleavesChats(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ob.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sender := &fakeSender{calls: map[string]int{}}
	ob := bot.NewOutbox(bot.OutboxConfig{Store: st})
	ob.Register("telegram", sender, bot.Limits{PerChat: 5, PerChatBurst: 1}) // a part per chat every 200 ms
	var msgs []*digest.OutboxMessage
	for _, chat := range []string{"a", "b", "c"} {
		for part := 1; part <= 2; part++ {
			msgs = append(msgs, &digest.OutboxMessage{Key: fmt.Sprintf("%s/%d", chat, part), Platform: "telegram", ChatID: chat,
				Kind: "digest", Part: part, Parts: 2, Payload: []byte(fmt.Sprint(part))})
		}
	}
	if err := ob.Enqueue(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	if err := ob.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sender.sent, " "); got != "a:1 b:1 c:1 a:2 b:2 c:2" {
		t.Errorf("sent %q, want the chats in turns with each chat's parts in order", got)
	}
}

// TestOutboxRepliesFirst: an answer to a command does not wait behind
// digests to other chats.
func TestOutboxRepliesFirst(t *testing.T) {
	e := newOutboxEnv(t, nil)
	e.enqueue(t, "1", "digest-a")
	e.enqueue(t, "2", "digest-b")
	if err := e.ob.Enqueue(context.Background(), []*digest.OutboxMessage{{Key: "reply/x", Platform: "telegram", ChatID: "-100",
		Kind: bot.KindReply, Payload: []byte("answer")}}); err != nil {
		t.Fatal(err)
	}
	e.flush(t)
	if got := strings.Join(e.sender.sent, " "); !strings.HasPrefix(got, "-100:answer ") {
		t.Errorf("sent %q, want the reply first", got)
	}
}
