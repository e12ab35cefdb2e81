package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/seed-c50b6fda/herald/digest"
)

// UpsertChat implements digest.SubscriptionStore.
func (db *DB) UpsertChat(ctx context.Context, c *digest.Chat) error {
	if c.Platform == "" || c.ID == "" {
		return digest.Errorf(digest.EINVALID, "a chat needs a platform and an id")
	}
	created := c.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	var active bool
	var reason string
	var stored pgtype.Timestamptz
	err := db.pool.QueryRow(ctx, `INSERT INTO chats (platform, id, kind, title, active, created_at)
		VALUES ($1, $2, $3, $4, true, $5)
		ON CONFLICT (platform, id) DO UPDATE SET kind = excluded.kind, title = excluded.title
		RETURNING active, inactive_reason, created_at`,
		c.Platform, c.ID, c.Kind, c.Title, created).Scan(&active, &reason, &stored)
	if err != nil {
		return fmt.Errorf("upsert chat %s/%s: %w", c.Platform, c.ID, err)
	}
	c.Active, c.Inactive, c.CreatedAt = active, reason, fromTS(stored)
	return nil
}

// FindChat implements digest.SubscriptionStore.
func (db *DB) FindChat(ctx context.Context, platform, id string) (*digest.Chat, error) {
	c := digest.Chat{Platform: platform, ID: id}
	var created pgtype.Timestamptz
	err := db.pool.QueryRow(ctx, `SELECT kind, title, active, inactive_reason, created_at FROM chats
		WHERE platform = $1 AND id = $2`, platform, id).Scan(&c.Kind, &c.Title, &c.Active, &c.Inactive, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "chat %s/%s not found", platform, id)
	}
	if err != nil {
		return nil, fmt.Errorf("find chat %s/%s: %w", platform, id, err)
	}
	c.CreatedAt = fromTS(created)
	return &c, nil
}

// MigrateChat implements digest.SubscriptionStore. The subscriptions follow
// the chat's new id through their foreign key (ON UPDATE CASCADE).
func (db *DB) MigrateChat(ctx context.Context, platform, from, to string) error {
	err := db.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE chats SET id = $1 WHERE platform = $2 AND id = $3`, to, platform, from)
		if isUnique(err) {
			return digest.Errorf(digest.ECONFLICT, "chat %s/%s already exists", platform, to)
		}
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return digest.Errorf(digest.ENOTFOUND, "chat %s/%s not found", platform, from)
		}
		_, err = tx.Exec(ctx, `UPDATE outbox SET chat_id = $1 WHERE platform = $2 AND chat_id = $3 AND status = $4`,
			to, platform, from, digest.OutboxPending)
		return err
	})
	return wrap(err, "migrate chat %s/%s to %s", platform, from, to)
}

// SetChatActive implements digest.SubscriptionStore.
func (db *DB) SetChatActive(ctx context.Context, platform, id string, active bool, reason string) error {
	if active {
		reason = ""
	}
	tag, err := db.pool.Exec(ctx, `UPDATE chats SET active = $1, inactive_reason = $2 WHERE platform = $3 AND id = $4`,
		active, reason, platform, id)
	if err != nil {
		return fmt.Errorf("set chat %s/%s active: %w", platform, id, err)
	}
	if tag.RowsAffected() == 0 {
		return digest.Errorf(digest.ENOTFOUND, "chat %s/%s not found", platform, id)
	}
	return nil
}

// CreateSubscription implements digest.SubscriptionStore.
func (db *DB) CreateSubscription(ctx context.Context, s *digest.Subscription) error {
	created := s.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	var id int64
	err := db.withTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO subscriptions (platform, chat_id, thread_id, include, exclude,
			schedule, time_zone, story_limit, last_digest_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			RETURNING id`,
			s.Platform, s.ChatID, s.ThreadID, nonNil(s.Filters.Include), nonNil(s.Filters.Exclude), s.Schedule, s.TimeZone,
			s.Limit, ts(s.LastDigestAt), created).Scan(&id)
		switch {
		case isUnique(err):
			return digest.Errorf(digest.ECONFLICT, "chat %s/%s already has a subscription", s.Platform, s.ChatID)
		case isForeignKey(err):
			return digest.Errorf(digest.ENOTFOUND, "chat %s/%s not found", s.Platform, s.ChatID)
		case err != nil:
			return err
		}
		if len(s.FeedIDs) == 0 {
			return nil
		}
		var missing []int64
		err = tx.QueryRow(ctx, `SELECT ARRAY(SELECT f FROM unnest($1::bigint[]) AS f
			WHERE NOT EXISTS (SELECT 1 FROM feeds WHERE id = f))`, s.FeedIDs).Scan(&missing)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return digest.Errorf(digest.ENOTFOUND, "feed %d not found", missing[0])
		}
		_, err = tx.Exec(ctx, `INSERT INTO subscription_feeds (subscription_id, feed_id)
			SELECT $1, f FROM unnest($2::bigint[]) AS f ON CONFLICT DO NOTHING`, id, s.FeedIDs)
		if isForeignKey(err) { // deleted meanwhile
			return digest.Errorf(digest.ENOTFOUND, "a feed of %v not found", s.FeedIDs)
		}
		return err
	})
	if err != nil {
		return wrap(err, "create subscription for %s/%s", s.Platform, s.ChatID)
	}
	s.ID, s.CreatedAt = id, created
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const subscriptionColumns = `s.id, s.platform, s.chat_id, s.thread_id, s.include, s.exclude, s.schedule,
	s.time_zone, s.story_limit, s.last_digest_at, s.created_at,
	ARRAY(SELECT feed_id FROM subscription_feeds sf WHERE sf.subscription_id = s.id ORDER BY feed_id)`

func scanSubscription(row pgx.Row) (*digest.Subscription, error) {
	var s digest.Subscription
	var last, created pgtype.Timestamptz
	err := row.Scan(&s.ID, &s.Platform, &s.ChatID, &s.ThreadID, &s.Filters.Include, &s.Filters.Exclude, &s.Schedule,
		&s.TimeZone, &s.Limit, &last, &created, &s.FeedIDs)
	if err != nil {
		return nil, err
	}
	if len(s.Filters.Include) == 0 {
		s.Filters.Include = nil
	}
	if len(s.Filters.Exclude) == 0 {
		s.Filters.Exclude = nil
	}
	if len(s.FeedIDs) == 0 {
		s.FeedIDs = nil
	}
	s.LastDigestAt = fromTS(last)
	s.CreatedAt = fromTS(created)
	return &s, nil
}

// FindSubscriptionByID implements digest.SubscriptionStore.
func (db *DB) FindSubscriptionByID(ctx context.Context, id int64) (*digest.Subscription, error) {
	s, err := scanSubscription(db.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions s WHERE s.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "subscription %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find subscription %d: %w", id, err)
	}
	return s, nil
}

// FindSubscription implements digest.SubscriptionStore.
func (db *DB) FindSubscription(ctx context.Context, platform, chatID, threadID string) (*digest.Subscription, error) {
	s, err := scanSubscription(db.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions s
		WHERE s.platform = $1 AND s.chat_id = $2 AND s.thread_id = $3`, platform, chatID, threadID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "chat %s/%s has no subscription", platform, chatID)
	}
	if err != nil {
		return nil, fmt.Errorf("find subscription of %s/%s: %w", platform, chatID, err)
	}
	return s, nil
}

// ListSubscriptions implements digest.SubscriptionStore.
func (db *DB) ListSubscriptions(ctx context.Context, filter digest.SubscriptionFilter) ([]*digest.Subscription, error) {
	var w where
	if filter.Platform != "" {
		w.add("s.platform = ?", filter.Platform)
	}
	if filter.ChatID != "" {
		w.add("s.chat_id = ?", filter.ChatID)
	}
	if filter.FeedID != 0 {
		w.add("s.id IN (SELECT subscription_id FROM subscription_feeds WHERE feed_id = ?)", filter.FeedID)
	}
	if filter.Scheduled {
		w.add("s.schedule <> ''")
		w.add("EXISTS (SELECT 1 FROM chats c WHERE c.platform = s.platform AND c.id = s.chat_id AND c.active)")
	}
	rows, err := db.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions s`+w.String()+" ORDER BY s.id", w.args...)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	out, err := collect(rows, scanSubscription)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return out, nil
}

// UpdateSubscription implements digest.SubscriptionStore.
func (db *DB) UpdateSubscription(ctx context.Context, s *digest.Subscription) error {
	tag, err := db.pool.Exec(ctx, `UPDATE subscriptions SET include = $1, exclude = $2, schedule = $3,
		time_zone = $4, story_limit = $5, last_digest_at = $6 WHERE id = $7`,
		nonNil(s.Filters.Include), nonNil(s.Filters.Exclude), s.Schedule, s.TimeZone, s.Limit, ts(s.LastDigestAt), s.ID)
	if err != nil {
		return fmt.Errorf("update subscription %d: %w", s.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return digest.Errorf(digest.ENOTFOUND, "subscription %d not found", s.ID)
	}
	return nil
}

// AddSubscriptionFeed implements digest.SubscriptionStore.
func (db *DB) AddSubscriptionFeed(ctx context.Context, subscriptionID, feedID int64) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO subscription_feeds (subscription_id, feed_id) VALUES ($1, $2)`,
		subscriptionID, feedID)
	switch {
	case isUnique(err):
		return digest.Errorf(digest.ECONFLICT, "subscription %d already follows feed %d", subscriptionID, feedID)
	case isForeignKey(err) && constraint(err) == "subscription_feeds_feed_id_fkey":
		return digest.Errorf(digest.ENOTFOUND, "feed %d not found", feedID)
	case isForeignKey(err):
		return digest.Errorf(digest.ENOTFOUND, "subscription %d not found", subscriptionID)
	case err != nil:
		return fmt.Errorf("add feed %d to subscription %d: %w", feedID, subscriptionID, err)
	}
	return nil
}

// RemoveSubscriptionFeed implements digest.SubscriptionStore.
func (db *DB) RemoveSubscriptionFeed(ctx context.Context, subscriptionID, feedID int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM subscription_feeds WHERE subscription_id = $1 AND feed_id = $2`,
		subscriptionID, feedID)
	if err != nil {
		return fmt.Errorf("remove feed %d from subscription %d: %w", feedID, subscriptionID, err)
	}
	if tag.RowsAffected() == 0 {
		return digest.Errorf(digest.ENOTFOUND, "subscription %d does not follow feed %d", subscriptionID, feedID)
	}
	return nil
}

// DeleteSubscription implements digest.SubscriptionStore.
func (db *DB) DeleteSubscription(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM subscriptions WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete subscription %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return digest.Errorf(digest.ENOTFOUND, "subscription %d not found", id)
	}
	return nil
}
