//go:build scratch

package dedup

import (
	"fmt"
	"os"
	"sort"
	"testing"
	"time"
)

func TestOracleGap(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := toDocs(t, ls, now)
	opts := Options{Threshold: envf("TH", 0.07), Neighbors: int(envf("K", 6)), MinSimilarity: envf("MINSIM", 0.08), HalfLife: durH(envf("HL", 100000))}
	pred, _ := runDevW(t, opts, ls, parseW(os.Getenv("W")))
	// oracle chained components
	by := map[string][]int{}
	for i, l := range ls {
		by[l.Story] = append(by[l.Story], i)
	}
	oracle := make([]string, len(ls))
	for s, ms := range by {
		sort.Slice(ms, func(a, b int) bool {
			return docs[ms[a]].Time.Before(docs[ms[b]].Time) || docs[ms[a]].Time.Equal(docs[ms[b]].Time) && ms[a] < ms[b]
		})
		cur := ""
		var last time.Time
		for _, i := range ms {
			tt := docs[i].Time
			if tt.IsZero() {
				tt = now
			}
			if cur == "" || tt.Sub(last) > 72*time.Hour {
				cur = fmt.Sprintf("%s#%d", s, i)
			}
			oracle[i] = cur
			last = tt
		}
	}
	gold := make([]string, len(ls))
	for i := range ls {
		gold[i] = ls[i].Story
	}
	m := Evaluate(gold, oracle)
	fmt.Printf("oracle: B3 P %.3f R %.3f F1 %.3f pair F1 %.3f\n", m.BCubedPrecision, m.BCubedRecall, m.BCubedF1, m.PairF1)
	// per oracle component, how split is our prediction
	comp := map[string]map[string]int{}
	for i := range ls {
		if comp[oracle[i]] == nil {
			comp[oracle[i]] = map[string]int{}
		}
		comp[oracle[i]][pred[i]]++
	}
	var keys []string
	for k := range comp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(comp[k]) > 1 {
			var sz []int
			for _, v := range comp[k] {
				sz = append(sz, v)
			}
			sort.Sort(sort.Reverse(sort.IntSlice(sz)))
			fmt.Println("OURSPLIT", k, sz)
		}
	}
	m2 := Evaluate(oracle, pred)
	fmt.Printf("pred vs oracle: B3 P %.3f R %.3f F1 %.3f\n", m2.BCubedPrecision, m2.BCubedRecall, m2.BCubedF1)
}
