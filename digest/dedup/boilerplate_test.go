package dedup

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// boilerplateDoc is a short invented article of the outlet
// harbour-gazette.example: a headline, a one-sentence summary and the
// outlet's closing line.
func boilerplateDoc(id int64, at time.Time, title, lead, closing string) Doc {
	return Doc{
		ID:      id,
		URL:     fmt.Sprintf("https://harbour-gazette.example/news/%d", id),
		Source:  "harbour-gazette.example",
		Title:   title,
		Summary: lead + " " + closing,
		Time:    at,
	}
}

// unrelated are short reports of four different events from one outlet.
var unrelated = [][2]string{
	{"Bus lanes approved", "Councillors back the plan for Quay Street."},
	{"Bakery wins award", "A prize for the sourdough of Tolland Mill."},
	{"Storm closes school", "Pupils sent home early from Ferrow Primary."},
	{"Museum reopens", "New wing unveiled after repairs."},
	{"Ferry fares rise", "Tickets cost more from next month."},
}

// TestBoilerplateIsNotEvidence is the regression test for short articles of
// one feed that share their template text and nothing else: each must stay
// a story of its own, however they arrive and whatever the template says.
func TestBoilerplateIsNotEvidence(t *testing.T) {
	closings := []struct {
		name    string
		closing func(title string) string
		sources bool // each article from an outlet of its own
	}{
		{"read more", func(string) string { return "Read more on our website." }, false},
		{"a name in the template", func(string) string { return "Read more at the Harbour Gazette website." }, false},
		{"newsletter", func(string) string { return "Sign up to our newsletter for the latest news from the harbour." }, false},
		{"not detected as English", func(string) string { return "Lire la suite sur notre site." }, false},
		{"headline inside the template", func(title string) string {
			return "The post " + title + " appeared first on Harbour Gazette."
		}, false},
		{"one line shared by many outlets", func(string) string { return "Click here to read the full story." }, true},
	}
	at := time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, cl := range closings {
		docs := make([]Doc, len(unrelated))
		for i, u := range unrelated {
			docs[i] = boilerplateDoc(int64(i+1), at.Add(time.Duration(i)*time.Hour), u[0], u[1], cl.closing(u[0]))
			if cl.sources {
				docs[i].Source = fmt.Sprintf("outlet-%d.example", i)
				docs[i].URL = fmt.Sprintf("https://outlet-%d.example/news/%d", i, i+1)
			}
		}
		for _, arrival := range []string{"one at a time", "one batch", "undated one at a time", "undated batch"} {
			t.Run(cl.name+"/"+arrival, func(t *testing.T) {
				c := newTestClusterer()
				in := append([]Doc(nil), docs...)
				if strings.HasPrefix(arrival, "undated") {
					for i := range in {
						in[i].Time = time.Time{}
					}
				}
				var res []Result
				if strings.HasSuffix(arrival, "batch") {
					res = c.AddBatch(in)
				} else {
					for _, d := range in {
						res = append(res, c.Add(d))
					}
				}
				for i, r := range res {
					if r.Story != in[i].ID {
						x, _ := c.Explain(in[i].ID, r.Story)
						t.Errorf("%q joined story %d:\n%s", in[i].Title, r.Story, x)
					}
				}
				if x, err := c.Explain(1, 2); err != nil || x.Evidence || x.Similarity != 0 {
					t.Errorf("articles 1 and 2 share no headline word, name or number, yet evidence %v, similarity %.3f (%v)", x.Evidence, x.Similarity, err)
				}
			})
		}
	}
}

// TestTemplateKeepsEvents checks that discounting template text does not
// split reports of one event: the outlet's own follow-up and another
// outlet's report still join, and the template is counted per source and
// leaves with the window.
func TestTemplateKeepsEvents(t *testing.T) {
	const closing = "Read more on our website."
	at := time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)
	c := newTestClusterer()
	for i, u := range unrelated {
		c.Add(boilerplateDoc(int64(i+1), at.Add(time.Duration(i)*time.Minute), u[0], u[1], closing))
	}
	first := c.Add(boilerplateDoc(10, at.Add(time.Hour), "Fire at Tolland Mill bakery",
		"Fire crews were called to the Tolland Mill bakery on Harbour Road at dawn; nobody was hurt.", closing))
	follow := c.Add(boilerplateDoc(11, at.Add(2*time.Hour), "Tolland Mill bakery fire: cause found",
		"Fire crews say a faulty oven started the fire at the Tolland Mill bakery on Harbour Road.", closing))
	other := c.Add(Doc{ID: 12, URL: "https://coast-radio.example/tolland-fire", Source: "coast-radio.example",
		Title: "Bakery fire on Harbour Road", Summary: "A fire damaged the Tolland Mill bakery on Harbour Road. Read more on our website.",
		Time: at.Add(3 * time.Hour)})
	if follow.Story != first.Story || other.Story != first.Story {
		x, _ := c.Explain(10, 11)
		t.Errorf("fire reports in stories %d, %d, %d, want one:\n%s", first.Story, follow.Story, other.Story, x)
	}
	x, err := c.Explain(10, 11)
	if err != nil {
		t.Fatal(err)
	}
	if !x.Evidence {
		t.Errorf("fire reports share headline words and names, yet no evidence:\n%s", x)
	}
	// "Read more on our website." is five words; the follow-up also
	// repeats the first report's "the Tolland Mill bakery on Harbour
	// Road", which counts as template for it too (the price of a
	// phrase-level filter), and still joins on its headline and the rest.
	if x.TemplateA != 5 || x.TemplateB != 12 || !strings.Contains(x.String(), "template:    5 and 12 words") {
		t.Errorf("template words %d and %d, want 5 and 12:\n%s", x.TemplateA, x.TemplateB, x)
	}
	// Another outlet's identical line is not this outlet's template.
	if y, _ := c.Explain(10, 12); y.TemplateB != 0 {
		t.Errorf("coast-radio.example's only article has %d template words, want 0", y.TemplateB)
	}
	// A week later the window holds none of these articles: their
	// closing line is no longer template.
	c.Add(boilerplateDoc(20, at.Add(7*24*time.Hour), "Harbour lights restored", "The lamps on the pier shine again.", closing))
	if y, _ := c.Explain(20, 20); y.TemplateA != 0 {
		t.Errorf("the only article in the window has %d template words, want 0", y.TemplateA)
	}
}

// TestTemplatesRecord checks the record of word runs: a run is template for
// an article when another article within the window contains it, and the
// table forgets runs no article in the window contains.
func TestTemplatesRecord(t *testing.T) {
	var tp templates
	const key = 42
	const h = 3600
	steps := []struct {
		name      string
		id, at    int64
		limit     int64
		wantOther bool
	}{
		{"first article", 1, 10 * h, 0, false},
		{"same article again", 1, 10 * h, 0, false},
		{"second article", 2, 11 * h, 0, true},
		{"first article sees the second", 1, 11 * h, 0, true},
		{"third article, the others still in the window", 3, 12 * h, 10 * h, true},
		{"the others left the window", 4, 30 * h, 20 * h, false},
		{"the fourth article alone", 4, 30 * h, 20 * h, false},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if got := tp.note(key, s.id, s.at, s.limit); got != s.wantOther {
				t.Errorf("note(article %d at %d, window from %d) = %v, want %v", s.id, s.at, s.limit, got, s.wantOther)
			}
		})
	}
	for k := uint64(1000); k < 1010; k++ {
		tp.note(k, 5, 5*h, 0)
	}
	tp.purge(20 * h)
	if tp.seen.n != 1 {
		t.Errorf("%d runs kept after purging those older than the window, want 1", tp.seen.n)
	}
	if g, ok := tp.seen.get(key); !ok || g.id != 4 {
		t.Errorf("run %d after purge: %+v, %v; want article 4 latest", key, g, ok)
	}
}
