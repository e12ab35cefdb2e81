//go:build scratch

package dedup

import (
	"fmt"
	"os"
	"sort"
	"testing"
	"time"
)

func TestDiagTopics(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := toDocs(t, ls, now)
	c := New(Options{Window: 1e6 * time.Hour, HalfLife: 1e6 * time.Hour, Now: func() time.Time { return now }})
	c.w = parseW(os.Getenv("W"))
	for i := range docs {
		c.Restore(docs[i], docs[i].ID)
	}
	byTopic := map[string][]int{}
	for i, l := range ls {
		if tp := ecbTopic(l.Story); tp != "" {
			byTopic[tp] = append(byTopic[tp], i)
		}
	}
	var tps []string
	for k := range byTopic {
		tps = append(tps, k)
	}
	sort.Strings(tps)
	for _, tp := range tps {
		var s [3]float64
		var n [3]int
		ms := byTopic[tp]
		for x := 0; x < len(ms); x++ {
			for y := x + 1; y < len(ms); y++ {
				a, b := ms[x], ms[y]
				e, _ := c.Explain(docs[a].ID, docs[b].ID)
				k := 2
				if ls[a].Story == ls[b].Story {
					k = 0
					if len(ls[a].Story) > 3 && ls[a].Story[len(ls[a].Story)-4:] == "plus" {
						k = 1
					}
				}
				s[k] += e.Cosine
				n[k]++
			}
		}
		fmt.Printf("topic %3s ecb %.3f plus %.3f cross %.3f\n", tp, s[0]/float64(n[0]), s[1]/float64(n[1]), s[2]/float64(n[2]))
	}
}
