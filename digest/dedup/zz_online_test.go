//go:build scratch

package dedup

import (
	"fmt"
	"math/rand"
	"os"
	"testing"
	"time"
)

// one-at-a-time arrival of undated docs in shuffled order
func TestOnlineShuffled(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	for seed := int64(1); seed <= 3; seed++ {
		r := rand.New(rand.NewSource(seed))
		perm := r.Perm(len(ls))
		sh := make([]labelled, len(ls))
		for i, p := range perm {
			sh[i] = ls[p]
		}
		now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		// give undated docs distinct times in shuffled order
		k := 0
		for i := range sh {
			if sh[i].Published == "" {
				sh[i].Published = now.Add(time.Duration(k) * time.Second).Format(time.RFC3339)
				k++
			}
		}
		opts := Options{Threshold: envf("TH", 0.07), Neighbors: int(envf("K", 6)), MinSimilarity: envf("MINSIM", 0.08), HalfLife: durH(envf("HL", 72))}
		pred, m := runDevW(t, opts, sh, parseW(os.Getenv("W")))
		fmt.Printf("seed %d online: pair F1 %.3f (P %.3f R %.3f) B3 F1 %.3f (P %.3f R %.3f) mixed %d\n", seed, m.PairF1, m.PairPrecision, m.PairRecall, m.BCubedF1, m.BCubedPrecision, m.BCubedRecall, ecbMixed(sh, pred))
		// shuffled but batch
		sh2 := make([]labelled, len(ls))
		for i, p := range perm {
			sh2[i] = ls[p]
		}
		pred, m = runDevW(t, opts, sh2, parseW(os.Getenv("W")))
		fmt.Printf("seed %d batch:  pair F1 %.3f (P %.3f R %.3f) B3 F1 %.3f (P %.3f R %.3f) mixed %d\n", seed, m.PairF1, m.PairPrecision, m.PairRecall, m.BCubedF1, m.BCubedPrecision, m.BCubedRecall, ecbMixed(sh2, pred))
	}
}
