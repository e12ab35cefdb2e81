package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/seed-c50b6fda/herald/digest"
)

// fakeSource is a SubscriptionSource over a slice.
type fakeSource struct {
	mu    sync.Mutex
	subs  []*digest.Subscription
	err   error
	calls int
}

func (f *fakeSource) ListSubscriptions(ctx context.Context, filter digest.SubscriptionFilter) ([]*digest.Subscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if !filter.Scheduled {
		return nil, errors.New("fakeSource: the scheduler must ask for scheduled subscriptions only")
	}
	if f.err != nil {
		return nil, f.err
	}
	out := make([]*digest.Subscription, len(f.subs))
	for i, s := range f.subs {
		cp := *s
		out[i] = &cp
	}
	return out, nil
}

func (f *fakeSource) set(subs ...*digest.Subscription) {
	f.mu.Lock()
	f.subs = subs
	f.mu.Unlock()
}

func (f *fakeSource) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// delivery is one call of Deliver.
type delivery struct {
	sub  int64
	key  string
	at   time.Time // slot.At
	when time.Time // the scheduler's clock at the call
}

func (d delivery) String() string {
	return fmt.Sprintf("%d %s at %s", d.sub, d.key, d.at.Format(time.RFC3339))
}

// recorder is a Deliver function that records its calls; fail, when set,
// decides each call's result (it may panic).
type recorder struct {
	mu    sync.Mutex
	got   []delivery
	calls int
	now   func() time.Time
	fail  func(n int, sub *digest.Subscription, slot Slot) error
}

func (r *recorder) deliver(ctx context.Context, sub *digest.Subscription, slot Slot) error {
	r.mu.Lock()
	r.calls++
	n, fail := r.calls, r.fail
	r.mu.Unlock()
	if fail != nil {
		if err := fail(n, sub, slot); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, delivery{sub.ID, slot.Key(), slot.At, r.now()})
	return nil
}

func (r *recorder) callCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

func (r *recorder) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines returns the log lines containing every one of the words.
func (l *logBuffer) lines(words ...string) []string {
	var out []string
	for line := range strings.SplitSeq(l.String(), "\n") {
		ok := line != ""
		for _, w := range words {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// harness drives a Scheduler without starting cron: refresh runs what a
// Refresh tick runs, fire runs what a cron firing runs (the entry's job,
// wrapped by the real chain), both at the fake clock's time.
type harness struct {
	s     *Scheduler
	c     *cron.Cron
	ctx   context.Context
	runs  sync.WaitGroup
	src   *fakeSource
	rec   *recorder
	clock *fakeClock
	logs  *logBuffer
}

func newHarness(tb testing.TB, start time.Time, edit func(*Config)) *harness {
	tb.Helper()
	h := &harness{src: &fakeSource{}, clock: &fakeClock{t: start}, logs: &logBuffer{}, ctx: tb.Context()}
	h.rec = &recorder{now: h.clock.Now}
	cfg := Config{
		Source:  h.src,
		Deliver: h.rec.deliver,
		Now:     h.clock.Now,
		Logger:  slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	h.s = New(cfg)
	h.c = h.s.newCron()
	return h
}

func (h *harness) refresh() {
	h.s.sync(h.ctx, h.c, &h.runs)
	h.runs.Wait()
}

// fire runs subscription id's cron job, as cron does when its entry is due.
func (h *harness) fire(tb testing.TB, id int64) {
	tb.Helper()
	h.s.mu.Lock()
	st := h.s.subs[id]
	h.s.mu.Unlock()
	if st == nil || st.entry == 0 {
		tb.Fatalf("subscription %d has no cron entry", id)
	}
	h.c.Entry(st.entry).WrappedJob.Run()
}

func sub(id int64, schedule, zone string, created, last time.Time) *digest.Subscription {
	return &digest.Subscription{ID: id, Platform: digest.PlatformTelegram, ChatID: fmt.Sprint(-100 - id),
		Schedule: schedule, TimeZone: zone, CreatedAt: created, LastDigestAt: last}
}

// TestDSTExactlyOnce replays the firing times around each daylight-saving
// transition twice over (robfig's own firing times, which skip the gap and
// repeat the fall-back hour; the slots' instants; and a firing every ten
// minutes), each time twice, and then the whole sequence again with the
// clock set back. Every (subscription, local slot) must be delivered once,
// at the instant the slot runs.
func TestDSTExactlyOnce(t *testing.T) {
	ber := mustLoad(t, "Europe/Berlin")
	ny := mustLoad(t, "America/New_York")
	tests := []struct {
		name     string
		spec     string
		loc      *time.Location
		from, to time.Time
		want     []wantSlot // nil: every slot Slots lists
	}{
		{"Berlin spring forward, 02:30 skipped", "30 2 * * *", ber,
			time.Date(2026, 3, 27, 12, 0, 0, 0, ber), time.Date(2026, 3, 30, 12, 0, 0, 0, ber),
			[]wantSlot{
				{"2026-03-28T02:30[Europe/Berlin]", "2026-03-28T02:30:00+01:00"},
				{"2026-03-29T02:30[Europe/Berlin]", "2026-03-29T03:00:00+02:00"},
				{"2026-03-30T02:30[Europe/Berlin]", "2026-03-30T02:30:00+02:00"},
			}},
		{"Berlin fall back, 02:30 repeated", "30 2 * * *", ber,
			time.Date(2026, 10, 24, 12, 0, 0, 0, ber), time.Date(2026, 10, 27, 12, 0, 0, 0, ber),
			[]wantSlot{
				{"2026-10-25T02:30[Europe/Berlin]", "2026-10-25T02:30:00+02:00"},
				{"2026-10-26T02:30[Europe/Berlin]", "2026-10-26T02:30:00+01:00"},
				{"2026-10-27T02:30[Europe/Berlin]", "2026-10-27T02:30:00+01:00"},
			}},
		{"New York spring forward, 02:30 skipped", "30 2 * * *", ny,
			time.Date(2026, 3, 7, 12, 0, 0, 0, ny), time.Date(2026, 3, 9, 12, 0, 0, 0, ny),
			[]wantSlot{
				{"2026-03-08T02:30[America/New_York]", "2026-03-08T03:00:00-04:00"},
				{"2026-03-09T02:30[America/New_York]", "2026-03-09T02:30:00-04:00"},
			}},
		{"New York fall back, 01:30 repeated", "30 1 * * *", ny,
			time.Date(2026, 10, 31, 12, 0, 0, 0, ny), time.Date(2026, 11, 2, 12, 0, 0, 0, ny),
			[]wantSlot{
				{"2026-11-01T01:30[America/New_York]", "2026-11-01T01:30:00-04:00"},
				{"2026-11-02T01:30[America/New_York]", "2026-11-02T01:30:00-05:00"},
			}},
		{"Berlin spring forward, every 15 minutes", "*/15 * * * *", ber,
			time.Date(2026, 3, 29, 0, 0, 0, 0, ber), time.Date(2026, 3, 29, 5, 0, 0, 0, ber), nil},
		{"Berlin fall back, every 15 minutes", "*/15 * * * *", ber,
			time.Date(2026, 10, 25, 0, 0, 0, 0, ber), time.Date(2026, 10, 25, 5, 0, 0, 0, ber), nil},
		{"New York spring forward, every 30 minutes", "*/30 * * * *", ny,
			time.Date(2026, 3, 8, 0, 0, 0, 0, ny), time.Date(2026, 3, 8, 5, 0, 0, 0, ny), nil},
		{"New York fall back, every 30 minutes", "*/30 * * * *", ny,
			time.Date(2026, 11, 1, 0, 0, 0, 0, ny), time.Date(2026, 11, 1, 4, 0, 0, 0, ny), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == nil {
				want = slotsOf(t, tt.spec, tt.loc, tt.from, tt.to)
			}
			h := newHarness(t, tt.from, nil)
			h.src.set(sub(1, tt.spec, tt.loc.String(), tt.from, tt.from))
			h.refresh()

			firings := firingTimes(t, tt.spec, tt.loc, tt.from, tt.to)
			for pass := range 2 {
				for i, at := range firings {
					h.clock.set(at)
					h.fire(t, 1)
					h.fire(t, 1)
					if i%7 == 0 {
						h.refresh()
					}
				}
				if pass == 0 {
					h.clock.set(tt.from) // the clock steps back
					h.refresh()
				}
			}

			var got []wantSlot
			for _, d := range h.rec.deliveries() {
				got = append(got, wantSlot{d.key, d.at.In(tt.loc).Format(time.RFC3339)})
				if d.when.Before(d.at) || d.when.Sub(d.at) > 0 {
					t.Errorf("%s delivered at %s, want exactly when it runs", d.key, d.when.In(tt.loc))
				}
			}
			sameSlots(t, got, want)
		})
	}
}

// firingTimes lists, sorted and with duplicates, the instants in (from, to]
// at which cron might fire: robfig's own schedule in the zone, the slots'
// instants, and every ten minutes.
func firingTimes(tb testing.TB, spec string, loc *time.Location, from, to time.Time) []time.Time {
	tb.Helper()
	c, err := compile(spec)
	if err != nil {
		tb.Fatal(err)
	}
	robfig := *c.naive
	robfig.Location = loc
	var out []time.Time
	for at := robfig.Next(from); !at.After(to); at = robfig.Next(at) {
		out = append(out, at)
	}
	ss, err := Slots(spec, loc, from, to)
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range ss {
		out = append(out, s.At)
	}
	for at := from.Truncate(10 * time.Minute); !at.After(to); at = at.Add(10 * time.Minute) {
		if at.After(from) {
			out = append(out, at)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

func TestCatchUp(t *testing.T) {
	ber := mustLoad(t, "Europe/Berlin")
	day := func(d, h, m int) time.Time { return time.Date(2026, 5, d, h, m, 0, 0, ber) }

	t.Run("missed slot within grace is delivered once", func(t *testing.T) {
		h := newHarness(t, day(2, 11, 0), nil) // three hours late
		h.src.set(sub(1, "0 8 * * *", "Europe/Berlin", day(1, 0, 0), day(1, 8, 0).Add(3*time.Second)))
		h.refresh()
		h.refresh()
		h.fire(t, 1)
		assertKeys(t, h.rec.deliveries(), "2026-05-02T08:00[Europe/Berlin]")
		if d := h.rec.deliveries(); !d[0].when.Equal(day(2, 11, 0)) {
			t.Errorf("delivered at %s, want at start", d[0].when)
		}
	})

	t.Run("missed slot older than grace is skipped and logged", func(t *testing.T) {
		h := newHarness(t, day(2, 14, 1), nil) // six hours and a minute late
		h.src.set(sub(1, "0 8 * * *", "Europe/Berlin", day(1, 0, 0), day(1, 8, 0)))
		h.refresh()
		assertKeys(t, h.rec.deliveries())
		lines := h.logs.lines("older than the grace period", "subscription_id=1", "slots=1",
			"first_slot=2026-05-02T08:00[Europe/Berlin]", "last_slot=2026-05-02T08:00[Europe/Berlin]")
		if len(lines) != 1 {
			t.Errorf("want one log line for the skipped slot; log:\n%s", h.logs)
		}
		// The next slot is delivered as usual, and the skip is not logged again.
		h.clock.set(day(3, 8, 0))
		h.fire(t, 1)
		h.refresh()
		assertKeys(t, h.rec.deliveries(), "2026-05-03T08:00[Europe/Berlin]")
		if n := len(h.logs.lines("older than the grace period")); n != 1 {
			t.Errorf("skip logged %d times", n)
		}
	})

	t.Run("grace boundary", func(t *testing.T) {
		h := newHarness(t, day(2, 13, 59), nil)
		h.src.set(sub(1, "0 8 * * *", "Europe/Berlin", day(1, 0, 0), day(1, 8, 0)))
		h.refresh()
		assertKeys(t, h.rec.deliveries(), "2026-05-02T08:00[Europe/Berlin]")
	})

	t.Run("several missed: older skipped, the latest delivered, the rest superseded", func(t *testing.T) {
		h := newHarness(t, time.Date(2026, 5, 1, 10, 30, 0, 0, time.UTC), nil)
		h.src.set(sub(7, "hourly", "", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)))
		h.refresh()
		assertKeys(t, h.rec.deliveries(), "2026-05-01T10:00[UTC]")
		if len(h.logs.lines("older than the grace period", "slots=4", "first_slot=2026-05-01T01:00[UTC]", "last_slot=2026-05-01T04:00[UTC]")) != 1 {
			t.Errorf("want one line for 01:00..04:00 skipped as too old; log:\n%s", h.logs)
		}
		for _, hh := range []string{"05", "06", "07", "08", "09"} {
			if len(h.logs.lines("a later slot is due", "slot=2026-05-01T"+hh+":00[UTC]", "delivered_instead=2026-05-01T10:00[UTC]")) != 1 {
				t.Errorf("slot %s:00 not logged as superseded; log:\n%s", hh, h.logs)
			}
		}
	})

	t.Run("never delivered: catch up from creation", func(t *testing.T) {
		h := newHarness(t, day(2, 9, 0), nil)
		h.src.set(sub(1, "0 8 * * *", "Europe/Berlin", day(2, 7, 0), time.Time{}))
		h.refresh()
		assertKeys(t, h.rec.deliveries(), "2026-05-02T08:00[Europe/Berlin]")
	})

	t.Run("created after the slot: nothing to catch up", func(t *testing.T) {
		h := newHarness(t, day(2, 9, 0), nil)
		h.src.set(sub(1, "0 8 * * *", "Europe/Berlin", day(2, 8, 30), time.Time{}))
		h.refresh()
		assertKeys(t, h.rec.deliveries())
	})

	t.Run("a digest built elsewhere covers earlier slots", func(t *testing.T) {
		h := newHarness(t, day(2, 7, 0), nil)
		s := sub(1, "0 8 * * *", "Europe/Berlin", day(1, 0, 0), day(1, 8, 0))
		h.src.set(s)
		h.refresh()
		s.LastDigestAt = day(2, 8, 0).Add(time.Second) // another replica delivered 08:00
		h.src.set(s)
		h.clock.set(day(2, 8, 1))
		h.refresh()
		h.fire(t, 1)
		assertKeys(t, h.rec.deliveries())
	})
}

func assertKeys(tb testing.TB, got []delivery, want ...string) {
	tb.Helper()
	var keys []string
	for _, d := range got {
		keys = append(keys, d.key)
	}
	if !slices.Equal(keys, want) {
		tb.Errorf("delivered %v, want %v", keys, want)
	}
}

func TestScheduleChanges(t *testing.T) {
	ber := mustLoad(t, "Europe/Berlin")
	day := func(d, h, m int) time.Time { return time.Date(2026, 5, d, h, m, 0, 0, ber) }

	t.Run("a changed schedule does not deliver its past slots", func(t *testing.T) {
		h := newHarness(t, day(2, 7, 30), nil)
		s := sub(1, "0 9 * * *", "Europe/Berlin", day(1, 0, 0), day(1, 9, 0))
		h.src.set(s)
		h.refresh()
		s.Schedule = "0 7 * * *" // changed at 07:45: 07:00 today was never promised
		h.src.set(s)
		h.clock.set(day(2, 7, 46))
		h.refresh()
		h.fire(t, 1)
		assertKeys(t, h.rec.deliveries())
		h.clock.set(day(3, 7, 0))
		h.fire(t, 1)
		assertKeys(t, h.rec.deliveries(), "2026-05-03T07:00[Europe/Berlin]")
	})

	t.Run("a changed time zone moves the slots", func(t *testing.T) {
		h := newHarness(t, day(2, 7, 30), nil)
		s := sub(1, "0 8 * * *", "Europe/Berlin", day(1, 0, 0), day(1, 8, 0))
		h.src.set(s)
		h.refresh()
		s.TimeZone = "America/New_York"
		h.src.set(s)
		h.refresh()
		h.clock.set(day(2, 8, 0)) // 08:00 Berlin is 02:00 in New York: nothing
		h.fire(t, 1)
		h.clock.set(time.Date(2026, 5, 2, 8, 0, 0, 0, mustLoad(t, "America/New_York")))
		h.fire(t, 1)
		assertKeys(t, h.rec.deliveries(), "2026-05-02T08:00[America/New_York]")
	})

	t.Run("a removed subscription is not delivered", func(t *testing.T) {
		h := newHarness(t, day(2, 7, 30), nil)
		h.src.set(sub(1, "0 8 * * *", "Europe/Berlin", day(1, 0, 0), day(1, 8, 0)))
		h.refresh()
		h.s.mu.Lock()
		st := h.s.subs[1]
		h.s.mu.Unlock()
		h.src.set()
		h.refresh()
		if n := len(h.c.Entries()); n != 0 {
			t.Errorf("%d cron entries left", n)
		}
		h.clock.set(day(2, 8, 0))
		h.s.runDue(h.ctx, st) // a run cron started just before the removal
		h.refresh()
		assertKeys(t, h.rec.deliveries())
	})

	t.Run("unusable schedules and zones are logged once and skipped", func(t *testing.T) {
		h := newHarness(t, day(2, 7, 59), nil)
		h.src.set(
			sub(1, "every 5 minutes", "Europe/Berlin", day(1, 0, 0), day(1, 8, 0)),
			sub(2, "0 8 * * *", "Mars/Olympus", day(1, 0, 0), day(1, 8, 0)),
			sub(3, "0 8 * * *", "Europe/Berlin", day(1, 0, 0), day(1, 8, 0)),
		)
		h.refresh()
		h.clock.set(day(2, 8, 0))
		h.refresh()
		assertKeys(t, h.rec.deliveries(), "2026-05-02T08:00[Europe/Berlin]")
		for _, id := range []string{"subscription_id=1", "subscription_id=2"} {
			if n := len(h.logs.lines("schedule unusable", id)); n != 1 {
				t.Errorf("%s: logged %d times, want once; log:\n%s", id, n, h.logs)
			}
		}
	})
}

func TestDeliveryFailures(t *testing.T) {
	start := time.Date(2026, 5, 2, 8, 0, 0, 0, time.UTC)
	t.Run("a failed delivery is retried at the next refresh", func(t *testing.T) {
		h := newHarness(t, start, nil)
		const failing = 40
		h.rec.fail = func(n int, _ *digest.Subscription, _ Slot) error {
			if n <= failing {
				return errors.New("database is locked")
			}
			return nil
		}
		h.src.set(sub(1, "0 8 * * *", "", start.Add(-48*time.Hour), start.Add(-24*time.Hour)))
		for i := range failing + 2 {
			h.clock.set(start.Add(time.Duration(i) * time.Minute))
			h.refresh()
		}
		assertKeys(t, h.rec.deliveries(), "2026-05-02T08:00[UTC]")
		if h.rec.callCount() != failing+1 {
			t.Errorf("Deliver called %d times, want %d", h.rec.callCount(), failing+1)
		}
		// Logged at Error on the first failure and the 31st, not forty times.
		if got := h.logs.lines("level=ERROR", "deliver scheduled digest failed", "database is locked"); len(got) != 2 ||
			!strings.Contains(got[0], "failed_attempts=1 ") || !strings.Contains(got[1], "failed_attempts=31 ") {
			t.Errorf("failure log lines:\n%s", strings.Join(got, "\n"))
		}
		if len(h.logs.lines("delivery works again", "failed_attempts=40")) != 1 {
			t.Errorf("recovery not logged; log:\n%s", h.logs)
		}
	})
	t.Run("ECONFLICT means delivered already", func(t *testing.T) {
		h := newHarness(t, start, nil)
		h.rec.fail = func(int, *digest.Subscription, Slot) error {
			return digest.Errorf(digest.ECONFLICT, "outbox key exists")
		}
		h.src.set(sub(1, "0 8 * * *", "", start.Add(-48*time.Hour), start.Add(-24*time.Hour)))
		h.refresh()
		h.refresh()
		h.fire(t, 1)
		if h.rec.callCount() != 1 {
			t.Errorf("Deliver called %d times, want 1", h.rec.callCount())
		}
	})
	t.Run("a slot another replica delivers is looked at again, quietly", func(t *testing.T) {
		h := newHarness(t, start, nil)
		h.rec.fail = func(n int, _ *digest.Subscription, _ Slot) error {
			if n <= 2 {
				return fmt.Errorf("digest/1/2026-05-02T08:00[UTC]: %w", ErrElsewhere)
			}
			return nil
		}
		h.src.set(sub(1, "0 8 * * *", "", start.Add(-48*time.Hour), start.Add(-24*time.Hour)))
		h.refresh()
		h.fire(t, 1)
		h.refresh()
		assertKeys(t, h.rec.deliveries(), "2026-05-02T08:00[UTC]")
		if h.rec.callCount() != 3 {
			t.Errorf("Deliver called %d times, want 3", h.rec.callCount())
		}
		if got := h.logs.lines("level=ERROR"); len(got) != 0 {
			t.Errorf("another replica's work logged as an error:\n%s", strings.Join(got, "\n"))
		}
		if len(h.logs.lines("delivery works again")) != 0 {
			t.Errorf("another replica's work counted as failures; log:\n%s", h.logs)
		}
	})
	t.Run("a panic is recovered and the slot retried", func(t *testing.T) {
		// This is the chain order at work: with Recover outside
		// SkipIfStillRunning, the panic would keep the skip token and
		// the retry would be skipped.
		h := newHarness(t, start, nil)
		h.rec.fail = func(n int, _ *digest.Subscription, _ Slot) error {
			if n == 1 {
				panic("renderer bug")
			}
			return nil
		}
		h.src.set(sub(1, "0 8 * * *", "", start.Add(-48*time.Hour), start.Add(-24*time.Hour)))
		h.refresh()
		if len(h.logs.lines("level=ERROR", "cron panic", "renderer bug")) != 1 {
			t.Errorf("panic not logged; log:\n%s", h.logs)
		}
		h.refresh()
		assertKeys(t, h.rec.deliveries(), "2026-05-02T08:00[UTC]")
	})
	t.Run("a slot past grace is not retried", func(t *testing.T) {
		h := newHarness(t, start, func(c *Config) { c.Grace = time.Hour })
		h.rec.fail = func(int, *digest.Subscription, Slot) error { return errors.New("down") }
		h.src.set(sub(1, "0 8 * * *", "", start.Add(-48*time.Hour), start.Add(-24*time.Hour)))
		h.refresh()
		h.clock.set(start.Add(61 * time.Minute))
		h.refresh()
		h.refresh()
		if h.rec.callCount() != 1 {
			t.Errorf("Deliver called %d times, want 1", h.rec.callCount())
		}
		if len(h.logs.lines("older than the grace period", "first_slot=2026-05-02T08:00[UTC]")) != 1 {
			t.Errorf("give-up not logged; log:\n%s", h.logs)
		}
	})
}

func TestListFailures(t *testing.T) {
	start := time.Date(2026, 5, 2, 7, 0, 0, 0, time.UTC)
	h := newHarness(t, start, nil)
	h.src.setErr(errors.New("connection refused"))
	h.refresh()
	h.refresh()
	h.refresh()
	if n := len(h.logs.lines("level=WARN", "list scheduled subscriptions failed", "connection refused")); n != 1 {
		t.Errorf("failure logged at WARN %d times, want once; log:\n%s", n, h.logs)
	}
	h.src.setErr(nil)
	h.src.set(sub(1, "0 8 * * *", "", start.Add(-48*time.Hour), start.Add(-24*time.Hour)))
	h.clock.set(start.Add(90 * time.Minute))
	h.refresh()
	if len(h.logs.lines("works again")) != 1 {
		t.Errorf("recovery not logged; log:\n%s", h.logs)
	}
	// The first successful listing catches up from LastDigestAt.
	assertKeys(t, h.rec.deliveries(), "2026-05-02T08:00[UTC]")
}

func TestConcurrencyBound(t *testing.T) {
	start := time.Date(2026, 5, 2, 8, 0, 0, 0, time.UTC)
	h := newHarness(t, start, func(c *Config) { c.Concurrency = 2 })
	var cur, peak atomic.Int32
	h.rec.fail = func(int, *digest.Subscription, Slot) error {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		cur.Add(-1)
		return nil
	}
	var subs []*digest.Subscription
	for i := range 6 {
		subs = append(subs, sub(int64(i+1), "0 8 * * *", "", start.Add(-48*time.Hour), start.Add(-24*time.Hour)))
	}
	h.src.set(subs...)
	h.refresh()
	if n := len(h.rec.deliveries()); n != 6 {
		t.Errorf("%d deliveries, want 6", n)
	}
	if p := peak.Load(); p > 2 || p < 2 {
		t.Errorf("peak concurrency %d, want 2", p)
	}
}

// shiftedClock returns a clock running ahead of the real one so that
// target is lead away in real time.
func shiftedClock(target time.Time, lead time.Duration) func() time.Time {
	offset := time.Until(target.Add(-lead))
	return func() time.Time { return time.Now().Add(offset) }
}

// TestRunWithCron lets robfig/cron fire a real slot: the scheduler's clock
// runs ahead so that 08:00 in Berlin is 200 ms away.
func TestRunWithCron(t *testing.T) {
	ber := mustLoad(t, "Europe/Berlin")
	target := time.Date(2026, 5, 4, 8, 0, 0, 0, ber)
	now := shiftedClock(target, 200*time.Millisecond)
	src := &fakeSource{}
	src.set(sub(1, "0 8 * * *", "Europe/Berlin", target.Add(-time.Hour), time.Time{}))
	got := make(chan delivery, 10)
	s := New(Config{
		Source: src,
		Deliver: func(ctx context.Context, sub *digest.Subscription, slot Slot) error {
			got <- delivery{sub.ID, slot.Key(), slot.At, now()}
			return nil
		},
		Now:     now,
		Refresh: time.Hour, // only cron can deliver
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	select {
	case d := <-got:
		if d.key != "2026-05-04T08:00[Europe/Berlin]" || !d.at.Equal(target) {
			t.Errorf("delivered %v, want 08:00 Berlin", d)
		}
		if late := d.when.Sub(target); late < 0 || late > time.Second {
			t.Errorf("delivered %s after the slot", late)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("cron did not deliver the slot")
	}
	if err := s.Run(ctx); err == nil {
		t.Error("a second Run while running did not fail")
	}
	s.Reload() // a refresh now finds the slot handled
	select {
	case d := <-got:
		t.Errorf("delivered again: %v", d)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// TestRunReload adds a subscription to a running scheduler: Reload makes
// cron pick it up without waiting for the refresh interval.
func TestRunReload(t *testing.T) {
	target := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	now := shiftedClock(target, 300*time.Millisecond)
	src := &fakeSource{}
	got := make(chan string, 10)
	s := New(Config{
		Source: src,
		Deliver: func(ctx context.Context, sub *digest.Subscription, slot Slot) error {
			got <- slot.Key()
			return nil
		},
		Now:     now,
		Refresh: time.Hour,
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	time.Sleep(50 * time.Millisecond)
	src.set(sub(9, "daily 08:00", "", target.Add(-time.Minute), time.Time{}))
	s.Reload()
	select {
	case k := <-got:
		if k != "2026-05-04T08:00[UTC]" {
			t.Errorf("delivered %s", k)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the reloaded subscription was not delivered")
	}
	cancel()
	<-done
}

// TestRunWaitsForDeliveries checks that Run returns only after the
// deliveries under way have returned, and that their ctx is cancelled.
func TestRunWaitsForDeliveries(t *testing.T) {
	start := time.Date(2026, 5, 2, 8, 30, 0, 0, time.UTC)
	src := &fakeSource{}
	src.set(sub(1, "0 8 * * *", "", start.Add(-48*time.Hour), start.Add(-24*time.Hour)))
	started := make(chan struct{})
	var finished atomic.Bool
	s := New(Config{
		Source: src,
		Deliver: func(ctx context.Context, sub *digest.Subscription, slot Slot) error {
			close(started)
			<-ctx.Done()
			time.Sleep(50 * time.Millisecond) // finishing an in-flight write
			finished.Store(true)
			return ctx.Err()
		},
		Now: func() time.Time { return start },
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-started:
	case <-time.After(2 * time.Second):
		t.Fatal("the catch-up delivery did not start")
	}
	cancel()
	select {
	case <-done:
		if !finished.Load() {
			t.Error("Run returned before the delivery did")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestCronScheduleSkew(t *testing.T) {
	c, err := compile("0 8 * * *")
	if err != nil {
		t.Fatal(err)
	}
	target := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	cs := cronSchedule{now: shiftedClock(target, time.Minute), comp: c, loc: time.UTC}
	real := time.Now()
	next := cs.Next(real)
	if d := next.Sub(real); d < 59*time.Second || d > 61*time.Second {
		t.Errorf("next firing in %s of real time, want a minute", d)
	}
	cs.now = time.Now
	if n := cs.Next(target); !n.Equal(target.Add(24 * time.Hour)) {
		t.Errorf("Next(%s) = %s with the real clock", target, n)
	}
}

func TestNewPanicsOnWiringMistakes(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no source":      {Deliver: (&recorder{}).deliver},
		"no deliver":     {Source: &fakeSource{}},
		"negative grace": {Source: &fakeSource{}, Deliver: (&recorder{}).deliver, Grace: -time.Hour},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("New did not panic")
				}
			}()
			New(cfg)
		})
	}
}

// BenchmarkRefresh measures a refresh over 1,000 subscriptions with
// nothing due: the cost the daemon pays every Refresh interval.
func BenchmarkRefresh(b *testing.B) {
	start := time.Date(2026, 5, 2, 7, 0, 0, 0, time.UTC)
	h := newHarness(b, start, nil)
	zones := []string{"Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"}
	specs := []string{"0 8 * * *", "30 7 * * 1-5", "*/15 * * * *", "0 */6 * * *"}
	var subs []*digest.Subscription
	for i := range 1000 {
		subs = append(subs, sub(int64(i+1), specs[i%len(specs)], zones[i/len(specs)%len(zones)], start.Add(-time.Hour), start))
	}
	h.src.set(subs...)
	h.refresh()
	b.ResetTimer()
	for b.Loop() {
		h.refresh()
	}
}
