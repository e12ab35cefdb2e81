package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seed-c50b6fda/herald/digest"
)

// Leases are timed on the server's clock (clock_timestamp(), the time at
// which the server evaluates the expression), never on db.Now: replicas on
// machines whose clocks disagree must still agree on whether a lease has
// expired. clock_timestamp rather than now(): a statement that waited for a
// competitor's row lock judges expiry at the moment it decides, not at the
// moment it started.

// AcquireLease implements digest.LeaseStore. Taking, renewing and refusing
// are one upsert: when several replicas race for a lease, PostgreSQL makes
// each wait for the row the first one wrote and then apply the WHERE to it,
// so exactly one of them gets a free lease.
func (db *DB) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	ttlMicros, err := digest.LeaseMicros(name, owner, ttl)
	if err != nil {
		return false, err
	}
	var got string
	err = db.pool.QueryRow(ctx, `INSERT INTO leases (name, owner, expires_at)
		VALUES ($1, $2, clock_timestamp() + $3::bigint * interval '1 microsecond')
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE leases.owner = excluded.owner OR leases.expires_at <= clock_timestamp()
		RETURNING owner`,
		name, owner, ttlMicros).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // another owner holds it
	}
	if err != nil {
		return false, fmt.Errorf("acquire lease %q for %q: %w", name, owner, err)
	}
	return true, nil
}

// ReleaseLease implements digest.LeaseStore.
func (db *DB) ReleaseLease(ctx context.Context, name, owner string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND owner = $2`, name, owner); err != nil {
		return fmt.Errorf("release lease %q of %q: %w", name, owner, err)
	}
	return nil
}

// FindLease implements digest.LeaseStore.
func (db *DB) FindLease(ctx context.Context, name string) (*digest.Lease, error) {
	l := digest.Lease{Name: name}
	err := db.pool.QueryRow(ctx, `SELECT owner, expires_at FROM leases WHERE name = $1 AND expires_at > clock_timestamp()`,
		name).Scan(&l.Owner, &l.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, digest.Errorf(digest.ENOTFOUND, "nobody holds lease %q", name)
	}
	if err != nil {
		return nil, fmt.Errorf("find lease %q: %w", name, err)
	}
	l.ExpiresAt = l.ExpiresAt.UTC()
	return &l, nil
}

// ListLeases implements digest.LeaseStore.
func (db *DB) ListLeases(ctx context.Context, prefix string) ([]*digest.Lease, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, owner, expires_at FROM leases
		WHERE starts_with(name, $1) AND expires_at > clock_timestamp() ORDER BY name COLLATE "C"`, prefix)
	if err != nil {
		return nil, fmt.Errorf("list leases %q: %w", prefix, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*digest.Lease, error) {
		l := &digest.Lease{}
		err := row.Scan(&l.Name, &l.Owner, &l.ExpiresAt)
		l.ExpiresAt = l.ExpiresAt.UTC()
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("list leases %q: %w", prefix, err)
	}
	return out, nil
}

// PruneLeases implements digest.LeaseStore. It never deletes a lease that
// has not expired on the server's clock, whatever before says: a replica
// whose clock runs ahead must not free a lease another replica still holds.
func (db *DB) PruneLeases(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM leases WHERE expires_at < $1 AND expires_at <= clock_timestamp()`, before)
	if err != nil {
		return 0, fmt.Errorf("prune leases expired before %s: %w", before.Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}
