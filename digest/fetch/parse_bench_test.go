package fetch_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/seed-c50b6fda/herald/digest/fetch"
	"github.com/seed-c50b6fda/herald/digest/fetch/fetchtest"
)

// BenchmarkParse compares Herald's parse (gofeed without its HTML image
// scan, charset handling, normalisation, identity keys) of one 60 KB,
// 50-item feed with gofeed alone, with and without the image scan.
func BenchmarkParse(b *testing.B) {
	farm := fetchtest.NewFarm(1, 50, 1)
	b.Cleanup(farm.Close)
	body := farm.Body(0)
	b.Run("gofeed", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := gofeed.NewParser().Parse(bytes.NewReader(body)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gofeed-no-image-scan", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			p := gofeed.NewParser()
			p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
			if _, err := p.Parse(bytes.NewReader(body)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("herald", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		now := time.Now()
		for b.Loop() {
			if _, err := fetch.Parse(fetch.Document{URL: farm.URL(0), Body: body, FetchedAt: now}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
