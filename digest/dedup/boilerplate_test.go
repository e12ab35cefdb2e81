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
	closings := []string{
		"Read more on our website.",
		"Read more at the Harbour Gazette website.",
		"Sign up to our newsletter for the latest news from the harbour.",
		"Lire la suite sur notre site.", // not detected as English
	}
	at := time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, closing := range closings {
		docs := make([]Doc, len(unrelated))
		for i, u := range unrelated {
			docs[i] = boilerplateDoc(int64(i+1), at.Add(time.Duration(i)*time.Hour), u[0], u[1], closing)
		}
		for _, arrival := range []string{"one at a time", "one batch", "undated one at a time", "undated batch"} {
			t.Run(closing+"/"+arrival, func(t *testing.T) {
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
	if x.TemplateA != 1 || x.TemplateB != 1 || !strings.Contains(x.String(), "template:    1 and 1 sentences") {
		t.Errorf("template sentences %d and %d, want 1 and 1:\n%s", x.TemplateA, x.TemplateB, x)
	}
	// Another outlet's identical line is not this outlet's template.
	if y, _ := c.Explain(10, 12); y.TemplateB != 0 {
		t.Errorf("coast-radio.example's only article has %d template sentences, want 0", y.TemplateB)
	}
	// A week later the window holds none of these articles, nor their
	// sentences.
	c.Add(boilerplateDoc(20, at.Add(7*24*time.Hour), "Harbour lights restored", "The lamps on the pier shine again.", closing))
	if n := len(c.ix.tpl.counts); n != 2 {
		t.Errorf("%d sentence keys counted after the window moved on, want 2 (the new article's own sentences)", n)
	}
	if y, _ := c.Explain(20, 20); y.TemplateA != 0 {
		t.Errorf("the only article in the window has %d template sentences, want 0", y.TemplateA)
	}
}
