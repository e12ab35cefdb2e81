package dedup

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden clusters the invented fixture articles and compares each
// article's story, layer and score with testdata/golden.txt. A change of
// model shows up here as a readable diff; review it, then rerun with
// -update to accept it.
func TestGolden(t *testing.T) {
	docs, _, ls := fixtureDocs(t)
	res := newTestClusterer().AddBatch(docs)
	founder := map[int64]string{}
	for i, d := range docs {
		founder[d.ID] = ls[i].ID
	}
	var b strings.Builder
	b.WriteString("# id story layer score (testdata/articles.jsonl clustered by AddBatch)\n")
	for i, r := range res {
		fmt.Fprintf(&b, "%s %s %s %.2f\n", ls[i].ID, founder[r.Story], r.Layer, r.Score)
	}
	got := b.String()
	const path = "testdata/golden.txt"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("line %d:\n got  %q\n want %q", i+1, g, w)
			}
		}
	}
}
