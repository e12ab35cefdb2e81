package replica

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// memLeases is a LeaseStore in memory, on the real clock, that can be made
// to fail; the stores' own behaviour is covered by store/storetest.
type memLeases struct {
	mu     sync.Mutex
	leases map[string]digest.Lease
	fail   atomic.Bool
}

var errDown = errors.New("store unreachable")

func newMemLeases() *memLeases { return &memLeases{leases: map[string]digest.Lease{}} }

func (m *memLeases) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if m.fail.Load() {
		return false, errDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if le, ok := m.leases[name]; ok && le.Owner != owner && le.ExpiresAt.After(now) {
		return false, nil
	}
	m.leases[name] = digest.Lease{Name: name, Owner: owner, ExpiresAt: now.Add(ttl)}
	return true, nil
}

func (m *memLeases) ReleaseLease(ctx context.Context, name, owner string) error {
	if m.fail.Load() {
		return errDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if le, ok := m.leases[name]; ok && le.Owner == owner {
		delete(m.leases, name)
	}
	return nil
}

func (m *memLeases) FindLease(ctx context.Context, name string) (*digest.Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	le, ok := m.leases[name]
	if !ok || !le.ExpiresAt.After(time.Now()) {
		return nil, digest.Errorf(digest.ENOTFOUND, "no lease %s", name)
	}
	return &le, nil
}

func (m *memLeases) ListLeases(ctx context.Context, prefix string) ([]*digest.Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*digest.Lease
	for _, le := range m.leases {
		if strings.HasPrefix(le.Name, prefix) && le.ExpiresAt.After(time.Now()) {
			out = append(out, &le)
		}
	}
	slices.SortFunc(out, func(a, b *digest.Lease) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (m *memLeases) PruneLeases(ctx context.Context, before time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, le := range m.leases {
		if le.ExpiresAt.Before(before) {
			delete(m.leases, k)
			n++
		}
	}
	return n, nil
}

func (m *memLeases) holder(name string) string {
	le, err := m.FindLease(context.Background(), name)
	if err != nil {
		return ""
	}
	return le.Owner
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClaimRelease(t *testing.T) {
	ctx := context.Background()
	st := newMemLeases()
	a := New(st, Config{Owner: "a", TTL: time.Minute})
	b := New(st, Config{Owner: "b", TTL: time.Minute})
	if ok, err := a.Claim(ctx, "feed/1"); !ok || err != nil {
		t.Fatalf("a claims a free lease: %v, %v", ok, err)
	}
	if ok, err := b.Claim(ctx, "feed/1"); ok || err != nil {
		t.Fatalf("b claims a's lease: %v, %v; want refused", ok, err)
	}
	if ok, _ := a.Claim(ctx, "feed/1"); !ok {
		t.Fatal("a cannot renew its own lease")
	}
	h, err := b.Holder(ctx, "feed/1")
	if err != nil || h == nil || h.Owner != "a" {
		t.Fatalf("Holder = %+v, %v; want a", h, err)
	}
	if err := b.Release(ctx, "feed/1"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.Claim(ctx, "feed/1"); ok {
		t.Fatal("b's release freed a's lease")
	}
	if err := a.Release(ctx, "feed/1"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.Claim(ctx, "feed/1"); !ok {
		t.Fatal("b cannot take a released lease")
	}
	if h, err := a.Holder(ctx, "feed/2"); h != nil || err != nil {
		t.Fatalf("Holder of a free lease = %+v, %v; want nil, nil", h, err)
	}
	st.fail.Store(true)
	if _, err := a.Claim(ctx, "feed/3"); !errors.Is(err, errDown) {
		t.Fatalf("Claim with the store down: %v; want the store's error", err)
	}
}

func TestNewOwnerIsUnique(t *testing.T) {
	if a, b := NewOwner(), NewOwner(); a == b || a == "" {
		t.Fatalf("NewOwner gave %q twice", a)
	}
}

// TestRunExclusiveTakeover runs three processes for one lease: one works,
// the others stand by, and when the worker dies without releasing (its
// lease just stops being renewed) another takes over within about one
// lease time; never do two work at once.
func TestRunExclusiveTakeover(t *testing.T) {
	st := newMemLeases()
	const ttl = 150 * time.Millisecond
	var working atomic.Int32
	var overlap atomic.Bool
	type proc struct {
		leases *Leases
		cancel context.CancelFunc
		done   chan struct{}
		runs   atomic.Int32
	}
	procs := map[string]*proc{}
	for _, name := range []string{"a", "b", "c"} {
		ctx, cancel := context.WithCancel(context.Background())
		p := &proc{leases: New(st, Config{Owner: name, TTL: ttl}), cancel: cancel, done: make(chan struct{})}
		procs[name] = p
		go func() {
			defer close(p.done)
			_ = p.leases.RunExclusive(ctx, "cluster", func(ctx context.Context) error {
				p.runs.Add(1)
				if working.Add(1) > 1 {
					overlap.Store(true)
				}
				defer working.Add(-1)
				<-ctx.Done()
				return nil
			})
		}()
	}
	t.Cleanup(func() {
		for _, p := range procs {
			p.cancel()
			<-p.done
		}
	})
	waitFor(t, "a holder", func() bool { return st.holder("cluster") != "" })
	first := st.holder("cluster")

	// Kill the holder as SIGKILL would: it stops renewing and releasing.
	// Its store calls fail from now on, which its own loop sees as an
	// unreachable store; the others see a lease that is not renewed.
	dead := procs[first]
	st.mu.Lock()
	killedAt := time.Now()
	st.leases["cluster"] = digest.Lease{Name: "cluster", Owner: "dead:" + first, ExpiresAt: killedAt.Add(ttl)}
	st.mu.Unlock()
	dead.cancel()
	<-dead.done
	delete(procs, first)

	waitFor(t, "a takeover", func() bool {
		h := st.holder("cluster")
		return h != "" && h != "dead:"+first
	})
	took := time.Since(killedAt)
	if took < ttl/2 {
		t.Errorf("took over after %v, before the dead holder's lease (%v) expired", took, ttl)
	}
	if took > 3*ttl {
		t.Errorf("took over after %v; want about one lease time (%v)", took, ttl)
	}
	if overlap.Load() {
		t.Error("two processes worked under one lease at once")
	}
}

// TestRunExclusiveLosesLease checks that work stops when another process
// takes the lease, starts again when the lease is free again, and that an
// error from the work ends RunExclusive and frees the lease.
func TestRunExclusiveLosesLease(t *testing.T) {
	st := newMemLeases()
	const ttl = 90 * time.Millisecond
	l := New(st, Config{Owner: "a", TTL: ttl})
	var runs atomic.Int32
	stopped := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() {
		done <- l.RunExclusive(context.Background(), "discord/gateway", func(ctx context.Context) error {
			if runs.Add(1) == 2 {
				return errors.New("the token was refused")
			}
			<-ctx.Done()
			stopped <- struct{}{}
			return nil
		})
	}()
	waitFor(t, "work", func() bool { return runs.Load() == 1 })
	st.mu.Lock()
	st.leases["discord/gateway"] = digest.Lease{Name: "discord/gateway", Owner: "b", ExpiresAt: time.Now().Add(2 * ttl)}
	st.mu.Unlock()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("work went on after the lease was taken by another process")
	}
	if h := st.holder("discord/gateway"); h != "b" {
		t.Fatalf("holder after losing = %q; the loser must not release b's lease", h)
	}
	// b's lease runs out without renewal: a takes over, and the second
	// run fails.
	select {
	case err := <-done:
		if err == nil || err.Error() != "the token was refused" {
			t.Fatalf("RunExclusive = %v; want the work's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no takeover after b's lease expired")
	}
	if runs.Load() != 2 {
		t.Fatalf("work ran %d times; want 2", runs.Load())
	}
	if h := st.holder("discord/gateway"); h != "" {
		t.Fatalf("lease held by %q after the work failed; want released", h)
	}
}

func TestRunHolding(t *testing.T) {
	const ttl = 90 * time.Millisecond
	t.Run("a live holder makes it fail fast", func(t *testing.T) {
		st := newMemLeases()
		live := New(st, Config{Owner: "live", TTL: ttl})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			_ = live.RunExclusive(ctx, "telegram/updates", func(ctx context.Context) error { <-ctx.Done(); return nil })
		}()
		waitFor(t, "the live holder", func() bool { return st.holder("telegram/updates") == "live" })
		ran := false
		err := New(st, Config{Owner: "second", TTL: ttl}).RunHolding(context.Background(), "telegram/updates",
			func(ctx context.Context) error { ran = true; return nil })
		var held *HeldError
		if !errors.As(err, &held) || held.Holder != "live" || ran {
			t.Fatalf("RunHolding = %v (ran %v); want a HeldError naming the live holder, and no work", err, ran)
		}
	})
	t.Run("a dead holder is waited out", func(t *testing.T) {
		st := newMemLeases()
		st.leases["telegram/updates"] = digest.Lease{Name: "telegram/updates", Owner: "dead", ExpiresAt: time.Now().Add(ttl / 2)}
		ran := false
		err := New(st, Config{Owner: "restarted", TTL: ttl}).RunHolding(context.Background(), "telegram/updates",
			func(ctx context.Context) error { ran = true; return nil })
		if err != nil || !ran {
			t.Fatalf("RunHolding = %v (ran %v); want the work done once the dead holder's lease expired", err, ran)
		}
		if h := st.holder("telegram/updates"); h != "" {
			t.Fatalf("lease held by %q after the work; want released", h)
		}
	})
	t.Run("losing the lease stops the work with ErrLost", func(t *testing.T) {
		st := newMemLeases()
		err := New(st, Config{Owner: "a", TTL: ttl}).RunHolding(context.Background(), "telegram/updates",
			func(ctx context.Context) error {
				st.mu.Lock()
				st.leases["telegram/updates"] = digest.Lease{Name: "telegram/updates", Owner: "b", ExpiresAt: time.Now().Add(time.Hour)}
				st.mu.Unlock()
				<-ctx.Done()
				return nil
			})
		if !errors.Is(err, ErrLost) {
			t.Fatalf("RunHolding = %v; want ErrLost", err)
		}
	})
}

// TestRunExclusiveStoreDown checks that a holder whose store is
// unreachable for a whole lease time stops working: another process may
// hold the lease by then.
func TestRunExclusiveStoreDown(t *testing.T) {
	st := newMemLeases()
	const ttl = 90 * time.Millisecond
	l := New(st, Config{Owner: "a", TTL: ttl})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var running atomic.Bool
	stopped := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = l.RunExclusive(ctx, "cluster", func(ctx context.Context) error {
			running.Store(true)
			<-ctx.Done()
			stopped <- context.Cause(ctx)
			return nil
		})
	}()
	waitFor(t, "work", running.Load)
	st.fail.Store(true)
	select {
	case err := <-stopped:
		if !errors.Is(err, errDown) {
			t.Fatalf("work stopped with %v; want the lease lost to the unreachable store", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("work went on with the store unreachable for longer than a lease time")
	}
	cancel()
	<-done
}

// TestRunCountsReplicas runs three replicas' announcements: each learns
// how many run, and when one stops the others learn it too.
func TestRunCountsReplicas(t *testing.T) {
	st := newMemLeases()
	const ttl = 60 * time.Millisecond
	type member struct {
		cancel context.CancelFunc
		done   chan struct{}
		n      atomic.Int32
	}
	var ms []*member
	for _, owner := range []string{"a", "b", "c"} {
		ctx, cancel := context.WithCancel(context.Background())
		m := &member{cancel: cancel, done: make(chan struct{})}
		ms = append(ms, m)
		l := New(st, Config{Owner: owner, TTL: ttl})
		go func() {
			defer close(m.done)
			_ = l.Run(ctx, func(n int) { m.n.Store(int32(n)) })
		}()
	}
	waitFor(t, "every replica to count 3", func() bool {
		return ms[0].n.Load() == 3 && ms[1].n.Load() == 3 && ms[2].n.Load() == 3
	})
	ms[2].cancel()
	<-ms[2].done
	if h := st.holder("replica/c"); h != "" {
		t.Fatalf("a stopped replica's announcement is still held by %q", h)
	}
	waitFor(t, "the others to count 2", func() bool { return ms[0].n.Load() == 2 && ms[1].n.Load() == 2 })
	for _, m := range ms[:2] {
		m.cancel()
		<-m.done
	}
}

func TestRunPrunes(t *testing.T) {
	st := newMemLeases()
	st.leases["digest/1/old"] = digest.Lease{Name: "digest/1/old", Owner: "a", ExpiresAt: time.Now().Add(-2 * time.Hour)}
	st.leases["digest/1/new"] = digest.Lease{Name: "digest/1/new", Owner: "a", ExpiresAt: time.Now().Add(-time.Minute)}
	l := New(st, Config{Owner: "a"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Run(ctx, nil) }()
	waitFor(t, "the old lease pruned", func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		_, ok := st.leases["digest/1/old"]
		return !ok
	})
	cancel()
	<-done
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.leases["digest/1/new"]; !ok {
		t.Fatal("a lease that expired a minute ago was pruned; only those older than an hour go")
	}
}
