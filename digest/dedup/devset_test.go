package dedup

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// labelled is one line of a labelled JSON Lines set.
type labelled struct {
	ID        string `json:"id"`
	URL       string `json:"url"`
	Source    string `json:"source"`
	Title     string `json:"title"`
	Summary   string `json:"summary"`
	Text      string `json:"text"`
	Published string `json:"published"`
	Story     string `json:"story"`
}

// sharedPath returns a path under ../shared (beside the repository), or
// skips the test when it is absent.
func sharedPath(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join("..", "..", "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("skipping: %s not found (../shared is third-party data kept beside the repository): %v", p, err)
	}
	return p
}

func readLabelled(tb testing.TB, path string) []labelled {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var l labelled
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			tb.Fatalf("%s line %d: %v", path, len(out)+1, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// toDocs turns labelled lines into documents numbered in arrival order:
// by publication time, undated ones (first seen "now") last, ties in input
// order. Doc i of the result is line order[i].
func toDocs(tb testing.TB, ls []labelled, now time.Time) []Doc {
	tb.Helper()
	docs := make([]Doc, len(ls))
	for i, l := range ls {
		d := Doc{URL: l.URL, Source: l.Source, Title: l.Title, Summary: l.Summary, Text: l.Text}
		if l.Published != "" {
			t, err := time.Parse(time.RFC3339, l.Published)
			if err != nil {
				tb.Fatalf("line %d: %v", i+1, err)
			}
			d.Time = t
		}
		docs[i] = d
	}
	eff := func(i int) time.Time {
		if docs[i].Time.IsZero() {
			return now
		}
		return docs[i].Time
	}
	order := make([]int, len(docs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return eff(order[a]).Before(eff(order[b])) })
	for rank, i := range order {
		docs[i].ID = int64(rank + 1)
	}
	return docs
}
