//go:build scratch

package dedup

import (
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

func graphSig(t *testing.T, ls []labelled) (map[string]string, map[string]string) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := toDocs(t, ls, now)
	name := map[int64]string{}
	for i, d := range docs {
		name[d.ID] = ls[i].ID
	}
	opts := Options{Threshold: 0.07, Neighbors: 6, MinSimilarity: 0.08, Now: func() time.Time { return now }}
	c := New(opts)
	c.w = parseW(os.Getenv("W"))
	res := c.AddBatch(docs)
	sig := map[string]string{}
	for _, slot := range c.ix.byID {
		e := &c.ix.slots[slot]
		var ns []string
		for _, n := range e.nn {
			ns = append(ns, fmt.Sprintf("%s:%.4f", name[c.ix.slots[n.slot].id], n.sim))
		}
		sort.Strings(ns)
		sig[name[e.id]] = strings.Join(ns, " ")
	}
	st := map[string]string{}
	for i := range ls {
		st[ls[i].ID] = name[res[i].Story]
	}
	return sig, st
}

func TestDeterminism(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	a, sa := graphSig(t, ls)
	r := rand.New(rand.NewSource(1))
	perm := r.Perm(len(ls))
	sh := make([]labelled, len(ls))
	for i, p := range perm {
		sh[i] = ls[p]
	}
	b, sb := graphSig(t, sh)
	diff := 0
	for k, v := range a {
		if b[k] != v {
			diff++
			if diff < 5 {
				fmt.Println("DIFF", k, "\n  ", v, "\n  ", b[k])
			}
		}
	}
	fmt.Println("graph diffs", diff, len(a), len(b))
	// partition diff: pairs
	n := 0
	for k1 := range sa {
		for k2 := range sa {
			if k1 < k2 && (sa[k1] == sa[k2]) != (sb[k1] == sb[k2]) {
				n++
			}
		}
	}
	fmt.Println("pair disagreements", n)
}

func TestDeterminismSame(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	_, sa := graphSig(t, ls)
	_, sb := graphSig(t, ls)
	n := 0
	for k1 := range sa {
		for k2 := range sa {
			if k1 < k2 && (sa[k1] == sa[k2]) != (sb[k1] == sb[k2]) {
				n++
			}
		}
	}
	fmt.Println("same-input pair disagreements", n)
}

func mergeSeq(t *testing.T, ls []labelled) []string {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := toDocs(t, ls, now)
	name := map[int64]string{}
	for i, d := range docs {
		name[d.ID] = ls[i].ID
	}
	var seq []string
	debugMerge = func(c *Clusterer, x, y *story, link float64) {
		desc := func(s *story) string {
			var parts []string
			for _, m := range s.members {
				parts = append(parts, name[c.ix.slots[m].id])
			}
			sort.Strings(parts)
			return strings.Join(parts, ",")
		}
		a, b := desc(x), desc(y)
		if a > b {
			a, b = b, a
		}
		seq = append(seq, fmt.Sprintf("%.6f [%s]+[%s]", link, a, b))
	}
	defer func() { debugMerge = nil }()
	opts := Options{Threshold: 0.07, Neighbors: 6, MinSimilarity: 0.08, Now: func() time.Time { return now }}
	c := New(opts)
	c.w = parseW(os.Getenv("W"))
	c.AddBatch(docs)
	return seq
}

func TestMergeSeqDiff(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	a := mergeSeq(t, ls)
	r := rand.New(rand.NewSource(1))
	perm := r.Perm(len(ls))
	sh := make([]labelled, len(ls))
	for i, p := range perm {
		sh[i] = ls[p]
	}
	b := mergeSeq(t, sh)
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			fmt.Println("first diff at", i)
			for j := max(0, i-2); j < min(i+3, len(a), len(b)); j++ {
				fmt.Println(" A", a[j][:min(200, len(a[j]))])
				fmt.Println(" B", b[j][:min(200, len(b[j]))])
			}
			return
		}
	}
}

func TestNNDump(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	for _, seed := range []int64{0, 1} {
		sh := ls
		if seed != 0 {
			r := rand.New(rand.NewSource(seed))
			perm := r.Perm(len(ls))
			sh = make([]labelled, len(ls))
			for i, p := range perm {
				sh[i] = ls[p]
			}
		}
		now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		docs := toDocs(t, sh, now)
		name := map[int64]string{}
		for i, d := range docs {
			name[d.ID] = sh[i].ID
		}
		done := false
		debugMerge = func(c *Clusterer, x, y *story, link float64) {
			if done {
				return
			}
			for _, s := range []*story{x, y} {
				for _, m := range s.members {
					if name[c.ix.slots[m].id] == "g-9829d11717f4d90a" {
						done = true
					}
				}
			}
			if !done {
				return
			}
			for _, s := range []*story{x, y} {
				for _, m := range s.members {
					e := &c.ix.slots[m]
					var ns []string
					for _, n := range e.nn {
						ns = append(ns, fmt.Sprintf("%s:%.4f", name[c.ix.slots[n.slot].id], n.sim))
					}
					fmt.Println(seed, name[e.id], ns)
				}
			}
		}
		opts := Options{Threshold: 0.07, Neighbors: 6, MinSimilarity: 0.08, Now: func() time.Time { return now }}
		c := New(opts)
		c.w = parseW(os.Getenv("W"))
		c.AddBatch(docs)
		debugMerge = nil
	}
}
