package digest

import (
	"context"
	"time"
)

// LeaseStore coordinates Herald processes that share one store. A lease
// names a piece of work (a feed to fetch, a chat to send to, a digest slot
// to build, the story clusterer) and is held by one owner until it expires
// or is released, so that replicas divide the work without a coordinator
// of their own. Expiry is measured on the store's clock where the store has
// one (PostgreSQL), so replicas whose clocks disagree still agree on it.
type LeaseStore interface {
	// AcquireLease takes the lease name for owner for ttl, or renews it
	// when owner holds it already. It reports false, and changes nothing,
	// when another owner holds it and it has not expired. EINVALID for an
	// empty name or owner or a ttl that is not positive.
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)

	// ReleaseLease gives the lease up if owner holds it, so another owner
	// may take it at once; it does nothing otherwise.
	ReleaseLease(ctx context.Context, name, owner string) error

	// FindLease returns the lease's current holder, or ENOTFOUND when
	// nobody holds it (never taken, released, or expired).
	FindLease(ctx context.Context, name string) (*Lease, error)

	// ListLeases returns the leases held now (not expired) whose names
	// start with prefix, ordered by name.
	ListLeases(ctx context.Context, prefix string) ([]*Lease, error)

	// PruneLeases deletes leases that expired before the given time, and
	// returns how many it deleted.
	PruneLeases(ctx context.Context, before time.Time) (int, error)
}

// Lease is a named piece of work and who holds it until when.
type Lease struct {
	Name      string
	Owner     string
	ExpiresAt time.Time
}

// LeaseMicros checks AcquireLease's arguments and returns ttl in whole
// microseconds, the stores' resolution, rounded up so that the shortest
// positive ttl still makes a lease that has not expired when it is taken.
// It returns EINVALID for an empty name or owner or a ttl that is not
// positive.
func LeaseMicros(name, owner string, ttl time.Duration) (int64, error) {
	switch {
	case name == "":
		return 0, Errorf(EINVALID, "a lease needs a name")
	case owner == "":
		return 0, Errorf(EINVALID, "lease %q needs an owner", name)
	case ttl <= 0:
		return 0, Errorf(EINVALID, "lease %q: the time to live must be positive, not %s", name, ttl)
	}
	us := ttl / time.Microsecond
	if ttl%time.Microsecond != 0 {
		us++
	}
	return int64(us), nil
}
