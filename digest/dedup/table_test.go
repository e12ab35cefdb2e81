package dedup

import (
	"math/rand"
	"testing"
)

// TestHashTable checks the open-addressing table against a map through a
// random sequence of puts, deletes and lookups, deletes included (they move
// entries back along their probe sequence).
func TestHashTable(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var tab hashTable[int]
	ref := map[uint64]int{}
	// Few distinct keys, many collisions: keys are small numbers, and
	// mix64 spreads them, but the table stays small and crowded.
	key := func() uint64 { return uint64(r.Intn(300)) + 1 }
	for i := 0; i < 20000; i++ {
		k := key()
		switch r.Intn(3) {
		case 0:
			if _, ok := ref[k]; !ok {
				tab.put(k, i)
				ref[k] = i
			}
		case 1:
			tab.del(k)
			delete(ref, k)
		}
		if v, ok := tab.get(k); ok != (ref[k] != 0 || hasKey(ref, k)) || ok && v != ref[k] {
			t.Fatalf("step %d key %d: table (%d, %v), map (%d, %v)", i, k, v, ok, ref[k], hasKey(ref, k))
		}
		if tab.n != len(ref) {
			t.Fatalf("step %d: table holds %d, map %d", i, tab.n, len(ref))
		}
	}
	n := 0
	tab.each(func(h uint64, v int) {
		n++
		if ref[h] != v {
			t.Errorf("each: %d -> %d, map says %d", h, v, ref[h])
		}
	})
	if n != len(ref) {
		t.Errorf("each visited %d entries, want %d", n, len(ref))
	}
}

func hasKey(m map[uint64]int, k uint64) bool { _, ok := m[k]; return ok }
