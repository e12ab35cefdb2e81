//go:build scratch

package dedup

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

func ecbTopic(s string) string {
	if !strings.HasPrefix(s, "ecb:") {
		return ""
	}
	t, _, _ := strings.Cut(s[4:], "_")
	return t
}

func quant(xs []float64) string {
	sort.Float64s(xs)
	if len(xs) == 0 {
		return "-"
	}
	q := func(p float64) float64 { return xs[int(p*float64(len(xs)-1))] }
	return fmt.Sprintf("n=%d p1 %.3f p5 %.3f p10 %.3f p25 %.3f p50 %.3f p75 %.3f p90 %.3f p95 %.3f p99 %.3f max %.3f", len(xs), q(.01), q(.05), q(.1), q(.25), q(.5), q(.75), q(.9), q(.95), q(.99), xs[len(xs)-1])
}

func TestDiag(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := toDocs(t, ls, now)
	c := New(Options{Window: 1e6 * time.Hour, HalfLife: 1e6 * time.Hour, Now: func() time.Time { return now }})
	for i := range docs {
		c.Restore(docs[i], docs[i].ID)
	}
	var same, sameTopic, other []float64
	var sameN, topicN []float64
	type pr struct {
		a, b int
		s    float64
	}
	var worst []pr
	for i := range ls {
		for j := i + 1; j < len(ls); j++ {
			x, err := c.Explain(docs[i].ID, docs[j].ID)
			if err != nil {
				t.Fatal(err)
			}
			s := x.Cosine
			switch {
			case ls[i].Story == ls[j].Story:
				same = append(same, s)
				sameN = append(sameN, x.Names)
			case ecbTopic(ls[i].Story) != "" && ecbTopic(ls[i].Story) == ecbTopic(ls[j].Story):
				sameTopic = append(sameTopic, s)
				topicN = append(topicN, x.Names)
				worst = append(worst, pr{i, j, s})
			default:
				other = append(other, s)
			}
		}
	}
	t.Logf("same   %s", quant(same))
	t.Logf("topic  %s", quant(sameTopic))
	t.Logf("other  %s", quant(other))
	t.Logf("sameNames  %s", quant(sameN))
	t.Logf("topicNames %s", quant(topicN))
	sort.Slice(worst, func(a, b int) bool { return worst[a].s > worst[b].s })
	for _, w := range worst[:10] {
		t.Logf("%.3f %s %s", w.s, ls[w.a].ID, ls[w.b].ID)
	}
}
