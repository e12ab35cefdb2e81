//go:build scratch

package dedup

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// offline average-link agglomerative on ECB docs as a representation upper bound.
func TestDiagAgglo(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := toDocs(t, ls, now)
	c := New(Options{Window: 1e6 * time.Hour, HalfLife: 1e6 * time.Hour, Now: func() time.Time { return now }})
	for i := range docs {
		c.Restore(docs[i], docs[i].ID)
	}
	var idx []int
	for i, l := range ls {
		if ecbTopic(l.Story) != "" {
			idx = append(idx, i)
		}
	}
	n := len(idx)
	sim := make([][]float64, n)
	for a := range sim {
		sim[a] = make([]float64, n)
		for b := range sim[a] {
			if a != b {
				x, _ := c.Explain(docs[idx[a]].ID, docs[idx[b]].ID)
				sim[a][b] = x.Cosine
			}
		}
	}
	for _, link := range []string{"avg", "single", "complete"} {
		for _, th := range []float64{0.05, 0.08, 0.1, 0.12, 0.15, 0.2} {
			// clusters as lists
			cl := make([][]int, n)
			for a := range cl {
				cl[a] = []int{a}
			}
			for {
				bi, bj, bs := -1, -1, -1.0
				for i := range cl {
					if cl[i] == nil {
						continue
					}
					for j := i + 1; j < len(cl); j++ {
						if cl[j] == nil {
							continue
						}
						var s float64
						switch link {
						case "avg":
							for _, a := range cl[i] {
								for _, b := range cl[j] {
									s += sim[a][b]
								}
							}
							s /= float64(len(cl[i]) * len(cl[j]))
						case "single":
							s = -1
							for _, a := range cl[i] {
								for _, b := range cl[j] {
									s = max(s, sim[a][b])
								}
							}
						case "complete":
							s = 2
							for _, a := range cl[i] {
								for _, b := range cl[j] {
									s = min(s, sim[a][b])
								}
							}
						}
						if s > bs {
							bi, bj, bs = i, j, s
						}
					}
				}
				if bs < th {
					break
				}
				cl[bi] = append(cl[bi], cl[bj]...)
				cl[bj] = nil
			}
			pred := make([]string, n)
			gold := make([]string, n)
			sub := make([]labelled, n)
			for k, members := range cl {
				for _, a := range members {
					pred[a] = strconv.Itoa(k)
				}
			}
			for a := range idx {
				gold[a] = ls[idx[a]].Story
				sub[a] = ls[idx[a]]
			}
			m := Evaluate(gold, pred)
			t.Log(fmt.Sprintf("%s th %.2f pairF1 %.3f (P %.3f R %.3f) B3 %.3f mixed %d", link, th, m.PairF1, m.PairPrecision, m.PairRecall, m.BCubedF1, ecbMixed(sub, pred)))
		}
	}
}
