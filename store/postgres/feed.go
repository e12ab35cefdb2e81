package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/seed-c50b6fda/herald/digest"
)

const feedColumns = `f.id, f.url, f.name, f.title, f.site_url, f.language, f.priority, f.created_at,
	f.etag, f.last_modified, f.body_hash, f.checked_at, f.succeeded_at, f.next_check_at,
	f.consecutive_errors, f.last_error, f.failing_since,
	(SELECT count(*) FROM article_feeds af WHERE af.feed_id = f.id)`

func scanFeed(row pgx.Row) (*digest.Feed, error) {
	var f digest.Feed
	var created, checked, succeeded, next, failing pgtype.Timestamptz
	err := row.Scan(&f.ID, &f.URL, &f.Name, &f.Title, &f.SiteURL, &f.Language, &f.Priority, &created,
		&f.ETag, &f.LastModified, &f.BodyHash, &checked, &succeeded, &next,
		&f.ConsecutiveErrors, &f.LastError, &failing, &f.Articles)
	if err != nil {
		return nil, err
	}
	f.CreatedAt = fromTS(created)
	f.CheckedAt = fromTS(checked)
	f.SucceededAt = fromTS(succeeded)
	f.NextCheckAt = fromTS(next)
	f.FailingSince = fromTS(failing)
	return &f, nil
}

// CreateFeed implements digest.FeedStore.
func (db *DB) CreateFeed(ctx context.Context, f *digest.Feed) error {
	if f.URL == "" {
		return digest.Errorf(digest.EINVALID, "a feed needs a URL")
	}
	created := f.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	var id int64
	err := db.pool.QueryRow(ctx, `INSERT INTO feeds (url, name, title, site_url, language, priority, created_at,
		etag, last_modified, body_hash, checked_at, succeeded_at, next_check_at, consecutive_errors, last_error, failing_since)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
		f.URL, f.Name, f.Title, f.SiteURL, f.Language, f.Priority, created,
		f.ETag, f.LastModified, f.BodyHash, ts(f.CheckedAt), ts(f.SucceededAt), ts(f.NextCheckAt),
		f.ConsecutiveErrors, f.LastError, ts(f.FailingSince)).Scan(&id)
	if isUnique(err) {
		return digest.Errorf(digest.ECONFLICT, "feed %s is already added", f.URL)
	}
	if err != nil {
		return fmt.Errorf("create feed %s: %w", f.URL, err)
	}
	f.ID, f.CreatedAt = id, created
	return nil
}

// FindFeedByID implements digest.FeedStore.
func (db *DB) FindFeedByID(ctx context.Context, id int64) (*digest.Feed, error) {
	f, err := scanFeed(db.pool.QueryRow(ctx, `SELECT `+feedColumns+` FROM feeds f WHERE f.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "feed %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find feed %d: %w", id, err)
	}
	return f, nil
}

// FindFeedByURL implements digest.FeedStore.
func (db *DB) FindFeedByURL(ctx context.Context, url string) (*digest.Feed, error) {
	f, err := scanFeed(db.pool.QueryRow(ctx, `SELECT `+feedColumns+` FROM feeds f WHERE f.url = $1`, url))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "feed %s not found", url)
	}
	if err != nil {
		return nil, fmt.Errorf("find feed %s: %w", url, err)
	}
	return f, nil
}

// ListFeeds implements digest.FeedStore.
func (db *DB) ListFeeds(ctx context.Context, filter digest.FeedFilter) ([]*digest.Feed, error) {
	var w where
	if !filter.DueBefore.IsZero() {
		// A feed never scheduled (no next check) is due at once.
		w.add("(f.next_check_at IS NULL OR f.next_check_at <= ?)", filter.DueBefore)
	}
	if filter.IDs != nil {
		if len(filter.IDs) == 0 {
			return nil, nil
		}
		w.add("f.id = ANY(?)", filter.IDs)
	}
	q := `SELECT ` + feedColumns + ` FROM feeds f` + w.String() + " ORDER BY f.id"
	if filter.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", filter.Limit)
	}
	rows, err := db.pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list feeds: %w", err)
	}
	out, err := collect(rows, scanFeed)
	if err != nil {
		return nil, fmt.Errorf("list feeds: %w", err)
	}
	return out, nil
}

// UpdateFeed implements digest.FeedStore.
func (db *DB) UpdateFeed(ctx context.Context, f *digest.Feed) error {
	tag, err := db.pool.Exec(ctx, `UPDATE feeds SET name = $1, title = $2, site_url = $3, language = $4, priority = $5,
		etag = $6, last_modified = $7, body_hash = $8, checked_at = $9, succeeded_at = $10, next_check_at = $11,
		consecutive_errors = $12, last_error = $13, failing_since = $14 WHERE id = $15`,
		f.Name, f.Title, f.SiteURL, f.Language, f.Priority,
		f.ETag, f.LastModified, f.BodyHash, ts(f.CheckedAt), ts(f.SucceededAt), ts(f.NextCheckAt),
		f.ConsecutiveErrors, f.LastError, ts(f.FailingSince), f.ID)
	if err != nil {
		return fmt.Errorf("update feed %d: %w", f.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return digest.Errorf(digest.ENOTFOUND, "feed %d not found", f.ID)
	}
	return nil
}

// DeleteFeed implements digest.FeedStore.
func (db *DB) DeleteFeed(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM feeds WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete feed %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return digest.Errorf(digest.ENOTFOUND, "feed %d not found", id)
	}
	return nil
}

// where builds a WHERE clause: conditions are written with ? for their
// argument, which add numbers in order ($1, $2, ...).
type where struct {
	conds []string
	args  []any
}

// add appends a condition; each ? in cond takes the next of args.
func (w *where) add(cond string, args ...any) {
	var b strings.Builder
	i := 0
	for _, r := range cond {
		if r == '?' && i < len(args) {
			w.args = append(w.args, args[i])
			i++
			fmt.Fprintf(&b, "$%d", len(w.args))
			continue
		}
		b.WriteRune(r)
	}
	w.conds = append(w.conds, b.String())
}

// arg adds an argument without a condition and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return fmt.Sprintf("$%d", len(w.args))
}

// String returns " WHERE a AND b", or "" without conditions.
func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// collect scans every row with scan.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
