package digest_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// memStore is the part of a store that building reads, in memory.
type memStore struct {
	feeds     []*digest.Feed
	articles  []*digest.Article
	links     map[int64][]int64 // article -> feeds
	delivered map[int64]map[int64]int
}

func (m *memStore) ListFeeds(_ context.Context, f digest.FeedFilter) ([]*digest.Feed, error) {
	var out []*digest.Feed
	for _, x := range m.feeds {
		if f.IDs == nil || slices.Contains(f.IDs, x.ID) {
			out = append(out, x)
		}
	}
	return out, nil
}

func (m *memStore) ListArticles(_ context.Context, f digest.ArticleFilter) ([]*digest.Article, error) {
	var out []*digest.Article
	for _, a := range m.articles {
		if f.FeedIDs != nil && !slices.ContainsFunc(m.links[a.ID], func(id int64) bool { return slices.Contains(f.FeedIDs, id) }) {
			continue
		}
		if (f.StoryID != 0 && a.StoryID != f.StoryID) || (!f.Since.IsZero() && a.FirstSeen.Before(f.Since)) ||
			(!f.Until.IsZero() && !a.FirstSeen.Before(f.Until)) {
			continue
		}
		c := *a
		out = append(out, &c)
	}
	return out, nil
}

func (m *memStore) StoryDeliveries(_ context.Context, sub int64, ids []int64) (map[int64]int, error) {
	out := map[int64]int{}
	for _, id := range ids {
		if n, ok := m.delivered[sub][id]; ok {
			out[id] = n
		}
	}
	return out, nil
}

var now = time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC)

// add stores an article of feed in story, first seen ago before now.
func (m *memStore) add(id, story, feed int64, source, title, summary string, ago time.Duration) {
	if m.links == nil {
		m.links = map[int64][]int64{}
	}
	m.articles = append(m.articles, &digest.Article{
		ID: id, StoryID: story, FeedID: feed, Source: source, Title: title, Summary: summary,
		URL:       "https://" + strings.ToLower(strings.ReplaceAll(source, " ", "")) + ".example/" + title[:3],
		Published: now.Add(-ago), FirstSeen: now.Add(-ago),
	})
	m.links[id] = append(m.links[id], feed)
}

func fixture() *memStore {
	m := &memStore{feeds: []*digest.Feed{
		{ID: 1, Title: "Wire"}, {ID: 2, Title: "Daily"}, {ID: 3, Title: "Herald Tribune", Priority: 0},
		{ID: 4, Title: "Broken", FetchState: digest.FetchState{ConsecutiveErrors: 3, LastError: "404 Not Found", FailingSince: now.Add(-30 * time.Hour)}},
	}}
	// Story 10: three outlets on a bridge collapse.
	m.add(10, 10, 1, "Wire", "Bridge collapses in Baltimore after ship strike",
		"A container ship struck the Francis Scott Key Bridge in Baltimore early Tuesday. Six workers are missing.", 5*time.Hour)
	m.add(11, 10, 2, "Daily", "Baltimore bridge collapse: six workers missing",
		"Six construction workers are missing after the Francis Scott Key Bridge collapsed in Baltimore. Divers searched the river.", 4*time.Hour)
	m.add(12, 10, 3, "Herald Tribune", "Opinion: what the Key Bridge tells us",
		"The collapse of the Key Bridge in Baltimore exposes old infrastructure.", 3*time.Hour)
	// Story 20: one outlet, election.
	m.add(20, 20, 2, "Daily", "Voters head to the polls in the Netherlands",
		"Polling stations opened across the Netherlands on Wednesday for the general election.", 2*time.Hour)
	// Story 30: sport, two outlets.
	m.add(30, 30, 1, "Wire", "Champions League final goes to penalties",
		"The Champions League final ended in a penalty shoot-out in Madrid on Saturday night.", 6*time.Hour)
	m.add(31, 30, 2, "Daily", "Penalty drama decides the Champions League final",
		"A penalty shoot-out decided the Champions League final in Madrid.", 5*time.Hour)
	// Article 40: not clustered yet; its own story.
	m.add(40, 0, 3, "Herald Tribune", "Local library extends opening hours",
		"The city library will open until ten at night from next month.", time.Hour)
	// Article 50: old, outside the window.
	m.add(50, 50, 1, "Wire", "Old news from last week", "Something happened a week ago in the old town.", 7*24*time.Hour)
	return m
}

func build(t *testing.T, m *memStore, req digest.BuildRequest) *digest.Digest {
	t.Helper()
	b := &digest.Builder{Store: m, Now: func() time.Time { return now }}
	if req.Since.IsZero() {
		req.Since = now.Add(-24 * time.Hour)
	}
	d, err := b.Build(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func headlines(d *digest.Digest) []string {
	var out []string
	for _, s := range d.Stories {
		out = append(out, s.Headline)
	}
	return out
}

func TestBuildGroupsRanksAndCaps(t *testing.T) {
	d := build(t, fixture(), digest.BuildRequest{})
	if len(d.Stories) != 4 {
		t.Fatalf("stories = %q, want 4 (the week-old one is outside the window)", headlines(d))
	}
	top := d.Stories[0]
	if top.StoryID != 10 || len(top.Sources) != 3 {
		t.Fatalf("top story = %+v, want story 10 with 3 sources first", top)
	}
	if names := []string{top.Sources[0].Name, top.Sources[1].Name, top.Sources[2].Name}; !slices.Equal(names, []string{"Wire", "Daily", "Herald Tribune"}) {
		t.Errorf("sources = %v, want in publication order", names)
	}
	if top.Headline == "Opinion: what the Key Bridge tells us" {
		t.Errorf("headline %q is the least representative one", top.Headline)
	}
	if top.Summary == "" || !strings.Contains(top.Summary, "Bridge") {
		t.Errorf("summary = %q", top.Summary)
	}
	if !top.Time.Equal(now.Add(-5*time.Hour)) || !slices.Equal(top.ArticleIDs, []int64{10, 11, 12}) {
		t.Errorf("time %v ids %v", top.Time, top.ArticleIDs)
	}
	if d.Stories[1].StoryID != 30 {
		t.Errorf("second story = %d, want the two-source story 30", d.Stories[1].StoryID)
	}
	if len(d.Notices) != 1 || !strings.Contains(d.Notices[0], "Broken") || !strings.Contains(d.Notices[0], "404") {
		t.Errorf("notices = %q, want the failing feed", d.Notices)
	}

	capped := build(t, fixture(), digest.BuildRequest{Limit: 2})
	if len(capped.Stories) != 2 || capped.More != 2 {
		t.Errorf("limit 2: %d stories, %d more; want 2 and 2", len(capped.Stories), capped.More)
	}
}

func TestBuildOnlyFollowedFeeds(t *testing.T) {
	d := build(t, fixture(), digest.BuildRequest{FeedIDs: []int64{1, 2}})
	for _, s := range d.Stories {
		for _, src := range s.Sources {
			if src.Name == "Herald Tribune" {
				t.Errorf("story %d lists a source from a feed not followed", s.StoryID)
			}
		}
	}
	if len(d.Stories) != 3 {
		t.Errorf("stories = %q, want 3", headlines(d))
	}
}

func TestBuildFilters(t *testing.T) {
	for _, tc := range []struct {
		name    string
		filters digest.Filters
		want    []int64
	}{
		{"exclude word", digest.Filters{Exclude: []string{"penalty"}}, []int64{10, 40, 20}},
		{"include word", digest.Filters{Include: []string{"baltimore"}}, []int64{10}},
		{"include regexp", digest.Filters{Include: []string{"/polls?|librar(y|ies)/"}}, []int64{40, 20}},
		{"whole words only", digest.Filters{Include: []string{"pen"}}, nil},
		{"phrase, any case", digest.Filters{Include: []string{"KEY BRIDGE"}}, []int64{10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := build(t, fixture(), digest.BuildRequest{Filters: tc.filters})
			var got []int64
			for _, s := range d.Stories {
				got = append(got, s.StoryID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("stories = %v, want %v", got, tc.want)
			}
		})
	}
	b := &digest.Builder{Store: fixture(), Now: func() time.Time { return now }}
	_, err := b.Build(context.Background(), digest.BuildRequest{Filters: digest.Filters{Include: []string{"/(unclosed/"}}})
	if digest.ErrorCode(err) != digest.EINVALID || !strings.Contains(digest.ErrorMessage(err), "not a valid regular expression") {
		t.Errorf("bad regexp: %v", err)
	}
}

func TestBuildRepeatsOnlyGrownStories(t *testing.T) {
	m := fixture()
	m.delivered = map[int64]map[int64]int{7: {10: 2, 30: 2, 20: 1}}
	d := build(t, m, digest.BuildRequest{SubscriptionID: 7})
	var got []int64
	for _, s := range d.Stories {
		got = append(got, s.StoryID)
	}
	if !slices.Equal(got, []int64{10, 40}) {
		t.Fatalf("stories = %v, want the grown story 10 and the new 40", got)
	}
	if !d.Stories[0].Developing || d.Stories[0].NewSources != 1 {
		t.Errorf("story 10: developing %v, new sources %d; want true, 1", d.Stories[0].Developing, d.Stories[0].NewSources)
	}
	if d.Stories[1].Developing {
		t.Error("a story never sent is marked developing")
	}
	if dl := d.Deliveries(); len(dl) != 2 || dl[0] != (digest.StoryDelivery{StoryID: 10, Sources: 3}) {
		t.Errorf("Deliveries = %+v", dl)
	}
}

func TestBuildTimeZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	d := build(t, fixture(), digest.BuildRequest{Location: berlin})
	if got := d.Stories[0].Time.Format("15:04 MST"); got != "04:00 CET" {
		t.Errorf("time in Berlin = %s, want 04:00 CET", got)
	}
}

func TestMatcherWords(t *testing.T) {
	for _, tc := range []struct {
		entry, text string
		want        bool
	}{
		{"art", "The party started", false},
		{"art", "Modern art, today", true},
		{"ärzte", "Streik der Ärzte in Berlin", true},
		{"ärzte", "Zahnärzte streiken", false},
		{"new york", "flights to New York resumed", true},
		{"/^breaking/", "Breaking: news", true},
		{"/^breaking/", "Not breaking", false},
	} {
		m, err := digest.NewMatcher(digest.Filters{Include: []string{tc.entry}})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := m.Match(tc.text); got != tc.want {
			t.Errorf("%q in %q = %v, want %v", tc.entry, tc.text, got, tc.want)
		}
	}
	for _, bad := range []string{"", "  ", "/a(/", strings.Repeat("x", 201)} {
		if err := digest.CompileFilter(bad); digest.ErrorCode(err) != digest.EINVALID {
			t.Errorf("CompileFilter(%q) = %v, want EINVALID", bad, err)
		}
	}
	m, _ := digest.NewMatcher(digest.Filters{Exclude: []string{"sport"}})
	if ok, reason := m.Match("Sport results"); ok || !strings.Contains(reason, `"sport"`) {
		t.Errorf("exclude: ok %v reason %q", ok, reason)
	}
}
