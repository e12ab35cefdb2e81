package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/seed-c50b6fda/herald/digest"
)

const feedColumns = `f.id, f.url, f.name, f.title, f.site_url, f.language, f.priority, f.created_at,
	f.etag, f.last_modified, f.body_hash, f.checked_at, f.succeeded_at, f.next_check_at,
	f.consecutive_errors, f.last_error, f.failing_since,
	(SELECT count(*) FROM article_feeds af WHERE af.feed_id = f.id)`

func scanFeed(row interface{ Scan(...any) error }) (*digest.Feed, error) {
	var f digest.Feed
	var created, checked, succeeded, next, failing int64
	err := row.Scan(&f.ID, &f.URL, &f.Name, &f.Title, &f.SiteURL, &f.Language, &f.Priority, &created,
		&f.ETag, &f.LastModified, &f.BodyHash, &checked, &succeeded, &next,
		&f.ConsecutiveErrors, &f.LastError, &failing, &f.Articles)
	if err != nil {
		return nil, err
	}
	f.CreatedAt = fromMicros(created)
	f.CheckedAt = fromMicros(checked)
	f.SucceededAt = fromMicros(succeeded)
	f.NextCheckAt = fromMicros(next)
	f.FailingSince = fromMicros(failing)
	return &f, nil
}

// CreateFeed implements digest.FeedStore.
func (db *DB) CreateFeed(ctx context.Context, f *digest.Feed) error {
	if f.URL == "" {
		return digest.Errorf(digest.EINVALID, "a feed needs a URL")
	}
	if f.CreatedAt.IsZero() {
		f.CreatedAt = db.now()
	}
	res, err := db.exec(ctx, `INSERT INTO feeds (url, name, title, site_url, language, priority, created_at,
		etag, last_modified, body_hash, checked_at, succeeded_at, next_check_at, consecutive_errors, last_error, failing_since)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.URL, f.Name, f.Title, f.SiteURL, f.Language, f.Priority, micros(f.CreatedAt),
		f.ETag, f.LastModified, f.BodyHash, micros(f.CheckedAt), micros(f.SucceededAt), micros(f.NextCheckAt),
		f.ConsecutiveErrors, f.LastError, micros(f.FailingSince))
	if isUnique(err) {
		return digest.Errorf(digest.ECONFLICT, "feed %s is already added", f.URL)
	}
	if err != nil {
		return fmt.Errorf("create feed %s: %w", f.URL, err)
	}
	f.ID, err = res.LastInsertId()
	return err
}

// FindFeedByID implements digest.FeedStore.
func (db *DB) FindFeedByID(ctx context.Context, id int64) (*digest.Feed, error) {
	f, err := scanFeed(db.db.QueryRowContext(ctx, `SELECT `+feedColumns+` FROM feeds f WHERE f.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "feed %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find feed %d: %w", id, err)
	}
	return f, nil
}

// FindFeedByURL implements digest.FeedStore.
func (db *DB) FindFeedByURL(ctx context.Context, url string) (*digest.Feed, error) {
	f, err := scanFeed(db.db.QueryRowContext(ctx, `SELECT `+feedColumns+` FROM feeds f WHERE f.url = ?`, url))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "feed %s not found", url)
	}
	if err != nil {
		return nil, fmt.Errorf("find feed %s: %w", url, err)
	}
	return f, nil
}

// ListFeeds implements digest.FeedStore.
func (db *DB) ListFeeds(ctx context.Context, filter digest.FeedFilter) ([]*digest.Feed, error) {
	var where []string
	var args []any
	if !filter.DueBefore.IsZero() {
		where = append(where, "f.next_check_at <= ?")
		args = append(args, micros(filter.DueBefore))
	}
	if filter.IDs != nil {
		where = append(where, "f.id IN ("+placeholders(len(filter.IDs))+")")
		args = append(args, int64Args(filter.IDs)...)
		if len(filter.IDs) == 0 {
			return nil, nil
		}
	}
	q := `SELECT ` + feedColumns + ` FROM feeds f`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY f.id"
	if filter.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", filter.Limit)
	}
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list feeds: %w", err)
	}
	defer rows.Close()
	var out []*digest.Feed
	for rows.Next() {
		f, err := scanFeed(rows)
		if err != nil {
			return nil, fmt.Errorf("list feeds: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list feeds: %w", err)
	}
	return out, nil
}

// UpdateFeed implements digest.FeedStore.
func (db *DB) UpdateFeed(ctx context.Context, f *digest.Feed) error {
	res, err := db.exec(ctx, `UPDATE feeds SET name = ?, title = ?, site_url = ?, language = ?, priority = ?,
		etag = ?, last_modified = ?, body_hash = ?, checked_at = ?, succeeded_at = ?, next_check_at = ?,
		consecutive_errors = ?, last_error = ?, failing_since = ? WHERE id = ?`,
		f.Name, f.Title, f.SiteURL, f.Language, f.Priority,
		f.ETag, f.LastModified, f.BodyHash, micros(f.CheckedAt), micros(f.SucceededAt), micros(f.NextCheckAt),
		f.ConsecutiveErrors, f.LastError, micros(f.FailingSince), f.ID)
	if err != nil {
		return fmt.Errorf("update feed %d: %w", f.ID, err)
	}
	return mustAffect(res, digest.Errorf(digest.ENOTFOUND, "feed %d not found", f.ID))
}

// DeleteFeed implements digest.FeedStore.
func (db *DB) DeleteFeed(ctx context.Context, id int64) error {
	res, err := db.exec(ctx, `DELETE FROM feeds WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete feed %d: %w", id, err)
	}
	return mustAffect(res, digest.Errorf(digest.ENOTFOUND, "feed %d not found", id))
}

// mustAffect returns notFound when res changed no row.
func mustAffect(res sql.Result, notFound error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}
