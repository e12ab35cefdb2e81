package main

import (
	"os"
	"testing"
	"time"
)

// BenchmarkScheduledDigests1000Chats measures herald run delivering one
// scheduled digest (one message) to each of 1,000 chats through a fake
// Telegram that enforces Telegram's limits, and reports the time from the
// first message to the last against the minimum the 30 messages a second
// allow (33.3s), as s-span, s-min and span/min, with the 429 answers. One
// iteration takes over half a minute:
//
//	go test -run '^$' -bench ScheduledDigests1000 -benchtime 1x ./cmd/herald
//
// HERALD_BENCH_TELEGRAM_RTT (a duration such as 50ms) makes every Bot API
// request take that long to reach the fake, as the round trip to
// Telegram's servers does.
func BenchmarkScheduledDigests1000Chats(b *testing.B) {
	var rtt time.Duration
	if s := os.Getenv("HERALD_BENCH_TELEGRAM_RTT"); s != "" {
		var err error
		if rtt, err = time.ParseDuration(s); err != nil {
			b.Fatalf("HERALD_BENCH_TELEGRAM_RTT=%q: %v", s, err)
		}
	}
	var span, minimum, total, throttled float64
	for i := range b.N {
		r := deliverToChats(b, 1000, uint64(i+1), rtt)
		span += r.span.Seconds()
		minimum += r.minimum.Seconds()
		total += r.total.Seconds()
		throttled += float64(r.throttled)
	}
	n := float64(b.N)
	b.ReportMetric(span/n, "s-span")
	b.ReportMetric(minimum/n, "s-min")
	b.ReportMetric(span/minimum, "span/min")
	b.ReportMetric(total/n, "s-from-start")
	b.ReportMetric(throttled/n, "429s")
}
