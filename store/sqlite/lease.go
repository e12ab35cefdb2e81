package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// AcquireLease implements digest.LeaseStore. Expiry is measured on db.Now:
// the processes sharing a SQLite file share one machine, so one clock.
//
// Taking, renewing and refusing are one upsert: SQLite runs a writing
// statement under the database's write lock, so two processes racing for
// a free lease cannot both see it free.
func (db *DB) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	ttlMicros, err := digest.LeaseMicros(name, owner, ttl)
	if err != nil {
		return false, err
	}
	now := db.now()
	var got string
	err = db.execRow(ctx, `INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE leases.owner = excluded.owner OR leases.expires_at <= ?
		RETURNING owner`,
		[]any{name, owner, micros(now) + ttlMicros, micros(now)}, &got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // another owner holds it
	}
	if err != nil {
		return false, fmt.Errorf("acquire lease %q for %q: %w", name, owner, err)
	}
	return true, nil
}

// ReleaseLease implements digest.LeaseStore.
func (db *DB) ReleaseLease(ctx context.Context, name, owner string) error {
	if _, err := db.exec(ctx, `DELETE FROM leases WHERE name = ? AND owner = ?`, name, owner); err != nil {
		return fmt.Errorf("release lease %q of %q: %w", name, owner, err)
	}
	return nil
}

// FindLease implements digest.LeaseStore.
func (db *DB) FindLease(ctx context.Context, name string) (*digest.Lease, error) {
	l := digest.Lease{Name: name}
	var expires int64
	err := db.db.QueryRowContext(ctx, `SELECT owner, expires_at FROM leases WHERE name = ? AND expires_at > ?`,
		name, micros(db.now())).Scan(&l.Owner, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "nobody holds lease %q", name)
	}
	if err != nil {
		return nil, fmt.Errorf("find lease %q: %w", name, err)
	}
	l.ExpiresAt = fromMicros(expires)
	return &l, nil
}

// ListLeases implements digest.LeaseStore.
func (db *DB) ListLeases(ctx context.Context, prefix string) ([]*digest.Lease, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT name, owner, expires_at FROM leases
		WHERE substr(name, 1, length(?)) = ? AND expires_at > ? ORDER BY name`, prefix, prefix, micros(db.now()))
	if err != nil {
		return nil, fmt.Errorf("list leases %q: %w", prefix, err)
	}
	defer rows.Close()
	var out []*digest.Lease
	for rows.Next() {
		l := &digest.Lease{}
		var expires int64
		if err := rows.Scan(&l.Name, &l.Owner, &expires); err != nil {
			return nil, fmt.Errorf("list leases %q: %w", prefix, err)
		}
		l.ExpiresAt = fromMicros(expires)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list leases %q: %w", prefix, err)
	}
	return out, nil
}

// PruneLeases implements digest.LeaseStore. It never deletes a lease that
// has not expired on db.Now, whatever before says: deleting a held lease
// would let a second owner take it.
func (db *DB) PruneLeases(ctx context.Context, before time.Time) (int, error) {
	res, err := db.exec(ctx, `DELETE FROM leases WHERE expires_at < ? AND expires_at <= ?`,
		micros(before), micros(db.now()))
	if err != nil {
		return 0, fmt.Errorf("prune leases expired before %s: %w", before.Format(time.RFC3339), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune leases expired before %s: %w", before.Format(time.RFC3339), err)
	}
	return int(n), nil
}
