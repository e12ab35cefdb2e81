//go:build scratch

package dedup

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func envf(k string, d float64) float64 {
	if v := os.Getenv(k); v != "" {
		f, _ := strconv.ParseFloat(v, 64)
		return f
	}
	return d
}

func TestGrid(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	for _, th := range strings.Split(os.Getenv("TH"), ",") {
		v, _ := strconv.ParseFloat(th, 64)
		opts := Options{Threshold: v, Neighbors: int(envf("K", 5)), MinSimilarity: envf("MINSIM", 0.1), HalfLife: durH(envf("HL", 72))}
		pred, m := runDevW(t, opts, ls, parseW(os.Getenv("W")))
		mixed := ecbMixed(ls, pred)
		t.Logf("th %.3f  pair P %.3f R %.3f F1 %.3f  B3 P %.3f R %.3f F1 %.3f  stories %d  ecbmixed %d", v, m.PairPrecision, m.PairRecall, m.PairF1, m.BCubedPrecision, m.BCubedRecall, m.BCubedF1, m.PredictedStories, mixed)
	}
}

func ecbMixed(ls []labelled, pred []string) int {
	type k struct{ p, topic string }
	ev := map[k]map[string]bool{}
	for i, l := range ls {
		tp := ecbTopic(l.Story)
		if tp == "" {
			continue
		}
		kk := k{pred[i], tp}
		if ev[kk] == nil {
			ev[kk] = map[string]bool{}
		}
		ev[kk][l.Story] = true
	}
	n := 0
	for _, m := range ev {
		if len(m) > 1 {
			n++
		}
	}
	return n
}
