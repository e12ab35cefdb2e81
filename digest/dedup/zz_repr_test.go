//go:build scratch

package dedup

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

func parseW(s string) weighting {
	w := defaultWeighting
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		f, _ := strconv.ParseFloat(v, 64)
		switch k {
		case "title":
			w.title = float32(f)
		case "lead":
			w.lead = float32(f)
		case "name":
			w.name = float32(f)
		case "number":
			w.number = float32(f)
		case "dfloor":
			w.dateFloor = float32(f)
		case "text":
			w.maxText = int(f)
		case "mt":
			w.maxTerms = int(f)
		case "tt":
			w.termText = int(f)
		case "leadn":
			w.leadTokens = int(f)
		}
	}
	return w
}

func reprEval(t *testing.T, ls []labelled, w weighting) string {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := toDocs(t, ls, now)
	c := New(Options{Window: 1e6 * time.Hour, HalfLife: 1e6 * time.Hour, Now: func() time.Time { return now }})
	c.w = w
	for i := range docs {
		c.Restore(docs[i], docs[i].ID)
	}
	var idx []int
	for i, l := range ls {
		if ecbTopic(l.Story) != "" || os.Getenv("ALL") != "" {
			idx = append(idx, i)
		}
	}
	n := len(idx)
	vecs := make([]map[uint64]float64, n)
	for a := range idx {
		vecs[a] = vecOf(c, docs[idx[a]].ID)
	}
	dvecs := make([]map[uint64]float64, n)
	for a := range vecs {
		dvecs[a] = map[uint64]float64{}
		for k, v := range vecs[a] {
			if e, _ := c.ix.terms.get(k); e.kind == termDate {
				dvecs[a][k] = v
			}
		}
	}
	floor := envf("FLOOR", 1)
	sim := make([][]float64, n)
	for a := range sim {
		sim[a] = make([]float64, n)
		for b := range sim[a] {
			if a != b {
				sim[a][b] = cosm(vecs[a], vecs[b])
				if dt := docs[idx[a]].Time.Sub(docs[idx[b]].Time); dt > 72*time.Hour || dt < -72*time.Hour {
					sim[a][b] = 0
				}
				if len(dvecs[a]) > 0 && len(dvecs[b]) > 0 {
					sim[a][b] *= floor + (1-floor)*cosm(dvecs[a], dvecs[b])
				}
			}
		}
	}
	// oracle centroid
	members := map[string][]int{}
	for a := range idx {
		members[ls[idx[a]].Story] = append(members[ls[idx[a]].Story], a)
	}
	bad := 0
	var margins []float64
	for a := range idx {
		st := ls[idx[a]].Story
		tp := ecbTopic(st)
		own := map[uint64]float64{}
		oth := map[uint64]float64{}
		for s, ms := range members {
			if ecbTopic(s) != tp {
				continue
			}
			for _, m := range ms {
				if m == a {
					continue
				}
				dst := oth
				if s == st {
					dst = own
				}
				for k, v := range vecs[m] {
					dst[k] += v
				}
			}
		}
		o, x := cosm(vecs[a], own), cosm(vecs[a], oth)
		margins = append(margins, o-x)
		if o <= x {
			bad++
			if os.Getenv("SHOWBAD") != "" {
				fmt.Println("BAD", ls[idx[a]].ID, o, x, ls[idx[a]].Title, "||", strings.ReplaceAll(ls[idx[a]].Text[:min(300, len(ls[idx[a]].Text))], "\n", " "))
			}
		}
	}
	out := fmt.Sprintf("oracle bad %d margin %s\n", bad, quant(margins))
	for _, link := range []string{"avg", "complete"} {
		out += agglo(ls, idx, sim, link) + "\n"
	}
	for _, k := range []int{4, 5, 6, 7} {
		nn := make([]map[int]bool, n)
		for a := 0; a < n; a++ {
			order := make([]int, 0, n)
			for b := 0; b < n; b++ {
				if b != a {
					order = append(order, b)
				}
			}
			sort.Slice(order, func(i, j int) bool { return sim[a][order[i]] > sim[a][order[j]] })
			nn[a] = map[int]bool{a: true}
			for _, b := range order[:k] {
				nn[a][b] = true
			}
		}
		snn := make([][]float64, n)
		for a := range snn {
			snn[a] = make([]float64, n)
			for b := range snn[a] {
				if a == b {
					continue
				}
				cnt := 0
				for x := range nn[a] {
					if nn[b][x] {
						cnt++
					}
				}
				snn[a][b] = float64(cnt) / float64(k+1)
			}
		}
		for _, ex := range []float64{0.3, 0.5, 0.7} {
			comb := make([][]float64, n)
			for a := range comb {
				comb[a] = make([]float64, n)
				for b := range comb[a] {
					comb[a][b] = math.Pow(snn[a][b], ex) * math.Pow(sim[a][b], 1-ex)
					if os.Getenv("KNNONLY") != "" && !nn[a][b] && !nn[b][a] {
						comb[a][b] = 0
					}
					if os.Getenv("KNNONLY") == "mutual" && !(nn[a][b] && nn[b][a]) {
						comb[a][b] = 0
					}
				}
			}
			out += fmt.Sprintf("k=%d ex=%.1f: ", k, ex) + agglo(ls, idx, comb, fmt.Sprintf("k%dex%.1f", k, ex)) + "\n"
		}
	}
	return out
}

func TestRepr(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	for _, cfg := range strings.Split(os.Getenv("W"), ";") {
		t.Logf("%s\n%s", cfg, reprEval(t, ls, parseW(cfg)))
	}
}

// agglo runs agglomerative clustering once with Lance-Williams updates and
// reports the best pairwise F1 over thresholds.
func agglo(ls []labelled, idx []int, sim0 [][]float64, link string) string {
	n := len(idx)
	sim := make([][]float64, n)
	for a := range sim {
		sim[a] = append([]float64(nil), sim0[a]...)
	}
	size := make([]int, n)
	label := make([]int, n)
	alive := make([]bool, n)
	for a := range size {
		size[a], label[a], alive[a] = 1, a, true
	}
	gold := make([]string, n)
	sub := make([]labelled, n)
	for a := range idx {
		gold[a] = ls[idx[a]].Story
		sub[a] = ls[idx[a]]
	}
	best, bestF := "", 0.0
	checkpoints := []float64{}
	for th := 0.6; th >= 0.04; th -= 0.01 {
		checkpoints = append(checkpoints, th)
	}
	ci := 0
	eval := func(th float64) {
		pred := make([]string, n)
		for a := range pred {
			pred[a] = strconv.Itoa(label[a])
		}
		m := Evaluate(gold, pred)
		if os.Getenv("SHOWMIX") != "" && math.Abs(th-envf("SHOWMIX", 0)) < 1e-6 && link == os.Getenv("SHOWLINK") {
			cl := map[string]map[string]int{}
			for a := range pred {
				if cl[pred[a]] == nil {
					cl[pred[a]] = map[string]int{}
				}
				cl[pred[a]][gold[a]]++
			}
			for _, g := range cl {
				if len(g) > 1 {
					fmt.Println("MIX", g)
				}
			}
			gs := map[string]map[string]int{}
			for a := range pred {
				if gs[gold[a]] == nil {
					gs[gold[a]] = map[string]int{}
				}
				gs[gold[a]][pred[a]]++
			}
			for g, ps := range gs {
				if len(ps) > 1 {
					var sz []int
					for _, v := range ps {
						sz = append(sz, v)
					}
					sort.Sort(sort.Reverse(sort.IntSlice(sz)))
					fmt.Println("SPLIT", g, sz)
				}
			}
		}
		if m.PairF1 > bestF {
			bestF = m.PairF1
			best = fmt.Sprintf("%s th %.2f pairF1 %.3f (P %.3f R %.3f) B3 %.3f mixed %d", link, th, m.PairF1, m.PairPrecision, m.PairRecall, m.BCubedF1, ecbMixed(sub, pred))
		}
	}
	for {
		bi, bj, bs := -1, -1, -1.0
		for i := 0; i < n; i++ {
			if !alive[i] {
				continue
			}
			for j := i + 1; j < n; j++ {
				if alive[j] && sim[i][j] > bs {
					bi, bj, bs = i, j, sim[i][j]
				}
			}
		}
		for ci < len(checkpoints) && bs < checkpoints[ci] {
			eval(checkpoints[ci])
			ci++
		}
		if bi < 0 || ci >= len(checkpoints) {
			break
		}
		for k := 0; k < n; k++ {
			if !alive[k] || k == bi || k == bj {
				continue
			}
			var v float64
			if link != "complete" {
				v = (sim[bi][k]*float64(size[bi]) + sim[bj][k]*float64(size[bj])) / float64(size[bi]+size[bj])
			} else {
				v = math.Min(sim[bi][k], sim[bj][k])
			}
			sim[bi][k], sim[k][bi] = v, v
		}
		size[bi] += size[bj]
		alive[bj] = false
		for a := range label {
			if label[a] == bj {
				label[a] = bi
			}
		}
	}
	return best
}

// aggloRel: average-link with a relative cohesion test.
func aggloRel(ls []labelled, idx []int, sim0 [][]float64, rho float64) string {
	n := len(idx)
	sim := make([][]float64, n)
	for a := range sim {
		sim[a] = append([]float64(nil), sim0[a]...)
	}
	size := make([]int, n)
	internal := make([]float64, n) // sum of internal pair sims
	label := make([]int, n)
	alive := make([]bool, n)
	for a := range size {
		size[a], label[a], alive[a] = 1, a, true
	}
	gold := make([]string, n)
	sub := make([]labelled, n)
	for a := range idx {
		gold[a] = ls[idx[a]].Story
		sub[a] = ls[idx[a]]
	}
	coh := func(i int) float64 {
		if size[i] < 2 {
			return 0
		}
		return internal[i] / float64(size[i]*(size[i]-1)/2)
	}
	best, bestF := "", 0.0
	for th := 0.3; th >= 0.04; th -= 0.02 {
		// continue merging at this threshold
		for {
			bi, bj, bs := -1, -1, -1.0
			for i := 0; i < n; i++ {
				if !alive[i] {
					continue
				}
				for j := i + 1; j < n; j++ {
					if !alive[j] || sim[i][j] < th || sim[i][j] <= bs {
						continue
					}
					if sim[i][j] < rho*math.Max(coh(i), coh(j)) {
						continue
					}
					bi, bj, bs = i, j, sim[i][j]
				}
			}
			if bi < 0 {
				break
			}
			for k := 0; k < n; k++ {
				if !alive[k] || k == bi || k == bj {
					continue
				}
				v := (sim[bi][k]*float64(size[bi]) + sim[bj][k]*float64(size[bj])) / float64(size[bi]+size[bj])
				sim[bi][k], sim[k][bi] = v, v
			}
			internal[bi] += internal[bj] + bs*float64(size[bi]*size[bj])
			size[bi] += size[bj]
			alive[bj] = false
			for a := range label {
				if label[a] == bj {
					label[a] = bi
				}
			}
		}
		pred := make([]string, n)
		for a := range pred {
			pred[a] = strconv.Itoa(label[a])
		}
		m := Evaluate(gold, pred)
		if m.PairF1 > bestF {
			bestF = m.PairF1
			best = fmt.Sprintf("rel%.2f th %.2f pairF1 %.3f (P %.3f R %.3f) B3 %.3f mixed %d", rho, th, m.PairF1, m.PairPrecision, m.PairRecall, m.BCubedF1, ecbMixed(sub, pred))
		}
	}
	return best
}
