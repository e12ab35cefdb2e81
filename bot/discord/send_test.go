package discord

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/bot/discord/discordtest"
	"github.com/seed-c50b6fda/herald/digest"
)

func TestSendErrorMapping(t *testing.T) {
	api := func(status, code int) error { return &APIError{Route: "POST /x", Status: status, Code: code} }
	tests := []struct {
		name string
		to   target
		err  error
		want string // "retry", "permanent", "forbidden", "thread gone", "429", "429 global"
	}{
		{"network", toChannel, errors.New("connection reset"), "retry"},
		{"server error", toChannel, api(502, 0), "retry"},
		{"rate limited", toChannel, &APIError{Status: 429, RetryAfter: 2 * time.Second}, "429"},
		{"global rate limit", toThread, &APIError{Status: 429, RetryAfter: time.Second, Global: true}, "429 global"},
		{"missing access", toChannel, api(403, 50001), "forbidden"},
		{"cannot DM the user", toChannel, api(403, 50007), "forbidden"},
		{"unknown channel", toChannel, api(404, 10003), "forbidden"},
		{"deleted thread", toThread, api(404, 10003), "thread gone"},
		{"thread access lost", toThread, api(403, 50001), "forbidden"},
		{"locked thread", toThread, api(403, 50083), "permanent"},
		{"invalid body", toChannel, api(400, 50035), "permanent"},
		{"bad bot token", toChannel, api(401, 0), "retry"},
		{"expired interaction", toInteraction, api(401, 50027), "permanent"},
		{"unknown webhook", toInteraction, api(404, 10015), "permanent"},
		{"interaction server error", toInteraction, api(500, 0), "retry"},
		{"interaction rate limit", toInteraction, &APIError{Status: 429, RetryAfter: time.Second}, "429"},
	}
	m := &digest.OutboxMessage{Key: "digest/1/x/1"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sendError(m, tt.to, tt.err)
			var se *bot.SendError
			got := "retry"
			if errors.As(err, &se) {
				switch {
				case se.RetryAfter > 0 && se.Global:
					got = "429 global"
				case se.RetryAfter > 0:
					got = "429"
				case se.Forbidden:
					got = "forbidden"
				case se.ThreadGone:
					got = "thread gone"
				case se.Permanent:
					got = "permanent"
				default:
					got = "send error without a decision"
				}
			}
			if got != tt.want {
				t.Errorf("%v → %s, want %s", tt.err, got, tt.want)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("%v does not wrap the cause", err)
			}
			if !strings.Contains(err.Error(), m.Key) {
				t.Errorf("%q does not name the outbox key", err)
			}
		})
	}
	if sendError(m, toChannel, nil) != nil {
		t.Error("no error became one")
	}
}

func TestNonce(t *testing.T) {
	a, b := nonce("digest/1/2026-03-23T08:00 UTC/1"), nonce("digest/1/2026-03-23T08:00 UTC/2")
	if len(a) > 25 || len(a) < 20 || a == b || a != nonce("digest/1/2026-03-23T08:00 UTC/1") {
		t.Errorf("nonces %q and %q: want stable, distinct, at most 25 characters", a, b)
	}
}

func TestAPIErrors(t *testing.T) {
	const tok = "SECRET.token"
	tests := []struct {
		name    string
		status  int
		header  http.Header
		body    string
		want    APIError
		wantMsg string
	}{
		{"429 from the body", 429, http.Header{"Retry-After": {"3"}}, `{"message":"You are being rate limited.","retry_after":1.25,"global":false}`,
			APIError{Status: 429, Message: "You are being rate limited.", RetryAfter: 1250 * time.Millisecond}, "retry after 1.25s"},
		{"429 global by scope", 429, http.Header{"Retry-After": {"2"}, "X-Ratelimit-Scope": {"global"}}, `{"retry_after":2}`,
			APIError{Status: 429, RetryAfter: 2 * time.Second, Global: true}, "(global)"},
		{"429 from Cloudflare", 429, nil, `<html>banned</html>`, APIError{Status: 429, RetryAfter: 10 * time.Second}, "429"},
		{"coded error", 404, nil, `{"message":"Unknown Channel","code":10003}`, APIError{Status: 404, Code: 10003, Message: "Unknown Channel"}, "(code 10003)"},
		{"token echoed by a proxy", 502, nil, `{"message":"upstream refused Bot SECRET.token"}`, APIError{Status: 502, Message: "upstream refused Bot [token]"}, "[token]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := &restClient{base: srv.URL, auth: "Bot " + tok, http: srv.Client(), token: tok}
			err := c.do(context.Background(), call{method: "POST", route: "POST /webhooks/{app}/{token}", path: "/webhooks/1/interaction-token-xyz"}, nil)
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is no *APIError", err)
			}
			tt.want.Route = "POST /webhooks/{app}/{token}"
			if *ae != tt.want {
				t.Errorf("got %+v\nwant %+v", *ae, tt.want)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.wantMsg) || strings.Contains(msg, tok) || strings.Contains(msg, "interaction-token-xyz") {
				t.Errorf("error text %q", msg)
			}
		})
	}
}

// TestNetworkErrorHidesURL: an unreachable API gives an error that names
// the route, not the URL with its interaction token.
func TestNetworkErrorHidesURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c := &restClient{base: srv.URL, auth: "Bot x", http: &http.Client{Timeout: time.Second}}
	err := c.do(context.Background(), call{method: "PATCH", route: "PATCH /webhooks/{app}/{token}/messages/@original",
		path: "/webhooks/1/secret-interaction-token/messages/@original"}, nil)
	if err == nil || strings.Contains(err.Error(), "secret-interaction-token") || !strings.Contains(err.Error(), "PATCH /webhooks/{app}/{token}") {
		t.Errorf("error %v", err)
	}
}

// memStore is the adapter's Store for tests that need no database.
type memStore struct{ sent []*digest.OutboxMessage }

func (s *memStore) FindSubscription(ctx context.Context, platform, chatID, threadID string) (*digest.Subscription, error) {
	return nil, digest.Errorf(digest.ENOTFOUND, "no subscription")
}

func (s *memStore) ListFeeds(ctx context.Context, f digest.FeedFilter) ([]*digest.Feed, error) {
	return nil, nil
}

func (s *memStore) FindChat(ctx context.Context, platform, id string) (*digest.Chat, error) {
	return nil, digest.Errorf(digest.ENOTFOUND, "no chat")
}

func (s *memStore) SetChatActive(ctx context.Context, platform, id string, active bool, reason string) error {
	return nil
}

func (s *memStore) ListOutbox(ctx context.Context, f digest.OutboxFilter) ([]*digest.OutboxMessage, error) {
	return s.sent, nil
}

type nopOutbox struct{}

func (nopOutbox) Enqueue(context.Context, []*digest.OutboxMessage) error { return nil }

func newTestAdapter(t *testing.T, fake *discordtest.Server, st Store) *Adapter {
	t.Helper()
	a, err := New(Config{Token: fake.Token, APIURL: fake.URL, Bot: bot.New(bot.Deps{}), Outbox: nopOutbox{}, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSendValidatesBeforeSending(t *testing.T) {
	fake := discordtest.New(t, discordtest.Options{})
	fake.AddChannel(discordtest.Channel{ID: "1", Type: discordtest.GuildText, GuildID: "9"})
	a := newTestAdapter(t, fake, &memStore{})
	tooLong, _ := json.Marshal(payload{Message: body{Content: strings.Repeat("x", 2001)}})
	for _, raw := range [][]byte{tooLong, []byte("{not json")} {
		_, err := a.Send(context.Background(), &digest.OutboxMessage{Key: "k", ChatID: "1", Payload: raw})
		var se *bot.SendError
		if !errors.As(err, &se) || !se.Permanent {
			t.Errorf("Send(%.40s…) = %v, want a permanent failure", raw, err)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests sent for invalid messages", n)
	}
}

// TestForumPartsShareOnePost: the later parts of a delivery into a forum
// go into the post its first part started.
func TestForumPartsShareOnePost(t *testing.T) {
	fake := discordtest.New(t, discordtest.Options{})
	fake.AddChannel(discordtest.Channel{ID: "50", Type: discordtest.GuildForum, GuildID: "9", Name: "digests"})
	st := &memStore{}
	a := newTestAdapter(t, fake, st)
	raws, err := a.RenderPayloads(&bot.Message{Digest: testDigest(25)})
	if err != nil {
		t.Fatal(err)
	}
	slot := time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC)
	for i, raw := range raws {
		m := &digest.OutboxMessage{ID: int64(i + 1), Key: "digest/7/slot/" + string(rune('1'+i)), Platform: digest.PlatformDiscord,
			ChatID: "50", SubscriptionID: 7, Slot: slot, Part: i + 1, Parts: len(raws), Kind: "digest", Payload: raw}
		id, err := a.Send(context.Background(), m)
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		m.Status, m.PlatformID = digest.OutboxSent, id
		st.sent = append([]*digest.OutboxMessage{m}, st.sent...)
	}
	posts := fake.Threads("50")
	if len(posts) != 1 {
		t.Fatalf("%d posts for one digest", len(posts))
	}
	if n := len(fake.Messages(posts[0].ID)); n != len(raws) {
		t.Errorf("%d messages in the post, want %d", n, len(raws))
	}
	if posts[0].Name != "Morning · Mon 23 Mar 2026" {
		t.Errorf("post titled %q", posts[0].Name)
	}
}
