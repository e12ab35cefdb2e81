package digest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Search: the query language every store understands, and the request,
// page and hit types of SearchStore.
//
// The query language, for people typing in a chat:
//
//	storm power          both words (in any field: title, summary, content, source)
//	"power cut"          the words next to each other, in this order
//	-sport  -"live blog" none of these
//	storm OR flood       either; OR binds tighter than the space: storm OR flood power
//	                     means (storm OR flood) and power; parentheses group as usual
//	NOT sport            the same as -sport
//	source:bbc           from a source whose name has these words in this order;
//	                     source:"new york times" for several words; -source:x excludes
//	feed:12  feed:ledger from a feed with this ID, or whose name, title or address has
//	                     these words in order; -feed:x excludes
//	since:7d before:2w   published within the last 7 days / more than 2 weeks ago;
//	                     units h, d, w and y
//	since:2024-03-22     published on or after that day (before: is strictly before);
//	                     also 2024-03, 2024, today and yesterday
//
// Words are case-insensitive. Punctuation inside a word joins its parts as
// a phrase: covid-19 means "covid 19" and U.S. means "u s". Several source:
// (or feed:) filters match any of them; several since: or before: filters
// must all hold. Stars, NEAR, column prefixes such as title:, carets and
// anything else a search engine might read as syntax are plain text here:
// title:storm is the phrase "title storm". A query with only excluded words
// is refused with a message that says so; a query with only filters lists
// the newest matching stories.

// Limits on a query, so that a pasted article or a hostile client cannot
// make one search expensive.
const (
	MaxQueryRunes = 500 // characters in the raw query
	MaxQueryWords = 32  // words in the query, filters included
	maxQueryDepth = 8   // nested parentheses
)

// Page sizes of SearchRequest.Limit.
const (
	DefaultSearchLimit = 10
	MaxSearchLimit     = 100
)

// The marker pair around each matched word in SearchHit.Snippet. They are
// control characters, which clean text never holds, so renderers can split
// on them (SplitSnippet) and escape the rest for their platform.
const (
	SnippetMatchStart = "\x02"
	SnippetMatchEnd   = "\x03"
)

// SearchStore finds stories by full-text search.
type SearchStore interface {
	// Search returns one page of the stories whose articles match
	// req.Query, one hit per story (its best matching article), best
	// first: more relevant first, with a boost for recent articles; a
	// query of only filters lists the newest stories first. Articles not
	// yet clustered count as stories of their own.
	//
	// It returns EINVALID, with a message for the user, for a query that
	// ParseQuery refuses, for a feed: filter that names no feed, for a
	// negative limit, and for a cursor that is garbled, altered or belongs
	// to another query. Paging through NextCursor returns each story
	// once, in order, even while articles are added: a cursor keeps the
	// first page's clock and the set of articles it saw.
	//
	// A store may bound the cost of one search by ranking only the most
	// recently stored matches (store/sqlite ranks the newest 5,000 that
	// pass the filters); it documents its bound. Words that match more
	// articles than that find the best of the recent ones; since: and
	// before: reach older ones.
	Search(ctx context.Context, req SearchRequest) (*SearchPage, error)
}

// SearchRequest asks for one page of search results.
type SearchRequest struct {
	Query    string         // what the user typed, in the language of ParseQuery
	Limit    int            // hits per page: 0 means DefaultSearchLimit; more than MaxSearchLimit means MaxSearchLimit
	Cursor   string         // NextCursor of the previous page; empty for the first page
	Now      time.Time      // clock for since:7d and recency; zero means the store's clock; a cursor keeps the first page's
	Location *time.Location // time zone of the calendar days in since: and before:; nil means UTC
}

// SearchHit is one story found by a search, shown through its best
// matching article.
type SearchHit struct {
	StoryID   int64     // the story; an article not yet clustered is a story of its own, with its ID
	ArticleID int64     // the best matching article, which the fields below describe
	Title     string    // headline of that article
	URL       string    // its link
	Source    string    // the outlet it comes from
	Sources   int       // distinct sources in the whole story, at least 1
	Snippet   string    // text around the matched words, each marked with SnippetMatchStart and SnippetMatchEnd
	Published time.Time // when that article was published
}

// SearchPage is one page of search results.
type SearchPage struct {
	Hits       []SearchHit
	NextCursor string // pass as SearchRequest.Cursor for the next page; empty when there is none
}

// SearchPlan is a search request checked and parsed: what a SearchStore
// needs to find one page.
type SearchPlan struct {
	Query  *Query
	Limit  int          // hits on this page
	Cursor SearchCursor // where the page starts in the results
	// First is set for a first page, whose Cursor has the request's
	// clock (or the store's) and Offset 0; the store sets
	// Cursor.Snapshot to the highest article ID it holds.
	First bool
}

// PlanSearch checks and parses a request for a store whose clock reads
// now. It returns EINVALID, with a message for the user, for a query that
// ParseQuery refuses, a negative limit, or a cursor that is garbled,
// altered or belongs to another query.
func PlanSearch(req SearchRequest, now time.Time) (*SearchPlan, error) {
	q, err := ParseQuery(req.Query)
	if err != nil {
		return nil, err
	}
	p := &SearchPlan{Query: q, Limit: req.Limit}
	switch {
	case p.Limit < 0:
		return nil, Errorf(EINVALID, "the number of results must not be negative, got %d", p.Limit)
	case p.Limit == 0:
		p.Limit = DefaultSearchLimit
	case p.Limit > MaxSearchLimit:
		p.Limit = MaxSearchLimit
	}
	if req.Cursor != "" {
		if p.Cursor, err = DecodeSearchCursor(q, req.Cursor); err != nil {
			return nil, err
		}
		return p, nil
	}
	p.First = true
	p.Cursor.Now = req.Now
	if p.Cursor.Now.IsZero() {
		p.Cursor.Now = now
	}
	return p, nil
}

// Next returns the cursor of the page after this one.
func (p *SearchPlan) Next() string {
	next := p.Cursor
	next.Offset += p.Limit
	return EncodeSearchCursor(p.Query, next)
}

// HitRow is an article as a store reads it to show it in a SearchHit.
type HitRow struct {
	ArticleID           int64
	Title, URL, Source  string
	Published           time.Time
	FeedName, FeedTitle string // of the feed that first carried it; empty when there is none
	Summary, Content    string // their first 4*SearchLeadRunes characters are enough
	Sources             int    // distinct sources in its story
}

// RankedHits makes the hits of a page from the rows a store read for its
// articles, in any order: one hit for each of articles, in that order,
// standing for the story at the same index of stories, shown under its
// outlet (HitSource) with its lead snippet (LeadSnippet) and at least one
// source. An article without a row, deleted since it was ranked, is left
// out.
func RankedHits(rows []HitRow, articles, stories []int64) []SearchHit {
	byID := make(map[int64]*HitRow, len(rows))
	for i := range rows {
		byID[rows[i].ArticleID] = &rows[i]
	}
	hits := make([]SearchHit, 0, len(articles))
	for i, id := range articles {
		r, ok := byID[id]
		if !ok {
			continue
		}
		hits = append(hits, SearchHit{
			StoryID:   stories[i],
			ArticleID: id,
			Title:     r.Title,
			URL:       r.URL,
			Source:    HitSource(r.Source, r.FeedName, r.FeedTitle, r.URL),
			Sources:   max(r.Sources, 1),
			Snippet:   LeadSnippet(r.Summary, r.Content),
			Published: r.Published,
		})
	}
	return hits
}

// SearchLeadRunes is the most characters of a lead snippet (LeadSnippet).
const SearchLeadRunes = 200

// LeadSnippet is the snippet of a hit with no matched words to show: the
// start of the summary, or of the content when the summary is empty, with
// white space collapsed and marker characters removed, cut at a word
// after at most SearchLeadRunes characters ("…" marks the cut). A store
// may pass only the start of long texts, as their first 4*SearchLeadRunes
// characters.
func LeadSnippet(summary, content string) string {
	text := strings.TrimSpace(summary)
	if text == "" {
		text = strings.TrimSpace(content)
	}
	text = strings.Join(strings.Fields(text), " ")
	// Marker characters in stored text would read as matches.
	text = PlainSnippet(text)
	r := []rune(text)
	if len(r) <= SearchLeadRunes {
		return text
	}
	cut := SearchLeadRunes
	for i := SearchLeadRunes; i > SearchLeadRunes*3/4; i-- {
		if r[i] == ' ' {
			cut = i
			break
		}
	}
	return strings.TrimSpace(string(r[:cut])) + "…"
}

// HitSource is the outlet a hit is shown under: the article's source,
// else its feed's name, else its feed's title, else the host of its link.
func HitSource(source, feedName, feedTitle, link string) string {
	switch {
	case source != "":
		return source
	case feedName != "":
		return feedName
	case feedTitle != "":
		return feedTitle
	}
	if u, err := url.Parse(link); err == nil && u.Host != "" {
		return strings.TrimPrefix(u.Host, "www.")
	}
	return "unknown source"
}

// SnippetPart is a run of snippet text, matched or not.
type SnippetPart struct {
	Text  string
	Match bool // the run is a matched word or phrase
}

// SplitSnippet splits a marked snippet into runs for a renderer to escape
// and emphasise. Unpaired markers are dropped; empty runs are left out.
func SplitSnippet(s string) []SnippetPart {
	var out []SnippetPart
	var b strings.Builder
	match := false
	flush := func() {
		if b.Len() > 0 {
			out = append(out, SnippetPart{Text: b.String(), Match: match})
			b.Reset()
		}
	}
	for _, r := range s {
		switch string(r) {
		case SnippetMatchStart:
			flush()
			match = true
		case SnippetMatchEnd:
			flush()
			match = false
		default:
			b.WriteRune(r)
		}
	}
	flush()
	return out
}

// PlainSnippet returns the snippet's text without markers.
func PlainSnippet(s string) string {
	return strings.NewReplacer(SnippetMatchStart, "", SnippetMatchEnd, "").Replace(s)
}

// ExprKind says what an Expr node is.
type ExprKind int

// Kinds of Expr nodes.
const (
	ExprPhrase ExprKind = iota + 1 // Words must appear next to each other, in order; one word is a phrase of one
	ExprAnd                        // every one of Args matches and none of Not
	ExprOr                         // at least one of Args matches
)

// Expr is a node of a query's text condition. Words hold letters and digits
// only (Unicode categories L, N and Co), exactly as typed: matching ignores
// case (and, where the store can, accents and word endings).
type Expr struct {
	Kind  ExprKind
	Words []string // ExprPhrase: at least one word
	Args  []Expr   // ExprAnd, ExprOr: at least one (two for ExprOr), never ExprAnd inside ExprAnd nor ExprOr inside ExprOr
	Not   []Expr   // ExprAnd: excluded phrases and groups
}

// TimeBoundKind says how a TimeBound is written.
type TimeBoundKind int

// Kinds of TimeBound.
const (
	BoundAgo  TimeBoundKind = iota + 1 // a duration before now: 12h, 7d, 2w, 1y
	BoundDate                          // the start of a calendar day: 2024-03-22 (or 2024-03, 2024)
	BoundDay                           // the start of today or yesterday
)

// TimeBound is a point in time as a query writes it. Time resolves it.
type TimeBound struct {
	Kind     TimeBoundKind
	Ago      time.Duration // BoundAgo
	Date     time.Time     // BoundDate: the day at 00:00 UTC; it starts at midnight in the searcher's zone
	DaysBack int           // BoundDay: 0 for today, 1 for yesterday
	Text     string        // as written, lower case: "7d", "2024-03", "today"
}

// Time returns the instant the bound stands for at now, with calendar days
// starting at midnight in loc (nil means UTC).
func (b TimeBound) Time(now time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	switch b.Kind {
	case BoundAgo:
		return now.Add(-b.Ago)
	case BoundDate:
		return time.Date(b.Date.Year(), b.Date.Month(), b.Date.Day(), 0, 0, 0, 0, loc)
	case BoundDay:
		n := now.In(loc)
		return time.Date(n.Year(), n.Month(), n.Day()-b.DaysBack, 0, 0, 0, 0, loc)
	}
	return time.Time{}
}

// Query is a parsed search query. ParseQuery makes one; stores translate it
// into their own search syntax, never passing user text through.
type Query struct {
	// Text is what the words must match: always an ExprAnd. Its Args are
	// empty when the query only filters; Not then lists words the
	// filtered articles must not contain.
	Text Expr

	Sources        [][]string  // source: filters, any of them: the words of a name, found in order in an article's source
	ExcludeSources [][]string  // -source: filters, none of them
	Feeds          [][]string  // feed: filters, any of them; see MatchFeed
	ExcludeFeeds   [][]string  // -feed: filters, none of them
	Since          []TimeBound // published at or after every one of these
	Before         []TimeBound // published before every one of these
}

// HasWords reports whether the query has words to match, as opposed to
// filters only.
func (q *Query) HasWords() bool { return len(q.Text.Args) > 0 }

// Window returns the published-time range the query allows at now:
// articles published at or after since and before before. A zero time
// means no bound.
func (q *Query) Window(now time.Time, loc *time.Location) (since, before time.Time) {
	for _, b := range q.Since {
		if t := b.Time(now, loc); since.IsZero() || t.After(since) {
			since = t
		}
	}
	for _, b := range q.Before {
		if t := b.Time(now, loc); before.IsZero() || t.Before(before) {
			before = t
		}
	}
	return since, before
}

// MatchFeed reports whether a feed: name (its words, as in Query.Feeds)
// names feed f: the name is f's ID, or its words appear in this order,
// ignoring case, in f's name, title or URL.
func MatchFeed(name []string, f *Feed) bool {
	if len(name) == 1 && name[0] == strconv.FormatInt(f.ID, 10) {
		return true
	}
	for _, s := range []string{f.Name, f.Title, f.URL} {
		if containsWords(splitWords(s), name) {
			return true
		}
	}
	return false
}

// ResolveFeeds applies the query's feed: filters to the stored feeds. When
// the query has feed: filters, include holds the IDs of the feeds they name
// (the search keeps only articles linked to one of them); exclude holds the
// IDs named by -feed:. It returns EINVALID when a feed: filter names no feed.
func (q *Query) ResolveFeeds(feeds []*Feed) (include, exclude []int64, err error) {
	pick := func(names [][]string, must bool) ([]int64, error) {
		var ids []int64
		seen := map[int64]bool{}
		for _, name := range names {
			found := false
			for _, f := range feeds {
				if MatchFeed(name, f) {
					found = true
					if !seen[f.ID] {
						seen[f.ID] = true
						ids = append(ids, f.ID)
					}
				}
			}
			if must && !found {
				return nil, Errorf(EINVALID, "no feed matches feed:%s; feed: takes a feed's ID or words from its name, title or address", quoteWords(name))
			}
		}
		return ids, nil
	}
	if include, err = pick(q.Feeds, true); err != nil {
		return nil, nil, err
	}
	exclude, _ = pick(q.ExcludeFeeds, false)
	return include, exclude, nil
}

func containsWords(hay, needle []string) bool {
	if len(needle) == 0 {
		return false
	}
outer:
	for i := 0; i+len(needle) <= len(hay); i++ {
		for j, w := range needle {
			if !strings.EqualFold(hay[i+j], w) {
				continue outer
			}
		}
		return true
	}
	return false
}

// isQueryWordRune reports whether r belongs to a word: the character classes
// SQLite's unicode61 tokenizer keeps (letters, numbers, private use), so a
// word of the query is never empty to the index.
func isQueryWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// splitWords returns the words of s; everything that is not a word rune,
// invalid UTF-8 included, separates words.
func splitWords(s string) []string {
	var out []string
	start := -1
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		word := isQueryWordRune(r) && !(r == utf8.RuneError && size == 1)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			out = append(out, s[start:i])
			start = -1
		}
		i += size
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

// ParseQuery parses a search query (see the package documentation of
// search.go for the language). It accepts any input: it returns a valid
// Query, or an *Error with code EINVALID whose message tells the user what
// to change. It never panics.
func ParseQuery(s string) (*Query, error) {
	if strings.TrimSpace(s) == "" {
		return nil, Errorf(EINVALID, "the query is empty: type the words to search for")
	}
	if n := utf8.RuneCountInString(s); n > MaxQueryRunes {
		return nil, Errorf(EINVALID, "the query is too long (%d characters); use at most %d", n, MaxQueryRunes)
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.seq(0, false)
	if err != nil {
		return nil, err
	}
	q := &Query{Text: Expr{Kind: ExprAnd}}
	if err := q.collect(root, false); err != nil {
		return nil, err
	}
	words := countWords(q.Text)
	for _, l := range [][][]string{q.Sources, q.ExcludeSources, q.Feeds, q.ExcludeFeeds} {
		for _, name := range l {
			words += len(name)
		}
	}
	words += len(q.Since) + len(q.Before)
	if words > MaxQueryWords {
		return nil, Errorf(EINVALID, "the query has too many words (%d); use at most %d", words, MaxQueryWords)
	}
	positive := q.HasWords() || len(q.Sources) > 0 || len(q.Feeds) > 0 || len(q.Since) > 0 || len(q.Before) > 0
	switch {
	case positive:
		return q, nil
	case len(q.Text.Not) > 0 || len(q.ExcludeSources) > 0 || len(q.ExcludeFeeds) > 0:
		return nil, Errorf(EINVALID, "the query has only excluded words; add a word to search for")
	default:
		return nil, Errorf(EINVALID, "the query has no words to search for")
	}
}

func countWords(e Expr) int {
	n := len(e.Words)
	for _, a := range e.Args {
		n += countWords(a)
	}
	for _, a := range e.Not {
		n += countWords(a)
	}
	return n
}

// The lexer turns the query into tokens. It is lenient: stray punctuation
// separates words, an unclosed quote runs to the end, an unmatched
// parenthesis is dropped.

type tokKind int

const (
	tWords tokKind = iota + 1 // words: a bare word (maybe joined by punctuation) or a quoted phrase
	tField                    // source:, feed:, since:, before: with its value
	tOr                       // OR
	tAnd                      // AND
	tNot                      // NOT
	tNeg                      // a minus sign glued to what follows
	tOpen                     // (
	tClose                    // )
)

type token struct {
	kind   tokKind
	words  []string // tWords; tField for source: and feed:
	field  string   // tField: "source", "feed", "since" or "before"
	bound  TimeBound
	quoted bool // tWords: written in quotes
}

var fieldNames = []string{"source", "feed", "since", "before"}

func isQuote(r rune) bool {
	switch r {
	case '"', '“', '”', '„', '‟', '«', '»':
		return true
	}
	return false
}

// isBreak reports whether r ends a bare word.
func isBreak(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || isQuote(r) || r == '(' || r == ')'
}

func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	next := func(at int) (rune, int) {
		if at >= len(s) {
			return -1, 0
		}
		r, size := utf8.DecodeRuneInString(s[at:])
		if r == utf8.RuneError && size == 1 {
			return ' ', 1 // invalid UTF-8 separates words
		}
		return r, size
	}
	// quoted reads a phrase after an opening quote at i.
	quoted := func(at int) ([]string, int) {
		end := len(s)
		for j := at; j < len(s); {
			r, size := next(j)
			if isQuote(r) {
				end = j
				j += size
				return splitWords(s[at:end]), j
			}
			j += size
		}
		return splitWords(s[at:end]), len(s)
	}
	for i < len(s) {
		r, size := next(i)
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			i += size
		case r == '(':
			toks = append(toks, token{kind: tOpen})
			i += size
		case r == ')':
			toks = append(toks, token{kind: tClose})
			i += size
		case isQuote(r):
			words, end := quoted(i + size)
			toks = append(toks, token{kind: tWords, words: words, quoted: true})
			i = end
		case r == '-':
			// A minus excludes what it is glued to; anywhere else it is
			// punctuation.
			if n, _ := next(i + size); n >= 0 && (isQueryWordRune(n) || isQuote(n) || n == '(') {
				toks = append(toks, token{kind: tNeg})
			}
			i += size
		default:
			j := i
			for j < len(s) {
				r, size := next(j)
				if isBreak(r) {
					break
				}
				j += size
			}
			run := s[i:j]
			i = j
			if name, value, ok := strings.Cut(run, ":"); ok {
				if f := fieldName(name); f != "" {
					t := token{kind: tField, field: f}
					if value == "" {
						if r, size := next(i); r >= 0 && isQuote(r) {
							t.words, i = quoted(i + size)
							value = strings.Join(t.words, " ")
						}
					} else {
						t.words = splitWords(value)
					}
					if err := t.setValue(value); err != nil {
						return nil, err
					}
					toks = append(toks, t)
					continue
				}
			}
			switch run {
			case "OR":
				toks = append(toks, token{kind: tOr})
			case "AND":
				toks = append(toks, token{kind: tAnd})
			case "NOT":
				toks = append(toks, token{kind: tNot})
			default:
				toks = append(toks, token{kind: tWords, words: splitWords(run)})
			}
		}
	}
	return toks, nil
}

func fieldName(s string) string {
	for _, f := range fieldNames {
		if strings.EqualFold(s, f) {
			return f
		}
	}
	return ""
}

// setValue checks a field's value and, for since: and before:, parses it.
func (t *token) setValue(value string) error {
	switch t.field {
	case "source", "feed":
		if len(t.words) == 0 {
			return Errorf(EINVALID, "%s: needs a name, as in %s:bbc or %s:\"new york times\"", t.field, t.field, t.field)
		}
		return nil
	}
	b, ok := parseBound(value)
	if !ok {
		shown := value
		if utf8.RuneCountInString(shown) > 20 {
			shown = string([]rune(shown)[:20]) + "…"
		}
		return Errorf(EINVALID, "%s:%s is not a time: use a duration such as 12h, 7d, 2w or 1y, a date such as 2024-03-22, or today or yesterday",
			t.field, strconv.Quote(shown))
	}
	t.bound = b
	return nil
}

// maxAgo keeps durations far from time.Duration's limit.
const maxAgo = 100 * 365 * 24 * time.Hour

func parseBound(v string) (TimeBound, bool) {
	v = strings.ToLower(v)
	switch v {
	case "today":
		return TimeBound{Kind: BoundDay, Text: v}, true
	case "yesterday":
		return TimeBound{Kind: BoundDay, DaysBack: 1, Text: v}, true
	}
	for _, layout := range []string{"2006-01-02", "2006-01", "2006"} {
		if len(v) != len(layout) {
			continue
		}
		if t, err := time.Parse(layout, v); err == nil && t.Year() >= 1900 {
			return TimeBound{Kind: BoundDate, Date: t, Text: v}, true
		}
	}
	if len(v) < 2 || len(v) > 7 {
		return TimeBound{}, false
	}
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil || n <= 0 || v[0] == '+' || v[0] == '-' {
		return TimeBound{}, false
	}
	unit := map[byte]time.Duration{'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}[v[len(v)-1]]
	if unit == 0 || time.Duration(n) > maxAgo/unit {
		return TimeBound{}, false
	}
	return TimeBound{Kind: BoundAgo, Ago: time.Duration(n) * unit, Text: v}, true
}

// node is the parse tree before filters are separated from words.
type node struct {
	kind  nodeKind
	tok   token   // nWords, nField
	kids  []*node // nAnd, nOr
	inner *node   // nNeg
}

type nodeKind int

const (
	nWords nodeKind = iota + 1
	nField
	nAnd
	nOr
	nNeg
)

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek(k int) tokKind {
	if p.pos+k < len(p.toks) {
		return p.toks[p.pos+k].kind
	}
	return 0
}

// startsOperand reports whether the token k ahead can begin an operand.
func (p *parser) startsOperand(k int) bool {
	switch p.peek(k) {
	case tWords, tField, tNeg, tNot, tOpen:
		return true
	}
	return false
}

// seq parses operands joined by spaces (or AND) until the end or, inside
// parentheses, the closing one. It returns nil when nothing was there.
func (p *parser) seq(depth int, inParens bool) (*node, error) {
	and := &node{kind: nAnd}
	for p.pos < len(p.toks) {
		switch p.peek(0) {
		case tClose:
			if inParens {
				return and, nil
			}
			p.pos++ // unmatched: drop it
			continue
		case tAnd:
			if len(and.kids) > 0 && p.startsOperand(1) {
				p.pos++
				continue
			}
		}
		n, err := p.or(depth)
		if err != nil {
			return nil, err
		}
		if n != nil {
			and.kids = append(and.kids, n)
		}
	}
	return and, nil
}

// or parses operands joined by OR.
func (p *parser) or(depth int) (*node, error) {
	first, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	alts := []*node{}
	if first != nil {
		alts = append(alts, first)
	}
	for len(alts) > 0 && p.peek(0) == tOr && p.startsOperand(1) {
		p.pos++
		n, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		if n != nil {
			alts = append(alts, n)
		}
	}
	switch len(alts) {
	case 0:
		return nil, nil
	case 1:
		return alts[0], nil
	}
	return &node{kind: nOr, kids: alts}, nil
}

// unary parses one operand, with its exclusion if any. Operators that
// cannot act as operators where they stand (a leading OR, a trailing NOT)
// are taken as the words they spell.
func (p *parser) unary(depth int) (*node, error) {
	t := p.toks[p.pos]
	p.pos++
	switch t.kind {
	case tWords:
		if len(t.words) == 0 {
			return nil, nil
		}
		return &node{kind: nWords, tok: t}, nil
	case tField:
		return &node{kind: nField, tok: t}, nil
	case tNeg, tNot:
		if p.pos >= len(p.toks) || !p.startsOperand(0) {
			if t.kind == tNot {
				return &node{kind: nWords, tok: token{kind: tWords, words: []string{"not"}}}, nil
			}
			return nil, nil
		}
		inner, err := p.unary(depth)
		if err != nil || inner == nil {
			return nil, err
		}
		if inner.kind == nNeg { // --x is x
			return inner.inner, nil
		}
		return &node{kind: nNeg, inner: inner}, nil
	case tOpen:
		if depth >= maxQueryDepth {
			return nil, Errorf(EINVALID, "the query nests parentheses too deeply; use at most %d levels", maxQueryDepth)
		}
		n, err := p.seq(depth+1, true)
		if err != nil {
			return nil, err
		}
		if p.peek(0) == tClose {
			p.pos++
		}
		switch len(n.kids) {
		case 0:
			return nil, nil
		case 1:
			return n.kids[0], nil
		}
		return n, nil
	case tOr:
		return &node{kind: nWords, tok: token{kind: tWords, words: []string{"or"}}}, nil
	case tAnd:
		return &node{kind: nWords, tok: token{kind: tWords, words: []string{"and"}}}, nil
	}
	return nil, nil // tClose is handled by seq
}

// collect adds the operands of an AND-node of the top level to q: filters
// go to their lists, words to q.Text. Parenthesised groups of the top level
// are flattened into it.
func (q *Query) collect(n *node, neg bool) error {
	switch n.kind {
	case nAnd:
		if neg {
			e, err := textExpr(n)
			if err != nil {
				return err
			}
			q.Text.Not = append(q.Text.Not, e)
			return nil
		}
		for _, k := range n.kids {
			if err := q.collect(k, false); err != nil {
				return err
			}
		}
		return nil
	case nNeg:
		return q.collect(n.inner, !neg)
	case nField:
		return q.addFilter(n.tok, neg)
	case nOr:
		if f, ok := filterAlternatives(n); ok {
			for _, k := range n.kids {
				if err := q.addFilter(k.tok, neg); err != nil {
					return err
				}
			}
			return nil
		} else if f == "since" || f == "before" {
			return Errorf(EINVALID, "%s: cannot be an alternative of OR; it applies to the whole query", f)
		} else if f != "" {
			return Errorf(EINVALID, "%s: cannot be an alternative of OR with words or other filters; write it beside them, as in (storm OR flood) %s:bbc", f, f)
		}
	}
	e, err := textExpr(n)
	if err != nil {
		return err
	}
	if neg {
		q.Text.Not = append(q.Text.Not, e)
	} else if e.Kind == ExprAnd {
		q.Text.Args = append(q.Text.Args, e.Args...)
		q.Text.Not = append(q.Text.Not, e.Not...)
	} else {
		q.Text.Args = append(q.Text.Args, e)
	}
	return nil
}

// filterAlternatives reports whether an OR-node holds only source: or only
// feed: filters (ok), and otherwise names a filter it holds, if any.
func filterAlternatives(n *node) (field string, ok bool) {
	ok = true
	for _, k := range n.kids {
		if k.kind != nField {
			ok = false
			continue
		}
		if field == "" {
			field = k.tok.field
		} else if field != k.tok.field {
			ok = false
		}
	}
	if field == "" {
		return "", false
	}
	return field, ok && (field == "source" || field == "feed")
}

func (q *Query) addFilter(t token, neg bool) error {
	switch {
	case t.field == "source" && !neg:
		q.Sources = append(q.Sources, t.words)
	case t.field == "source":
		q.ExcludeSources = append(q.ExcludeSources, t.words)
	case t.field == "feed" && !neg:
		q.Feeds = append(q.Feeds, t.words)
	case t.field == "feed":
		q.ExcludeFeeds = append(q.ExcludeFeeds, t.words)
	case neg:
		other := map[string]string{"since": "before", "before": "since"}[t.field]
		return Errorf(EINVALID, "-%s: cannot be excluded; use %s: instead", t.field, other)
	case t.field == "since":
		q.Since = append(q.Since, t.bound)
	default:
		q.Before = append(q.Before, t.bound)
	}
	return nil
}

// textExpr converts a subtree that holds only words into an Expr.
func textExpr(n *node) (Expr, error) {
	switch n.kind {
	case nWords:
		return Expr{Kind: ExprPhrase, Words: n.tok.words}, nil
	case nField:
		return Expr{}, Errorf(EINVALID, "%s: applies to the whole query; it cannot be inside OR or an excluded group", n.tok.field)
	case nNeg:
		return Expr{}, Errorf(EINVALID, "an excluded word cannot be an alternative of OR; exclude it outside, as in (storm OR flood) -rain")
	case nOr:
		e := Expr{Kind: ExprOr}
		for _, k := range n.kids {
			a, err := textExpr(k)
			if err != nil {
				return Expr{}, err
			}
			if a.Kind == ExprOr {
				e.Args = append(e.Args, a.Args...)
			} else {
				e.Args = append(e.Args, a)
			}
		}
		return e, nil
	}
	// nAnd: a group in parentheses inside OR or an exclusion.
	e := Expr{Kind: ExprAnd}
	for _, k := range n.kids {
		neg := k.kind == nNeg
		if neg {
			k = k.inner
		}
		a, err := textExpr(k)
		if err != nil {
			return Expr{}, err
		}
		switch {
		case neg:
			e.Not = append(e.Not, a)
		case a.Kind == ExprAnd:
			e.Args = append(e.Args, a.Args...)
			e.Not = append(e.Not, a.Not...)
		default:
			e.Args = append(e.Args, a)
		}
	}
	if len(e.Args) == 0 {
		return Expr{}, Errorf(EINVALID, "a group in parentheses has only excluded words; add a word to search for")
	}
	if len(e.Args) == 1 && len(e.Not) == 0 {
		return e.Args[0], nil
	}
	return e, nil
}

// String returns the query in canonical form: ParseQuery(q.String())
// yields the same query.
func (q *Query) String() string {
	var parts []string
	if s := q.Text.String(); s != "" {
		parts = append(parts, s)
	}
	for _, f := range []struct {
		prefix string
		names  [][]string
	}{{"source:", q.Sources}, {"-source:", q.ExcludeSources}, {"feed:", q.Feeds}, {"-feed:", q.ExcludeFeeds}} {
		for _, name := range f.names {
			parts = append(parts, f.prefix+quoteWords(name))
		}
	}
	for _, b := range q.Since {
		parts = append(parts, "since:"+b.Text)
	}
	for _, b := range q.Before {
		parts = append(parts, "before:"+b.Text)
	}
	return strings.Join(parts, " ")
}

// String returns the expression in the query language.
func (e Expr) String() string {
	switch e.Kind {
	case ExprPhrase:
		if len(e.Words) == 1 {
			switch e.Words[0] {
			case "OR", "AND", "NOT":
				return `"` + e.Words[0] + `"`
			}
		}
		return quoteWords(e.Words)
	case ExprOr:
		parts := make([]string, len(e.Args))
		for i, a := range e.Args {
			parts[i] = a.String()
			if a.Kind == ExprAnd {
				parts[i] = "(" + parts[i] + ")"
			}
		}
		return strings.Join(parts, " OR ")
	case ExprAnd:
		var parts []string
		for _, a := range e.Args {
			s := a.String()
			if a.Kind == ExprOr && (len(e.Args) > 1 || len(e.Not) > 0) {
				s = "(" + s + ")"
			}
			parts = append(parts, s)
		}
		for _, a := range e.Not {
			s := a.String()
			if a.Kind != ExprPhrase {
				s = "(" + s + ")"
			}
			parts = append(parts, "-"+s)
		}
		return strings.Join(parts, " ")
	}
	return ""
}

// quoteWords writes one word bare and several as a quoted phrase.
func quoteWords(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	return `"` + strings.Join(words, " ") + `"`
}

// SearchCursor is the position of a page in a search's results, for stores
// that page by offset over a fixed set of articles.
type SearchCursor struct {
	Offset   int       // hits already returned
	Snapshot int64     // the highest article ID the first page could see
	Now      time.Time // the first page's clock
}

// cursorVersion is the first byte of an encoded cursor.
const cursorVersion = 1

// EncodeSearchCursor writes c as an opaque string tied to query q. The
// checksum only detects damage and edits; a cursor carries nothing secret.
func EncodeSearchCursor(q *Query, c SearchCursor) string {
	b := []byte{cursorVersion}
	b = binary.AppendUvarint(b, uint64(c.Offset))
	b = binary.AppendVarint(b, c.Snapshot)
	b = binary.AppendVarint(b, c.Now.UnixMicro())
	h := queryHash(q)
	b = append(b, h[:]...)
	sum := sha256.Sum256(b)
	b = append(b, sum[:8]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeSearchCursor reads a cursor written by EncodeSearchCursor for the
// same query. It returns EINVALID for anything else.
func DecodeSearchCursor(q *Query, s string) (SearchCursor, error) {
	bad := Errorf(EINVALID, "the page cursor is not valid; run the search again from the first page")
	if len(s) > 100 {
		return SearchCursor{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 1+3+8+8 || b[0] != cursorVersion {
		return SearchCursor{}, bad
	}
	body, sum := b[:len(b)-8], b[len(b)-8:]
	want := sha256.Sum256(body)
	if string(sum) != string(want[:8]) {
		return SearchCursor{}, bad
	}
	rest := body[1:]
	off, n := binary.Uvarint(rest)
	if n <= 0 || off > 1<<30 {
		return SearchCursor{}, bad
	}
	rest = rest[n:]
	snap, n := binary.Varint(rest)
	if n <= 0 || snap < 0 {
		return SearchCursor{}, bad
	}
	rest = rest[n:]
	now, n := binary.Varint(rest)
	if n <= 0 || len(rest[n:]) != 8 {
		return SearchCursor{}, bad
	}
	h := queryHash(q)
	if string(rest[n:]) != string(h[:]) {
		return SearchCursor{}, Errorf(EINVALID, "the page cursor belongs to another search; run this search again from the first page")
	}
	return SearchCursor{Offset: int(off), Snapshot: snap, Now: time.UnixMicro(now).UTC()}, nil
}

func queryHash(q *Query) [8]byte {
	sum := sha256.Sum256([]byte(q.String()))
	var h [8]byte
	copy(h[:], sum[:8])
	return h
}
