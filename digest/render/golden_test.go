package render

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seed-c50b6fda/herald/digest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(tb testing.TB, name, got string) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		tb.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// joinParts writes message parts one after the other with a separator line
// that no part can contain.
func joinParts(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		b.WriteString("======== part " + strconv.Itoa(i+1) + " of " + strconv.Itoa(len(parts)) + " ========\n")
		b.WriteString(p)
		b.WriteString("\n")
	}
	return b.String()
}

func discordJSON(tb testing.TB, msgs []DiscordMessage) string {
	tb.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(msgs); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	digests := []struct {
		name string
		d    digest.Digest
	}{
		{"typical", typicalDigest()},
		{"nasty", nastyDigest()},
		{"empty", emptyDigest()},
	}
	for _, dg := range digests {
		renderers := []struct {
			ext    string
			render func() string
		}{
			{"text", func() string { return Text(dg.d) }},
			{"md", func() string { return Markdown(dg.d) }},
			{"telegram.html", func() string { return joinParts(Telegram(dg.d)) }},
			{"discord.json", func() string { return discordJSON(t, Discord(dg.d)) }},
			{"discord-content.json", func() string { return discordJSON(t, DiscordContent(dg.d)) }},
			{"json", func() string {
				b, err := JSON(dg.d)
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}},
		}
		for _, r := range renderers {
			name := dg.name + "." + r.ext + ".golden"
			t.Run(name, func(t *testing.T) { golden(t, name, r.render()) })
		}
	}
}
