package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/seed-c50b6fda/herald/digest/dedup"
)

func init() {
	register(&command{
		name:    "cluster",
		args:    "[--explain ID1 ID2]",
		summary: "group articles of a JSON Lines file into stories (no database); score against gold labels",
		run:     runCluster,
	})
}

// clusterUsage explains the formats, which scripts depend on.
const clusterUsage = `Input: JSON Lines, one article per line with the fields id (string or
number), url, source, title, summary, text, published (RFC 3339, or empty:
first seen now) and optionally story (a gold label). Output: one line
{"id": ..., "story": "..."} per input article, in input order; story is the
id of the article that founded the story.

Articles are clustered as they would arrive from feeds: in publication order,
articles with the same time together. --score prints pairwise and BCubed
precision, recall and F1 and the story counts for the lines that carry a gold
story, to stderr when the output goes to stdout and to stdout otherwise.
--explain prints every signal between two articles, as it stood when the
later of them arrived, and whether they ended up together.`

// clusterLine is one input line.
type clusterLine struct {
	ID        json.RawMessage `json:"id"`
	URL       string          `json:"url"`
	Source    string          `json:"source"`
	Title     string          `json:"title"`
	Summary   string          `json:"summary"`
	Text      string          `json:"text"`
	Published string          `json:"published"`
	Story     *string         `json:"story"`
}

// clusterInput is a parsed input file.
type clusterInput struct {
	ids   []string          // id of each line, as text
	raw   []json.RawMessage // id of each line as written, echoed in the output
	gold  []*string         // gold label of each line, if any
	docs  []dedup.Doc       // docs[i] is line i; IDs number the arrival order
	lines []int             // input line number of each article
	index map[string]int    // index of each id
}

func (in *clusterInput) lineOf(i int) int { return in.lines[i] }

func runCluster(ctx context.Context, a *app, args []string) error {
	cmd := *commands["cluster"]
	cmd.summary += "\n\n" + clusterUsage
	c := &cmd
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	in := fs.String("in", "-", "read articles from `FILE` (- for stdin)")
	out := fs.String("out", "-", "write stories to `FILE` (- for stdout)")
	score := fs.Bool("score", false, "score the stories against the gold story field")
	explain := fs.Bool("explain", false, "explain why articles ID1 and ID2 are or are not together")
	pos, err := a.parse(c, fs, args, 0, 2)
	if err != nil {
		return err
	}
	if *explain != (len(pos) == 2) || len(pos) == 1 {
		return &usageError{msg: "cluster takes two article IDs with --explain and none without it"}
	}

	r := a.stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return fmt.Errorf("open input: %w", err)
		}
		defer f.Close()
		r = f
	}
	now := time.Now().UTC()
	input, err := readClusterInput(r, now)
	if err != nil {
		return fmt.Errorf("read %s: %w", displayName(*in), err)
	}
	if *score && !slices.ContainsFunc(input.gold, func(g *string) bool { return g != nil }) {
		return errors.New("--score: no input line has a gold story field")
	}
	opts := dedup.DefaultOptions()
	opts.Now = func() time.Time { return now }
	results := dedup.New(opts).AddBatch(input.docs)

	if *explain {
		return explainPair(a.stdout, input, results, opts, pos[0], pos[1])
	}

	w := a.stdout
	var file *os.File
	if *out != "-" {
		file, err = os.Create(*out)
		if err != nil {
			return fmt.Errorf("create output: %w", err)
		}
		defer file.Close()
		w = file
	}
	bw := bufio.NewWriter(w)
	founder := make(map[int64]string, len(input.docs))
	for i, d := range input.docs {
		founder[d.ID] = input.ids[i]
	}
	predicted := make([]string, len(results))
	for i, res := range results {
		predicted[i] = founder[res.Story]
		line, err := json.Marshal(struct {
			ID    json.RawMessage `json:"id"`
			Story string          `json:"story"`
		}{input.raw[i], predicted[i]})
		if err != nil {
			return fmt.Errorf("write line %d: %w", i+1, err)
		}
		bw.Write(line)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", displayName(*out), err)
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return fmt.Errorf("write %s: %w", displayName(*out), err)
		}
	}
	if *score {
		report := a.stderr
		if *out != "-" {
			report = a.stdout
		}
		var gold, pred []string
		for i, g := range input.gold {
			if g != nil {
				gold = append(gold, *g)
				pred = append(pred, predicted[i])
			}
		}
		m := dedup.Evaluate(gold, pred)
		fmt.Fprintf(report, "scored %d of %d articles (those with a gold story)\n%s", len(gold), len(input.docs), m)
	}
	return nil
}

func displayName(path string) string {
	if path == "-" {
		return "standard input/output"
	}
	return path
}

// readClusterInput parses JSON Lines. Errors name the line. Articles are
// numbered in arrival order: by publication time (now when empty), ties in
// input order, so that a smaller ID is an older article as in the store.
func readClusterInput(r io.Reader, now time.Time) (*clusterInput, error) {
	in := &clusterInput{index: map[string]int{}}
	br := bufio.NewReaderSize(r, 1<<16)
	var times []time.Time
	for n := 1; ; n++ {
		raw, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if line := bytes.TrimSpace(raw); len(line) > 0 {
			var l clusterLine
			dec := json.NewDecoder(bytes.NewReader(line))
			if derr := dec.Decode(&l); derr != nil {
				return nil, fmt.Errorf("line %d: not a JSON object: %w", n, derr)
			}
			if dec.More() {
				return nil, fmt.Errorf("line %d: more than one JSON value", n)
			}
			id, ierr := parseID(l.ID)
			if ierr != nil {
				return nil, fmt.Errorf("line %d: %w", n, ierr)
			}
			if first, dup := in.index[id]; dup {
				return nil, fmt.Errorf("line %d: duplicate id %q (first on line %d)", n, id, in.lineOf(first))
			}
			t := now
			if p := strings.TrimSpace(l.Published); p != "" {
				t, err = time.Parse(time.RFC3339, p)
				if err != nil {
					return nil, fmt.Errorf("line %d: published %q is not an RFC 3339 time", n, l.Published)
				}
			}
			in.index[id] = len(in.ids)
			in.lines = append(in.lines, n)
			in.ids = append(in.ids, id)
			in.raw = append(in.raw, l.ID)
			in.gold = append(in.gold, l.Story)
			in.docs = append(in.docs, dedup.Doc{
				URL: l.URL, Source: l.Source, Title: l.Title, Summary: l.Summary, Text: l.Text, Time: t,
			})
			times = append(times, t)
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	order := make([]int, len(in.docs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return times[x].Compare(times[y]) })
	for rank, i := range order {
		in.docs[i].ID = int64(rank + 1)
	}
	return in, nil
}

// parseID accepts a JSON string or number as an article ID.
func parseID(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", errors.New("missing id")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return "", errors.New("empty id")
		}
		return s, nil
	}
	var num json.Number
	if err := json.Unmarshal(raw, &num); err == nil {
		return num.String(), nil
	}
	return "", fmt.Errorf("id %s is neither a string nor a number", raw)
}

// explainPair prints why two articles are or are not in one story: the
// signals between them when the later one arrived (the moment the
// clusterer decided), and their stories at the end.
func explainPair(w io.Writer, in *clusterInput, results []dedup.Result, opts dedup.Options, idA, idB string) error {
	ia, ok := in.index[idA]
	if !ok {
		return fmt.Errorf("explain: no article with id %q", idA)
	}
	ib, ok := in.index[idB]
	if !ok {
		return fmt.Errorf("explain: no article with id %q", idB)
	}
	a, b := in.docs[ia], in.docs[ib]
	later := max(a.ID, b.ID)
	lastTime := in.docs[ia].Time
	if b.ID == later {
		lastTime = in.docs[ib].Time
	}
	// Replay the input up to the later article's arrival (its whole
	// same-time group, which is clustered jointly).
	var upTo []dedup.Doc
	for _, d := range in.docs {
		if !d.Time.After(lastTime) {
			upTo = append(upTo, d)
		}
	}
	c := dedup.New(opts)
	c.AddBatch(upTo)
	founder := make(map[int64]string, len(in.docs))
	for i, d := range in.docs {
		founder[d.ID] = in.ids[i]
	}
	x, err := c.Explain(a.ID, b.ID)
	fmt.Fprintf(w, "%s and %s, when %s arrived:\n", idA, idB, map[bool]string{true: idA, false: idB}[a.ID == later])
	if err != nil {
		fmt.Fprintf(w, "not compared: %v; articles more than %s apart are never linked\n", err, opts.Window)
	} else {
		fmt.Fprint(w, x.Signals())
	}
	sa, sb := founder[results[ia].Story], founder[results[ib].Story]
	verdict := "apart"
	if sa == sb {
		verdict = "together"
	}
	fmt.Fprintf(w, "after the whole input: %s in story %s, %s in story %s (%s)\n", idA, sa, idB, sb, verdict)
	return nil
}
