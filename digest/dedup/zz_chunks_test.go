//go:build scratch

package dedup

import (
	"fmt"
	"runtime"
	"testing"
)

func TestChunkCost(t *testing.T) {
	gen := newStreamGen(t)
	c := New(Options{})
	batch := make([]Doc, 10000)
	for chunk := 0; chunk < 10; chunk++ {
		for i := range batch {
			batch[i] = gen.next()
		}
		runtime.GC()
		start := cpuTime()
		for i := range batch {
			c.Add(batch[i])
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("chunk %d: %v cpu, window %d, stories %d, terms %d, surface %d, heap %d MiB, GCs %d\n", chunk, cpuTime()-start, c.Len(), c.Stories(), c.ix.terms.n, c.x.cacheEN.n, ms.HeapAlloc>>20, ms.NumGC)
	}
}
