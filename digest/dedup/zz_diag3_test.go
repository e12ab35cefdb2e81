//go:build scratch

package dedup

import (
	"math"
	"sort"
	"testing"
	"time"
)

func vecOf(c *Clusterer, id int64) map[uint64]float64 {
	e := &c.ix.slots[c.ix.byID[id]]
	m := map[uint64]float64{}
	for i, t := range e.f.terms {
		m[t] = float64(e.f.weights[i])
	}
	return m
}

func cosm(a, b map[uint64]float64) float64 {
	var d, na, nb float64
	for k, v := range a {
		d += v * b[k]
		na += v * v
	}
	for _, v := range b {
		nb += v * v
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return d / math.Sqrt(na*nb)
}

func TestDiagCentroid(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := toDocs(t, ls, now)
	c := New(Options{Window: 1e6 * time.Hour, HalfLife: 1e6 * time.Hour, Now: func() time.Time { return now }})
	for i := range docs {
		c.Restore(docs[i], docs[i].ID)
	}
	members := map[string][]int{}
	for i, l := range ls {
		members[l.Story] = append(members[l.Story], i)
	}
	cent := func(story string, skip int) map[uint64]float64 {
		m := map[uint64]float64{}
		for _, i := range members[story] {
			if i == skip {
				continue
			}
			for k, v := range vecOf(c, docs[i].ID) {
				m[k] += v
			}
		}
		return m
	}
	var own, other, margin []float64
	bad := 0
	for i, l := range ls {
		tp := ecbTopic(l.Story)
		if tp == "" || len(members[l.Story]) < 2 {
			continue
		}
		var o string
		for s := range members {
			if s != l.Story && ecbTopic(s) == tp {
				o = s
			}
		}
		v := vecOf(c, docs[i].ID)
		a := cosm(v, cent(l.Story, i))
		b := cosm(v, cent(o, -1))
		own = append(own, a)
		other = append(other, b)
		margin = append(margin, a-b)
		if a <= b {
			bad++
			t.Logf("closer to other: %s own %.3f other %.3f  %.80s", l.ID, a, b, l.Title)
		}
	}
	t.Logf("own    %s", quant(own))
	t.Logf("other  %s", quant(other))
	t.Logf("margin %s", quant(margin))
	t.Logf("bad %d", bad)
	_ = sort.Float64s
}
