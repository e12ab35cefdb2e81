package dedup

import (
	"fmt"
	"hash/fnv"
	"math/rand"
	"testing"
)

// The default options were chosen on the whole dev set; they will be judged
// on labelled news Herald has not seen. The tests below are the checks that
// a change generalises rather than fits single stories: the same options on
// disjoint halves of the set, and the same set in other input orders.

// devHalves splits labelled lines into two halves of whole stories, by a
// hash of the story salted with seed. The two events of an ECB+ topic stay
// in one half, so that each half still has look-alike events to keep apart.
func devHalves(ls []labelled, seed int) (a, b []labelled) {
	for _, l := range ls {
		key := l.Story
		if topic, _, ok := ecbEvent(l.ID); ok {
			key = "ecb topic " + topic
		}
		h := fnv.New32a()
		fmt.Fprintf(h, "%d/%s", seed, key)
		// FNV-1a's low bits follow the last bytes closely; take a middle one.
		if (h.Sum32()>>13)&1 == 0 {
			a = append(a, l)
		} else {
			b = append(b, l)
		}
	}
	return a, b
}

// TestDevSetHalves clusters halves of the dev set with the default options.
// Each half has fewer stories and a sparser window than the whole, which is
// what a quieter news day looks like. The floors are the levels the
// default options reach on these halves today (the weakest: pairwise F1
// 0.931, BCubed F1 0.933) less a small margin, and the number of ECB+
// topics that mix their two events over all six halves (7 today; the
// target is none); they catch a change that helps the whole set by
// fitting some of its stories.
func TestDevSetHalves(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	mixes := 0
	for seed := 1; seed <= 3; seed++ {
		a, b := devHalves(ls, seed)
		for i, half := range [][]labelled{a, b} {
			t.Run(fmt.Sprintf("split%d/%c", seed, 'A'+i), func(t *testing.T) {
				if len(half) == 0 {
					t.Fatal("empty half")
				}
				pred := clusterLabelled(t, half, DefaultOptions())
				m := Evaluate(goldOf(half), pred)
				mixed := ecbMixes(half, pred)
				mixes += len(mixed)
				t.Logf("%d articles, %d stories: pairwise F1 %.4f, BCubed F1 %.4f (P %.4f R %.4f), ECB+ mixes %v",
					len(half), m.GoldStories, m.PairF1, m.BCubedF1, m.BCubedPrecision, m.BCubedRecall, mixed)
				if m.PairF1 < 0.925 {
					t.Errorf("pairwise F1 %.4f, want at least 0.925", m.PairF1)
				}
				if m.BCubedF1 < 0.925 {
					t.Errorf("BCubed F1 %.4f, want at least 0.925", m.BCubedF1)
				}
			})
		}
	}
	if mixes > 7 {
		t.Errorf("%d ECB+ topics mix their two events over the six halves, want at most 7", mixes)
	}
}

// TestDevSetOrder clusters the dev set in shuffled input orders. AddBatch
// takes articles in time order and clusters those of one time jointly, so
// the stories must be exactly the same whatever the order of the input.
func TestDevSetOrder(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	want := clusterLabelled(t, ls, DefaultOptions())
	wantOf := make(map[string]string, len(ls))
	for i, l := range ls {
		wantOf[l.ID] = want[i]
	}
	for seed := int64(1); seed <= 2; seed++ {
		t.Run(fmt.Sprintf("shuffle%d", seed), func(t *testing.T) {
			r := rand.New(rand.NewSource(seed))
			sh := make([]labelled, len(ls))
			for i, p := range r.Perm(len(ls)) {
				sh[i] = ls[p]
			}
			got := clusterLabelled(t, sh, DefaultOptions())
			// Story ids are founders' ids, which follow the order among
			// articles of one time; compare the partitions instead.
			ref := make([]string, len(sh))
			for i, l := range sh {
				ref[i] = wantOf[l.ID]
			}
			if m := Evaluate(ref, got); m.FalsePairs != 0 || m.MissedPairs != 0 {
				t.Errorf("shuffled input changed the stories: %d pairs joined, %d split", m.FalsePairs, m.MissedPairs)
			}
		})
	}
}

// TestDevSetOneAtATime adds the dev set one article at a time in arrival
// order, as the daemon does when every article comes from a poll of its
// own. The 183 dated articles cluster exactly as in one batch (they have
// their own times either way: BCubed F1 0.860 on them). The 491 undated
// ones, the ECB+ articles, all arrive at the same moment, and the two
// look-alike events of each topic come interleaved: the first report of
// the second event has only the first event's story to join, and stories
// never split, so most topics become one story (BCubed F1 0.824 on the
// whole set, precision 0.741, against 0.947 for one batch). Real look-alike
// events are years apart, which the time window keeps apart; this floor
// holds today's level until online clustering can revise a recent
// decision.
func TestDevSetOneAtATime(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	opts := DefaultOptions()
	opts.Now = fixedClock(devNow)
	docs := toDocs(t, ls, devNow)
	c := New(opts)
	into := map[int64]int64{}
	res := make([]Result, len(docs))
	// toDocs numbers the articles in arrival order, undated ones last.
	order := make([]int, len(docs))
	for i, d := range docs {
		order[d.ID-1] = i
	}
	for _, i := range order {
		res[i] = c.Add(docs[i])
		for _, m := range res[i].Merged {
			into[m.From] = m.Into
		}
	}
	founder := make(map[int64]string, len(docs))
	for i, d := range docs {
		founder[d.ID] = ls[i].ID
	}
	pred := make([]string, len(ls))
	for i, r := range res {
		s := r.Story
		for next, ok := into[s]; ok; next, ok = into[s] {
			s = next
		}
		pred[i] = founder[s]
	}
	m := Evaluate(goldOf(ls), pred)
	t.Logf("one at a time: pairwise F1 %.4f, BCubed F1 %.4f (P %.4f R %.4f), %d ECB+ topics mixed",
		m.PairF1, m.BCubedF1, m.BCubedPrecision, m.BCubedRecall, len(ecbMixes(ls, pred)))
	var gold, got []string
	for i, l := range ls {
		if _, _, ecb := ecbEvent(l.ID); !ecb {
			gold, got = append(gold, l.Story), append(got, pred[i])
		}
	}
	rest := Evaluate(gold, got)
	t.Logf("one at a time, the %d articles outside ECB+: pairwise F1 %.4f, BCubed F1 %.4f", rest.Articles, rest.PairF1, rest.BCubedF1)
	if m.BCubedF1 < 0.81 {
		t.Errorf("BCubed F1 %.4f one at a time, want at least 0.81", m.BCubedF1)
	}
}
