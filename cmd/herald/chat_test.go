package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

const chatFeed = `<?xml version="1.0"?><rss version="2.0"><channel><title>Local Wire</title>
<item><title>Harbour bridge reopens after repairs</title><link>https://wire.example/bridge</link>
<description>The harbour bridge reopened on Monday after six weeks of repairs.</description></item>
</channel></rss>`

// TestChatScript drives herald chat from a script on stdin, as a user of
// the console would, on a local feed.
func TestChatScript(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(chatFeed))
	}))
	defer srv.Close()
	script := strings.Join([]string{
		"help",
		"/subscribe " + srv.URL + "/rss wire",
		"feeds",
		"schedule weekdays 07:30",
		"timezone Europe/Berlin",
		"filter exclude sport",
		"digest 24h",
		"why https://wire.example/bridge?utm_source=x",
		"status",
		"export",
		"schedule every second",
		"nonsense",
		"quit",
		"feeds",
	}, "\n")
	env := map[string]string{"HERALD_DATABASE": filepath.Join(t.TempDir(), "h.db"), "HERALD_FETCH_ALLOW_PRIVATE": "1"}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"chat"}, strings.NewReader(script), &out, &errb, func(k string) string { return env[k] })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got := out.String()
	for _, want := range []string{
		"/subscribe URL [name]",
		"Subscribed to wire (1 article)",
		"This chat follows 1 feed",
		"every weekday at 07:30",
		"Time zone set to Europe/Berlin",
		"Leave out stories that mention any of: sport",
		"Harbour bridge reopens after repairs",
		"3 sources", // not expected: a single outlet
	} {
		if want == "3 sources" {
			if strings.Contains(got, want) {
				t.Errorf("output claims 3 sources for one outlet")
			}
			continue
		}
		if !strings.Contains(got, want) {
			t.Errorf("chat output lacks %q", want)
		}
	}
	for _, want := range []string{"due in the next digest", "Feeds: 1 ok, 0 failing", "<opml version=\"2.0\">", "! ", "I don't know /nonsense"} {
		if !strings.Contains(got, want) {
			t.Errorf("chat output lacks %q", want)
		}
	}
	if strings.Count(got, "This chat follows 1 feed") != 1 {
		t.Errorf("commands after quit were answered:\n%s", got)
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
}
