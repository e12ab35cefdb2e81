//go:build scratch

package dedup

import "testing"

// syntheticStream builds n articles from the labelled dev set: copy r of
// article i is published on day r at a position of the day set by a
// shuffle, with a new ID and URL and light edits (a few words dropped from
// the body, the headline sometimes shortened), so that the stream has the
// vocabulary, lengths and story structure of real news but never repeats a
// text exactly.
func syntheticStream(tb testing.TB, n int) []Doc {
	tb.Helper()
	g := newStreamGen(tb)
	out := make([]Doc, 0, n)
	for len(out) < n {
		out = append(out, g.next())
	}
	return out
}
