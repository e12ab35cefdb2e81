//go:build scratch

package dedup

import (
	"fmt"
	"testing"
)

func TestPostingStats(t *testing.T) {
	docs := syntheticStream(t, 10000)
	c := New(Options{})
	var visits, touched, cands, toks, terms, deadv int
	for i := range docs {
		if i >= 5000 {
			f := c.featurize(&docs[i])
			for _, e := range f.ents {
				visits += len(e.post.active())

			}
			cs := c.candidates(&f, docs[i].Time.Unix())
			touched += len(c.ix.touched)
			cands += len(cs)
			toks += len(c.x.tz.toks)
			terms += len(c.x.pool)
		}
		c.Add(docs[i])
	}
	n := 5000
	fmt.Printf("dead visits %d per doc: postings visited %d, touched %d, candidates %d, tokens %d, distinct terms %d, window %d\n", deadv/n, visits/n, touched/n, cands/n, toks/n, terms/n, c.Len())
}

func TestCommonTermShare(t *testing.T) {
	docs := syntheticStream(t, 10000)
	c := New(Options{})
	for _, frac := range []float64{0.02, 0.05, 0.1} {
		_ = frac
	}
	var visits, skipped [3]int
	var lost [3]float64
	var total float64
	fr := []float64{0.02, 0.05, 0.1}
	for i := range docs {
		if i >= 5000 && i%5 == 0 {
			f := c.featurize(&docs[i])
			cs := c.candidates(&f, docs[i].Time.Unix())
			live := float64(c.Len())
			for k, frac := range fr {
				for _, e := range f.ents {
					n := len(e.post.active())
					visits[k] += n
					if float64(n) > frac*live {
						skipped[k] += n
					}
				}
				// cos mass from common terms for candidates >= minsim
				for _, cd := range cs {
					if cd.cos < 0.08 {
						continue
					}
					o := &c.ix.slots[cd.slot].f
					if k == 0 {
						total += cd.cos
					}
					ii, jj := 0, 0
					for ii < len(f.terms) && jj < len(o.terms) {
						switch {
						case f.terms[ii] < o.terms[jj]:
							ii++
						case f.terms[ii] > o.terms[jj]:
							jj++
						default:
							if float64(len(f.ents[ii].post.active())) > frac*live {
								lost[k] += float64(f.weights[ii]) * float64(o.weights[jj])
							}
							ii++
							jj++
						}
					}
				}
			}
		}
		c.Add(docs[i])
	}
	for k, frac := range fr {
		fmt.Printf("df>%.2f window: visits skipped %.2f, cos mass lost %.3f\n", frac, float64(skipped[k])/float64(visits[k]), lost[k]/total)
	}
}
