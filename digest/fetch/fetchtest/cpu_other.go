//go:build !unix

package fetchtest

import "time"

// cpuTime is not measured on this system; Meter then reports wall-clock
// figures only.
func cpuTime() time.Duration { return 0 }
