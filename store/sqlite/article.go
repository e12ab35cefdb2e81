package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

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
		ins, err := tx.PrepareContext(ctx, `INSERT INTO articles (key, feed_id, guid, url, title, summary, content,
			author, image_url, language, source, published, first_seen)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO NOTHING RETURNING id`)
		if err != nil {
			return err
		}
		defer ins.Close()
		byKey, err := tx.PrepareContext(ctx, `SELECT id FROM articles WHERE key = ?`)
		if err != nil {
			return err
		}
		defer byKey.Close()
		link, err := tx.PrepareContext(ctx, `INSERT INTO article_feeds (feed_id, article_id, first_seen)
			VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer link.Close()

		inserted = inserted[:0]
		for _, a := range articles {
			firstSeen := a.FirstSeen
			if firstSeen.IsZero() {
				firstSeen = now
			}
			published := a.Published
			if published.IsZero() {
				published = firstSeen
			}
			var id int64
			err := ins.QueryRowContext(ctx, a.Key, feedID, a.GUID, a.URL, a.Title, a.Summary, a.Content,
				a.Author, a.ImageURL, a.Language, a.Source, micros(published), micros(firstSeen)).Scan(&id)
			switch {
			case errors.Is(err, sql.ErrNoRows): // already stored: only link it
				if err := byKey.QueryRowContext(ctx, a.Key).Scan(&id); err != nil {
					return fmt.Errorf("find article %q: %w", a.Key, err)
				}
			case err != nil:
				return fmt.Errorf("insert article %q: %w", a.Key, err)
			default:
				a.ID, a.FeedID, a.FirstSeen, a.Published, a.StoryID = id, feedID, firstSeen, published, 0
				inserted = append(inserted, a)
			}
			if _, err := link.ExecContext(ctx, feedID, id, micros(firstSeen)); err != nil {
				return fmt.Errorf("link article %d to feed %d: %w", id, feedID, err)
			}
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
