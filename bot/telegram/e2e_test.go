package telegram_test

// End-to-end tests: the real adapter against the fake Bot API server, with
// the real chat core on a real SQLite store, the real outbox, and feeds
// fetched over HTTP by the real fetcher from a local feed server.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/bot/telegram"
	"github.com/seed-c50b6fda/herald/bot/telegram/telegramtest"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/fetch"
	"github.com/seed-c50b6fda/herald/digest/poll"
	"github.com/seed-c50b6fda/herald/digest/render"
	"github.com/seed-c50b6fda/herald/store/sqlite"
	"golang.org/x/time/rate"
)

// Users and chats of the scenarios.
const (
	admin   = 10 // administrator of the group
	member  = 20 // plain member
	dmUser  = 40
	group   = int64(-1001)
	forum   = int64(-1002)
	channel = int64(-1003)
	topic   = 77
)

// feedServer serves RSS feeds at /feed/NAME: NAME's items are "NAME story
// 1", "NAME story 2", ... published an hour apart, each with a summary of
// the given length.
type feedServer struct {
	*httptest.Server
	mu      sync.Mutex
	items   map[string]int
	summary int
}

func newFeedServer(t testing.TB) *feedServer {
	fs := &feedServer{items: map[string]int{}, summary: 120}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/feed/")
		fs.mu.Lock()
		n, summary := fs.items[name], fs.summary
		fs.mu.Unlock()
		if !ok || n == 0 {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s news</title><link>https://%s.example/</link>`, name, name)
		for i := 1; i <= n; i++ {
			words := strings.Repeat(fmt.Sprintf("%s detail %d ", name, i), summary/len(name+" detail 1 ")+1)
			fmt.Fprintf(w, `<item><title>%s story %d &amp; more</title><link>https://%s.example/story/%d</link><guid>%s-%d</guid><pubDate>%s</pubDate><description>%s.</description></item>`,
				name, i, name, i, name, i, time.Now().Add(-time.Duration(i)*time.Minute).Format(time.RFC1123Z), html.EscapeString(words[:summary]))
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(fs.Close)
	return fs
}

// feed makes a feed of n items available and returns its URL.
func (fs *feedServer) feed(name string, n int) string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.items[name] = n
	return fs.URL + "/feed/" + name
}

// fetchingAdder adds feeds the way the CLI does: fetch once with the real
// fetcher, store the feed and record the fetch (articles included).
type fetchingAdder struct {
	st     digest.Store
	client *fetch.Client
	poller *poll.Poller
}

func (f *fetchingAdder) AddFeed(ctx context.Context, u, name string) (*digest.Feed, error) {
	now := time.Now()
	res, err := f.client.Fetch(ctx, fetch.Request{URL: u})
	if err != nil {
		return nil, digest.Errorf(digest.EUNAVAILABLE, "%s cannot be fetched: %v", u, err)
	}
	feed := &digest.Feed{URL: u, Name: name}
	if err := f.st.CreateFeed(ctx, feed); err != nil {
		return nil, err
	}
	if r := f.poller.Record(ctx, feed, now, res, nil); r.Err != nil {
		return nil, r.Err
	}
	return f.st.FindFeedByID(ctx, feed.ID)
}

func canonical(s string) (string, error) {
	c, err := fetch.CanonicalURL(s, "")
	if err != nil {
		return "", digest.Errorf(digest.EINVALID, "%q is not an http or https address", s)
	}
	return c, nil
}

// parseSchedule understands "daily HH:MM" and "off": enough for the
// adapter's tests; the schedule package has the real grammar.
func parseSchedule(s string) (string, string, error) {
	var h, m int
	if s == "off" {
		return "", "off", nil
	}
	if _, err := fmt.Sscanf(s, "daily %d:%d", &h, &m); err == nil && h < 24 && m < 60 {
		return fmt.Sprintf("%d %d * * *", m, h), fmt.Sprintf("every day at %02d:%02d", h, m), nil
	}
	if _, err := fmt.Sscanf(s, "%d %d * * *", &m, &h); err == nil {
		return s, fmt.Sprintf("every day at %02d:%02d", h, m), nil
	}
	return "", "", digest.Errorf(digest.EINVALID, "%q is not a schedule; try daily 08:00", s)
}

func nextRuns(spec string, loc *time.Location, after time.Time, n int) []time.Time {
	var m, h int
	fmt.Sscanf(spec, "%d %d", &m, &h)
	var out []time.Time
	t := time.Date(after.In(loc).Year(), after.In(loc).Month(), after.In(loc).Day(), h, m, 0, 0, loc)
	for len(out) < n {
		if t.After(after) {
			out = append(out, t)
		}
		t = t.AddDate(0, 0, 1)
	}
	return out
}

// logBuffer collects log output from every goroutine.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type harness struct {
	t      testing.TB
	fake   *telegramtest.Server
	feeds  *feedServer
	st     *sqlite.DB
	core   *bot.Bot
	ob     *bot.Outbox
	ad     *telegram.Adapter
	logs   *logBuffer
	logger *slog.Logger
	now    func() time.Time
	dbPath string

	cancel context.CancelFunc
	done   chan struct{}
	runErr error
}

type options struct {
	now     func() time.Time // the chat core's clock; time.Now by default
	limits  *bot.Limits      // the outbox's limits; generous by default, to keep tests fast
	webhook *telegram.WebhookConfig
	updates telegram.UpdateClaims
	apiURL  string
}

// newHarness builds everything but starts nothing.
func newHarness(t testing.TB, o options) *harness {
	t.Helper()
	h := &harness{t: t, fake: telegramtest.NewServer(t), feeds: newFeedServer(t), logs: &logBuffer{}, now: o.now}
	// Generous: the whole suite runs with -race on two busy cores. Only
	// a failing test waits this long.
	h.fake.WaitTimeout = 15 * time.Second
	if h.now == nil {
		h.now = time.Now
	}
	h.logger = slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.dbPath = filepath.Join(t.TempDir(), "herald.db")
	st, err := sqlite.Open(context.Background(), h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h.st = st
	client := fetch.New(fetch.Options{AllowPrivate: true})
	t.Cleanup(client.Close)
	h.core = bot.New(bot.Deps{
		Store: st, Feeds: &fetchingAdder{st: st, client: client, poller: poll.New(poll.Config{Fetcher: client, Store: st, Logger: h.logger})},
		FeedURL: canonical, ArticleURL: canonical, ParseSchedule: parseSchedule, NextRuns: nextRuns,
		DefaultSchedule: "0 8 * * *", DefaultTimeZone: "UTC", DigestLimit: 40,
		CommandEvery: time.Millisecond, CommandBurst: 1000, Now: h.now, Logger: h.logger,
	})
	limits := bot.Limits{Global: 1000, GlobalBurst: 100, PerChat: 200, PerChatBurst: 50}
	if o.limits != nil {
		limits = *o.limits
	}
	h.ob = bot.NewOutbox(bot.OutboxConfig{Store: st, MaxAttempts: 5, MaxBackoff: 2 * time.Second, Logger: h.logger})
	cfg := telegram.Config{
		Token: h.fake.Token, APIURL: h.fake.URL(), Bot: h.core, Outbox: h.ob, State: st, Chats: st,
		PollTimeout: time.Second, RequestTimeout: 5 * time.Second, Logger: h.logger,
	}
	if o.apiURL != "" {
		cfg.APIURL = o.apiURL
	}
	if o.webhook != nil {
		cfg.Webhook = *o.webhook
	}
	cfg.Updates = o.updates
	h.ad, err = telegram.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.ob.Register(digest.PlatformTelegram, h.ad, limits)

	h.fake.AddUser(admin, "Ada", "ada")
	h.fake.AddUser(member, "Bob", "bob")
	h.fake.AddUser(dmUser, "Dee", "")
	h.fake.AddChat(telegramtest.Chat{ID: group, Type: "supergroup", Title: "Team"})
	h.fake.SetMember(group, admin, telegramtest.StatusAdministrator)
	h.fake.SetMember(group, member, telegramtest.StatusMember)
	h.fake.AddPrivateChat(dmUser)
	t.Cleanup(func() {
		h.stop()
		if strings.Contains(h.logs.String(), h.fake.Token) {
			t.Errorf("the bot token appears in the logs:\n%s", h.logs.String())
		}
		if t.Failed() {
			t.Logf("logs:\n%s", h.logs.String())
		}
	})
	return h
}

// start runs the outbox and the adapter until the test ends or stop.
func (h *harness) start() {
	n := len(h.fake.Calls("setMyCommands"))
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); h.ob.Run(ctx) }()
	go func() { defer wg.Done(); h.runErr = h.ad.Run(ctx) }()
	go func() { wg.Wait(); close(h.done) }()
	h.fake.Wait("the adapter to start", func() bool { return len(h.fake.Calls("setMyCommands")) > n })
}

// stop stops the adapter and the outbox and waits for them.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case <-h.done:
		if h.runErr != nil {
			h.t.Errorf("Run: %v", h.runErr)
		}
	case <-time.After(10 * time.Second):
		h.t.Error("Run did not return within 10s of cancelling its context")
	}
	h.cancel = nil
}

// say sends text from a user and waits for n new messages from the bot in
// that chat, which it returns.
func (h *harness) say(chat int64, user int64, text string, n int) []telegramtest.Message {
	h.t.Helper()
	before := len(h.fake.Sent(chat))
	h.fake.SendText(chat, user, text)
	got := h.fake.WaitSent(chat, before+n)
	return got[before:]
}

// expect fails unless the message's text contains every want.
func expect(tb testing.TB, m telegramtest.Message, want ...string) {
	tb.Helper()
	for _, w := range want {
		if !strings.Contains(m.Text, w) {
			tb.Errorf("message %d lacks %q:\n%s", m.ID, w, m.Text)
		}
	}
}

// buttons returns the callback data of a message's keyboard.
func buttons(m telegramtest.Message) []string {
	var out []string
	for _, row := range m.Keyboard {
		for _, b := range row {
			out = append(out, b.CallbackData)
		}
	}
	return out
}

// subscribeMany makes a chat follow n more feeds, directly in the store.
func (h *harness) subscribeMany(chat int64, thread string, n int) {
	h.t.Helper()
	ctx := context.Background()
	sub, err := h.st.FindSubscription(ctx, digest.PlatformTelegram, strconv.FormatInt(chat, 10), thread)
	if err != nil {
		h.t.Fatal(err)
	}
	for i := range n {
		f := &digest.Feed{URL: fmt.Sprintf("https://f%02d.example/rss?chat=%d", i, chat), Title: fmt.Sprintf("Feed %02d", i)}
		if err := h.st.CreateFeed(ctx, f); err != nil {
			h.t.Fatal(err)
		}
		if err := h.st.AddSubscriptionFeed(ctx, sub.ID, f.ID); err != nil {
			h.t.Fatal(err)
		}
	}
}

func TestGroupConversation(t *testing.T) {
	h := newHarness(t, options{})
	h.start()
	if cmds := h.fake.Commands(); len(cmds) != len(bot.Commands()) || cmds[0].Command != bot.Commands()[0].Name {
		t.Errorf("command menu = %+v", cmds)
	}
	world := h.feeds.feed("world", 3)

	// A member may not subscribe; an administrator may, with /cmd@bot.
	got := h.say(group, member, "/subscribe@herald_test_bot "+world, 1)
	expect(t, got[0], "Only chat administrators can use /subscribe here.")
	got = h.say(group, admin, "/subscribe@herald_test_bot "+world+" world", 1)
	expect(t, got[0], "Subscribed to world (3 articles).")
	sub, err := h.st.FindSubscription(context.Background(), digest.PlatformTelegram, strconv.FormatInt(group, 10), "")
	if err != nil || len(sub.FeedIDs) != 1 {
		t.Fatalf("subscription after /subscribe: %+v, %v", sub, err)
	}

	// A command for another bot is none of Herald's business: the next
	// reply answers the command after it.
	h.fake.SendText(group, member, "/feeds@other_bot")
	got = h.say(group, member, "/help", 1)
	expect(t, got[0], "Commands:", "/subscribe URL [name]")
	if n := len(h.fake.Sent(group)); n != 3 {
		t.Errorf("the bot sent %d messages, want 3: /feeds@other_bot was answered", n)
	}

	// Paging through 25 feeds with the inline keyboard edits one message.
	h.subscribeMany(group, "", 24)
	got = h.say(group, member, "/feeds", 1)
	page := got[0]
	expect(t, page, "This chat follows 25 feeds", "Page 1 of 3", "• world — ok, 3 articles")
	if b := buttons(page); len(b) != 1 || b[0] != "feeds:2" {
		t.Fatalf("first page buttons %v", b)
	}
	if !strings.Contains(page.HTML, `<a href="`+world+`">world</a>`) {
		t.Errorf("feed not linked: %s", page.HTML)
	}
	for i, press := range []struct {
		data, want string
		buttons    []string
	}{
		{"feeds:2", "Page 2 of 3", []string{"feeds:1", "feeds:3"}},
		{"feeds:3", "Page 3 of 3", []string{"feeds:2"}},
		{"feeds:2", "Page 2 of 3", []string{"feeds:1", "feeds:3"}},
	} {
		h.fake.PressButton(group, page.ID, member, press.data)
		h.fake.Wait("the page to change", func() bool {
			m, _ := h.fake.Message(group, page.ID)
			return m.Edits == i+1
		})
		m, _ := h.fake.Message(group, page.ID)
		expect(t, m, press.want)
		if b := buttons(m); fmt.Sprint(b) != fmt.Sprint(press.buttons) {
			t.Errorf("after %s: buttons %v, want %v", press.data, b, press.buttons)
		}
	}
	h.fake.Wait("every press answered", func() bool { return len(h.fake.CallbackAnswers()) == 3 })
	if n := len(h.fake.Sent(group)); n != 4 {
		t.Errorf("paging sent new messages: %d in the chat, want 4", n)
	}

	// A digest on demand, and a schedule set by the administrator only.
	got = h.say(group, member, "/digest 24h", 1)
	expect(t, got[0], "Herald digest", "world story 1 & more", "world story 3 & more")
	if !strings.Contains(got[0].HTML, `<a href="https://world.example/story/1">`) || strings.Contains(got[0].Text, "&amp;") {
		t.Errorf("digest HTML: %s", got[0].HTML)
	}
	got = h.say(group, member, "/schedule daily 07:30", 1)
	expect(t, got[0], "Only chat administrators can change the schedule here.")
	got = h.say(group, admin, "/schedule daily 07:30", 1)
	expect(t, got[0], "Done. Digests arrive every day at 07:30 (UTC).", "30 7 * * *", "Next digests")
	if !strings.Contains(got[0].HTML, "<code>30 7 * * *</code>") {
		t.Errorf("schedule not shown as code: %s", got[0].HTML)
	}

	// One getChatMember per user per minute, however many commands.
	if calls := h.fake.Calls("getChatMember"); len(calls) != 2 {
		t.Errorf("getChatMember called %d times, want 2 (admin and member, cached)", len(calls))
	}
	// Everything the bot sent went through the outbox and is recorded
	// (7 replies, 3 page edits), once Telegram confirmed it.
	h.fake.Wait("10 messages marked sent in the outbox", func() bool {
		sent, err := h.st.ListOutbox(context.Background(), digest.OutboxFilter{ChatID: strconv.FormatInt(group, 10), Status: digest.OutboxSent})
		return err == nil && len(sent) == 10
	})
}

func TestDirectMessage(t *testing.T) {
	h := newHarness(t, options{})
	h.start()
	got := h.say(dmUser, dmUser, "hello there", 1)
	expect(t, got[0], "I answer commands. Send /help to see them.")
	got = h.say(dmUser, dmUser, "/subscribe "+h.feeds.feed("tech", 2), 1)
	expect(t, got[0], "Subscribed to tech news (2 articles).")
	h.subscribeMany(dmUser, "", 24)
	got = h.say(dmUser, dmUser, "/feeds", 1)
	expect(t, got[0], "This chat follows 25 feeds", "Page 1 of 3")
	h.fake.PressButton(dmUser, got[0].ID, dmUser, "feeds:2")
	h.fake.Wait("page 2", func() bool { m, _ := h.fake.Message(dmUser, got[0].ID); return m.Edits == 1 })
	m, _ := h.fake.Message(dmUser, got[0].ID)
	expect(t, m, "Page 2 of 3")
	// In a private chat nobody is asked about administrators.
	if calls := h.fake.Calls("getChatMember"); len(calls) != 0 {
		t.Errorf("getChatMember called in a private chat: %+v", calls)
	}
	// /export sends the OPML as a document captioned with the reply.
	got = h.say(dmUser, dmUser, "/export", 1)
	if got[0].Document == nil || got[0].Document.Name != "herald-feeds.opml" || !bytes.Contains(got[0].Document.Data, []byte("<opml")) {
		t.Fatalf("export = %+v", got[0])
	}
	expect(t, got[0], "25 feeds of this chat, as OPML.")
}

func TestStaleButtonAnswersWithNotification(t *testing.T) {
	h := newHarness(t, options{})
	h.start()
	h.say(dmUser, dmUser, "/subscribe "+h.feeds.feed("tech", 1), 1)
	h.subscribeMany(dmUser, "", 12)
	page := h.say(dmUser, dmUser, "/feeds", 1)[0]
	// The chat core no longer understands the button (as after an
	// upgrade changed the data): the answer is a notification, not a
	// message.
	ctx := context.Background()
	sub, _ := h.st.FindSubscription(ctx, digest.PlatformTelegram, strconv.Itoa(dmUser), "")
	if err := h.st.DeleteSubscription(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	h.fake.PressButton(dmUser, page.ID, dmUser, "feeds:2")
	h.fake.Wait("the press to be answered", func() bool { return len(h.fake.CallbackAnswers()) == 1 })
	if a := h.fake.CallbackAnswers()[0]; !strings.Contains(a.Text, "follows no feeds") {
		t.Errorf("answer = %+v, want the refusal as a notification", a)
	}
	time.Sleep(100 * time.Millisecond) // a wrongly sent message would arrive now
	if n := len(h.fake.Sent(dmUser)); n != 2 {
		t.Errorf("%d messages in the chat, want 2: the refusal went out as a message", n)
	}
}

func TestForumTopicAndChannel(t *testing.T) {
	h := newHarness(t, options{})
	h.fake.AddChat(telegramtest.Chat{ID: forum, Type: "supergroup", Title: "Forum", IsForum: true})
	h.fake.SetMember(forum, admin, telegramtest.StatusCreator)
	h.fake.AddTopic(forum, topic, "News")
	h.fake.AddChat(telegramtest.Chat{ID: channel, Type: "channel", Title: "Herald channel"})
	h.start()
	world := h.feeds.feed("world", 2)

	// A subscription made in a topic belongs to the topic, and replies go
	// there.
	before := len(h.fake.Sent(forum))
	h.fake.Post(telegramtest.Post{ChatID: forum, FromID: admin, ThreadID: topic, Text: "/subscribe " + world})
	got := h.fake.WaitSent(forum, before+1)[before]
	expect(t, got, "Subscribed to world news")
	if got.ThreadID != topic {
		t.Errorf("reply in thread %d, want %d", got.ThreadID, topic)
	}
	sub, err := h.st.FindSubscription(context.Background(), digest.PlatformTelegram, strconv.FormatInt(forum, 10), strconv.Itoa(topic))
	if err != nil {
		t.Fatalf("no subscription for the topic: %v", err)
	}
	got = h.say(forum, admin, "/feeds", 1)[0] // in General: its own, empty subscription
	expect(t, got, "follows no feeds yet")
	if got.ThreadID != 0 {
		t.Errorf("General's reply went to thread %d", got.ThreadID)
	}

	// A digest for the topic's subscription (as the scheduler enqueues
	// it) arrives in the topic.
	d, err := (&digest.Builder{Store: h.st, Now: time.Now}).Build(context.Background(), digest.BuildRequest{FeedIDs: sub.FeedIDs, Since: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	payloads, err := h.ad.RenderPayloads(&bot.Message{Digest: d})
	if err != nil {
		t.Fatal(err)
	}
	var parts []*digest.OutboxMessage
	for i, p := range payloads {
		parts = append(parts, &digest.OutboxMessage{Key: fmt.Sprintf("digest/%d/test/%d", sub.ID, i+1), Platform: sub.Platform, ChatID: sub.ChatID,
			ThreadID: sub.ThreadID, SubscriptionID: sub.ID, Part: i + 1, Parts: len(payloads), Kind: "digest", Payload: p})
	}
	// Counted before enqueueing: the outbox may send at once.
	before = len(h.fake.Sent(forum))
	if err := h.ob.Enqueue(context.Background(), parts); err != nil {
		t.Fatal(err)
	}
	dg := h.fake.WaitSent(forum, before+1)[before]
	expect(t, dg, "world story 1")
	if dg.ThreadID != topic {
		t.Errorf("digest in thread %d, want %d", dg.ThreadID, topic)
	}

	// In a channel, a post is by the channel's administrators.
	before = len(h.fake.Sent(channel))
	h.fake.ChannelPost(channel, "/subscribe "+world)
	expect(t, h.fake.WaitSent(channel, before+1)[before], "Subscribed to world news")

	// An anonymous group administrator may change settings.
	before = len(h.fake.Sent(forum))
	h.fake.Post(telegramtest.Post{ChatID: forum, AnonymousAdmin: true, Text: "/schedule daily 06:00"})
	expect(t, h.fake.WaitSent(forum, before+1)[before], "Done. Digests arrive every day at 06:00")
}

func TestLongDigestArrivesSplitAndIntact(t *testing.T) {
	// The chat core's clock stands still (an hour ahead, so that the
	// articles fetched now are inside the window), so that the digest
	// can be built again here exactly as /digest built it.
	now := time.Now().Add(time.Hour).Truncate(time.Second)
	h := newHarness(t, options{now: func() time.Time { return now }})
	h.feeds.summary = 400
	h.start()
	got := h.say(dmUser, dmUser, "/subscribe "+h.feeds.feed("long", 30), 1)
	expect(t, got[0], "(30 articles)")

	before := len(h.fake.Sent(dmUser))
	h.fake.SendText(dmUser, dmUser, "/digest")
	// The expected digest, built and rendered the same way.
	sub, err := h.st.FindSubscription(context.Background(), digest.PlatformTelegram, strconv.Itoa(dmUser), "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := (&digest.Builder{Store: h.st, Now: h.now}).Build(context.Background(), digest.BuildRequest{
		FeedIDs: sub.FeedIDs, Since: now.Add(-24 * time.Hour), Until: now, Limit: 40, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	want := render.Telegram(*d)
	if len(want) < 2 {
		t.Fatalf("the digest fits in %d message; the test needs a longer one", len(want))
	}
	parts := h.fake.WaitSent(dmUser, before+len(want))[before:]
	if len(parts) != len(want) {
		t.Fatalf("got %d parts, want %d", len(parts), len(want))
	}
	var gotText, wantText strings.Builder
	for i, p := range parts {
		if n := utf16Len(p.Text); n > 4096 {
			t.Errorf("part %d has %d characters", i+1, n)
		}
		w, err := telegramtest.PlainText(want[i])
		if err != nil {
			t.Fatal(err)
		}
		gotText.WriteString(p.Text)
		wantText.WriteString(w)
	}
	if gotText.String() != wantText.String() {
		t.Errorf("the parts do not add up to the digest:\ngot  %q\nwant %q", gotText.String(), wantText.String())
	}
	total := 0
	for i := 1; i <= 30; i++ {
		total += strings.Count(gotText.String(), fmt.Sprintf("long story %d & more", i))
	}
	if total != 30 {
		t.Errorf("%d story headlines in the parts, want each of the 30 once", total)
	}
}

// utf16Len counts like Telegram: UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func TestRetryAfterDelaysThenDelivers(t *testing.T) {
	h := newHarness(t, options{})
	h.start()
	h.fake.RateLimit(dmUser, 1, 1)
	got := h.say(dmUser, dmUser, "/help", 1)
	expect(t, got[0], "Commands:")
	// The fake records a call once it has answered it.
	h.fake.Wait("two sendMessage calls on record", func() bool { return len(h.fake.Calls("sendMessage")) >= 2 })
	calls := h.fake.Calls("sendMessage")
	if len(calls) != 2 || calls[0].Code != 429 || calls[1].Code != 200 {
		t.Fatalf("sendMessage calls %+v, want a 429 then a success", calls)
	}
	if wait := calls[1].At.Sub(calls[0].At); wait < time.Second {
		t.Errorf("retried after %s, before retry_after (1s) elapsed", wait)
	}
	h.fake.Wait("the reply marked sent on the second attempt", func() bool {
		sent, _ := h.st.ListOutbox(context.Background(), digest.OutboxFilter{ChatID: strconv.Itoa(dmUser)})
		return len(sent) == 1 && sent[0].Status == digest.OutboxSent && sent[0].Attempts == 2
	})
}

func TestForbiddenMarksChatInactiveUntilItComesBack(t *testing.T) {
	h := newHarness(t, options{})
	h.start()
	h.say(dmUser, dmUser, "/subscribe "+h.feeds.feed("tech", 1), 1)
	h.fake.Block(dmUser)
	msg := &bot.Message{Blocks: []bot.Block{{Kind: bot.Paragraph, Text: "The feed tech has been failing since yesterday."}}}
	payloads, err := h.ad.RenderPayloads(msg)
	if err != nil {
		t.Fatal(err)
	}
	chatID := strconv.Itoa(dmUser)
	if err := h.ob.Enqueue(context.Background(), []*digest.OutboxMessage{{Key: "notice/test/1", Platform: digest.PlatformTelegram,
		ChatID: chatID, Part: 1, Parts: 1, Kind: "notice", Payload: payloads[0]}}); err != nil {
		t.Fatal(err)
	}
	var chat *digest.Chat
	h.fake.Wait("the chat to become inactive", func() bool {
		chat, err = h.st.FindChat(context.Background(), digest.PlatformTelegram, chatID)
		return err == nil && !chat.Active
	})
	if !strings.Contains(chat.Inactive, "blocked by the user") {
		t.Errorf("reason %q", chat.Inactive)
	}
	if subs, _ := h.st.ListSubscriptions(context.Background(), digest.SubscriptionFilter{Scheduled: true}); len(subs) != 0 {
		t.Errorf("schedules of an inactive chat still listed: %+v", subs)
	}
	// The user unblocks the bot and writes again: the chat is back.
	h.fake.Unblock(dmUser)
	expect(t, h.say(dmUser, dmUser, "/status", 1)[0], "Feeds: 1 ok")
	if chat, _ := h.st.FindChat(context.Background(), digest.PlatformTelegram, chatID); !chat.Active {
		t.Error("the chat stayed inactive after the user wrote again")
	}
	// A my_chat_member update (the user blocks the bot again) is enough.
	h.fake.SetBotStatus(dmUser, telegramtest.StatusKicked, dmUser)
	h.fake.Wait("the chat to become inactive again", func() bool {
		c, err := h.st.FindChat(context.Background(), digest.PlatformTelegram, chatID)
		return err == nil && !c.Active
	})
}

func TestMigrationServiceMessageIsFollowed(t *testing.T) {
	h := newHarness(t, options{})
	const old, super = int64(-500), int64(-100500)
	h.fake.AddChat(telegramtest.Chat{ID: old, Type: "group", Title: "Small team"})
	h.fake.SetMember(old, admin, telegramtest.StatusCreator)
	h.start()
	h.say(old, admin, "/subscribe "+h.feeds.feed("world", 1), 1)
	h.fake.Migrate(old, super, true) // Telegram tells the bot in both chats
	h.fake.Wait("the subscription to move", func() bool {
		_, err := h.st.FindSubscription(context.Background(), digest.PlatformTelegram, strconv.FormatInt(super, 10), "")
		return err == nil
	})
	expect(t, h.say(super, admin, "/feeds", 1)[0], "This chat follows 1 feed")
}

func TestMigrationFollowedBySend(t *testing.T) {
	h := newHarness(t, options{})
	const old = int64(-700)
	h.fake.AddChat(telegramtest.Chat{ID: old, Type: "group", Title: "Small team"})
	h.fake.SetMember(old, admin, telegramtest.StatusCreator)
	h.start()
	h.say(old, admin, "/subscribe "+h.feeds.feed("world", 1), 1)
	h.fake.Migrate(old, -100700, false) // no service message reaches Herald
	payloads, _ := h.ad.RenderPayloads(&bot.Message{Blocks: []bot.Block{{Text: "Digest time"}}})
	if err := h.ob.Enqueue(context.Background(), []*digest.OutboxMessage{{Key: "notice/migrate/1", Platform: digest.PlatformTelegram,
		ChatID: strconv.FormatInt(old, 10), Part: 1, Parts: 1, Kind: "notice", Payload: payloads[0]}}); err != nil {
		t.Fatal(err)
	}
	expect(t, h.fake.WaitSent(-100700, 1)[0], "Digest time")
	if _, err := h.st.FindSubscription(context.Background(), digest.PlatformTelegram, "-100700", ""); err != nil {
		t.Errorf("subscription not moved to the supergroup: %v", err)
	}
}

func TestOffsetsPersistAcrossRestart(t *testing.T) {
	h := newHarness(t, options{})
	h.start()
	h.say(dmUser, dmUser, "/help", 1)
	h.say(dmUser, dmUser, "/start", 1)
	h.stop()
	lastID := h.fake.LastUpdateID()
	key := "telegram/7000000001/update_offset"
	if v, err := h.st.State(context.Background(), key); err != nil || v != strconv.Itoa(lastID+1) {
		t.Fatalf("stored offset %q, %v; want %d", v, err, lastID+1)
	}

	// A new adapter on the same store picks up where the first stopped.
	ad2, err := telegram.New(telegram.Config{Token: h.fake.Token, APIURL: h.fake.URL(), Bot: h.core, Outbox: h.ob, State: h.st, Chats: h.st,
		PollTimeout: time.Second, Logger: h.logger})
	if err != nil {
		t.Fatal(err)
	}
	h.ad = ad2
	offsetsBefore := len(h.fake.UpdateOffsets())
	h.start()
	h.say(dmUser, dmUser, "/status", 1)
	offsets := h.fake.UpdateOffsets()[offsetsBefore:]
	if len(offsets) == 0 || offsets[0] != lastID+1 {
		t.Errorf("the restarted adapter polled from offset %v, want %d first", offsets, lastID+1)
	}
	for id := lastID - 1; id <= lastID; id++ {
		if n := h.fake.Deliveries(id); n != 1 {
			t.Errorf("update %d delivered %d times", id, n)
		}
	}
	if n := len(h.fake.Sent(dmUser)); n != 3 {
		t.Errorf("%d replies, want 3", n)
	}
}

func TestWebhookChecksSecret(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hookURL := "http://" + ln.Addr().String() + "/tg"
	h := newHarness(t, options{webhook: &telegram.WebhookConfig{URL: hookURL, Listener: ln, Path: "/tg", SecretToken: "s3cret-token"}})
	h.start()
	h.fake.Wait("the webhook to be registered", func() bool { return h.fake.Webhook().URL == hookURL })
	if hook := h.fake.Webhook(); hook.SecretToken != "s3cret-token" {
		t.Errorf("webhook registered with secret %q", hook.SecretToken)
	}

	// Telegram delivers with the secret: the command is answered.
	expect(t, h.say(dmUser, dmUser, "/help", 1)[0], "Commands:")

	// Anybody else is refused, and nothing is handled.
	body, _ := json.Marshal(map[string]any{"update_id": 999999, "message": map[string]any{
		"message_id": 50, "date": 1, "text": "/help", "chat": map[string]any{"id": dmUser, "type": "private"},
		"from": map[string]any{"id": dmUser, "first_name": "Dee"}}})
	for _, secret := range []string{"", "wrong", "S3CRET-TOKEN", "s3cret-token-and-more"} {
		req, _ := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(body))
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("secret %q: status %d, want 401", secret, resp.StatusCode)
		}
	}
	// A delivery Telegram repeats is handled once.
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	h.fake.WaitSent(dmUser, 2)
	time.Sleep(100 * time.Millisecond)
	if n := len(h.fake.Sent(dmUser)); n != 2 {
		t.Errorf("%d replies, want 2 (one per distinct update)", n)
	}
	if n := len(h.fake.Calls("getUpdates")); n != 0 {
		t.Errorf("getUpdates called %d times in webhook mode", n)
	}
}

func TestTokenNeverLeaks(t *testing.T) {
	h := newHarness(t, options{})
	h.start()
	h.say(dmUser, dmUser, "/subscribe "+h.feeds.feed("tech", 1), 1)

	// A send fails on the network: net/http words the error with the
	// request URL, which holds the token. The error reaches the outbox,
	// the log and /status, which shows the last problem to the chat.
	// Twice, so that the reply is still waiting (for its third attempt,
	// 2s±25% later) when /status looks.
	h.fake.DropNext("sendMessage")
	h.fake.DropNext("sendMessage")
	h.fake.SendText(dmUser, dmUser, "/help")
	h.fake.Wait("two failed attempts on record", func() bool {
		msgs, _ := h.st.ListOutbox(context.Background(), digest.OutboxFilter{Status: digest.OutboxPending})
		return len(msgs) == 1 && msgs[0].Attempts == 2
	})
	got := h.say(dmUser, dmUser, "/status", 2) // the /help reply, retried, then the status
	status := got[1]
	expect(t, status, "1 message is waiting to be delivered; last problem: telegram sendMessage:", "/bot<token>/sendMessage")
	for _, m := range h.fake.Sent(dmUser) {
		if strings.Contains(m.Text, h.fake.Token) || strings.Contains(m.Text, "7000000001:") {
			t.Errorf("a reply holds the token: %q", m.Text)
		}
	}
	if !strings.Contains(h.logs.String(), "/bot<token>/sendMessage") {
		t.Error("the failed send is not in the log")
	}

	// An adapter pointed at a dead address: getMe fails on the network.
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	ad, err := telegram.New(telegram.Config{Token: h.fake.Token, APIURL: deadURL, Bot: h.core, Logger: h.logger, PollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ad.Send(context.Background(), &digest.OutboxMessage{ChatID: "1", Payload: []byte(`{"method":"sendMessage","text":"x"}`)})
	if err == nil || strings.Contains(err.Error(), h.fake.Token) || !strings.Contains(err.Error(), "<token>") {
		t.Errorf("Send error %v: want a network error without the token", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := ad.Run(ctx); err != nil {
		t.Errorf("Run against a dead address: %v, want retries until cancelled", err)
	}
	if !strings.Contains(h.logs.String(), "cannot reach Telegram") {
		t.Error("the failed getMe was not logged")
	}
	// A refused token ends Run with an error that does not show it.
	bad, err := telegram.New(telegram.Config{Token: "7000000001:not-the-token", APIURL: h.fake.URL(), Bot: h.core, Logger: h.logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "refused the token") || strings.Contains(err.Error(), "not-the-token") {
		t.Errorf("Run with a wrong token: %v", err)
	}
	// The cleanup checks the log for the token.
}

func TestOutboxLimitsForGroups(t *testing.T) {
	// Telegram's limit of 20 messages a minute in a group holds for any
	// minute, including the first (the burst).
	l := telegram.Limits()
	if !l.IsGroup("-1001") || l.IsGroup("42") {
		t.Fatal("IsGroup does not tell groups (negative ids) from users")
	}
	lim := rate.NewLimiter(l.PerGroup, l.PerGroupBurst)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var sent []time.Time
	for t0 := start; t0.Before(start.Add(5 * time.Minute)); t0 = t0.Add(100 * time.Millisecond) {
		if lim.AllowN(t0, 1) {
			sent = append(sent, t0)
		}
	}
	for i := range sent {
		n := 0
		for _, s := range sent[i:] {
			if s.Sub(sent[i]) < time.Minute {
				n++
			}
		}
		if n > 20 {
			t.Fatalf("%d messages in the minute from %s", n, sent[i].Sub(start))
		}
	}
	if len(sent) < 5*17 {
		t.Errorf("only %d messages in 5 minutes: the limit is needlessly strict", len(sent))
	}
}

func TestPollingSurvivesTelegramErrors(t *testing.T) {
	h := newHarness(t, options{})
	h.fake.FailNext("getUpdates", 502, "Bad Gateway")
	h.start()
	expect(t, h.say(dmUser, dmUser, "/help", 1)[0], "Commands:")
	logs := h.logs.String()
	if !strings.Contains(logs, "cannot get updates; retrying") || !strings.Contains(logs, `"failed_attempts":1`) {
		t.Errorf("failures and recovery not logged:\n%s", logs)
	}
}

func TestWithoutOutboxRepliesDirectly(t *testing.T) {
	h := newHarness(t, options{})
	ad, err := telegram.New(telegram.Config{Token: h.fake.Token, APIURL: h.fake.URL(), Bot: h.core, State: h.st, PollTimeout: time.Second, Logger: h.logger})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ad.Run(ctx) }()
	expect(t, h.say(dmUser, dmUser, "/help", 1)[0], "Commands:")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if msgs, _ := h.st.ListOutbox(context.Background(), digest.OutboxFilter{}); len(msgs) != 0 {
		t.Errorf("%d outbox messages without an outbox", len(msgs))
	}
}

// BenchmarkCommandRoundTrip measures a command from the user's message to
// the bot's reply in the fake server: long poll, getChatMember (cached),
// the chat core, the outbox (SQLite) and sendMessage.
func BenchmarkCommandRoundTrip(b *testing.B) {
	h := newHarness(b, options{})
	h.start()
	h.say(group, member, "/help", 1) // warm the admin cache and the connections
	b.ResetTimer()
	for b.Loop() {
		h.say(group, member, "/help", 1)
	}
}

// hasCommand reports whether the chat core has a command.
func hasCommand(name string) bool {
	for _, c := range bot.Commands() {
		if c.Name == name {
			return true
		}
	}
	return false
}

func TestSearchPagesWithInlineKeyboard(t *testing.T) {
	if !hasCommand("search") {
		t.Skip("the chat core has no /search command yet (paging is tested with /feeds)")
	}
	h := newHarness(t, options{})
	h.start()
	h.say(group, admin, "/subscribe "+h.feeds.feed("harbour", 12), 1)

	// In the group, a member searches and pages; the results message is
	// edited in place.
	page := h.say(group, member, "/search harbour story", 1)[0]
	expect(t, page, "Results for “harbour story”, page 1", "harbour story")
	if b := buttons(page); len(b) != 1 || !strings.HasPrefix(b[0], "search:") {
		t.Fatalf("page 1 buttons %v, want Next", b)
	}
	first := page.Text
	h.fake.PressButton(group, page.ID, member, buttons(page)[0])
	h.fake.Wait("page 2", func() bool { m, _ := h.fake.Message(group, page.ID); return m.Edits == 1 })
	p2, _ := h.fake.Message(group, page.ID)
	expect(t, p2, "page 2")
	if p2.Text == first || len(buttons(p2)) != 2 {
		t.Errorf("page 2 = %q with buttons %v, want other results with Previous and Next", p2.Text, buttons(p2))
	}
	if !strings.Contains(p2.HTML, `<a href="https://harbour.example/story/`) {
		t.Errorf("results are not linked: %s", p2.HTML)
	}

	// In a DM, anyone may search.
	expect(t, h.say(dmUser, dmUser, "/search harbour", 1)[0], "Results for “harbour”, page 1")
	expect(t, h.say(dmUser, dmUser, "/search zeppelin", 1)[0], "Nothing found")
}

// sharedUpdates is the UpdateClaims of replicas sharing a store, in
// memory: updates being handled (by whom) and handled.
type sharedUpdates struct {
	mu       sync.Mutex
	handling map[int]string
	done     map[int]bool
}

// replicaUpdates is one process's view of sharedUpdates.
type replicaUpdates struct {
	s    *sharedUpdates
	name string
}

func (r replicaUpdates) Begin(ctx context.Context, id int) (bool, bool, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if r.s.done[id] {
		return false, true, nil
	}
	if h, ok := r.s.handling[id]; ok && h != r.name {
		return false, false, nil
	}
	r.s.handling[id] = r.name
	return true, false, nil
}

func (r replicaUpdates) Done(ctx context.Context, id int) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.s.done[id] = true
	delete(r.s.handling, id)
	return nil
}

// TestWebhookUpdatesSharedBetweenReplicas: with several replicas behind a
// load balancer, an update another replica handled is not handled again,
// and one another replica is handling is refused with 503, so that
// Telegram delivers it again later.
func TestWebhookUpdatesSharedBetweenReplicas(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hookURL := "http://" + ln.Addr().String() + "/tg"
	shared := &sharedUpdates{handling: map[int]string{}, done: map[int]bool{}}
	h := newHarness(t, options{
		webhook: &telegram.WebhookConfig{URL: hookURL, Listener: ln, Path: "/tg", SecretToken: "s3cret-token"},
		updates: replicaUpdates{shared, "this"},
	})
	h.start()
	h.fake.Wait("the webhook to be registered", func() bool { return h.fake.Webhook().URL == hookURL })
	deliver := func(id int) int {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"update_id": id, "message": map[string]any{
			"message_id": id, "date": 1, "text": "/help", "chat": map[string]any{"id": dmUser, "type": "private"},
			"from": map[string]any{"id": dmUser, "first_name": "Dee"}}})
		req, _ := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	shared.done[500] = true          // handled by another replica
	shared.handling[501] = "another" // being handled by another replica
	if code := deliver(500); code != http.StatusOK {
		t.Errorf("an update another replica handled: status %d, want 200", code)
	}
	if code := deliver(501); code != http.StatusServiceUnavailable {
		t.Errorf("an update another replica is handling: status %d, want 503", code)
	}
	if code := deliver(502); code != http.StatusOK {
		t.Errorf("a new update: status %d, want 200", code)
	}
	h.fake.WaitSent(dmUser, 1)
	// The other replica died: its claim expired, and Telegram delivers
	// the update again.
	shared.mu.Lock()
	delete(shared.handling, 501)
	shared.mu.Unlock()
	if code := deliver(501); code != http.StatusOK {
		t.Errorf("the dead replica's update again: status %d, want 200", code)
	}
	h.fake.WaitSent(dmUser, 2)
	if code := deliver(502); code != http.StatusOK {
		t.Errorf("a handled update again: status %d, want 200", code)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(h.fake.Sent(dmUser)); n != 2 {
		t.Errorf("%d replies, want 2 (updates 501 and 502, once each)", n)
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.done[501] || !shared.done[502] {
		t.Errorf("handled updates not recorded: %v", shared.done)
	}
}
