package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// AssignStories implements digest.StoryStore.
func (db *DB) AssignStories(ctx context.Context, assignments []digest.StoryAssignment, at time.Time) error {
	if len(assignments) == 0 {
		return nil
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		create, err := tx.PrepareContext(ctx, `INSERT INTO stories (id, created_at, updated_at)
			VALUES (?1, coalesce((SELECT first_seen FROM articles WHERE id = ?1), ?2), ?2)
			ON CONFLICT (id) DO UPDATE SET updated_at = max(updated_at, excluded.updated_at)`)
		if err != nil {
			return err
		}
		defer create.Close()
		set, err := tx.PrepareContext(ctx, `UPDATE articles SET story_id = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer set.Close()
		for _, as := range assignments {
			if _, err := create.ExecContext(ctx, as.StoryID, micros(at)); err != nil {
				return fmt.Errorf("create story %d: %w", as.StoryID, err)
			}
			res, err := set.ExecContext(ctx, as.StoryID, as.ArticleID)
			if err != nil {
				return fmt.Errorf("assign article %d to story %d: %w", as.ArticleID, as.StoryID, err)
			}
			if err := mustAffect(res, digest.Errorf(digest.ENOTFOUND, "article %d not found", as.ArticleID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && digest.ErrorCode(err) == digest.EINTERNAL {
		return fmt.Errorf("assign stories: %w", err)
	}
	return err
}

// MergeStories implements digest.StoryStore.
func (db *DB) MergeStories(ctx context.Context, m digest.StoryMerge) error {
	if m.From == m.Into {
		return digest.Errorf(digest.EINVALID, "cannot merge story %d into itself", m.From)
	}
	if m.At.IsZero() {
		m.At = db.now()
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var fromCreated int64
		for _, id := range []int64{m.Into, m.From} {
			err := tx.QueryRowContext(ctx, `SELECT created_at FROM stories WHERE id = ?`, id).Scan(&fromCreated)
			if errors.Is(err, sql.ErrNoRows) {
				return digest.Errorf(digest.ENOTFOUND, "story %d not found", id)
			}
			if err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE articles SET story_id = ? WHERE story_id = ?`, m.Into, m.From); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE stories SET created_at = min(created_at, ?), updated_at = max(updated_at, ?) WHERE id = ?`,
			fromCreated, micros(m.At), m.Into); err != nil {
			return err
		}
		// A subscription that was sent either story keeps the larger
		// record, under the surviving id.
		if _, err := tx.ExecContext(ctx, `INSERT INTO story_deliveries (subscription_id, story_id, sources, sent_at)
			SELECT subscription_id, ?, sources, sent_at FROM story_deliveries WHERE story_id = ?
			ON CONFLICT (subscription_id, story_id) DO UPDATE SET sources = max(sources, excluded.sources),
				sent_at = max(sent_at, excluded.sent_at)`, m.Into, m.From); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM story_deliveries WHERE story_id = ?`, m.From); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM stories WHERE id = ?`, m.From); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO story_merges (from_id, into_id, article_id, at) VALUES (?, ?, ?, ?)`,
			m.From, m.Into, m.ArticleID, micros(m.At))
		return err
	})
	if err != nil && digest.ErrorCode(err) == digest.EINTERNAL {
		return fmt.Errorf("merge story %d into %d: %w", m.From, m.Into, err)
	}
	return err
}

const storyColumns = `s.id, s.created_at, s.updated_at, (SELECT count(*) FROM articles a WHERE a.story_id = s.id)`

func scanStory(row interface{ Scan(...any) error }) (*digest.Story, error) {
	var s digest.Story
	var created, updated int64
	if err := row.Scan(&s.ID, &created, &updated, &s.Articles); err != nil {
		return nil, err
	}
	s.CreatedAt = fromMicros(created)
	s.UpdatedAt = fromMicros(updated)
	return &s, nil
}

// FindStoryByID implements digest.StoryStore.
func (db *DB) FindStoryByID(ctx context.Context, id int64) (*digest.Story, error) {
	s, err := scanStory(db.db.QueryRowContext(ctx, `SELECT `+storyColumns+` FROM stories s WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "story %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find story %d: %w", id, err)
	}
	return s, nil
}

// ListStories implements digest.StoryStore.
func (db *DB) ListStories(ctx context.Context, filter digest.StoryFilter) ([]*digest.Story, error) {
	var where []string
	var args []any
	if !filter.UpdatedSince.IsZero() {
		where = append(where, "s.updated_at >= ?")
		args = append(args, micros(filter.UpdatedSince))
	}
	if filter.FeedIDs != nil {
		if len(filter.FeedIDs) == 0 {
			return nil, nil
		}
		where = append(where, `EXISTS (SELECT 1 FROM articles a JOIN article_feeds af ON af.article_id = a.id
			WHERE a.story_id = s.id AND af.feed_id IN (`+placeholders(len(filter.FeedIDs))+`))`)
		args = append(args, int64Args(filter.FeedIDs)...)
	}
	q := `SELECT ` + storyColumns + ` FROM stories s`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY s.updated_at DESC, s.id DESC"
	if filter.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", filter.Limit)
	}
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list stories: %w", err)
	}
	defer rows.Close()
	var out []*digest.Story
	for rows.Next() {
		s, err := scanStory(rows)
		if err != nil {
			return nil, fmt.Errorf("list stories: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list stories: %w", err)
	}
	return out, nil
}

// StoryMerges implements digest.StoryStore.
func (db *DB) StoryMerges(ctx context.Context, into int64) ([]digest.StoryMerge, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT from_id, into_id, article_id, at FROM story_merges WHERE into_id = ? ORDER BY id`, into)
	if err != nil {
		return nil, fmt.Errorf("merges into story %d: %w", into, err)
	}
	defer rows.Close()
	var out []digest.StoryMerge
	for rows.Next() {
		var m digest.StoryMerge
		var at int64
		if err := rows.Scan(&m.From, &m.Into, &m.ArticleID, &at); err != nil {
			return nil, fmt.Errorf("merges into story %d: %w", into, err)
		}
		m.At = fromMicros(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// RecordStoryDeliveries implements digest.SubscriptionStore.
func (db *DB) RecordStoryDeliveries(ctx context.Context, subscriptionID int64, deliveries []digest.StoryDelivery, at time.Time) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM subscriptions WHERE id = ?`, subscriptionID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return digest.Errorf(digest.ENOTFOUND, "subscription %d not found", subscriptionID)
		}
		if err != nil {
			return err
		}
		return recordDeliveries(ctx, tx, subscriptionID, deliveries, at)
	})
	if err != nil && digest.ErrorCode(err) == digest.EINTERNAL {
		return fmt.Errorf("record deliveries of subscription %d: %w", subscriptionID, err)
	}
	return err
}

func recordDeliveries(ctx context.Context, tx *sql.Tx, subscriptionID int64, deliveries []digest.StoryDelivery, at time.Time) error {
	for _, d := range deliveries {
		if _, err := tx.ExecContext(ctx, `INSERT INTO story_deliveries (subscription_id, story_id, sources, sent_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (subscription_id, story_id) DO UPDATE SET
			sources = excluded.sources, sent_at = excluded.sent_at`,
			subscriptionID, d.StoryID, d.Sources, micros(at)); err != nil {
			return err
		}
	}
	return nil
}

// StoryDeliveries implements digest.SubscriptionStore.
func (db *DB) StoryDeliveries(ctx context.Context, subscriptionID int64, storyIDs []int64) (map[int64]int, error) {
	out := make(map[int64]int)
	if len(storyIDs) == 0 {
		return out, nil
	}
	rows, err := db.db.QueryContext(ctx, `SELECT story_id, sources FROM story_deliveries
		WHERE subscription_id = ? AND story_id IN (`+placeholders(len(storyIDs))+`)`,
		append([]any{subscriptionID}, int64Args(storyIDs)...)...)
	if err != nil {
		return nil, fmt.Errorf("deliveries of subscription %d: %w", subscriptionID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}
