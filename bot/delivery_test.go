package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
)

// textRenderer renders a message as one plain-text payload per story, so
// tests can count parts.
type textRenderer struct{}

func (textRenderer) RenderPayloads(m *bot.Message) ([][]byte, error) {
	var out [][]byte
	if m.Digest != nil {
		for _, s := range m.Digest.Stories {
			p := s.Headline
			if s.Developing {
				p += " (developing)"
			}
			out = append(out, []byte(p))
		}
	}
	for _, b := range m.Blocks {
		out = append(out, []byte(b.Text))
	}
	return out, nil
}

func TestDeliverDigestOncePerSlot(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.say(group("admin", true, "/subscribe https://a.example/feed"), "Subscribed")
	arts := seedStory(t, e, "https://a.example/feed", "Harbour bridge reopens")
	sub, err := e.st.FindSubscription(ctx, "telegram", "-100", "")
	if err != nil {
		t.Fatal(err)
	}
	woken := 0
	d := &bot.Delivery{Store: e.st, Renderers: map[string]bot.Renderer{"telegram": textRenderer{}}, Wake: func() { woken++ },
		Now: func() time.Time { return e.clock }}
	slot := "2026-03-23T09:00 UTC"
	for range 3 { // cron firing more than once for one slot
		if err := d.DeliverDigest(ctx, sub.ID, slot, e.clock); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := e.st.ListOutbox(ctx, digest.OutboxFilter{Kind: "digest"})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Key != bot.DigestKey(sub.ID, slot)+"/1" || string(msgs[0].Payload) != "Harbour bridge reopens" || woken != 1 {
		t.Fatalf("outbox = %+v (woken %d), want one part once", msgs, woken)
	}

	// Next day: nothing new, nothing sent; then a third outlet joins the
	// story and it comes back as developing.
	e.clock = e.clock.Add(24 * time.Hour)
	if err := d.DeliverDigest(ctx, sub.ID, "2026-03-24T09:00 UTC", e.clock); err != nil {
		t.Fatal(err)
	}
	f, _ := e.st.FindFeedByURL(ctx, "https://a.example/feed")
	c := &digest.Article{Key: "third", URL: "https://c.example/bridge", Source: "Outlet C", Title: "Bridge reopens to traffic",
		Summary: "Traffic flows again.", Published: e.clock, FirstSeen: e.clock}
	if _, err := e.st.SaveArticles(ctx, f.ID, []*digest.Article{c}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.AssignStories(ctx, []digest.StoryAssignment{{ArticleID: c.ID, StoryID: arts[0].ID}}, e.clock); err != nil {
		t.Fatal(err)
	}
	e.clock = e.clock.Add(24 * time.Hour)
	if err := d.DeliverDigest(ctx, sub.ID, "2026-03-25T09:00 UTC", e.clock); err != nil {
		t.Fatal(err)
	}
	msgs, _ = e.st.ListOutbox(ctx, digest.OutboxFilter{Kind: "digest"})
	if len(msgs) != 2 || !strings.HasSuffix(string(msgs[1].Payload), "(developing)") {
		t.Fatalf("after the story grew: %d messages, last %q", len(msgs), msgs[len(msgs)-1].Payload)
	}
	// A late repeat of an old slot does nothing.
	if err := d.DeliverDigest(ctx, sub.ID, "2026-03-23T09:00 UTC", now); err != nil {
		t.Fatal(err)
	}
	if msgs, _ = e.st.ListOutbox(ctx, digest.OutboxFilter{Kind: "digest"}); len(msgs) != 2 {
		t.Errorf("an old slot was delivered again: %d messages", len(msgs))
	}
}

func TestFeedNotices(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.say(group("admin", true, "/subscribe https://a.example/feed"), "Subscribed")
	e.say(dm("5", "/subscribe https://a.example/feed"), "Subscribed")
	d := &bot.Delivery{Store: e.st, Renderers: map[string]bot.Renderer{"telegram": textRenderer{}}, Now: func() time.Time { return e.clock }}
	f, _ := e.st.FindFeedByURL(ctx, "https://a.example/feed")
	f.CheckedAt, f.ConsecutiveErrors, f.LastError, f.FailingSince = e.clock, 5, "fetch: 410 Gone", e.clock.Add(-23*time.Hour)
	if err := e.st.UpdateFeed(ctx, f); err != nil {
		t.Fatal(err)
	}
	notices := func() []string {
		t.Helper()
		if err := d.CheckFeedNotices(ctx); err != nil {
			t.Fatal(err)
		}
		msgs, err := e.st.ListOutbox(ctx, digest.OutboxFilter{Kind: "notice"})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range msgs {
			out = append(out, m.ChatID+": "+string(m.Payload))
		}
		return out
	}
	if got := notices(); len(got) != 0 {
		t.Fatalf("notices after 23h of failures: %q", got)
	}
	e.clock = e.clock.Add(2 * time.Hour)
	notices()
	got := notices()
	if len(got) != 2 || !strings.Contains(got[0], "has been failing since") || !strings.Contains(got[0], "410 Gone") {
		t.Fatalf("notices after 25h = %q, want one per chat", got)
	}
	f.ConsecutiveErrors, f.LastError, f.FailingSince, f.SucceededAt = 0, "", time.Time{}, e.clock
	if err := e.st.UpdateFeed(ctx, f); err != nil {
		t.Fatal(err)
	}
	notices()
	got = notices()
	if len(got) != 4 || !strings.Contains(got[3], "works again") {
		t.Fatalf("notices after recovery = %q, want one recovery per chat", got)
	}
}
