package schedule

import (
	"fmt"
	"slices"
	"strings"

	"github.com/robfig/cron/v3"
)

var weekdayNames = [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

var monthNames = [13]string{"", "January", "February", "March", "April", "May", "June",
	"July", "August", "September", "October", "November", "December"}

// describe says in words when a schedule runs: "every weekday at 07:30",
// "every 6 hours (00:00, 06:00, 12:00 and 18:00)", "every 15 minutes on
// weekends". Times are local to the subscription's zone.
func describe(s *cron.SpecSchedule) string {
	every, on := dayPhrases(s)
	when, isInterval := timePhrase(s)
	switch {
	case isInterval && every == "every day":
		return when
	case isInterval:
		return when + " " + on
	default:
		return every + " at " + when
	}
}

// timePhrase describes the times of day. isInterval is true for phrases
// that stand alone ("every 15 minutes"), false for a list of times that
// follows "at".
func timePhrase(s *cron.SpecSchedule) (phrase string, isInterval bool) {
	hs, ms := values(s.Hour, hourB), values(s.Minute, minuteB)
	allHours := len(hs) == 24
	mStep, mFull := progression(ms, 0, 60)
	hStep, hFull := progression(hs, hs[0], 24)

	switch {
	case allHours && len(ms) == 1 && ms[0] == 0:
		return "every hour", true
	case allHours && mFull && mStep > 0 && ms[0] == 0:
		return fmt.Sprintf("every %d minutes", mStep), true
	case allHours:
		return "every hour at " + list(mapStrings(ms, func(m int) string { return fmt.Sprintf(":%02d", m) })), true
	case len(ms) == 1 && hFull && hStep > 1 && hs[0] < hStep && len(hs) <= 6:
		times := mapStrings(hs, func(h int) string { return fmt.Sprintf("%02d:%02d", h, ms[0]) })
		return fmt.Sprintf("every %d hours (%s)", hStep, list(times)), true
	case len(ms) == 1 && hFull && hStep > 1 && hs[0] < hStep:
		return fmt.Sprintf("every %d hours from %02d:%02d", hStep, hs[0], ms[0]), true
	case len(hs)*len(ms) <= 6:
		var times []string
		for _, h := range hs {
			for _, m := range ms {
				times = append(times, fmt.Sprintf("%02d:%02d", h, m))
			}
		}
		return list(times), false
	case len(ms) == 1 && len(hs) >= 3 && contiguous(hs):
		return fmt.Sprintf("every hour from %02d:%02d to %02d:%02d", hs[0], ms[0], hs[len(hs)-1], ms[0]), true
	case len(ms) == 1 && len(hs) >= 3 && stepped(hs) > 1:
		return fmt.Sprintf("every %d hours from %02d:%02d to %02d:%02d", stepped(hs), hs[0], ms[0], hs[len(hs)-1], ms[0]), true
	case mFull && mStep > 0 && ms[0] == 0 && contiguous(hs):
		return fmt.Sprintf("every %d minutes from %02d:00 to %02d:%02d", mStep, hs[0], hs[len(hs)-1], ms[len(ms)-1]), true
	default:
		return fmt.Sprintf("%d times a day, from %02d:%02d to %02d:%02d",
			len(hs)*len(ms), hs[0], ms[0], hs[len(hs)-1], ms[len(ms)-1]), true
	}
}

// dayPhrases describes the days in two forms: one that leads ("every
// weekday") and one that follows ("on weekdays").
func dayPhrases(s *cron.SpecSchedule) (every, on string) {
	domStar, dowStar := s.Dom&starBit != 0, s.Dow&starBit != 0
	doms, dows, months := values(s.Dom, domB), values(s.Dow, dowB), values(s.Month, monthB)
	allMonths := len(months) == 12
	inMonths := ""
	if !allMonths {
		inMonths = " in " + list(mapStrings(months, func(m int) string { return monthNames[m] }))
	}
	if (len(doms) == 31 || len(dows) == 7) && !domStar && !dowStar {
		// Every day of the month, or every weekday, OR the other field:
		// every day.
		domStar, dowStar = true, true
	}

	switch {
	case domStar && (dowStar || len(dows) == 7):
		if allMonths {
			return "every day", "every day"
		}
		return "every day" + inMonths, "every day" + inMonths
	case domStar:
		e, o := weekdayPhrases(dows)
		return e + inMonths, o + inMonths
	case dowStar || len(dows) == 0:
		d := "the " + list(mapStrings(doms, ordinal))
		if allMonths {
			return "on " + d + " of every month", "on " + d + " of every month"
		}
		of := " of " + list(mapStrings(months, func(m int) string { return monthNames[m] }))
		return "on " + d + of, "on " + d + of
	default:
		e, _ := weekdayPhrases(dows)
		d := "on the " + list(mapStrings(doms, ordinal)) + " of the month and " + e
		return d + inMonths, d + inMonths
	}
}

func weekdayPhrases(dows []int) (every, on string) {
	switch {
	case slices.Equal(dows, []int{1, 2, 3, 4, 5}):
		return "every weekday", "on weekdays"
	case slices.Equal(dows, []int{0, 6}):
		return "every Saturday and Sunday", "on weekends"
	}
	// Weeks read Monday to Sunday in prose; cron counts Sunday as 0.
	dows = slices.Clone(dows)
	monFirst := func(d int) int { return (d + 6) % 7 }
	slices.SortFunc(dows, func(a, b int) int { return monFirst(a) - monFirst(b) })
	names := mapStrings(dows, func(d int) string { return weekdayNames[d] })
	if len(dows) >= 4 && contiguous(mapInts(dows, monFirst)) {
		r := names[0] + " to " + names[len(names)-1]
		return "every " + r, "from " + r
	}
	plural := mapStrings(dows, func(d int) string { return weekdayNames[d] + "s" })
	return "every " + list(names), "on " + list(plural)
}

// progression reports the common step of vs if they are evenly spaced and
// wrap around the period, as "*/15" minutes or "*/6" hours are (from is
// the first value). A single value has step 0.
func progression(vs []int, from, period int) (step int, full bool) {
	if len(vs) < 2 || vs[0] != from {
		return 0, false
	}
	step = vs[1] - vs[0]
	for i := 2; i < len(vs); i++ {
		if vs[i]-vs[i-1] != step {
			return 0, false
		}
	}
	return step, period%step == 0 && len(vs) == period/step
}

// stepped returns the common difference of evenly spaced values, or 0.
func stepped(vs []int) int {
	if len(vs) < 2 {
		return 0
	}
	for i := 2; i < len(vs); i++ {
		if vs[i]-vs[i-1] != vs[1]-vs[0] {
			return 0
		}
	}
	return vs[1] - vs[0]
}

func contiguous(vs []int) bool {
	for i := 1; i < len(vs); i++ {
		if vs[i] != vs[i-1]+1 {
			return false
		}
	}
	return true
}

func mapInts(vs []int, f func(int) int) []int {
	out := make([]int, len(vs))
	for i, v := range vs {
		out[i] = f(v)
	}
	return out
}

func mapStrings(vs []int, f func(int) string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = f(v)
	}
	return out
}

// list joins words as prose: "a", "a and b", "a, b and c".
func list(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
