package fetch_test

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest/fetch"
)

// gofeedTestdata returns gofeed's own test corpus in the module cache.
func gofeedTestdata(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/mmcdole/gofeed").Output()
	if err != nil {
		tb.Skipf("gofeed's module directory not found (go list: %v); skipping its testdata", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "testdata")
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("gofeed testdata not in the module cache (%v); run 'go mod download github.com/mmcdole/gofeed'", err)
	}
	return dir
}

// TestGofeedTestdata runs every file of gofeed's test corpus (valid and
// deliberately broken RSS, Atom and JSON feeds, and its expected outputs)
// through the whole fetch path: HTTP, charset handling, parsing and
// normalisation. Nothing may panic, failures must be parse or not-a-feed
// errors, and every parsed feed must satisfy checkFeed.
func TestGofeedTestdata(t *testing.T) {
	dir := gofeedTestdata(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := testClient(t, fetch.Options{Now: func() time.Time { return now }})

	var files, parsed, articles int
	kinds := map[fetch.Kind]int{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files++
		res, err := c.Fetch(context.Background(), fetch.Request{URL: srv.URL + "/" + filepath.ToSlash(rel)})
		if err != nil {
			var fe *fetch.Error
			if !errors.As(err, &fe) || (fe.Kind != fetch.KindParse && fe.Kind != fetch.KindNotFeed) {
				t.Errorf("%s: %v", rel, err)
			} else {
				kinds[fe.Kind]++
			}
			return nil
		}
		parsed++
		articles += len(res.Feed.Articles)
		checkFeed(t, res.Feed, now)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files: %d parsed (%d articles), %d parse errors, %d not feeds", files, parsed, articles, kinds[fetch.KindParse], kinds[fetch.KindNotFeed])
	if files < 500 || parsed < files/3 {
		t.Errorf("only %d of %d files parsed; the corpus or the parser changed", parsed, files)
	}
}
