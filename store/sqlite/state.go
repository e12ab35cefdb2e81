package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/seed-c50b6fda/herald/digest"
)

// State implements digest.StateStore.
func (db *DB) State(ctx context.Context, key string) (string, error) {
	var v string
	err := db.db.QueryRowContext(ctx, `SELECT value FROM state WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", digest.Errorf(digest.ENOTFOUND, "no state %q", key)
	}
	if err != nil {
		return "", fmt.Errorf("read state %q: %w", key, err)
	}
	return v, nil
}

// SetState implements digest.StateStore.
func (db *DB) SetState(ctx context.Context, key, value string) error {
	_, err := db.exec(ctx, `INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, micros(db.now()))
	if err != nil {
		return fmt.Errorf("write state %q: %w", key, err)
	}
	return nil
}
