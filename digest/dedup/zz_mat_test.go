//go:build scratch

package dedup

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestTopicMatrix(t *testing.T) {
	ls := readLabelled(t, sharedPath(t, "data/dedup/dev.jsonl"))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := toDocs(t, ls, now)
	c := New(Options{Window: 1e6 * time.Hour, HalfLife: 1e6 * time.Hour, Now: func() time.Time { return now }})
	c.w = parseW(os.Getenv("W"))
	for i := range docs {
		c.Restore(docs[i], docs[i].ID)
	}
	pfx := os.Getenv("PFX")
	var idx []int
	for i, l := range ls {
		if strings.HasPrefix(l.ID, pfx) {
			idx = append(idx, i)
		}
	}
	sort.Slice(idx, func(a, b int) bool { return ls[idx[a]].Story < ls[idx[b]].Story })
	for _, a := range idx {
		fmt.Printf("%-16s", ls[a].ID)
		for _, b := range idx {
			if a == b {
				fmt.Printf("  . ")
				continue
			}
			x, _ := c.Explain(docs[a].ID, docs[b].ID)
			fmt.Printf("%4.0f", 100*x.Cosine*x.DateFactor)
		}
		fmt.Printf("  %.60s\n", ls[a].Title)
	}
}
