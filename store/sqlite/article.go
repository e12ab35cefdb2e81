package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// SaveArticles implements digest.ArticleStore.
func (db *DB) SaveArticles(ctx context.Context, feedID int64, articles []*digest.Article) ([]*digest.Article, error) {
	for i, a := range articles {
		if a.Key == "" {
			return nil, digest.Errorf(digest.EINVALID, "article %d of %d has no identity key", i+1, len(articles))
		}
	}
	now := db.now()
	var inserted []*digest.Article
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM feeds WHERE id = ?`, feedID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return digest.Errorf(digest.ENOTFOUND, "feed %d not found", feedID)
		}
		if err != nil {
			return err
		}
		inserted = inserted[:0]
		for chunk := range slices.Chunk(articles, saveChunk) {
			ins, err := saveChunkTx(ctx, tx, feedID, chunk, now)
			if err != nil {
				return err
			}
			inserted = append(inserted, ins...)
		}
		return nil
	})
	if err != nil {
		if digest.ErrorCode(err) != digest.EINTERNAL {
			return nil, err
		}
		return nil, fmt.Errorf("save articles of feed %d: %w", feedID, err)
	}
	return inserted, nil
}

// saveChunkTx stores up to saveChunk articles with one INSERT, links every
// one of them to the feed with another, and returns those it inserted, in
// input order. A key repeated within the chunk is inserted once, from its
// first occurrence, as one INSERT statement processes its rows in order.
func saveChunkTx(ctx context.Context, tx *sql.Tx, feedID int64, chunk []*digest.Article, now time.Time) ([]*digest.Article, error) {
	type times struct{ published, firstSeen time.Time }
	ts := make([]times, len(chunk))
	var b strings.Builder
	args := make([]any, 0, len(chunk)*articleInsertColumns)
	b.WriteString(`INSERT INTO articles (key, feed_id, guid, url, title, summary, content,
		author, image_url, language, source, published, first_seen) VALUES `)
	for i, a := range chunk {
		firstSeen := a.FirstSeen
		if firstSeen.IsZero() {
			firstSeen = now
		}
		published := a.Published
		if published.IsZero() {
			published = firstSeen
		}
		ts[i] = times{published, firstSeen}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, a.Key, feedID, a.GUID, a.URL, a.Title, a.Summary, a.Content,
			a.Author, a.ImageURL, a.Language, a.Source, micros(published), micros(firstSeen))
	}
	// RETURNING gives the rows in no promised order, so match them up by
	// key.
	b.WriteString(" ON CONFLICT (key) DO NOTHING RETURNING id, key")
	rows, err := tx.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("insert %d articles: %w", len(chunk), err)
	}
	ids := make(map[string]int64, len(chunk))
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			rows.Close()
			return nil, fmt.Errorf("insert %d articles: %w", len(chunk), err)
		}
		ids[key] = id
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("insert %d articles: %w", len(chunk), err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert %d articles: %w", len(chunk), err)
	}
	var inserted []*digest.Article
	var known []any // keys stored before, to link too
	for i, a := range chunk {
		if id, ok := ids[a.Key]; ok && id > 0 {
			a.ID, a.FeedID, a.Published, a.FirstSeen, a.StoryID = id, feedID, ts[i].published, ts[i].firstSeen, 0
			inserted = append(inserted, a)
			ids[a.Key] = -id // a later occurrence of the key is only linked
		} else if !ok {
			known = append(known, a.Key)
			ids[a.Key] = 0
		}
	}
	if len(known) > 0 {
		rows, err := tx.QueryContext(ctx, `SELECT id, key FROM articles WHERE key IN (`+placeholders(len(known))+`)`, known...)
		if err != nil {
			return nil, fmt.Errorf("find %d stored articles: %w", len(known), err)
		}
		for rows.Next() {
			var id int64
			var key string
			if err := rows.Scan(&id, &key); err != nil {
				rows.Close()
				return nil, fmt.Errorf("find %d stored articles: %w", len(known), err)
			}
			ids[key] = -id
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("find %d stored articles: %w", len(known), err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("find %d stored articles: %w", len(known), err)
		}
	}
	// Every article of the chunk is linked to the feed, with the time the
	// first occurrence of its key was seen; a link that exists stays.
	b.Reset()
	b.WriteString(`INSERT INTO article_feeds (feed_id, article_id, first_seen) VALUES `)
	args = args[:0]
	for i, a := range chunk {
		id := -ids[a.Key]
		if id <= 0 {
			return nil, fmt.Errorf("find article %q: %w", a.Key, sql.ErrNoRows)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?)")
		args = append(args, feedID, id, micros(ts[i].firstSeen))
	}
	b.WriteString(" ON CONFLICT DO NOTHING")
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return nil, fmt.Errorf("link %d articles to feed %d: %w", len(chunk), feedID, err)
	}
	return inserted, nil
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
