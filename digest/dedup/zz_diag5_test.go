//go:build scratch

package dedup

import (
	"fmt"
	"math"
	"os"
	"sort"
	"testing"
	"time"
)

func TestDiagDoc(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := toDocs(t, ls, now)
	c := New(Options{Window: 1e6 * time.Hour, HalfLife: 1e6 * time.Hour, Now: func() time.Time { return now }})
	c.w = parseW(os.Getenv("W"))
	for i := range docs {
		c.Restore(docs[i], docs[i].ID)
	}
	target := os.Getenv("DOC")
	var ti int
	for i, l := range ls {
		if l.ID == target {
			ti = i
		}
	}
	st := ls[ti].Story
	tp := ecbTopic(st)
	own, oth := map[uint64]float64{}, map[uint64]float64{}
	for i, l := range ls {
		if i == ti || ecbTopic(l.Story) != tp {
			continue
		}
		dst := oth
		if l.Story == st {
			dst = own
		}
		for k, v := range vecOf(c, docs[i].ID) {
			dst[k] += v
		}
	}
	v := vecOf(c, docs[ti].ID)
	norm := func(m map[uint64]float64) float64 {
		s := 0.0
		for _, x := range m {
			s += x * x
		}
		return math.Sqrt(s)
	}
	no, nx := norm(own), norm(oth)
	type row struct {
		name      string
		w, co, cx float64
	}
	var rows []row
	for k, w := range v {
		e, _ := c.ix.terms.get(k)
		rows = append(rows, row{string(e.kind) + ":" + e.name, w, w * own[k] / no, w * oth[k] / nx})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].w > rows[j].w })
	so, sx := 0.0, 0.0
	for _, r := range rows {
		so += r.co
		sx += r.cx
		fmt.Printf("%-30s w %.3f own %.4f other %.4f\n", r.name, r.w, r.co, r.cx)
	}
	fmt.Println("total", so, sx)
}
