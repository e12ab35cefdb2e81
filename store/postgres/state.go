package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/seed-c50b6fda/herald/digest"
)

// State implements digest.StateStore.
func (db *DB) State(ctx context.Context, key string) (string, error) {
	var v string
	err := db.pool.QueryRow(ctx, `SELECT value FROM state WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", digest.Errorf(digest.ENOTFOUND, "no state %q", key)
	}
	if err != nil {
		return "", fmt.Errorf("read state %q: %w", key, err)
	}
	return v, nil
}

// SetState implements digest.StateStore.
func (db *DB) SetState(ctx context.Context, key, value string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO state (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, db.now())
	if err != nil {
		return fmt.Errorf("write state %q: %w", key, err)
	}
	return nil
}
