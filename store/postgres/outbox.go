package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/seed-c50b6fda/herald/digest"
)

// EnqueueMessages implements digest.OutboxStore.
func (db *DB) EnqueueMessages(ctx context.Context, msgs []*digest.OutboxMessage) error {
	rows, err := db.outboxRows(msgs)
	if err != nil {
		return err
	}
	var ids []int64
	err = db.withTx(ctx, func(tx pgx.Tx) error {
		ids, err = enqueue(ctx, tx, rows)
		return err
	})
	if err != nil {
		return wrap(err, "enqueue %d message(s)", len(msgs))
	}
	setEnqueued(rows, ids)
	return nil
}

// EnqueueDigest implements digest.OutboxStore.
func (db *DB) EnqueueDigest(ctx context.Context, subscriptionID int64, parts []*digest.OutboxMessage, deliveries []digest.StoryDelivery, windowEnd time.Time) error {
	rows, err := db.outboxRows(parts)
	if err != nil {
		return err
	}
	var ids []int64
	err = db.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE subscriptions SET last_digest_at = $1 WHERE id = $2`, ts(windowEnd), subscriptionID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return digest.Errorf(digest.ENOTFOUND, "subscription %d not found", subscriptionID)
		}
		if ids, err = enqueue(ctx, tx, rows); err != nil {
			return err
		}
		return recordDeliveries(ctx, tx, subscriptionID, deliveries, db.now())
	})
	if err != nil {
		return wrap(err, "enqueue digest of subscription %d", subscriptionID)
	}
	setEnqueued(rows, ids)
	return nil
}

// outboxRow is a message to insert with its defaults filled in; the
// message itself changes only once the transaction commits.
type outboxRow struct {
	m             *digest.OutboxMessage
	created, next time.Time
	part, parts   int
}

func (db *DB) outboxRows(msgs []*digest.OutboxMessage) ([]outboxRow, error) {
	now := db.now()
	rows := make([]outboxRow, len(msgs))
	for i, m := range msgs {
		if m.Key == "" || m.Platform == "" || m.ChatID == "" {
			return nil, digest.Errorf(digest.EINVALID, "an outbox message needs a key, a platform and a chat")
		}
		r := outboxRow{m: m, created: m.CreatedAt, next: m.NextAttemptAt, part: m.Part, parts: m.Parts}
		if r.created.IsZero() {
			r.created = now
		}
		if r.next.IsZero() {
			r.next = r.created
		}
		if r.part == 0 {
			r.part, r.parts = 1, max(r.parts, 1)
		}
		rows[i] = r
	}
	return rows, nil
}

// enqueue inserts the rows in order, in one round trip, and returns their
// IDs. A key stored before fails the whole batch with ECONFLICT.
func enqueue(ctx context.Context, tx pgx.Tx, rows []outboxRow) ([]int64, error) {
	batch := &pgx.Batch{}
	for _, r := range rows {
		m := r.m
		batch.Queue(`INSERT INTO outbox (key, platform, chat_id, thread_id, subscription_id,
			slot, part, parts, kind, payload, status, attempts, next_attempt_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13) RETURNING id`,
			m.Key, m.Platform, m.ChatID, m.ThreadID, m.SubscriptionID, ts(m.Slot), r.part, r.parts, m.Kind,
			nonNilBytes(m.Payload), digest.OutboxPending, r.next, r.created)
	}
	res := tx.SendBatch(ctx, batch)
	ids := make([]int64, len(rows))
	for i, r := range rows {
		err := res.QueryRow().Scan(&ids[i])
		if isUnique(err) {
			res.Close()
			return nil, digest.Errorf(digest.ECONFLICT, "outbox message %s is already enqueued", r.m.Key)
		}
		if err != nil {
			res.Close()
			return nil, err
		}
	}
	return ids, res.Close()
}

func setEnqueued(rows []outboxRow, ids []int64) {
	for i, r := range rows {
		m := r.m
		m.ID, m.CreatedAt, m.NextAttemptAt, m.Part, m.Parts = ids[i], r.created, r.next, r.part, r.parts
		m.Status, m.Attempts = digest.OutboxPending, 0
	}
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

const outboxColumns = `id, key, platform, chat_id, thread_id, subscription_id, slot, part, parts, kind, payload,
	status, attempts, next_attempt_at, last_error, platform_id, created_at, sent_at`

func scanOutbox(row pgx.Row) (*digest.OutboxMessage, error) {
	var m digest.OutboxMessage
	var slot, next, created, sent pgtype.Timestamptz
	err := row.Scan(&m.ID, &m.Key, &m.Platform, &m.ChatID, &m.ThreadID, &m.SubscriptionID, &slot, &m.Part,
		&m.Parts, &m.Kind, &m.Payload, &m.Status, &m.Attempts, &next, &m.LastError, &m.PlatformID, &created, &sent)
	if err != nil {
		return nil, err
	}
	m.Slot, m.NextAttemptAt, m.CreatedAt, m.SentAt = fromTS(slot), fromTS(next), fromTS(created), fromTS(sent)
	return &m, nil
}

// ListOutbox implements digest.OutboxStore.
func (db *DB) ListOutbox(ctx context.Context, filter digest.OutboxFilter) ([]*digest.OutboxMessage, error) {
	var w where
	if filter.Status != "" {
		w.add("status = ?", filter.Status)
	}
	if filter.Platform != "" {
		w.add("platform = ?", filter.Platform)
	}
	if filter.ChatID != "" {
		w.add("chat_id = ?", filter.ChatID)
	}
	if filter.Kind != "" {
		w.add("kind = ?", filter.Kind)
	}
	if !filter.DueAt.IsZero() {
		w.add("status = ?", digest.OutboxPending)
		w.add("next_attempt_at <= ?", filter.DueAt)
	}
	q := `SELECT ` + outboxColumns + ` FROM outbox` + w.String() + " ORDER BY id"
	if filter.Newest {
		q += " DESC"
	}
	if filter.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", filter.Limit)
	}
	rows, err := db.pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	out, err := collect(rows, scanOutbox)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return out, nil
}

// MarkSent implements digest.OutboxStore.
func (db *DB) MarkSent(ctx context.Context, id int64, platformID string, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE outbox SET status = $1, platform_id = $2, sent_at = $3, attempts = attempts + 1,
		last_error = '' WHERE id = $4 AND status = $5`, digest.OutboxSent, platformID, ts(at), id, digest.OutboxPending)
	if err != nil {
		return fmt.Errorf("mark outbox message %d sent: %w", id, err)
	}
	return db.pendingAffected(ctx, tag, id)
}

// MarkAttemptFailed implements digest.OutboxStore.
func (db *DB) MarkAttemptFailed(ctx context.Context, id int64, reason string, next time.Time) error {
	status := digest.OutboxPending
	if next.IsZero() {
		status = digest.OutboxFailed
	}
	tag, err := db.pool.Exec(ctx, `UPDATE outbox SET status = $1, attempts = attempts + 1, last_error = $2,
		next_attempt_at = $3 WHERE id = $4 AND status = $5`,
		status, reason, ts(next), id, digest.OutboxPending)
	if err != nil {
		return fmt.Errorf("mark outbox message %d failed: %w", id, err)
	}
	return db.pendingAffected(ctx, tag, id)
}

// pendingAffected explains an update that matched no pending message.
func (db *DB) pendingAffected(ctx context.Context, tag pgconn.CommandTag, id int64) error {
	if tag.RowsAffected() > 0 {
		return nil
	}
	var status string
	err := db.pool.QueryRow(ctx, `SELECT status FROM outbox WHERE id = $1`, id).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return digest.Errorf(digest.ENOTFOUND, "outbox message %d not found", id)
	}
	if err != nil {
		return fmt.Errorf("outbox message %d: %w", id, err)
	}
	return digest.Errorf(digest.ECONFLICT, "outbox message %d is %s, not pending", id, status)
}
