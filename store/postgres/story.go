package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/seed-c50b6fda/herald/digest"
)

// AssignStories implements digest.StoryStore.
func (db *DB) AssignStories(ctx context.Context, assignments []digest.StoryAssignment, at time.Time) error {
	if len(assignments) == 0 {
		return nil
	}
	articles := make([]int64, len(assignments))
	stories := make([]int64, len(assignments))
	for i, as := range assignments {
		articles[i], stories[i] = as.ArticleID, as.StoryID
	}
	err := db.withTx(ctx, func(tx pgx.Tx) error {
		// Lock the articles first, in ID order, so that two clusterers
		// assigning overlapping batches queue instead of deadlocking, and
		// so that a missing article is found before anything is written.
		// The articles must exist. (One deleted meanwhile fails the
		// foreign key below.)
		rows, err := tx.Query(ctx, `SELECT id FROM articles WHERE id = ANY($1) ORDER BY id`, articles)
		if err != nil {
			return err
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, id := range articles {
			if _, ok := slices.BinarySearch(found, id); !ok {
				return digest.Errorf(digest.ENOTFOUND, "article %d not found", id)
			}
		}
		// A new story is created when its founding article joins; its
		// creation time is that article's first sighting.
		_, err = tx.Exec(ctx, `INSERT INTO stories (id, created_at, updated_at)
			SELECT s.id, coalesce((SELECT first_seen FROM articles WHERE id = s.id), $2), $2
			FROM (SELECT DISTINCT unnest($1::bigint[]) AS id) s ORDER BY s.id
			ON CONFLICT (id) DO UPDATE SET updated_at = greatest(stories.updated_at, excluded.updated_at)`,
			stories, at)
		if err != nil {
			return fmt.Errorf("create stories: %w", err)
		}
		// Assignments apply in order: of two for one article, the last
		// wins. Rows are written in article order, so that two clusterers
		// with overlapping batches queue instead of deadlocking.
		_, err = tx.Exec(ctx, `INSERT INTO article_stories (article_id, story_id)
			SELECT article, story FROM (
				SELECT DISTINCT ON (article) article, story
				FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS u(article, story, n)
				ORDER BY article, n DESC) t
			ORDER BY article
			ON CONFLICT (article_id) DO UPDATE SET story_id = excluded.story_id`, articles, stories)
		if isForeignKey(err) && constraint(err) == "article_stories_article_id_fkey" {
			return digest.Errorf(digest.ENOTFOUND, "an article of the assignments was deleted")
		}
		return err
	})
	return wrap(err, "assign stories")
}

// MergeStories implements digest.StoryStore.
func (db *DB) MergeStories(ctx context.Context, m digest.StoryMerge) error {
	if m.From == m.Into {
		return digest.Errorf(digest.EINVALID, "cannot merge story %d into itself", m.From)
	}
	if m.At.IsZero() {
		m.At = db.now()
	}
	err := db.withTx(ctx, func(tx pgx.Tx) error {
		// Lock both stories in ID order, against a merge the other way.
		rows, err := tx.Query(ctx, `SELECT id, created_at FROM stories WHERE id = ANY($1) ORDER BY id FOR UPDATE`,
			[]int64{m.From, m.Into})
		if err != nil {
			return err
		}
		created := map[int64]time.Time{}
		for rows.Next() {
			var id int64
			var at time.Time
			if err := rows.Scan(&id, &at); err != nil {
				rows.Close()
				return err
			}
			created[id] = at
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range []int64{m.Into, m.From} {
			if _, ok := created[id]; !ok {
				return digest.Errorf(digest.ENOTFOUND, "story %d not found", id)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE article_stories SET story_id = $1 WHERE story_id = $2`, m.Into, m.From); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE stories SET created_at = least(created_at, $1), updated_at = greatest(updated_at, $2) WHERE id = $3`,
			created[m.From], m.At, m.Into); err != nil {
			return err
		}
		// A subscription that was sent either story keeps the larger
		// record, under the surviving id.
		if _, err := tx.Exec(ctx, `INSERT INTO story_deliveries (subscription_id, story_id, sources, sent_at)
			SELECT subscription_id, $1, sources, sent_at FROM story_deliveries WHERE story_id = $2
			ON CONFLICT (subscription_id, story_id) DO UPDATE SET sources = greatest(story_deliveries.sources, excluded.sources),
				sent_at = greatest(story_deliveries.sent_at, excluded.sent_at)`, m.Into, m.From); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM story_deliveries WHERE story_id = $1`, m.From); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM stories WHERE id = $1`, m.From); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO story_merges (from_id, into_id, article_id, at) VALUES ($1, $2, $3, $4)`,
			m.From, m.Into, m.ArticleID, m.At)
		return err
	})
	return wrap(err, "merge story %d into %d", m.From, m.Into)
}

const storyColumns = `s.id, s.created_at, s.updated_at, (SELECT count(*) FROM article_stories x WHERE x.story_id = s.id)`

func scanStory(row pgx.Row) (*digest.Story, error) {
	var s digest.Story
	var created, updated pgtype.Timestamptz
	if err := row.Scan(&s.ID, &created, &updated, &s.Articles); err != nil {
		return nil, err
	}
	s.CreatedAt = fromTS(created)
	s.UpdatedAt = fromTS(updated)
	return &s, nil
}

// FindStoryByID implements digest.StoryStore.
func (db *DB) FindStoryByID(ctx context.Context, id int64) (*digest.Story, error) {
	s, err := scanStory(db.pool.QueryRow(ctx, `SELECT `+storyColumns+` FROM stories s WHERE s.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "story %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find story %d: %w", id, err)
	}
	return s, nil
}

// ListStories implements digest.StoryStore.
func (db *DB) ListStories(ctx context.Context, filter digest.StoryFilter) ([]*digest.Story, error) {
	var w where
	if !filter.UpdatedSince.IsZero() {
		w.add("s.updated_at >= ?", filter.UpdatedSince)
	}
	if filter.FeedIDs != nil {
		if len(filter.FeedIDs) == 0 {
			return nil, nil
		}
		w.add(`EXISTS (SELECT 1 FROM article_stories x JOIN article_feeds af ON af.article_id = x.article_id
			WHERE x.story_id = s.id AND af.feed_id = ANY(?))`, filter.FeedIDs)
	}
	q := `SELECT ` + storyColumns + ` FROM stories s` + w.String() + " ORDER BY s.updated_at DESC, s.id DESC"
	if filter.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", filter.Limit)
	}
	rows, err := db.pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list stories: %w", err)
	}
	out, err := collect(rows, scanStory)
	if err != nil {
		return nil, fmt.Errorf("list stories: %w", err)
	}
	return out, nil
}

// StoryMerges implements digest.StoryStore.
func (db *DB) StoryMerges(ctx context.Context, into int64) ([]digest.StoryMerge, error) {
	rows, err := db.pool.Query(ctx, `SELECT from_id, into_id, article_id, at FROM story_merges WHERE into_id = $1 ORDER BY id`, into)
	if err != nil {
		return nil, fmt.Errorf("merges into story %d: %w", into, err)
	}
	out, err := collect(rows, func(row pgx.Row) (digest.StoryMerge, error) {
		var m digest.StoryMerge
		var at pgtype.Timestamptz
		err := row.Scan(&m.From, &m.Into, &m.ArticleID, &at)
		m.At = fromTS(at)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("merges into story %d: %w", into, err)
	}
	return out, nil
}

// RecordStoryDeliveries implements digest.SubscriptionStore.
func (db *DB) RecordStoryDeliveries(ctx context.Context, subscriptionID int64, deliveries []digest.StoryDelivery, at time.Time) error {
	err := db.withTx(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM subscriptions WHERE id = $1 FOR KEY SHARE`, subscriptionID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return digest.Errorf(digest.ENOTFOUND, "subscription %d not found", subscriptionID)
		}
		if err != nil {
			return err
		}
		return recordDeliveries(ctx, tx, subscriptionID, deliveries, at)
	})
	return wrap(err, "record deliveries of subscription %d", subscriptionID)
}

func recordDeliveries(ctx context.Context, tx pgx.Tx, subscriptionID int64, deliveries []digest.StoryDelivery, at time.Time) error {
	if len(deliveries) == 0 {
		return nil
	}
	stories := make([]int64, len(deliveries))
	sources := make([]int64, len(deliveries))
	for i, d := range deliveries {
		stories[i], sources[i] = d.StoryID, int64(d.Sources)
	}
	// Of two records of one story, the last wins, as if written in turn.
	_, err := tx.Exec(ctx, `INSERT INTO story_deliveries (subscription_id, story_id, sources, sent_at)
		SELECT $1, story, sources, $4 FROM (
			SELECT DISTINCT ON (story) story, sources
			FROM unnest($2::bigint[], $3::bigint[]) WITH ORDINALITY AS u(story, sources, n)
			ORDER BY story, n DESC) d
		ON CONFLICT (subscription_id, story_id) DO UPDATE SET sources = excluded.sources, sent_at = excluded.sent_at`,
		subscriptionID, stories, sources, at)
	return err
}

// StoryDeliveries implements digest.SubscriptionStore.
func (db *DB) StoryDeliveries(ctx context.Context, subscriptionID int64, storyIDs []int64) (map[int64]int, error) {
	out := make(map[int64]int)
	if len(storyIDs) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT story_id, sources FROM story_deliveries
		WHERE subscription_id = $1 AND story_id = ANY($2)`, subscriptionID, storyIDs)
	if err != nil {
		return nil, fmt.Errorf("deliveries of subscription %d: %w", subscriptionID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("deliveries of subscription %d: %w", subscriptionID, err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deliveries of subscription %d: %w", subscriptionID, err)
	}
	return out, nil
}
