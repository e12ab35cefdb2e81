//go:build scratch

package dedup

import (
	"fmt"
	"hash/fnv"
	"math/rand"
	"sort"
	"testing"
)

func TestSplitHalves(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	// split by story, hashed, so each half has whole stories; ECB topics kept together
	key := func(l labelled) string {
		if tp, _, ok := ecbEvent(l.ID); ok {
			return "ecb" + tp
		}
		return l.Story
	}
	for _, seed := range []uint32{1, 2, 3} {
		var a, b []labelled
		for _, l := range ls {
			h := fnv.New32a()
			fmt.Fprintf(h, "%d/%s", seed, key(l))
			if h.Sum32()%2 == 0 {
				a = append(a, l)
			} else {
				b = append(b, l)
			}
		}
		type cfg struct {
			k      int
			ms, th float64
		}
		var grid []cfg
		for _, k := range []int{4, 5, 6} {
			for _, ms := range []float64{0.05, 0.08, 0.1, 0.12} {
				for _, th := range []float64{0.04, 0.05, 0.06, 0.07, 0.08} {
					grid = append(grid, cfg{k, ms, th})
				}
			}
		}
		score := func(set []labelled, c cfg) Metrics {
			o := DefaultOptions()
			o.Neighbors, o.MinSimilarity, o.Threshold = c.k, c.ms, c.th
			return Evaluate(goldOf(set), clusterLabelled(t, set, o))
		}
		best := func(set []labelled) (cfg, float64) {
			var bc cfg
			bf := -1.0
			for _, c := range grid {
				if f := score(set, c).BCubedF1; f > bf {
					bc, bf = c, f
				}
			}
			return bc, bf
		}
		ca, fa := best(a)
		cb, fb := best(b)
		def := cfg{5, 0.1, 0.06}
		fmt.Printf("seed %d: half A %d docs, half B %d docs\n", seed, len(a), len(b))
		fmt.Printf("  tuned on A %+v: A %.3f, B %.3f (B's own best %+v %.3f); defaults: A %.3f B %.3f\n",
			ca, fa, score(b, ca).BCubedF1, cb, fb, score(a, def).BCubedF1, score(b, def).BCubedF1)
		fmt.Printf("  tuned on B: B %.3f, A %.3f; pairwise defaults A %.3f B %.3f\n", fb, score(a, cb).BCubedF1, score(a, def).PairF1, score(b, def).PairF1)
	}
	// shuffle
	for s := int64(1); s <= 3; s++ {
		r := rand.New(rand.NewSource(s))
		perm := r.Perm(len(ls))
		sh := make([]labelled, len(ls))
		for i, p := range perm {
			sh[i] = ls[p]
		}
		m := Evaluate(goldOf(sh), clusterLabelled(t, sh, DefaultOptions()))
		fmt.Printf("shuffle %d: pairwise %.4f BCubed %.4f mixes %d\n", s, m.PairF1, m.BCubedF1, len(ecbMixes(sh, clusterLabelled(t, sh, DefaultOptions()))))
	}
	_ = sort.Ints
}
