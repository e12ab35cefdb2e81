package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// clockSlack is how far a store's clock may be from the test's when the
// tests check an expiry time: the PostgreSQL store times leases on the
// server's clock, which may be another machine's.
const clockSlack = time.Minute

// waitExpired polls until nobody holds the lease name. A lease taken with
// a few milliseconds to live is gone well within the deadline; the deadline
// only turns a store that never expires leases into a failure, not a hang.
func waitExpired(tb testing.TB, s digest.Store, name string) {
	tb.Helper()
	ctx := ctxFor(tb)
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := s.FindLease(ctx, name)
		if digest.IsNotFound(err) {
			return
		}
		if err != nil {
			tb.Fatalf("FindLease(%q): %v", name, err)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("lease %q still held by %q (expires %v) 5s after it should have expired", name, l.Owner, l.ExpiresAt)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mustAcquire fails unless AcquireLease answers want without error.
func mustAcquire(tb testing.TB, s digest.Store, name, owner string, ttl time.Duration, want bool) {
	tb.Helper()
	got, err := s.AcquireLease(ctxFor(tb), name, owner, ttl)
	must(tb, err)
	if got != want {
		tb.Fatalf("AcquireLease(%q, %q, %v) = %v, want %v", name, owner, ttl, got, want)
	}
}

// holder returns the lease's holder, failing unless someone holds it.
func holder(tb testing.TB, s digest.Store, name string) *digest.Lease {
	tb.Helper()
	l, err := s.FindLease(ctxFor(tb), name)
	if err != nil {
		tb.Fatalf("FindLease(%q): %v", name, err)
	}
	if l.Name != name {
		tb.Errorf("FindLease(%q).Name = %q", name, l.Name)
	}
	return l
}

func testLeases(t *testing.T, open Opener) {
	t.Run("basics", func(t *testing.T) { testLeaseBasics(t, open) })
	t.Run("prune", func(t *testing.T) { testPruneLeases(t, open) })
	t.Run("list", func(t *testing.T) { testListLeases(t, open) })
	t.Run("race", func(t *testing.T) { testLeaseRace(t, open) })
}

func testLeaseBasics(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)

	t.Run("acquire a free lease, renew it, refuse another owner", func(t *testing.T) {
		_, err := s.FindLease(ctx, "feed/1")
		wantCode(t, err, digest.ENOTFOUND)

		start := time.Now()
		mustAcquire(t, s, "feed/1", "replica-a", time.Hour, true)
		end := time.Now()
		l := holder(t, s, "feed/1")
		if l.Owner != "replica-a" {
			t.Errorf("owner = %q, want replica-a", l.Owner)
		}
		if l.ExpiresAt.Before(start.Add(time.Hour-clockSlack)) || l.ExpiresAt.After(end.Add(time.Hour+clockSlack)) {
			t.Errorf("a lease taken for 1h between %v and %v expires at %v", start, end, l.ExpiresAt)
		}

		mustAcquire(t, s, "feed/1", "replica-a", 2*time.Hour, true)
		renewed := holder(t, s, "feed/1")
		if renewed.Owner != "replica-a" || !renewed.ExpiresAt.After(l.ExpiresAt.Add(time.Hour-clockSlack)) {
			t.Errorf("after renewing for 2h: %+v, want replica-a until about an hour after %v", renewed, l.ExpiresAt)
		}

		mustAcquire(t, s, "feed/1", "replica-b", time.Hour, false)
		after := holder(t, s, "feed/1")
		if after.Owner != "replica-a" || !after.ExpiresAt.Equal(renewed.ExpiresAt) {
			t.Errorf("a refused AcquireLease changed the lease: %+v, was %+v", after, renewed)
		}
	})

	t.Run("another owner takes an expired lease", func(t *testing.T) {
		mustAcquire(t, s, "digest/7", "replica-a", 50*time.Millisecond, true)
		waitExpired(t, s, "digest/7")
		mustAcquire(t, s, "digest/7", "replica-b", time.Hour, true)
		if l := holder(t, s, "digest/7"); l.Owner != "replica-b" {
			t.Errorf("owner = %q, want replica-b", l.Owner)
		}
		// The old owner lost it: renewing is now refused.
		mustAcquire(t, s, "digest/7", "replica-a", time.Hour, false)
		// And the old owner's late release leaves the new owner's lease.
		must(t, s.ReleaseLease(ctx, "digest/7", "replica-a"))
		if l := holder(t, s, "digest/7"); l.Owner != "replica-b" {
			t.Errorf("after a release by a former owner, owner = %q, want replica-b", l.Owner)
		}
	})

	t.Run("the owner renews an expired lease nobody took", func(t *testing.T) {
		mustAcquire(t, s, "chat/9", "replica-a", time.Millisecond, true)
		waitExpired(t, s, "chat/9")
		mustAcquire(t, s, "chat/9", "replica-a", time.Hour, true)
		if l := holder(t, s, "chat/9"); l.Owner != "replica-a" {
			t.Errorf("owner = %q, want replica-a", l.Owner)
		}
	})

	t.Run("release", func(t *testing.T) {
		mustAcquire(t, s, "clusterer", "replica-a", time.Hour, true)
		// A non-owner's release does nothing.
		must(t, s.ReleaseLease(ctx, "clusterer", "replica-b"))
		if l := holder(t, s, "clusterer"); l.Owner != "replica-a" {
			t.Fatalf("after a release by a non-owner, owner = %q, want replica-a", l.Owner)
		}
		mustAcquire(t, s, "clusterer", "replica-b", time.Hour, false)
		// The owner's release frees it at once.
		must(t, s.ReleaseLease(ctx, "clusterer", "replica-a"))
		_, err := s.FindLease(ctx, "clusterer")
		wantCode(t, err, digest.ENOTFOUND)
		mustAcquire(t, s, "clusterer", "replica-b", time.Hour, true)
		if l := holder(t, s, "clusterer"); l.Owner != "replica-b" {
			t.Errorf("owner = %q, want replica-b", l.Owner)
		}
		// Releasing what nobody ever held is no error.
		must(t, s.ReleaseLease(ctx, "never-taken", "replica-a"))
	})

	t.Run("invalid", func(t *testing.T) {
		for _, tc := range []struct {
			name, lease, owner string
			ttl                time.Duration
		}{
			{"empty name", "", "replica-a", time.Minute},
			{"empty owner", "feed/2", "", time.Minute},
			{"zero ttl", "feed/2", "replica-a", 0},
			{"negative ttl", "feed/2", "replica-a", -time.Second},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ok, err := s.AcquireLease(ctx, tc.lease, tc.owner, tc.ttl)
				wantCode(t, err, digest.EINVALID)
				if ok {
					t.Error("AcquireLease reported success with an error")
				}
			})
		}
		_, err := s.FindLease(ctx, "feed/2")
		wantCode(t, err, digest.ENOTFOUND)
	})
}

// testPruneLeases uses a store of its own, so that the counts it checks
// are its leases only.
func testPruneLeases(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	for i := range 3 {
		mustAcquire(t, s, fmt.Sprintf("old/%d", i), "replica-a", time.Millisecond, true)
	}
	mustAcquire(t, s, "held", "replica-a", time.Hour, true)
	for i := range 3 {
		waitExpired(t, s, fmt.Sprintf("old/%d", i))
	}

	n, err := s.PruneLeases(ctx, time.Now().Add(-time.Hour))
	must(t, err)
	if n != 0 {
		t.Errorf("PruneLeases(an hour ago) = %d, want 0: the leases expired just now", n)
	}
	// A time far ahead prunes every expired lease but never a held one,
	// even when the caller's clock is far ahead of the store's.
	n, err = s.PruneLeases(ctx, time.Now().Add(24*time.Hour))
	must(t, err)
	if n != 3 {
		t.Errorf("PruneLeases(tomorrow) = %d, want 3", n)
	}
	if l := holder(t, s, "held"); l.Owner != "replica-a" {
		t.Errorf("owner of the held lease after pruning = %q", l.Owner)
	}
	mustAcquire(t, s, "held", "replica-b", time.Hour, false)
	n, err = s.PruneLeases(ctx, time.Now().Add(24*time.Hour))
	must(t, err)
	if n != 0 {
		t.Errorf("PruneLeases again = %d, want 0", n)
	}
	// A pruned lease is simply free.
	mustAcquire(t, s, "old/0", "replica-b", time.Hour, true)
}

// testLeaseRace has replicas race for leases: for each lease exactly one
// of them wins, whether it was never taken or its holder let it expire.
func testLeaseRace(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	const replicas = 8
	race := func(t *testing.T, name string) {
		t.Helper()
		var wg sync.WaitGroup
		start := make(chan struct{})
		won := make([]bool, replicas)
		errs := make([]error, replicas)
		for i := range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				won[i], errs[i] = s.AcquireLease(ctx, name, fmt.Sprintf("replica-%d", i), time.Hour)
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i := range replicas {
			if errs[i] != nil {
				t.Errorf("replica-%d: %v", i, errs[i])
			}
			if won[i] {
				if winner >= 0 {
					t.Errorf("lease %q: replica-%d and replica-%d both acquired it", name, winner, i)
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("lease %q: none of %d replicas acquired it", name, replicas)
		}
		if l := holder(t, s, name); l.Owner != fmt.Sprintf("replica-%d", winner) {
			t.Errorf("lease %q is held by %q, but replica-%d won it", name, l.Owner, winner)
		}
	}
	for _, name := range []string{"feed/1", "feed/2", "digest/3/2026-03-22T08:00Z", "clusterer"} {
		t.Run("free "+name, func(t *testing.T) { race(t, name) })
	}
	for _, name := range []string{"feed/10", "clusterer-expired"} {
		t.Run("expired "+name, func(t *testing.T) {
			mustAcquire(t, s, name, "dead-replica", time.Millisecond, true)
			waitExpired(t, s, name)
			race(t, name)
		})
	}
}

func testListLeases(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	mustAcquire(t, s, "replica/b", "b", time.Minute, true)
	mustAcquire(t, s, "replica/a", "a", time.Minute, true)
	mustAcquire(t, s, "replica/gone", "gone", time.Millisecond, true)
	mustAcquire(t, s, "replica_x", "x", time.Minute, true) // "_" is no LIKE wildcard here
	mustAcquire(t, s, "replicas/c", "c", time.Minute, true)
	mustAcquire(t, s, "feed/1", "a", time.Minute, true)
	waitExpired(t, s, "replica/gone")
	got, err := s.ListLeases(ctx, "replica/")
	must(t, err)
	var names []string
	for _, l := range got {
		names = append(names, l.Name+"="+l.Owner)
		if time.Until(l.ExpiresAt) < -clockSlack || time.Until(l.ExpiresAt) > time.Minute+clockSlack {
			t.Errorf("lease %s expires at %v; want about a minute from now", l.Name, l.ExpiresAt)
		}
	}
	if fmt.Sprint(names) != "[replica/a=a replica/b=b]" {
		t.Errorf("ListLeases(replica/) = %v; want the two held, in name order, without the expired one or other prefixes", names)
	}
	all, err := s.ListLeases(ctx, "")
	must(t, err)
	if len(all) != 5 {
		t.Errorf("ListLeases(\"\") = %d leases; want the 5 held", len(all))
	}
	none, err := s.ListLeases(ctx, "outbox/")
	must(t, err)
	if len(none) != 0 {
		t.Errorf("ListLeases(outbox/) = %v; want none", none)
	}
}
