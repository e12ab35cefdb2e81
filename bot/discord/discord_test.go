package discord_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/bot/discord"
	"github.com/seed-c50b6fda/herald/bot/discord/discordtest"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

// token is the bot token of every test: recognisable, so that a leak into
// logs or messages is found.
const token = "MTIzNDU2.SECRET-bot-token.do-not-leak"

// Channels of the fake: a server with a text channel, a thread in it, a
// forum with a post, and a DM.
const (
	guild    = "800000000000000001"
	text     = "810000000000000001"
	thread   = "810000000000000002"
	forum    = "810000000000000003"
	post     = "810000000000000004"
	dmChan   = "810000000000000005"
	gone     = "810000000000000006"
	blocked  = "810000000000000007"
	readOnly = "810000000000000008"
)

var (
	admin  = discordtest.User{ID: "900000000000000001", Name: "ada", Permissions: discordtest.PermManageChannels | discordtest.PermSendMessages}
	owner  = discordtest.User{ID: "900000000000000002", Name: "olga", Permissions: discordtest.PermAdministrator}
	member = discordtest.User{ID: "900000000000000003", Name: "mia", Permissions: discordtest.PermSendMessages}
)

// fakeFeeds stands in for fetching: it takes a moment, as a fetch does,
// then stores the feed, or refuses the host broken.example the way a
// failed fetch does.
type fakeFeeds struct{ st digest.Store }

func (f fakeFeeds) AddFeed(ctx context.Context, u, name string) (*digest.Feed, error) {
	select {
	case <-time.After(200 * time.Millisecond):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if strings.Contains(u, "broken.example") {
		return nil, digest.Errorf(digest.EUNAVAILABLE, "%s: not a feed (an HTML page)", u)
	}
	feed := &digest.Feed{URL: u, Name: name, Title: "Title of " + u}
	return feed, f.st.CreateFeed(ctx, feed)
}

func canonical(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", digest.Errorf(digest.EINVALID, "%q is not an http or https address", s)
	}
	u.Host = strings.ToLower(u.Host)
	return u.String(), nil
}

func parseSchedule(s string) (string, string, error) {
	var h, m int
	if s == "off" {
		return "", "off", nil
	}
	if _, err := fmt.Sscanf(s, "daily %d:%d", &h, &m); err == nil {
		return fmt.Sprintf("%d %d * * *", m, h), fmt.Sprintf("every day at %02d:%02d", h, m), nil
	}
	return "", "", digest.Errorf(digest.EINVALID, "%q is not a schedule; try daily 08:00", s)
}

func nextRuns(spec string, loc *time.Location, after time.Time, n int) []time.Time {
	var out []time.Time
	for t := after.Truncate(time.Hour).Add(time.Hour); len(out) < n; t = t.Add(24 * time.Hour) {
		out = append(out, t)
	}
	return out
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is the real adapter, chat core, outbox and SQLite store against a
// fake Discord.
type env struct {
	t       *testing.T
	fake    *discordtest.Server
	st      *sqlite.DB
	bot     *bot.Bot
	outbox  *bot.Outbox
	adapter *discord.Adapter
	logs    *syncBuffer
	runErr  chan error
	stop    context.CancelFunc
	stopped bool
}

type envOptions struct {
	guildID     string
	shardID     int
	shardCount  int
	fakeToken   string // the token the fake accepts; default token
	noWaitReady bool
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	fakeToken := o.fakeToken
	if fakeToken == "" {
		fakeToken = token
	}
	fake := discordtest.New(t, discordtest.Options{Token: fakeToken, HeartbeatInterval: 100 * time.Millisecond})
	for _, c := range []discordtest.Channel{
		{ID: text, Type: discordtest.GuildText, GuildID: guild, Name: "news"},
		{ID: thread, Type: discordtest.PublicThread, GuildID: guild, ParentID: text, Name: "world desk"},
		{ID: forum, Type: discordtest.GuildForum, GuildID: guild, Name: "digests"},
		{ID: post, Type: discordtest.PublicThread, GuildID: guild, ParentID: forum, Name: "setup"},
		{ID: dmChan, Type: discordtest.DM, Name: ""},
		{ID: blocked, Type: discordtest.GuildText, GuildID: guild, Name: "private", Forbidden: true},
		{ID: readOnly, Type: discordtest.GuildText, GuildID: guild, Name: "announcements", BotPermissions: discordtest.PermViewChannel},
	} {
		fake.AddChannel(c)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b := bot.New(bot.Deps{
		Store: st, Feeds: fakeFeeds{st}, FeedURL: canonical, ArticleURL: canonical,
		ParseSchedule: parseSchedule, NextRuns: nextRuns, DefaultSchedule: "0 8 * * *", DefaultTimeZone: "UTC",
		DigestLimit: 20, CommandEvery: time.Millisecond, CommandBurst: 1000, Logger: logger,
	})
	ob := bot.NewOutbox(bot.OutboxConfig{Store: st, Logger: logger, ShutdownGrace: time.Second})
	ad, err := discord.New(discord.Config{
		Token: token, APIURL: fake.URL, GuildID: o.guildID, ShardID: o.shardID, ShardCount: o.shardCount,
		Bot: b, Outbox: ob, Store: st, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	ob.Register(digest.PlatformDiscord, ad, discord.Limits())
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{t: t, fake: fake, st: st, bot: b, outbox: ob, adapter: ad, logs: logs, runErr: make(chan error, 1), stop: cancel}
	obDone := make(chan struct{})
	go func() {
		defer close(obDone)
		ob.Run(ctx)
	}()
	if ad.Ready() {
		t.Fatal("Ready before Run")
	}
	go func() { e.runErr <- ad.Run(ctx) }()
	t.Cleanup(func() {
		e.shutdown()
		<-obDone
		e.checkNoToken()
	})
	if !o.noWaitReady {
		fake.WaitReady(t)
		// The adapter has its session once it has read READY.
		fake.Eventually(t, 5*time.Second, "the adapter's session", func() bool {
			return strings.Contains(logs.String(), "gateway session ready") && ad.Ready()
		})
	}
	return e
}

// shutdown stops the adapter and fails the test when it does not return
// promptly.
func (e *env) shutdown() error {
	e.t.Helper()
	e.stop()
	if e.stopped {
		return nil
	}
	e.stopped = true
	select {
	case err := <-e.runErr:
		return err
	case <-time.After(5 * time.Second):
		e.t.Fatal("Run did not return within 5s of its context ending")
		return nil
	}
}

// checkNoToken fails if the token shows anywhere but in the
// Authorization header and the gateway identify: logs, and every request
// body the fake received.
func (e *env) checkNoToken() {
	e.t.Helper()
	if strings.Contains(e.logs.String(), token) || strings.Contains(e.logs.String(), "SECRET-bot-token") {
		e.t.Errorf("the bot token appears in the logs:\n%s", e.logs.String())
	}
	for _, r := range e.fake.Requests() {
		if strings.Contains(string(r.Body), "SECRET-bot-token") {
			e.t.Errorf("the bot token appears in a %s body", r.Route)
		}
	}
}

func (e *env) invoke(u discordtest.User, channel, command string, opts ...discordtest.Option) *discordtest.Interaction {
	e.t.Helper()
	return e.fake.Invoke(e.t, discordtest.Invocation{Command: command, Options: opts, ChannelID: channel, User: u})
}

func opt(name, value string) discordtest.Option { return discordtest.Option{Name: name, Value: value} }

// contains fails unless text holds each of want.
func contains(tb testing.TB, what, text string, want ...string) {
	tb.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			tb.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// feeds creates n feeds titled "Feed 00", "Feed 01" … and returns their
// ids.
func (e *env) feeds(n int) []int64 {
	e.t.Helper()
	var ids []int64
	for i := range n {
		f := &digest.Feed{URL: fmt.Sprintf("https://f%02d.example/rss", i), Title: fmt.Sprintf("Feed %02d", i)}
		if err := e.st.CreateFeed(context.Background(), f); err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, f.ID)
	}
	return ids
}

// follow subscribes a chat (or thread) to feeds directly in the store.
func (e *env) follow(chatID, threadID string, feedIDs ...int64) *digest.Subscription {
	e.t.Helper()
	ctx := context.Background()
	if err := e.st.UpsertChat(ctx, &digest.Chat{Platform: digest.PlatformDiscord, ID: chatID, Kind: "group", Title: "#news"}); err != nil {
		e.t.Fatal(err)
	}
	sub := &digest.Subscription{Platform: digest.PlatformDiscord, ChatID: chatID, ThreadID: threadID, TimeZone: "UTC", Schedule: "0 8 * * *"}
	if err := e.st.CreateSubscription(ctx, sub); err != nil {
		e.t.Fatal(err)
	}
	for _, id := range feedIDs {
		if err := e.st.AddSubscriptionFeed(ctx, sub.ID, id); err != nil {
			e.t.Fatal(err)
		}
		sub.FeedIDs = append(sub.FeedIDs, id)
	}
	return sub
}

// seedStories stores n stories of two articles each in the feed with id
// feedID, published in the last hours, with long summaries.
func (e *env) seedStories(feedID int64, n int) {
	e.t.Helper()
	ctx := context.Background()
	now := time.Now()
	for i := range n {
		title := fmt.Sprintf("Story %d: the harbour bridge reopens after repairs *at last* @everyone", i+1)
		summary := strings.Repeat(fmt.Sprintf("Engineers finished the work on section %d ahead of schedule, the city said. ", i), 6)
		arts := []*digest.Article{
			{Key: fmt.Sprintf("s%d-a", i), URL: fmt.Sprintf("https://a.example/story-%d", i), Source: "Outlet A", Title: title,
				Summary: summary, Published: now.Add(-2 * time.Hour), FirstSeen: now.Add(-2 * time.Hour)},
			{Key: fmt.Sprintf("s%d-b", i), URL: fmt.Sprintf("https://b.example/story-%d", i), Source: "Outlet B", Title: title + " (update)",
				Summary: summary, Published: now.Add(-time.Hour), FirstSeen: now.Add(-time.Hour)},
		}
		if _, err := e.st.SaveArticles(ctx, feedID, arts); err != nil {
			e.t.Fatal(err)
		}
		if err := e.st.AssignStories(ctx, []digest.StoryAssignment{{ArticleID: arts[0].ID, StoryID: arts[0].ID},
			{ArticleID: arts[1].ID, StoryID: arts[0].ID}}, now); err != nil {
			e.t.Fatal(err)
		}
	}
}

func TestCommandsRegisteredOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, guildID string
	}{{"global", ""}, {"guild", guild}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{guildID: tc.guildID, shardID: 0, shardCount: 4})
			regs := e.fake.Registrations()
			if len(regs) != 1 {
				t.Fatalf("%d bulk overwrites, want 1", len(regs))
			}
			if regs[0].GuildID != tc.guildID {
				t.Errorf("commands registered in guild %q, want %q", regs[0].GuildID, tc.guildID)
			}
			got := map[string]discordtest.Command{}
			for _, c := range regs[0].Commands {
				got[c.Name] = c
				if len(c.Contexts) != 2 {
					t.Errorf("/%s usable in contexts %v, want servers and DMs", c.Name, c.Contexts)
				}
			}
			for _, c := range bot.Commands() {
				rc, ok := got[c.Name]
				if !ok {
					t.Errorf("/%s not registered", c.Name)
					continue
				}
				if rc.Description == "" {
					t.Errorf("/%s has no description", c.Name)
				}
				if (c.Args != "") != (len(rc.Options) > 0) {
					t.Errorf("/%s takes %q but has %d options", c.Name, c.Args, len(rc.Options))
				}
			}
			if len(got) != len(bot.Commands()) {
				t.Errorf("%d commands registered, the core has %d", len(got), len(bot.Commands()))
			}
			sub := got["subscribe"]
			if len(sub.Options) != 2 || sub.Options[0].Name != "url" || !sub.Options[0].Required || sub.Options[0].Type != 3 ||
				sub.Options[1].Required {
				t.Errorf("/subscribe options = %+v, want a required url and an optional name", sub.Options)
			}
			if un := got["unsubscribe"]; len(un.Options) != 1 || !un.Options[0].Autocomplete {
				t.Errorf("/unsubscribe options = %+v, want one with autocomplete", un.Options)
			}
			if f := got["filter"]; len(f.Options) != 2 || len(f.Options[0].Choices) != 3 {
				t.Errorf("/filter options = %+v, want an action with 3 choices and words", f.Options)
			}

			ids := e.fake.Identifies()
			if len(ids) != 1 {
				t.Fatalf("%d identifies, want 1", len(ids))
			}
			if fmt.Sprint(ids[0].Shard) != "[0 4]" || ids[0].Intents != 1 || !ids[0].TokenOK {
				t.Errorf("identify: shard %v, intents %d, token ok %v; want [0 4], guilds only (1), ok", ids[0].Shard, ids[0].Intents, ids[0].TokenOK)
			}
			// The fake asks for a heartbeat every 100ms and acknowledges
			// each; the connection stays up.
			e.fake.Eventually(t, 5*time.Second, "3 heartbeats", func() bool { return e.fake.Heartbeats() >= 3 })
			if n := e.fake.Connects(); n != 1 {
				t.Errorf("%d gateway connections, want 1", n)
			}
		})
	}
}

// TestOtherShardsLeaveCommandsAlone: with several shards, only shard 0
// registers the commands.
func TestOtherShardsLeaveCommandsAlone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{shardID: 2, shardCount: 3})
	if regs := e.fake.Registrations(); len(regs) != 0 {
		t.Errorf("shard 2 registered commands: %d bulk overwrites", len(regs))
	}
	if ids := e.fake.Identifies(); len(ids) != 1 || fmt.Sprint(ids[0].Shard) != "[2 3]" {
		t.Errorf("identifies = %+v, want shard [2 3]", ids)
	}
}

func TestSubscribePermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx := context.Background()

	ix := e.invoke(member, text, "subscribe", opt("url", "https://News.example/rss"))
	if typ := ix.Acked(t); typ != discordtest.ChannelMessage {
		t.Errorf("refusal answered with callback type %d, want an immediate message (4)", typ)
	}
	r := ix.Reply(t)
	if !r.Ephemeral() {
		t.Error("the refusal is visible to the whole channel; it should be ephemeral")
	}
	contains(t, "refusal", r.Text(), "Only chat administrators can use /subscribe")

	ix = e.invoke(admin, text, "subscribe", opt("url", "https://News.example/rss"), opt("name", "world"))
	if typ := ix.Acked(t); typ != discordtest.DeferredChannelMessage {
		t.Errorf("/subscribe answered with callback type %d, want deferred (5): it fetches", typ)
	}
	r = ix.Reply(t)
	contains(t, "subscribe reply", r.Text(), "Subscribed to world", "Digests: ")
	if r.Ephemeral() || r.Edits != 1 {
		t.Errorf("subscribe reply: ephemeral %v, edits %d; want the deferred response edited once, public", r.Ephemeral(), r.Edits)
	}
	sub, err := e.st.FindSubscription(ctx, digest.PlatformDiscord, text, "")
	if err != nil || len(sub.FeedIDs) != 1 {
		t.Fatalf("subscription = %+v, %v", sub, err)
	}

	// A failed fetch: the deferred "thinking…" goes, the error comes privately.
	ix = e.invoke(admin, text, "subscribe", opt("url", "https://broken.example/page"))
	r = ix.Reply(t)
	contains(t, "fetch failure", r.Text(), "not a feed")
	if !r.Ephemeral() {
		t.Error("the fetch failure is public; it should be ephemeral")
	}
	e.fake.Eventually(t, 5*time.Second, "the deferred response of a failed /subscribe deleted", ix.OriginalDeleted)

	// The Administrator permission is enough too.
	r = e.invoke(owner, text, "unsubscribe", opt("feed", "world")).Reply(t)
	contains(t, "unsubscribe", r.Text(), "Unsubscribed from world")

	// In a DM the user owns the chat.
	r = e.invoke(discordtest.User{ID: member.ID, Name: member.Name}, dmChan, "subscribe", opt("url", "https://dm.example/feed")).Reply(t)
	contains(t, "DM subscribe", r.Text(), "Subscribed to")
	if _, err := e.st.FindSubscription(ctx, digest.PlatformDiscord, dmChan, ""); err != nil {
		t.Errorf("DM subscription: %v", err)
	}
}

func TestFeedsPagingWithButtons(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.follow(text, "", e.feeds(25)...)

	ix := e.invoke(member, text, "feeds")
	if typ := ix.Acked(t); typ != discordtest.ChannelMessage {
		t.Errorf("/feeds answered with callback type %d, want 4", typ)
	}
	page := ix.Reply(t)
	contains(t, "page 1", page.Text(), "This chat follows 25 feeds", "Page 1 of 3", "Feed 00", "Feed 09")
	if len(page.Embeds) != 1 || page.Embeds[0].Title != "This chat follows 25 feeds" {
		t.Errorf("page 1 embeds = %+v, want one card titled with the heading", page.Embeds)
	}
	if len(page.Buttons) != 1 || page.Buttons[0].CustomID != "feeds:2" {
		t.Fatalf("page 1 buttons = %+v, want Next", page.Buttons)
	}

	press := e.fake.Press(t, page, "feeds:2", member)
	if typ := press.Acked(t); typ != discordtest.UpdateMessage {
		t.Errorf("button answered with callback type %d, want the message updated (7)", typ)
	}
	page = press.Reply(t)
	contains(t, "page 2", page.Text(), "Page 2 of 3", "Feed 10", "Feed 19")
	if strings.Contains(page.Text(), "Feed 09") {
		t.Error("page 2 still shows page 1")
	}
	if len(page.Buttons) != 2 || page.Buttons[0].CustomID != "feeds:1" || page.Buttons[1].CustomID != "feeds:3" {
		t.Errorf("page 2 buttons = %+v, want Previous and Next", page.Buttons)
	}
	page = e.fake.Press(t, page, "feeds:3", admin).Reply(t)
	contains(t, "page 3", page.Text(), "Page 3 of 3", "Feed 24")
	if len(page.Buttons) != 1 || page.Buttons[0].CustomID != "feeds:2" {
		t.Errorf("page 3 buttons = %+v, want Previous", page.Buttons)
	}
	if n := len(e.fake.Messages(text)); n != 1 {
		t.Errorf("%d messages in the channel after paging, want the one message updated in place", n)
	}
}

func TestDigestOnDemandAsEmbeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	sub := e.follow(text, "", e.feeds(1)...)
	e.seedStories(sub.FeedIDs[0], 14)

	ix := e.invoke(member, text, "digest", opt("since", "12h"))
	if typ := ix.Acked(t); typ != discordtest.DeferredChannelMessage {
		t.Errorf("/digest answered with callback type %d, want deferred (5)", typ)
	}
	first := ix.Reply(t)
	contains(t, "digest header", first.Content, "Herald digest")
	var replies []discordtest.Message
	e.fake.Eventually(t, 10*time.Second, "every story delivered", func() bool {
		replies = ix.Replies(t, 1)
		n := 0
		for _, r := range replies {
			n += len(r.Embeds)
		}
		return n >= 14
	})
	if len(replies) < 2 {
		t.Fatalf("a digest of 14 long stories in %d message(s); expected it split", len(replies))
	}
	stories := 0
	for i, r := range replies {
		if r.Ephemeral() {
			t.Errorf("digest message %d is ephemeral", i+1)
		}
		if len(r.Embeds) > 10 {
			t.Errorf("message %d holds %d embeds", i+1, len(r.Embeds))
		}
		for _, em := range r.Embeds {
			if strings.HasPrefix(em.Title, "Story ") {
				stories++
			}
			if strings.Contains(em.Title, "@everyone") {
				t.Errorf("embed title %q can ping everyone", em.Title)
			}
		}
	}
	if stories != 14 {
		t.Errorf("%d story embeds, want 14", stories)
	}
}

func TestScheduledDigestsIntoChannelsThreadsForumsAndDMs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	targets := []struct {
		name             string
		chatID, threadID string
		readFrom         func(tb testing.TB) string // the channel the messages land in
	}{
		{"text channel", text, "", func(testing.TB) string { return text }},
		{"thread", text, thread, func(testing.TB) string { return thread }},
		{"forum", forum, "", func(tb testing.TB) string {
			var posts []discordtest.Channel
			for _, p := range e.fake.Threads(forum) {
				if p.ID != post {
					posts = append(posts, p)
				}
			}
			if len(posts) != 1 {
				tb.Fatalf("%d posts in the forum, want 1 per digest: %+v", len(posts), posts)
			}
			if !strings.HasPrefix(posts[0].Name, "Herald digest · ") {
				tb.Errorf("forum post titled %q, want the digest's title and date", posts[0].Name)
			}
			return posts[0].ID
		}},
		{"dm", dmChan, "", func(testing.TB) string { return dmChan }},
	}
	d := &bot.Delivery{Store: e.st, Renderers: map[string]bot.Renderer{digest.PlatformDiscord: e.adapter},
		Wake: e.outbox.Wake, DigestLimit: 20}
	feed := e.feeds(1)
	e.seedStories(feed[0], 14)
	for _, tg := range targets {
		sub := e.follow(tg.chatID, tg.threadID, feed...)
		if err := d.DeliverDigest(ctx, sub.ID, "2026-03-23T08:00 UTC", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			var parts int
			e.fake.Eventually(t, 15*time.Second, "every part sent", func() bool {
				msgs, err := e.st.ListOutbox(ctx, digest.OutboxFilter{Platform: digest.PlatformDiscord, ChatID: tg.chatID, Kind: "digest"})
				if err != nil {
					t.Fatal(err)
				}
				sent := 0
				for _, m := range msgs {
					if m.ThreadID != tg.threadID {
						continue
					}
					if m.Status == digest.OutboxFailed {
						t.Fatalf("part %d failed: %s", m.Part, m.LastError)
					}
					if m.Status == digest.OutboxSent {
						sent++
					}
					parts = m.Parts
				}
				return parts > 0 && sent == parts
			})
			msgs := e.fake.Messages(tg.readFrom(t))
			if len(msgs) != parts || parts < 2 {
				t.Fatalf("%d messages for a digest of %d parts", len(msgs), parts)
			}
			stories := 0
			for i, m := range msgs {
				if m.Nonce == "" && !(tg.name == "forum" && i == 0) {
					t.Errorf("message %d sent without a nonce", i+1)
				}
				for _, em := range m.Embeds {
					if strings.HasPrefix(em.Title, "Story ") {
						stories++
					}
				}
			}
			if stories != 14 {
				t.Errorf("%d stories delivered, want 14", stories)
			}
		})
	}
}

// deliver enqueues a short message to a chat and returns its key.
func (e *env) deliver(chatID, key, text string) {
	e.t.Helper()
	payloads, err := e.adapter.RenderPayloads(&bot.Message{Blocks: []bot.Block{{Text: text}}})
	if err != nil {
		e.t.Fatal(err)
	}
	var msgs []*digest.OutboxMessage
	for i, p := range payloads {
		msgs = append(msgs, &digest.OutboxMessage{Key: fmt.Sprintf("%s/%d", key, i+1), Platform: digest.PlatformDiscord, ChatID: chatID,
			Kind: "notice", Part: i + 1, Parts: len(payloads), Payload: p})
	}
	if err := e.outbox.Enqueue(context.Background(), msgs); err != nil {
		e.t.Fatal(err)
	}
}

// waitOutbox waits until the outbox message with key satisfies cond.
func (e *env) waitOutbox(key, what string, cond func(m *digest.OutboxMessage) bool) *digest.OutboxMessage {
	e.t.Helper()
	var found *digest.OutboxMessage
	e.fake.Eventually(e.t, 15*time.Second, "outbox message "+key+" "+what, func() bool {
		msgs, err := e.st.ListOutbox(context.Background(), digest.OutboxFilter{Platform: digest.PlatformDiscord})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Key == key && cond(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// waitStatus waits until the outbox message with key has status.
func (e *env) waitStatus(key, status string) *digest.OutboxMessage {
	e.t.Helper()
	return e.waitOutbox(key, status, func(m *digest.OutboxMessage) bool { return m.Status == status })
}

func TestRateLimitHonoured(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.fake.Inject(discordtest.Fault{Route: "POST /channels/{id}/messages", ID: text, Status: 429, RetryAfter: 400 * time.Millisecond})
	e.deliver(text, "notice/429", "The feed works again.")
	if m := e.waitStatus("notice/429/1", digest.OutboxSent); m.Attempts != 2 {
		t.Errorf("sent after %d attempts, want 2", m.Attempts)
	}
	var posts []discordtest.Request
	for _, r := range e.fake.Requests() {
		if r.Route == "POST /channels/{id}/messages" && strings.Contains(r.Path, text) {
			posts = append(posts, r)
		}
	}
	if len(posts) != 2 || posts[0].Status != 429 || posts[1].Status != 200 {
		t.Fatalf("requests: %+v; want a 429 then one success", posts)
	}
	if gap := posts[1].At.Sub(posts[0].At); gap < 400*time.Millisecond {
		t.Errorf("retried %s after a 429 that asked for 400ms", gap)
	}
	if n := len(e.fake.Messages(text)); n != 1 {
		t.Errorf("%d messages delivered, want 1", n)
	}
}

func TestGlobalRateLimitPausesEveryChat(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.fake.Inject(discordtest.Fault{Route: "POST /channels/{id}/messages", ID: text, Status: 429, RetryAfter: 800 * time.Millisecond, Global: true})
	e.deliver(text, "notice/global", "first")
	e.waitOutbox("notice/global/1", "rate limited", func(m *digest.OutboxMessage) bool { return m.Attempts == 1 })
	var limited time.Time
	for _, r := range e.fake.Requests() {
		if r.Status == 429 {
			limited = r.At
		}
	}
	e.deliver(dmChan, "notice/other", "second")
	e.waitStatus("notice/other/1", digest.OutboxSent)
	for _, r := range e.fake.Requests() {
		if r.Route == "POST /channels/{id}/messages" && strings.Contains(r.Path, dmChan) && r.At.Sub(limited) < 800*time.Millisecond {
			t.Errorf("another chat was sent to %s after a global 429 of 800ms", r.At.Sub(limited))
		}
	}
	e.waitStatus("notice/global/1", digest.OutboxSent)
}

func TestLostAnswerNotPostedTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.fake.Inject(discordtest.Fault{Route: "POST /channels/{id}/messages", ID: text, Lose: true})
	e.deliver(text, "notice/lost", "Only once, please.")
	if m := e.waitStatus("notice/lost/1", digest.OutboxSent); m.Attempts != 2 {
		t.Errorf("sent after %d attempts, want 2 (the lost answer, the retry)", m.Attempts)
	}
	if n := len(e.fake.Messages(text)); n != 1 {
		t.Errorf("%d messages in the channel after a retried send, want 1", n)
	}
	if e.fake.Deduplicated() != 1 {
		t.Errorf("the fake de-duplicated %d sends by nonce, want 1", e.fake.Deduplicated())
	}
}

func TestForbiddenAndGoneChannels(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	for _, id := range []string{blocked, gone} {
		if err := e.st.UpsertChat(ctx, &digest.Chat{Platform: digest.PlatformDiscord, ID: id, Kind: "group"}); err != nil {
			t.Fatal(err)
		}
		e.deliver(id, "notice/"+id, "hello")
	}
	for _, id := range []string{blocked, gone} {
		m := e.waitStatus("notice/"+id+"/1", digest.OutboxFailed)
		chat, err := e.st.FindChat(ctx, digest.PlatformDiscord, id)
		if err != nil {
			t.Fatal(err)
		}
		if chat.Active {
			t.Errorf("chat %s still active after %q", id, m.LastError)
		}
	}
}

func TestGatewayResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.follow(text, "", e.feeds(1)...)

	e.fake.DropConnection()
	// An interaction while the connection is down reaches the client when
	// it resumes, as on Discord.
	ix := e.invoke(member, text, "feeds")
	contains(t, "reply after resume", ix.Reply(t).Text(), "This chat follows 1 feed")
	res := e.fake.Resumes()
	if len(res) != 1 || !res[0].OK || res[0].Path != "/resume" || res[0].Seq < 1 {
		t.Fatalf("resumes = %+v, want one on resume_gateway_url with the last sequence", res)
	}
	if n := len(e.fake.Identifies()); n != 1 {
		t.Errorf("%d identifies: the session was not resumed", n)
	}

	// Discord asks for a reconnect: resumed again.
	e.fake.RequestReconnect()
	e.fake.Eventually(t, 10*time.Second, "a second resume", func() bool { return len(e.fake.Resumes()) >= 2 })
	if res := e.fake.Resumes(); len(res) != 2 || !res[1].OK {
		t.Fatalf("resumes after op 7 = %+v", res)
	}
	contains(t, "reply after reconnect", e.invoke(member, text, "status").Reply(t).Text(), "Feeds: 1 ok")
}

func TestAutocompleteFeeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.follow(text, "", e.feeds(3)...)
	ix := e.fake.Autocomplete(t, discordtest.Invocation{Command: "unsubscribe", ChannelID: text, User: admin,
		Options: []discordtest.Option{{Name: "feed", Value: "feed 01", Focused: true}}})
	choices := ix.Choices(t)
	if len(choices) != 1 || !strings.HasPrefix(choices[0].Name, "Feed 01") {
		t.Fatalf("choices for %q = %+v", "feed 01", choices)
	}
	all := e.fake.Autocomplete(t, discordtest.Invocation{Command: "unsubscribe", ChannelID: text, User: admin,
		Options: []discordtest.Option{{Name: "feed", Value: "", Focused: true}}}).Choices(t)
	if len(all) != 3 {
		t.Errorf("%d choices for nothing typed, want the 3 feeds", len(all))
	}
	r := e.invoke(admin, text, "unsubscribe", opt("feed", fmt.Sprint(choices[0].Value))).Reply(t)
	contains(t, "unsubscribe by choice", r.Text(), "Unsubscribed from Feed 01")

	none := e.fake.Autocomplete(t, discordtest.Invocation{Command: "unsubscribe", ChannelID: dmChan, User: member,
		Options: []discordtest.Option{{Name: "feed", Value: "x", Focused: true}}}).Choices(t)
	if len(none) != 0 {
		t.Errorf("choices in a chat without feeds: %+v", none)
	}
}

func TestThreadsAndForumPosts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	e.invoke(admin, thread, "subscribe", opt("url", "https://thread.example/feed")).Reply(t)
	if _, err := e.st.FindSubscription(ctx, digest.PlatformDiscord, text, thread); err != nil {
		t.Errorf("a subscription made in a thread: %v; want it for the thread of its channel", err)
	}
	// Without the channel object, the adapter looks the post and its
	// forum up.
	ix := e.fake.Invoke(t, discordtest.Invocation{Command: "subscribe", ChannelID: post, User: admin, OmitChannel: true,
		Options: []discordtest.Option{opt("url", "https://forum.example/feed")}})
	contains(t, "subscribe in a forum post", ix.Reply(t).Text(), "Subscribed to")
	if _, err := e.st.FindSubscription(ctx, digest.PlatformDiscord, forum, ""); err != nil {
		t.Errorf("a subscription made in a forum post: %v; want it for the forum", err)
	}
}

func TestExportAttachesOPML(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.follow(text, "", e.feeds(2)...)
	r := e.invoke(member, text, "export").Reply(t)
	if len(r.Files) != 1 || r.Files[0].Name != "herald-feeds.opml" || !strings.Contains(string(r.Files[0].Data), "f01.example") {
		t.Fatalf("export files = %+v", r.Files)
	}
	contains(t, "export", r.Text(), "2 feeds of this chat, as OPML")
}

func TestWrongTokenStopsRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{fakeToken: "another-token", noWaitReady: true})
	select {
	case err := <-e.runErr:
		e.stopped = true
		if err == nil || !strings.Contains(err.Error(), "token was refused") {
			t.Fatalf("Run = %v, want the token refused", err)
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("the error shows the token: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run kept going with a refused token")
	}
}

func TestShutdownIsPrompt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	start := time.Now()
	if err := e.shutdown(); err != nil {
		t.Fatalf("Run = %v after its context ended, want nil", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run took %s to return", d)
	}
	e.fake.Eventually(t, 2*time.Second, "the gateway connection closed", func() bool { return !e.fake.Connected() })
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

func TestSearchWithButtonPaging(t *testing.T) {
	t.Parallel()
	if !hasCommand("search") {
		t.Skip("the chat core has no /search command yet")
	}
	e := newEnv(t, envOptions{})
	e.seedStories(e.feeds(1)[0], 12)

	ix := e.invoke(member, text, "search", opt("query", "harbour bridge"))
	if typ := ix.Acked(t); typ != discordtest.DeferredChannelMessage {
		t.Errorf("/search answered with callback type %d, want deferred (5)", typ)
	}
	page := ix.Reply(t)
	if len(page.Embeds) != 1 || !strings.Contains(page.Embeds[0].Title, "page 1") {
		t.Fatalf("results = %+v, want one embed card for page 1", page.Embeds)
	}
	contains(t, "results page 1", page.Text(), "Story ", "Outlet")
	if len(page.Buttons) != 1 || page.Buttons[0].Label != "Next ›" {
		t.Fatalf("page 1 buttons = %+v, want Next", page.Buttons)
	}
	first := page.Embeds[0].Description

	press := e.fake.Press(t, page, page.Buttons[0].CustomID, member)
	page = press.Reply(t)
	if typ := press.Acked(t); typ != discordtest.UpdateMessage && typ != discordtest.DeferredUpdateMessage {
		t.Errorf("Next answered with callback type %d, want the message updated (7, or 6 then an edit)", typ)
	}
	if len(page.Embeds) != 1 || !strings.Contains(page.Embeds[0].Title, "page 2") || page.Embeds[0].Description == first {
		t.Fatalf("after Next: %+v, want page 2", page.Embeds)
	}
	if len(page.Buttons) != 2 {
		t.Errorf("page 2 buttons = %+v, want Previous and Next", page.Buttons)
	}
	if n := len(e.fake.Messages(text)); n != 1 {
		t.Errorf("%d messages after paging, want the results message updated in place", n)
	}

	// In a DM, anyone may search what Herald has stored.
	dm := e.invoke(discordtest.User{ID: "900000000000000009", Name: "dora"}, dmChan, "search", opt("query", "section 3"))
	r := dm.Reply(t)
	contains(t, "DM search", r.Text(), "Results for", "Story 4")
	if r.Ephemeral() {
		t.Error("DM search results are ephemeral")
	}
	nothing := e.invoke(member, dmChan, "search", opt("query", "zeppelin")).Reply(t)
	contains(t, "search without hits", nothing.Text(), "Nothing found")
}

// TestTokenNeverLeaksOnErrors drives the error paths that log Discord's
// answers and the adapter's own failures; the cleanup of every test then
// checks the logs and every body sent for the token.
func TestTokenNeverLeaksOnErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.fake.Inject(discordtest.Fault{Route: "POST /channels/{id}/messages", ID: text, Status: 401, Message: "401: Unauthorized"})
	e.deliver(text, "notice/401", "hello")
	e.waitStatus("notice/401/1", digest.OutboxSent)

	e.fake.Inject(discordtest.Fault{Route: "GET /channels/{id}", ID: post, Status: 500, Message: "boom"})
	ix := e.fake.Invoke(t, discordtest.Invocation{Command: "feeds", ChannelID: post, User: member, OmitChannel: true})
	r := ix.Reply(t)
	if !r.Ephemeral() || !strings.Contains(r.Text(), "Sorry, something went wrong") {
		t.Errorf("reply to an interaction the adapter could not resolve: %q (ephemeral %v)", r.Text(), r.Ephemeral())
	}
	logs := e.logs.String()
	for _, want := range []string{"401 401: Unauthorized", "GET /channels/{id}: 500 boom"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %q: the error path did not run", want)
		}
	}
}

// TestExpiredInteractionIsDropped: when Discord no longer knows an
// interaction by the time it is deferred, the work stops and nothing is
// sent for it.
func TestExpiredInteractionIsDropped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.fake.Inject(discordtest.Fault{Route: "POST /interactions/{id}/{token}/callback", Status: 404, Code: 10062, Message: "Unknown interaction"})
	ix := e.invoke(admin, text, "subscribe", opt("url", "https://late.example/feed"))
	e.fake.Eventually(t, 5*time.Second, "the interaction dropped", func() bool { return strings.Contains(e.logs.String(), "dropped") })
	ctx := context.Background()
	if _, err := e.st.FindFeedByURL(ctx, "https://late.example/feed"); !digest.IsNotFound(err) {
		t.Errorf("the feed of an expired /subscribe was added: %v", err)
	}
	msgs, err := e.st.ListOutbox(ctx, digest.OutboxFilter{Platform: digest.PlatformDiscord})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if strings.Contains(m.Key, ix.ID) {
			t.Errorf("a reply to an expired interaction was enqueued: %s", m.Key)
		}
	}
}

// TestChatPermissions: /subscribe says when the bot cannot post where
// digests would go, and a chat marked inactive after a refused delivery
// becomes active again once an interaction shows the bot may post there.
func TestChatPermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	r := e.invoke(admin, readOnly, "subscribe", opt("url", "https://quiet.example/feed")).Reply(t)
	contains(t, "subscribe where the bot cannot post", r.Text(), "Subscribed to",
		"lacks the Send Messages, Embed Links permissions in this channel")
	r = e.invoke(admin, text, "subscribe", opt("url", "https://loud.example/feed")).Reply(t)
	if strings.Contains(r.Text(), "lacks") {
		t.Errorf("a warning where the bot may post: %q", r.Text())
	}

	if err := e.st.SetChatActive(ctx, digest.PlatformDiscord, text, false, "403 Missing Access"); err != nil {
		t.Fatal(err)
	}
	e.invoke(member, text, "feeds").Reply(t)
	if chat, err := e.st.FindChat(ctx, digest.PlatformDiscord, text); err != nil || !chat.Active {
		t.Errorf("chat after an interaction where the bot may post: %+v, %v; want active", chat, err)
	}
	if err := e.st.SetChatActive(ctx, digest.PlatformDiscord, readOnly, false, "403 Missing Permissions"); err != nil {
		t.Fatal(err)
	}
	e.invoke(member, readOnly, "feeds").Reply(t)
	if chat, err := e.st.FindChat(ctx, digest.PlatformDiscord, readOnly); err != nil || chat.Active {
		t.Errorf("chat where the bot still may not post: %+v, %v; want inactive", chat, err)
	}
}
