package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/bot/telegram"
	"github.com/seed-c50b6fda/herald/bot/telegram/telegramtest"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

// loadResult is what one delivery of scheduled digests to many chats took.
type loadResult struct {
	messages  int           // digest parts delivered
	first     time.Duration // from the process start to the first arrival
	span      time.Duration // from the first arrival to the last
	total     time.Duration // from the process start to the last arrival
	minimum   time.Duration // the least time the global limit allows for messages
	throttled int           // sends Telegram refused with 429
}

// ratio is span over the minimum the limits allow.
func (r loadResult) ratio() float64 { return r.span.Seconds() / r.minimum.Seconds() }

// deliverToChats runs herald run on a database where chats subscriptions
// are each owed one short digest (one message), against a fake Telegram
// that enforces Telegram's limits, until every digest arrived. It fails tb
// if a message is lost or duplicated, and reports the timings.
// With rtt > 0, every Bot API request waits that long before it reaches
// the fake, as the round trip to Telegram's servers would take.
func deliverToChats(tb testing.TB, chats int, seed uint64, rtt time.Duration) loadResult {
	tb.Helper()
	bin := fastHerald(tb)
	dir := tb.TempDir()
	dbPath := filepath.Join(dir, "herald.db")
	fake := telegramtest.NewServer(tb)
	limits := telegramtest.TelegramLimits()
	fake.EnforceLimits(limits)
	db := openSQLite(tb, dbPath)
	sd := seedScheduled(tb, db, fake, seedConfig{
		chats: chats, groupShare: 0.3, events: 40, minStories: 2, maxStories: 3, summary: 100, seed: seed,
	})
	env := telegramEnv(dbPath, fake, "")
	if rtt > 0 {
		env = append(env, "HERALD_TELEGRAM_API_URL="+delayed(tb, fake.URL(), rtt))
	}
	d := startDaemon(tb, bin, dir, env)
	waitAllSent(tb, db, sd, time.Duration(chats)*time.Second/10+60*time.Second, d)
	if code, _ := d.terminate(10 * time.Second); code != 0 {
		tb.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	checkLogs(tb, d.logs.String(), fake.Token)
	r := checkDelivery(tb, fake, db, sd)
	if r.parts != chats {
		tb.Errorf("%d digest parts for %d chats; the test wants one message per chat", r.parts, chats)
	}
	if r.duplicates != 0 {
		tb.Errorf("%d duplicate messages without a crash", r.duplicates)
	}
	if tb.Failed() {
		tb.Logf("log:\n%s", d.logs)
	}
	return loadResult{
		messages: r.delivered, first: r.first.Sub(d.started), span: r.last.Sub(r.first), total: r.last.Sub(d.started),
		minimum:   time.Duration(float64(r.delivered) / float64(limits.Global.N) * float64(limits.Global.Per)),
		throttled: fake.Throttled(),
	}
}

// delayed returns the URL of a proxy to target that holds every request
// for rtt first.
func delayed(tb testing.TB, target string, rtt time.Duration) string {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(rtt):
		case <-r.Context().Done():
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL
}

func (r loadResult) String() string {
	return r.span.Round(10*time.Millisecond).String() + " from the first message to the last"
}

// TestScheduledDigestsWithinTelegramLimits delivers scheduled digests to
// 200 chats through a fake Telegram that answers 429 beyond its limits:
// every message arrives once. The timing is logged, not asserted;
// BenchmarkScheduledDigests1000Chats measures it for 1,000 chats.
func TestScheduledDigestsWithinTelegramLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts herald run as a process and sends for about 7s")
	}
	r := deliverToChats(t, 200, 7, 0)
	t.Logf("%d messages: first after %s, last after %s; %s, %.2f times the %s Telegram's 30/s allows; %d answered 429",
		r.messages, r.first.Round(time.Millisecond), r.total.Round(time.Millisecond), r, r.ratio(), r.minimum.Round(time.Millisecond), r.throttled)
}

// TestRateLimitedPartsAreNeverGivenUp checks, in process, the outbox and
// the Telegram adapter as herald run wires them: a message Telegram
// answers with 429 twenty times waits, however long, and is sent once
// Telegram lets it through; the 429s do not count as failed attempts, so
// neither do they make a later transient error give the message up.
func TestRateLimitedPartsAreNeverGivenUp(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fake := telegramtest.NewServer(t)
	const chat = 4242
	fake.AddUser(chat, "Dee", "")
	fake.AddPrivateChat(chat)
	// One message an hour into the chat: every further send is a 429
	// with retry_after 3600.
	fake.EnforceLimits(telegramtest.Limits{PerChat: telegramtest.Limit{N: 1, Per: time.Hour}})

	var mu sync.Mutex
	now := time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	later := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	ob := bot.NewOutbox(bot.OutboxConfig{Store: st, MaxAttempts: 3, Now: clock})
	tg, err := telegram.New(telegram.Config{Token: fake.Token, APIURL: fake.URL(), Bot: bot.New(bot.Deps{Store: st}), Outbox: ob})
	if err != nil {
		t.Fatal(err)
	}
	ob.Register(digest.PlatformTelegram, tg, bot.Limits{})
	var msgs []*digest.OutboxMessage
	for i, text := range []string{"part one", "part two"} {
		payload, _ := json.Marshal(telegram.Payload{Method: "sendMessage", Text: text})
		msgs = append(msgs, &digest.OutboxMessage{Key: "digest/1/slot/" + text, Platform: digest.PlatformTelegram,
			ChatID: "4242", Kind: "digest", Part: i + 1, Parts: 2, Payload: payload, CreatedAt: clock()})
	}
	if err := ob.Enqueue(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	status := func() *digest.OutboxMessage {
		t.Helper()
		all, err := st.ListOutbox(ctx, digest.OutboxFilter{ChatID: "4242"})
		if err != nil || len(all) != 2 {
			t.Fatalf("outbox: %v %v", all, err)
		}
		return all[1]
	}
	for range 20 {
		if err := ob.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		later(time.Hour + time.Second)
	}
	if m := status(); m.Status != digest.OutboxPending || m.Attempts != 20 {
		t.Fatalf("after 20 answers of 429: %s with %d attempts (%s); want pending with 20", m.Status, m.Attempts, m.LastError)
	}
	// Telegram lets messages through again but fails once on its side.
	fake.EnforceLimits(telegramtest.Limits{})
	fake.FailNext("sendMessage", http.StatusInternalServerError, "Internal Server Error")
	if err := ob.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if m := status(); m.Status != digest.OutboxPending {
		t.Fatalf("a 500 after 20 answers of 429 made the message %s (%s); one failure of 3 allowed must retry", m.Status, m.LastError)
	}
	later(time.Hour)
	if err := ob.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if m := status(); m.Status != digest.OutboxSent {
		t.Fatalf("after Telegram recovered: %s (%s)", m.Status, m.LastError)
	}
	if got := fake.Sent(chat); len(got) != 2 || got[0].Text != "part one" || got[1].Text != "part two" {
		t.Errorf("the chat received %d messages, want part one and part two: %+v", len(got), got)
	}
}
