package digest

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
)

// DefaultLimit is the number of stories a digest shows when not told.
const DefaultLimit = 10

// BuildStore is what building a digest reads.
type BuildStore interface {
	ListFeeds(ctx context.Context, filter FeedFilter) ([]*Feed, error)
	ListArticles(ctx context.Context, filter ArticleFilter) ([]*Article, error)
	StoryDeliveries(ctx context.Context, subscriptionID int64, storyIDs []int64) (map[int64]int, error)
}

// Builder builds digests from stored, clustered articles.
type Builder struct {
	Store BuildStore
	Now   func() time.Time
}

// BuildRequest says what a digest covers.
type BuildRequest struct {
	Title          string
	FeedIDs        []int64   // the feeds to include; nil means every feed
	Since          time.Time // window start: stories with articles first seen at or after
	Until          time.Time // window end (exclusive); zero means now
	Filters        Filters
	Limit          int            // stories shown; 0 means DefaultLimit
	Location       *time.Location // time zone of the reader; nil means UTC
	SubscriptionID int64          // when set, stories sent before are left out unless they grew
}

// candidate is a story being considered for a digest.
type candidate struct {
	story   DigestStory
	members []*Article
	score   float64
}

// Build selects the stories with new articles in the window, applies the
// filters, leaves out stories already sent that did not grow, ranks them
// (distinct sources, recency, feed priority) and caps them. It returns
// EINVALID for filters that do not compile.
func (b *Builder) Build(ctx context.Context, req BuildRequest) (*Digest, error) {
	now := b.Now()
	if req.Until.IsZero() {
		req.Until = now
	}
	if req.Limit <= 0 {
		req.Limit = DefaultLimit
	}
	if req.Location == nil {
		req.Location = time.UTC
	}
	matcher, err := NewMatcher(req.Filters)
	if err != nil {
		return nil, err
	}
	feeds, err := b.Store.ListFeeds(ctx, FeedFilter{IDs: req.FeedIDs})
	if err != nil {
		return nil, fmt.Errorf("build digest: %w", err)
	}
	byID := make(map[int64]*Feed, len(feeds))
	for _, f := range feeds {
		byID[f.ID] = f
	}
	fresh, err := b.Store.ListArticles(ctx, ArticleFilter{FeedIDs: req.FeedIDs, Since: req.Since, Until: req.Until})
	if err != nil {
		return nil, fmt.Errorf("build digest: %w", err)
	}

	// Group the fresh articles by story; an article not clustered yet is
	// a story of its own (a story's id is its founding article's id).
	var order []int64
	groups := map[int64][]*Article{}
	for _, a := range fresh {
		id := a.StoryID
		if id == 0 {
			id = a.ID
		}
		if _, seen := groups[id]; !seen {
			order = append(order, id)
		}
		groups[id] = append(groups[id], a)
	}

	var cands []*candidate
	for _, id := range order {
		members := groups[id]
		if members[0].StoryID != 0 {
			// Every member from the requested feeds, including those
			// that arrived before the window: they are sources too.
			members, err = b.Store.ListArticles(ctx, ArticleFilter{StoryID: id, FeedIDs: req.FeedIDs, Until: req.Until})
			if err != nil {
				return nil, fmt.Errorf("build digest: story %d: %w", id, err)
			}
		}
		if ok, _ := matcher.Match(storyText(members)); !ok {
			continue
		}
		cands = append(cands, newCandidate(id, members, byID, now, req.Location))
	}

	if req.SubscriptionID != 0 && len(cands) > 0 {
		ids := make([]int64, len(cands))
		for i, c := range cands {
			ids[i] = c.story.StoryID
		}
		sent, err := b.Store.StoryDeliveries(ctx, req.SubscriptionID, ids)
		if err != nil {
			return nil, fmt.Errorf("build digest: %w", err)
		}
		kept := cands[:0]
		for _, c := range cands {
			before, was := sent[c.story.StoryID]
			switch {
			case !was:
				kept = append(kept, c)
			case len(c.story.Sources) > before:
				c.story.Developing = true
				c.story.NewSources = len(c.story.Sources) - before
				kept = append(kept, c)
			}
		}
		cands = kept
	}

	slices.SortStableFunc(cands, func(x, y *candidate) int {
		if c := cmp.Compare(y.score, x.score); c != 0 {
			return c
		}
		if c := y.story.Time.Compare(x.story.Time); c != 0 {
			return c
		}
		return cmp.Compare(y.story.StoryID, x.story.StoryID)
	})
	d := &Digest{Title: req.Title, Since: req.Since, Until: req.Until, Location: req.Location}
	if d.Title == "" {
		d.Title = "Herald digest"
	}
	for i, c := range cands {
		if i == req.Limit {
			d.More = len(cands) - req.Limit
			break
		}
		d.Stories = append(d.Stories, c.story)
	}
	for _, f := range feeds {
		if f.ConsecutiveErrors > 0 {
			d.Notices = append(d.Notices, fmt.Sprintf("Feed %s has been failing since %s: %s",
				f.DisplayName(), f.FailingSince.In(req.Location).Format("2 Jan 15:04 MST"), f.LastError))
		}
	}
	return d, nil
}

// Deliveries returns what to record once d has been delivered to a
// subscription, so its next digest repeats a story only when it grew.
func (d *Digest) Deliveries() []StoryDelivery {
	out := make([]StoryDelivery, len(d.Stories))
	for i, s := range d.Stories {
		out[i] = StoryDelivery{StoryID: s.StoryID, Sources: len(s.Sources)}
	}
	return out
}

func storyText(members []*Article) string {
	var b strings.Builder
	for _, a := range members {
		b.WriteString(a.Title)
		b.WriteString("\n")
		b.WriteString(a.Summary)
		b.WriteString("\n")
	}
	return b.String()
}

func newCandidate(id int64, members []*Article, feeds map[int64]*Feed, now time.Time, loc *time.Location) *candidate {
	slices.SortStableFunc(members, func(x, y *Article) int {
		if c := x.Published.Compare(y.Published); c != 0 {
			return c
		}
		return cmp.Compare(x.ID, y.ID)
	})
	c := &candidate{members: members}
	s := &c.story
	s.StoryID = id
	s.Time = members[0].Published.In(loc)
	seen := map[string]bool{}
	priority := 0
	for _, a := range members {
		s.ArticleIDs = append(s.ArticleIDs, a.ID)
		name := sourceName(a, feeds[a.FeedID])
		if f := feeds[a.FeedID]; f != nil {
			priority = max(priority, f.Priority)
		}
		if key := strings.ToLower(name); !seen[key] {
			seen[key] = true
			s.Sources = append(s.Sources, Source{Name: name, URL: a.URL})
		}
	}
	slices.Sort(s.ArticleIDs)
	head := representative(members)
	s.Headline, s.URL = head.Title, head.URL
	s.Summary = summarise(members, head.Title)

	age := now.Sub(members[len(members)-1].Published).Hours()
	c.score = 2*math.Log1p(float64(len(s.Sources))) + 1.5*math.Exp(-math.Max(age, 0)/12) + 0.5*float64(priority)
	return c
}

// sourceName is the outlet an article is shown under.
func sourceName(a *Article, f *Feed) string {
	switch {
	case a.Source != "":
		return a.Source
	case f != nil && (f.Name != "" || f.Title != ""):
		return f.DisplayName()
	}
	if u, err := url.Parse(a.URL); err == nil && u.Host != "" {
		return strings.TrimPrefix(u.Host, "www.")
	}
	return "unknown source"
}

// words splits text into lower-case words of at least three letters that
// are not common function words: enough for choosing headlines and
// sentences, which only compare overlaps.
func words(text string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len([]rune(w)) >= 3 && !functionWords[w] {
			out[w] = true
		}
	}
	return out
}

var functionWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the and for are but not you all any can had her was one our out has have
		him his how its may new now old see two way who did get let put say she too use that with this from
		they will would there their what which when were been than them then these those into over after
		also more most some such only other about could should said says while where being during before
		under between because against through`) {
		m[w] = true
	}
	return m
}()

func overlap(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	n := 0
	for w := range a {
		if b[w] {
			n++
		}
	}
	return float64(n) / math.Sqrt(float64(len(a)*len(b)))
}

// representative returns the member whose headline shares the most with
// what the other members say: the headline that best stands for all of
// them. Ties go to the earliest.
func representative(members []*Article) *Article {
	if len(members) == 1 {
		return members[0]
	}
	texts := make([]map[string]bool, len(members))
	for i, a := range members {
		texts[i] = words(a.Title + " " + a.Summary)
	}
	best, bestScore := members[0], -1.0
	for i, a := range members {
		if strings.TrimSpace(a.Title) == "" {
			continue
		}
		title := words(a.Title)
		score := 0.0
		for j := range members {
			if j != i {
				score += overlap(title, texts[j])
			}
		}
		if score > bestScore+1e-9 {
			best, bestScore = a, score
		}
	}
	return best
}

// maxSummary is the longest summary shown, in characters.
const maxSummary = 320

// summarise picks one or two sentences across the members' summaries and
// leads: those whose words most members share, which is what the story is
// about, skipping sentences that only repeat the headline.
func summarise(members []*Article, headline string) string {
	type sentence struct {
		text  string
		words map[string]bool
		score float64
		pos   int
	}
	df := map[string]int{}
	var cands []sentence
	for _, a := range members {
		seen := map[string]bool{}
		source := a.Summary
		if source == "" {
			source = a.Content
		}
		for i, s := range sentences(source, 4) {
			ws := words(s)
			for w := range ws {
				if !seen[w] {
					seen[w] = true
					df[w]++
				}
			}
			cands = append(cands, sentence{text: s, words: ws, pos: i})
		}
	}
	head := words(headline)
	for i := range cands {
		c := &cands[i]
		n := len([]rune(c.text))
		if len(c.words) < 4 || n > maxSummary || overlap(c.words, head) > 0.8 {
			c.score = -1
			continue
		}
		sum := 0.0
		for w := range c.words {
			sum += float64(df[w])
		}
		c.score = sum/math.Sqrt(float64(len(c.words))) - 0.3*float64(c.pos)
	}
	slices.SortStableFunc(cands, func(x, y sentence) int { return cmp.Compare(y.score, x.score) })
	if len(cands) == 0 || cands[0].score < 0 {
		return ""
	}
	out := cands[0].text
	for _, c := range cands[1:] {
		if c.score < 0 {
			break
		}
		if overlap(c.words, cands[0].words) < 0.5 && len([]rune(out))+1+len([]rune(c.text)) <= maxSummary {
			out += " " + c.text
			break
		}
	}
	return out
}

// sentences splits text into at most limit sentences: at ., ! or ?
// followed by a space and an upper-case letter, a digit or a quote, and at
// line breaks.
func sentences(text string, limit int) []string {
	var out []string
	rs := []rune(strings.TrimSpace(text))
	start := 0
	emit := func(end int) {
		s := strings.Join(strings.Fields(string(rs[start:end])), " ")
		if s != "" {
			out = append(out, s)
		}
		start = end
	}
	for i := 0; i < len(rs) && len(out) < limit; i++ {
		switch {
		case rs[i] == '\n':
			emit(i + 1)
		case (rs[i] == '.' || rs[i] == '!' || rs[i] == '?') && i+2 < len(rs) && unicode.IsSpace(rs[i+1]):
			next := rs[i+2]
			if unicode.IsUpper(next) || unicode.IsDigit(next) || strings.ContainsRune("\"'“‘«", next) {
				if !abbreviation(rs[start : i+1]) {
					emit(i + 1)
				}
			}
		}
	}
	if len(out) < limit {
		emit(len(rs))
	}
	return out
}

// abbreviation reports whether a sentence candidate ends in a common
// abbreviation ("Mr.", "U.S.") rather than at a sentence end.
func abbreviation(rs []rune) bool {
	i := len(rs) - 1
	j := i
	for j > 0 && !unicode.IsSpace(rs[j-1]) {
		j--
	}
	last := strings.ToLower(string(rs[j:i]))
	switch last {
	case "mr", "mrs", "ms", "dr", "st", "gen", "sen", "rep", "gov", "lt", "col", "sgt", "jr", "sr", "inc", "no", "vs":
		return true
	}
	// Initials and dotted abbreviations: "U.S.", "J."
	return len([]rune(last)) == 1 || strings.Contains(last, ".")
}
