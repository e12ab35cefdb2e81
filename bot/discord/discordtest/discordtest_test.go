package discordtest

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func post(t *testing.T, s *Server, path, auth, body string) int {
	t.Helper()
	req, err := http.NewRequest("POST", s.URL+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "DiscordBot (https://example.org, 1)")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRefusesWhatDiscordRefuses: the fake is only worth its checks.
func TestRefusesWhatDiscordRefuses(t *testing.T) {
	s := New(t, Options{})
	s.AddChannel(Channel{ID: "1", Type: GuildText, GuildID: "9"})
	s.AddChannel(Channel{ID: "2", Type: GuildForum, GuildID: "9"})
	const ok = `"allowed_mentions":{"parse":[]}`
	embeds := func(n int, desc string) string {
		var es []string
		for range n {
			es = append(es, fmt.Sprintf(`{"description":%q}`, desc))
		}
		return `[` + strings.Join(es, ",") + `]`
	}
	tests := []struct {
		name, channel, body string
		want                int
	}{
		{"valid", "1", `{"content":"hi",` + ok + `}`, 200},
		{"content too long", "1", `{"content":"` + strings.Repeat("é", 2001) + `",` + ok + `}`, 400},
		{"empty", "1", `{"content":"",` + ok + `}`, 400},
		{"eleven embeds", "1", `{"embeds":` + embeds(11, "x") + `,` + ok + `}`, 400},
		{"embeds over 6000 in total", "1", `{"embeds":` + embeds(2, strings.Repeat("x", 3001)) + `,` + ok + `}`, 400},
		{"description over 4096", "1", `{"embeds":` + embeds(1, strings.Repeat("x", 4097)) + `,` + ok + `}`, 400},
		{"no allowed_mentions", "1", `{"content":"hi"}`, 400},
		{"parse null", "1", `{"content":"hi","allowed_mentions":{"parse":null}}`, 400},
		{"parse everyone", "1", `{"content":"hi","allowed_mentions":{"parse":["everyone"]}}`, 400},
		{"text that pings", "1", `{"content":"hi @everyone",` + ok + `}`, 400},
		{"user mention", "1", `{"content":"hi <@123>",` + ok + `}`, 400},
		{"ephemeral in a channel", "1", `{"content":"hi","flags":64,` + ok + `}`, 400},
		{"embeds suppressed by their own message", "1", `{"embeds":` + embeds(1, "x") + `,"flags":4,` + ok + `}`, 400},
		{"nonce too long", "1", `{"content":"hi","nonce":"` + strings.Repeat("n", 26) + `",` + ok + `}`, 400},
		{"custom id too long", "1", `{"content":"hi","components":[{"type":1,"components":[{"type":2,"style":2,"label":"x","custom_id":"` +
			strings.Repeat("c", 101) + `"}]}],` + ok + `}`, 400},
		{"six buttons in a row", "1", `{"content":"hi","components":[{"type":1,"components":[` +
			strings.TrimSuffix(strings.Repeat(`{"type":2,"style":2,"label":"x","custom_id":"a"},`, 6), ",") + `]}],` + ok + `}`, 400},
		{"message into a forum", "2", `{"content":"hi",` + ok + `}`, 400},
		{"unknown channel", "3", `{"content":"hi",` + ok + `}`, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := post(t, s, "/channels/"+tt.channel+"/messages", "Bot "+s.Token, tt.body)
			v := s.TakeViolations()
			if got != tt.want {
				t.Errorf("status %d, want %d (violations %q)", got, tt.want, v)
			}
			if (tt.want == 400 && tt.channel == "1") != (len(v) > 0) {
				t.Errorf("violations %q", v)
			}
		})
	}
	if got := post(t, s, "/channels/1/messages", "", `{"content":"hi",`+ok+`}`); got != 401 {
		t.Errorf("a bot route without the token: %d, want 401", got)
	}
}

func TestNonceDeduplication(t *testing.T) {
	s := New(t, Options{})
	s.AddChannel(Channel{ID: "1", Type: GuildText, GuildID: "9"})
	body := func(enforce bool) string {
		return fmt.Sprintf(`{"content":"hi","nonce":"abc","enforce_nonce":%v,"allowed_mentions":{"parse":[]}}`, enforce)
	}
	for range 2 {
		post(t, s, "/channels/1/messages", "Bot "+s.Token, body(true))
	}
	if n := len(s.Messages("1")); n != 1 || s.Deduplicated() != 1 {
		t.Errorf("%d messages, %d deduplicated after the same nonce twice with enforce_nonce", n, s.Deduplicated())
	}
	post(t, s, "/channels/1/messages", "Bot "+s.Token, body(false))
	if n := len(s.Messages("1")); n != 2 {
		t.Errorf("%d messages: a nonce without enforce_nonce does not de-duplicate", n)
	}
}
