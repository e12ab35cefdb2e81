// Package storetest owns the contract every digest.Store implementation must
// meet: one suite, written against the interfaces only, that store/sqlite
// runs today and store/postgres runs too. A store passes when Run passes.
package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// Opener returns a new, empty store for one test. It registers its own
// cleanup with tb.
type Opener func(tb testing.TB) digest.Store

// base is a fixed time with microsecond precision, the finest every store
// keeps.
var base = time.Date(2026, 3, 22, 9, 30, 0, 123456000, time.UTC)

// Run runs the whole contract suite against stores made by open.
func Run(t *testing.T, open Opener) {
	t.Run("Feeds", func(t *testing.T) { testFeeds(t, open) })
	t.Run("Articles", func(t *testing.T) { testArticles(t, open) })
	t.Run("Stories", func(t *testing.T) { testStories(t, open) })
	t.Run("Subscriptions", func(t *testing.T) { testSubscriptions(t, open) })
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, open) })
	t.Run("EnqueueDigest", func(t *testing.T) { testEnqueueDigest(t, open) })
	t.Run("State", func(t *testing.T) { testState(t, open) })
	t.Run("Search", func(t *testing.T) { testSearch(t, open) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrentWriters(t, open) })
	t.Run("ConcurrentEnqueue", func(t *testing.T) { testConcurrentEnqueue(t, open) })
	t.Run("Unassigned", func(t *testing.T) { testUnassigned(t, open) })
	t.Run("Leases", func(t *testing.T) { testLeases(t, open) })
}

func ctxFor(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// wantCode fails unless err carries the digest error code want.
func wantCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := digest.ErrorCode(err); got != want {
		tb.Fatalf("error code = %q (err %v), want %q", got, err, want)
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func sameTime(tb testing.TB, what string, got, want time.Time) {
	tb.Helper()
	if !got.Equal(want) {
		tb.Errorf("%s = %v, want %v", what, got, want)
	}
}

func mustFeed(tb testing.TB, s digest.Store, url string) *digest.Feed {
	tb.Helper()
	f := &digest.Feed{URL: url, Title: "Feed " + url, CreatedAt: base}
	must(tb, s.CreateFeed(ctxFor(tb), f))
	return f
}

func article(key, title string, firstSeen time.Time) *digest.Article {
	return &digest.Article{
		Key: key, GUID: key, URL: "https://news.example/" + key, Title: title,
		Summary: "Summary of " + title, Content: "Body of " + title, Author: "A. Writer",
		ImageURL: "https://news.example/" + key + ".jpg", Language: "en", Source: "Example News",
		Published: firstSeen.Add(-time.Hour), FirstSeen: firstSeen,
	}
}

func testFeeds(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)

	f := &digest.Feed{URL: "https://a.example/feed.xml", Name: "a", Title: "A News", SiteURL: "https://a.example/",
		Language: "en", Priority: 2, CreatedAt: base}
	must(t, s.CreateFeed(ctx, f))
	if f.ID == 0 {
		t.Fatal("CreateFeed did not set ID")
	}
	got, err := s.FindFeedByID(ctx, f.ID)
	must(t, err)
	if got.URL != f.URL || got.Name != "a" || got.Title != "A News" || got.SiteURL != f.SiteURL ||
		got.Language != "en" || got.Priority != 2 {
		t.Errorf("FindFeedByID = %+v, want fields of %+v", got, f)
	}
	sameTime(t, "CreatedAt", got.CreatedAt, base)
	if got.Status() != digest.FeedNew {
		t.Errorf("new feed status = %q, want %q", got.Status(), digest.FeedNew)
	}

	t.Run("duplicate URL", func(t *testing.T) {
		wantCode(t, s.CreateFeed(ctx, &digest.Feed{URL: f.URL}), digest.ECONFLICT)
	})
	t.Run("empty URL", func(t *testing.T) {
		wantCode(t, s.CreateFeed(ctx, &digest.Feed{}), digest.EINVALID)
	})
	t.Run("not found", func(t *testing.T) {
		_, err := s.FindFeedByID(ctx, f.ID+1000)
		wantCode(t, err, digest.ENOTFOUND)
		_, err = s.FindFeedByURL(ctx, "https://nowhere.example/")
		wantCode(t, err, digest.ENOTFOUND)
		wantCode(t, s.UpdateFeed(ctx, &digest.Feed{ID: f.ID + 1000}), digest.ENOTFOUND)
		wantCode(t, s.DeleteFeed(ctx, f.ID+1000), digest.ENOTFOUND)
	})
	t.Run("by URL", func(t *testing.T) {
		got, err := s.FindFeedByURL(ctx, f.URL)
		must(t, err)
		if got.ID != f.ID {
			t.Errorf("FindFeedByURL id = %d, want %d", got.ID, f.ID)
		}
	})
	t.Run("fetch state round trip", func(t *testing.T) {
		u := *got
		u.Title = "A News (renamed)"
		u.FetchState = digest.FetchState{
			ETag: `W/"abc"`, LastModified: "Sun, 22 Mar 2026 09:00:00 GMT", BodyHash: "h1",
			CheckedAt: base.Add(time.Minute), SucceededAt: base, NextCheckAt: base.Add(time.Hour),
			ConsecutiveErrors: 3, LastError: "fetch: 503 Service Unavailable", FailingSince: base.Add(-time.Hour),
		}
		must(t, s.UpdateFeed(ctx, &u))
		back, err := s.FindFeedByID(ctx, f.ID)
		must(t, err)
		if back.Title != u.Title || back.ETag != u.ETag || back.LastModified != u.LastModified ||
			back.BodyHash != "h1" || back.ConsecutiveErrors != 3 || back.LastError != u.LastError {
			t.Errorf("after UpdateFeed got %+v, want %+v", back, u)
		}
		sameTime(t, "CheckedAt", back.CheckedAt, u.CheckedAt)
		sameTime(t, "SucceededAt", back.SucceededAt, u.SucceededAt)
		sameTime(t, "NextCheckAt", back.NextCheckAt, u.NextCheckAt)
		sameTime(t, "FailingSince", back.FailingSince, u.FailingSince)
		if back.Status() != digest.FeedFailing {
			t.Errorf("status = %q, want failing", back.Status())
		}
	})
	t.Run("list", func(t *testing.T) {
		g := mustFeed(t, s, "https://b.example/rss")
		h := mustFeed(t, s, "https://c.example/atom")
		h.NextCheckAt = base.Add(48 * time.Hour)
		must(t, s.UpdateFeed(ctx, h))
		all, err := s.ListFeeds(ctx, digest.FeedFilter{})
		must(t, err)
		if ids := feedIDs(all); fmt.Sprint(ids) != fmt.Sprint([]int64{f.ID, g.ID, h.ID}) {
			t.Errorf("ListFeeds ids = %v, want ordered [%d %d %d]", ids, f.ID, g.ID, h.ID)
		}
		due, err := s.ListFeeds(ctx, digest.FeedFilter{DueBefore: base.Add(2 * time.Hour)})
		must(t, err)
		if ids := feedIDs(due); fmt.Sprint(ids) != fmt.Sprint([]int64{f.ID, g.ID}) {
			t.Errorf("due feeds = %v, want [%d %d]", ids, f.ID, g.ID)
		}
		some, err := s.ListFeeds(ctx, digest.FeedFilter{IDs: []int64{h.ID, f.ID}})
		must(t, err)
		if ids := feedIDs(some); fmt.Sprint(ids) != fmt.Sprint([]int64{f.ID, h.ID}) {
			t.Errorf("feeds by ids = %v", ids)
		}
		none, err := s.ListFeeds(ctx, digest.FeedFilter{IDs: []int64{}})
		must(t, err)
		if len(none) != 0 {
			t.Errorf("empty IDs filter returned %d feeds", len(none))
		}
		one, err := s.ListFeeds(ctx, digest.FeedFilter{Limit: 1})
		must(t, err)
		if len(one) != 1 {
			t.Errorf("Limit 1 returned %d feeds", len(one))
		}
	})
	t.Run("delete", func(t *testing.T) {
		d := mustFeed(t, s, "https://d.example/feed")
		must(t, s.DeleteFeed(ctx, d.ID))
		_, err := s.FindFeedByID(ctx, d.ID)
		wantCode(t, err, digest.ENOTFOUND)
	})
}

func feedIDs(fs []*digest.Feed) []int64 {
	ids := make([]int64, len(fs))
	for i, f := range fs {
		ids[i] = f.ID
	}
	return ids
}

func articleIDs(as []*digest.Article) []int64 {
	ids := make([]int64, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	return ids
}

func testArticles(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	f1 := mustFeed(t, s, "https://one.example/feed")
	f2 := mustFeed(t, s, "https://two.example/feed")

	a := article("a", "Alpha", base)
	b := article("b", "Beta", base.Add(time.Minute))
	dupInBatch := article("a", "Alpha again", base)
	ins, err := s.SaveArticles(ctx, f1.ID, []*digest.Article{a, b, dupInBatch})
	must(t, err)
	if len(ins) != 2 || ins[0] != a || ins[1] != b {
		t.Fatalf("SaveArticles inserted %d articles, want a and b in order", len(ins))
	}
	if a.ID == 0 || b.ID == 0 || a.ID == b.ID || a.FeedID != f1.ID {
		t.Fatalf("inserted articles have ids %d, %d and feed %d", a.ID, b.ID, a.FeedID)
	}

	t.Run("round trip", func(t *testing.T) {
		got, err := s.FindArticleByID(ctx, a.ID)
		must(t, err)
		if got.Key != "a" || got.GUID != "a" || got.URL != a.URL || got.Title != "Alpha" || got.Summary != a.Summary ||
			got.Content != a.Content || got.Author != a.Author || got.ImageURL != a.ImageURL ||
			got.Language != "en" || got.Source != "Example News" || got.FeedID != f1.ID || got.StoryID != 0 {
			t.Errorf("FindArticleByID = %+v, want %+v", got, a)
		}
		sameTime(t, "Published", got.Published, base.Add(-time.Hour))
		sameTime(t, "FirstSeen", got.FirstSeen, base)
		byKey, err := s.FindArticleByKey(ctx, "b")
		must(t, err)
		if byKey.ID != b.ID {
			t.Errorf("FindArticleByKey id = %d, want %d", byKey.ID, b.ID)
		}
	})
	t.Run("not found", func(t *testing.T) {
		_, err := s.FindArticleByID(ctx, 99999)
		wantCode(t, err, digest.ENOTFOUND)
		_, err = s.FindArticleByKey(ctx, "nope")
		wantCode(t, err, digest.ENOTFOUND)
		_, err = s.SaveArticles(ctx, 99999, []*digest.Article{article("z", "Z", base)})
		wantCode(t, err, digest.ENOTFOUND)
	})
	t.Run("invalid", func(t *testing.T) {
		_, err := s.SaveArticles(ctx, f1.ID, []*digest.Article{article("ok", "OK", base), {Title: "no key"}})
		wantCode(t, err, digest.EINVALID)
		_, err = s.FindArticleByKey(ctx, "ok")
		wantCode(t, err, digest.ENOTFOUND) // nothing of a rejected batch is stored
	})
	t.Run("same article in two feeds is stored once and linked to both", func(t *testing.T) {
		again := article("a", "Alpha", base.Add(time.Hour))
		ins, err := s.SaveArticles(ctx, f2.ID, []*digest.Article{again})
		must(t, err)
		if len(ins) != 0 {
			t.Fatalf("re-saving a known key inserted %d articles", len(ins))
		}
		feeds, err := s.ArticleFeeds(ctx, a.ID)
		must(t, err)
		if fmt.Sprint(feeds) != fmt.Sprint([]int64{f1.ID, f2.ID}) {
			t.Errorf("ArticleFeeds = %v, want [%d %d]", feeds, f1.ID, f2.ID)
		}
		inF2, err := s.ListArticles(ctx, digest.ArticleFilter{FeedID: f2.ID})
		must(t, err)
		if fmt.Sprint(articleIDs(inF2)) != fmt.Sprint([]int64{a.ID}) {
			t.Errorf("articles of feed 2 = %v, want [%d]", articleIDs(inF2), a.ID)
		}
		f, err := s.FindFeedByID(ctx, f2.ID)
		must(t, err)
		if f.Articles != 1 {
			t.Errorf("feed 2 Articles = %d, want 1", f.Articles)
		}
	})
	t.Run("defaults for missing times", func(t *testing.T) {
		c := &digest.Article{Key: "c", Title: "No dates"}
		_, err := s.SaveArticles(ctx, f1.ID, []*digest.Article{c})
		must(t, err)
		got, err := s.FindArticleByID(ctx, c.ID)
		must(t, err)
		if got.FirstSeen.IsZero() || !got.Published.Equal(got.FirstSeen) {
			t.Errorf("missing dates: first seen %v, published %v; want published = first seen", got.FirstSeen, got.Published)
		}
	})
	t.Run("list filters", func(t *testing.T) {
		since, err := s.ListArticles(ctx, digest.ArticleFilter{Since: base.Add(30 * time.Second), Until: base.Add(2 * time.Minute)})
		must(t, err)
		if fmt.Sprint(articleIDs(since)) != fmt.Sprint([]int64{b.ID}) {
			t.Errorf("Since/Until = %v, want [%d]", articleIDs(since), b.ID)
		}
		after, err := s.ListArticles(ctx, digest.ArticleFilter{AfterID: a.ID, Limit: 1})
		must(t, err)
		if fmt.Sprint(articleIDs(after)) != fmt.Sprint([]int64{b.ID}) {
			t.Errorf("AfterID+Limit = %v, want [%d]", articleIDs(after), b.ID)
		}
		byURL, err := s.ListArticles(ctx, digest.ArticleFilter{URL: b.URL})
		must(t, err)
		if fmt.Sprint(articleIDs(byURL)) != fmt.Sprint([]int64{b.ID}) {
			t.Errorf("URL filter = %v, want [%d]", articleIDs(byURL), b.ID)
		}
		inFeeds, err := s.ListArticles(ctx, digest.ArticleFilter{FeedIDs: []int64{f2.ID, 99999}})
		must(t, err)
		if fmt.Sprint(articleIDs(inFeeds)) != fmt.Sprint([]int64{a.ID}) {
			t.Errorf("FeedIDs = %v, want [%d]", articleIDs(inFeeds), a.ID)
		}
		noFeeds, err := s.ListArticles(ctx, digest.ArticleFilter{FeedIDs: []int64{}})
		must(t, err)
		if len(noFeeds) != 0 {
			t.Errorf("empty FeedIDs listed %d articles", len(noFeeds))
		}
		must(t, s.AssignStories(ctx, []digest.StoryAssignment{{ArticleID: a.ID, StoryID: a.ID}}, base))
		un, err := s.ListArticles(ctx, digest.ArticleFilter{Unassigned: true})
		must(t, err)
		for _, x := range un {
			if x.ID == a.ID {
				t.Errorf("Unassigned listed article %d, which has a story", a.ID)
			}
		}
		if len(un) != 2 {
			t.Errorf("Unassigned = %v, want b and c", articleIDs(un))
		}
	})
	t.Run("deleting a feed keeps its articles", func(t *testing.T) {
		must(t, s.DeleteFeed(ctx, f1.ID))
		got, err := s.FindArticleByID(ctx, b.ID)
		must(t, err)
		if got.FeedID != 0 {
			t.Errorf("article of deleted feed has FeedID %d, want 0", got.FeedID)
		}
		feeds, err := s.ArticleFeeds(ctx, a.ID)
		must(t, err)
		if fmt.Sprint(feeds) != fmt.Sprint([]int64{f2.ID}) {
			t.Errorf("ArticleFeeds after delete = %v, want [%d]", feeds, f2.ID)
		}
	})
}

func testStories(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	f1 := mustFeed(t, s, "https://one.example/feed")
	f2 := mustFeed(t, s, "https://two.example/feed")
	var arts []*digest.Article
	for i := range 5 {
		arts = append(arts, article(fmt.Sprintf("k%d", i), fmt.Sprintf("Title %d", i), base.Add(time.Duration(i)*time.Minute)))
	}
	_, err := s.SaveArticles(ctx, f1.ID, arts[:3])
	must(t, err)
	_, err = s.SaveArticles(ctx, f2.ID, arts[3:])
	must(t, err)
	a0, a1, a2, a3, a4 := arts[0].ID, arts[1].ID, arts[2].ID, arts[3].ID, arts[4].ID

	must(t, s.AssignStories(ctx, []digest.StoryAssignment{assign(a0, a0), assign(a1, a0), assign(a2, a2)}, base.Add(time.Hour)))
	must(t, s.AssignStories(ctx, []digest.StoryAssignment{assign(a3, a3)}, base.Add(2*time.Hour)))
	st, err := s.FindStoryByID(ctx, a0)
	must(t, err)
	if st.Articles != 2 {
		t.Errorf("story %d has %d articles, want 2", a0, st.Articles)
	}
	sameTime(t, "story CreatedAt", st.CreatedAt, arts[0].FirstSeen)
	sameTime(t, "story UpdatedAt", st.UpdatedAt, base.Add(time.Hour))
	got, err := s.FindArticleByID(ctx, a1)
	must(t, err)
	if got.StoryID != a0 {
		t.Errorf("article %d story = %d, want %d", a1, got.StoryID, a0)
	}

	t.Run("not found", func(t *testing.T) {
		_, err := s.FindStoryByID(ctx, 99999)
		wantCode(t, err, digest.ENOTFOUND)
		err = s.AssignStories(ctx, []digest.StoryAssignment{{ArticleID: 99999, StoryID: a0}}, base)
		wantCode(t, err, digest.ENOTFOUND)
		wantCode(t, s.MergeStories(ctx, digest.StoryMerge{From: 99999, Into: a0, ArticleID: a4}), digest.ENOTFOUND)
		wantCode(t, s.MergeStories(ctx, digest.StoryMerge{From: a0, Into: a0}), digest.EINVALID)
	})
	t.Run("list", func(t *testing.T) {
		all, err := s.ListStories(ctx, digest.StoryFilter{})
		must(t, err)
		// a0 and a2 were updated at the same time: the newer story first.
		if fmt.Sprint(storyIDs(all)) != fmt.Sprint([]int64{a3, a2, a0}) {
			t.Errorf("ListStories = %v, want most recently updated first [%d %d %d]", storyIDs(all), a3, a2, a0)
		}
		recent, err := s.ListStories(ctx, digest.StoryFilter{UpdatedSince: base.Add(90 * time.Minute)})
		must(t, err)
		if fmt.Sprint(storyIDs(recent)) != fmt.Sprint([]int64{a3}) {
			t.Errorf("UpdatedSince = %v, want [%d]", storyIDs(recent), a3)
		}
		inF2, err := s.ListStories(ctx, digest.StoryFilter{FeedIDs: []int64{f2.ID}})
		must(t, err)
		if fmt.Sprint(storyIDs(inF2)) != fmt.Sprint([]int64{a3}) {
			t.Errorf("FeedIDs = %v, want [%d]", storyIDs(inF2), a3)
		}
	})
	t.Run("merge", func(t *testing.T) {
		must(t, s.AssignStories(ctx, []digest.StoryAssignment{assign(a4, a0)}, base.Add(3*time.Hour)))
		m := digest.StoryMerge{From: a2, Into: a0, ArticleID: a4, At: base.Add(3 * time.Hour)}
		must(t, s.MergeStories(ctx, m))
		_, err := s.FindStoryByID(ctx, a2)
		wantCode(t, err, digest.ENOTFOUND)
		st, err := s.FindStoryByID(ctx, a0)
		must(t, err)
		if st.Articles != 4 {
			t.Errorf("merged story has %d articles, want 4", st.Articles)
		}
		members, err := s.ListArticles(ctx, digest.ArticleFilter{StoryID: a0})
		must(t, err)
		if fmt.Sprint(articleIDs(members)) != fmt.Sprint([]int64{a0, a1, a2, a4}) {
			t.Errorf("members = %v", articleIDs(members))
		}
		merges, err := s.StoryMerges(ctx, a0)
		must(t, err)
		if len(merges) != 1 || merges[0].From != a2 || merges[0].Into != a0 || merges[0].ArticleID != a4 {
			t.Errorf("StoryMerges = %+v, want one merge %+v", merges, m)
		}
	})
}

func assign(article, story int64) digest.StoryAssignment {
	return digest.StoryAssignment{ArticleID: article, StoryID: story}
}

func storyIDs(ss []*digest.Story) []int64 {
	ids := make([]int64, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	return ids
}

func testSubscriptions(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	f1 := mustFeed(t, s, "https://one.example/feed")
	f2 := mustFeed(t, s, "https://two.example/feed")

	chat := &digest.Chat{Platform: digest.PlatformTelegram, ID: "-100123", Kind: "group", Title: "Team"}
	must(t, s.UpsertChat(ctx, chat))
	if !chat.Active || chat.CreatedAt.IsZero() {
		t.Errorf("new chat: active %v, created %v", chat.Active, chat.CreatedAt)
	}
	created := chat.CreatedAt
	chat.Title = "Team (renamed)"
	chat.CreatedAt = time.Time{}
	must(t, s.UpsertChat(ctx, chat))
	got, err := s.FindChat(ctx, digest.PlatformTelegram, "-100123")
	must(t, err)
	if got.Title != "Team (renamed)" || got.Kind != "group" || !got.Active {
		t.Errorf("FindChat = %+v", got)
	}
	sameTime(t, "chat CreatedAt kept by upsert", got.CreatedAt, created)

	t.Run("chat not found", func(t *testing.T) {
		_, err := s.FindChat(ctx, digest.PlatformTelegram, "nope")
		wantCode(t, err, digest.ENOTFOUND)
		wantCode(t, s.SetChatActive(ctx, digest.PlatformTelegram, "nope", false, "blocked"), digest.ENOTFOUND)
		wantCode(t, s.UpsertChat(ctx, &digest.Chat{}), digest.EINVALID)
	})

	sub := &digest.Subscription{
		Platform: digest.PlatformTelegram, ChatID: "-100123", FeedIDs: []int64{f2.ID, f1.ID},
		Filters:  digest.Filters{Include: []string{"election", "/vot(e|ing)/"}, Exclude: []string{"sport"}},
		Schedule: "0 8 * * *", TimeZone: "Europe/Berlin", Limit: 5, CreatedAt: base,
	}
	must(t, s.CreateSubscription(ctx, sub))
	if sub.ID == 0 {
		t.Fatal("CreateSubscription did not set ID")
	}
	t.Run("round trip", func(t *testing.T) {
		got, err := s.FindSubscriptionByID(ctx, sub.ID)
		must(t, err)
		if got.Platform != sub.Platform || got.ChatID != sub.ChatID || got.ThreadID != "" ||
			fmt.Sprint(got.FeedIDs) != fmt.Sprint([]int64{f1.ID, f2.ID}) ||
			fmt.Sprint(got.Filters) != fmt.Sprint(sub.Filters) || got.Schedule != sub.Schedule ||
			got.TimeZone != sub.TimeZone || got.Limit != 5 {
			t.Errorf("FindSubscriptionByID = %+v, want %+v", got, sub)
		}
		byChat, err := s.FindSubscription(ctx, digest.PlatformTelegram, "-100123", "")
		must(t, err)
		if byChat.ID != sub.ID {
			t.Errorf("FindSubscription id = %d, want %d", byChat.ID, sub.ID)
		}
	})
	t.Run("conflicts and not found", func(t *testing.T) {
		dup := &digest.Subscription{Platform: digest.PlatformTelegram, ChatID: "-100123"}
		wantCode(t, s.CreateSubscription(ctx, dup), digest.ECONFLICT)
		noChat := &digest.Subscription{Platform: digest.PlatformTelegram, ChatID: "ghost"}
		wantCode(t, s.CreateSubscription(ctx, noChat), digest.ENOTFOUND)
		noFeed := &digest.Subscription{Platform: digest.PlatformTelegram, ChatID: "-100123", ThreadID: "7", FeedIDs: []int64{99999}}
		wantCode(t, s.CreateSubscription(ctx, noFeed), digest.ENOTFOUND)
		_, err := s.FindSubscription(ctx, digest.PlatformTelegram, "-100123", "7")
		wantCode(t, err, digest.ENOTFOUND) // the failed create left nothing behind
		_, err = s.FindSubscriptionByID(ctx, 99999)
		wantCode(t, err, digest.ENOTFOUND)
		wantCode(t, s.UpdateSubscription(ctx, &digest.Subscription{ID: 99999}), digest.ENOTFOUND)
		wantCode(t, s.DeleteSubscription(ctx, 99999), digest.ENOTFOUND)
		wantCode(t, s.AddSubscriptionFeed(ctx, sub.ID, f1.ID), digest.ECONFLICT)
		wantCode(t, s.AddSubscriptionFeed(ctx, sub.ID, 99999), digest.ENOTFOUND)
		wantCode(t, s.RemoveSubscriptionFeed(ctx, sub.ID, 99999), digest.ENOTFOUND)
	})
	t.Run("threads are separate subscriptions", func(t *testing.T) {
		topic := &digest.Subscription{Platform: digest.PlatformTelegram, ChatID: "-100123", ThreadID: "42", FeedIDs: []int64{f1.ID}}
		must(t, s.CreateSubscription(ctx, topic))
		got, err := s.FindSubscription(ctx, digest.PlatformTelegram, "-100123", "42")
		must(t, err)
		if got.ID != topic.ID || got.ID == sub.ID {
			t.Errorf("thread subscription id = %d", got.ID)
		}
		must(t, s.DeleteSubscription(ctx, topic.ID))
	})
	t.Run("update and feeds", func(t *testing.T) {
		u := *sub
		u.Filters = digest.Filters{}
		u.Schedule = "30 7 * * 1-5"
		u.TimeZone = "America/New_York"
		u.LastDigestAt = base.Add(24 * time.Hour)
		must(t, s.UpdateSubscription(ctx, &u))
		must(t, s.RemoveSubscriptionFeed(ctx, sub.ID, f2.ID))
		got, err := s.FindSubscriptionByID(ctx, sub.ID)
		must(t, err)
		if got.Schedule != u.Schedule || got.TimeZone != u.TimeZone || got.Filters.Include != nil ||
			got.Filters.Exclude != nil || fmt.Sprint(got.FeedIDs) != fmt.Sprint([]int64{f1.ID}) {
			t.Errorf("after update = %+v", got)
		}
		sameTime(t, "LastDigestAt", got.LastDigestAt, u.LastDigestAt)
		must(t, s.AddSubscriptionFeed(ctx, sub.ID, f2.ID))
	})
	t.Run("list", func(t *testing.T) {
		dm := &digest.Chat{Platform: digest.PlatformDiscord, ID: "dm-1", Kind: "private"}
		must(t, s.UpsertChat(ctx, dm))
		other := &digest.Subscription{Platform: digest.PlatformDiscord, ChatID: "dm-1", FeedIDs: []int64{f2.ID}, Schedule: "0 9 * * *"}
		must(t, s.CreateSubscription(ctx, other))
		byFeed, err := s.ListSubscriptions(ctx, digest.SubscriptionFilter{FeedID: f1.ID})
		must(t, err)
		if len(byFeed) != 1 || byFeed[0].ID != sub.ID {
			t.Errorf("subscriptions following feed 1 = %d, want only %d", len(byFeed), sub.ID)
		}
		byPlatform, err := s.ListSubscriptions(ctx, digest.SubscriptionFilter{Platform: digest.PlatformDiscord, ChatID: "dm-1"})
		must(t, err)
		if len(byPlatform) != 1 || byPlatform[0].ID != other.ID {
			t.Errorf("discord subscriptions = %d", len(byPlatform))
		}
		must(t, s.SetChatActive(ctx, digest.PlatformDiscord, "dm-1", false, "bot was blocked"))
		c, err := s.FindChat(ctx, digest.PlatformDiscord, "dm-1")
		must(t, err)
		if c.Active || c.Inactive != "bot was blocked" {
			t.Errorf("inactive chat = %+v", c)
		}
		scheduled, err := s.ListSubscriptions(ctx, digest.SubscriptionFilter{Scheduled: true})
		must(t, err)
		if len(scheduled) != 1 || scheduled[0].ID != sub.ID {
			t.Errorf("scheduled subscriptions = %d, want only %d (the other chat is inactive)", len(scheduled), sub.ID)
		}
		must(t, s.SetChatActive(ctx, digest.PlatformDiscord, "dm-1", true, ""))
		scheduled, err = s.ListSubscriptions(ctx, digest.SubscriptionFilter{Scheduled: true})
		must(t, err)
		if len(scheduled) != 2 {
			t.Errorf("scheduled subscriptions after reactivation = %d, want 2", len(scheduled))
		}
	})
	t.Run("story deliveries", func(t *testing.T) {
		arts := []*digest.Article{article("s1", "One", base), article("s2", "Two", base), article("s3", "Three", base)}
		_, err := s.SaveArticles(ctx, f1.ID, arts)
		must(t, err)
		s1, s2, s3 := arts[0].ID, arts[1].ID, arts[2].ID
		must(t, s.AssignStories(ctx, []digest.StoryAssignment{assign(s1, s1), assign(s2, s2), assign(s3, s3)}, base))
		got, err := s.StoryDeliveries(ctx, sub.ID, []int64{s1, s2, s3})
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("deliveries before any = %v", got)
		}
		must(t, s.RecordStoryDeliveries(ctx, sub.ID, []digest.StoryDelivery{{StoryID: s1, Sources: 2}, {StoryID: s2, Sources: 1}}, base))
		must(t, s.RecordStoryDeliveries(ctx, sub.ID, []digest.StoryDelivery{{StoryID: s1, Sources: 3}}, base.Add(time.Hour)))
		got, err = s.StoryDeliveries(ctx, sub.ID, []int64{s1, s2, s3})
		must(t, err)
		if fmt.Sprint(got) != fmt.Sprint(map[int64]int{s1: 3, s2: 1}) {
			t.Errorf("deliveries = %v, want %d:3 %d:1", got, s1, s2)
		}
		wantCode(t, s.RecordStoryDeliveries(ctx, 99999, []digest.StoryDelivery{{StoryID: s1, Sources: 1}}, base), digest.ENOTFOUND)
		// s2 merges into s1: the record follows the surviving id.
		must(t, s.MergeStories(ctx, digest.StoryMerge{From: s2, Into: s1, ArticleID: s3, At: base.Add(2 * time.Hour)}))
		got, err = s.StoryDeliveries(ctx, sub.ID, []int64{s1, s2})
		must(t, err)
		if fmt.Sprint(got) != fmt.Sprint(map[int64]int{s1: 3}) {
			t.Errorf("deliveries after merge = %v, want only %d:3", got, s1)
		}
		must(t, s.MergeStories(ctx, digest.StoryMerge{From: s3, Into: s1, ArticleID: s3, At: base.Add(2 * time.Hour)}))
	})
	t.Run("migrate chat", func(t *testing.T) {
		old := &digest.Chat{Platform: digest.PlatformTelegram, ID: "-500", Kind: "group", Title: "Old group"}
		must(t, s.UpsertChat(ctx, old))
		ms := &digest.Subscription{Platform: digest.PlatformTelegram, ChatID: "-500", FeedIDs: []int64{f1.ID}, Schedule: "0 8 * * *"}
		must(t, s.CreateSubscription(ctx, ms))
		pending := &digest.OutboxMessage{Key: "migrate/1", Platform: digest.PlatformTelegram, ChatID: "-500", Kind: "reply", Payload: []byte("hi")}
		must(t, s.EnqueueMessages(ctx, []*digest.OutboxMessage{pending}))
		must(t, s.MigrateChat(ctx, digest.PlatformTelegram, "-500", "-100500"))
		if _, err := s.FindChat(ctx, digest.PlatformTelegram, "-500"); digest.ErrorCode(err) != digest.ENOTFOUND {
			t.Errorf("old chat still found: %v", err)
		}
		c, err := s.FindChat(ctx, digest.PlatformTelegram, "-100500")
		must(t, err)
		if c.Title != "Old group" {
			t.Errorf("migrated chat = %+v", c)
		}
		got, err := s.FindSubscription(ctx, digest.PlatformTelegram, "-100500", "")
		must(t, err)
		if got.ID != ms.ID || fmt.Sprint(got.FeedIDs) != fmt.Sprint([]int64{f1.ID}) {
			t.Errorf("migrated subscription = %+v", got)
		}
		msgs, err := s.ListOutbox(ctx, digest.OutboxFilter{ChatID: "-100500"})
		must(t, err)
		if len(msgs) != 1 || msgs[0].ID != pending.ID {
			t.Errorf("pending message not moved: %+v", msgs)
		}
		wantCode(t, s.MigrateChat(ctx, digest.PlatformTelegram, "-500", "-1"), digest.ENOTFOUND)
		wantCode(t, s.MigrateChat(ctx, digest.PlatformTelegram, "-100500", "-100123"), digest.ECONFLICT)
	})
	t.Run("deleting a feed unlinks it", func(t *testing.T) {
		must(t, s.DeleteFeed(ctx, f2.ID))
		got, err := s.FindSubscriptionByID(ctx, sub.ID)
		must(t, err)
		if fmt.Sprint(got.FeedIDs) != fmt.Sprint([]int64{f1.ID}) {
			t.Errorf("feeds after deleting feed 2 = %v", got.FeedIDs)
		}
	})
}

func testOutbox(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	slot := base.Truncate(time.Hour)
	parts := []*digest.OutboxMessage{
		{Key: "digest/1/slot/1", Platform: digest.PlatformTelegram, ChatID: "42", SubscriptionID: 1, Slot: slot,
			Part: 1, Parts: 2, Kind: "digest", Payload: []byte("part one"), CreatedAt: base},
		{Key: "digest/1/slot/2", Platform: digest.PlatformTelegram, ChatID: "42", SubscriptionID: 1, Slot: slot,
			Part: 2, Parts: 2, Kind: "digest", Payload: []byte("part two"), CreatedAt: base},
	}
	must(t, s.EnqueueMessages(ctx, parts))
	if parts[0].ID == 0 || parts[1].ID <= parts[0].ID || parts[0].Status != digest.OutboxPending {
		t.Fatalf("enqueued ids %d, %d status %q", parts[0].ID, parts[1].ID, parts[0].Status)
	}

	t.Run("enqueued once", func(t *testing.T) {
		again := []*digest.OutboxMessage{
			{Key: "digest/1/slot/3", Platform: digest.PlatformTelegram, ChatID: "42", Kind: "digest", Payload: []byte("x")},
			{Key: "digest/1/slot/1", Platform: digest.PlatformTelegram, ChatID: "42", Kind: "digest", Payload: []byte("y")},
		}
		wantCode(t, s.EnqueueMessages(ctx, again), digest.ECONFLICT)
		all, err := s.ListOutbox(ctx, digest.OutboxFilter{})
		must(t, err)
		if len(all) != 2 {
			t.Errorf("outbox holds %d messages after a rejected batch, want 2", len(all))
		}
		wantCode(t, s.EnqueueMessages(ctx, []*digest.OutboxMessage{{Key: "k"}}), digest.EINVALID)
	})
	t.Run("due, sent, retried, failed", func(t *testing.T) {
		due, err := s.ListOutbox(ctx, digest.OutboxFilter{DueAt: base})
		must(t, err)
		if len(due) != 2 || string(due[0].Payload) != "part one" || due[0].Part != 1 || due[0].Parts != 2 {
			t.Fatalf("due = %+v", due)
		}
		sameTime(t, "Slot", due[0].Slot, slot)
		must(t, s.MarkSent(ctx, parts[0].ID, "msg-7", base.Add(time.Second)))
		wantCode(t, s.MarkSent(ctx, parts[0].ID, "msg-8", base.Add(time.Second)), digest.ECONFLICT)
		wantCode(t, s.MarkSent(ctx, 99999, "", base), digest.ENOTFOUND)
		must(t, s.MarkAttemptFailed(ctx, parts[1].ID, "429 Too Many Requests", base.Add(time.Minute)))
		due, err = s.ListOutbox(ctx, digest.OutboxFilter{DueAt: base.Add(30 * time.Second)})
		must(t, err)
		if len(due) != 0 {
			t.Errorf("a message retried later is due early: %+v", due)
		}
		due, err = s.ListOutbox(ctx, digest.OutboxFilter{DueAt: base.Add(time.Minute)})
		must(t, err)
		if len(due) != 1 || due[0].ID != parts[1].ID || due[0].Attempts != 1 || due[0].LastError != "429 Too Many Requests" {
			t.Fatalf("due after retry = %+v", due)
		}
		must(t, s.MarkAttemptFailed(ctx, parts[1].ID, "403 Forbidden: bot was blocked", time.Time{}))
		wantCode(t, s.MarkAttemptFailed(ctx, parts[1].ID, "again", base), digest.ECONFLICT)
		failed, err := s.ListOutbox(ctx, digest.OutboxFilter{Status: digest.OutboxFailed})
		must(t, err)
		if len(failed) != 1 || failed[0].Attempts != 2 {
			t.Errorf("failed = %+v", failed)
		}
		sent, err := s.ListOutbox(ctx, digest.OutboxFilter{Status: digest.OutboxSent, Platform: digest.PlatformTelegram, ChatID: "42"})
		must(t, err)
		if len(sent) != 1 || sent[0].PlatformID != "msg-7" {
			t.Errorf("sent = %+v", sent)
		}
		sameTime(t, "SentAt", sent[0].SentAt, base.Add(time.Second))
		newest, err := s.ListOutbox(ctx, digest.OutboxFilter{Kind: "digest", Newest: true, Limit: 1})
		must(t, err)
		if len(newest) != 1 || newest[0].ID != parts[1].ID {
			t.Errorf("newest digest message = %+v, want id %d", newest, parts[1].ID)
		}
	})
}

func testEnqueueDigest(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	f := mustFeed(t, s, "https://one.example/feed")
	must(t, s.UpsertChat(ctx, &digest.Chat{Platform: digest.PlatformTelegram, ID: "9"}))
	sub := &digest.Subscription{Platform: digest.PlatformTelegram, ChatID: "9", FeedIDs: []int64{f.ID}, Schedule: "0 8 * * *"}
	must(t, s.CreateSubscription(ctx, sub))
	arts := []*digest.Article{article("d1", "One", base)}
	_, err := s.SaveArticles(ctx, f.ID, arts)
	must(t, err)
	must(t, s.AssignStories(ctx, []digest.StoryAssignment{assign(arts[0].ID, arts[0].ID)}, base))
	slot := base.Add(time.Hour)
	parts := func() []*digest.OutboxMessage {
		return []*digest.OutboxMessage{
			{Key: "digest/x/1", Platform: digest.PlatformTelegram, ChatID: "9", SubscriptionID: sub.ID, Slot: slot, Part: 1, Parts: 2, Kind: "digest", Payload: []byte("1")},
			{Key: "digest/x/2", Platform: digest.PlatformTelegram, ChatID: "9", SubscriptionID: sub.ID, Slot: slot, Part: 2, Parts: 2, Kind: "digest", Payload: []byte("2")},
		}
	}
	deliveries := []digest.StoryDelivery{{StoryID: arts[0].ID, Sources: 1}}
	must(t, s.EnqueueDigest(ctx, sub.ID, parts(), deliveries, slot))
	got, err := s.FindSubscriptionByID(ctx, sub.ID)
	must(t, err)
	sameTime(t, "LastDigestAt", got.LastDigestAt, slot)
	sent, err := s.StoryDeliveries(ctx, sub.ID, []int64{arts[0].ID})
	must(t, err)
	if sent[arts[0].ID] != 1 {
		t.Errorf("deliveries = %v", sent)
	}
	// The same slot again changes nothing.
	wantCode(t, s.EnqueueDigest(ctx, sub.ID, parts(), nil, slot.Add(time.Hour)), digest.ECONFLICT)
	got, err = s.FindSubscriptionByID(ctx, sub.ID)
	must(t, err)
	sameTime(t, "LastDigestAt after a repeated slot", got.LastDigestAt, slot)
	all, err := s.ListOutbox(ctx, digest.OutboxFilter{})
	must(t, err)
	if len(all) != 2 {
		t.Errorf("outbox holds %d messages, want 2", len(all))
	}
	wantCode(t, s.EnqueueDigest(ctx, 99999, nil, nil, slot), digest.ENOTFOUND)
}

func testState(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	_, err := s.State(ctx, "telegram.offset")
	wantCode(t, err, digest.ENOTFOUND)
	must(t, s.SetState(ctx, "telegram.offset", "100"))
	must(t, s.SetState(ctx, "telegram.offset", "101"))
	v, err := s.State(ctx, "telegram.offset")
	must(t, err)
	if v != "101" {
		t.Errorf("State = %q, want 101", v)
	}
	must(t, s.Ping(ctx))
}

// testConcurrentWriters saves overlapping batches from several goroutines:
// every write must succeed (no "database is locked"), and every key must be
// stored exactly once.
func testConcurrentWriters(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	const writers, perWriter = 8, 40
	feeds := make([]*digest.Feed, writers)
	for i := range feeds {
		feeds[i] = mustFeed(t, s, fmt.Sprintf("https://w%d.example/feed", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	inserted := make([]int, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				// Half the keys are shared by every writer.
				key := fmt.Sprintf("w%d-%d", w, i)
				if i%2 == 0 {
					key = fmt.Sprintf("shared-%d", i)
				}
				ins, err := s.SaveArticles(ctx, feeds[w].ID, []*digest.Article{article(key, key, base)})
				if err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				inserted[w] += len(ins)
			}
			if err := s.SetState(ctx, fmt.Sprintf("writer.%d", w), "done"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for _, n := range inserted {
		total += n
	}
	want := writers*perWriter/2 + perWriter/2
	if total != want {
		t.Errorf("inserted %d articles in all, want %d (each key once)", total, want)
	}
	all, err := s.ListArticles(ctx, digest.ArticleFilter{})
	must(t, err)
	if len(all) != want {
		t.Errorf("stored %d articles, want %d", len(all), want)
	}
	shared, err := s.FindArticleByKey(ctx, "shared-0")
	must(t, err)
	linked, err := s.ArticleFeeds(ctx, shared.ID)
	must(t, err)
	if len(linked) != writers {
		t.Errorf("shared article linked to %d feeds, want %d", len(linked), writers)
	}
}

// testConcurrentEnqueue has replicas build the same slot's digest at the
// same moment: exactly one enqueues it, every other gets ECONFLICT (not a
// raw constraint error, not a deadlock), and the outbox holds one copy.
func testConcurrentEnqueue(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	f := mustFeed(t, s, "https://race.example/feed")
	must(t, s.UpsertChat(ctx, &digest.Chat{Platform: digest.PlatformTelegram, ID: "77"}))
	sub := &digest.Subscription{Platform: digest.PlatformTelegram, ChatID: "77", FeedIDs: []int64{f.ID}, Schedule: "0 8 * * *"}
	must(t, s.CreateSubscription(ctx, sub))
	arts := []*digest.Article{article("race-1", "Race", base)}
	_, err := s.SaveArticles(ctx, f.ID, arts)
	must(t, err)
	must(t, s.AssignStories(ctx, []digest.StoryAssignment{assign(arts[0].ID, arts[0].ID)}, base))

	const replicas = 8
	// race runs enqueue once per replica, all released at once, and
	// returns which replica succeeded.
	race := func(t *testing.T, enqueue func(replica int) error) int {
		t.Helper()
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, replicas)
		for i := range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = enqueue(i)
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("replicas %d and %d both enqueued", winner, i)
			case err == nil:
				winner = i
			case !digest.IsConflict(err):
				t.Errorf("replica %d: error code %q (%v), want %q", i, digest.ErrorCode(err), err, digest.ECONFLICT)
			}
		}
		if winner < 0 {
			t.Fatalf("none of %d replicas enqueued", replicas)
		}
		return winner
	}
	// outboxKeys counts the outbox's messages by key.
	outboxKeys := func(t *testing.T, kind string) map[string]int {
		t.Helper()
		all, err := s.ListOutbox(ctx, digest.OutboxFilter{Kind: kind})
		must(t, err)
		n := map[string]int{}
		for _, m := range all {
			n[m.Key]++
		}
		return n
	}

	t.Run("EnqueueDigest", func(t *testing.T) {
		for round, slot := range []time.Time{base.Add(time.Hour), base.Add(25 * time.Hour)} {
			prefix := fmt.Sprintf("digest/%d/%s/", sub.ID, slot.Format(time.RFC3339))
			winner := race(t, func(replica int) error {
				parts := make([]*digest.OutboxMessage, 3)
				for p := range parts {
					parts[p] = &digest.OutboxMessage{Key: prefix + fmt.Sprint(p+1), Platform: digest.PlatformTelegram,
						ChatID: "77", SubscriptionID: sub.ID, Slot: slot, Part: p + 1, Parts: len(parts), Kind: "digest",
						Payload: fmt.Appendf(nil, "replica %d part %d", replica, p+1)}
				}
				deliveries := []digest.StoryDelivery{{StoryID: arts[0].ID, Sources: replica + 1}}
				return s.EnqueueDigest(ctx, sub.ID, parts, deliveries, slot)
			})
			keys := outboxKeys(t, "digest")
			if len(keys) != 3*(round+1) {
				t.Errorf("round %d: outbox holds %d digest keys, want %d: %v", round, len(keys), 3*(round+1), keys)
			}
			for k, n := range keys {
				if n != 1 {
					t.Errorf("round %d: key %s enqueued %d times", round, k, n)
				}
			}
			all, err := s.ListOutbox(ctx, digest.OutboxFilter{Kind: "digest"})
			must(t, err)
			for _, m := range all {
				if m.Slot.Equal(slot) && string(m.Payload) != fmt.Sprintf("replica %d part %d", winner, m.Part) {
					t.Errorf("round %d: part %d holds %q, want the winner's (replica %d)", round, m.Part, m.Payload, winner)
				}
			}
			// The loser's deliveries and window end were not recorded.
			got, err := s.FindSubscriptionByID(ctx, sub.ID)
			must(t, err)
			sameTime(t, "LastDigestAt", got.LastDigestAt, slot)
			sent, err := s.StoryDeliveries(ctx, sub.ID, []int64{arts[0].ID})
			must(t, err)
			if sent[arts[0].ID] != winner+1 {
				t.Errorf("round %d: recorded %d sources, want the winner's %d", round, sent[arts[0].ID], winner+1)
			}
		}
	})

	t.Run("EnqueueMessages", func(t *testing.T) {
		for round := range 3 {
			winner := race(t, func(replica int) error {
				msgs := make([]*digest.OutboxMessage, 2)
				for p := range msgs {
					msgs[p] = &digest.OutboxMessage{Key: fmt.Sprintf("reply/%d/%d", round, p), Platform: digest.PlatformTelegram,
						ChatID: "77", Kind: "reply", Payload: fmt.Appendf(nil, "replica %d", replica)}
				}
				return s.EnqueueMessages(ctx, msgs)
			})
			keys := outboxKeys(t, "reply")
			if len(keys) != 2*(round+1) {
				t.Errorf("round %d: outbox holds %d reply keys, want %d: %v", round, len(keys), 2*(round+1), keys)
			}
			for k, n := range keys {
				if n != 1 {
					t.Errorf("round %d: key %s enqueued %d times", round, k, n)
				}
			}
			all, err := s.ListOutbox(ctx, digest.OutboxFilter{Kind: "reply"})
			must(t, err)
			for _, m := range all {
				if m.Key == fmt.Sprintf("reply/%d/1", round) && string(m.Payload) != fmt.Sprintf("replica %d", winner) {
					t.Errorf("round %d: %s holds %q, want the winner's (replica %d)", round, m.Key, m.Payload, winner)
				}
			}
		}
	})
}
