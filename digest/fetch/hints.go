package fetch

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxHint caps every caching hint: a week is longer than any sane poll
// interval, and it keeps arithmetic on hostile values from overflowing.
const maxHint = 7 * 24 * time.Hour

// Hints are what the publisher says about how soon to fetch again. Each is
// a duration from the fetch; zero means the hint is absent. The poller waits
// at least the longest of them (within its own bounds).
type Hints struct {
	TTL        time.Duration // the feed's own <ttl> or sy:updatePeriod/updateFrequency
	MaxAge     time.Duration // Cache-Control max-age
	Expires    time.Duration // Expires, relative to the response's Date
	RetryAfter time.Duration // Retry-After (429, 503 and sometimes 200/301)
}

// Max returns the longest hint.
func (h Hints) Max() time.Duration {
	return max(h.TTL, h.MaxAge, h.Expires, h.RetryAfter)
}

// httpHints reads the caching headers of a response received at now.
func httpHints(h http.Header, now time.Time) Hints {
	var hints Hints
	date := now
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		date = d
	}
	noCache := false
	for _, directive := range strings.Split(h.Get("Cache-Control"), ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(directive), "=")
		switch strings.ToLower(name) {
		case "max-age":
			if s, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && s > 0 {
				hints.MaxAge = seconds(s)
			}
		case "no-cache", "no-store":
			noCache = true
		}
	}
	if noCache {
		hints.MaxAge = 0
	} else if hints.MaxAge == 0 && h.Get("Expires") != "" {
		// RFC 9111 5.3: max-age wins over Expires.
		if t, err := http.ParseTime(h.Get("Expires")); err == nil && t.After(date) {
			hints.Expires = min(t.Sub(date), maxHint)
		}
	}
	hints.RetryAfter = retryAfter(h, date)
	return hints
}

// retryAfter parses Retry-After, given in seconds or as an HTTP date.
func retryAfter(h http.Header, date time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return seconds(s)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(date) {
		return min(t.Sub(date), maxHint)
	}
	return 0
}

func seconds(s int64) time.Duration {
	if s > int64(maxHint/time.Second) {
		return maxHint
	}
	return time.Duration(s) * time.Second
}

// syndicationTTL turns the RSS syndication module's updatePeriod and
// updateFrequency ("hourly", 2: twice an hour) into an interval.
func syndicationTTL(period, frequency string) time.Duration {
	var d time.Duration
	switch strings.ToLower(strings.TrimSpace(period)) {
	case "hourly":
		d = time.Hour
	case "daily":
		d = 24 * time.Hour
	case "weekly":
		d = 7 * 24 * time.Hour
	case "monthly":
		d = 30 * 24 * time.Hour
	case "yearly":
		d = 365 * 24 * time.Hour
	default:
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(frequency)); err == nil && n > 1 {
		d /= time.Duration(n)
	}
	return min(d, maxHint)
}
