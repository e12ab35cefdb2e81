package schedule

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/seed-c50b6fda/herald/digest"
)

// The transitions the tests use (2026):
//
//	Europe/Berlin     29 Mar 02:00 CET -> 03:00 CEST;  25 Oct 03:00 CEST -> 02:00 CET
//	America/New_York   8 Mar 02:00 EST -> 03:00 EDT;    1 Nov 02:00 EDT -> 01:00 EST

func TestSlotOfAndResolve(t *testing.T) {
	ber := mustLoad(t, "Europe/Berlin")
	ny := mustLoad(t, "America/New_York")
	howe := mustLoad(t, "Australia/Lord_Howe") // half-hour daylight saving
	apia := mustLoad(t, "Pacific/Apia")        // skipped 30 December 2011 entirely
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name  string
		wall  string // naive local wall clock
		loc   *time.Location
		runAt time.Time
	}{
		{"Berlin ordinary winter", "2026-01-15T08:00", ber, utc("2026-01-15T07:00:00Z")},
		{"Berlin spring gap runs at 03:00", "2026-03-29T02:30", ber, utc("2026-03-29T01:00:00Z")},
		{"Berlin spring gap start", "2026-03-29T02:00", ber, utc("2026-03-29T01:00:00Z")},
		{"Berlin just before the gap", "2026-03-29T01:59", ber, utc("2026-03-29T00:59:00Z")},
		{"Berlin after the gap", "2026-03-29T03:00", ber, utc("2026-03-29T01:00:00Z")},
		{"Berlin fall repeat runs at the first", "2026-10-25T02:30", ber, utc("2026-10-25T00:30:00Z")},
		{"Berlin fall repeat start", "2026-10-25T02:00", ber, utc("2026-10-25T00:00:00Z")},
		{"Berlin after the repeat", "2026-10-25T03:00", ber, utc("2026-10-25T02:00:00Z")},
		{"New York spring gap", "2026-03-08T02:30", ny, utc("2026-03-08T07:00:00Z")},
		{"New York fall repeat", "2026-11-01T01:30", ny, utc("2026-11-01T05:30:00Z")},
		{"New York after the repeat", "2026-11-01T02:00", ny, utc("2026-11-01T07:00:00Z")},
		{"Lord Howe half-hour gap", "2026-10-04T02:15", howe, utc("2026-10-03T15:30:00Z")},
		{"Lord Howe half-hour repeat", "2026-04-05T01:45", howe, utc("2026-04-04T14:45:00Z")},
		{"Apia skipped day", "2011-12-30T08:00", apia, utc("2011-12-30T10:00:00Z")},
		{"UTC", "2026-03-29T02:30", time.UTC, utc("2026-03-29T02:30:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := time.Parse(localLayout, tt.wall)
			if err != nil {
				t.Fatal(err)
			}
			got := resolve(w, tt.loc)
			if !got.Equal(tt.runAt) {
				t.Errorf("resolve(%s, %s) = %s, want %s", tt.wall, tt.loc, got, tt.runAt.In(tt.loc))
			}
			if got.Location() != tt.loc {
				t.Errorf("resolve returned a time in %s, want %s", got.Location(), tt.loc)
			}
			// Every instant showing this wall clock has this slot.
			for _, d := range []time.Duration{0, time.Hour, 30 * time.Minute} {
				at := tt.runAt.Add(d)
				if naive(at.In(tt.loc)).Format(localLayout) != tt.wall {
					continue
				}
				if s := SlotOf(at, tt.loc); s.Local != tt.wall || !s.At.Equal(tt.runAt) {
					t.Errorf("SlotOf(%s) = %+v, want %s at %s", at.In(tt.loc), s, tt.wall, tt.runAt)
				}
			}
		})
	}
}

// TestSlotOfProperty checks on random instants that SlotOf names the wall
// clock the instant shows and runs at its first occurrence, no later than
// the instant.
func TestSlotOfProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	end := time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for _, name := range []string{"Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago", "Pacific/Chatham"} {
		loc := mustLoad(t, name)
		for range 1000 {
			at := time.Unix(start+r.Int64N(end-start), 0)
			s := SlotOf(at, loc)
			if want := naive(at.In(loc)).Format(localLayout); s.Local != want {
				t.Fatalf("%s: SlotOf(%s).Local = %s, want %s", name, at.In(loc), s.Local, want)
			}
			if s.At.After(at) || naive(s.At.In(loc)).Format(localLayout) != s.Local {
				t.Fatalf("%s: SlotOf(%s) runs at %s", name, at.In(loc), s.At)
			}
			// First occurrence: an hour earlier the clock did not show it.
			if earlier := s.At.Add(-time.Hour); naive(earlier.In(loc)).Format(localLayout) == s.Local {
				t.Fatalf("%s: %s also shows %s an hour earlier", name, s.At, s.Local)
			}
		}
	}
}

func TestSlotKey(t *testing.T) {
	ber := mustLoad(t, "Europe/Berlin")
	s := SlotOf(time.Date(2026, 3, 28, 2, 30, 0, 0, ber), ber)
	if got, want := s.Key(), "2026-03-28T02:30[Europe/Berlin]"; got != want || s.String() != want {
		t.Errorf("Key() = %q, want %q", got, want)
	}
	if s.IsZero() || !(Slot{}).IsZero() {
		t.Error("IsZero is wrong")
	}
	if got := SlotOf(time.Date(2026, 3, 28, 2, 30, 0, 0, time.UTC), nil).Key(); got != "2026-03-28T02:30[UTC]" {
		t.Errorf("nil location: %q", got)
	}
}

type wantSlot struct {
	key string
	at  string // RFC 3339 with the zone's offset
}

func slotsOf(tb testing.TB, spec string, loc *time.Location, from, to time.Time) []wantSlot {
	tb.Helper()
	ss, err := Slots(spec, loc, from, to)
	if err != nil {
		tb.Fatal(err)
	}
	var out []wantSlot
	for _, s := range ss {
		out = append(out, wantSlot{s.Key(), s.At.Format(time.RFC3339)})
	}
	return out
}

func sameSlots(tb testing.TB, got, want []wantSlot) {
	tb.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		tb.Errorf("slots\n got %v\nwant %v", got, want)
	}
}

func TestSlotsAcrossDST(t *testing.T) {
	ber := mustLoad(t, "Europe/Berlin")
	ny := mustLoad(t, "America/New_York")
	tests := []struct {
		name     string
		spec     string
		loc      *time.Location
		from, to time.Time
		want     []wantSlot
	}{
		{"Berlin spring, 02:30 daily", "30 2 * * *", ber,
			time.Date(2026, 3, 27, 12, 0, 0, 0, ber), time.Date(2026, 3, 30, 12, 0, 0, 0, ber),
			[]wantSlot{
				{"2026-03-28T02:30[Europe/Berlin]", "2026-03-28T02:30:00+01:00"},
				{"2026-03-29T02:30[Europe/Berlin]", "2026-03-29T03:00:00+02:00"},
				{"2026-03-30T02:30[Europe/Berlin]", "2026-03-30T02:30:00+02:00"},
			}},
		{"Berlin fall, 02:30 daily", "30 2 * * *", ber,
			time.Date(2026, 10, 24, 12, 0, 0, 0, ber), time.Date(2026, 10, 26, 12, 0, 0, 0, ber),
			[]wantSlot{
				{"2026-10-25T02:30[Europe/Berlin]", "2026-10-25T02:30:00+02:00"},
				{"2026-10-26T02:30[Europe/Berlin]", "2026-10-26T02:30:00+01:00"},
			}},
		{"New York spring, 02:30 daily", "30 2 * * *", ny,
			time.Date(2026, 3, 7, 12, 0, 0, 0, ny), time.Date(2026, 3, 9, 12, 0, 0, 0, ny),
			[]wantSlot{
				{"2026-03-08T02:30[America/New_York]", "2026-03-08T03:00:00-04:00"},
				{"2026-03-09T02:30[America/New_York]", "2026-03-09T02:30:00-04:00"},
			}},
		{"New York fall, 01:30 daily", "30 1 * * *", ny,
			time.Date(2026, 10, 31, 12, 0, 0, 0, ny), time.Date(2026, 11, 2, 12, 0, 0, 0, ny),
			[]wantSlot{
				{"2026-11-01T01:30[America/New_York]", "2026-11-01T01:30:00-04:00"},
				{"2026-11-02T01:30[America/New_York]", "2026-11-02T01:30:00-05:00"},
			}},
		// Every quarter hour through the gap: the four skipped times
		// and 03:00 would all run at 03:00; one instant is one slot.
		{"Berlin spring, every 15 minutes", "*/15 * * * *", ber,
			time.Date(2026, 3, 29, 1, 30, 0, 0, ber), time.Date(2026, 3, 29, 3, 15, 0, 0, ber),
			[]wantSlot{
				{"2026-03-29T01:45[Europe/Berlin]", "2026-03-29T01:45:00+01:00"},
				{"2026-03-29T03:00[Europe/Berlin]", "2026-03-29T03:00:00+02:00"},
				{"2026-03-29T03:15[Europe/Berlin]", "2026-03-29T03:15:00+02:00"},
			}},
		// Through the repeated hour: 01:00..01:45 run in EDT only; the
		// clock then shows them again in EST, and nothing runs until
		// 02:00 EST.
		{"New York fall, every 30 minutes", "*/30 * * * *", ny,
			time.Date(2026, 11, 1, 0, 45, 0, 0, ny), time.Date(2026, 11, 1, 2, 30, 0, 0, ny),
			[]wantSlot{
				{"2026-11-01T01:00[America/New_York]", "2026-11-01T01:00:00-04:00"},
				{"2026-11-01T01:30[America/New_York]", "2026-11-01T01:30:00-04:00"},
				{"2026-11-01T02:00[America/New_York]", "2026-11-01T02:00:00-05:00"},
				{"2026-11-01T02:30[America/New_York]", "2026-11-01T02:30:00-05:00"},
			}},
		// from inside the repeated hour (second pass, 01:10 EST): the
		// 01:30 slot already ran at 01:30 EDT, before from.
		{"New York fall, from the second 01:10", "30 1 * * *", ny,
			time.Date(2026, 11, 1, 6, 10, 0, 0, time.UTC), time.Date(2026, 11, 2, 12, 0, 0, 0, ny),
			[]wantSlot{
				{"2026-11-02T01:30[America/New_York]", "2026-11-02T01:30:00-05:00"},
			}},
		{"range bounds: (from, to]", "0 8 * * *", ber,
			time.Date(2026, 5, 1, 8, 0, 0, 0, ber), time.Date(2026, 5, 2, 8, 0, 0, 0, ber),
			[]wantSlot{{"2026-05-02T08:00[Europe/Berlin]", "2026-05-02T08:00:00+02:00"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameSlots(t, slotsOf(t, tt.spec, tt.loc, tt.from, tt.to), tt.want)
		})
	}
}

// TestRobfigDST pins the robfig/cron behaviour that slots correct: its
// schedule evaluated in a zone skips a wall-clock time the clocks skip and
// fires twice for one they repeat. If the library changes, this fails and
// the comment on cronSchedule needs revisiting.
func TestRobfigDST(t *testing.T) {
	ber := mustLoad(t, "Europe/Berlin")
	ny := mustLoad(t, "America/New_York")
	p := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)
	runs := func(spec string, loc *time.Location, from time.Time, n int) []string {
		s, err := p.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		s.(*cron.SpecSchedule).Location = loc
		var out []string
		for t := from; len(out) < n; {
			t = s.Next(t)
			out = append(out, t.In(loc).Format(time.RFC3339))
		}
		return out
	}
	got := runs("30 2 * * *", ber, time.Date(2026, 3, 28, 12, 0, 0, 0, ber), 1)
	if got[0] != "2026-03-30T02:30:00+02:00" {
		t.Errorf("robfig spring forward: first run after 28 March is %s; it used to skip 29 March", got[0])
	}
	got = runs("30 1 * * *", ny, time.Date(2026, 10, 31, 12, 0, 0, 0, ny), 2)
	if got[0] != "2026-11-01T01:30:00-04:00" || got[1] != "2026-11-01T01:30:00-05:00" {
		t.Errorf("robfig fall back: runs %v; it used to run 01:30 twice", got)
	}
	// And slots: one run each day.
	if n := Next("30 1 * * *", ny, time.Date(2026, 10, 31, 12, 0, 0, 0, ny), 2); n[1].Format(time.RFC3339) != "2026-11-02T01:30:00-05:00" {
		t.Errorf("Next fall back = %v", n)
	}
}

func TestNext(t *testing.T) {
	tokyo := mustLoad(t, "Asia/Tokyo")
	sydney := mustLoad(t, "Australia/Sydney")
	ny := mustLoad(t, "America/New_York")
	kolkata := mustLoad(t, "Asia/Kolkata")
	tests := []struct {
		name  string
		spec  string
		loc   *time.Location
		after time.Time
		n     int
		want  []string
	}{
		{"Tokyo daily", "daily 08:00", tokyo, time.Date(2026, 1, 1, 9, 0, 0, 0, tokyo), 3,
			[]string{"2026-01-02T08:00:00+09:00", "2026-01-03T08:00:00+09:00", "2026-01-04T08:00:00+09:00"}},
		{"New York weekdays over a weekend and DST", "30 7 * * 1-5", ny, time.Date(2026, 3, 6, 8, 0, 0, 0, ny), 3,
			[]string{"2026-03-09T07:30:00-04:00", "2026-03-10T07:30:00-04:00", "2026-03-11T07:30:00-04:00"}},
		{"Sydney, DST ends 5 April", "twice daily 08:00 18:00", sydney, time.Date(2026, 4, 4, 12, 0, 0, 0, sydney), 4,
			[]string{"2026-04-04T18:00:00+11:00", "2026-04-05T08:00:00+10:00", "2026-04-05T18:00:00+10:00", "2026-04-06T08:00:00+10:00"}},
		{"Kolkata half-hour offset, every 6h", "every 6h", kolkata, time.Date(2026, 6, 1, 5, 0, 0, 0, kolkata), 3,
			[]string{"2026-06-01T06:00:00+05:30", "2026-06-01T12:00:00+05:30", "2026-06-01T18:00:00+05:30"}},
		{"nil location is UTC", "@weekly", nil, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), 2,
			[]string{"2026-07-05T00:00:00Z", "2026-07-12T00:00:00Z"}},
		{"exactly at a slot: the next one", "0 8 * * *", tokyo, time.Date(2026, 1, 1, 8, 0, 0, 0, tokyo), 1,
			[]string{"2026-01-02T08:00:00+09:00"}},
		{"29 February", "0 0 29 2 *", time.UTC, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 2,
			[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"off", "off", tokyo, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 3, nil},
		{"invalid", "every 5 minutes", tokyo, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Next(tt.spec, tt.loc, tt.after, tt.n)
			var s []string
			for _, g := range got {
				s = append(s, g.Format(time.RFC3339))
				if want := tt.loc; want != nil && g.Location() != want {
					t.Errorf("%s is in %s, want %s", g, g.Location(), want)
				}
			}
			if fmt.Sprint(s) != fmt.Sprint(tt.want) {
				t.Errorf("Next = %v, want %v", s, tt.want)
			}
		})
	}
}

func TestSlotsErrors(t *testing.T) {
	if _, err := Slots("*/5 * * * *", time.UTC, time.Now(), time.Now().Add(time.Hour)); digest.ErrorCode(err) != digest.EINVALID {
		t.Errorf("Slots with a too frequent spec: %v, want EINVALID", err)
	}
	if ss, err := Slots("off", time.UTC, time.Now(), time.Now().Add(time.Hour)); err != nil || ss != nil {
		t.Errorf("Slots(off) = %v, %v", ss, err)
	}
}

func TestLoadLocation(t *testing.T) {
	for _, tt := range []struct {
		name, want string
		ok         bool
	}{
		{"", "UTC", true}, {"UTC", "UTC", true}, {"Europe/Berlin", "Europe/Berlin", true},
		{"Local", "", false}, {"Mars/Olympus", "", false}, {"../../etc/passwd", "", false},
	} {
		loc, err := LoadLocation(tt.name)
		switch {
		case tt.ok && (err != nil || loc.String() != tt.want):
			t.Errorf("LoadLocation(%q) = %v, %v; want %s", tt.name, loc, err, tt.want)
		case !tt.ok:
			var de *digest.Error
			if !errors.As(err, &de) || de.Code != digest.EINVALID {
				t.Errorf("LoadLocation(%q) error = %v, want EINVALID", tt.name, err)
			}
		}
	}
}

func BenchmarkNext(b *testing.B) {
	ber := mustLoad(b, "Europe/Berlin")
	c, err := compile("*/15 * * * *")
	if err != nil {
		b.Fatal(err)
	}
	after := time.Date(2026, 3, 29, 0, 0, 0, 0, ber)
	b.Run("quarter-hourly slot", func(b *testing.B) {
		for b.Loop() {
			if _, ok := c.next(ber, after); !ok {
				b.Fatal("no slot")
			}
		}
	})
	b.Run("Next 3 from text", func(b *testing.B) {
		for b.Loop() {
			if len(Next("30 7 * * 1-5", ber, after, 3)) != 3 {
				b.Fatal("short")
			}
		}
	})
}
