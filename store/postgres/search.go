package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/seed-c50b6fda/herald/digest"
)

// Search runs on the articles' search column (migration 0001): a tsvector
// of title (weight A), summary (B), content (C) and source (D), computed by
// PostgreSQL in the statement that writes the article, with a GIN index.
//
// The 'herald' text search configuration stems words with Snowball's
// English stemmer and keeps every word. Neither built-in configuration
// fits: 'simple' does not stem, so "flood" would not find "floods" as it
// does in store/sqlite (porter); 'english' drops stop words, so "the who",
// "to be or not to be" or a lone "not" would find nothing. (Both pass the
// store contract, whose articles are English.) Like store/sqlite, the
// stemmer is applied to every language.
//
// Query words go through the same folding as articles' text
// (herald_search_text, then the 'herald' text search configuration), one
// phrase at a time; the server returns each phrase's lexemes and the
// tsquery is assembled here from those lexemes, each quoted, joined by
// operators the parsed query calls for. User text therefore never reaches
// the tsquery parser as syntax. A phrase is lexemes joined by <->; OR is |,
// AND is &, exclusions are & !; source: filters are phrases whose lexemes
// carry the weight label D, so they match the source field only.
//
// Ranking: ts_rank_cd with the title weighted up (weights A 1, B 0.375,
// C 0.125, D 0.125, the ratios of store/sqlite's bm25 weights), divided by
// 1 + log(document length), times the recency boost of store/sqlite
// (1 + h/(h+age), h = recencyHalfLife). Like store/sqlite it ranks at most
// searchCandidates matches, the most recently stored ones that pass the
// filters; since: and before: reach older ones.
//
// Paging is by offset over a snapshot: the cursor keeps the first page's
// clock and highest article ID. Articles become visible in ID order (see
// articleInsertLock), so later articles never shift the pages.

// rankWeights are ts_rank_cd's weights of D, C, B and A: source, content,
// summary and title.
const rankWeights = "{0.125, 0.125, 0.375, 1.0}"

// rankNormalization divides the rank by 1 + log(document length), so a
// long article does not win by its length alone.
const rankNormalization = 1

// recencyHalfLife is the age at which the recency boost has fallen halfway.
const recencyHalfLife = 48 * time.Hour

// searchCandidates caps the matching articles one search ranks.
const searchCandidates = 5000

// snippetWords is the most words of a ts_headline fragment.
const snippetWords = 24

// headlineOptions are ts_headline's options: one fragment around the
// matches, marked with digest's markers.
var headlineOptions = fmt.Sprintf("StartSel=%s, StopSel=%s, MaxWords=%d, MinWords=%d, ShortWord=0, MaxFragments=1",
	digest.SnippetMatchStart, digest.SnippetMatchEnd, snippetWords, snippetWords/2)

// Search implements digest.SearchStore.
func (db *DB) Search(ctx context.Context, req digest.SearchRequest) (*digest.SearchPage, error) {
	p, err := digest.PlanSearch(req, db.now())
	if err != nil {
		return nil, err
	}
	if p.First {
		if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM articles`).Scan(&p.Cursor.Snapshot); err != nil {
			return nil, fmt.Errorf("search %q: %w", req.Query, err)
		}
	}
	page, err := db.search(ctx, p, req.Location)
	if err != nil {
		return nil, wrap(err, "search %q", req.Query)
	}
	return page, nil
}

// tsQueries are the tsquery texts of one query. An empty text means no
// condition; none means the query can match no article, because a phrase
// it requires has no word the index keeps.
type tsQueries struct {
	none      bool
	match     string // what an article must match: words, source:, and the exclusions
	exclude   string // what it must not match, when match is empty (a query of filters only)
	rank      string // the words, for ts_rank_cd
	highlight string // every wanted phrase, for ts_headline
}

// lexemes maps a phrase (its words joined by spaces) to its lexemes, in
// order, with their positions.
type lexemes map[string][]lexeme

type lexeme struct {
	text string
	pos  int
}

// queryPhrases returns every phrase of q, once each.
func queryPhrases(q *digest.Query) []string {
	seen := map[string]bool{}
	var out []string
	add := func(words []string) {
		p := strings.Join(words, " ")
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	var walk func(e digest.Expr)
	walk = func(e digest.Expr) {
		if e.Kind == digest.ExprPhrase {
			add(e.Words)
		}
		for _, a := range e.Args {
			walk(a)
		}
		for _, a := range e.Not {
			walk(a)
		}
	}
	walk(q.Text)
	for _, l := range [][][]string{q.Sources, q.ExcludeSources} {
		for _, name := range l {
			add(name)
		}
	}
	return out
}

// normalize asks the server for the lexemes of each phrase: the same
// folding and stemming the articles' text went through.
func (db *DB) normalize(ctx context.Context, phrases []string) (lexemes, error) {
	out := make(lexemes, len(phrases))
	if len(phrases) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT p.phrase, v.lexeme, pos
		FROM unnest($1::text[]) AS p(phrase)
		CROSS JOIN LATERAL unnest(to_tsvector('herald', herald_search_text(p.phrase))) AS v(lexeme, positions, weights)
		CROSS JOIN LATERAL unnest(v.positions) AS pos
		ORDER BY p.phrase, pos`, phrases)
	if err != nil {
		return nil, fmt.Errorf("normalize query words: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var phrase string
		var l lexeme
		if err := rows.Scan(&phrase, &l.text, &l.pos); err != nil {
			return nil, fmt.Errorf("normalize query words: %w", err)
		}
		out[phrase] = append(out[phrase], l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("normalize query words: %w", err)
	}
	return out, nil
}

// tsQuote writes a lexeme as a quoted tsquery operand: inside single
// quotes, a quote is doubled and a backslash escaped, so any text stays
// one operand.
func tsQuote(lexeme string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(lexeme) + "'"
}

// tsPhrase writes a phrase's lexemes as a tsquery phrase, each with the
// weight label if one is given; ok is false for a phrase without lexemes.
func tsPhrase(lex []lexeme, weight string) (s string, ok bool) {
	if len(lex) == 0 {
		return "", false
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, l := range lex {
		if i > 0 {
			if d := l.pos - lex[i-1].pos; d == 1 {
				b.WriteString(" <-> ")
			} else {
				fmt.Fprintf(&b, " <%d> ", max(d, 0))
			}
		}
		b.WriteString(tsQuote(l.text))
		if weight != "" {
			b.WriteString(":" + weight)
		}
	}
	b.WriteByte(')')
	return b.String(), true
}

// tsBuilder turns a parsed query into tsquery text.
type tsBuilder struct {
	lex lexemes
}

// expr writes e; ok is false when e can match nothing. With positive, the
// exclusions inside e are left out (for ranking and highlighting).
func (t tsBuilder) expr(e digest.Expr, positive bool) (string, bool) {
	switch e.Kind {
	case digest.ExprPhrase:
		return tsPhrase(t.lex[strings.Join(e.Words, " ")], "")
	case digest.ExprOr:
		var alts []string
		for _, a := range e.Args {
			if s, ok := t.expr(a, positive); ok {
				alts = append(alts, s)
			}
		}
		return join(alts, " | ")
	}
	return t.and(e.Args, e.Not, positive)
}

// and writes args that must all match and nots that must not.
func (t tsBuilder) and(args, nots []digest.Expr, positive bool) (string, bool) {
	var parts []string
	for _, a := range args {
		s, ok := t.expr(a, positive)
		if !ok {
			return "", false
		}
		parts = append(parts, s)
	}
	if !positive {
		for _, n := range nots {
			// Excluding what can match nothing excludes nothing.
			if s, ok := t.expr(n, false); ok {
				parts = append(parts, "!"+s)
			}
		}
	}
	return join(parts, " & ")
}

// names writes source names as phrases of the source field, any of them.
func (t tsBuilder) names(names [][]string) (string, bool) {
	var alts []string
	for _, n := range names {
		if s, ok := tsPhrase(t.lex[strings.Join(n, " ")], "D"); ok {
			alts = append(alts, s)
		}
	}
	return join(alts, " | ")
}

// phrases writes every wanted phrase of e (none of its exclusions), any
// of them.
func (t tsBuilder) phrases(e digest.Expr, out []string) []string {
	if e.Kind == digest.ExprPhrase {
		if s, ok := tsPhrase(t.lex[strings.Join(e.Words, " ")], ""); ok {
			out = append(out, s)
		}
	}
	for _, a := range e.Args {
		out = t.phrases(a, out)
	}
	return out
}

func join(parts []string, op string) (string, bool) {
	switch len(parts) {
	case 0:
		return "", false
	case 1:
		return parts[0], true
	}
	return "(" + strings.Join(parts, op) + ")", true
}

// build returns the tsquery texts of q.
func (t tsBuilder) build(q *digest.Query) tsQueries {
	var out tsQueries
	var pos []string
	if q.HasWords() {
		s, ok := t.and(q.Text.Args, nil, false)
		if !ok {
			return tsQueries{none: true}
		}
		pos = append(pos, s)
		out.rank, _ = t.and(q.Text.Args, nil, true)
		out.highlight, _ = join(t.phrases(q.Text, nil), " | ")
	}
	if len(q.Sources) > 0 {
		s, ok := t.names(q.Sources)
		if !ok {
			return tsQueries{none: true}
		}
		pos = append(pos, s)
	}
	var neg []string
	for _, n := range q.Text.Not {
		if s, ok := t.expr(n, false); ok {
			neg = append(neg, s)
		}
	}
	if s, ok := t.names(q.ExcludeSources); ok {
		neg = append(neg, s)
	}
	exclude, hasNeg := join(neg, " | ")
	match, hasPos := join(pos, " & ")
	switch {
	case hasPos && hasNeg:
		out.match = match + " & !" + exclude
	case hasPos:
		out.match = match
	case hasNeg:
		out.exclude = exclude
	}
	return out
}

// rankedStory is a story found by a search, with the article that
// represents it.
type rankedStory struct {
	story, article int64
}

func (db *DB) search(ctx context.Context, p *digest.SearchPlan, loc *time.Location) (*digest.SearchPage, error) {
	q, cur, limit := p.Query, p.Cursor, p.Limit
	page := &digest.SearchPage{Hits: []digest.SearchHit{}}
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
	lex, err := db.normalize(ctx, queryPhrases(q))
	if err != nil {
		return nil, err
	}
	tsq := tsBuilder{lex: lex}.build(q)
	if tsq.none {
		return page, nil
	}

	// Candidates: the newest articles that pass every condition.
	var w where
	w.add("m.id <= ?", cur.Snapshot)
	switch {
	case tsq.match != "":
		w.add("m.search @@ ?::tsquery", tsq.match)
	case tsq.exclude != "":
		w.add("NOT (m.search @@ ?::tsquery)", tsq.exclude)
	}
	since, before := q.Window(cur.Now, loc)
	if !since.IsZero() {
		w.add("m.published >= ?", since)
	}
	if !before.IsZero() {
		w.add("m.published < ?", before)
	}
	if len(include) > 0 {
		w.add("EXISTS (SELECT 1 FROM article_feeds x WHERE x.article_id = m.id AND x.feed_id = ANY(?))", include)
	}
	if len(exclude) > 0 {
		w.add("NOT EXISTS (SELECT 1 FROM article_feeds x WHERE x.article_id = m.id AND x.feed_id = ANY(?))", exclude)
	}
	cand := `SELECT m.id, m.published FROM articles m` + w.String() + ` ORDER BY m.id DESC LIMIT ` + w.arg(searchCandidates)
	// Each candidate's story: itself until it is clustered. This and the
	// rank below are subqueries by ID, so that they cost an index lookup
	// per candidate however large the tables (a join could read them
	// whole).
	storied := `SELECT c.id, coalesce((SELECT st.story_id FROM article_stories st WHERE st.article_id = c.id), c.id) AS story,
		c.published FROM cand c`

	// Scores: relevance with a recency boost for words; for filters only,
	// the newest first. The best article of each story stands for it.
	var scored, order string
	if q.HasWords() {
		h := strconv.FormatFloat(recencyHalfLife.Seconds(), 'f', -1, 64)
		scored = fmt.Sprintf(`SELECT c.id, c.story, c.published,
				(SELECT ts_rank_cd('%s', r.search, %s::tsquery, %d) FROM articles r WHERE r.id = c.id)::float8
				* (1.0 + %s / (%s + greatest(extract(epoch FROM %s::timestamptz - c.published)::float8, 0))) AS score
			FROM storied c`,
			rankWeights, w.arg(tsq.rank), rankNormalization, h, h, w.arg(cur.Now))
		order = "score DESC"
	} else {
		scored = `SELECT c.id, c.story, c.published, 0::float8 AS score FROM storied c`
		order = "published DESC"
	}
	sql := `WITH cand AS (` + cand + `), storied AS (` + storied + `), scored AS (` + scored + `),
		best AS (SELECT DISTINCT ON (story) story, id, score, published FROM scored ORDER BY story, ` + order + `, id DESC)
		SELECT story, id FROM best ORDER BY ` + order + `, story DESC LIMIT ` + w.arg(limit+1) + ` OFFSET ` + w.arg(cur.Offset)
	// Plan for these words and filters, not a generic plan cached for
	// all: a common word and a rare one want different plans.
	rows, err := db.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, w.args...)...)
	if err != nil {
		return nil, err
	}
	ranked, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (rankedStory, error) {
		var r rankedStory
		err := row.Scan(&r.story, &r.article)
		return r, err
	})
	if err != nil {
		return nil, err
	}

	if len(ranked) > limit {
		ranked = ranked[:limit]
		page.NextCursor = p.Next()
	}
	if len(ranked) == 0 {
		return page, nil
	}
	hits, err := db.searchHits(ctx, ranked)
	if err != nil {
		return nil, err
	}
	if tsq.highlight != "" {
		if err := db.snippets(ctx, tsq.highlight, hits); err != nil {
			return nil, err
		}
	}
	page.Hits = hits
	return page, nil
}

// searchHits loads what the hits show, in the order given.
func (db *DB) searchHits(ctx context.Context, ranked []rankedStory) ([]digest.SearchHit, error) {
	ids, stories := make([]int64, len(ranked)), make([]int64, len(ranked))
	for i, r := range ranked {
		ids[i], stories[i] = r.article, r.story
	}
	// A story's sources are its members' outlets, counted once whatever
	// their case, as digests count them.
	rows, err := db.pool.Query(ctx, `SELECT a.id, a.title, a.url, a.source, a.published,
			coalesce(f.name, ''), coalesce(f.title, ''), left(a.summary, $1), left(a.content, $1),
			(SELECT count(DISTINCT lower((CASE WHEN s.source <> '' THEN s.source
				ELSE coalesce(nullif(sf.name, ''), nullif(sf.title, ''), s.url) END) COLLATE herald_unicode))
				FROM article_stories x JOIN articles s ON s.id = x.article_id LEFT JOIN feeds sf ON sf.id = s.feed_id
				WHERE x.story_id = st.story_id)
		FROM articles a LEFT JOIN feeds f ON f.id = a.feed_id LEFT JOIN article_stories st ON st.article_id = a.id
		WHERE a.id = ANY($2)`, digest.SearchLeadRunes*4, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var found []digest.HitRow
	for rows.Next() {
		var h digest.HitRow
		var published pgtype.Timestamptz
		if err := rows.Scan(&h.ArticleID, &h.Title, &h.URL, &h.Source, &published, &h.FeedName, &h.FeedTitle,
			&h.Summary, &h.Content, &h.Sources); err != nil {
			return nil, err
		}
		h.Published = fromTS(published)
		found = append(found, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return digest.RankedHits(found, ids, stories), nil
}

// headline is the SQL of a LATERAL subquery, named alias, that reads the
// snippet of column col: ts_headline's fragment of the text (marker
// characters removed from the text first); whether the text goes on before
// it (lead); and what follows it up to the next word (tail), or NULL when
// more words follow. The fragment is the text's own, white space included,
// so strpos finds where it starts (found is false when it does not). Each
// step is fenced with OFFSET 0 so that the planner computes it once
// instead of copying the expression into every use. The subquery yields
// nothing unless cond holds.
func headline(col string, maxRunes int, alias, cond string) string {
	return fmt.Sprintf(`LEFT JOIN LATERAL (SELECT h.marked, p.at > 0 AS found,
			p.at > 1 AND btrim(left(d.doc, p.at - 1)) <> '' AS lead,
			CASE WHEN substr(d.doc, p.at + p.n + length(t.tail), 1) = '' THEN t.tail END AS tail
		FROM (SELECT translate(left(a.%[1]s, %[2]d), E'\x02\x03', '') AS doc OFFSET 0) d,
			LATERAL (SELECT ts_headline('herald', d.doc, $1::tsquery, $2) AS marked OFFSET 0) h,
			LATERAL (SELECT translate(h.marked, E'\x02\x03', '') AS plain OFFSET 0) pl,
			LATERAL (SELECT strpos(d.doc, pl.plain) AS at, length(pl.plain) AS n OFFSET 0) p,
			LATERAL (SELECT substring(substr(d.doc, p.at + p.n, 64) COLLATE herald_unicode FROM '^[^[:alnum:]]*') AS tail OFFSET 0) t
		WHERE %[4]s) %[3]s ON true`, col, maxRunes, alias, cond)
}

// fragment is a ts_headline fragment with what headline learnt about its
// place in the text.
type fragment struct {
	marked      string
	found, lead bool
	tail        *string // nil when the text goes on after the fragment
}

// snippet writes the fragment with "…" where the text goes on, and the
// punctuation that ends the text when it does not; white space collapses
// to single spaces.
func (f fragment) snippet() string {
	s := f.marked
	if f.found {
		if f.lead {
			s = "…" + s
		}
		if f.tail == nil {
			s += "…"
		} else {
			s += strings.TrimSpace(*f.tail)
		}
	}
	return strings.Join(strings.Fields(s), " ")
}

// snippets replaces each hit's snippet with the text around its matched
// words: from the summary if it holds a match, else from the content.
func (db *DB) snippets(ctx context.Context, highlight string, hits []digest.SearchHit) error {
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.ArticleID
	}
	// The content's snippet is made only when the summary has no match.
	rows, err := db.pool.Query(ctx, `SELECT a.id, s.marked, s.found, s.lead, s.tail, c.marked, c.found, c.lead, c.tail
		FROM articles a `+headline("summary", 50000, "s", "true")+`
		`+headline("content", 100000, "c", `strpos(s.marked, E'\x02') = 0`)+`
		WHERE a.id = ANY($3)`, highlight, headlineOptions, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	found := make(map[int64]string, len(hits))
	for rows.Next() {
		var id int64
		var summary fragment
		var content struct {
			marked      *string
			found, lead *bool
			tail        *string
		}
		if err := rows.Scan(&id, &summary.marked, &summary.found, &summary.lead, &summary.tail,
			&content.marked, &content.found, &content.lead, &content.tail); err != nil {
			return err
		}
		switch {
		case strings.Contains(summary.marked, digest.SnippetMatchStart):
			found[id] = summary.snippet()
		case content.marked != nil && strings.Contains(*content.marked, digest.SnippetMatchStart):
			found[id] = fragment{marked: *content.marked, found: *content.found, lead: *content.lead, tail: content.tail}.snippet()
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range hits {
		if s, ok := found[hits[i].ArticleID]; ok {
			hits[i].Snippet = s
		}
	}
	return nil
}

var _ digest.SearchStore = (*DB)(nil)
