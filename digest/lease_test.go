package digest_test

import (
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

func TestLeaseMicros(t *testing.T) {
	for _, tc := range []struct {
		name, owner string
		ttl         time.Duration
		want        int64
		invalid     bool
	}{
		{"feed/1", "a", 30 * time.Second, 30_000_000, false},
		{"feed/1", "a", time.Nanosecond, 1, false}, // rounded up: the lease exists when taken
		{"feed/1", "a", 1500 * time.Nanosecond, 2, false},
		{"", "a", time.Second, 0, true},
		{"feed/1", "", time.Second, 0, true},
		{"feed/1", "a", 0, 0, true},
		{"feed/1", "a", -time.Second, 0, true},
	} {
		got, err := digest.LeaseMicros(tc.name, tc.owner, tc.ttl)
		if tc.invalid != (digest.ErrorCode(err) == digest.EINVALID) || got != tc.want {
			t.Errorf("LeaseMicros(%q, %q, %v) = %d, %v", tc.name, tc.owner, tc.ttl, got, err)
		}
	}
}
