package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// Search runs on the FTS5 index article_search (migration 0003). The
// parsed query becomes an FTS5 MATCH expression in which every word is
// quoted, so user text is never read as FTS5 syntax; source: filters become
// a filter on the source column, the other filters plain SQL.
//
// Ranking: bm25 with the title weighted up, times a recency boost that
// doubles the score of an article published now and fades with age
// (1 + h/(h+age), h = recencyHalfLife); a story scores as its best article.
// To keep a search fast whatever the words, it ranks at most
// searchCandidates matching articles: the most recently stored ones that
// pass the filters. A word found in fewer articles is ranked over all of
// them; for a very common word, narrow the search with more words or
// since:/before:. Four things keep the cost near that of FTS5 alone:
// time filters become a range of article IDs (idRange); without filters
// that need the article row, candidates are read in order of a bound on
// their score that needs no article row (search_blocks), and only until no
// later one can reach the page (rankByRelevance); snippets are made in Go
// from the hits' texts, not by a second match over the index (snippet.go);
// and an idle daemon can merge the index
// segments that ingestion leaves, one per write of SaveArticles
// (MaintainSearchIndex).
//
// Paging is by offset over a snapshot: the cursor keeps the first page's
// clock and highest article ID, so articles added while someone pages do
// not shift the pages.

// bm25 weights of the indexed columns: title, summary, content, source.
const bm25Weights = "8.0, 3.0, 1.0, 1.0"

// recencyHalfLife is the age at which the recency boost has fallen halfway.
const recencyHalfLife = 48 * time.Hour

// searchCandidates caps the matching articles one search ranks.
const searchCandidates = 5000

// snippetTokens is the size of snippets, in tokens.
const snippetTokens = 24

// Search implements digest.SearchStore.
func (db *DB) Search(ctx context.Context, req digest.SearchRequest) (*digest.SearchPage, error) {
	p, err := digest.PlanSearch(req, db.now())
	if err != nil {
		return nil, err
	}
	if p.First {
		if err := db.db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM articles`).Scan(&p.Cursor.Snapshot); err != nil {
			return nil, fmt.Errorf("search %q: %w", req.Query, err)
		}
	}
	page, err := db.search(ctx, p, req.Location)
	if err != nil {
		if digest.ErrorCode(err) != digest.EINTERNAL {
			return nil, err
		}
		return nil, fmt.Errorf("search %q: %w", req.Query, err)
	}
	return page, nil
}

// match is the MATCH expression of a query: what articles must contain
// (empty when the words and source: filters ask for nothing) and what they
// must not (empty when nothing is excluded).
type match struct {
	pos, neg string
}

func queryMatch(q *digest.Query) match {
	var pos, neg []string
	if len(q.Text.Args) > 0 {
		pos = append(pos, ftsAll(q.Text.Args))
	}
	if len(q.Sources) > 0 {
		pos = append(pos, "source : "+ftsAny(q.Sources))
	}
	for _, e := range q.Text.Not {
		neg = append(neg, ftsExpr(e))
	}
	if len(q.ExcludeSources) > 0 {
		neg = append(neg, "source : "+ftsAny(q.ExcludeSources))
	}
	var m match
	if len(pos) > 0 {
		m.pos = "(" + strings.Join(pos, " AND ") + ")"
	}
	if len(neg) > 0 {
		m.neg = "(" + strings.Join(neg, " OR ") + ")"
	}
	return m
}

// full is the whole expression, when there is something to match.
func (m match) full() string {
	if m.pos == "" || m.neg == "" {
		return m.pos
	}
	return m.pos + " NOT " + m.neg
}

// ftsPhrase quotes words as one FTS5 phrase. Query words hold only letters
// and digits; doubling quotes keeps even a bug from reaching FTS5 syntax.
func ftsPhrase(words []string) string {
	return `"` + strings.ReplaceAll(strings.Join(words, " "), `"`, `""`) + `"`
}

func ftsAny(names [][]string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = ftsPhrase(n)
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

func ftsAll(args []digest.Expr) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = ftsExpr(a)
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

func ftsExpr(e digest.Expr) string {
	switch e.Kind {
	case digest.ExprPhrase:
		return ftsPhrase(e.Words)
	case digest.ExprOr:
		parts := make([]string, len(e.Args))
		for i, a := range e.Args {
			parts[i] = ftsExpr(a)
		}
		return "(" + strings.Join(parts, " OR ") + ")"
	}
	s := ftsAll(e.Args)
	if len(e.Not) > 0 {
		parts := make([]string, len(e.Not))
		for i, a := range e.Not {
			parts[i] = ftsExpr(a)
		}
		s = "(" + s + " NOT (" + strings.Join(parts, " OR ") + "))"
	}
	return s
}

// rankedStory is a story found by a search, with the article that
// represents it and its score.
type rankedStory struct {
	story, article int64
	score          float64
}

func (db *DB) search(ctx context.Context, p *digest.SearchPlan, loc *time.Location) (*digest.SearchPage, error) {
	q, cur, limit := p.Query, p.Cursor, p.Limit
	m := queryMatch(q)
	var include, exclude []int64
	if len(q.Feeds) > 0 || len(q.ExcludeFeeds) > 0 {
		feeds, err := db.ListFeeds(ctx, digest.FeedFilter{})
		if err != nil {
			return nil, err
		}
		if include, exclude, err = q.ResolveFeeds(feeds); err != nil {
			return nil, err
		}
	}
	// Conditions on a candidate article m, whatever drives the scan.
	var where []string
	var args []any
	since, before := q.Window(cur.Now, loc)
	lo, hi, err := db.idRange(ctx, since, before, cur.Snapshot)
	if err != nil {
		return nil, err
	}
	if lo > hi {
		return &digest.SearchPage{Hits: []digest.SearchHit{}}, nil
	}
	if !since.IsZero() {
		where = append(where, "m.published >= ?")
		args = append(args, micros(since))
	}
	if !before.IsZero() {
		where = append(where, "m.published < ?")
		args = append(args, micros(before))
	}
	if len(exclude) > 0 {
		where = append(where, "NOT EXISTS (SELECT 1 FROM article_feeds x WHERE x.article_id = m.id AND x.feed_id IN ("+placeholders(len(exclude))+"))")
		args = append(args, int64Args(exclude)...)
	}
	var ranked []rankedStory
	if q.HasWords() && len(where) == 0 && len(include) == 0 {
		// Words and source: only, no filter that needs the article row.
		ranked, err = db.rankByRelevance(ctx, m.full(), lo, hi, cur.Now, cur.Offset+limit+1)
	} else {
		ranked, err = db.rankFiltered(ctx, q, m, where, args, include, lo, hi, cur.Now, cur.Offset+limit+1)
	}
	if err != nil {
		return nil, err
	}
	ranked = ranked[min(cur.Offset, len(ranked)):]

	page := &digest.SearchPage{Hits: []digest.SearchHit{}}
	if len(ranked) > limit {
		ranked = ranked[:limit]
		page.NextCursor = p.Next()
	}
	if len(ranked) == 0 {
		return page, nil
	}
	hits, err := db.searchHits(ctx, ranked, newSnippetQuery(q.Text))
	if err != nil {
		return nil, err
	}
	page.Hits = hits
	return page, nil
}

// recencyBoost is the factor by which an article published at published
// (Unix microseconds) has its relevance raised at now: 2 for a new one,
// falling towards 1 with age.
func recencyBoost(now, published int64) float64 {
	h := float64(recencyHalfLife.Microseconds())
	return 1 + h/(h+float64(max(now-published, 0)))
}

// recencyBoostSQL is recencyBoost in SQL, for the publication time in
// the column (or expression) published and a parameter holding now.
func recencyBoostSQL(published string) string {
	h := recencyHalfLife.Microseconds()
	return fmt.Sprintf("(1.0 + %d.0 / (%d.0 + max(? - %s, 0)))", h, h, published)
}

// rankByRelevance ranks the stories of the newest searchCandidates articles
// matching expr with IDs in [lo, hi] and returns the first need of them.
//
// The score of an article is its bm25 relevance times recencyBoost, which
// needs its publication time, and its story needs the article row too.
// Rather than read both for every candidate, it bounds each candidate's
// score with the latest publication time of its block of IDs
// (search_blocks, migration 0005), reads the candidates in order of that
// bound, and stops once the need-th best story scores more than the bound
// of the next candidate: that one, and every one after it, cannot reach
// the first need. This gives the same ranking as scoring them all, and as
// articles are stored about as they are published, the bound is close to
// the score, so only the candidates in contention cost an article lookup.
//
// SQLite sorts the candidates by bound keeping only as many as asked for;
// sorting all of them took an eighth of the CPU time of phrase searches
// (merged index of a million articles). So a first pass asks for the
// rankFirstPass (or four times need) with the highest bounds, which is
// enough unless more are in contention; only then does a second pass sort
// them all.
func (db *DB) rankByRelevance(ctx context.Context, expr string, lo, hi int64, now time.Time, need int) ([]rankedStory, error) {
	ranked, complete, err := db.rankCandidates(ctx, expr, lo, hi, now, need, max(rankFirstPass, 4*need))
	if err != nil || complete {
		return ranked, err
	}
	ranked, _, err = db.rankCandidates(ctx, expr, lo, hi, now, need, searchCandidates)
	return ranked, err
}

// rankFirstPass is how many candidates, those with the highest bounds,
// the first pass of rankByRelevance reads at least. On the search
// benchmark's merged index of a million articles, the first pass of each
// query (pages of 10, 20 and 50 stories) was enough, from one word to
// words in half of all articles; for the most common words, a pass of
// twice need was not.
const rankFirstPass = 32

// rankCandidates is a pass of rankByRelevance over the limit candidates
// with the highest bounds. It reports whether they were enough: whether
// it stopped at a bound that no later candidate can beat, or read every
// candidate there was.
func (db *DB) rankCandidates(ctx context.Context, expr string, lo, hi int64, now time.Time, need, limit int) (ranked []rankedStory, complete bool, err error) {
	rows, err := db.rankStmt.QueryContext(ctx,
		expr, lo, hi, searchCandidates, micros(now), limit)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	type best struct {
		article int64
		score   float64
	}
	stories := map[int64]*best{}
	// kth is the need-th best story score as last computed. Story scores
	// only grow and stories only join, so it is a lower bound of the
	// current one, good for the test below until recomputed: every so
	// many rows, as it means sorting the scores so far.
	kth, next := 0.0, need
	var scores []float64
	n := 0
	for ; rows.Next(); n++ {
		var id, published, story int64
		var rel, bound float64
		if err := rows.Scan(&id, &rel, &bound, &published, &story); err != nil {
			return nil, false, err
		}
		if n >= next && len(stories) >= need {
			scores = scores[:0]
			for _, b := range stories {
				scores = append(scores, b.score)
			}
			slices.SortFunc(scores, func(a, b float64) int { return cmp.Compare(b, a) })
			kth, next = scores[need-1], n+max(4, len(stories)/4)
		}
		// This row, and every one after it, scores at most bound.
		if kth > bound {
			complete = true
			break
		}
		score := rel * recencyBoost(micros(now), published)
		if b, ok := stories[story]; !ok {
			stories[story] = &best{id, score}
		} else if score > b.score {
			*b = best{id, score}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	complete = complete || n < limit || limit >= searchCandidates
	out := make([]rankedStory, 0, len(stories))
	for story, b := range stories {
		out = append(out, rankedStory{story: story, article: b.article, score: b.score})
	}
	sortRanked(out)
	return out[:min(need, len(out))], complete, nil
}

// rankByRelevanceSQL is the statement of rankByRelevance (DB.rankStmt).
// b comes out of its own sort, which the outer ORDER BY reuses, so the
// article rows are read one by one as rankByRelevance asks for them (the
// LIMIT keeps SQLite from dropping that inner ORDER BY). A block missing
// from search_blocks bounds the boost at its most, 2.
var rankByRelevanceSQL = `WITH c AS (
		SELECT rowid AS id, -bm25(article_search, ` + bm25Weights + `) AS rel FROM article_search
		WHERE article_search MATCH ? AND rowid BETWEEN ? AND ?
		ORDER BY rowid DESC LIMIT ?),
	b AS (
		SELECT c.id, c.rel, c.rel * coalesce(` + recencyBoostSQL("s.newest") + `, 2.0) AS bound
		FROM c LEFT JOIN search_blocks s ON s.block = c.id >> ` + searchBlockShift + `
		ORDER BY bound DESC, c.id DESC LIMIT ?)
	SELECT b.id, b.rel, b.bound, m.published, coalesce(m.story_id, m.id)
	FROM b JOIN articles m INDEXED BY articles_search_meta ON m.id = b.id
	ORDER BY b.bound DESC, b.id DESC`

// searchBlockBits is the shift that turns an article ID into its block
// of search_blocks; it must match migration 0005. searchBlockShift is the
// same in SQL.
const searchBlockBits = 8

var searchBlockShift = strconv.Itoa(searchBlockBits)

// sortRanked orders stories best first, the newer story first among equals.
func sortRanked(r []rankedStory) {
	slices.SortFunc(r, func(a, b rankedStory) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(b.story, a.story)
	})
}

// rankFiltered ranks the stories of the newest searchCandidates articles
// that match and pass the filters (where, args and the feeds in include),
// and returns the first need of them. With words, the score is relevance
// with the recency boost; without, the publication time.
func (db *DB) rankFiltered(ctx context.Context, q *digest.Query, m match, where []string, args []any, include []int64, lo, hi int64, now time.Time, need int) ([]rankedStory, error) {
	inFeeds := "EXISTS (SELECT 1 FROM article_feeds x WHERE x.article_id = m.id AND x.feed_id IN (" + placeholders(len(include)) + "))"
	var cand string
	switch {
	case m.pos != "":
		score := "m.published"
		var scoreArgs []any
		if q.HasWords() {
			score = "-bm25(article_search, " + bm25Weights + ") * " + recencyBoostSQL("m.published")
			scoreArgs = []any{micros(now)}
		}
		if len(include) > 0 {
			where = append(where, inFeeds)
			args = append(args, int64Args(include)...)
		}
		cand = `SELECT m.id AS id, coalesce(m.story_id, m.id) AS story, ` + score + ` AS score
			FROM article_search JOIN articles m INDEXED BY articles_search_meta ON m.id = article_search.rowid
			WHERE ` + strings.Join(append([]string{"article_search MATCH ?", "article_search.rowid BETWEEN ? AND ?"}, where...), " AND ") + `
			ORDER BY article_search.rowid DESC LIMIT ?`
		args = append(append(scoreArgs, m.full(), lo, hi), args...)
	case len(include) > 0:
		// Only filters, among them feed: walk the feeds' articles.
		if m.neg != "" {
			where = append(where, "m.id NOT IN (SELECT rowid FROM article_search WHERE article_search MATCH ?)")
			args = append(args, m.neg)
		}
		cand = `SELECT m.id AS id, coalesce(m.story_id, m.id) AS story, m.published AS score
			FROM article_feeds af JOIN articles m INDEXED BY articles_search_meta ON m.id = af.article_id
			WHERE ` + strings.Join(append([]string{"af.feed_id IN (" + placeholders(len(include)) + ")", "af.article_id BETWEEN ? AND ?"}, where...), " AND ") + `
			ORDER BY af.article_id DESC LIMIT ?`
		args = append(append(int64Args(include), lo, hi), args...)
	default:
		// Only filters: walk the newest articles.
		if m.neg != "" {
			where = append(where, "m.id NOT IN (SELECT rowid FROM article_search WHERE article_search MATCH ?)")
			args = append(args, m.neg)
		}
		cand = `SELECT m.id AS id, coalesce(m.story_id, m.id) AS story, m.published AS score
			FROM articles m INDEXED BY articles_search_meta
			WHERE ` + strings.Join(append([]string{"m.id BETWEEN ? AND ?"}, where...), " AND ") + `
			ORDER BY m.id DESC LIMIT ?`
		args = append([]any{lo, hi}, args...)
	}
	args = append(args, searchCandidates, need)
	// A bare column next to max() takes its value from the row with the
	// maximum: the story's best article.
	rows, err := db.db.QueryContext(ctx, `WITH cand AS (`+cand+`),
		best AS (SELECT story, id, max(score) AS score FROM cand GROUP BY story)
		SELECT story, id, score FROM best ORDER BY score DESC, story DESC LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ranked []rankedStory
	for rows.Next() {
		var r rankedStory
		if err := rows.Scan(&r.story, &r.article, &r.score); err != nil {
			return nil, err
		}
		ranked = append(ranked, r)
	}
	return ranked, rows.Err()
}

// idRange returns a range of article IDs that holds every article
// published in [since, before), within the snapshot: from the first block
// of search_blocks whose latest time is in the window or after it to the
// last whose earliest is before its end. Walking matches newest first, a
// search for "storm since:7d" would otherwise read every older match only
// to drop it. The range is a superset, by at most a block on each side
// for articles stored in publication order; the search still checks each
// candidate's time.
func (db *DB) idRange(ctx context.Context, since, before time.Time, snapshot int64) (lo, hi int64, err error) {
	lo, hi = 1, snapshot
	// block returns the block the query finds, or false when it finds none:
	// then no article was published in the window.
	block := func(query string, t time.Time) (int64, bool, error) {
		var b sql.NullInt64
		err := db.db.QueryRowContext(ctx, query, micros(t)).Scan(&b)
		return b.Int64, b.Valid, err
	}
	if !since.IsZero() {
		first, ok, err := block(`SELECT min(block) FROM search_blocks INDEXED BY search_blocks_newest WHERE newest >= ?`, since)
		if err != nil || !ok {
			return 1, 0, err
		}
		lo = max(lo, first<<searchBlockBits)
	}
	if !before.IsZero() {
		last, ok, err := block(`SELECT max(block) FROM search_blocks INDEXED BY search_blocks_oldest WHERE oldest < ?`, before)
		if err != nil || !ok {
			return 1, 0, err
		}
		hi = min(hi, (last+1)<<searchBlockBits-1)
	}
	return lo, hi, nil
}

// MergeSearchIndex does up to about pages pages of merge work on the
// search index and reports whether more remains. Each write of
// SaveArticles (one call, or calls that overlapped) adds its articles to
// the index as a small segment of its own, and FTS5
// merges segments only 32 at a time (migration 0006), which keeps
// ingestion fast but leaves many segments for queries to read; merging
// them while the bot is idle makes searches cheaper (see the report of
// BenchmarkSearchQuery with HERALD_SEARCH_BENCH_MERGE=1). Safe to call at
// any time: it is one write transaction, longer the more pages it may
// merge. A daemon calls MaintainSearchIndex, which calls this in steps.
func (db *DB) MergeSearchIndex(ctx context.Context, pages int) (more bool, err error) {
	if pages <= 0 {
		return false, digest.Errorf(digest.EINVALID, "merge pages must be positive, got %d", pages)
	}
	// total_changes() is per connection, so read it around the merge on
	// one.
	if err := db.lockWrite(ctx); err != nil {
		return false, fmt.Errorf("merge search index: %w", err)
	}
	defer db.unlockWrite()
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("merge search index: %w", err)
	}
	defer conn.Close()
	var before, after int64
	if err := conn.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&before); err != nil {
		return false, fmt.Errorf("merge search index: %w", err)
	}
	// A negative page count merges whatever segments a level holds, even
	// fewer than usermerge, down to one segment per level in the end.
	if _, err := conn.ExecContext(ctx, `INSERT INTO article_search (article_search, rank) VALUES ('merge', ?)`, -pages); err != nil {
		return false, fmt.Errorf("merge search index: %w", err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&after); err != nil {
		return false, fmt.Errorf("merge search index: %w", err)
	}
	// FTS5 documents this test: the merge changed rows only if it found
	// work to do.
	return after-before > 1, nil
}

// maintainStepPages is the merge work of one step of MaintainSearchIndex:
// a write transaction that writers wait out. Merging the index of 200,000
// synthetic articles, as the benchmark ingests them, took 128 such steps:
// 39 ms at the median, 59 ms at the 90th percentile and 261 ms at most,
// on an otherwise idle but slow stretch of a 2-core machine.
const maintainStepPages = 256

// MaintainSearchIndex merges the search index's segments in steps of one
// short write transaction each, so that writers get the lock in between,
// until nothing remains to merge, ctx ends or budget has passed by db.Now
// (it always does one step). It reports whether merge work remains.
//
// When nothing remains it reads the index's structure and writes nothing,
// in well under a millisecond, so a daemon may call it after every round
// of polling; a first call on an index built by a large import, whose
// merging takes seconds, spreads the work over as many calls as budget
// asks.
func (db *DB) MaintainSearchIndex(ctx context.Context, budget time.Duration) (more bool, err error) {
	return db.maintainSearchIndex(ctx, budget, maintainStepPages)
}

func (db *DB) maintainSearchIndex(ctx context.Context, budget time.Duration, pages int) (more bool, err error) {
	deadline := db.Now().Add(budget)
	for {
		if more, err = db.MergeSearchIndex(ctx, pages); err != nil || !more {
			return more, err
		}
		if err := ctx.Err(); err != nil {
			return true, fmt.Errorf("merge search index: %w", err)
		}
		if !db.Now().Before(deadline) {
			return true, nil
		}
	}
}

// searchHits loads what the hits show, in the order given, each with
// its snippet: marking what sq matches (snippetQuery.snippet) when sq is
// not nil and the summary or the content holds a match, else the lead.
func (db *DB) searchHits(ctx context.Context, ranked []rankedStory, sq *snippetQuery) ([]digest.SearchHit, error) {
	ids, stories := make([]int64, len(ranked)), make([]int64, len(ranked))
	for i, r := range ranked {
		ids[i], stories[i] = r.article, r.story
	}
	list := make([]byte, 0, 1+len(ids)*8)
	for i, id := range ids {
		if i > 0 {
			list = append(list, ',')
		}
		list = strconv.AppendInt(list, id, 10)
	}
	rows, err := db.hitsStmt.QueryContext(ctx, "["+string(list)+"]")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var found []digest.HitRow
	marked := map[int64]string{}
	var tz ftsTokenizer
	for rows.Next() {
		var h digest.HitRow
		var published int64
		if err := rows.Scan(&h.ArticleID, &h.Title, &h.URL, &h.Source, &published, &h.FeedName, &h.FeedTitle,
			&h.Summary, &h.Content, &h.Sources); err != nil {
			return nil, err
		}
		h.Published = fromMicros(published)
		if sq != nil {
			live := sq.live(&tz, h.Title, h.Summary, h.Content, h.Source)
			s := sq.snippet(&tz, h.Summary, live, snippetTokens)
			if s == "" {
				s = sq.snippet(&tz, h.Content, live, snippetTokens)
			}
			if s != "" {
				marked[h.ArticleID] = s
			}
		}
		found = append(found, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	hits := digest.RankedHits(found, ids, stories)
	for i := range hits {
		if s, ok := marked[hits[i].ArticleID]; ok {
			hits[i].Snippet = s
		}
	}
	return hits, nil
}

// searchHitsSQL is the statement of searchHits (DB.hitsStmt): what the
// articles of a JSON array of IDs show. A story's sources are its members'
// outlets, counted once whatever their case, as digests count them.
var searchHitsSQL = `SELECT a.id, a.title, a.url, a.source, a.published,
		coalesce(f.name, ''), coalesce(f.title, ''), a.summary, a.content,
		(SELECT count(DISTINCT lower(CASE WHEN s.source <> '' THEN s.source
			ELSE coalesce(nullif(sf.name, ''), nullif(sf.title, ''), s.url) END))
			FROM articles s LEFT JOIN feeds sf ON sf.id = s.feed_id WHERE s.story_id = a.story_id)
	FROM articles a LEFT JOIN feeds f ON f.id = a.feed_id
	WHERE a.id IN (SELECT value FROM json_each(?))`

var _ digest.SearchStore = (*DB)(nil)
