//go:build scratch

package dedup

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
)

func TestHeapSnapshot(t *testing.T) {
	n := int(envf("HEAPN", 40000))
	docs := syntheticStream(t, n)
	runtime.MemProfileRate = 65536
	c := New(Options{})
	for i := range docs {
		c.Add(docs[i])
	}
	runtime.GC()
	f, _ := os.Create("/tmp/h1/heap.out")
	pprof.WriteHeapProfile(f)
	f.Close()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	bandItems := 0
	for _, pl := range c.ix.bands {
		bandItems += len(pl.items)
	}
	postItems, postCap := 0, 0
	c.ix.terms.each(func(_ uint64, e *termEntry) {
		postItems += len(e.post.items)
		postCap += cap(e.post.items)
	})
	maxMembers := 0
	for _, s := range c.ix.stories {
		maxMembers = max(maxMembers, len(s.members))
	}
	fmt.Printf("heap %d MiB, window %d, slots %d, terms %d, postings %d (cap %d), bands %d (%d items), stories %d (max members %d), expiry %d, cacheEN %d\n",
		ms.HeapInuse>>20, c.Len(), len(c.ix.slots), c.ix.terms.n, postItems, postCap, len(c.ix.bands), bandItems, len(c.ix.stories), maxMembers, len(c.ix.expiry), c.x.cacheEN.n)
	runtime.KeepAlive(c)
}
