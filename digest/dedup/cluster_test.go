package dedup

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// fixtureDocs reads testdata/articles.jsonl (invented articles written for
// these tests) as documents numbered in file order, keyed by their id.
func fixtureDocs(tb testing.TB) ([]Doc, map[string]Doc, []labelled) {
	tb.Helper()
	ls := readLabelled(tb, "testdata/articles.jsonl")
	docs := make([]Doc, len(ls))
	byName := map[string]Doc{}
	for i, l := range ls {
		d := Doc{ID: int64(i + 1), URL: l.URL, Source: l.Source, Title: l.Title, Summary: l.Summary, Text: l.Text}
		if l.Published != "" {
			t, err := time.Parse(time.RFC3339, l.Published)
			if err != nil {
				tb.Fatal(err)
			}
			d.Time = t
		}
		docs[i] = d
		byName[l.ID] = d
	}
	return docs, byName, ls
}

// fixedClock returns a clock that always says t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

var clock = time.Date(2031, 12, 1, 0, 0, 0, 0, time.UTC)

func newTestClusterer() *Clusterer {
	opts := DefaultOptions()
	opts.Now = fixedClock(clock)
	return New(opts)
}

func TestSameItem(t *testing.T) {
	_, f, _ := fixtureDocs(t)
	wire := f["brenvik-wire"]
	tests := []struct {
		name  string
		again func(d Doc) Doc
	}{
		{"same key", func(d Doc) Doc {
			d.Key = "guid-1"
			d.Title, d.Text = "Another title", "Other words entirely."
			return d
		}},
		{"same canonical URL", func(d Doc) Doc {
			d.URL = strings.Replace(d.URL, "https://", "HTTP://www.", 1) + "?utm_source=feed#top"
			d.Text = "A shorter version of the report."
			return d
		}},
		{"same headline and body", func(d Doc) Doc { d.URL = "https://elsewhere.example/x"; d.Source = "elsewhere"; return d }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClusterer()
			first := wire
			first.Key = "guid-1"
			r1 := c.Add(first)
			second := tc.again(wire)
			second.ID = 99
			second.Time = wire.Time.Add(time.Hour)
			r2 := c.Add(second)
			if r2.Layer != LayerItem || r2.Story != r1.Story || r2.Match != first.ID {
				t.Errorf("second copy: %+v, want layer %q in story %d matching %d", r2, LayerItem, r1.Story, first.ID)
			}
		})
	}
}

func TestNearDuplicate(t *testing.T) {
	_, f, _ := fixtureDocs(t)
	c := newTestClusterer()
	r1 := c.Add(f["brenvik-wire"])
	r2 := c.Add(f["brenvik-copy"]) // another outlet, new headline, a sentence shortened
	if r2.Layer != LayerText || r2.Story != r1.Story {
		t.Fatalf("wire copy: %+v, want layer %q in story %d", r2, LayerText, r1.Story)
	}
	x, err := c.Explain(f["brenvik-wire"].ID, f["brenvik-copy"].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !x.NearDuplicate || x.SimHashBits > DefaultOptions().NearDuplicateBits {
		t.Errorf("SimHash distance %d bits, near duplicate %v", x.SimHashBits, x.NearDuplicate)
	}
}

// TestSameEvent adds the invented fixtures one at a time in time order:
// independent write-ups of one event share a story; look-alike events (two
// river floods the same week, two pieces of news about one company) and
// articles in German, Russian and Chinese land where they belong.
func TestSameEvent(t *testing.T) {
	docs, _, ls := fixtureDocs(t)
	c := newTestClusterer()
	story := map[string]int64{}
	layer := map[string]string{}
	for _, i := range timeOrder(docs) {
		r := c.Add(docs[i])
		story[ls[i].ID], layer[ls[i].ID] = r.Story, r.Layer
	}
	// Later merges may have moved earlier articles: read stories at the
	// end.
	for i, l := range ls {
		if s, ok := c.StoryOf(docs[i].ID); ok {
			story[l.ID] = s
		}
	}
	for i, a := range ls {
		for j, b := range ls[:i] {
			same := story[a.ID] == story[b.ID]
			if want := a.Story == b.Story; same != want {
				t.Errorf("%s and %s together = %v, want %v", a.ID, b.ID, same, want)
			}
			_ = j
		}
	}
	for _, id := range []string{"quillon-recall-2", "rydell-2", "de-zug-2", "ru-pozhar-2", "zh-qiao-2", "carrow-2"} {
		if layer[id] != LayerEvent {
			t.Errorf("%s joined by layer %q, want %q", id, layer[id], LayerEvent)
		}
	}
	for _, id := range []string{"brenvik-wire", "carrow-1", "quillon-recall-1", "quillon-profit-1", "museum"} {
		if layer[id] != LayerNew {
			t.Errorf("%s: layer %q, want %q", id, layer[id], LayerNew)
		}
	}
}

// timeOrder returns the indices of docs by time, then ID.
func timeOrder(docs []Doc) []int {
	order := make([]int, len(docs))
	for i := range order {
		order[i] = i
	}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0; j-- {
			a, b := docs[order[j-1]], docs[order[j]]
			if a.Time.After(b.Time) || a.Time.Equal(b.Time) && a.ID > b.ID {
				order[j-1], order[j] = order[j], order[j-1]
			}
		}
	}
	return order
}

// vocabDoc makes an article from invented words, so that which articles
// share which terms is under the test's control.
func vocabDoc(id int64, at time.Time, words ...string) Doc {
	var b strings.Builder
	for i := 0; i < 3; i++ {
		for _, w := range words {
			b.WriteString(w)
			b.WriteString(" ")
		}
		b.WriteString(". ")
	}
	return Doc{ID: id, Time: at, Title: strings.Join(words[:3], " "), Text: b.String(), Language: "en"}
}

// TestBridgeMerges builds two stories with no word in common, then an
// article that shares the words of both: the stories merge into the older
// one, and the merge names the bridging article.
func TestBridgeMerges(t *testing.T) {
	t0 := clock.Add(-10 * time.Hour)
	a := []string{"zorvath", "quellbridge", "ammoniac", "brisket", "calloway", "dunmere"}
	b := []string{"yelverton", "pashmina", "ostrander", "kilnworth", "harrowgate", "ellsmere"}
	c := newTestClusterer()
	r1 := c.Add(vocabDoc(1, t0, a...))
	r2 := c.Add(vocabDoc(2, t0.Add(time.Minute), a[:5]...))
	r3 := c.Add(vocabDoc(3, t0.Add(2*time.Minute), b...))
	r4 := c.Add(vocabDoc(4, t0.Add(3*time.Minute), b[:5]...))
	if r1.Story != 1 || r2.Story != 1 || r3.Story != 3 || r4.Story != 3 {
		t.Fatalf("before the bridge: stories %d %d %d %d, want 1 1 3 3", r1.Story, r2.Story, r3.Story, r4.Story)
	}
	bridge := c.Add(vocabDoc(5, t0.Add(4*time.Minute), append(append([]string{}, a...), b...)...))
	if bridge.Story != 1 || bridge.Layer != LayerEvent {
		t.Fatalf("bridge: %+v, want story 1 by layer %q", bridge, LayerEvent)
	}
	if len(bridge.Merged) != 1 {
		t.Fatalf("bridge merged %+v, want one merge", bridge.Merged)
	}
	m := bridge.Merged[0]
	if m.From != 3 || m.Into != 1 || m.ArticleID != 5 || !m.At.Equal(clock) {
		t.Errorf("merge %+v, want From 3 Into 1 ArticleID 5 At %v", m, clock)
	}
	for id := int64(1); id <= 5; id++ {
		if s, _ := c.StoryOf(id); s != 1 {
			t.Errorf("article %d in story %d after the merge, want 1", id, s)
		}
	}
	if c.Stories() != 1 {
		t.Errorf("%d stories, want 1", c.Stories())
	}
}

// TestTimeWindow: the same report four days later is a new story, and the
// window forgets what is older than it.
func TestTimeWindow(t *testing.T) {
	_, f, _ := fixtureDocs(t)
	c := newTestClusterer()
	first := f["quillon-recall-1"]
	c.Add(first)
	again := f["quillon-recall-2"]
	again.Time = first.Time.Add(4 * 24 * time.Hour)
	r := c.Add(again)
	if r.Layer != LayerNew || r.Story != again.ID {
		t.Errorf("four days later: %+v, want a new story %d", r, again.ID)
	}
	if _, ok := c.StoryOf(first.ID); ok {
		t.Errorf("article %d is still in the window after four days", first.ID)
	}
	if c.Len() != 1 || c.Stories() != 1 {
		t.Errorf("window holds %d articles in %d stories, want 1 and 1", c.Len(), c.Stories())
	}
	// An article whose time is missing counts as published now.
	undated := f["quillon-recall-3"]
	undated.Time = time.Time{}
	undated.ID = 50
	c2 := newTestClusterer()
	c2.Add(Doc{ID: 49, Title: "Quillon Zephyr recall", Text: "Quillon recalls Zephyr e-bikes.", Time: clock.Add(-time.Hour)})
	c2.Add(undated)
	x, err := c2.Explain(49, 50)
	if err != nil {
		t.Fatal(err)
	}
	if x.Gap != time.Hour {
		t.Errorf("undated article is %s from one published an hour before now, want 1h", x.Gap)
	}
}

func TestDuplicateIDAndRestore(t *testing.T) {
	_, f, _ := fixtureDocs(t)
	c := newTestClusterer()
	r := c.Add(f["rydell-1"])
	if again := c.Add(f["rydell-1"]); again.Story != r.Story || c.Len() != 1 {
		t.Errorf("adding an ID twice: %+v, window %d", again, c.Len())
	}

	// After a restart, restored articles keep their persisted story, and a
	// new report of the event joins it.
	c = newTestClusterer()
	c.Restore(f["rydell-1"], 7)
	museum := f["museum"]
	museum.Time = f["rydell-1"].Time
	c.Restore(museum, museum.ID)
	joined := c.Add(f["rydell-2"])
	if joined.Story != 7 || joined.Layer != LayerEvent {
		t.Errorf("after restore: %+v, want story 7 by layer %q", joined, LayerEvent)
	}
	if s, _ := c.StoryOf(f["museum"].ID); s != f["museum"].ID {
		t.Errorf("restored museum article in story %d", s)
	}
}

// TestAddBatchOrder: articles that arrive at the same time are clustered
// jointly, so their order does not change the stories.
func TestAddBatchOrder(t *testing.T) {
	docs, _, ls := fixtureDocs(t)
	for i := range docs {
		docs[i].Time = time.Time{} // all first seen now
	}
	partition := func(order []int) map[string]string {
		batch := make([]Doc, len(order))
		for k, i := range order {
			batch[k] = docs[i]
			batch[k].ID = int64(k + 1)
		}
		res := newTestClusterer().AddBatch(batch)
		founder := map[int64]string{}
		for k, i := range order {
			founder[int64(k+1)] = ls[i].ID
		}
		out := map[string]string{}
		for k, i := range order {
			out[ls[i].ID] = founder[res[k].Story]
		}
		return out
	}
	canon := func(p map[string]string) string {
		groups := map[string][]string{}
		for id, s := range p {
			groups[s] = append(groups[s], id)
		}
		var lines []string
		for _, g := range groups {
			sortStrings(g)
			lines = append(lines, strings.Join(g, ","))
		}
		sortStrings(lines)
		return strings.Join(lines, " | ")
	}
	base := make([]int, len(docs))
	for i := range base {
		base[i] = i
	}
	want := canon(partition(base))
	r := rand.New(rand.NewSource(1))
	for round := 0; round < 5; round++ {
		perm := r.Perm(len(docs))
		if got := canon(partition(perm)); got != want {
			t.Fatalf("order %v gives\n%s\nwant\n%s", perm, got, want)
		}
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestExplain(t *testing.T) {
	_, f, _ := fixtureDocs(t)
	c := newTestClusterer()
	for _, id := range []string{"carrow-1", "carrow-2", "brenvik-wire", "brenvik-own"} {
		c.Add(f[id])
	}
	same, err := c.Explain(f["brenvik-wire"].ID, f["brenvik-own"].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !same.Together || same.Layer != LayerEvent || same.Names <= 0 || same.Numbers <= 0 || same.Link <= 0 {
		t.Errorf("Brenvik reports: %+v", same)
	}
	apart, err := c.Explain(f["brenvik-wire"].ID, f["carrow-1"].ID)
	if err != nil {
		t.Fatal(err)
	}
	if apart.Together || apart.Layer != LayerNew || apart.StoryLink >= apart.Threshold {
		t.Errorf("Brenvik and Carrowmore floods: %+v", apart)
	}
	if apart.DateAgreement < 0 || apart.DateFactor >= 1 {
		t.Errorf("dates: agreement %v factor %v, want both mentioned and a factor below 1", apart.DateAgreement, apart.DateFactor)
	}
	text := same.String()
	for _, want := range []string{"same event:  cosine", "shared: ", "name \"brenvik\"", "neighbours:", "decision:    same story"} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
	if _, err := c.Explain(f["brenvik-wire"].ID, 12345); err == nil || !strings.Contains(err.Error(), "12345") {
		t.Errorf("explaining an unknown article: %v", err)
	}
}

// TestWindowBoundsMemory streams many invented articles through a short
// window: the index holds only the window.
func TestWindowBoundsMemory(t *testing.T) {
	opts := DefaultOptions()
	opts.Window = 6 * time.Hour
	c := New(opts)
	t0 := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 2000; i++ {
		w := []string{fmt.Sprintf("w%d", i%37), fmt.Sprintf("v%d", i%11), fmt.Sprintf("u%d", i%5), "report", "today"}
		d := vocabDoc(int64(i+1), t0.Add(time.Duration(i)*time.Minute), w...)
		d.Text += " " + d.Text // long enough for a SimHash
		c.Add(d)
	}
	// 6 hours at one article a minute.
	if n := c.Len(); n > 361 {
		t.Errorf("window holds %d articles, want at most 361", n)
	}
	if n := len(c.ix.slots); n > 400 {
		t.Errorf("%d slots allocated for a window of 361", n)
	}
	c.ix.terms.each(func(_ uint64, e *termEntry) {
		if n := len(e.post.active()); n > c.Len() {
			t.Fatalf("a posting list holds %d articles, more than the window", n)
		}
	})
	// Every SimHash band chain holds only articles in the window, and
	// each article is in the chain of each of its bands exactly once.
	inChains := 0
	c.ix.bandHead.each(func(k uint64, head uint32) {
		for x := head; x != 0; x = c.ix.bandNext[x-1] {
			slot := (x - 1) / simhashBands
			b := int((x - 1) % simhashBands)
			e := &c.ix.slots[slot]
			if !e.alive || bandKey(e.f.simhash, b) != k {
				t.Fatalf("band chain %d holds slot %d (alive %v), which is not in it", k, slot, e.alive)
			}
			inChains++
		}
	})
	fingerprinted := 0
	for _, e := range c.ix.slots {
		if e.alive && e.f.shingle >= minShingles {
			fingerprinted++
		}
	}
	if fingerprinted == 0 {
		t.Fatal("no article in the window has a SimHash")
	}
	if inChains != simhashBands*fingerprinted {
		t.Errorf("%d entries in band chains, want %d (%d bands of %d fingerprinted articles)", inChains, simhashBands*fingerprinted, simhashBands, fingerprinted)
	}
}
