// Package replica owns how several Herald processes sharing one store
// divide the work. Everything goes through leases in the store
// (digest.LeaseStore): a named piece of work is held by one process until
// the lease expires or is released, so a process that dies loses its work
// to the others after one lease time, with no coordinator of its own.
//
// Herald names its leases:
//
//	feed/<id>                   fetching a feed (poll)
//	outbox/<platform>/<chat>    sending a chat's messages, in order (bot.Outbox)
//	digest/<sub>/<slot>         building a subscription's digest for a slot
//	cluster                     the story clusterer: one writer of stories
//	telegram/updates            long polling Telegram (one consumer per bot)
//	telegram/update/<id>[/done] a webhook update being handled, then handled
//	discord/gateway/<i>-of-<n>  Discord gateway shard i of n
//	replica/<owner>             a running daemon, renewed while it runs
//
// Claim and Release serve work that any process may take (a feed, a chat,
// a slot). RunExclusive serves work one process does at a time while the
// others stand by to take it over (the clusterer, the Discord gateway).
// RunHolding serves work that a second process must not even try (long
// polling Telegram): it fails when another live process holds it.
package replica

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// Store is what leases are kept in; digest.Store implements it.
type Store interface {
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
	FindLease(ctx context.Context, name string) (*digest.Lease, error)
	ListLeases(ctx context.Context, prefix string) ([]*digest.Lease, error)
	PruneLeases(ctx context.Context, before time.Time) (int, error)
}

// DefaultTTL is how long a lease lasts unless renewed: how long the work of
// a process that died waits before another takes it over.
const DefaultTTL = 30 * time.Second

// Leases takes and gives up leases for one process, under one owner name.
// It is safe for concurrent use.
type Leases struct {
	store Store
	owner string
	ttl   time.Duration
	log   *slog.Logger
	now   func() time.Time
}

// Config configures Leases. Zero values take the defaults shown.
type Config struct {
	Owner  string        // this process's name in the store: NewOwner()
	TTL    time.Duration // lease time: DefaultTTL
	Logger *slog.Logger
	Now    func() time.Time // clock for pruning; nil means time.Now
}

// New returns the leases of one process over store.
func New(store Store, cfg Config) *Leases {
	if cfg.Owner == "" {
		cfg.Owner = NewOwner()
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Leases{store: store, owner: cfg.Owner, ttl: cfg.TTL, log: cfg.Logger.With("component", "replica"), now: cfg.Now}
}

// NewOwner returns a name for this process that no other process has, now
// or later: host, process id and a random suffix, so that a restarted
// process does not mistake its dead predecessor's leases for its own.
func NewOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Owner returns this process's owner name.
func (l *Leases) Owner() string { return l.owner }

// TTL returns the lease time.
func (l *Leases) TTL() time.Duration { return l.ttl }

// Claim takes the named lease, or renews it when this process holds it,
// for one lease time. It reports false when another process holds it.
func (l *Leases) Claim(ctx context.Context, name string) (bool, error) {
	ok, err := l.store.AcquireLease(ctx, name, l.owner, l.ttl)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", name, err)
	}
	return ok, nil
}

// Release gives the named lease up if this process holds it.
func (l *Leases) Release(ctx context.Context, name string) error {
	if err := l.store.ReleaseLease(ctx, name, l.owner); err != nil {
		return fmt.Errorf("release %s: %w", name, err)
	}
	return nil
}

// Holder returns who holds the named lease, or nil when nobody does.
func (l *Leases) Holder(ctx context.Context, name string) (*digest.Lease, error) {
	le, err := l.store.FindLease(ctx, name)
	if digest.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find lease %s: %w", name, err)
	}
	return le, nil
}

// List returns the leases held now whose names start with prefix.
func (l *Leases) List(ctx context.Context, prefix string) ([]*digest.Lease, error) {
	ls, err := l.store.ListLeases(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list leases %s: %w", prefix, err)
	}
	return ls, nil
}

// pruneEvery is how often Run deletes leases that expired long ago (those
// of digest slots and feeds accumulate otherwise).
const pruneEvery = time.Hour

// memberPrefix starts the name of each running daemon's own lease, which
// says it is alive.
const memberPrefix = "replica/"

// Run announces this process as a running replica, renewing its lease
// every third of a lease time, and calls onMembers with the number of
// replicas running whenever it changes (a platform's sending limits are
// shared between them). It also deletes leases that expired more than an
// hour ago, hourly. It returns nil when ctx ends, after withdrawing the
// announcement. onMembers may be nil.
func (l *Leases) Run(ctx context.Context, onMembers func(n int)) error {
	name := memberPrefix + l.owner
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := l.Release(rctx, name); err != nil {
			l.log.Warn("withdraw replica lease", "err", err)
		}
	}()
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	members := 0
	var pruned time.Time
	for {
		if _, err := l.Claim(ctx, name); err != nil && ctx.Err() == nil {
			l.log.Warn("renew replica lease", "err", err)
		} else if n, err := l.Members(ctx); err != nil && ctx.Err() == nil {
			l.log.Warn("count replicas", "err", err)
		} else if err == nil && n != members {
			if members != 0 {
				l.log.Info("replicas running", "replicas", n, "before", members)
			}
			members = n
			if onMembers != nil {
				onMembers(n)
			}
		}
		if time.Since(pruned) >= pruneEvery {
			pruned = time.Now()
			n, err := l.store.PruneLeases(ctx, l.now().Add(-pruneEvery))
			switch {
			case err != nil && ctx.Err() == nil:
				l.log.Warn("prune expired leases", "err", err)
			case n > 0:
				l.log.Debug("pruned expired leases", "leases", n)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Members returns how many replicas are running (at least 1: a process
// asking is one, whether or not its announcement is in yet).
func (l *Leases) Members(ctx context.Context) (int, error) {
	ls, err := l.store.ListLeases(ctx, memberPrefix)
	if err != nil {
		return 0, fmt.Errorf("list replicas: %w", err)
	}
	return max(len(ls), 1), nil
}

// RunExclusive runs fn while this process holds the named lease. While
// another process holds it, this one stands by and tries again every third
// of a lease time, so it takes over within about one lease time of the
// holder dying. While fn runs, the lease is renewed every third of a lease
// time; fn's context is cancelled when the lease is lost (another process
// took it, or the store could not be reached for a whole lease time), and
// this process stands by again. The lease is released whenever fn
// returns. RunExclusive returns nil when ctx ends or fn returns nil on its
// own, and fn's error when fn fails: work that should survive its own
// errors retries inside fn.
func (l *Leases) RunExclusive(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	log := l.log.With("lease", name)
	every := l.ttl / 3
	standby := false
	for ctx.Err() == nil {
		ok, err := l.Claim(ctx, name)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				log.Warn("cannot take lease; trying again", "err", err)
			}
		case !ok:
			if !standby {
				log.Info("standing by: another process holds the lease", "holder", l.HolderName(ctx, name))
				standby = true
			}
		default:
			if standby {
				log.Info("took over the lease")
			}
			standby = false
			lost, err := l.hold(ctx, name, fn)
			if ctx.Err() != nil || (!lost && err == nil) {
				return nil
			}
			if !lost {
				return err
			}
			standby = true
		}
		if !sleep(ctx, every) {
			return nil
		}
	}
	return nil
}

// HeldError says that another process holds a lease this one needs.
type HeldError struct {
	Name   string
	Holder string // the owner, when known
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("lease %s is held by %s", e.Name, e.Holder)
}

// ErrLost says that a process lost a lease while it worked under it.
var ErrLost = errors.New("lease lost")

// RunHolding takes the named lease and runs fn while renewing it, for work
// that one process must do and that another must never do at the same
// time. A lease another process holds is waited on for one lease time and
// a third, in case its holder has just died (a restart, a rolling
// deploy): if it is still held then, its holder is alive and RunHolding
// fails with a *HeldError. When the lease is lost while fn runs, fn's context is
// cancelled and RunHolding returns an error wrapping ErrLost. It returns
// fn's result otherwise, and nil when ctx ends.
func (l *Leases) RunHolding(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	every := l.ttl / 3
	deadline := time.Now().Add(l.ttl + every)
	waiting := false
	for {
		ok, err := l.Claim(ctx, name)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if ok {
			break
		}
		holder := l.HolderName(ctx, name)
		if time.Now().After(deadline) {
			return &HeldError{Name: name, Holder: holder}
		}
		if !waiting {
			l.log.Info("lease held; waiting one lease time in case its holder has died", "lease", name, "holder", holder, "ttl", l.ttl)
			waiting = true
		}
		if !sleep(ctx, every) {
			return nil
		}
	}
	lost, err := l.hold(ctx, name, fn)
	switch {
	case ctx.Err() != nil:
		return nil
	case lost:
		return fmt.Errorf("%s: %w to %s", name, ErrLost, l.HolderName(ctx, name))
	}
	return err
}

// HolderName names the lease's holder for a log line or an error:
// its owner, or "another process" when nobody holds it or the store
// cannot say.
func (l *Leases) HolderName(ctx context.Context, name string) string {
	if h, err := l.Holder(ctx, name); err == nil && h != nil {
		return h.Owner
	}
	return "another process"
}

// hold runs fn under the lease, renewing it, and releases it afterwards.
// It reports whether the lease was lost while fn ran, and fn's error.
func (l *Leases) hold(ctx context.Context, name string, fn func(ctx context.Context) error) (lost bool, err error) {
	log := l.log.With("lease", name)
	workCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan error, 1)
	go func() { done <- fn(workCtx) }()

	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	renewed := time.Now()
loop:
	for {
		select {
		case err = <-done:
			break loop
		case <-t.C:
		}
		ok, rerr := l.Claim(workCtx, name)
		switch {
		case rerr != nil && workCtx.Err() == nil:
			if time.Since(renewed) < l.ttl {
				log.Warn("cannot renew lease; trying again", "err", rerr)
				continue
			}
			log.Error("lease lost: the store was unreachable for a whole lease time", "err", rerr)
			cancel(fmt.Errorf("%w: %w", ErrLost, rerr))
		case rerr == nil && !ok:
			log.Warn("lease lost: another process took it")
			cancel(fmt.Errorf("%w to another process", ErrLost))
		case rerr == nil:
			renewed = time.Now()
			continue
		}
		err = <-done
		break loop
	}
	lost = ctx.Err() == nil && workCtx.Err() != nil
	// Release even when ctx ended, so another process takes over at once.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	if rerr := l.Release(rctx, name); rerr != nil {
		log.Warn("release lease", "err", rerr)
	}
	return lost, err
}

// sleep waits for d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
