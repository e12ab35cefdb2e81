package render

import (
	"testing"

	"github.com/seed-c50b6fda/herald/digest"
)

// BenchmarkRender renders a typical digest (10 stories, 2 sources each,
// 3 to 7 sentence summaries) and the hostile golden digest in every format.
func BenchmarkRender(b *testing.B) {
	digests := []struct {
		name string
		d    digest.Digest
	}{
		{"typical", manyStories(10)},
		{"nasty", nastyDigest()},
	}
	renderers := []struct {
		name string
		fn   func(digest.Digest)
	}{
		{"text", func(d digest.Digest) { Text(d) }},
		{"markdown", func(d digest.Digest) { Markdown(d) }},
		{"telegram", func(d digest.Digest) { Telegram(d) }},
		{"discord", func(d digest.Digest) { Discord(d) }},
		{"discord-content", func(d digest.Digest) { DiscordContent(d) }},
		{"json", func(d digest.Digest) {
			if _, err := JSON(d); err != nil {
				b.Fatal(err)
			}
		}},
	}
	for _, dg := range digests {
		for _, r := range renderers {
			b.Run(dg.name+"/"+r.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					r.fn(dg.d)
				}
			})
		}
	}
}
