//go:build scratch

package dedup

import (
	"testing"
)

func BenchmarkExtract(b *testing.B) {
	docs := syntheticStream(b, 2000)
	x := newExtractor()
	obs := map[uint64]*termEntry{}
	observe := func(id uint64, kind byte, text string, _ []byte) *termEntry {
		e := obs[id]
		if e == nil {
			e = &termEntry{}
			obs[id] = e
		}
		return e
	}
	bytes := 0
	for i := range docs {
		bytes += len(docs[i].Text) + len(docs[i].Title)
	}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		for i := range docs {
			x.extract(&docs[i], defaultWeighting, observe, nil)
		}
	}
	b.ReportMetric(float64(b.N*len(docs))/b.Elapsed().Seconds(), "docs/s")
	b.SetBytes(int64(bytes))
}

func BenchmarkTokenize(b *testing.B) {
	docs := syntheticStream(b, 2000)
	x := newExtractor()
	bytes := 0
	for i := range docs {
		bytes += len(docs[i].Text) + len(docs[i].Title)
	}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		for i := range docs {
			x.read(&docs[i], defaultWeighting)
		}
	}
	b.ReportMetric(float64(b.N*len(docs))/b.Elapsed().Seconds(), "docs/s")
	b.SetBytes(int64(bytes))
}
