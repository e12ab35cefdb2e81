package bot_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/seed-c50b6fda/herald/bot"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		in, cmd, args string
		ok            bool
	}{
		{"/start", "start", "", true},
		{"  /Subscribe https://x.example/feed  news ", "subscribe", "https://x.example/feed  news", true},
		{"/subscribe@HeraldBot https://x", "subscribe", "https://x", true},
		{"/subscribe@heraldbot https://x", "subscribe", "https://x", true},
		{"/subscribe@OtherBot https://x", "", "", false},
		{"/search\nclimate", "search", "climate", true},
		{"hello /start", "", "", false},
		{"/", "", "", false},
		{"/@HeraldBot", "", "", false},
		{"/st<art", "", "", false},
		{"", "", "", false},
	} {
		cmd, args, ok := bot.ParseCommand(tc.in, "@HeraldBot")
		if cmd != tc.cmd || args != tc.args || ok != tc.ok {
			t.Errorf("ParseCommand(%q) = %q, %q, %v; want %q, %q, %v", tc.in, cmd, args, ok, tc.cmd, tc.args, tc.ok)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/start", "/subscribe@HeraldBot https://x", "/search\n\"a b\" -c", "/\xff", strings.Repeat("/a", 3000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmd, args, ok := bot.ParseCommand(s, "HeraldBot")
		if !ok {
			if cmd != "" || args != "" {
				t.Fatalf("not a command but returned %q %q", cmd, args)
			}
			return
		}
		if cmd == "" || strings.ContainsAny(cmd, " /@\n") || cmd != strings.ToLower(cmd) {
			t.Fatalf("bad command name %q", cmd)
		}
		if len(args) > 4096 || (utf8.ValidString(s) && !utf8.ValidString(args)) {
			t.Fatalf("args too long or broken: %d bytes", len(args))
		}
		if args != strings.TrimSpace(args) {
			t.Fatalf("args not trimmed: %q", args)
		}
	})
}
