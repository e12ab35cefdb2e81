package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/seed-c50b6fda/herald/digest"
)

// articleInsertLock is the key of the advisory lock a transaction holds
// from its first new article to its commit. Article IDs come from a
// sequence, which hands them out in call order, not commit order: without
// the lock a reader could see ID 11 before ID 10 commits, and whoever pages
// by ID (ListArticles with AfterID, a search cursor's snapshot) would skip
// 10. With it, IDs become visible in order, as in SQLite. Batches that
// only link known articles do not take it.
const articleInsertLock int64 = 0x2f9c_4e1a_7b3d_5a61

const articleColumns = `a.id, a.key, coalesce(fe.id, 0), a.guid, a.url, a.title, a.summary, a.content,
	a.author, a.image_url, a.language, a.source, a.published, a.first_seen, coalesce(st.story_id, 0)`

// articleFrom is what articleColumns read from: an article's feed is
// shown while it exists (see migration 0001).
const articleFrom = ` FROM articles a LEFT JOIN article_stories st ON st.article_id = a.id
	LEFT JOIN feeds fe ON fe.id = a.feed_id`

func scanArticle(row pgx.Row) (*digest.Article, error) {
	var a digest.Article
	var published, firstSeen pgtype.Timestamptz
	err := row.Scan(&a.ID, &a.Key, &a.FeedID, &a.GUID, &a.URL, &a.Title, &a.Summary, &a.Content,
		&a.Author, &a.ImageURL, &a.Language, &a.Source, &published, &firstSeen, &a.StoryID)
	if err != nil {
		return nil, err
	}
	a.Published = fromTS(published)
	a.FirstSeen = fromTS(firstSeen)
	return &a, nil
}

// SaveArticles implements digest.ArticleStore. The batch goes to the server
// as arrays: one statement finds the keys already stored, one inserts the
// new articles in input order, one links them all to the feed.
func (db *DB) SaveArticles(ctx context.Context, feedID int64, articles []*digest.Article) ([]*digest.Article, error) {
	for i, a := range articles {
		if a.Key == "" {
			return nil, digest.Errorf(digest.EINVALID, "article %d of %d has no identity key", i+1, len(articles))
		}
	}
	batch := newArticleBatch(articles, db.now())
	var ids map[string]int64 // key -> ID of the articles this call inserted
	err := db.withTx(ctx, func(tx pgx.Tx) error {
		ids = nil
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM feeds WHERE id = $1 FOR KEY SHARE`, feedID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return digest.Errorf(digest.ENOTFOUND, "feed %d not found", feedID)
		}
		if err != nil {
			return err
		}
		if len(batch.key) == 0 {
			return nil
		}
		var known []string
		if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(key), '{}') FROM articles WHERE key = ANY($1)`, batch.key).Scan(&known); err != nil {
			return fmt.Errorf("find known keys: %w", err)
		}
		if fresh := batch.without(known); len(fresh.key) > 0 {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, articleInsertLock); err != nil {
				return err
			}
			if ids, err = insertArticles(ctx, tx, feedID, fresh); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO article_feeds (feed_id, article_id, first_seen)
			SELECT $1, a.id, t.first_seen FROM unnest($2::text[], $3::timestamptz[]) AS t(key, first_seen)
			JOIN articles a ON a.key = t.key
			ON CONFLICT DO NOTHING`, feedID, batch.key, batch.firstSeen)
		if err != nil {
			return fmt.Errorf("link articles: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, wrap(err, "save articles of feed %d", feedID)
	}
	var inserted []*digest.Article
	for i, a := range batch.articles {
		if id, ok := ids[a.Key]; ok {
			a.ID, a.FeedID, a.FirstSeen, a.Published, a.StoryID = id, feedID, batch.firstSeen[i], batch.published[i], 0
			inserted = append(inserted, a)
		}
	}
	return inserted, nil
}

// articleBatch is a batch of articles as column arrays, one entry per key.
type articleBatch struct {
	articles                                                                    []*digest.Article
	key, guid, url, title, summary, content, author, imageURL, language, source []string
	published, firstSeen                                                        []time.Time
}

// newArticleBatch returns the articles with their missing times set: first
// seen now, published when first seen. Of several articles with one key the
// first wins, as if they were saved one by one.
func newArticleBatch(articles []*digest.Article, now time.Time) *articleBatch {
	b := &articleBatch{}
	seen := make(map[string]bool, len(articles))
	for _, a := range articles {
		if seen[a.Key] {
			continue
		}
		seen[a.Key] = true
		firstSeen := a.FirstSeen
		if firstSeen.IsZero() {
			firstSeen = now
		}
		published := a.Published
		if published.IsZero() {
			published = firstSeen
		}
		b.add(a, published, firstSeen)
	}
	return b
}

func (b *articleBatch) add(a *digest.Article, published, firstSeen time.Time) {
	b.articles = append(b.articles, a)
	b.key = append(b.key, a.Key)
	b.guid = append(b.guid, a.GUID)
	b.url = append(b.url, a.URL)
	b.title = append(b.title, a.Title)
	b.summary = append(b.summary, a.Summary)
	b.content = append(b.content, a.Content)
	b.author = append(b.author, a.Author)
	b.imageURL = append(b.imageURL, a.ImageURL)
	b.language = append(b.language, a.Language)
	b.source = append(b.source, a.Source)
	b.published = append(b.published, published)
	b.firstSeen = append(b.firstSeen, firstSeen)
}

// without returns the batch minus the articles with these keys.
func (b *articleBatch) without(keys []string) *articleBatch {
	if len(keys) == 0 {
		return b
	}
	drop := make(map[string]bool, len(keys))
	for _, k := range keys {
		drop[k] = true
	}
	out := &articleBatch{}
	for i, a := range b.articles {
		if !drop[a.Key] {
			out.add(a, b.published[i], b.firstSeen[i])
		}
	}
	return out
}

// insertArticles inserts the batch's articles whose key is not stored yet,
// with IDs in batch order, and returns their IDs by key.
func insertArticles(ctx context.Context, tx pgx.Tx, feedID int64, b *articleBatch) (map[string]int64, error) {
	rows, err := tx.Query(ctx, `INSERT INTO articles (key, feed_id, guid, url, title, summary, content,
			author, image_url, language, source, published, first_seen)
		SELECT t.key, $1, t.guid, t.url, t.title, t.summary, t.content, t.author, t.image_url, t.language, t.source,
			t.published, t.first_seen
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
			$10::text[], $11::text[], $12::timestamptz[], $13::timestamptz[])
			WITH ORDINALITY AS t(key, guid, url, title, summary, content, author, image_url, language, source,
				published, first_seen, n)
		ORDER BY t.n
		ON CONFLICT (key) DO NOTHING
		RETURNING id, key`,
		feedID, b.key, b.guid, b.url, b.title, b.summary, b.content, b.author, b.imageURL, b.language, b.source,
		b.published, b.firstSeen)
	if err != nil {
		return nil, fmt.Errorf("insert articles: %w", err)
	}
	defer rows.Close()
	ids := make(map[string]int64, len(b.key))
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, fmt.Errorf("insert articles: %w", err)
		}
		ids[key] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert articles: %w", err)
	}
	return ids, nil
}

// FindArticleByID implements digest.ArticleStore.
func (db *DB) FindArticleByID(ctx context.Context, id int64) (*digest.Article, error) {
	a, err := scanArticle(db.pool.QueryRow(ctx, `SELECT `+articleColumns+articleFrom+` WHERE a.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "article %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find article %d: %w", id, err)
	}
	return a, nil
}

// FindArticleByKey implements digest.ArticleStore.
func (db *DB) FindArticleByKey(ctx context.Context, key string) (*digest.Article, error) {
	a, err := scanArticle(db.pool.QueryRow(ctx, `SELECT `+articleColumns+articleFrom+` WHERE a.key = $1`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "article %q not found", key)
	}
	if err != nil {
		return nil, fmt.Errorf("find article %q: %w", key, err)
	}
	return a, nil
}

// ListArticles implements digest.ArticleStore.
func (db *DB) ListArticles(ctx context.Context, filter digest.ArticleFilter) ([]*digest.Article, error) {
	var w where
	if filter.FeedID != 0 {
		w.add("a.id IN (SELECT article_id FROM article_feeds WHERE feed_id = ?)", filter.FeedID)
	}
	if filter.FeedIDs != nil {
		if len(filter.FeedIDs) == 0 {
			return nil, nil
		}
		w.add("a.id IN (SELECT article_id FROM article_feeds WHERE feed_id = ANY(?))", filter.FeedIDs)
	}
	if filter.StoryID != 0 {
		w.add("st.story_id = ?", filter.StoryID)
	}
	if filter.URL != "" {
		w.add("a.url = ?", filter.URL)
	}
	if !filter.Since.IsZero() && !filter.Unassigned {
		w.add("a.first_seen >= ?", filter.Since)
	}
	if !filter.Until.IsZero() {
		w.add("a.first_seen < ?", filter.Until)
	}
	if filter.Unassigned {
		// unclustered_articles holds just these (migration 0003), with
		// their first sighting: the clusterer asks this every few
		// seconds, and it must cost the few unassigned articles, not the
		// window's many. Since is applied there only; a second condition
		// on a.first_seen leads the planner to scan the window.
		if filter.Since.IsZero() {
			w.add("a.id IN (SELECT article_id FROM unclustered_articles)")
		} else {
			w.add("a.id IN (SELECT article_id FROM unclustered_articles WHERE first_seen >= ?)", filter.Since)
		}
	}
	if filter.AfterID != 0 {
		w.add("a.id > ?", filter.AfterID)
	}
	q := `SELECT ` + articleColumns + articleFrom + w.String() + " ORDER BY a.id"
	if filter.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", filter.Limit)
	}
	rows, err := db.pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list articles: %w", err)
	}
	out, err := collect(rows, scanArticle)
	if err != nil {
		return nil, fmt.Errorf("list articles: %w", err)
	}
	return out, nil
}

// ArticleFeeds implements digest.ArticleStore.
func (db *DB) ArticleFeeds(ctx context.Context, articleID int64) ([]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT feed_id FROM article_feeds WHERE article_id = $1 ORDER BY feed_id`, articleID)
	if err != nil {
		return nil, fmt.Errorf("feeds of article %d: %w", articleID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("feeds of article %d: %w", articleID, err)
	}
	return ids, nil
}
