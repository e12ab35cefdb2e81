//go:build scratch

package dedup

import (
	"fmt"
	"os"
	"sort"
	"testing"
)

func TestDetail(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	opts := Options{Threshold: envf("TH", 0.07), Neighbors: int(envf("K", 6)), MinSimilarity: envf("MINSIM", 0.08), HalfLife: durH(envf("HL", 72))}
	pred, m := runDevW(t, opts, ls, parseW(os.Getenv("W")))
	fmt.Print(m.String())
	cl := map[string]map[string][]string{}
	for i := range ls {
		if cl[pred[i]] == nil {
			cl[pred[i]] = map[string][]string{}
		}
		cl[pred[i]][ls[i].Story] = append(cl[pred[i]][ls[i].Story], ls[i].ID)
	}
	for p, g := range cl {
		if len(g) > 1 {
			fmt.Println("MIX", p)
			for s, ids := range g {
				fmt.Println("    ", s, ids)
			}
		}
	}
	gs := map[string]map[string]int{}
	for i := range ls {
		if gs[ls[i].Story] == nil {
			gs[ls[i].Story] = map[string]int{}
		}
		gs[ls[i].Story][pred[i]]++
	}
	var keys []string
	for k := range gs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, g := range keys {
		ps := gs[g]
		if len(ps) > 1 {
			var sz []int
			for _, v := range ps {
				sz = append(sz, v)
			}
			sort.Sort(sort.Reverse(sort.IntSlice(sz)))
			fmt.Println("SPLIT", g, sz)
		}
	}
}
