package dedup

// hashTable maps non-zero 64-bit hashes to values with open addressing.
// Feature extraction looks up every token of every article; a Go map with
// string keys spends most of that time hashing and comparing strings that
// were already hashed once.
type hashTable[V any] struct {
	keys []uint64 // 0 marks an empty cell
	vals []V
	n    int
}

func (t *hashTable[V]) get(h uint64) (V, bool) {
	if len(t.keys) > 0 {
		mask := uint64(len(t.keys) - 1)
		for i := mix64(h) & mask; ; i = (i + 1) & mask {
			switch t.keys[i] {
			case h:
				return t.vals[i], true
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
	if 2*(t.n+1) > len(t.keys) {
		t.grow()
	}
	mask := uint64(len(t.keys) - 1)
	i := mix64(h) & mask
	for t.keys[i] != 0 {
		i = (i + 1) & mask
	}
	t.keys[i], t.vals[i] = h, v
	t.n++
}

func (t *hashTable[V]) grow() {
	keys, vals := t.keys, t.vals
	size := max(64, 2*len(keys))
	t.keys, t.vals, t.n = make([]uint64, size), make([]V, size), 0
	for i, k := range keys {
		if k != 0 {
			t.put(k, vals[i])
		}
	}
}

// del removes h if present. Linear probing allows deleting without
// tombstones: the entries after the hole that hash at or before it move
// back.
func (t *hashTable[V]) del(h uint64) {
	if len(t.keys) == 0 {
		return
	}
	mask := uint64(len(t.keys) - 1)
	i := mix64(h) & mask
	for t.keys[i] != h {
		if t.keys[i] == 0 {
			return
		}
		i = (i + 1) & mask
	}
	var zero V
	for {
		t.keys[i], t.vals[i] = 0, zero
		j := i
		for {
			j = (j + 1) & mask
			if t.keys[j] == 0 {
				t.n--
				return
			}
			// Move the entry at j back if its home is not in (i, j].
			home := mix64(t.keys[j]) & mask
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				t.keys[i], t.vals[i] = t.keys[j], t.vals[j]
				i = j
				break
			}
		}
	}
}

// each calls fn for every entry; fn must not change the table.
func (t *hashTable[V]) each(fn func(h uint64, v V)) {
	for i, k := range t.keys {
		if k != 0 {
			fn(k, t.vals[i])
		}
	}
}

func (t *hashTable[V]) reset() {
	clear(t.keys)
	clear(t.vals)
	t.n = 0
}

// nonZero maps a hash to a usable key.
func nonZero(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}
