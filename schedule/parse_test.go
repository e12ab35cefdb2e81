package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in, cron, desc string
	}{
		// Cron lines.
		{"30 7 * * 1-5", "30 7 * * 1-5", "every weekday at 07:30"},
		{"  30   7 * *   MON-FRI ", "30 7 * * 1-5", "every weekday at 07:30"},
		{"0 8 * * *", "0 8 * * *", "every day at 08:00"},
		{"*/15 * * * *", "*/15 * * * *", "every 15 minutes"},
		{"0,30 * * * *", "*/30 * * * *", "every 30 minutes"},
		{"0 9 * * 7", "0 9 * * 0", "every Sunday at 09:00"},
		{"0 9 * * 5-7", "0 9 * * 0,5,6", "every Friday, Saturday and Sunday at 09:00"},
		{"0 9 * * 1-7", "0 9 * * 0-6", "every day at 09:00"},
		{"0 9 1,15 * *", "0 9 1,15 * *", "on the 1st and 15th of every month at 09:00"},
		{"0 9 1 * 1", "0 9 1 * 1", "on the 1st of the month and every Monday at 09:00"},
		{"0 9 1 * 0-6", "0 9 1 * 0-6", "every day at 09:00"},
		{"0 9 1-31 * 1", "0 9 1-31 * 1", "every day at 09:00"},
		{"0 12 * jan,jul *", "0 12 * 1,7 *", "every day in January and July at 12:00"},
		{"0 0 29 2 *", "0 0 29 2 *", "on the 29th of February at 00:00"},
		{"0 8-18 * * 1-5", "0 8-18 * * 1-5", "every hour from 08:00 to 18:00 on weekdays"},
		{"*/30 8-18 * * 1-5", "*/30 8-18 * * 1-5", "every 30 minutes from 08:00 to 18:30 on weekdays"},
		{"0 8-20/4 * * *", "0 8-20/4 * * *", "every day at 08:00, 12:00, 16:00 and 20:00"},
		{"0 6-22/2 * * 1-5", "0 6-22/2 * * 1-5", "every 2 hours from 06:00 to 22:00 on weekdays"},
		{"0 10/5 * * *", "0 10,15,20 * * *", "every day at 10:00, 15:00 and 20:00"},
		{"0 */2 * * *", "0 */2 * * *", "every 2 hours from 00:00"},
		{"15 * * * *", "15 * * * *", "every hour at :15"},
		{"5,55 0,23 * * 1", "5,55 0,23 * * 1", "every Monday at 00:05, 00:55, 23:05 and 23:55"},
		{"0 9 ? * 1-5", "0 9 * * 1-5", "every weekday at 09:00"},
		// Descriptors.
		{"@hourly", "0 * * * *", "every hour"},
		{"@daily", "0 0 * * *", "every day at 00:00"},
		{"@midnight", "0 0 * * *", "every day at 00:00"},
		{"@weekly", "0 0 * * 0", "every Sunday at 00:00"},
		{"@monthly", "0 0 1 * *", "on the 1st of every month at 00:00"},
		{"@yearly", "0 0 1 1 *", "on the 1st of January at 00:00"},
		{"@annually", "0 0 1 1 *", "on the 1st of January at 00:00"},
		{"@every 6h", "0 */6 * * *", "every 6 hours (00:00, 06:00, 12:00 and 18:00)"},
		{"@every 30m", "*/30 * * * *", "every 30 minutes"},
		{"@every 1h", "0 * * * *", "every hour"},
		{"@every 24h", "0 0 * * *", "every day at 00:00"},
		// Plain forms.
		{"daily 08:00", "0 8 * * *", "every day at 08:00"},
		{"Daily at 8:00", "0 8 * * *", "every day at 08:00"},
		{"every day at 7.45", "45 7 * * *", "every day at 07:45"},
		{"08:00", "0 8 * * *", "every day at 08:00"},
		{"7am", "0 7 * * *", "every day at 07:00"},
		{"6:30 pm", "30 18 * * *", "every day at 18:30"},
		{"12am", "0 0 * * *", "every day at 00:00"},
		{"12pm", "0 12 * * *", "every day at 12:00"},
		{"noon", "0 12 * * *", "every day at 12:00"},
		{"weekdays 07:30", "30 7 * * 1-5", "every weekday at 07:30"},
		{"every weekday at 07:30", "30 7 * * 1-5", "every weekday at 07:30"},
		{"weekends 10:00", "0 10 * * 0,6", "every Saturday and Sunday at 10:00"},
		{"monday 09:00", "0 9 * * 1", "every Monday at 09:00"},
		{"mondays at 9am", "0 9 * * 1", "every Monday at 09:00"},
		{"mon,thu 18:15", "15 18 * * 1,4", "every Monday and Thursday at 18:15"},
		{"Mon, Thu 18:15", "15 18 * * 1,4", "every Monday and Thursday at 18:15"},
		{"monday and thursday at 18:15", "15 18 * * 1,4", "every Monday and Thursday at 18:15"},
		{"tue-fri 08:00", "0 8 * * 2-5", "every Tuesday to Friday at 08:00"},
		{"fri-mon 9am", "0 9 * * 0,1,5,6", "every Monday, Friday, Saturday and Sunday at 09:00"},
		{"saturday sunday 10:00", "0 10 * * 0,6", "every Saturday and Sunday at 10:00"},
		{"twice daily 08:00 18:00", "0 8,18 * * *", "every day at 08:00 and 18:00"},
		{"twice a day at 8am and 6pm", "0 8,18 * * *", "every day at 08:00 and 18:00"},
		{"daily 08:00, 14:00, 20:00", "0 8,14,20 * * *", "every day at 08:00, 14:00 and 20:00"},
		{"weekdays 08:30 12:30", "30 8,12 * * 1-5", "every weekday at 08:30 and 12:30"},
		{"daily 08:00 08:30 18:00 18:30", "*/30 8,18 * * *", "every day at 08:00, 08:30, 18:00 and 18:30"},
		{"every 6h", "0 */6 * * *", "every 6 hours (00:00, 06:00, 12:00 and 18:00)"},
		{"every 2 hours", "0 */2 * * *", "every 2 hours from 00:00"},
		{"every 12 hours", "0 */12 * * *", "every 12 hours (00:00 and 12:00)"},
		{"every 30m", "*/30 * * * *", "every 30 minutes"},
		{"every 15 minutes", "*/15 * * * *", "every 15 minutes"},
		{"every 20 min", "*/20 * * * *", "every 20 minutes"},
		{"hourly", "0 * * * *", "every hour"},
		{"every hour", "0 * * * *", "every hour"},
		// Off.
		{"off", "", "off"},
		{"OFF", "", "off"},
		{"none", "", "off"},
		{"never", "", "off"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got.Cron != tt.cron || got.Description != tt.desc {
				t.Errorf("Parse(%q) = {%q, %q}, want {%q, %q}", tt.in, got.Cron, got.Description, tt.cron, tt.desc)
			}
			if got.Off() != (tt.cron == "") {
				t.Errorf("Off() = %v for %q", got.Off(), got.Cron)
			}
			if got.Off() {
				return
			}
			// What the store keeps must read back as the same schedule.
			again, err := Parse(got.Cron)
			if err != nil {
				t.Fatalf("Parse(normalised %q): %v", got.Cron, err)
			}
			if again != got {
				t.Errorf("Parse(%q) = %+v, want %+v (normalised form not stable)", got.Cron, again, got)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // substrings of the message
	}{
		{"empty", "   ", []string{"empty"}},
		{"gibberish", "whenever you like", []string{`could not read "whenever" in "whenever you like" as a time of day`}},
		{"days without time", "weekdays", []string{"says which days but not when", "weekdays 07:30"}},
		{"daily without time", "daily", []string{"says which days but not when"}},
		{"hour out of range", "daily 25:00", []string{`"25:00"`, "time of day"}},
		{"minute out of range", "daily 08:60", []string{`"08:60"`}},
		{"bad am", "daily 13pm", []string{`"13pm"`}},
		{"times before days", "08:00 monday", []string{"put the days before the times"}},
		{"mixed minutes", "daily 08:00 18:30", []string{"must share their minutes"}},
		{"twice with one time", "twice daily 08:00", []string{"exactly two times"}},
		{"twice with days", "twice daily monday 08:00 18:00", []string{"takes two times"}},
		{"twice alone", "twice 08:00 18:00", []string{"twice daily 08:00 18:00"}},
		{"seconds", "0 30 7 * * 1-5", []string{"seconds", "five"}},
		{"quartz with year", "0 30 7 * * ? 2026", []string{"seconds (or years)"}},
		{"four fields", "30 7 * * ", []string{"could not read"}},
		{"cron out of range", "0 24 * * *", []string{"not a valid cron line", "above maximum"}},
		{"cron garbage", "0 8 * * funday", []string{"not a valid cron line"}},
		{"empty field", "0 0 1 1 ,", []string{"no values in its day-of-week field"}},
		{"cron step zero", "*/0 * * * *", []string{"not a valid cron line"}},
		{"every minute cron", "* * * * *", []string{"every 1 minutes at its busiest", "every 15 minutes"}},
		{"every 5 minutes cron", "*/5 * * * *", []string{"every 5 minutes", "at most every 15 minutes"}},
		{"close times", "0,10 8 * * *", []string{"every 10 minutes at its busiest"}},
		{"close across midnight", "5,55 0,23 * * *", []string{"every 10 minutes at its busiest"}},
		{"every 5 minutes", "every 5 minutes", []string{"more often than a digest may run", "15 minutes"}},
		{"every minute", "every minute", []string{"more often than a digest may run"}},
		{"every 45m", "every 45m", []string{"cannot be kept on the clock", "15, 20, 30"}},
		{"every 5h", "every 5h", []string{"cannot be kept on the clock"}},
		{"every 0h", "every 0h", []string{"between 15 minutes and 24 hours"}},
		{"every 36 hours", "every 36 hours", []string{"cannot be kept on the clock"}},
		{"@every seconds", "@every 30s", []string{"more often than a digest may run"}},
		{"@every garbage", "@every often", []string{"not a duration"}},
		{"@every 90m", "@every 90m", []string{"cannot be kept on the clock"}},
		{"unknown descriptor", "@fortnightly", []string{"not a known descriptor"}},
		{"reboot", "@reboot", []string{"not a known descriptor"}},
		{"never runs", "0 0 30 2 *", []string{"never runs", "30 February"}},
		{"31 April", "0 0 31 4 *", []string{"never runs"}},
		{"TZ prefix", "TZ=Europe/Berlin 0 8 * * *", []string{"/timezone"}},
		{"CRON_TZ prefix", "CRON_TZ=America/New_York 0 8 * * *", []string{"/timezone"}},
		{"TZ at the end", "0 8 * * * TZ=UTC", []string{"/timezone"}},
		{"bare TZ (panics in robfig)", "TZ=UTC", []string{"/timezone"}},
		{"too long", "daily " + strings.Repeat("08:00 ", 50), []string{"too long"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tt.in, spec)
			}
			var de *digest.Error
			if !errors.As(err, &de) || de.Code != digest.EINVALID {
				t.Fatalf("Parse(%q) error %v (%T), want a *digest.Error with code EINVALID", tt.in, err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(de.Message, w) {
					t.Errorf("message %q lacks %q", de.Message, w)
				}
			}
			if !strings.Contains(de.Message, Usage) {
				t.Errorf("message %q does not show the accepted forms", de.Message)
			}
		})
	}
}

// robfig/cron's parser slices out of range on a TZ= prefix without a
// following space; parseCron must turn that into an error. Parse rejects
// TZ prefixes before robfig sees them, so this calls parseCron directly.
func TestParseCronRecoversPanic(t *testing.T) {
	for _, in := range []string{"TZ=UTC", "CRON_TZ="} {
		s, err := parseCron(in)
		if err == nil || s != nil {
			t.Errorf("parseCron(%q) = %v, %v; want an error", in, s, err)
		}
	}
}

func TestSundaySeven(t *testing.T) {
	tests := []struct{ in, want string }{
		{"7", "0"},
		{"1-7", "1-6,0"},
		{"5-7,3", "5-6,0,3"},
		{"7-7", "0"},
		{"1-5", "1-5"},
		{"*/7", "*/7"}, // a step is left to robfig (here: Sunday only)
		{"sun", "sun"},
	}
	for _, tt := range tests {
		if got := sundaySeven(tt.in); got != tt.want {
			t.Errorf("sundaySeven(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRenderFieldRoundTrip(t *testing.T) {
	// Every rendering must parse back to the same bits, star included:
	// "1-31" and "*" differ when both day fields are restricted.
	for _, expr := range []string{
		"1-31 * * * *", "0 9 1-31 * 1", "0 9 * * 0-6", "0 9 1 * *", "*/20 * * * *", "10/20 * * * *",
		"0-40/20 * * * *", "0,45 * * * *", "0 0,12 * * *", "0 0 1,7 * *", "0 0 * 1,7 *", "0 1,2,3,5 * * *",
	} {
		s, err := parseCron(expr)
		if err != nil {
			t.Fatalf("parseCron(%q): %v", expr, err)
		}
		out := normalise(s)
		back, err := parseCron(out)
		if err != nil {
			t.Fatalf("normalise(%q) = %q, which does not parse: %v", expr, out, err)
		}
		back.Location = s.Location
		if *back != *s {
			t.Errorf("normalise(%q) = %q, which parses to %+v, want %+v", expr, out, *back, *s)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"30 7 * * 1-5", "@daily", "@every 6h", "daily 08:00", "weekdays 07:30", "weekends 10:00",
		"monday 09:00", "mon,thu 18:15", "every 6h", "hourly", "twice daily 08:00 18:00", "off",
		"TZ=UTC", "CRON_TZ=x 0 0 * * *", "0 30 7 * * *", "*/5 * * * *", "0 0 30 2 *", "6:30 pm",
		"fri-mon 9am", "0 9 * * 5-7", "1-5/2 */3 1,15 jan-mar sun", "@every 90m", "every 45 minutes",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		spec, err := Parse(in)
		if err != nil {
			var de *digest.Error
			if !errors.As(err, &de) || de.Code != digest.EINVALID || de.Message == "" {
				t.Fatalf("Parse(%q) error %v, want EINVALID with a message", in, err)
			}
			return
		}
		if spec.Description == "" {
			t.Fatalf("Parse(%q) = %+v without a description", in, spec)
		}
		if spec.Off() {
			return
		}
		again, err := Parse(spec.Cron)
		if err != nil || again != spec {
			t.Fatalf("Parse(%q) = %+v, but its normalised form reads back as %+v, %v", in, spec, again, err)
		}
		// Independent check of the frequency rule on the wall clock: the
		// next runs are at least MinInterval apart.
		c, err := compile(spec.Cron)
		if err != nil {
			t.Fatal(err)
		}
		prev := c.naive.Next(reference)
		for range 200 {
			next := c.naive.Next(prev)
			if next.IsZero() {
				break
			}
			if next.Sub(prev) < MinInterval {
				t.Fatalf("Parse(%q) = %q runs at %s and %s", in, spec.Cron, prev, next)
			}
			prev = next
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for _, in := range []string{"30 7 * * 1-5", "twice daily 08:00 18:00", "*/15 8-18 * * 1-5"} {
		b.Run(in, func(b *testing.B) {
			for b.Loop() {
				if _, err := Parse(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func mustLoad(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatalf("load %s: %v", name, err)
	}
	return loc
}
