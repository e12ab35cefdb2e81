package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/replica"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

// TestOutboxClaimsShareChats runs three outboxes on one store, as three
// replicas would, flushing at the same moment: every message goes out
// exactly once, each chat's parts in order, and no claim stays held.
func TestOutboxClaimsShareChats(t *testing.T) {
	e := newOutboxEnv(t, nil)
	ctx := context.Background()
	const chats, parts = 12, 3
	for c := range chats {
		chat := fmt.Sprint(1000 + c)
		if err := e.st.UpsertChat(ctx, &digest.Chat{Platform: "telegram", ID: chat, Kind: "private"}); err != nil {
			t.Fatal(err)
		}
		var ps []string
		for p := range parts {
			ps = append(ps, fmt.Sprintf("p%d", p+1))
		}
		e.enqueue(t, chat, ps...)
	}
	var obs []*bot.Outbox
	for r := range 3 {
		obs = append(obs, bot.NewOutbox(bot.OutboxConfig{
			Store: e.st, Senders: map[string]bot.Sender{"telegram": e.sender},
			Claims: replica.New(e.st, replica.Config{Owner: fmt.Sprintf("replica-%d", r), TTL: time.Minute}),
			Now:    func() time.Time { return e.clock },
		}))
	}
	var wg sync.WaitGroup
	for _, ob := range obs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ob.Flush(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// A chat skipped because another replica held it is taken in a later
	// round; one more round each finishes whatever was left.
	for _, ob := range obs {
		if err := ob.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}

	byChat := map[string][]string{}
	for _, s := range e.sender.sent {
		chat, payload, _ := strings.Cut(s, ":")
		byChat[chat] = append(byChat[chat], payload)
	}
	for c := range chats {
		chat := fmt.Sprint(1000 + c)
		if got := strings.Join(byChat[chat], " "); got != "p1 p2 p3" {
			t.Errorf("chat %s received %q; want each part once, in order", chat, got)
		}
	}
	pending, err := e.st.ListOutbox(ctx, digest.OutboxFilter{Status: digest.OutboxPending})
	if err != nil || len(pending) != 0 {
		t.Fatalf("pending after the rounds: %d (%v)", len(pending), err)
	}
	for c := range chats {
		if _, err := e.st.FindLease(ctx, fmt.Sprintf("outbox/telegram/%d", 1000+c)); !digest.IsNotFound(err) {
			t.Errorf("claim on chat %d still held after the rounds (%v)", 1000+c, err)
		}
	}
}

// TestOutboxClaimTakeover checks that a chat claimed by a process that
// died is left alone until the claim expires, then sent by another.
func TestOutboxClaimTakeover(t *testing.T) {
	e := newOutboxEnv(t, nil)
	ctx := context.Background()
	e.enqueue(t, "1", "a", "b")
	e.enqueue(t, "2", "x")
	dead := replica.New(e.st, replica.Config{Owner: "dead", TTL: 30 * time.Second})
	if ok, err := dead.Claim(ctx, "outbox/telegram/1"); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	ob := bot.NewOutbox(bot.OutboxConfig{
		Store: e.st, Senders: map[string]bot.Sender{"telegram": e.sender},
		Claims: replica.New(e.st, replica.Config{Owner: "alive", TTL: 30 * time.Second}),
		Now:    func() time.Time { return e.clock },
	})
	if err := ob.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.sender.sent, " "); got != "2:x" {
		t.Fatalf("sent %q while the dead process's claim held chat 1; want only 2:x", got)
	}
	e.clock = e.clock.Add(31 * time.Second)
	if err := ob.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.sender.sent, " "); got != "2:x 1:a 1:b" {
		t.Fatalf("sent %q after the claim expired; want chat 1 taken over in order", got)
	}
}

// TestOutboxShareLimits checks that replicas divide a platform's global
// limit: with five sharing 50 messages a second, one sends 10 a second.
// Only the lower bound of the time is checked, which a slow machine
// cannot break.
func TestOutboxShareLimits(t *testing.T) {
	e := newOutboxEnv(t, nil)
	ob := bot.NewOutbox(bot.OutboxConfig{Store: e.st, Now: func() time.Time { return e.clock }})
	ob.Register("telegram", e.sender, bot.Limits{Global: 50, GlobalBurst: 5})
	ob.ShareLimits(5)
	for i := range 6 {
		e.enqueue(t, []string{"1", "2", "-100"}[i%3], fmt.Sprintf("m%d", i))
	}
	start := time.Now()
	if err := ob.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 450*time.Millisecond || len(e.sender.sent) != 6 {
		t.Fatalf("sent %d messages in %s; at a fifth of 50 a second, 6 take at least 0.5s", len(e.sender.sent), took)
	}
}

// TestOutboxDeletedThread: a forum topic deleted under a subscription
// fails the message and removes the subscription, and the chat's other
// messages still go.
func TestOutboxDeletedThread(t *testing.T) {
	gone := &bot.SendError{Err: errors.New("Bad Request: message thread not found"), ThreadGone: true}
	e := newOutboxEnv(t, map[string][]error{"-100": {gone}})
	ctx := context.Background()
	sub := &digest.Subscription{Platform: "telegram", ChatID: "-100", ThreadID: "7", Schedule: "0 8 * * *", TimeZone: "UTC"}
	if err := e.st.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	other := &digest.Subscription{Platform: "telegram", ChatID: "-100", Schedule: "0 9 * * *", TimeZone: "UTC"}
	if err := e.st.CreateSubscription(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := e.ob.Enqueue(ctx, []*digest.OutboxMessage{
		{Key: "topic/1", Platform: "telegram", ChatID: "-100", ThreadID: "7", Kind: "digest", Part: 1, Parts: 1, Payload: []byte("t")},
		{Key: "main/1", Platform: "telegram", ChatID: "-100", Kind: "digest", Part: 1, Parts: 1, Payload: []byte("m")},
	}); err != nil {
		t.Fatal(err)
	}
	e.flush(t)
	if m := e.status(t, "topic/1"); m.Status != digest.OutboxFailed {
		t.Errorf("message to the deleted topic is %s; want failed", m.Status)
	}
	if _, err := e.st.FindSubscriptionByID(ctx, sub.ID); !digest.IsNotFound(err) {
		t.Errorf("the deleted topic's subscription is still there (%v)", err)
	}
	if _, err := e.st.FindSubscriptionByID(ctx, other.ID); err != nil {
		t.Errorf("the chat's own subscription went too: %v", err)
	}
	if got := strings.Join(e.sender.sent, " "); got != "-100:m" {
		t.Errorf("sent %q; want the chat's next message", got)
	}
	if c, err := e.st.FindChat(ctx, "telegram", "-100"); err != nil || !c.Active {
		t.Errorf("chat = %+v, %v; want it still active", c, err)
	}
}

// leaseProbe is a Sender that records, at each send to chat "2", whether
// chat "1" was still claimed.
type leaseProbe struct {
	st    *sqlite.DB
	mu    sync.Mutex
	held  []bool
	calls int
}

func (p *leaseProbe) Send(ctx context.Context, m *digest.OutboxMessage) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if m.ChatID == "2" {
		_, err := p.st.FindLease(ctx, "outbox/telegram/1")
		p.held = append(p.held, err == nil)
	}
	return fmt.Sprint(p.calls), nil
}

// TestOutboxReleasesFinishedChats checks that a chat whose messages are
// all sent is released while the round goes on with other chats, so that
// another replica can answer in it at once.
func TestOutboxReleasesFinishedChats(t *testing.T) {
	e := newOutboxEnv(t, nil)
	probe := &leaseProbe{st: e.st}
	ob := bot.NewOutbox(bot.OutboxConfig{
		Store: e.st, Claims: replica.New(e.st, replica.Config{Owner: "a", TTL: time.Minute}),
		Now: func() time.Time { return e.clock },
	})
	ob.Register("telegram", probe, bot.Limits{PerChat: 20, PerChatBurst: 1}) // a part per chat every 50ms
	e.enqueue(t, "1", "only")
	e.enqueue(t, "2", "p1", "p2", "p3")
	if err := ob.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(probe.held) != "[true false false]" {
		t.Fatalf("chat 1 claimed at chat 2's sends: %v; want released after the first pass", probe.held)
	}
}
