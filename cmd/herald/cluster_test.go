package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// clusterRun runs herald in-process with stdin.
func clusterRun(tb testing.TB, stdin string, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

// clusterInputLines are invented articles: two reports of a flood, one of
// an unrelated transfer (with a numeric id), and a third flood report; two
// carry gold labels.
var clusterInputLines = []string{
	`{"id": "flood-1", "source": "a.example", "title": "River Alsa floods Brenvik, 40 homes evacuated", "text": "Rescue crews evacuated 40 homes in Brenvik on Tuesday after the river Alsa burst its banks. Mayor Ingrid Holt said the water reached 1.8 metres in the harbour district.", "published": "2031-03-11T18:00:00Z", "story": "flood"}`,
	`{"id": 42, "source": "b.example", "title": "Tomas Rydell signs for FC Vantaa", "text": "Striker Tomas Rydell has signed a five-year contract with FC Vantaa, the club said on Saturday.", "published": "2031-03-11T19:00:00Z", "story": "transfer"}`,
	`{"id": "flood-2", "source": "c.example", "title": "Brenvik mayor: the Alsa has never been this high", "text": "The river Alsa reached a record 1.8 metres in Brenvik on Tuesday, and 40 homes in the harbour district were evacuated, mayor Ingrid Holt said.", "published": "2031-03-11T20:00:00Z", "story": "flood"}`,
	``,
	`{"id": "flood-3", "title": "Alsa floods Brenvik harbour", "text": "Mayor Ingrid Holt said 40 homes were evacuated in Brenvik after the Alsa burst its banks, the water reaching 1.8 metres.", "published": "2031-03-11T21:00:00+01:00"}`,
}

// Articles without a time were first seen now, together.
func TestClusterUndated(t *testing.T) {
	input := strings.Join([]string{
		`{"id": "a", "title": "Quillon recalls 200,000 Zephyr e-bikes", "text": "Quillon is recalling 200,000 Zephyr e-bikes after 14 battery fires, chief executive Marta Oyelaran said.", "published": ""}`,
		`{"id": "b", "title": "Zephyr e-bike recall: Quillon to replace batteries", "text": "Marta Oyelaran said Quillon would replace the batteries of 200,000 Zephyr bikes after 14 fires."}`,
		`{"id": "c", "title": "Quillon recalls Zephyr e-bikes", "text": "Quillon recalls 200,000 Zephyr e-bikes after 14 battery fires.", "published": "2001-01-01T00:00:00Z"}`,
	}, "\n")
	code, stdout, stderr := clusterRun(t, input, "cluster")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out := parseClusterOutput(t, stdout)
	if len(out) != 3 || out[0].Story != "a" || out[1].Story != "a" || out[2].Story != "c" {
		t.Errorf("undated reports should share a story, the one from 2001 not:\n%s", stdout)
	}
}

type clusterOut struct {
	ID    json.RawMessage `json:"id"`
	Story string          `json:"story"`
}

func parseClusterOutput(tb testing.TB, s string) []clusterOut {
	tb.Helper()
	var out []clusterOut
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var o clusterOut
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			tb.Fatalf("output line %q: %v", line, err)
		}
		out = append(out, o)
	}
	return out
}

func TestClusterOutput(t *testing.T) {
	code, stdout, stderr := clusterRun(t, strings.Join(clusterInputLines, "\n"), "cluster")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out := parseClusterOutput(t, stdout)
	want := []struct{ id, story string }{
		{`"flood-1"`, "flood-1"}, {`42`, "42"}, {`"flood-2"`, "flood-1"}, {`"flood-3"`, "flood-1"},
	}
	if len(out) != len(want) {
		t.Fatalf("%d output lines, want %d:\n%s", len(out), len(want), stdout)
	}
	for i, w := range want {
		if string(out[i].ID) != w.id || out[i].Story != w.story {
			t.Errorf("line %d = %s %q, want %s %q", i+1, out[i].ID, out[i].Story, w.id, w.story)
		}
	}
	if stderr != "" {
		t.Errorf("unexpected stderr: %s", stderr)
	}
}

func TestClusterScore(t *testing.T) {
	input := strings.Join(clusterInputLines, "\n")
	// Output to stdout: the scores go to stderr.
	code, stdout, stderr := clusterRun(t, input, "cluster", "--score")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if len(parseClusterOutput(t, stdout)) != 4 {
		t.Errorf("stdout is not the four output lines:\n%s", stdout)
	}
	for _, want := range []string{"scored 3 of 4 articles", "gold stories 2, predicted stories 2", "pairwise  P 1.0000  R 1.0000  F1 1.0000", "BCubed    P 1.0000  R 1.0000  F1 1.0000"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	// Files in and out: the scores go to stdout.
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "out.jsonl")
	if err := os.WriteFile(in, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = clusterRun(t, "", "cluster", "--in", in, "--out", out, "--score")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "scored 3 of 4 articles") || stderr != "" {
		t.Errorf("with --out FILE scores belong on stdout; stdout %q stderr %q", stdout, stderr)
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := parseClusterOutput(t, string(written)); len(got) != 4 || got[3].Story != "flood-1" {
		t.Errorf("output file:\n%s", written)
	}
}

func TestClusterExplain(t *testing.T) {
	input := strings.Join(clusterInputLines, "\n")
	code, stdout, stderr := clusterRun(t, input, "cluster", "--explain", "flood-1", "flood-2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"flood-1 and flood-2, when flood-2 arrived", "same event:  cosine", "neighbours:", "decision:    same story",
		"after the whole input: flood-1 in story flood-1, flood-2 in story flood-1 (together)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("explanation lacks %q:\n%s", want, stdout)
		}
	}
	// Flags may follow the IDs.
	code, stdout, _ = clusterRun(t, input, "cluster", "flood-1", "42", "--explain")
	if code != 0 || !strings.Contains(stdout, "different stories") || !strings.Contains(stdout, "(apart)") {
		t.Errorf("exit %d, explanation:\n%s", code, stdout)
	}
}

func TestClusterErrors(t *testing.T) {
	good := clusterInputLines[0]
	tests := []struct {
		name  string
		input string
		args  []string
		code  int
		want  string
	}{
		{"malformed JSON", good + "\n{\"id\": \"x\", \"title\": ", nil, 1, "line 2: not a JSON object"},
		{"not an object", good + "\n[1, 2]", nil, 1, "line 2: not a JSON object"},
		{"two values on a line", good + "\n{\"id\": \"x\"} {\"id\": \"y\"}", nil, 1, "line 2: more than one JSON value"},
		{"missing id", "\n" + `{"title": "no id"}`, nil, 1, "line 2: missing id"},
		{"empty id", `{"id": ""}`, nil, 1, "line 1: empty id"},
		{"id of another type", `{"id": {"a": 1}}`, nil, 1, "line 1: id {\"a\": 1} is neither a string nor a number"},
		{"duplicate id", good + "\n" + good, nil, 1, `line 2: duplicate id "flood-1" (first on line 1)`},
		{"bad date", `{"id": "x", "published": "yesterday"}`, nil, 1, `line 1: published "yesterday" is not an RFC 3339 time`},
		{"score without gold labels", `{"id": "x", "title": "t"}`, []string{"--score"}, 1, "no input line has a gold story"},
		{"explain an unknown id", good, []string{"--explain", "flood-1", "nope"}, 1, `no article with id "nope"`},
		{"missing input file", "", []string{"--in", "/nonexistent/in.jsonl"}, 1, "open input"},
		{"explain needs two ids", good, []string{"--explain", "flood-1"}, 2, "two article IDs with --explain"},
		{"ids need explain", good, []string{"flood-1", "42"}, 2, "two article IDs with --explain"},
		{"unknown flag", good, []string{"--nope"}, 2, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := clusterRun(t, tc.input, append([]string{"cluster"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout on error: %q", stdout)
			}
		})
	}
}

func TestClusterHelp(t *testing.T) {
	code, stdout, _ := clusterRun(t, "", "cluster", "--help")
	if code != 0 || !strings.Contains(stdout, "Usage: herald cluster") || !strings.Contains(stdout, "JSON Lines") {
		t.Errorf("exit %d, help:\n%s", code, stdout)
	}
}
