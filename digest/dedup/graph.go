package dedup

import (
	"math"
	"slices"

	"github.com/seed-c50b6fda/herald/digest"
)

// The neighbour graph. Every article keeps its Options.Neighbors most
// similar articles, similarity being the cosine of the two TF-IDF vectors
// scaled by the time decay and by the agreement of the dates the articles
// mention, and at least Options.MinSimilarity. Two articles are linked when
// either is among the other's neighbours; the strength of the link is
//
//	link(a, b) = sqrt(similarity(a, b) × shared(a, b))
//
// where shared is the share of the two neighbourhoods (each including the
// article itself) that they have in common. The cosine says how much two
// articles have in common; shared neighbours say whether they have it in
// common with the same other articles, which is what tells one event from a
// look-alike: a report on the 2013 browser patch has its nearest
// neighbours among other 2013 reports, even when its words are as close to
// a 2008 report. Stories are groups whose average link, over all pairs of
// their articles, reaches the threshold.

// neighbor is one of an article's nearest neighbours.
type neighbor struct {
	slot, gen uint32
	sim       float32
}

// edge is a link to another article; dir says who counts whom as a
// neighbour.
type edge struct {
	slot, gen uint32
	sim       float32
	dir       uint8
}

const (
	edgeOut uint8 = 1 << iota // the other article is among my neighbours
	edgeIn                    // I am among the other article's neighbours
)

// link enters a newly inserted article into the neighbour graph: it takes
// its nearest candidates as neighbours and becomes a neighbour of the
// candidates it is nearer to than their current ones.
func (c *Clusterer) link(slot uint32, cands []candidate) {
	ix := &c.ix
	k := c.opts.Neighbors
	minSim := float32(c.opts.MinSimilarity)
	self := &ix.slots[slot]
	gen := self.gen
	for _, cd := range cands {
		sim := float32(cd.link)
		if cd.near {
			// A copy is always a neighbour; its cosine still ranks it
			// among other copies.
			sim = max(sim, minSim)
		}
		if sim < minSim || cd.slot == slot {
			continue
		}
		other := &ix.slots[cd.slot]
		// The candidate's neighbourhood.
		list, dropped, in := insertNeighbor(other.nn, neighbor{slot: slot, gen: gen, sim: sim}, k)
		other.nn = list
		if in {
			ix.markEdge(cd.slot, slot, gen, sim)
			if dropped.gen != 0 {
				ix.unmarkEdge(cd.slot, dropped)
			}
		}
		// The new article's neighbourhood.
		self = &ix.slots[slot]
		list, dropped, in = insertNeighbor(self.nn, neighbor{slot: cd.slot, gen: other.gen, sim: sim}, k)
		self.nn = list
		if in {
			ix.markEdge(slot, cd.slot, other.gen, sim)
			if dropped.gen != 0 {
				ix.unmarkEdge(slot, dropped)
			}
		}
	}
}

// insertNeighbor adds n to a list kept sorted by similarity (ties by slot)
// and at most k long. It reports whether n made it in and which neighbour,
// if any, it pushed out.
func insertNeighbor(list []neighbor, n neighbor, k int) (_ []neighbor, dropped neighbor, in bool) {
	less := func(a, b neighbor) bool { // a ranks before b
		if a.sim != b.sim {
			return a.sim > b.sim
		}
		return a.slot < b.slot
	}
	if len(list) == k && !less(n, list[k-1]) {
		return list, neighbor{}, false
	}
	if len(list) == k {
		dropped = list[k-1]
		list = list[:k-1]
	}
	i := len(list)
	for i > 0 && less(n, list[i-1]) {
		i--
	}
	list = append(list, neighbor{})
	copy(list[i+1:], list[i:len(list)-1])
	list[i] = n
	return list, dropped, true
}

// markEdge records that article a counts b as a neighbour.
func (ix *index) markEdge(a, b, bgen uint32, sim float32) {
	agen := ix.slots[a].gen
	setEdge(&ix.slots[a].adj, b, bgen, sim, edgeOut)
	setEdge(&ix.slots[b].adj, a, agen, sim, edgeIn)
}

// unmarkEdge records that article a no longer counts n as a neighbour.
func (ix *index) unmarkEdge(a uint32, n neighbor) {
	clearEdge(&ix.slots[a].adj, n.slot, n.gen, edgeOut)
	if ix.live(n.slot, n.gen) {
		clearEdge(&ix.slots[n.slot].adj, a, ix.slots[a].gen, edgeIn)
	}
}

func setEdge(adj *[]edge, slot, gen uint32, sim float32, dir uint8) {
	for i := range *adj {
		e := &(*adj)[i]
		if e.slot == slot && e.gen == gen {
			e.dir |= dir
			return
		}
	}
	*adj = append(*adj, edge{slot: slot, gen: gen, sim: sim, dir: dir})
}

func clearEdge(adj *[]edge, slot, gen uint32, dir uint8) {
	for i := range *adj {
		e := &(*adj)[i]
		if e.slot == slot && e.gen == gen {
			e.dir &^= dir
			if e.dir == 0 {
				last := len(*adj) - 1
				(*adj)[i] = (*adj)[last]
				*adj = (*adj)[:last]
			}
			return
		}
	}
}

// unlinkAll removes an article that leaves the window from the graph. Its
// neighbours keep shorter neighbourhoods; they fill up again as new
// articles arrive.
func (ix *index) unlinkAll(slot uint32) {
	e := &ix.slots[slot]
	for _, ed := range e.adj {
		if !ix.live(ed.slot, ed.gen) {
			continue
		}
		o := &ix.slots[ed.slot]
		clearEdge(&o.adj, slot, e.gen, edgeOut|edgeIn)
		for i, n := range o.nn {
			if n.slot == slot && n.gen == e.gen {
				o.nn = append(o.nn[:i], o.nn[i+1:]...)
				break
			}
		}
	}
	e.adj = e.adj[:0]
	e.nn = e.nn[:0]
}

// shared returns the number of articles in both neighbourhoods, each
// neighbourhood including its own article.
func (ix *index) shared(a, b uint32) int {
	ea, eb := &ix.slots[a], &ix.slots[b]
	inB := func(slot, gen uint32) bool {
		if slot == b && gen == eb.gen {
			return true
		}
		for _, n := range eb.nn {
			if n.slot == slot && n.gen == gen {
				return true
			}
		}
		return false
	}
	count := 0
	if inB(a, ea.gen) {
		count++
	}
	for _, n := range ea.nn {
		if inB(n.slot, n.gen) {
			count++
		}
	}
	return count
}

// pairLink is the strength of the link between two linked articles.
func (c *Clusterer) pairLink(a, b uint32, sim float32) float64 {
	sh := float64(c.ix.shared(a, b)) / float64(c.opts.Neighbors+1)
	return math.Sqrt(float64(sim) * sh)
}

// storyLink is the average link over all pairs of articles of two stories;
// pairs that are not linked count as zero.
func (c *Clusterer) storyLink(x, y *story) float64 {
	if len(x.members) == 0 || len(y.members) == 0 {
		return 0
	}
	small, other := x, y
	if len(y.members) < len(x.members) {
		small, other = y, x
	}
	var sum float64
	for _, a := range small.members {
		for _, ed := range c.ix.slots[a].adj {
			if c.ix.live(ed.slot, ed.gen) && c.ix.slots[ed.slot].story == other {
				sum += c.pairLink(a, ed.slot, ed.sim)
			}
		}
	}
	return sum / float64(len(x.members)*len(y.members))
}

// addGroup clusters articles that arrived at the same time: each is
// indexed, linked into the graph and given a story of its own (unless it is
// the same item or text as an indexed article); then stories merge, most
// strongly linked first, while a pair of stories involving one of the new
// articles reaches the threshold.
func (c *Clusterer) addGroup(docs []Doc) []Result {
	ix := &c.ix
	ix.group++
	g := c.scratch(len(docs))
	out, slots, inserted, feats, terms, times, canons := g.out, g.slots, g.inserted, g.feats, g.terms, g.times, g.canons
	fresh := g.fresh
	var seen map[int64]bool
	if len(docs) > 1 {
		seen = make(map[int64]bool, len(docs))
	}
	for i := range docs {
		d := &docs[i]
		if slot, ok := ix.byID[d.ID]; ok || seen[d.ID] {
			if ok {
				out[i] = Result{Story: ix.slots[slot].story.id, Layer: LayerItem, Score: 1, Match: d.ID}
			}
			continue
		}
		if seen != nil {
			seen[d.ID] = true
		}
		times[i] = c.docTime(d)
		ix.advance(times[i], c.opts.Window)
		canons[i] = CanonicalURL(d.URL)
		inserted[i] = true
	}
	// Articles arriving together see each other's template text whatever
	// their order: all are counted in the templates before any is read.
	group := len(docs) > 1
	if group {
		for i := range docs {
			if inserted[i] {
				c.x.noteTemplate(&ix.tpl, &docs[i], c.w, canons[i], times[i], ix.windowStart(c.opts.Window))
			}
		}
	}
	for i := range docs {
		if inserted[i] {
			feats[i], terms[i] = c.count(&docs[i], canons[i], times[i], group, terms[i])
		}
	}
	if ix.ndocs >= dfHorizon {
		ix.halveDF()
	}
	for i := range docs {
		if inserted[i] {
			c.weigh(&feats[i], terms[i])
		}
	}
	for i := range docs {
		if !inserted[i] {
			continue
		}
		d, t, f, canon := &docs[i], times[i], feats[i], canons[i]
		cands := c.candidates(&f, t)
		var s *story
		if slot, ok := ix.sameItem(d, canon, f.content); ok {
			e := &ix.slots[slot]
			out[i] = Result{Layer: LayerItem, Score: 1, Match: e.id}
			s = e.story
		} else if slot, ok := c.nearest(cands); ok {
			e := &ix.slots[slot]
			out[i] = Result{Layer: LayerText, Score: 1, Match: e.id}
			s = e.story
		} else {
			s = ix.newStory(d.ID)
			s.fresh, s.active = true, true
			fresh = append(fresh, s)
			c.activated = append(c.activated, s)
		}
		slots[i] = ix.insert(d, t, canon, f, s)
		c.link(slots[i], cands)
	}
	merges := c.agglomerate(fresh)
	for i := range docs {
		if !inserted[i] {
			if out[i].Layer == "" { // a duplicate ID within the group
				out[i] = Result{Story: ix.slots[ix.byID[docs[i].ID]].story.id, Layer: LayerItem, Score: 1, Match: docs[i].ID}
			}
			continue
		}
		e := &ix.slots[slots[i]]
		if out[i].Layer == "" {
			out[i].Layer = LayerEvent
			if e.story.id == docs[i].ID {
				out[i].Layer = LayerNew
			}
			out[i].Score, out[i].Match = c.describe(slots[i])
		}
		out[i].Story = e.story.id
	}
	for _, m := range merges {
		for i := range docs {
			if docs[i].ID == m.ArticleID {
				out[i].Merged = append(out[i].Merged, m)
			}
		}
	}
	for i := range docs {
		if inserted[i] {
			if s := ix.slots[slots[i]].story; s != nil {
				s.recent = s.recent[:0]
			}
		}
	}
	for _, s := range fresh {
		s.fresh = false
	}
	for _, s := range c.activated {
		s.active = false
	}
	c.activated = c.activated[:0]
	clear(fresh)
	c.group.fresh = fresh[:0]
	return out
}

// groupScratch holds the per-group buffers of addGroup, reused between calls
// so that adding one article allocates little.
type groupScratch struct {
	out      []Result
	slots    []uint32
	inserted []bool
	feats    []features
	terms    [][]termWeight
	times    []int64
	canons   []string
	fresh    []*story
}

// scratch returns buffers for a group of n articles, zeroed. The results
// slice is only valid until the next call.
func (c *Clusterer) scratch(n int) *groupScratch {
	g := &c.group
	if cap(g.out) < n {
		g.out = make([]Result, n)
		g.slots = make([]uint32, n)
		g.inserted = make([]bool, n)
		g.feats = make([]features, n)
		g.terms = make([][]termWeight, n)
		g.times = make([]int64, n)
		g.canons = make([]string, n)
	}
	g.out, g.slots, g.inserted = g.out[:n], g.slots[:n], g.inserted[:n]
	g.feats, g.terms, g.times, g.canons = g.feats[:n], g.terms[:n], g.times[:n], g.canons[:n]
	clear(g.out)
	clear(g.slots)
	clear(g.inserted)
	clear(g.feats)
	clear(g.times)
	clear(g.canons)
	for i := range g.terms {
		g.terms[i] = g.terms[i][:0]
	}
	return g
}

// nearest returns the candidate that is a near duplicate with the most
// similar vector, if any.
func (c *Clusterer) nearest(cands []candidate) (uint32, bool) {
	best, found := uint32(0), false
	var bestCos float64
	for _, cd := range cands {
		if cd.near && (!found || cd.cos > bestCos) {
			best, bestCos, found = cd.slot, cd.cos, true
		}
	}
	return best, found
}

// describe returns, for an article just clustered, its average link with
// the rest of its story (or, alone in its story, its strongest link to
// another story) and its most similar neighbour.
func (c *Clusterer) describe(slot uint32) (float64, int64) {
	ix := &c.ix
	e := &ix.slots[slot]
	var match int64
	if len(e.nn) > 0 {
		match = ix.slots[e.nn[0].slot].id
	}
	type storySum struct {
		s   *story
		sum float64
	}
	var sums []storySum
	for _, ed := range e.adj {
		if !ix.live(ed.slot, ed.gen) {
			continue
		}
		s, l := ix.slots[ed.slot].story, c.pairLink(slot, ed.slot, ed.sim)
		found := false
		for i := range sums {
			if sums[i].s == s {
				sums[i].sum += l
				found = true
			}
		}
		if !found {
			sums = append(sums, storySum{s, l})
		}
	}
	var own, best float64
	for _, ss := range sums {
		if ss.s == e.story {
			own = ss.sum
		} else {
			best = max(best, ss.sum/float64(len(ss.s.members)))
		}
	}
	if n := len(e.story.members) - 1; n > 0 {
		return own / float64(n), match
	}
	return best, match
}

// pairItem is a candidate merge of the stories of two articles.
type pairItem struct {
	link   float64
	a, b   uint32 // a member of each story
	ga, gb uint32
	va, vb uint64 // story versions when the link was computed
}

type pairHeap []pairItem

func (h pairHeap) less(i, j int) bool {
	if h[i].link != h[j].link {
		return h[i].link > h[j].link
	}
	if h[i].a != h[j].a {
		return h[i].a < h[j].a
	}
	return h[i].b < h[j].b
}

func (h *pairHeap) push(it pairItem) {
	*h = append(*h, it)
	siftUp(*h, len(*h)-1, pairHeap.less)
}

func (h *pairHeap) pop() pairItem {
	old := *h
	it := old[0]
	n := len(old) - 1
	old[0] = old[n]
	*h = old[:n]
	siftDown(*h, 0, pairHeap.less)
	return it
}

// agglomerate merges stories, strongest average link first, while a pair
// involving a fresh story (one founded in this group) links at the
// threshold or more. It returns the merges of stories that existed before
// the group, which callers must record.
func (c *Clusterer) agglomerate(fresh []*story) []digest.StoryMerge {
	ix := &c.ix
	h := c.pairs[:0]
	defer func() { c.pairs = h[:0] }()
	push := func(x *story) {
		// Only the group's articles bring new links: a story that is
		// linked to x through older articles alone was below the
		// threshold before and is further below now.
		seen := append(c.seen[:0], x)
		defer func() { c.seen = seen[:0] }()
		for _, m := range x.recent {
			for _, ed := range ix.slots[m].adj {
				if !ix.live(ed.slot, ed.gen) {
					continue
				}
				y := ix.slots[ed.slot].story
				if slices.Contains(seen, y) {
					continue
				}
				seen = append(seen, y)
				if l := c.storyLink(x, y); l >= c.opts.Threshold {
					h.push(pairItem{link: l, a: x.members[0], b: y.members[0],
						ga: ix.slots[x.members[0]].gen, gb: ix.slots[y.members[0]].gen,
						va: x.version, vb: y.version})
				}
			}
		}
	}
	for _, s := range fresh {
		push(s)
	}
	var merges []digest.StoryMerge
	var redirect map[int64]int64
	at := c.opts.Now()
	for len(h) > 0 {
		it := h.pop()
		if !ix.live(it.a, it.ga) || !ix.live(it.b, it.gb) {
			continue
		}
		x, y := ix.slots[it.a].story, ix.slots[it.b].story
		if x == y {
			continue
		}
		if x.version != it.va || y.version != it.vb {
			if l := c.storyLink(x, y); l >= c.opts.Threshold {
				it.link, it.va, it.vb = l, x.version, y.version
				h.push(it)
			}
			continue
		}
		into, from := x, y
		if y.id < x.id {
			into, from = y, x
		}
		if debugMerge != nil {
			debugMerge(c, x, y, it.link)
		}
		if !from.fresh {
			merges = append(merges, digest.StoryMerge{From: from.id, Into: into.id, ArticleID: c.bridge(x, y), At: at})
		} else {
			// A story founded in this group is not reported, but an
			// earlier reported merge may have gone into it.
			if redirect == nil {
				redirect = map[int64]int64{}
			}
			redirect[from.id] = into.id
		}
		c.merge(from, into)
		push(into)
	}
	for i := range merges {
		for {
			next, ok := redirect[merges[i].Into]
			if !ok {
				break
			}
			merges[i].Into = next
		}
	}
	return merges
}

// bridge names the article that brought two stories together: the
// earliest article of the current group in either of them.
func (c *Clusterer) bridge(x, y *story) int64 {
	var id int64
	for _, s := range []*story{x, y} {
		for _, m := range s.recent {
			if e := &c.ix.slots[m]; id == 0 || e.id < id {
				id = e.id
			}
		}
	}
	return id
}

// merge moves every member of from into into and forgets from.
func (c *Clusterer) merge(from, into *story) {
	for i, slot := range from.members {
		e := &c.ix.slots[slot]
		e.story = into
		e.pos = int32(len(into.members) + i)
	}
	into.members = append(into.members, from.members...)
	into.recent = append(into.recent, from.recent...)
	if from.active && !into.active {
		into.active = true
		c.activated = append(c.activated, into)
	}
	into.version = c.ix.stamp()
	from.version = c.ix.stamp()
	from.members, from.recent = nil, nil
	delete(c.ix.stories, from.id)
}

var debugMerge func(c *Clusterer, x, y *story, link float64)
