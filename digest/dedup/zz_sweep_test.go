//go:build scratch

package dedup

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

func runDev(tb testing.TB, opts Options, ls []labelled) ([]string, Metrics) {
	return runDevW(tb, opts, ls, defaultWeighting)
}

func runDevW(tb testing.TB, opts Options, ls []labelled, w weighting) ([]string, Metrics) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	opts.Now = func() time.Time { return now }
	docs := toDocs(tb, ls, now)
	c := New(opts)
	c.w = w
	res := c.AddBatch(docs)
	pred := make([]string, len(ls))
	gold := make([]string, len(ls))
	byID := map[int64]string{}
	for i, d := range docs {
		byID[d.ID] = ls[i].ID
	}
	for i := range ls {
		pred[i] = byID[res[i].Story]
		gold[i] = ls[i].Story
	}
	return pred, Evaluate(gold, pred)
}

func TestSweep(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	pred, m := runDev(t, Options{}, ls)
	t.Log("\n" + m.String())
	// impure predicted clusters
	clusters := map[string][]int{}
	for i, p := range pred {
		clusters[p] = append(clusters[p], i)
	}
	var keys []string
	for k := range clusters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := map[string]int{}
		for _, i := range clusters[k] {
			g[ls[i].Story]++
		}
		if len(g) > 1 {
			var parts []string
			for s, n := range g {
				parts = append(parts, fmt.Sprintf("%s:%d", s, n))
			}
			sort.Strings(parts)
			t.Logf("MIXED %s: %s", k, strings.Join(parts, " "))
		}
	}
	// split gold
	gs := map[string]map[string]int{}
	for i, l := range ls {
		if gs[l.Story] == nil {
			gs[l.Story] = map[string]int{}
		}
		gs[l.Story][pred[i]]++
	}
	var gk []string
	for k := range gs {
		gk = append(gk, k)
	}
	sort.Strings(gk)
	for _, k := range gk {
		if len(gs[k]) > 1 {
			var parts []int
			for _, n := range gs[k] {
				parts = append(parts, n)
			}
			sort.Sort(sort.Reverse(sort.IntSlice(parts)))
			t.Logf("SPLIT %s: %v", k, parts)
		}
	}
}

func durH(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }
