package bot_test

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

var now = time.Date(2026, 3, 23, 9, 0, 0, 0, time.UTC)

// fakeFeeds stands in for fetching: it stores the feed with a title, or
// refuses addresses on the "broken.example" host the way a failed fetch
// does.
type fakeFeeds struct{ st digest.Store }

func (f fakeFeeds) AddFeed(ctx context.Context, u, name string) (*digest.Feed, error) {
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

// parseSchedule understands "daily HH:MM", "off" and 5-field cron: enough
// to test the chat core; the schedule package has the real grammar.
func parseSchedule(s string) (string, string, error) {
	var h, m int
	switch {
	case s == "off":
		return "", "off", nil
	case strings.HasPrefix(s, "daily "):
		if _, err := fmt.Sscanf(s, "daily %d:%d", &h, &m); err == nil {
			return fmt.Sprintf("%d %d * * *", m, h), fmt.Sprintf("every day at %02d:%02d", h, m), nil
		}
	case len(strings.Fields(s)) == 5:
		if _, err := fmt.Sscanf(s, "%d %d * * *", &m, &h); err == nil {
			return s, fmt.Sprintf("every day at %02d:%02d", h, m), nil
		}
		return s, "cron " + s, nil
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

type env struct {
	t     *testing.T
	st    *sqlite.DB
	b     *bot.Bot
	clock time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, clock: now}
	st.Now = func() time.Time { return e.clock }
	e.b = bot.New(bot.Deps{
		Store: st, Feeds: fakeFeeds{st}, FeedURL: canonical, ArticleURL: canonical, ParseSchedule: parseSchedule, NextRuns: nextRuns,
		DefaultSchedule: "0 8 * * *", DefaultTimeZone: "UTC", Now: func() time.Time { return e.clock },
		CommandEvery: time.Millisecond, CommandBurst: 1000,
	})
	return e
}

// group and dm are requests from a group chat and from a direct message.
func group(user string, admin bool, line string) *bot.Request {
	cmd, args, _ := bot.ParseCommand(line, "HeraldBot")
	return &bot.Request{Platform: "telegram", ChatID: "-100", ChatKind: "group", ChatTitle: "Team",
		UserID: user, Admin: admin, Command: cmd, Args: args}
}

func dm(user, line string) *bot.Request {
	cmd, args, _ := bot.ParseCommand(line, "HeraldBot")
	return &bot.Request{Platform: "telegram", ChatID: user, ChatKind: "private", UserID: user, Command: cmd, Args: args}
}

// plain flattens messages into text for assertions.
func plain(msgs []*bot.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		for _, bl := range m.Blocks {
			b.WriteString(bl.Text)
			for _, it := range bl.Items {
				b.WriteString("\n- " + it.Text + " " + it.URL + " " + it.Note)
			}
			b.WriteString("\n")
		}
		if m.Digest != nil {
			for _, s := range m.Digest.Stories {
				b.WriteString("[story] " + s.Headline + "\n")
			}
		}
		for _, btn := range m.Buttons {
			b.WriteString("[button " + btn.Label + " " + btn.Data + "]\n")
		}
	}
	return b.String()
}

func (e *env) say(req *bot.Request, want ...string) []*bot.Message {
	e.t.Helper()
	msgs := e.b.Handle(context.Background(), req)
	got := plain(msgs)
	for _, w := range want {
		if !strings.Contains(got, w) {
			e.t.Errorf("/%s %s: reply lacks %q:\n%s", req.Command, req.Args, w, got)
		}
	}
	return msgs
}

func TestGroupPermissionsAndSubscriptions(t *testing.T) {
	e := newEnv(t)
	msgs := e.say(group("member", false, "/subscribe https://News.example/rss"), "Only chat administrators can use /subscribe")
	if !msgs[0].Error {
		t.Error("refusal not marked as an error")
	}
	e.say(group("admin", true, "/subscribe@HeraldBot https://News.example/rss world"), "Subscribed to world", "Digests: every day at 08:00")
	e.say(group("admin", true, "/subscribe https://news.example/rss"), "already follows world")
	e.say(group("admin", true, "/subscribe https://broken.example/page"), "not a feed")
	e.say(group("admin", true, "/subscribe ftp://x"), "is not an http or https address", "Usage: /subscribe URL [name]")
	e.say(group("admin", true, "/subscribe"), "Which feed?")
	e.say(group("member", false, "/feeds"), "This chat follows 1 feed", "world https://news.example/rss new")
	e.say(group("member", false, "/unsubscribe world"), "Only chat administrators")
	e.say(group("admin", true, "/unsubscribe nothing"), "does not follow “nothing”")
	e.say(group("admin", true, "/unsubscribe WORLD"), "Unsubscribed from world")
	e.say(group("member", false, "/feeds"), "follows no feeds yet")

	// In a direct message the user owns the chat.
	e.say(dm("42", "/subscribe https://news.example/rss"), "Subscribed to")
}

func TestScheduleTimezoneFilter(t *testing.T) {
	e := newEnv(t)
	e.say(group("member", false, "/schedule"), "follows no feeds yet")
	e.say(group("admin", true, "/subscribe https://a.example/feed"), "Subscribed")
	e.say(group("member", false, "/schedule"), "Digests arrive every day at 08:00 (UTC)", "Tue 24 Mar 08:00 UTC")
	e.say(group("member", false, "/schedule daily 07:00"), "Only chat administrators can change the schedule")
	e.say(group("admin", true, "/schedule fortnightly"), "is not a schedule")
	e.say(group("admin", true, "/timezone Mars/Olympus"), "is not a time zone name", "Usage: /timezone")
	e.say(group("admin", true, "/timezone Europe/Berlin"), "Time zone set to Europe/Berlin; it is 10:00 there now")
	e.say(group("admin", true, "/schedule daily 07:30"), "Done. Digests arrive every day at 07:30 (Europe/Berlin)",
		"Tue 24 Mar 07:30 CET", "30 7 * * *")
	e.say(group("admin", true, "/schedule off"), "No digest is scheduled")

	e.say(group("member", false, "/filter"), "Filters: none")
	e.say(group("member", false, "/filter include x"), "Only chat administrators can change the filters")
	e.say(group("admin", true, "/filter include climate change, Energy"), "Include stories that mention any of: climate change, Energy")
	e.say(group("admin", true, "/filter exclude /sport(s)?/"), "Leave out stories that mention any of: /sport(s)?/")
	e.say(group("admin", true, "/filter exclude /(unclosed/"), "not a valid regular expression")
	e.say(group("admin", true, "/filter sideways x"), "is not include, exclude or clear")
	e.say(group("admin", true, "/filter clear"), "Filters now: none")
}

// seedStory stores two articles of one story in feed f.
func seedStory(t *testing.T, e *env, feedURL string, title string) []*digest.Article {
	t.Helper()
	ctx := context.Background()
	f, err := e.st.FindFeedByURL(ctx, feedURL)
	if err != nil {
		t.Fatal(err)
	}
	arts := []*digest.Article{
		{Key: title + "1", URL: "https://a.example/" + strings.ReplaceAll(title, " ", "-"), Source: "Outlet A", Title: title,
			Summary: "A first report about " + title + " from the scene today.", Published: e.clock.Add(-2 * time.Hour), FirstSeen: e.clock.Add(-2 * time.Hour)},
		{Key: title + "2", URL: "https://b.example/" + strings.ReplaceAll(title, " ", "-"), Source: "Outlet B", Title: title + " update",
			Summary: "A second report about " + title + " with more details.", Published: e.clock.Add(-time.Hour), FirstSeen: e.clock.Add(-time.Hour)},
	}
	if _, err := e.st.SaveArticles(ctx, f.ID, arts); err != nil {
		t.Fatal(err)
	}
	err = e.st.AssignStories(ctx, []digest.StoryAssignment{{ArticleID: arts[0].ID, StoryID: arts[0].ID}, {ArticleID: arts[1].ID, StoryID: arts[0].ID}}, e.clock)
	if err != nil {
		t.Fatal(err)
	}
	return arts
}

func TestDigestStatusWhyExport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.say(group("admin", true, "/subscribe https://a.example/feed"), "Subscribed")
	e.say(group("member", false, "/digest"), "No new stories in the last 1 day")
	arts := seedStory(t, e, "https://a.example/feed", "Harbour bridge reopens")
	msgs := e.say(group("member", false, "/digest 12h"), "[story] Harbour bridge reopens")
	if msgs[0].Digest == nil || len(msgs[0].Digest.Stories[0].Sources) != 2 {
		t.Fatalf("digest = %+v", msgs[0].Digest)
	}
	e.say(group("member", false, "/digest 30m"), "No new stories in the last 30m0s")
	e.say(group("member", false, "/digest forever"), "is not a time span", "Usage: /digest [24h]")
	e.say(group("member", false, "/digest 2w"), "at most one week")

	// A failing feed shows in /status with since when.
	f, _ := e.st.FindFeedByURL(ctx, "https://a.example/feed")
	f.CheckedAt, f.ConsecutiveErrors, f.LastError, f.FailingSince = now, 2, "fetch: 503 Service Unavailable", now.Add(-3*time.Hour)
	if err := e.st.UpdateFeed(ctx, f); err != nil {
		t.Fatal(err)
	}
	e.say(group("member", false, "/status"), "Feeds: 0 ok, 1 failing", "failing since Mon 23 Mar 06:00 UTC: fetch: 503",
		"Next digest: Tue 24 Mar 08:00 UTC", "Last digest: none delivered yet")

	e.say(group("member", false, "/why https://nowhere.example/x"), "has not seen that article")
	e.say(group("member", false, "/why "+arts[1].URL), "belongs to story", "reported in 2 articles", "due in the next digest")
	e.say(group("admin", true, "/filter exclude bridge"), "Leave out")
	e.say(group("member", false, "/why "+arts[1].URL), `filters leave it out: excluded by "bridge"`)
	e.say(group("admin", true, "/filter clear"), "none")
	sub, err := e.st.FindSubscription(ctx, "telegram", "-100", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.RecordStoryDeliveries(ctx, sub.ID, []digest.StoryDelivery{{StoryID: arts[0].ID, Sources: 2}}, now); err != nil {
		t.Fatal(err)
	}
	e.say(group("member", false, "/why "+arts[0].URL), "delivered in a digest here (with 2 sources)")
	e.say(dm("7", "/why "+arts[0].URL), "follows no feeds yet")

	msgs = e.say(group("member", false, "/export"), "1 feed of this chat, as OPML")
	if msgs[0].File == nil {
		t.Fatal("/export attached no file")
	}
	got, err := digest.ParseOPML(strings.NewReader(string(msgs[0].File.Data)))
	if err != nil || len(got) != 1 || got[0].URL != "https://a.example/feed" {
		t.Errorf("exported OPML = %+v, %v", got, err)
	}
}

func TestFeedsPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 23 {
		e.say(group("admin", true, fmt.Sprintf("/subscribe https://f%02d.example/rss", i)), "Subscribed")
	}
	e.say(group("member", false, "/feeds"), "This chat follows 23 feeds", "Page 1 of 3", "[button Next › feeds:2]")
	req := group("member", false, "")
	req.Callback = "feeds:3"
	msgs := e.say(req, "Page 3 of 3", "f22.example", "[button ‹ Previous feeds:2]")
	if !msgs[0].Replace {
		t.Error("a page from a button does not replace the message")
	}
	req.Callback = "feeds:x"
	e.say(req, "no longer valid")
}

func TestUnknownCommandAndHelp(t *testing.T) {
	e := newEnv(t)
	e.say(group("member", false, "/frobnicate"), "I don't know /frobnicate")
	e.say(dm("1", "/start"), "calm digest", "/subscribe URL [name]")
	msgs := e.say(group("member", false, "/help"), "/schedule", "(administrators)")
	if len(bot.Commands()) < 12 || plain(msgs) == "" {
		t.Error("help lists too few commands")
	}
}

func TestRateLimit(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := bot.New(bot.Deps{Store: st, FeedURL: canonical, ArticleURL: canonical, ParseSchedule: parseSchedule, NextRuns: nextRuns,
		CommandEvery: time.Hour, CommandBurst: 3, Now: func() time.Time { return now }})
	var replies []string
	for range 5 {
		replies = append(replies, plain(b.Handle(context.Background(), group("flooder", false, "/help"))))
	}
	for i := range 3 {
		if !strings.Contains(replies[i], "/subscribe") {
			t.Errorf("command %d within the burst refused: %q", i+1, replies[i])
		}
	}
	if !strings.Contains(replies[3], "faster than I can answer") || !strings.Contains(replies[3], "Please wait") {
		t.Errorf("4th command: %q, want a polite slow-down", replies[3])
	}
	if replies[4] != "" {
		t.Errorf("5th command answered %q; one warning per flood is enough", replies[4])
	}
	if got := plain(b.Handle(context.Background(), group("other", false, "/help"))); !strings.Contains(got, "/subscribe") {
		t.Error("another user is limited by the flooder")
	}
}
