package dedup

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strings"
	"time"
)

// Explanation is every signal the clusterer weighs for a pair of articles,
// and what it decided.
type Explanation struct {
	A, B           int64 // the articles
	StoryA, StoryB int64 // their stories now

	// Same item.
	SameKey, SameURL, SameContent bool

	// Same text: SimHash distance in bits of 64, or -1 when either body is
	// too short to fingerprint.
	SimHashBits   int
	NearDuplicate bool

	// Same event: the cosine similarity of the two TF-IDF vectors, split by
	// the kind of term that contributed it.
	Cosine  float64
	Words   float64 // contribution of word stems
	Names   float64 // contribution of names (capitalised words and pairs)
	Numbers float64 // contribution of numbers

	// Dates: the weekdays, months and years each mentions, their agreement
	// (the cosine of the two sets; -1 when either mentions none), and the
	// factor it puts on the similarity.
	DatesA, DatesB string
	DateAgreement  float64
	DateFactor     float64
	Terms          []SharedTerm // shared terms, largest contribution first

	// TemplateA and TemplateB count the words of each article that are
	// its outlet's template: runs of words that other articles of its
	// source in the window contained when it was read. They gave no
	// terms.

	// Evidence says whether the articles share a key term (a headline
	// word of either, a name or a number); without one they are never
	// neighbours, whatever else their texts have in common.
	Evidence             bool
	TemplateA, TemplateB int

	// Time.
	Gap        time.Duration // between the two articles' times
	TimeFactor float64       // the decay applied to the cosine
	InWindow   bool

	SameSource bool

	// Neighbourhoods: Similarity is the cosine with the time and date
	// factors applied (0 without Evidence, at least MinSimilarity for a
	// copy); Neighbors says whether either counts the other among its
	// nearest neighbours; Shared is how many of the Neighbors+1 articles of
	// one neighbourhood (the article itself included) are in the other.
	Similarity    float64
	Neighbors     bool
	Shared        int
	NeighborhoodK int
	Link          float64 // sqrt(Similarity × Shared/(K+1)) if Neighbors, else 0

	// StoryLink is the average link over all pairs of articles of the two
	// stories; stories merge when it reaches Threshold. For articles in one
	// story it is the average link of A with the other members.
	StoryLink float64
	Threshold float64
	Layer     string // the layer that puts them together, or LayerNew if none does
	Together  bool   // whether they are in the same story now
}

// SharedTerm is a term both articles contain, with its contribution to the
// cosine.
type SharedTerm struct {
	Kind string // "word", "name", "number" or "date"
	Text string
	Dot  float64
}

// Explain returns the signals between two articles in the window, or an
// error naming the one that is not there (never added, or evicted by the
// time window).
func (c *Clusterer) Explain(a, b int64) (Explanation, error) {
	sa, ok := c.ix.byID[a]
	if !ok {
		return Explanation{}, fmt.Errorf("explain %d and %d: article %d is not in the window", a, b, a)
	}
	sb, ok := c.ix.byID[b]
	if !ok {
		return Explanation{}, fmt.Errorf("explain %d and %d: article %d is not in the window", a, b, b)
	}
	return c.explain(sa, sb), nil
}

func (c *Clusterer) explain(slotA, slotB uint32) Explanation {
	a, b := &c.ix.slots[slotA], &c.ix.slots[slotB]
	x := Explanation{
		A: a.id, B: b.id, StoryA: a.story.id, StoryB: b.story.id,
		Threshold: c.opts.Threshold,
		Together:  a.story == b.story,
	}
	x.SameKey = a.key != "" && a.key == b.key
	x.SameURL = a.url != "" && a.url == b.url
	x.SameContent = a.f.content != 0 && a.f.content == b.f.content
	x.SimHashBits = -1
	if a.f.shingle >= minShingles && b.f.shingle >= minShingles {
		x.SimHashBits = bits.OnesCount64(a.f.simhash ^ b.f.simhash)
		x.NearDuplicate = x.SimHashBits <= c.opts.NearDuplicateBits
	}
	i, j := 0, 0
	for i < len(a.f.terms) && j < len(b.f.terms) {
		switch {
		case a.f.terms[i] < b.f.terms[j]:
			i++
		case a.f.terms[i] > b.f.terms[j]:
			j++
		default:
			id := a.f.terms[i]
			dot := float64(a.f.weights[i]) * float64(b.f.weights[j])
			kind, text := "word", ""
			if e, ok := c.ix.terms.get(id); ok {
				text = e.name
				switch e.kind {
				case termName:
					kind = "name"
				case termNumber:
					kind = "number"
				}
			}
			switch kind {
			case "name":
				x.Names += dot
			case "number":
				x.Numbers += dot

			default:
				x.Words += dot
			}
			x.Terms = append(x.Terms, SharedTerm{Kind: kind, Text: text, Dot: dot})
			i++
			j++
		}
	}
	x.Cosine = x.Words + x.Names + x.Numbers
	x.TemplateA, x.TemplateB = a.f.tmpl, b.f.tmpl
	x.Evidence = evidence(&a.f, &b.f)
	x.DatesA, x.DatesB = a.f.dates.String(), b.f.dates.String()
	x.DateAgreement = -1
	if na, nb := a.f.dates.count(), b.f.dates.count(); na > 0 && nb > 0 {
		x.DateAgreement = float64(a.f.dates.common(b.f.dates)) / math.Sqrt(float64(na*nb))
	}
	x.DateFactor = dateFactor(a.f.dates, b.f.dates, c.w.dateFloor)
	sort.Slice(x.Terms, func(i, j int) bool {
		if x.Terms[i].Dot != x.Terms[j].Dot {
			return x.Terms[i].Dot > x.Terms[j].Dot
		}
		return x.Terms[i].Text < x.Terms[j].Text
	})
	dt := abs64(a.time - b.time)
	x.Gap = time.Duration(dt) * time.Second
	x.InWindow = x.Gap <= c.opts.Window
	x.TimeFactor = c.decay(dt)
	x.SameSource = a.source != "" && a.source == b.source
	x.NeighborhoodK = c.opts.Neighbors
	x.Similarity = x.Cosine * x.TimeFactor * x.DateFactor
	if !x.Evidence {
		x.Similarity = 0
	}
	if x.NearDuplicate {
		x.Similarity = max(x.Similarity, c.opts.MinSimilarity)
	}
	if !x.InWindow {
		x.Similarity = 0
	}
	for _, ed := range a.adj {
		if ed.slot == slotB && ed.gen == b.gen {
			x.Neighbors = true
		}
	}
	x.Shared = c.ix.shared(slotA, slotB)
	if x.Neighbors {
		x.Link = math.Sqrt(x.Similarity * float64(x.Shared) / float64(c.opts.Neighbors+1))
	}
	if x.Together {
		x.StoryLink, _ = c.describe(slotA)
	} else {
		x.StoryLink = c.storyLink(a.story, b.story)
	}
	switch {
	case !x.InWindow:
		x.Layer = LayerNew
	case x.SameKey || x.SameURL || x.SameContent:
		x.Layer = LayerItem
	case x.NearDuplicate:
		x.Layer = LayerText
	case x.Together || x.StoryLink >= x.Threshold:
		x.Layer = LayerEvent
	default:
		x.Layer = LayerNew
	}
	return x
}

// String prints the explanation for a person: the two articles and their
// stories, then Signals.
func (x Explanation) String() string {
	return fmt.Sprintf("articles %d and %d: stories %d and %d (%s)\n", x.A, x.B, x.StoryA, x.StoryB,
		map[bool]string{true: "together", false: "apart"}[x.Together]) + x.Signals()
}

// Signals prints one signal per line, the strongest shared terms, and the
// decision.
func (x Explanation) Signals() string {
	var b strings.Builder
	yes := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	fmt.Fprintf(&b, "same item:   key %s, canonical URL %s, content hash %s\n", yes(x.SameKey), yes(x.SameURL), yes(x.SameContent))
	if x.SimHashBits < 0 {
		b.WriteString("same text:   body too short for a SimHash\n")
	} else {
		fmt.Fprintf(&b, "same text:   SimHash differs in %d of 64 bits (copy at <= limit): %s\n", x.SimHashBits, yes(x.NearDuplicate))
	}
	fmt.Fprintf(&b, "same event:  cosine %.3f = words %.3f + names %.3f + numbers %.3f; a headline word, name or number shared: %s\n", x.Cosine, x.Words, x.Names, x.Numbers, yes(x.Evidence))
	if len(x.Terms) > 0 {
		n := min(len(x.Terms), 12)
		parts := make([]string, n)
		for i, s := range x.Terms[:n] {
			parts[i] = fmt.Sprintf("%s %q %.3f", s.Kind, s.Text, s.Dot)
		}
		fmt.Fprintf(&b, "             shared: %s\n", strings.Join(parts, ", "))
	}
	if x.TemplateA+x.TemplateB > 0 {
		fmt.Fprintf(&b, "template:    %d and %d words repeated by other articles of the source, not counted\n", x.TemplateA, x.TemplateB)
	}
	if x.DateAgreement < 0 {
		fmt.Fprintf(&b, "dates:       not mentioned by both [%s] [%s], factor %.3f\n", x.DatesA, x.DatesB, x.DateFactor)
	} else {
		fmt.Fprintf(&b, "dates:       [%s] and [%s] agree %.3f, factor %.3f\n", x.DatesA, x.DatesB, x.DateAgreement, x.DateFactor)
	}
	fmt.Fprintf(&b, "time:        %s apart, factor %.3f, within window: %s\n", x.Gap, x.TimeFactor, yes(x.InWindow))
	fmt.Fprintf(&b, "source:      same outlet: %s\n", yes(x.SameSource))
	fmt.Fprintf(&b, "neighbours:  similarity %.3f, neighbours: %s, %d of %d neighbourhood articles shared, link %.3f\n",
		x.Similarity, yes(x.Neighbors), x.Shared, x.NeighborhoodK+1, x.Link)
	if x.Together {
		fmt.Fprintf(&b, "decision:    same story (%s); average link of the first with the rest of its story %.3f, threshold %.3f\n",
			describeLayer(x.Layer), x.StoryLink, x.Threshold)
	} else {
		fmt.Fprintf(&b, "decision:    different stories; average link between them %.3f, threshold %.3f\n", x.StoryLink, x.Threshold)
	}
	return b.String()
}

func describeLayer(l string) string {
	switch l {
	case LayerItem:
		return "same item"
	case LayerText:
		return "same text (near-duplicate copy)"
	case LayerEvent:
		return "same event"
	default:
		return "not linked"
	}
}
