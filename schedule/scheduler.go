package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/seed-c50b6fda/herald/digest"
)

// SubscriptionSource lists the subscriptions to schedule. digest.Store
// implements it.
type SubscriptionSource interface {
	// ListSubscriptions returns the subscriptions matching the filter. The
	// scheduler asks for Scheduled: true, those with a schedule in active
	// chats. An error is retried at the next refresh.
	ListSubscriptions(ctx context.Context, filter digest.SubscriptionFilter) ([]*digest.Subscription, error)
}

// DeliverFunc builds and enqueues the digest of one subscription for one
// slot. It must be idempotent per (sub.ID, slot.Key()): the scheduler calls
// it once per slot within a process, but a restart may call it again for a
// slot whose delivery was under way. Returning an error with code
// ECONFLICT says the slot was delivered already and counts as success; any
// other error is logged and the slot is retried at each refresh while it is
// younger than the grace period. sub is the scheduler's own copy.
//
// Deliver should save the digest's end in the subscription's LastDigestAt
// (at or after slot.At): at start, the scheduler catches up from it.
//
// With several replicas, Deliver returns an error wrapping ErrElsewhere
// when another replica is building the slot's digest: the scheduler then
// looks again at the next refresh, quietly, and finds the slot delivered,
// or takes it over if that replica died before it finished.
type DeliverFunc func(ctx context.Context, sub *digest.Subscription, slot Slot) error

// ErrElsewhere says that another process is delivering a slot.
var ErrElsewhere = errors.New("another replica is delivering this slot")

// Config holds a Scheduler's dependencies and settings. Zero settings take
// the defaults shown.
type Config struct {
	Source  SubscriptionSource // required
	Deliver DeliverFunc        // required
	Logger  *slog.Logger

	// Grace is how old a missed slot may be and still be delivered: one
	// missed while the daemon was down, or one a late or skipped run left
	// behind. Older slots are skipped with a log line. Default 6h.
	Grace time.Duration
	// Refresh is how often the subscriptions are listed again to pick up
	// changes; Reload does it at once. Each refresh also delivers slots
	// that are due but were not delivered (a failed delivery, a run cron
	// skipped). Default 1m.
	Refresh time.Duration
	// Concurrency bounds how many deliveries run at once (1,000 chats at
	// 08:00 must not build 1,000 digests at the same moment). Default 4.
	Concurrency int

	// Now is the scheduler's clock; nil means time.Now. robfig/cron sleeps
	// on the real clock, so cron entries translate: with a Now running d
	// ahead of the real clock, a slot fires d early in real time. Tests
	// use that to reach a slot within milliseconds.
	Now func() time.Time
}

// Scheduler runs each subscription's schedule in its own time zone with
// robfig/cron and calls Deliver once per slot.
type Scheduler struct {
	cfg     Config
	log     *slog.Logger
	sem     chan struct{}
	reload  chan struct{}
	running atomic.Bool

	mu       sync.Mutex
	subs     map[int64]*subState
	loaded   bool      // a listing has succeeded since Run started
	lastSync time.Time // when the last successful listing was taken
	failing  bool      // the last listing failed
}

// subState is the scheduler's view of one subscription.
type subState struct {
	run      sync.Mutex // held for a whole run: one delivery at a time per subscription
	failures int        // consecutive failed deliveries; guarded by run

	// Guarded by Scheduler.mu.
	sub      *digest.Subscription
	key      string         // schedule and zone the entry was made for
	comp     *compiled      // nil when the schedule is unusable
	loc      *time.Location // the subscription's zone
	done     time.Time      // every slot at or before this instant is handled
	entry    cron.EntryID   // 0 when there is none
	sweeping bool           // a refresh started a run that has not returned
	removed  bool
}

// New returns a Scheduler. It panics if Source or Deliver is missing, or if
// Grace is negative: those are wiring mistakes, not runtime conditions.
func New(cfg Config) *Scheduler {
	if cfg.Source == nil || cfg.Deliver == nil {
		panic("schedule.New: Source and Deliver are required")
	}
	if cfg.Grace < 0 {
		panic("schedule.New: Grace must not be negative")
	}
	if cfg.Grace == 0 {
		cfg.Grace = 6 * time.Hour
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = time.Minute
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{
		cfg:    cfg,
		log:    log.With("component", "schedule"),
		sem:    make(chan struct{}, cfg.Concurrency),
		reload: make(chan struct{}, 1),
		subs:   map[int64]*subState{},
	}
}

// Reload makes a running scheduler list the subscriptions again now, so a
// changed schedule or time zone takes effect at once. It never blocks;
// calls while a reload is pending are merged.
func (s *Scheduler) Reload() {
	select {
	case s.reload <- struct{}{}:
	default:
	}
}

// Run schedules the subscriptions until ctx is cancelled. At start it
// delivers, once, the latest slot each subscription missed while the
// daemon was down (since its LastDigestAt, or its creation), if that slot is
// younger than Grace; older missed slots are skipped with a log line. It
// then waits for cron and refreshes. When ctx is cancelled it stops cron,
// waits for every delivery under way to return (their ctx is cancelled
// too) and returns nil. Run returns an error only if it is already running.
func (s *Scheduler) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("schedule: Run called while already running")
	}
	defer s.running.Store(false)
	s.mu.Lock()
	s.subs, s.loaded, s.lastSync, s.failing = map[int64]*subState{}, false, time.Time{}, false
	s.mu.Unlock()

	c := s.newCron()
	var runs sync.WaitGroup // runs started by refreshes; cron waits for its own
	s.sync(ctx, c, &runs)
	c.Start()
	ticker := time.NewTicker(s.cfg.Refresh)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			<-c.Stop().Done()
			runs.Wait()
			return nil
		case <-ticker.C:
		case <-s.reload:
		}
		s.sync(ctx, c, &runs)
	}
}

// newCron returns the cron runner: entries carry their own zone
// (cronSchedule), logs go to slog, and every job runs inside
// SkipIfStillRunning(Recover(job)).
func (s *Scheduler) newCron() *cron.Cron {
	logger := cronLogger{s.log}
	return cron.New(
		cron.WithLocation(time.UTC),
		cron.WithLogger(logger),
		// SkipIfStillRunning must be outside Recover. Chain.Then makes
		// SkipIfStillRunning(Recover(job)): a panic in the job is caught
		// inside, the skip wrapper's j.Run() returns normally and puts its
		// token back. The other order, Recover(SkipIfStillRunning(job)),
		// lets the panic unwind through the skip wrapper, whose token is
		// returned by a plain statement after j.Run(), not a defer: the
		// token is lost and every later run of that subscription is
		// skipped forever.
		cron.WithChain(cron.SkipIfStillRunning(logger), cron.Recover(logger)),
	)
}

// sync lists the subscriptions, adds, replaces and removes cron entries to
// match, and starts a run for every subscription with a due slot that has
// not been handled.
func (s *Scheduler) sync(ctx context.Context, c *cron.Cron, runs *sync.WaitGroup) {
	subs, err := s.cfg.Source.ListSubscriptions(ctx, digest.SubscriptionFilter{Scheduled: true})
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		first := !s.failing
		s.failing = true
		s.mu.Unlock()
		if first {
			s.log.Warn("list scheduled subscriptions failed; retrying at each refresh", "err", err, "refresh", s.cfg.Refresh)
		} else {
			s.log.Debug("list scheduled subscriptions failed again", "err", err)
		}
		return
	}
	now := s.cfg.Now()

	s.mu.Lock()
	if s.failing {
		s.failing = false
		s.log.Info("listing scheduled subscriptions works again")
	}
	seen := make(map[int64]bool, len(subs))
	for _, sub := range subs {
		if sub == nil || sub.Schedule == "" {
			continue
		}
		seen[sub.ID] = true
		cp := *sub
		st := s.subs[sub.ID]
		if st == nil {
			st = &subState{}
			s.subs[sub.ID] = st
			// Catch up from the last digest or, for one that never had
			// a digest, from its creation; one that appeared after the
			// first listing can only have missed slots since then.
			st.done = latest(sub.LastDigestAt, sub.CreatedAt)
			if s.loaded {
				st.done = latest(st.done, s.lastSync)
			}
			if st.done.IsZero() {
				st.done = now
			}
		}
		st.sub = &cp
		// A digest built elsewhere (on demand, another replica) covers
		// the slots before it.
		st.done = latest(st.done, sub.LastDigestAt)
		key := sub.Schedule + "\x00" + sub.TimeZone
		if st.key == key {
			continue
		}
		if st.key != "" {
			// A changed schedule starts from the last listing: its new
			// slots before then were never promised to anyone.
			st.done = latest(st.done, s.lastSync)
		}
		st.key = key
		if st.entry != 0 {
			c.Remove(st.entry)
			st.entry = 0
		}
		st.comp, st.loc = nil, nil
		comp, err := compile(sub.Schedule)
		if err == nil && comp.naive == nil {
			err = errors.New("the schedule is off")
		}
		var loc *time.Location
		if err == nil {
			loc, err = LoadLocation(sub.TimeZone)
		}
		if err != nil {
			s.log.Warn("subscription schedule unusable; no scheduled digests until it is changed",
				"subscription_id", sub.ID, "platform", sub.Platform, "chat_id", sub.ChatID,
				"schedule", sub.Schedule, "time_zone", sub.TimeZone, "err", err)
			continue
		}
		st.comp, st.loc = comp, loc
		st.entry = c.Schedule(cronSchedule{now: s.cfg.Now, comp: comp, loc: loc},
			cron.FuncJob(func() { s.runDue(ctx, st) }))
		s.log.Debug("subscription scheduled", "subscription_id", sub.ID, "schedule", comp.spec.Cron,
			"time_zone", loc.String(), "description", comp.spec.Description)
	}
	for id, st := range s.subs {
		if !seen[id] {
			if st.entry != 0 {
				c.Remove(st.entry)
			}
			st.removed = true
			delete(s.subs, id)
			s.log.Debug("subscription unscheduled", "subscription_id", id)
		}
	}
	s.loaded = true
	s.lastSync = now

	var due []cron.EntryID
	var dueStates []*subState
	for _, st := range s.subs {
		if st.comp == nil || st.sweeping {
			continue
		}
		if sl, ok := st.comp.next(st.loc, st.done); ok && !sl.At.After(now) {
			st.sweeping = true
			due = append(due, st.entry)
			dueStates = append(dueStates, st)
		}
	}
	s.mu.Unlock()

	// Run through the entry's own wrapped job, so a refresh and a cron
	// firing share one SkipIfStillRunning token and one Recover.
	for i, id := range due {
		st := dueStates[i]
		job := c.Entry(id).WrappedJob
		runs.Add(1)
		go func() {
			defer runs.Done()
			defer func() {
				s.mu.Lock()
				st.sweeping = false
				s.mu.Unlock()
			}()
			if job != nil {
				job.Run()
			}
		}()
	}
}

// maxSkipCount bounds how many skipped slots a log line counts.
const maxSkipCount = 10000

// runDue delivers the subscription's latest due slot that has not been
// handled. Slots older than Grace are skipped, and so are due slots that a
// later due slot supersedes: a digest covers everything since the previous
// one, so several back-to-back digests after an outage would repeat
// nothing new but noise. It is what cron entries run, and what refreshes
// run for slots cron did not deliver; duplicates of either find nothing
// due.
func (s *Scheduler) runDue(ctx context.Context, st *subState) {
	st.run.Lock()
	defer st.run.Unlock()
	s.mu.Lock()
	if st.removed || st.comp == nil {
		s.mu.Unlock()
		return
	}
	sub, comp, loc, done := st.sub, st.comp, st.loc, st.done
	s.mu.Unlock()

	now := s.cfg.Now()
	log := s.log.With("subscription_id", sub.ID, "platform", sub.Platform, "chat_id", sub.ChatID)
	if cutoff := now.Add(-s.cfg.Grace); done.Before(cutoff) {
		s.skipOld(log, comp, loc, done, cutoff)
		done = cutoff
		s.advance(st, done)
	}
	var due []Slot
	for at := done; ; {
		sl, ok := comp.next(loc, at)
		if !ok || sl.At.After(now) {
			break
		}
		due = append(due, sl)
		at = sl.At
	}
	if len(due) == 0 {
		return
	}
	slot := due[len(due)-1]
	for _, sl := range due[:len(due)-1] {
		log.Info("missed slot skipped: a later slot is due, and its digest covers the same window",
			"slot", sl.Key(), "delivered_instead", slot.Key())
	}
	s.advance(st, slot.At.Add(-time.Nanosecond))

	err := s.deliver(ctx, sub, slot)
	switch {
	case err == nil || digest.IsConflict(err):
		s.advance(st, slot.At)
		if st.failures > 0 {
			log.Info("delivery works again", "slot", slot.Key(), "failed_attempts", st.failures)
			st.failures = 0
		}
		if err != nil {
			log.Debug("slot was delivered already", "slot", slot.Key())
			return
		}
		log.Info("slot delivered", "slot", slot.Key(), "delay", now.Sub(slot.At).Round(time.Millisecond))
	case ctx.Err() != nil:
		log.Info("delivery interrupted by shutdown", "slot", slot.Key(), "err", err)
	case errors.Is(err, ErrElsewhere):
		log.Debug("slot is being delivered by another replica; looking again at the next refresh", "slot", slot.Key())
	default:
		// Retried at every refresh: log the first failure and then one
		// in failureLogEvery, not a line a minute for hours.
		st.failures++
		level := slog.LevelDebug
		if st.failures%failureLogEvery == 1 {
			level = slog.LevelError
		}
		log.Log(ctx, level, "deliver scheduled digest failed; retrying at each refresh within the grace period",
			"slot", slot.Key(), "failed_attempts", st.failures, "grace", s.cfg.Grace, "err", err)
	}
}

// failureLogEvery is how many consecutive failed deliveries of a
// subscription make one log line at Error level.
const failureLogEvery = 30

// skipOld logs the slots in (from, cutoff], which are too old to deliver.
func (s *Scheduler) skipOld(log *slog.Logger, comp *compiled, loc *time.Location, from, cutoff time.Time) {
	var first, last Slot
	n := 0
	for at := from; n < maxSkipCount; n++ {
		sl, ok := comp.next(loc, at)
		if !ok || sl.At.After(cutoff) {
			break
		}
		if n == 0 {
			first = sl
		}
		last, at = sl, sl.At
	}
	if n == 0 {
		return
	}
	log.Warn("missed slots skipped: older than the grace period",
		"slots", n, "counted_all", n < maxSkipCount, "first_slot", first.Key(), "last_slot", last.Key(), "grace", s.cfg.Grace)
}

// deliver calls Deliver within the concurrency bound, on a copy of sub.
func (s *Scheduler) deliver(ctx context.Context, sub *digest.Subscription, slot Slot) error {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("deliver subscription %d slot %s: %w", sub.ID, slot.Key(), ctx.Err())
	}
	defer func() { <-s.sem }()
	cp := *sub
	return s.cfg.Deliver(ctx, &cp, slot)
}

// advance moves a subscription's handled mark forward to t.
func (s *Scheduler) advance(st *subState, t time.Time) {
	s.mu.Lock()
	st.done = latest(st.done, t)
	s.mu.Unlock()
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// cronSchedule is a cron.Schedule that fires at the instants of a
// subscription's slots. robfig's own SpecSchedule, evaluated in the zone,
// skips a wall-clock time that a daylight-saving change skips (no digest
// that day) and fires twice for one that repeats; slot arithmetic does
// neither. It must not take Scheduler.mu: cron calls it from its run loop,
// which sync talks to while holding that lock.
type cronSchedule struct {
	now  func() time.Time
	comp *compiled
	loc  *time.Location
}

// Next implements cron.Schedule.
func (cs cronSchedule) Next(t time.Time) time.Time {
	skew := time.Until(cs.now())
	if skew.Abs() < time.Millisecond {
		skew = 0 // the real clock read twice; keeps firing times exact
	}
	sl, ok := cs.comp.next(cs.loc, t.Add(skew))
	if !ok {
		return time.Time{}
	}
	return sl.At.Add(-skew)
}

// cronLogger passes robfig/cron's log lines to slog: its routine lines at
// Debug, a skipped run at Info (a refresh delivers what it left), and a
// recovered panic at Error.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" {
		l.log.Info("cron run skipped: the previous run for this subscription is still going; a refresh delivers what it leaves")
		return
	}
	l.log.Debug("cron "+msg, kv...)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron "+msg, append([]any{"err", err}, kv...)...)
}
