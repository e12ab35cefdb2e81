package schedule

import (
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// localLayout formats a slot's wall-clock time.
const localLayout = "2006-01-02T15:04"

// Slot is one scheduled digest: the local wall-clock time the schedule
// names, in the subscription's zone. It is the same value however often
// cron fires for it, so (subscription, Slot.Key()) is the idempotency key
// of a scheduled delivery.
//
// The wall-clock time need not exist. When a daylight-saving change skips
// it (02:30 on the night clocks spring forward from 02:00 to 03:00), the
// slot runs once, at the first instant after the gap (03:00). When a change
// repeats it (01:30 twice when New York falls back), the slot runs once,
// at the first occurrence. Wall-clock times that run at the same instant
// (every time one gap skips, and the first time after it) are one slot,
// named by the latest of them: "*/15 * * * *" has a 03:00 slot on the
// night Berlin springs forward, and no 02:00, 02:15, 02:30 or 02:45 slot.
type Slot struct {
	Local string    // the intended wall-clock time, "2006-01-02T15:04"
	Zone  string    // IANA zone name, "UTC" for UTC
	At    time.Time // the instant the slot runs, in Zone
}

// Key identifies the slot: "2026-03-29T02:30[Europe/Berlin]" (the zone in
// brackets, as RFC 9557 writes it).
func (s Slot) Key() string { return s.Local + "[" + s.Zone + "]" }

// String returns Key.
func (s Slot) String() string { return s.Key() }

// IsZero reports whether s is the zero Slot.
func (s Slot) IsZero() bool { return s.Local == "" }

// LoadLocation returns the zone a subscription's TimeZone names: an IANA
// name, or UTC for "". It returns EINVALID for unknown names and for
// "Local", which would make digests depend on the server's setting.
func LoadLocation(name string) (*time.Location, error) {
	switch name {
	case "", "UTC":
		return time.UTC, nil
	case "Local":
		return nil, digest.Errorf(digest.EINVALID, "%q is not a time zone; use an IANA name such as Europe/Berlin or America/New_York.", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, digest.Errorf(digest.EINVALID, "%q is not a known time zone; use an IANA name such as Europe/Berlin or America/New_York.", name)
	}
	return loc, nil
}

// SlotOf returns the slot of the local wall-clock time (to the minute) that
// instant t shows in loc; nil loc means UTC. Both instants of a repeated
// local time have the same slot, at the first of them. An instant only
// shows times that exist, so SlotOf cannot name a slot a gap skipped (the
// 02:30 that runs at 03:00); Slots lists a schedule's slots, those included.
func SlotOf(t time.Time, loc *time.Location) Slot {
	if loc == nil {
		loc = time.UTC
	}
	return slotAt(naive(t.In(loc)).Truncate(time.Minute), loc)
}

// Slots returns the slots of a schedule (anything Parse accepts) in zone
// loc that run in (from, to], in order. It returns nil for "off" and an
// EINVALID error for a schedule Parse refuses. The caller bounds the range:
// every slot in it is returned. Slots is what catching up after downtime
// walks.
func Slots(spec string, loc *time.Location, from, to time.Time) ([]Slot, error) {
	c, err := compile(spec)
	if err != nil {
		return nil, err
	}
	if loc == nil {
		loc = time.UTC
	}
	var out []Slot
	for at := from; ; {
		s, ok := c.next(loc, at)
		if !ok || s.At.After(to) {
			return out, nil
		}
		out = append(out, s)
		at = s.At
	}
}

// Next returns the instants, in loc, of a schedule's next n slots after
// after, for showing users when their digests will arrive; nil loc means
// UTC. It returns nil for "off" and for schedules Parse refuses.
func Next(spec string, loc *time.Location, after time.Time, n int) []time.Time {
	c, err := compile(spec)
	if err != nil {
		return nil
	}
	if loc == nil {
		loc = time.UTC
	}
	var out []time.Time
	for len(out) < n {
		s, ok := c.next(loc, after)
		if !ok {
			break
		}
		out = append(out, s.At)
		after = s.At
	}
	return out
}

// next returns the first slot that runs after instant after. Slots are the
// wall-clock times the naive (UTC) schedule lists, each mapped to the
// instant it runs by resolve; that mapping never decreases, so the first
// slot after a point is found by walking wall-clock times forward from a
// little before the wall clock at that point.
func (c *compiled) next(loc *time.Location, after time.Time) (Slot, bool) {
	if c.naive == nil {
		return Slot{}, false
	}
	// A wall-clock time w runs at an instant r with w = r + offset(r), or
	// inside a gap that starts after r; either way w is no earlier than
	// after + the smallest offset in force from then on. Offsets beyond
	// the next two days cannot matter: a slot that far away has a wall
	// clock far later than after + any offset.
	lower := time.Unix(after.Unix()+int64(minOffset(loc, after, after.Add(48*time.Hour))), 0).UTC()
	w := c.naive.Next(lower.Add(-time.Second))
	for !w.IsZero() {
		at := resolve(w, loc)
		if at.After(after) {
			// Wall-clock times inside one gap all run at its end: keep
			// the latest, so one instant is one slot.
			for {
				w2 := c.naive.Next(w)
				if w2.IsZero() || !resolve(w2, loc).Equal(at) {
					break
				}
				w = w2
			}
			return Slot{Local: w.Format(localLayout), Zone: loc.String(), At: at}, true
		}
		w = c.naive.Next(w)
	}
	return Slot{}, false
}

// slotAt returns the slot of naive wall-clock time w in loc.
func slotAt(w time.Time, loc *time.Location) Slot {
	return Slot{Local: w.Format(localLayout), Zone: loc.String(), At: resolve(w, loc)}
}

// naive returns t's wall clock as the same wall clock in UTC.
func naive(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC)
}

// resolve returns the instant at which wall-clock time w (given as the
// same wall clock in UTC) runs in loc: its first occurrence if it exists,
// else the end of the gap that skips it. time.Date leaves both cases
// unspecified, so the zone's periods are walked explicitly.
func resolve(w time.Time, loc *time.Location) time.Time {
	// Offsets lie within -12h..+14h (a little more for old local mean
	// times), so every candidate instant lies in [w-15h, w+13h].
	t := w.Add(-15 * time.Hour).In(loc)
	limit := w.Add(13 * time.Hour)
	for {
		start, end := t.ZoneBounds()
		_, off := t.Zone()
		u := w.Add(-time.Duration(off) * time.Second)
		if (start.IsZero() || !u.Before(start)) && (end.IsZero() || u.Before(end)) {
			return u.In(loc)
		}
		if end.IsZero() || end.After(limit) {
			break
		}
		// The clock jumps at end from end+off to end+next: a wall
		// clock in between is skipped and runs at end.
		_, next := end.In(loc).Zone()
		if wall := end.Add(time.Duration(off) * time.Second); !w.Before(wall) && w.Before(end.Add(time.Duration(next)*time.Second)) {
			return end.In(loc)
		}
		t = end.In(loc)
	}
	// Unreachable for consistent zone data; fall back to the library.
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc)
}

// minOffset returns the smallest UTC offset, in seconds, loc uses at any
// instant in [from, to].
func minOffset(loc *time.Location, from, to time.Time) int {
	t := from.In(loc)
	_, m := t.Zone()
	for {
		_, end := t.ZoneBounds()
		if end.IsZero() || end.After(to) {
			return m
		}
		t = end.In(loc)
		_, off := t.Zone()
		m = min(m, off)
	}
}
