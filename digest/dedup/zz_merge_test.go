//go:build scratch

package dedup

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMergeTrace(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := toDocs(t, ls, now)
	name := map[int64]string{}
	for i, d := range docs {
		name[d.ID] = ls[i].ID
	}
	prefix := os.Getenv("PFX")
	debugMerge = func(c *Clusterer, x, y *story, link float64) {
		desc := func(s *story) string {
			var parts []string
			for _, m := range s.members {
				parts = append(parts, name[c.ix.slots[m].id])
			}
			return strings.Join(parts, ",")
		}
		dx, dy := desc(x), desc(y)
		if strings.Contains(dx, prefix) || strings.Contains(dy, prefix) {
			fmt.Printf("merge %.3f [%s] + [%s]\n", link, dx, dy)
		}
	}
	defer func() { debugMerge = nil }()
	opts := Options{Threshold: envf("TH", 0.07), Neighbors: int(envf("K", 6)), MinSimilarity: envf("MINSIM", 0.08), HalfLife: durH(envf("HL", 72)), Now: func() time.Time { return now }}
	c := New(opts)
	c.w = parseW(os.Getenv("W"))
	c.AddBatch(docs)
}
