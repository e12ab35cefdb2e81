package dedup

import "fmt"

// Metrics compares a clustering with gold labels.
//
// Pairwise scores count pairs of articles: precision is the share of pairs
// put together that belong together, recall the share of pairs that belong
// together that were put together. Large stories dominate them, since a
// story of n articles has n(n-1)/2 pairs. BCubed scores average over
// articles instead: each article's precision is the share of its predicted
// story that shares its gold story, its recall the share of its gold story
// found in its predicted story. Singletons count fully in BCubed and not at
// all in pairwise scores, so the two views complement each other.
type Metrics struct {
	Articles              int
	GoldStories           int
	PredictedStories      int
	PairPrecision         float64
	PairRecall            float64
	PairF1                float64
	BCubedPrecision       float64
	BCubedRecall          float64
	BCubedF1              float64
	TruePairs, FalsePairs int64 // pairs put together rightly and wrongly
	MissedPairs           int64 // pairs that belong together but were split
}

// Evaluate scores predicted story labels against gold ones; gold[i] and
// predicted[i] are the labels of article i. It panics if the slices differ
// in length.
func Evaluate(gold, predicted []string) Metrics {
	if len(gold) != len(predicted) {
		panic(fmt.Sprintf("dedup.Evaluate: %d gold labels, %d predicted", len(gold), len(predicted)))
	}
	m := Metrics{Articles: len(gold)}
	if len(gold) == 0 {
		return m
	}
	goldSize := map[string]int{}
	predSize := map[string]int{}
	type cell struct{ g, p string }
	both := map[cell]int{}
	for i := range gold {
		goldSize[gold[i]]++
		predSize[predicted[i]]++
		both[cell{gold[i], predicted[i]}]++
	}
	m.GoldStories, m.PredictedStories = len(goldSize), len(predSize)

	pairs := func(n int) int64 { return int64(n) * int64(n-1) / 2 }
	var together, predTogether, goldTogether int64
	for _, n := range both {
		together += pairs(n)
	}
	for _, n := range predSize {
		predTogether += pairs(n)
	}
	for _, n := range goldSize {
		goldTogether += pairs(n)
	}
	m.TruePairs = together
	m.FalsePairs = predTogether - together
	m.MissedPairs = goldTogether - together
	m.PairPrecision = ratio(together, predTogether)
	m.PairRecall = ratio(together, goldTogether)
	m.PairF1 = f1(m.PairPrecision, m.PairRecall)

	// Every article in a (gold, predicted) cell of size n has n correct
	// story-mates, itself included.
	var p, r float64
	for k, n := range both {
		p += float64(n) * float64(n) / float64(predSize[k.p])
		r += float64(n) * float64(n) / float64(goldSize[k.g])
	}
	m.BCubedPrecision = p / float64(len(gold))
	m.BCubedRecall = r / float64(len(gold))
	m.BCubedF1 = f1(m.BCubedPrecision, m.BCubedRecall)
	return m
}

// ratio is a/b, and 1 when there is nothing to get wrong (b == 0).
func ratio(a, b int64) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// String prints the metrics on a few lines.
func (m Metrics) String() string {
	return fmt.Sprintf("articles %d, gold stories %d, predicted stories %d\n"+
		"pairwise  P %.4f  R %.4f  F1 %.4f  (%d right pairs, %d wrong, %d missed)\n"+
		"BCubed    P %.4f  R %.4f  F1 %.4f\n",
		m.Articles, m.GoldStories, m.PredictedStories,
		m.PairPrecision, m.PairRecall, m.PairF1, m.TruePairs, m.FalsePairs, m.MissedPairs,
		m.BCubedPrecision, m.BCubedRecall, m.BCubedF1)
}
