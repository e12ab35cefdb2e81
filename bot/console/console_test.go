package console_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/bot/console"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

func TestRenderIsSafeForTerminals(t *testing.T) {
	m := &bot.Message{
		Blocks: []bot.Block{
			{Kind: bot.Heading, Text: "Title \x1b[2J\x1b]0;pwned\x07 here"},
			{Kind: bot.List, Items: []bot.Item{{Text: "rtl \u202eevil", URL: "https://x.example/\x1b[31m", Note: "line\nbreak"}}},
		},
		Buttons: []bot.Button{{Label: "Next ›", Data: "feeds:2"}},
		Error:   true,
	}
	got := console.Render(m)
	for _, bad := range []string{"\x1b", "\u202e", "\x07"} {
		if strings.Contains(got, bad) {
			t.Errorf("rendered text keeps %q:\n%q", bad, got)
		}
	}
	for _, want := range []string{"! Title", "• rtl evil <https://x.example/[31m> — line break", "[Next ›] press feeds:2"} {
		if !strings.Contains(got, want) {
			t.Errorf("rendered text lacks %q:\n%s", want, got)
		}
	}
}

func TestRunAnswersEachLineAndStopsAtQuit(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := bot.New(bot.Deps{Store: st})
	var out strings.Builder
	in := strings.NewReader("help\n\n/feeds\nnot a command?\npress feeds:x\nquit\nhelp\n")
	if err := (&console.Adapter{Bot: b, In: in, Out: &out}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Count(got, "Commands:") != 1 {
		t.Errorf("help answered %d times, want once (nothing after quit):\n%s", strings.Count(got, "Commands:"), got)
	}
	for _, want := range []string{"follows no feeds yet", "I don't know /not", "no longer valid"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
