package bot

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// userLimiter limits how fast each user may send commands. It remembers
// whether it already told a user to slow down, so a flood gets one polite
// reply, not one per command.
type userLimiter struct {
	mu      sync.Mutex
	every   time.Duration
	burst   int
	users   map[string]*userBucket
	lastGC  time.Time
	idleTTL time.Duration
}

type userBucket struct {
	lim    *rate.Limiter
	warned bool
	seen   time.Time
}

func newUserLimiter(every time.Duration, burst int) *userLimiter {
	return &userLimiter{every: every, burst: burst, users: map[string]*userBucket{}, idleTTL: 10 * time.Minute}
}

// allow reports whether user may run a command now. When not, warn is
// true the first time in a row, and wait says how long until the next
// command is allowed.
func (l *userLimiter) allow(user string, now time.Time) (ok, warn bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastGC) > l.idleTTL {
		for k, b := range l.users {
			if now.Sub(b.seen) > l.idleTTL {
				delete(l.users, k)
			}
		}
		l.lastGC = now
	}
	b := l.users[user]
	if b == nil {
		b = &userBucket{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.users[user] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		warn = !b.warned
		b.warned = true
		return false, warn, d
	}
	b.warned = false
	return true, false, 0
}
