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

// EnqueueMessages implements digest.OutboxStore.
func (db *DB) EnqueueMessages(ctx context.Context, msgs []*digest.OutboxMessage) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error { return db.enqueue(ctx, tx, msgs) })
	if err != nil && digest.ErrorCode(err) == digest.EINTERNAL {
		return fmt.Errorf("enqueue %d message(s): %w", len(msgs), err)
	}
	return err
}

// EnqueueDigest implements digest.OutboxStore.
func (db *DB) EnqueueDigest(ctx context.Context, subscriptionID int64, parts []*digest.OutboxMessage, deliveries []digest.StoryDelivery, windowEnd time.Time) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET last_digest_at = ? WHERE id = ?`, micros(windowEnd), subscriptionID)
		if err != nil {
			return err
		}
		if err := mustAffect(res, digest.Errorf(digest.ENOTFOUND, "subscription %d not found", subscriptionID)); err != nil {
			return err
		}
		if err := db.enqueue(ctx, tx, parts); err != nil {
			return err
		}
		return recordDeliveries(ctx, tx, subscriptionID, deliveries, db.now())
	})
	if err != nil && digest.ErrorCode(err) == digest.EINTERNAL {
		return fmt.Errorf("enqueue digest of subscription %d: %w", subscriptionID, err)
	}
	return err
}

func (db *DB) enqueue(ctx context.Context, tx *sql.Tx, msgs []*digest.OutboxMessage) error {
	now := db.now()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO outbox (key, platform, chat_id, thread_id, subscription_id,
		slot, part, parts, kind, payload, status, attempts, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for _, m := range msgs {
		if m.Key == "" || m.Platform == "" || m.ChatID == "" {
			return digest.Errorf(digest.EINVALID, "an outbox message needs a key, a platform and a chat")
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = now
		}
		if m.NextAttemptAt.IsZero() {
			m.NextAttemptAt = m.CreatedAt
		}
		if m.Part == 0 {
			m.Part, m.Parts = 1, max(m.Parts, 1)
		}
		res, err := ins.ExecContext(ctx, m.Key, m.Platform, m.ChatID, m.ThreadID, m.SubscriptionID,
			micros(m.Slot), m.Part, m.Parts, m.Kind, m.Payload, digest.OutboxPending,
			micros(m.NextAttemptAt), micros(m.CreatedAt))
		if isUnique(err) {
			return digest.Errorf(digest.ECONFLICT, "outbox message %s is already enqueued", m.Key)
		}
		if err != nil {
			return err
		}
		if m.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		m.Status, m.Attempts = digest.OutboxPending, 0
	}
	return nil
}

const outboxColumns = `id, key, platform, chat_id, thread_id, subscription_id, slot, part, parts, kind, payload,
	status, attempts, next_attempt_at, last_error, platform_id, created_at, sent_at`

func scanOutbox(row interface{ Scan(...any) error }) (*digest.OutboxMessage, error) {
	var m digest.OutboxMessage
	var slot, next, created, sent int64
	err := row.Scan(&m.ID, &m.Key, &m.Platform, &m.ChatID, &m.ThreadID, &m.SubscriptionID, &slot, &m.Part,
		&m.Parts, &m.Kind, &m.Payload, &m.Status, &m.Attempts, &next, &m.LastError, &m.PlatformID, &created, &sent)
	if err != nil {
		return nil, err
	}
	m.Slot, m.NextAttemptAt, m.CreatedAt, m.SentAt = fromMicros(slot), fromMicros(next), fromMicros(created), fromMicros(sent)
	return &m, nil
}

// ListOutbox implements digest.OutboxStore.
func (db *DB) ListOutbox(ctx context.Context, filter digest.OutboxFilter) ([]*digest.OutboxMessage, error) {
	var where []string
	var args []any
	if filter.Status != "" {
		where = append(where, "status = ?")
		args = append(args, filter.Status)
	}
	if filter.Platform != "" {
		where = append(where, "platform = ?")
		args = append(args, filter.Platform)
	}
	if filter.ChatID != "" {
		where = append(where, "chat_id = ?")
		args = append(args, filter.ChatID)
	}
	if filter.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, filter.Kind)
	}
	if !filter.DueAt.IsZero() {
		where = append(where, "status = ?", "next_attempt_at <= ?")
		args = append(args, digest.OutboxPending, micros(filter.DueAt))
	}
	q := `SELECT ` + outboxColumns + ` FROM outbox`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id"
	if filter.Newest {
		q += " DESC"
	}
	if filter.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", filter.Limit)
	}
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	defer rows.Close()
	var out []*digest.OutboxMessage
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("list outbox: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return out, nil
}

// MarkSent implements digest.OutboxStore.
func (db *DB) MarkSent(ctx context.Context, id int64, platformID string, at time.Time) error {
	res, err := db.exec(ctx, `UPDATE outbox SET status = ?, platform_id = ?, sent_at = ?, attempts = attempts + 1,
		last_error = '' WHERE id = ? AND status = ?`, digest.OutboxSent, platformID, micros(at), id, digest.OutboxPending)
	if err != nil {
		return fmt.Errorf("mark outbox message %d sent: %w", id, err)
	}
	return db.pendingAffected(ctx, res, id)
}

// MarkAttemptFailed implements digest.OutboxStore.
func (db *DB) MarkAttemptFailed(ctx context.Context, id int64, reason string, next time.Time) error {
	status := digest.OutboxPending
	if next.IsZero() {
		status = digest.OutboxFailed
	}
	res, err := db.exec(ctx, `UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?,
		next_attempt_at = ? WHERE id = ? AND status = ?`, status, reason, micros(next), id, digest.OutboxPending)
	if err != nil {
		return fmt.Errorf("mark outbox message %d failed: %w", id, err)
	}
	return db.pendingAffected(ctx, res, id)
}

// pendingAffected explains an update that matched no pending message.
func (db *DB) pendingAffected(ctx context.Context, res sql.Result, id int64) error {
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var status string
	err := db.db.QueryRowContext(ctx, `SELECT status FROM outbox WHERE id = ?`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return digest.Errorf(digest.ENOTFOUND, "outbox message %d not found", id)
	}
	if err != nil {
		return fmt.Errorf("outbox message %d: %w", id, err)
	}
	return digest.Errorf(digest.ECONFLICT, "outbox message %d is %s, not pending", id, status)
}
