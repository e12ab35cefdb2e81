// Package dedup owns story clustering: it decides which articles report the
// same event, so that a digest shows one story with every source instead of
// one entry per outlet. It also owns the pieces that recognise one article
// behind different links: canonical URLs and text fingerprints.
//
// Clustering is online and incremental. Clusterer.Add takes one article and
// returns its story at once; a story's ID is the ID of the article that
// founded it and never changes while the story grows. Three layers decide,
// cheapest first:
//
//  1. Same item: equal identity key, canonical URL or hash of the normalised
//     headline and body.
//  2. Same text: a syndicated wire copy with small edits, recognised by the
//     SimHash of its word 3-shingles.
//  3. Same event: independent write-ups. Each article is a TF-IDF vector
//     over its headline, lead and first paragraphs in which names (runs
//     of capitalised words) and numbers are terms of their own; the
//     similarity of two articles is the cosine of their vectors, decayed
//     with the time between them and scaled down when the weekdays,
//     months and years they mention disagree. Each article links to its
//     nearest neighbours, a link is as strong as the geometric mean of the
//     similarity and the share of neighbours the two articles have in
//     common, and two stories become one when the average link over all
//     pairs of their articles reaches the threshold (average-linkage
//     agglomeration, run on each arrival over the stories it touches).
//
// Words an outlet repeats in every article are not evidence: a run of four
// words near the start or end of the summary or body that another article
// of the same source in the window also contains ("Read more on our
// website.", "appeared first on Harbour Gazette") is that source's template
// and gives no terms, and English function words are dropped in every
// language, not only in text detected as English. Two articles can be
// neighbours only when they share a key term, a word of either headline or
// a name or number: body words alone ("click here to read the full
// story") do not make one event.
//
// Shared neighbours are what separate look-alike events: two earthquakes on
// one island or two emergency patches of one browser share many words, but
// each article's nearest neighbours are reports of its own event.
//
// Articles that arrive at the same time (AddBatch) are clustered jointly:
// all are linked first, then the strongest links merge first, so their
// order does not matter. One at a time (Add), an article can only join or
// bridge what came before it, and stories never split: when two look-alike
// events arrive interleaved at one moment, the first report of the second
// joins the first's story, and the rest follow.
//
// Candidates always come from an index (an inverted index of terms and
// SimHash bands), never from a scan of all stories, and a time window
// (72 hours by default) bounds what the index holds, so the cost of an
// article does not grow with the history. When an article brings two
// stories together they merge: the older (smaller) story ID survives and
// the merge is reported as a digest.StoryMerge. Explain shows every signal
// behind a decision.
//
// Grouper connects a Clusterer to the store: it rebuilds the window from
// persisted membership after a restart and persists new assignments and
// merges.
package dedup

import (
	"sort"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// Doc is an article as the clusterer sees it.
type Doc struct {
	ID       int64  // unique; later articles have larger IDs
	Key      string // identity key (GUID, canonical URL or content hash); may be empty
	URL      string
	Source   string // the outlet, e.g. its host name
	Title    string
	Summary  string
	Text     string
	Language string    // BCP 47 tag if known; empty means detect
	Time     time.Time // publication time; zero means first seen, i.e. Options.Now()
}

// Options configure a Clusterer. Zero fields take the defaults of
// DefaultOptions, which were chosen on labelled news and are the settings
// Herald ships with.
type Options struct {
	// Window is how far apart in time two articles of one story may be:
	// articles older than the newest one seen minus Window leave the index.
	Window time.Duration

	// Threshold is the average link two stories need to become one; a new
	// article starts as a story of its own.
	Threshold float64

	// HalfLife is the time gap at which the similarity of two articles
	// counts half.
	HalfLife time.Duration

	// NearDuplicateBits is the largest number of SimHash bits in which two
	// bodies may differ and still be copies of one text.
	NearDuplicateBits int

	// Neighbors is the number of nearest neighbours each article keeps.
	Neighbors int

	// MinSimilarity is the smallest similarity (cosine with the time and
	// date factors applied) that makes two articles neighbours at all. It
	// keeps a sparse window, where every article shares its few
	// neighbours, from linking articles that merely share a topic.
	MinSimilarity float64

	// Now is the clock for articles without a time. Default time.Now.
	Now func() time.Time
}

// DefaultOptions returns the options Herald uses.
func DefaultOptions() Options {
	return Options{
		Window:            72 * time.Hour,
		Threshold:         0.06,
		HalfLife:          72 * time.Hour,
		NearDuplicateBits: 10,
		Neighbors:         5,
		MinSimilarity:     0.10,
		Now:               time.Now,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Window <= 0 {
		o.Window = d.Window
	}
	if o.Threshold <= 0 {
		o.Threshold = d.Threshold
	}
	if o.HalfLife <= 0 {
		o.HalfLife = d.HalfLife
	}
	if o.NearDuplicateBits <= 0 {
		o.NearDuplicateBits = d.NearDuplicateBits
	}
	if o.Neighbors <= 0 {
		o.Neighbors = d.Neighbors
	}
	if o.MinSimilarity <= 0 {
		o.MinSimilarity = d.MinSimilarity
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	return o
}

// Layers of a decision, reported in Result.Layer and Explanation.Layer.
const (
	LayerNew   = "new"   // the article founded a story
	LayerItem  = "item"  // same item: identity key, canonical URL or content hash
	LayerText  = "text"  // same text: near-duplicate body
	LayerEvent = "event" // same event: linked to the story's articles
)

// Result is the decision for one article.
type Result struct {
	Story  int64   // the story the article belongs to now
	Layer  string  // which layer decided; LayerNew for a new story
	Score  float64 // the link that decided (1 for the item and text layers)
	Match  int64   // the most similar earlier article; 0 if none
	Merged []digest.StoryMerge
}

// Clusterer groups articles into stories online. It is not safe for
// concurrent use; Grouper adds the locking a server needs.
type Clusterer struct {
	opts      Options
	w         weighting
	x         *extractor
	ix        index
	seen      []*story // scratch for agglomerate
	activated []*story // stories marked active in the current group
	group     groupScratch
	pairs     pairHeap
	one       [1]Doc
}

// New returns an empty Clusterer.
func New(opts Options) *Clusterer {
	c := &Clusterer{opts: opts.withDefaults(), w: defaultWeighting, x: newExtractor()}
	c.ix.init()
	return c
}

// Len returns the number of articles in the window.
func (c *Clusterer) Len() int { return len(c.ix.byID) }

// Stories returns the number of stories with at least one article in the
// window.
func (c *Clusterer) Stories() int { return len(c.ix.stories) }

// StoryOf returns the story of an article in the window.
func (c *Clusterer) StoryOf(id int64) (int64, bool) {
	slot, ok := c.ix.byID[id]
	if !ok {
		return 0, false
	}
	return c.ix.slots[slot].story.id, true
}

// Add clusters one article and returns its story. An article whose ID is
// already in the window is not added again; its current story is returned.
func (c *Clusterer) Add(d Doc) Result {
	c.one[0] = d
	r := c.addGroup(c.one[:])[0]
	c.one[0] = Doc{}
	return r
}

// AddBatch clusters articles that arrive together, such as a feed poll or a
// labelled test set. Articles are taken in time order (articles without a
// time count as published now); articles with the same time arrived
// together and are clustered jointly, so their order among themselves does
// not matter. It returns the results in input order, each Story already
// following merges made later in the batch.
func (c *Clusterer) AddBatch(docs []Doc) []Result {
	now := c.opts.Now()
	times := make([]int64, len(docs))
	for i := range docs {
		if docs[i].Time.IsZero() {
			times[i] = now.Unix()
		} else {
			times[i] = docs[i].Time.Unix()
		}
	}
	order := make([]int, len(docs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ta, tb := times[order[a]], times[order[b]]
		if ta != tb {
			return ta < tb
		}
		return docs[order[a]].ID < docs[order[b]].ID
	})
	out := make([]Result, len(docs))
	into := map[int64]int64{}
	group := make([]Doc, 0, 8)
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && times[order[end]] == times[order[start]] {
			end++
		}
		group = group[:0]
		for _, i := range order[start:end] {
			d := docs[i]
			d.Time = time.Unix(times[i], 0)
			group = append(group, d)
		}
		for k, r := range c.addGroup(group) {
			out[order[start+k]] = r // copied: addGroup reuses its results slice
			for _, m := range r.Merged {
				into[m.From] = m.Into
			}
		}
		start = end
	}
	for i := range out {
		s := out[i].Story
		for {
			next, ok := into[s]
			if !ok {
				break
			}
			s = next
		}
		out[i].Story = s
	}
	return out
}

// Restore puts an article back into the window as a member of story, as
// persisted before a restart, without deciding anything. Articles should be
// restored in time order.
func (c *Clusterer) Restore(d Doc, storyID int64) {
	if _, ok := c.ix.byID[d.ID]; ok {
		return
	}
	t := c.docTime(&d)
	c.ix.advance(t, c.opts.Window)
	canon := CanonicalURL(d.URL)
	f := c.featurize(&d, canon, t)
	if c.ix.ndocs >= dfHorizon {
		c.ix.halveDF()
	}
	cands := c.candidates(&f, t)
	s := c.ix.stories[storyID]
	if s == nil {
		s = c.ix.newStory(storyID)
	}
	slot := c.ix.insert(&d, t, canon, f, s)
	s.recent = s.recent[:0] // restoring decides nothing
	c.link(slot, cands)
}

func (c *Clusterer) docTime(d *Doc) int64 {
	if d.Time.IsZero() {
		return c.opts.Now().Unix()
	}
	return d.Time.Unix()
}
