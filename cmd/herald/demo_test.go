package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDemo runs the README's main command end to end: the example feeds
// are served locally, fetched, grouped and digested. Each invented event
// that several outlets cover must be one story listing all of them, and
// the broken feed must be reported without stopping the demo.
func TestDemo(t *testing.T) {
	keep := filepath.Join(t.TempDir(), "demo.db")
	r := herald(t, nil, "demo", "--keep", keep)
	if r.code != 0 {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"FAILED  broken", "Grouped", "Herald demo digest", "Telegram", "Discord"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	// The demo reports feed trouble in its output; its log, at level
	// error, stays empty when all goes well, closing included.
	if r.stderr != "" {
		t.Errorf("demo logged:\n%s", r.stderr)
	}

	// Without --keep, the demo's database goes with its temporary
	// directory, after it is closed.
	if r := herald(t, nil, "demo"); r.code != 0 || r.stderr != "" {
		t.Errorf("demo without --keep: exit %d, log:\n%s", r.code, r.stderr)
	}

	// The kept database answers the same question as JSON.
	r = herald(t, map[string]string{"HERALD_DATABASE": keep}, "digest", "--format", "json", "--since", "48h")
	if r.code != 0 {
		t.Fatalf("digest on the demo database: %s", r.stderr)
	}
	var d struct {
		Stories []struct {
			Headline string `json:"headline"`
			Sources  []struct {
				Name string `json:"name"`
			} `json:"sources"`
		} `json:"stories"`
		Notices []string `json:"notices"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatal(err)
	}
	sourcesOf := func(keyword string) [][]string {
		var out [][]string
		for _, s := range d.Stories {
			if strings.Contains(strings.ToLower(s.Headline), keyword) {
				var names []string
				for _, src := range s.Sources {
					names = append(names, src.Name)
				}
				slices.Sort(names)
				out = append(out, names)
			}
		}
		return out
	}
	for _, tc := range []struct {
		event, keyword string
		sources        []string
	}{
		{"storm (wire copies and a write-up)", "storm elin", []string{"Harbor Post", "Northwind Times", "The Daily Ledger"}},
		{"rate rise", "3.75%", []string{"Northwind Times", "The Daily Ledger"}},
		{"satellite launch", "aurora-3", []string{"Harbor Post", "Northwind Times"}},
	} {
		got := sourcesOf(tc.keyword)
		if len(got) != 1 || !slices.Equal(got[0], tc.sources) {
			t.Errorf("%s: stories' sources = %v, want one story from %v", tc.event, got, tc.sources)
		}
	}
	if len(d.Stories) != 7 {
		t.Errorf("demo digest has %d stories, want 7 (3 shared events, 4 single-outlet stories)", len(d.Stories))
	}
	if len(d.Notices) != 1 || !strings.Contains(d.Notices[0], "broken") {
		t.Errorf("notices = %q, want the broken feed", d.Notices)
	}
}
