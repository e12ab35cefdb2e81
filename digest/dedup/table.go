package dedup

// hashTable maps non-zero 64-bit hashes to values with open addressing
// (linear probing). Feature extraction looks up every token of every
// article; a Go map with string keys spends most of that time hashing and
// comparing strings that were already hashed once. Keys and values sit
// together, so a lookup usually touches one cache line.
type hashTable[V any] struct {
	cells []cell[V] // key 0 marks an empty cell
	n     int
}

type cell[V any] struct {
	key uint64
	val V
}

func (t *hashTable[V]) get(h uint64) (V, bool) {
	if len(t.cells) > 0 {
		mask := uint64(len(t.cells) - 1)
		for i := mix64(h) & mask; ; i = (i + 1) & mask {
			c := &t.cells[i]
			switch c.key {
			case h:
				return c.val, true
			case 0:
				var zero V
				return zero, false
			}
		}
	}
	var zero V
	return zero, false
}

func (t *hashTable[V]) has(h uint64) bool {
	_, ok := t.get(h)
	return ok
}

// put stores v under h, which must not be present yet.
func (t *hashTable[V]) put(h uint64, v V) {
	if 2*(t.n+1) > len(t.cells) {
		t.grow()
	}
	mask := uint64(len(t.cells) - 1)
	i := mix64(h) & mask
	for t.cells[i].key != 0 {
		i = (i + 1) & mask
	}
	t.cells[i] = cell[V]{h, v}
	t.n++
}

func (t *hashTable[V]) grow() {
	old := t.cells
	t.cells, t.n = make([]cell[V], max(64, 2*len(old))), 0
	for _, c := range old {
		if c.key != 0 {
			t.put(c.key, c.val)
		}
	}
}

// ref returns a pointer to the value stored under h, or nil. It is valid
// until the next put or del.
func (t *hashTable[V]) ref(h uint64) *V {
	if len(t.cells) > 0 {
		mask := uint64(len(t.cells) - 1)
		for i := mix64(h) & mask; ; i = (i + 1) & mask {
			c := &t.cells[i]
			switch c.key {
			case h:
				return &c.val
			case 0:
				return nil
			}
		}
	}
	return nil
}

// del removes h if present. Linear probing allows deleting without
// tombstones: the entries after the hole that hash at or before it move
// back.
func (t *hashTable[V]) del(h uint64) {
	if len(t.cells) == 0 {
		return
	}
	mask := uint64(len(t.cells) - 1)
	i := mix64(h) & mask
	for t.cells[i].key != h {
		if t.cells[i].key == 0 {
			return
		}
		i = (i + 1) & mask
	}
	for {
		t.cells[i] = cell[V]{}
		j := i
		for {
			j = (j + 1) & mask
			if t.cells[j].key == 0 {
				t.n--
				return
			}
			// Move the entry at j back if its home is not in (i, j].
			home := mix64(t.cells[j].key) & mask
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				t.cells[i] = t.cells[j]
				i = j
				break
			}
		}
	}
}

// each calls fn for every entry; fn must not change the table.
func (t *hashTable[V]) each(fn func(h uint64, v V)) {
	for _, c := range t.cells {
		if c.key != 0 {
			fn(c.key, c.val)
		}
	}
}

func (t *hashTable[V]) reset() {
	clear(t.cells)
	t.n = 0
}

// nonZero maps a hash to a usable key.
func nonZero(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}
