package dedup

import (
	"math"
	"testing"
)

func TestEvaluate(t *testing.T) {
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }
	tests := []struct {
		name                 string
		gold, pred           []string
		pairP, pairR         float64
		b3P, b3R             float64
		goldN, predN         int
		right, wrong, missed int64
	}{
		{"perfect", []string{"a", "a", "b"}, []string{"x", "x", "y"}, 1, 1, 1, 1, 2, 2, 1, 0, 0},
		{"all singletons", []string{"a", "a", "b"}, []string{"1", "2", "3"}, 1, 0, 1, 2.0 / 3, 2, 3, 0, 0, 1},
		{"all together", []string{"a", "a", "b"}, []string{"x", "x", "x"}, 1.0 / 3, 1, 5.0 / 9, 1, 2, 1, 1, 2, 0},
		// gold {1,2,3} {4}; predicted {1,2} {3,4}
		{"one moved", []string{"a", "a", "a", "b"}, []string{"x", "x", "y", "y"}, 0.5, 1.0 / 3,
			(1 + 1 + 0.5 + 0.5) / 4, (2.0/3 + 2.0/3 + 1.0/3 + 1) / 4, 2, 2, 1, 1, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Evaluate(tc.gold, tc.pred)
			if !near(m.PairPrecision, tc.pairP) || !near(m.PairRecall, tc.pairR) {
				t.Errorf("pairwise P %v R %v, want %v %v", m.PairPrecision, m.PairRecall, tc.pairP, tc.pairR)
			}
			if !near(m.BCubedPrecision, tc.b3P) || !near(m.BCubedRecall, tc.b3R) {
				t.Errorf("BCubed P %v R %v, want %v %v", m.BCubedPrecision, m.BCubedRecall, tc.b3P, tc.b3R)
			}
			if m.GoldStories != tc.goldN || m.PredictedStories != tc.predN {
				t.Errorf("stories %d gold %d predicted, want %d %d", m.GoldStories, m.PredictedStories, tc.goldN, tc.predN)
			}
			if m.TruePairs != tc.right || m.FalsePairs != tc.wrong || m.MissedPairs != tc.missed {
				t.Errorf("pairs right %d wrong %d missed %d, want %d %d %d", m.TruePairs, m.FalsePairs, m.MissedPairs, tc.right, tc.wrong, tc.missed)
			}
			if want := 2 * m.BCubedPrecision * m.BCubedRecall / (m.BCubedPrecision + m.BCubedRecall); !near(m.BCubedF1, want) {
				t.Errorf("BCubed F1 %v, want %v", m.BCubedF1, want)
			}
		})
	}
}
