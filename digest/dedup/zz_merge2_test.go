//go:build scratch

package dedup

import (
	"fmt"
	"os"
	"sort"
	"testing"
	"time"
)

func TestMergeQuality(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := toDocs(t, ls, now)
	gold := map[int64]string{}
	for i, d := range docs {
		gold[d.ID] = ls[i].Story
	}
	type rec struct {
		link   float64
		nx, ny int
		purity float64
		ok     bool
		cx, cy float64
	}
	var recs []rec
	debugMerge = func(c *Clusterer, x, y *story, link float64) {
		maj := func(s *story) (string, int) {
			cnt := map[string]int{}
			for _, m := range s.members {
				cnt[gold[c.ix.slots[m].id]]++
			}
			best, bn := "", 0
			for g, n := range cnt {
				if n > bn {
					best, bn = g, n
				}
			}
			return best, bn
		}
		gx, _ := maj(x)
		gy, _ := maj(y)
		coh := func(s *story) float64 {
			if len(s.members) < 2 {
				return -1
			}
			var sum float64
			for _, a := range s.members {
				for _, ed := range c.ix.slots[a].adj {
					if c.ix.live(ed.slot, ed.gen) && c.ix.slots[ed.slot].story == s {
						sum += c.pairLink(a, ed.slot, ed.sim)
					}
				}
			}
			n := len(s.members)
			return sum / float64(n*(n-1))
		}
		cov := func(a, b *story) float64 {
			n := 0
			for _, m := range a.members {
				for _, ed := range c.ix.slots[m].adj {
					if c.ix.live(ed.slot, ed.gen) && c.ix.slots[ed.slot].story == b {
						n++
						break
					}
				}
			}
			return float64(n) / float64(len(a.members))
		}
		_ = coh
		recs = append(recs, rec{link, len(x.members), len(y.members), 0, gx == gy, cov(x, y), cov(y, x)})
	}
	defer func() { debugMerge = nil }()
	opts := Options{Threshold: envf("TH", 0.07), Neighbors: int(envf("K", 6)), MinSimilarity: envf("MINSIM", 0.08), HalfLife: durH(envf("HL", 72)), Now: func() time.Time { return now }}
	c := New(opts)
	c.w = parseW(os.Getenv("W"))
	c.AddBatch(docs)
	sort.Slice(recs, func(i, j int) bool { return recs[i].link < recs[j].link })
	for _, r := range recs {
		if r.link < 0.2 {
			fmt.Printf("%.3f sizes %d+%d ok=%v cov %.3f %.3f\n", r.link, r.nx, r.ny, r.ok, r.cx, r.cy)
		}
	}
}
