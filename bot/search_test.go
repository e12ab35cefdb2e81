package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

func TestSearchPaging(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.say(group("admin", true, "/subscribe https://a.example/feed"), "Subscribed")
	f, err := e.st.FindFeedByURL(ctx, "https://a.example/feed")
	if err != nil {
		t.Fatal(err)
	}
	var arts []*digest.Article
	for i := range 12 {
		arts = append(arts, &digest.Article{Key: fmt.Sprint("k", i), URL: fmt.Sprintf("https://a.example/%d", i), Source: "Outlet A",
			Title: fmt.Sprintf("Volcano eruption update %d", i), Summary: "Lava reached the coast road near the village.",
			Published: e.clock.Add(-time.Duration(i) * time.Hour), FirstSeen: e.clock.Add(-time.Duration(i) * time.Hour)})
	}
	if _, err := e.st.SaveArticles(ctx, f.ID, arts); err != nil {
		t.Fatal(err)
	}
	e.say(group("member", false, "/search"), "What should I look for?", "Usage: /search QUERY")
	e.say(group("member", false, "/search glacier"), "Nothing found for “glacier”")
	msgs := e.say(dm("9", "/search volcano"), "Results for “volcano”, page 1", "Volcano eruption update", "Outlet A")
	if len(msgs[0].Buttons) != 1 || !strings.HasPrefix(msgs[0].Buttons[0].Data, "search:") || len(msgs[0].Buttons[0].Data) > 64 {
		t.Fatalf("first page buttons = %+v, want one short Next button", msgs[0].Buttons)
	}
	seen := map[string]bool{}
	collect := func(ms string) {
		for _, line := range strings.Split(ms, "\n") {
			if strings.HasPrefix(line, "- Volcano eruption update") {
				title := strings.Fields(line)[4]
				if seen[title] {
					t.Errorf("result %s shown twice across pages", title)
				}
				seen[title] = true
			}
		}
	}
	collect(plain(msgs))
	next := msgs[0].Buttons[0].Data
	for page := 2; next != ""; page++ {
		req := dm("9", "")
		req.Callback = next
		msgs = e.say(req, fmt.Sprintf("page %d", page))
		if !msgs[0].Replace {
			t.Error("a page from a button does not replace the message")
		}
		collect(plain(msgs))
		next = ""
		for _, b := range msgs[0].Buttons {
			if b.Label == "Next ›" {
				next = b.Data
			}
		}
		if page > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 12 {
		t.Errorf("pages showed %d distinct results, want 12", len(seen))
	}
	req := dm("9", "")
	req.Callback = "search:zzz:2"
	e.say(req, "That search has expired")
	// Any input gives results or a clear message, never an internal error.
	for _, q := range []string{`"unclosed`, `title:volcano`, `NEAR(a b)`, `***`, `-volcano`, strings.Repeat("lava ", 400)} {
		if got := plain(e.b.Handle(ctx, dm("9", "/search "+q))); got == "" || strings.Contains(got, "Sorry, something went wrong") {
			t.Errorf("/search %.40q: %q", q, got)
		}
	}
}
