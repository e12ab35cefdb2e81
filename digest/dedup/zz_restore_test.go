//go:build scratch

package dedup

import (
	"fmt"
	"testing"
	"time"
)

func TestRestoreBig(t *testing.T) {
	n := int(envf("RN", 20000))
	docs := syntheticStream(t, n)
	// squeeze into one window
	t0 := docs[0].Time
	for i := range docs {
		docs[i].Time = t0.Add(time.Duration(i) * time.Second)
	}
	c := New(Options{Window: 1000 * time.Hour})
	start := cpuTime()
	w := time.Now()
	for i := range docs {
		c.Restore(docs[i], docs[i].ID)
	}
	fmt.Printf("restored %d in %v cpu, %v wall, window %d\n", n, cpuTime()-start, time.Since(w), c.Len())
}
