package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

const articleColumns = `a.id, a.key, coalesce(a.feed_id, 0), a.guid, a.url, a.title, a.summary, a.content,
	a.author, a.image_url, a.language, a.source, a.published, a.first_seen, coalesce(a.story_id, 0)`

func scanArticle(row interface{ Scan(...any) error }) (*digest.Article, error) {
	var a digest.Article
	var published, firstSeen int64
	err := row.Scan(&a.ID, &a.Key, &a.FeedID, &a.GUID, &a.URL, &a.Title, &a.Summary, &a.Content,
		&a.Author, &a.ImageURL, &a.Language, &a.Source, &published, &firstSeen, &a.StoryID)
	if err != nil {
		return nil, err
	}
	a.Published = fromMicros(published)
	a.FirstSeen = fromMicros(firstSeen)
	return &a, nil
}

// articleInsertColumns are the columns SaveArticles writes per article.
const articleInsertColumns = 13

// saveChunk is the most articles one INSERT statement writes: SQLite
// allows at most 32766 bound values a statement, and a statement per
// chunk rather than per article matters for search: FTS5 writes the terms
// of each statement as an index segment of its own, and fewer, larger
// segments are cheaper to write, merge and read.
const saveChunk = 32766 / articleInsertColumns

// SaveArticles implements digest.ArticleStore. Calls that overlap are
// written together: see saveQueue.
func (db *DB) SaveArticles(ctx context.Context, feedID int64, articles []*digest.Article) ([]*digest.Article, error) {
	for i, a := range articles {
		if a.Key == "" {
			return nil, digest.Errorf(digest.EINVALID, "article %d of %d has no identity key", i+1, len(articles))
		}
	}
	r := &saveReq{ctx: ctx, feedID: feedID, articles: articles, wake: make(chan struct{})}
	db.saves.save(r, db.saveGroup)
	if r.err != nil {
		if digest.ErrorCode(r.err) != digest.EINTERNAL {
			return nil, r.err
		}
		return nil, fmt.Errorf("save articles of feed %d: %w", feedID, r.err)
	}
	return r.inserted, nil
}

// saveQueue writes overlapping SaveArticles calls in one transaction, with
// one statement of each kind for all their articles (group commit). The
// search index gains most: FTS5 writes the terms of each statement as an
// index segment and merges segments 32 at a time, so small segments are
// rewritten at every level (a third of SaveArticles' CPU time at a million
// articles saved 100 at a time); larger segments skip the lowest levels.
// When many feeds are polled at once their saves overlap, and that is when
// articles arrive fastest.
//
// There is no writer goroutine. A caller that finds no write in progress
// leads: it takes the waiting calls (itself first, up to saveChunk
// articles), writes them, hands each its result, and passes the lead to
// the oldest call still waiting. A call can give up while it waits, but
// not once it is being written: then it waits for the outcome, so that
// its caller never takes saved articles for lost.
type saveQueue struct {
	mu      sync.Mutex
	pending []*saveReq // waiting to be written, oldest first
	busy    bool       // a leader is writing
}

// saveReq is one SaveArticles call.
type saveReq struct {
	ctx      context.Context
	feedID   int64
	articles []*digest.Article

	inserted []*digest.Article // the result
	err      error

	lead bool          // the call leads the next write
	wake chan struct{} // closed when the call is done or leads
}

// save has r written by write, alone or with other calls, and returns when
// r.inserted and r.err hold its outcome.
func (q *saveQueue) save(r *saveReq, write func([]*saveReq)) {
	q.mu.Lock()
	q.pending = append(q.pending, r)
	if q.busy {
		q.mu.Unlock()
		select {
		case <-r.wake:
		case <-r.ctx.Done():
			q.mu.Lock()
			if i := slices.Index(q.pending, r); i >= 0 && !r.lead {
				q.pending = slices.Delete(q.pending, i, i+1)
				q.mu.Unlock()
				r.err = r.ctx.Err()
				return
			}
			q.mu.Unlock()
			<-r.wake
		}
		if !r.lead {
			return
		}
		q.mu.Lock()
	}
	// r leads; it is the oldest waiting call.
	q.busy = true
	n, articles := 1, len(r.articles)
	for n < len(q.pending) && articles+len(q.pending[n].articles) <= saveChunk {
		articles += len(q.pending[n].articles)
		n++
	}
	group := slices.Clone(q.pending[:n])
	q.pending = slices.Delete(q.pending, 0, n)
	q.mu.Unlock()

	written := false
	defer func() {
		// Should write panic, the calls it held learn that, and the
		// queue goes on.
		if !written {
			for _, g := range group {
				g.inserted, g.err = nil, errSaveAborted
			}
		}
		q.mu.Lock()
		if len(q.pending) > 0 {
			next := q.pending[0]
			next.lead = true
			close(next.wake)
		} else {
			q.busy = false
		}
		q.mu.Unlock()
		for _, g := range group[1:] {
			close(g.wake)
		}
	}()
	write(group)
	written = true
}

// errSaveAborted is the outcome of calls whose write panicked.
var errSaveAborted = errors.New("the write was aborted")

// saveGroup writes the calls of group in one transaction. If it fails
// with more than one call in it, each call is written alone, so that one
// call's articles cannot keep the others out and each call gets its own
// error; unless another process held the database, which would only fail
// again.
func (db *DB) saveGroup(group []*saveReq) {
	live := make([]*saveReq, 0, len(group))
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	// The write stops when every caller has given up, not when the first
	// does.
	ctx, cancel := context.WithCancel(context.WithoutCancel(live[0].ctx))
	defer cancel()
	var waiting atomic.Int32
	waiting.Store(int32(len(live)))
	for _, r := range live {
		stop := context.AfterFunc(r.ctx, func() {
			if waiting.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error { return db.saveTx(ctx, tx, live) })
	if err == nil {
		return
	}
	if len(live) == 1 || ctx.Err() != nil || isBusy(err) {
		for _, r := range live {
			r.inserted, r.err = nil, err
		}
		return
	}
	for _, r := range live {
		one := []*saveReq{r}
		if err := db.withTx(ctx, func(tx *sql.Tx) error { return db.saveTx(ctx, tx, one) }); err != nil {
			r.inserted, r.err = nil, err
		}
	}
}

// saveEntry is one article of a save, with its feed.
type saveEntry struct {
	feedID   int64
	a        *digest.Article
	inserted bool
}

// saveTx stores the articles of calls, in order, and sets each call's
// result: ENOTFOUND when its feed does not exist, else the articles it
// inserted, in input order.
func (db *DB) saveTx(ctx context.Context, tx *sql.Tx, calls []*saveReq) error {
	now := db.now()
	var entries []saveEntry
	for _, r := range calls {
		r.inserted, r.err = nil, nil
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM feeds WHERE id = ?`, r.feedID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			r.err = digest.Errorf(digest.ENOTFOUND, "feed %d not found", r.feedID)
			continue
		}
		if err != nil {
			return err
		}
		for _, a := range r.articles {
			entries = append(entries, saveEntry{feedID: r.feedID, a: a})
		}
	}
	for chunk := range slices.Chunk(entries, saveChunk) {
		if err := db.saveChunkTx(ctx, tx, chunk, now); err != nil {
			return err
		}
	}
	k := 0
	for _, r := range calls {
		if r.err != nil {
			continue
		}
		for range r.articles {
			if entries[k].inserted {
				r.inserted = append(r.inserted, entries[k].a)
			}
			k++
		}
	}
	return nil
}

// saveChunkTx stores up to saveChunk articles with one INSERT, links every
// one of them to its feed with another, and marks those it inserted. A
// key repeated within the chunk is inserted once, from its first
// occurrence, as one INSERT statement processes its rows in order.
func (db *DB) saveChunkTx(ctx context.Context, tx *sql.Tx, chunk []saveEntry, now time.Time) error {
	type times struct{ published, firstSeen time.Time }
	ts := make([]times, len(chunk))
	insert, rows, err := db.save.get(ctx, db.db, insertArticles, len(chunk))
	if err != nil {
		return fmt.Errorf("insert %d articles: %w", len(chunk), err)
	}
	args := make([]any, 0, rows*articleInsertColumns)
	for i, e := range chunk {
		a := e.a
		firstSeen := a.FirstSeen
		if firstSeen.IsZero() {
			firstSeen = now
		}
		published := a.Published
		if published.IsZero() {
			published = firstSeen
		}
		ts[i] = times{published, firstSeen}
		args = append(args, a.Key, e.feedID, a.GUID, a.URL, a.Title, a.Summary, a.Content,
			a.Author, a.ImageURL, a.Language, a.Source, micros(published), micros(firstSeen))
	}
	args = padNull(args, rows*articleInsertColumns)
	ids := make(map[string]int64, len(chunk))
	// RETURNING gives the rows in no promised order, so match them up by
	// key.
	res, err := tx.StmtContext(ctx, insert).QueryContext(ctx, args...)
	if err == nil {
		err = readKeyIDs(res, ids, 1)
	}
	if err != nil {
		return fmt.Errorf("insert %d articles: %w", len(chunk), err)
	}
	var known []any // keys stored before, to link too
	for i := range chunk {
		e := &chunk[i]
		a := e.a
		if id, ok := ids[a.Key]; ok && id > 0 {
			a.ID, a.FeedID, a.Published, a.FirstSeen, a.StoryID = id, e.feedID, ts[i].published, ts[i].firstSeen, 0
			e.inserted = true
			ids[a.Key] = -id // a later occurrence of the key is only linked
		} else if !ok {
			known = append(known, a.Key)
			ids[a.Key] = 0
		}
	}
	if len(known) > 0 {
		find, rows, err := db.save.get(ctx, db.db, findArticles, len(known))
		if err != nil {
			return fmt.Errorf("find %d stored articles: %w", len(known), err)
		}
		res, err := tx.StmtContext(ctx, find).QueryContext(ctx, padNull(known, rows)...)
		if err == nil {
			err = readKeyIDs(res, ids, -1)
		}
		if err != nil {
			return fmt.Errorf("find %d stored articles: %w", len(known), err)
		}
	}
	// Every article of the chunk is linked to its feed, with the time the
	// first occurrence of its key was seen; a link that exists stays.
	link, rows, err := db.save.get(ctx, db.db, linkArticles, len(chunk))
	if err != nil {
		return fmt.Errorf("link %d articles to their feeds: %w", len(chunk), err)
	}
	args = args[:0]
	for i, e := range chunk {
		id := -ids[e.a.Key]
		if id <= 0 {
			return fmt.Errorf("find article %q: %w", e.a.Key, sql.ErrNoRows)
		}
		args = append(args, e.feedID, id, micros(ts[i].firstSeen))
	}
	args = padNull(args, rows*3)
	if _, err := tx.StmtContext(ctx, link).ExecContext(ctx, args...); err != nil {
		return fmt.Errorf("link %d articles to their feeds: %w", len(chunk), err)
	}
	return nil
}

// padNull extends args to n values with nil ones, the NULL rows that pad a
// statement of saveSQL.
func padNull(args []any, n int) []any {
	if n <= cap(args) {
		clear(args[len(args):n])
		return args[:n]
	}
	return append(args, make([]any, n-len(args))...)
}

// readKeyIDs reads rows of (id, key) into ids, each ID times sign, and
// closes rows.
func readKeyIDs(rows *sql.Rows, ids map[string]int64, sign int64) error {
	defer rows.Close()
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return err
		}
		ids[key] = sign * id
	}
	if err := rows.Close(); err != nil {
		return err
	}
	return rows.Err()
}

// SaveArticles runs the same three statements for every poll, with as many
// rows as the poll has articles. Parsing them afresh took 3.6% of
// SaveArticles' CPU time in BenchmarkSearchIngest (batches of 100, search
// index included), so they are prepared once per size class: the rows are
// rounded up to a power of two (at most saveChunk), and the rows that pad a
// statement are NULL, which it skips. That makes at most 3 kinds times 13
// classes of statements, each prepared when first needed.
type saveStmt int

const (
	insertArticles saveStmt = iota // the articles, returning the IDs of those inserted
	findArticles                   // the IDs of stored articles by key
	linkArticles                   // every article to its feed
	saveStmtKinds
)

// saveClasses is the number of size classes: 1, 2, 4, ... 2048 and
// saveChunk.
const saveClasses = 13

type saveStmts struct {
	mu    sync.Mutex
	stmts [saveStmtKinds][saveClasses]*sql.Stmt
}

// saveClass returns the size class of a statement for n rows and the rows
// its statement has.
func saveClass(n int) (class, rows int) {
	for rows = 1; rows < n; rows *= 2 {
		class++
	}
	return class, min(rows, saveChunk)
}

// get returns the statement of kind for n rows, preparing it on first use,
// and the number of rows it has (its arguments are that many rows' worth).
func (s *saveStmts) get(ctx context.Context, db *sql.DB, kind saveStmt, n int) (*sql.Stmt, int, error) {
	class, rows := saveClass(n)
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.stmts[kind][class]; st != nil {
		return st, rows, nil
	}
	st, err := db.PrepareContext(ctx, saveSQL(kind, rows))
	if err != nil {
		return nil, 0, err
	}
	s.stmts[kind][class] = st
	return st, rows, nil
}

func (s *saveStmts) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.stmts {
		for c, st := range s.stmts[k] {
			if st != nil {
				st.Close()
				s.stmts[k][c] = nil
			}
		}
	}
}

// saveSQL is the statement of kind with rows rows. The INSERTs select from
// a VALUES list to skip the NULL rows that pad it; the WHERE clause also
// tells SQLite that ON CONFLICT belongs to the INSERT.
func saveSQL(kind saveStmt, rows int) string {
	var b strings.Builder
	values := func(cols int) {
		row := "(" + placeholders(cols) + ")"
		for i := range rows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(row)
		}
	}
	switch kind {
	case insertArticles:
		b.WriteString(`INSERT INTO articles (key, feed_id, guid, url, title, summary, content,
		author, image_url, language, source, published, first_seen) SELECT * FROM (VALUES `)
		values(articleInsertColumns)
		b.WriteString(`) WHERE column1 IS NOT NULL ON CONFLICT (key) DO NOTHING RETURNING id, key`)
	case findArticles:
		b.WriteString(`SELECT id, key FROM articles WHERE key IN (` + placeholders(rows) + `)`)
	case linkArticles:
		b.WriteString(`INSERT INTO article_feeds (feed_id, article_id, first_seen) SELECT * FROM (VALUES `)
		values(3)
		b.WriteString(`) WHERE column2 IS NOT NULL ON CONFLICT DO NOTHING`)
	}
	return b.String()
}

// FindArticleByID implements digest.ArticleStore.
func (db *DB) FindArticleByID(ctx context.Context, id int64) (*digest.Article, error) {
	a, err := scanArticle(db.db.QueryRowContext(ctx, `SELECT `+articleColumns+` FROM articles a WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "article %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find article %d: %w", id, err)
	}
	return a, nil
}

// FindArticleByKey implements digest.ArticleStore.
func (db *DB) FindArticleByKey(ctx context.Context, key string) (*digest.Article, error) {
	a, err := scanArticle(db.db.QueryRowContext(ctx, `SELECT `+articleColumns+` FROM articles a WHERE a.key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "article %q not found", key)
	}
	if err != nil {
		return nil, fmt.Errorf("find article %q: %w", key, err)
	}
	return a, nil
}

// ListArticles implements digest.ArticleStore.
func (db *DB) ListArticles(ctx context.Context, filter digest.ArticleFilter) ([]*digest.Article, error) {
	var where []string
	var args []any
	if filter.FeedID != 0 {
		where = append(where, "a.id IN (SELECT article_id FROM article_feeds WHERE feed_id = ?)")
		args = append(args, filter.FeedID)
	}
	if filter.FeedIDs != nil {
		if len(filter.FeedIDs) == 0 {
			return nil, nil
		}
		where = append(where, "a.id IN (SELECT article_id FROM article_feeds WHERE feed_id IN ("+placeholders(len(filter.FeedIDs))+"))")
		args = append(args, int64Args(filter.FeedIDs)...)
	}
	if filter.StoryID != 0 {
		where = append(where, "a.story_id = ?")
		args = append(args, filter.StoryID)
	}
	if filter.URL != "" {
		where = append(where, "a.url = ?")
		args = append(args, filter.URL)
	}
	if !filter.Since.IsZero() {
		where = append(where, "a.first_seen >= ?")
		args = append(args, micros(filter.Since))
	}
	if !filter.Until.IsZero() {
		where = append(where, "a.first_seen < ?")
		args = append(args, micros(filter.Until))
	}
	if filter.Unassigned {
		where = append(where, "a.story_id IS NULL")
	}
	if filter.AfterID != 0 {
		where = append(where, "a.id > ?")
		args = append(args, filter.AfterID)
	}
	q := `SELECT ` + articleColumns + ` FROM articles a`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY a.id"
	if filter.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", filter.Limit)
	}
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list articles: %w", err)
	}
	defer rows.Close()
	var out []*digest.Article
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, fmt.Errorf("list articles: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list articles: %w", err)
	}
	return out, nil
}

// ArticleFeeds implements digest.ArticleStore.
func (db *DB) ArticleFeeds(ctx context.Context, articleID int64) ([]int64, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT feed_id FROM article_feeds WHERE article_id = ? ORDER BY feed_id`, articleID)
	if err != nil {
		return nil, fmt.Errorf("feeds of article %d: %w", articleID, err)
	}
	return scanIDs(rows)
}

func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
