package schedule

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/seed-c50b6fda/herald/digest"
)

// MinInterval is the shortest time allowed between two scheduled digests. A
// digest is meant to be calm; anything more frequent is a feed, not a digest.
const MinInterval = 15 * time.Minute

// maxInput bounds what Parse reads; no schedule needs more.
const maxInput = 200

// Usage lists the accepted forms, for help texts and error messages.
const Usage = `daily 08:00 · weekdays 07:30 · weekends 10:00 · monday 09:00 · mon,thu 18:15 · ` +
	`twice daily 08:00 18:00 · every 6h · every 30m · hourly · @daily · ` +
	`a cron line such as "30 7 * * 1-5" (minute hour day month weekday) · off`

// Spec is a parsed schedule.
type Spec struct {
	// Cron is the normalised five-field cron expression, what
	// digest.Subscription.Schedule stores; empty when scheduling is off.
	Cron string
	// Description says in words when digests arrive, e.g. "every weekday
	// at 07:30", or "off".
	Description string
}

// Off reports whether the spec disables scheduled digests.
func (s Spec) Off() bool { return s.Cron == "" }

// compiled is a parsed cron expression. naive is robfig's schedule evaluated
// in UTC, which has no daylight-saving changes: its Next walks the local
// wall clock as a plain calendar, and slot.go maps each wall-clock time to
// the instant it runs in the subscription's zone.
type compiled struct {
	spec  Spec
	naive *cron.SpecSchedule
}

// cronParser reads the five standard fields. Descriptors and @every are
// translated to five fields before it sees them, and seconds are refused.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// Parse reads a schedule as users type it in /schedule and returns its
// normalised cron expression and a description. The grammar, case- and
// space-insensitive:
//
//	off | none | never                     no scheduled digest
//	M H DOM MON DOW                        a five-field cron line ("30 7 * * 1-5");
//	                                       names (mon, jan) and 7 for Sunday are accepted
//	@hourly @daily @midnight @weekly @monthly @yearly @annually
//	@every 30m | @every 6h                 an interval that divides an hour or a day
//	hourly | every hour                    at minute 0 of every hour
//	every N h | every N hours              N in 1, 2, 3, 4, 6, 8, 12, 24: at 00:00 and every N hours
//	every N m | every N minutes            N in 15, 20, 30: from minute 0 of every hour
//	[every] DAYS [at] TIMES
//	twice daily [at] TIME TIME             the same as "daily TIME TIME"
//	TIMES                                  alone: every day
//
// DAYS is daily, day, everyday, weekdays, weekends, or day names (monday,
// mon, mondays) joined by commas or "and", with ranges such as mon-fri.
// TIMES is one or more of 07:30, 7:30, 7.30, 7am, 6:30pm, noon, midnight;
// times of one schedule must share their minutes (08:00 and 18:00, not
// 08:00 and 18:30), because a cron line is every listed minute of every
// listed hour.
//
// Every error is a *digest.Error with code EINVALID and a message for the
// user that shows the accepted forms. Schedules with a seconds field, a
// time zone prefix (TZ=, CRON_TZ=; the zone is set with /timezone), that
// never run, or that run more often than every MinInterval are refused.
func Parse(text string) (Spec, error) {
	c, err := compile(text)
	if err != nil {
		return Spec{}, err
	}
	return c.spec, nil
}

// compile parses text and keeps robfig's schedule alongside the spec. A
// compiled value for "off" has a nil naive schedule.
func compile(text string) (*compiled, error) {
	in := strings.TrimSpace(text)
	switch {
	case in == "":
		return nil, invalid("The schedule is empty.")
	case len(in) > maxInput:
		return nil, invalid(fmt.Sprintf("The schedule is too long (%d characters; at most %d).", len(in), maxInput))
	}
	low := strings.ToLower(in)
	if strings.Contains(low, "tz=") { // TZ= and CRON_TZ=, wherever they are
		return nil, invalid("A schedule cannot carry a time zone; set the chat's time zone with /timezone (for example /timezone Europe/Berlin).")
	}
	switch low {
	case "off", "none", "never":
		return &compiled{spec: Spec{Description: "off"}}, nil
	}

	var expr string
	var err error
	fields := strings.Fields(low)
	switch {
	case strings.HasPrefix(low, "@"):
		expr, err = descriptor(low)
	case looksLikeCron(fields):
		expr, err = cronFields(fields)
	default:
		expr, err = plain(low)
	}
	if err != nil {
		return nil, err
	}
	naive, err := parseCron(expr)
	if err != nil {
		return nil, invalid(fmt.Sprintf("%q is not a valid cron line: %s.", in, err))
	}
	naive.Location = time.UTC
	for _, f := range []struct {
		bits uint64
		b    bound
		name string
	}{{naive.Minute, minuteB, "minute"}, {naive.Hour, hourB, "hour"}, {naive.Dom, domB, "day-of-month"}, {naive.Month, monthB, "month"}, {naive.Dow, dowB, "day-of-week"}} {
		if len(values(f.bits, f.b)) == 0 { // robfig reads "," as a field with no values
			return nil, invalid(fmt.Sprintf("%q has no values in its %s field.", in, f.name))
		}
	}
	c := &compiled{naive: naive}
	c.spec.Cron = normalise(naive)
	if err := checkRuns(in, naive); err != nil {
		return nil, err
	}
	c.spec.Description = describe(naive)
	return c, nil
}

// parseCron calls robfig's parser, which panics on some inputs (a TZ= prefix
// without a following space slices out of range); a panic becomes an error.
func parseCron(expr string) (s *cron.SpecSchedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("unreadable expression (%v)", r)
		}
	}()
	sched, err := cronParser.Parse(expr)
	if err != nil {
		return nil, err
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("unsupported schedule type %T", sched)
	}
	return spec, nil
}

// invalid returns the EINVALID error for a schedule, with the accepted forms.
func invalid(problem string) error {
	return digest.Errorf(digest.EINVALID, "%s Accepted forms: %s.", problem, Usage)
}

// looksLikeCron reports whether fields read as a cron line: five or more
// fields, the first made of cron characters only (so "daily 08:00" and
// "mon 09:00" are plain forms, while "30 7 * * 1-5" and "*/20 * * * *" are
// cron lines).
func looksLikeCron(fields []string) bool {
	if len(fields) < 5 {
		return false
	}
	return strings.Trim(fields[0], "0123456789*?/,-") == ""
}

// cronFields validates the field count and maps 7 (Sunday in Vixie cron) to
// 0, which robfig does not accept.
func cronFields(fields []string) (string, error) {
	switch n := len(fields); {
	case n == 6 || n == 7:
		return "", invalid(fmt.Sprintf("Cron lines with seconds (or years) are not supported: %q has %d fields; use five: minute hour day-of-month month day-of-week.", strings.Join(fields, " "), n))
	case n != 5:
		return "", invalid(fmt.Sprintf("A cron line has five fields (minute hour day-of-month month day-of-week); %q has %d.", strings.Join(fields, " "), n))
	}
	out := slices.Clone(fields)
	out[4] = sundaySeven(out[4])
	return strings.Join(out, " "), nil
}

// sundaySeven rewrites "7" and ranges ending in 7 ("5-7") in a day-of-week
// field to robfig's 0..6. Other uses of 7 (steps) are left to robfig, which
// reports them as out of range.
func sundaySeven(field string) string {
	parts := strings.Split(field, ",")
	for i, p := range parts {
		switch {
		case p == "7":
			parts[i] = "0"
		case strings.HasSuffix(p, "-7") && !strings.Contains(p, "/"):
			lo := strings.TrimSuffix(p, "-7")
			if lo == "7" {
				parts[i] = "0"
			} else {
				parts[i] = lo + "-6,0"
			}
		}
	}
	return strings.Join(parts, ",")
}

// descriptor translates @-forms into five fields. @every becomes a clock-
// aligned step, because a digest slot is a wall-clock time: robfig's own
// @every counts from whenever the daemon started.
func descriptor(low string) (string, error) {
	switch low {
	case "@hourly":
		return "0 * * * *", nil
	case "@daily", "@midnight":
		return "0 0 * * *", nil
	case "@weekly":
		return "0 0 * * 0", nil
	case "@monthly":
		return "0 0 1 * *", nil
	case "@yearly", "@annually":
		return "0 0 1 1 *", nil
	}
	if rest, ok := strings.CutPrefix(low, "@every"); ok {
		rest = strings.TrimSpace(rest)
		d, err := time.ParseDuration(rest)
		if err != nil {
			return "", invalid(fmt.Sprintf("%q is not a duration; write for example @every 6h or @every 30m.", rest))
		}
		return interval(d, low)
	}
	return "", invalid(fmt.Sprintf("%q is not a known descriptor (@hourly, @daily, @midnight, @weekly, @monthly, @yearly, @every 6h).", low))
}

// interval turns a period into a clock-aligned cron line, if one exists.
func interval(d time.Duration, in string) (string, error) {
	switch {
	case d < MinInterval:
		return "", invalid(fmt.Sprintf("%q is more often than a digest may run: the shortest interval is every %d minutes.", in, int(MinInterval/time.Minute)))
	case d < time.Hour && d%time.Minute == 0 && time.Hour%d == 0:
		return fmt.Sprintf("*/%d * * * *", int(d/time.Minute)), nil
	case d == time.Hour:
		return "0 * * * *", nil
	case d < 24*time.Hour && d%time.Hour == 0 && (24*time.Hour)%d == 0:
		return fmt.Sprintf("0 */%d * * *", int(d/time.Hour)), nil
	case d == 24*time.Hour:
		return "0 0 * * *", nil
	}
	return "", invalid(fmt.Sprintf("%q cannot be kept on the clock: use a number of minutes that divides an hour (15, 20, 30) or of hours that divides a day (1, 2, 3, 4, 6, 8, 12, 24), or a list of times such as \"daily 08:00 14:00 20:00\".", in))
}

// dayNames maps every accepted day word to robfig's weekday number.
var dayNames = map[string]int{
	"sun": 0, "sunday": 0,
	"mon": 1, "monday": 1,
	"tue": 2, "tues": 2, "tuesday": 2,
	"wed": 3, "wednesday": 3,
	"thu": 4, "thur": 4, "thurs": 4, "thursday": 4,
	"fri": 5, "friday": 5,
	"sat": 6, "saturday": 6,
}

// dayWord returns the weekdays a word stands for (a name, a plural, a
// range or a group word), or false.
func dayWord(w string) (uint8, bool) {
	switch w {
	case "daily", "day", "days", "everyday":
		return 0x7f, true
	case "weekday", "weekdays", "workday", "workdays":
		return 0x3e, true
	case "weekend", "weekends":
		return 0x41, true
	}
	if lo, hi, ok := strings.Cut(w, "-"); ok {
		a, okA := dayName(lo)
		b, okB := dayName(hi)
		if !okA || !okB {
			return 0, false
		}
		var set uint8
		for d := a; ; d = (d + 1) % 7 { // wraps: fri-mon is Friday to Monday
			set |= 1 << d
			if d == b {
				break
			}
		}
		return set, true
	}
	d, ok := dayName(w)
	if !ok {
		return 0, false
	}
	return 1 << d, true
}

func dayName(w string) (int, bool) {
	if d, ok := dayNames[w]; ok {
		return d, true
	}
	if d, ok := dayNames[strings.TrimSuffix(w, "s")]; ok && len(w) > 4 { // mondays, not "mons"
		return d, true
	}
	return 0, false
}

// clock is a time of day.
type clock struct{ h, m int }

// plain parses the word forms.
func plain(low string) (string, error) {
	in := low
	low = strings.NewReplacer(",", " ", ";", " ", "+", " ", "&", " ").Replace(low)
	var toks []string
	for _, t := range strings.Fields(low) {
		switch t {
		case "and", "at", "on", "every", "each", "a", "per":
			continue
		}
		toks = append(toks, t)
	}
	if len(toks) == 0 {
		return "", invalid(fmt.Sprintf("I could not read %q as a schedule.", in))
	}

	// Intervals: hourly, every hour, every 6h, every 2 hours, every 30m.
	if ex, ok, err := intervalWords(toks, in); ok || err != nil {
		return ex, err
	}

	twice := false
	if toks[0] == "twice" {
		twice = true
		toks = toks[1:]
		if len(toks) > 0 && (toks[0] == "daily" || toks[0] == "day") {
			toks = toks[1:]
		} else {
			return "", invalid(fmt.Sprintf("%q: write \"twice daily 08:00 18:00\".", in))
		}
	}

	var days uint8
	i := 0
	for ; i < len(toks); i++ {
		set, ok := dayWord(toks[i])
		if !ok {
			break
		}
		days |= set
	}
	if twice {
		if days != 0 {
			return "", invalid(fmt.Sprintf("%q: \"twice daily\" takes two times, e.g. \"twice daily 08:00 18:00\".", in))
		}
		days = 0x7f
	}
	if days == 0 {
		days = 0x7f // times alone: every day
	}

	times, err := parseTimes(toks[i:], in)
	if err != nil {
		return "", err
	}
	if twice && len(times) != 2 {
		return "", invalid(fmt.Sprintf("%q: \"twice daily\" takes exactly two times, e.g. \"twice daily 08:00 18:00\".", in))
	}
	var hours, minutes []int
	for _, t := range times {
		if !slices.Contains(hours, t.h) {
			hours = append(hours, t.h)
		}
		if !slices.Contains(minutes, t.m) {
			minutes = append(minutes, t.m)
		}
	}
	if len(hours)*len(minutes) != len(times) {
		return "", invalid(fmt.Sprintf("%q: the times of one schedule must share their minutes (08:00 and 18:00, or 08:30 and 18:30), because a schedule runs at every listed minute of every listed hour; send one time, or pick times with the same minutes.", in))
	}
	slices.Sort(hours)
	slices.Sort(minutes)
	dow := "*"
	if days != 0x7f {
		var ds []int
		for d := range 7 {
			if days&(1<<d) != 0 {
				ds = append(ds, d)
			}
		}
		dow = joinInts(ds)
	}
	return fmt.Sprintf("%s %s * * %s", joinInts(minutes), joinInts(hours), dow), nil
}

// intervalWords reads "hourly", "every hour", "every 6h", "every 6 hours",
// "every 30m", "every 30 minutes" (with "every" already dropped). ok is
// false when toks is not an interval form.
func intervalWords(toks []string, in string) (expr string, ok bool, err error) {
	switch {
	case len(toks) == 1 && (toks[0] == "hourly" || toks[0] == "hour"):
		return "0 * * * *", true, nil
	case len(toks) == 1 && (toks[0] == "minute" || toks[0] == "minutely"):
		e, err := interval(time.Minute, in)
		return e, true, err
	}
	var num, unit string
	switch len(toks) {
	case 1: // 6h, 30m, 30min
		t := toks[0]
		j := strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' })
		if j <= 0 {
			return "", false, nil
		}
		num, unit = t[:j], t[j:]
	case 2: // 6 hours, 30 minutes
		num, unit = toks[0], toks[1]
	default:
		return "", false, nil
	}
	n, convErr := strconv.Atoi(num)
	if convErr != nil {
		return "", false, nil
	}
	var d time.Duration
	switch unit {
	case "h", "hr", "hrs", "hour", "hours":
		d = time.Hour
	case "m", "min", "mins", "minute", "minutes":
		d = time.Minute
	default:
		return "", false, nil
	}
	if n <= 0 || n > 24*60 {
		return "", true, invalid(fmt.Sprintf("%q: the interval must be between 15 minutes and 24 hours.", in))
	}
	e, err := interval(time.Duration(n)*d, in)
	return e, true, err
}

// parseTimes reads times of day: 07:30, 7:30, 7.30, 7am, 7:30pm, "7 pm",
// noon, midnight.
func parseTimes(toks []string, in string) ([]clock, error) {
	if len(toks) == 0 {
		return nil, invalid(fmt.Sprintf("%q says which days but not when: add a time, e.g. \"weekdays 07:30\".", in))
	}
	var out []clock
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if i+1 < len(toks) && (toks[i+1] == "am" || toks[i+1] == "pm") {
			t += toks[i+1]
			i++
		}
		c, ok := parseClock(t)
		if !ok {
			if _, isDay := dayWord(t); isDay {
				return nil, invalid(fmt.Sprintf("%q: put the days before the times, e.g. \"mon,thu 18:15\".", in))
			}
			return nil, invalid(fmt.Sprintf("I could not read %q in %q as a time of day (write 07:30, 7am or 6:30pm).", t, in))
		}
		if slices.Contains(out, c) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// parseClock reads one time of day.
func parseClock(t string) (clock, bool) {
	switch t {
	case "noon", "midday":
		return clock{12, 0}, true
	case "midnight":
		return clock{0, 0}, true
	}
	suffix := ""
	if s, ok := strings.CutSuffix(t, "am"); ok {
		t, suffix = s, "am"
	} else if s, ok := strings.CutSuffix(t, "pm"); ok {
		t, suffix = s, "pm"
	}
	hs, ms, hasMin := strings.Cut(t, ":")
	if !hasMin {
		hs, ms, hasMin = strings.Cut(t, ".")
	}
	if hs == "" || len(hs) > 2 || (!hasMin && suffix == "") || (hasMin && len(ms) != 2) {
		return clock{}, false
	}
	h, err := strconv.Atoi(hs)
	if err != nil || h < 0 {
		return clock{}, false
	}
	m := 0
	if hasMin {
		if m, err = strconv.Atoi(ms); err != nil || m < 0 || m > 59 {
			return clock{}, false
		}
	}
	switch suffix {
	case "":
		if h > 23 {
			return clock{}, false
		}
	default:
		if h < 1 || h > 12 {
			return clock{}, false
		}
		h %= 12
		if suffix == "pm" {
			h += 12
		}
	}
	return clock{h, m}, true
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// Field bounds, as robfig numbers them.
type bound struct{ min, max int }

var (
	minuteB = bound{0, 59}
	hourB   = bound{0, 23}
	domB    = bound{1, 31}
	monthB  = bound{1, 12}
	dowB    = bound{0, 6}
)

// starBit is robfig's marker for a field written as "*" (it decides whether
// day-of-month and day-of-week combine with AND or OR).
const starBit = uint64(1) << 63

// values lists the set bits of a field within its bounds.
func values(field uint64, b bound) []int {
	var out []int
	for v := b.min; v <= b.max; v++ {
		if field&(1<<uint(v)) != 0 {
			out = append(out, v)
		}
	}
	return out
}

// normalise renders a parsed schedule as five numeric fields that parse
// back to exactly the same schedule, star markers included: "1-31" and "*"
// are different in cron when both day fields are restricted.
func normalise(s *cron.SpecSchedule) string {
	return strings.Join([]string{
		renderField(s.Minute, minuteB),
		renderField(s.Hour, hourB),
		renderField(s.Dom, domB),
		renderField(s.Month, monthB),
		renderField(s.Dow, dowB),
	}, " ")
}

func renderField(field uint64, b bound) string {
	if field&starBit != 0 {
		return "*"
	}
	vs := values(field, b)
	// Evenly spaced values from the field's minimum to its end read best
	// as "*/k" (two of them too, for minutes and hours: "*/30"); other
	// progressions as "a-b/k" from four values on ("8,14,20" stays).
	if step := stepped(vs); step > 1 {
		last := vs[len(vs)-1]
		whole := vs[0] == b.min && last+step > b.max
		switch {
		case whole && (len(vs) >= 3 || (b == minuteB || b == hourB) && (b.max+1)%step == 0):
			return fmt.Sprintf("*/%d", step)
		case len(vs) >= 4:
			return fmt.Sprintf("%d-%d/%d", vs[0], last, step)
		}
	}
	var parts []string
	for i := 0; i < len(vs); {
		j := i
		for j+1 < len(vs) && vs[j+1] == vs[j]+1 {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, fmt.Sprintf("%d-%d", vs[i], vs[j]))
		default:
			for k := i; k <= j; k++ {
				parts = append(parts, strconv.Itoa(vs[k]))
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// reference is where Parse starts looking for a schedule's runs; robfig
// searches five years ahead, which covers 29 February.
var reference = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// checkRuns refuses schedules that never run and those more frequent than
// MinInterval on the wall clock.
func checkRuns(in string, s *cron.SpecSchedule) error {
	if s.Next(reference).IsZero() {
		return invalid(fmt.Sprintf("%q never runs (is it a date that does not exist, such as 30 February?).", in))
	}
	var mins []int // minutes of the day at which it runs
	for _, h := range values(s.Hour, hourB) {
		for _, m := range values(s.Minute, minuteB) {
			mins = append(mins, h*60+m)
		}
	}
	gap := 24 * 60
	for i := 1; i < len(mins); i++ {
		gap = min(gap, mins[i]-mins[i-1])
	}
	if wrap := mins[0] + 24*60 - mins[len(mins)-1]; wrap < gap && consecutiveDays(s) {
		gap = wrap
	}
	if time.Duration(gap)*time.Minute < MinInterval {
		return invalid(fmt.Sprintf("%q would run every %d minutes at its busiest; a digest may run at most every %d minutes.", in, gap, int(MinInterval/time.Minute)))
	}
	return nil
}

// consecutiveDays reports whether the schedule runs on two consecutive
// calendar days, which makes the gap from its last run of a day to its
// first run of the next day count. Eight years cover every weekday and
// leap-day combination that matters in practice.
func consecutiveDays(s *cron.SpecSchedule) bool {
	prev := false
	for d := reference; d.Before(reference.AddDate(8, 0, 0)); d = d.AddDate(0, 0, 1) {
		cur := dayMatches(s, d)
		if cur && prev {
			return true
		}
		prev = cur
	}
	return false
}

// dayMatches is robfig's day rule: day-of-month and day-of-week must both
// match if either is "*", otherwise either may match; the month must match.
func dayMatches(s *cron.SpecSchedule, t time.Time) bool {
	if s.Month&(1<<uint(t.Month())) == 0 {
		return false
	}
	dom := s.Dom&(1<<uint(t.Day())) != 0
	dow := s.Dow&(1<<uint(t.Weekday())) != 0
	if s.Dom&starBit != 0 || s.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}
