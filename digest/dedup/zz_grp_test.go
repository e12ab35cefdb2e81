//go:build scratch

package dedup

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

func TestGroupBatchesBug(t *testing.T) {
	docs := syntheticStream(t, int(envf("GN", 8000)))
	st := newMemStore()
	var arts []*digest.Article
	for _, d := range docs {
		a := &digest.Article{ID: d.ID, Key: fmt.Sprint(d.ID), URL: d.URL, Title: d.Title, Content: d.Text, Source: d.Source, Published: d.Time, FirstSeen: d.Time}
		arts = append(arts, a)
	}
	st.put(arts...)
	last := arts[len(arts)-1].FirstSeen
	g := NewGrouper(st, Options{Now: func() time.Time { return last }})
	for start := 0; start < len(arts); start += int(envf("GB", 1000)) {
		if err := g.Group(context.Background(), arts[start:min(start+int(envf("GB", 1000)), len(arts))]); err != nil {
			t.Fatal(start, err)
		}
	}
}

