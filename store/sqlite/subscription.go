package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/seed-c50b6fda/herald/digest"
)

// UpsertChat implements digest.SubscriptionStore.
func (db *DB) UpsertChat(ctx context.Context, c *digest.Chat) error {
	if c.Platform == "" || c.ID == "" {
		return digest.Errorf(digest.EINVALID, "a chat needs a platform and an id")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = db.now()
	}
	var active int
	var created int64
	err := db.execRow(ctx, `INSERT INTO chats (platform, id, kind, title, active, created_at)
		VALUES (?, ?, ?, ?, 1, ?)
		ON CONFLICT (platform, id) DO UPDATE SET kind = excluded.kind, title = excluded.title
		RETURNING active, inactive_reason, created_at`,
		[]any{c.Platform, c.ID, c.Kind, c.Title, micros(c.CreatedAt)}, &active, &c.Inactive, &created)
	if err != nil {
		return fmt.Errorf("upsert chat %s/%s: %w", c.Platform, c.ID, err)
	}
	c.Active = active == 1
	c.CreatedAt = fromMicros(created)
	return nil
}

// FindChat implements digest.SubscriptionStore.
func (db *DB) FindChat(ctx context.Context, platform, id string) (*digest.Chat, error) {
	c := digest.Chat{Platform: platform, ID: id}
	var active int
	var created int64
	err := db.db.QueryRowContext(ctx, `SELECT kind, title, active, inactive_reason, created_at FROM chats
		WHERE platform = ? AND id = ?`, platform, id).Scan(&c.Kind, &c.Title, &active, &c.Inactive, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "chat %s/%s not found", platform, id)
	}
	if err != nil {
		return nil, fmt.Errorf("find chat %s/%s: %w", platform, id, err)
	}
	c.Active = active == 1
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

// MigrateChat implements digest.SubscriptionStore.
func (db *DB) MigrateChat(ctx context.Context, platform, from, to string) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		// Subscriptions reference the chat; move them with foreign keys
		// checked at commit, so the new chat row can take their place.
		if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE chats SET id = ? WHERE platform = ? AND id = ?`, to, platform, from)
		if isUnique(err) {
			return digest.Errorf(digest.ECONFLICT, "chat %s/%s already exists", platform, to)
		}
		if err != nil {
			return err
		}
		if err := mustAffect(res, digest.Errorf(digest.ENOTFOUND, "chat %s/%s not found", platform, from)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET chat_id = ? WHERE platform = ? AND chat_id = ?`, to, platform, from); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET chat_id = ? WHERE platform = ? AND chat_id = ? AND status = ?`,
			to, platform, from, digest.OutboxPending)
		return err
	})
	if err != nil && digest.ErrorCode(err) == digest.EINTERNAL {
		return fmt.Errorf("migrate chat %s/%s to %s: %w", platform, from, to, err)
	}
	return err
}

// SetChatActive implements digest.SubscriptionStore.
func (db *DB) SetChatActive(ctx context.Context, platform, id string, active bool, reason string) error {
	flag := 0
	if active {
		flag, reason = 1, ""
	}
	res, err := db.exec(ctx, `UPDATE chats SET active = ?, inactive_reason = ? WHERE platform = ? AND id = ?`,
		flag, reason, platform, id)
	if err != nil {
		return fmt.Errorf("set chat %s/%s active: %w", platform, id, err)
	}
	return mustAffect(res, digest.Errorf(digest.ENOTFOUND, "chat %s/%s not found", platform, id))
}

// CreateSubscription implements digest.SubscriptionStore.
func (db *DB) CreateSubscription(ctx context.Context, s *digest.Subscription) error {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	include, exclude, err := marshalFilters(s.Filters)
	if err != nil {
		return err
	}
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (platform, chat_id, thread_id, include, exclude,
			schedule, time_zone, story_limit, last_digest_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			s.Platform, s.ChatID, s.ThreadID, include, exclude, s.Schedule, s.TimeZone, s.Limit,
			micros(s.LastDigestAt), micros(s.CreatedAt))
		switch {
		case isUnique(err):
			return digest.Errorf(digest.ECONFLICT, "chat %s/%s already has a subscription", s.Platform, s.ChatID)
		case isForeignKey(err):
			return digest.Errorf(digest.ENOTFOUND, "chat %s/%s not found", s.Platform, s.ChatID)
		case err != nil:
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		for _, f := range s.FeedIDs {
			_, err := tx.ExecContext(ctx, `INSERT INTO subscription_feeds (subscription_id, feed_id) VALUES (?, ?)
				ON CONFLICT DO NOTHING`, id, f)
			if isForeignKey(err) {
				return digest.Errorf(digest.ENOTFOUND, "feed %d not found", f)
			}
			if err != nil {
				return err
			}
		}
		s.ID = id
		return nil
	})
	if err != nil && digest.ErrorCode(err) == digest.EINTERNAL {
		return fmt.Errorf("create subscription for %s/%s: %w", s.Platform, s.ChatID, err)
	}
	return err
}

func marshalFilters(f digest.Filters) (include, exclude string, err error) {
	in, err := json.Marshal(nonNil(f.Include))
	if err != nil {
		return "", "", err
	}
	ex, err := json.Marshal(nonNil(f.Exclude))
	return string(in), string(ex), err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const subscriptionColumns = `s.id, s.platform, s.chat_id, s.thread_id, s.include, s.exclude, s.schedule,
	s.time_zone, s.story_limit, s.last_digest_at, s.created_at,
	(SELECT coalesce(group_concat(feed_id), '') FROM (SELECT feed_id FROM subscription_feeds sf
		WHERE sf.subscription_id = s.id ORDER BY feed_id))`

func scanSubscription(row interface{ Scan(...any) error }) (*digest.Subscription, error) {
	var s digest.Subscription
	var include, exclude, feeds string
	var last, created int64
	err := row.Scan(&s.ID, &s.Platform, &s.ChatID, &s.ThreadID, &include, &exclude, &s.Schedule,
		&s.TimeZone, &s.Limit, &last, &created, &feeds)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(include), &s.Filters.Include); err != nil {
		return nil, fmt.Errorf("subscription %d include filters: %w", s.ID, err)
	}
	if err := json.Unmarshal([]byte(exclude), &s.Filters.Exclude); err != nil {
		return nil, fmt.Errorf("subscription %d exclude filters: %w", s.ID, err)
	}
	if len(s.Filters.Include) == 0 {
		s.Filters.Include = nil
	}
	if len(s.Filters.Exclude) == 0 {
		s.Filters.Exclude = nil
	}
	for _, f := range strings.Split(feeds, ",") {
		if f == "" {
			continue
		}
		var id int64
		if _, err := fmt.Sscan(f, &id); err != nil {
			return nil, fmt.Errorf("subscription %d feeds: %w", s.ID, err)
		}
		s.FeedIDs = append(s.FeedIDs, id)
	}
	s.LastDigestAt = fromMicros(last)
	s.CreatedAt = fromMicros(created)
	return &s, nil
}

// FindSubscriptionByID implements digest.SubscriptionStore.
func (db *DB) FindSubscriptionByID(ctx context.Context, id int64) (*digest.Subscription, error) {
	s, err := scanSubscription(db.db.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions s WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "subscription %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find subscription %d: %w", id, err)
	}
	return s, nil
}

// FindSubscription implements digest.SubscriptionStore.
func (db *DB) FindSubscription(ctx context.Context, platform, chatID, threadID string) (*digest.Subscription, error) {
	s, err := scanSubscription(db.db.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions s
		WHERE s.platform = ? AND s.chat_id = ? AND s.thread_id = ?`, platform, chatID, threadID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "chat %s/%s has no subscription", platform, chatID)
	}
	if err != nil {
		return nil, fmt.Errorf("find subscription of %s/%s: %w", platform, chatID, err)
	}
	return s, nil
}

// ListSubscriptions implements digest.SubscriptionStore.
func (db *DB) ListSubscriptions(ctx context.Context, filter digest.SubscriptionFilter) ([]*digest.Subscription, error) {
	var where []string
	var args []any
	if filter.Platform != "" {
		where = append(where, "s.platform = ?")
		args = append(args, filter.Platform)
	}
	if filter.ChatID != "" {
		where = append(where, "s.chat_id = ?")
		args = append(args, filter.ChatID)
	}
	if filter.FeedID != 0 {
		where = append(where, "s.id IN (SELECT subscription_id FROM subscription_feeds WHERE feed_id = ?)")
		args = append(args, filter.FeedID)
	}
	if filter.Scheduled {
		where = append(where, "s.schedule != ''",
			"EXISTS (SELECT 1 FROM chats c WHERE c.platform = s.platform AND c.id = s.chat_id AND c.active = 1)")
	}
	q := `SELECT ` + subscriptionColumns + ` FROM subscriptions s`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY s.id"
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	var out []*digest.Subscription
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return out, nil
}

// UpdateSubscription implements digest.SubscriptionStore.
func (db *DB) UpdateSubscription(ctx context.Context, s *digest.Subscription) error {
	include, exclude, err := marshalFilters(s.Filters)
	if err != nil {
		return err
	}
	res, err := db.exec(ctx, `UPDATE subscriptions SET include = ?, exclude = ?, schedule = ?,
		time_zone = ?, story_limit = ?, last_digest_at = ? WHERE id = ?`,
		include, exclude, s.Schedule, s.TimeZone, s.Limit, micros(s.LastDigestAt), s.ID)
	if err != nil {
		return fmt.Errorf("update subscription %d: %w", s.ID, err)
	}
	return mustAffect(res, digest.Errorf(digest.ENOTFOUND, "subscription %d not found", s.ID))
}

// AddSubscriptionFeed implements digest.SubscriptionStore.
func (db *DB) AddSubscriptionFeed(ctx context.Context, subscriptionID, feedID int64) error {
	_, err := db.exec(ctx, `INSERT INTO subscription_feeds (subscription_id, feed_id) VALUES (?, ?)`,
		subscriptionID, feedID)
	switch {
	case isUnique(err):
		return digest.Errorf(digest.ECONFLICT, "subscription %d already follows feed %d", subscriptionID, feedID)
	case isForeignKey(err):
		return digest.Errorf(digest.ENOTFOUND, "subscription %d or feed %d not found", subscriptionID, feedID)
	case err != nil:
		return fmt.Errorf("add feed %d to subscription %d: %w", feedID, subscriptionID, err)
	}
	return nil
}

// RemoveSubscriptionFeed implements digest.SubscriptionStore.
func (db *DB) RemoveSubscriptionFeed(ctx context.Context, subscriptionID, feedID int64) error {
	res, err := db.exec(ctx, `DELETE FROM subscription_feeds WHERE subscription_id = ? AND feed_id = ?`,
		subscriptionID, feedID)
	if err != nil {
		return fmt.Errorf("remove feed %d from subscription %d: %w", feedID, subscriptionID, err)
	}
	return mustAffect(res, digest.Errorf(digest.ENOTFOUND, "subscription %d does not follow feed %d", subscriptionID, feedID))
}

// DeleteSubscription implements digest.SubscriptionStore.
func (db *DB) DeleteSubscription(ctx context.Context, id int64) error {
	res, err := db.exec(ctx, `DELETE FROM subscriptions WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete subscription %d: %w", id, err)
	}
	return mustAffect(res, digest.Errorf(digest.ENOTFOUND, "subscription %d not found", id))
}
