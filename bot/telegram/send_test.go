package telegram_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/bot/telegram"
	"github.com/seed-c50b6fda/herald/bot/telegram/telegramtest"
	"github.com/seed-c50b6fda/herald/digest"
)

func newSender(tb testing.TB, apiURL, token string) *telegram.Adapter {
	tb.Helper()
	a, err := telegram.New(telegram.Config{Token: token, APIURL: apiURL, Bot: bot.New(bot.Deps{}), RequestTimeout: 5 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func payload(tb testing.TB, p telegram.Payload) []byte {
	tb.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestSendMapsTelegramAnswers(t *testing.T) {
	fake := telegramtest.NewServer(t)
	fake.AddUser(1, "Ann", "")
	fake.AddPrivateChat(1)
	fake.AddChat(telegramtest.Chat{ID: -10, Type: "supergroup", Title: "Team"})
	fake.AddChat(telegramtest.Chat{ID: -20, Type: "group", Title: "Old"})
	fake.AddChat(telegramtest.Chat{ID: -30, Type: "supergroup", Title: "Forum", IsForum: true})
	fake.AddTopic(-30, 5, "News")
	a := newSender(t, fake.URL(), fake.Token)
	text := telegram.Payload{Method: "sendMessage", Text: "<b>hi</b>", ParseMode: "HTML"}
	doc := telegram.Payload{Method: "sendDocument", Text: "<i>feeds</i>", ParseMode: "HTML", File: &telegram.File{Name: "f.opml", Data: []byte("<opml/>")}}

	tests := []struct {
		name   string
		setup  func()
		chat   string
		thread string
		p      telegram.Payload
		raw    []byte // instead of p
		check  func(t *testing.T, id string, err error)
	}{
		{"sent", nil, "-10", "", text, nil, func(t *testing.T, id string, err error) {
			if err != nil || id != "1" {
				t.Fatalf("id %q, %v", id, err)
			}
		}},
		{"into a topic", nil, "-30", "5", text, nil, func(t *testing.T, id string, err error) {
			if err != nil || fake.Sent(-30)[0].ThreadID != 5 {
				t.Fatalf("%v, %+v", err, fake.Sent(-30))
			}
		}},
		{"a document into a topic", nil, "-30", "5", doc, nil, func(t *testing.T, id string, err error) {
			m := fake.Sent(-30)[1]
			if err != nil || m.Document == nil || m.ThreadID != 5 || m.Text != "feeds" {
				t.Fatalf("%v, %+v", err, m)
			}
		}},
		{"429", func() { fake.RateLimit(-10, 3, 1) }, "-10", "", text, nil, func(t *testing.T, id string, err error) {
			var se *bot.SendError
			if !errors.As(err, &se) || se.RetryAfter != 3*time.Second || se.Global || se.Forbidden || se.Permanent {
				t.Fatalf("%#v", err)
			}
		}},
		{"403 blocked", func() { fake.Block(1) }, "1", "", text, nil, func(t *testing.T, id string, err error) {
			var se *bot.SendError
			if !errors.As(err, &se) || !se.Forbidden || !strings.Contains(err.Error(), "blocked by the user") {
				t.Fatalf("%v", err)
			}
		}},
		{"403 on an upload", nil, "1", "", doc, nil, func(t *testing.T, id string, err error) {
			var se *bot.SendError
			if !errors.As(err, &se) || !se.Forbidden {
				t.Fatalf("%v: tgbotapi drops error_code for uploads; the HTTP status must do", err)
			}
		}},
		{"migrated", func() { fake.Migrate(-20, -1000020, false) }, "-20", "", text, nil, func(t *testing.T, id string, err error) {
			var se *bot.SendError
			if !errors.As(err, &se) || se.MigratedTo != "-1000020" || se.Permanent {
				t.Fatalf("%#v", err)
			}
		}},
		{"chat not found", nil, "-999", "", text, nil, func(t *testing.T, id string, err error) {
			var se *bot.SendError
			if !errors.As(err, &se) || !se.Forbidden {
				t.Fatalf("%v", err)
			}
		}},
		{"malformed HTML", nil, "-10", "", telegram.Payload{Method: "sendMessage", Text: "<b>open", ParseMode: "HTML"}, nil, func(t *testing.T, id string, err error) {
			var se *bot.SendError
			if !errors.As(err, &se) || !se.Permanent || !strings.Contains(err.Error(), "400 Bad Request: can't parse entities") {
				t.Fatalf("%v", err)
			}
		}},
		{"topic gone", nil, "-30", "6", text, nil, func(t *testing.T, id string, err error) {
			var se *bot.SendError
			if !errors.As(err, &se) || !se.ThreadGone || se.Forbidden {
				t.Fatalf("%v: want the thread gone and the chat fine", err)
			}
		}},
		{"server error is retried", func() { fake.FailNext("sendMessage", 502, "Bad Gateway") }, "-10", "", text, nil, func(t *testing.T, id string, err error) {
			var se *bot.SendError
			if err == nil || errors.As(err, &se) || !strings.Contains(err.Error(), "502") {
				t.Fatalf("%#v", err)
			}
		}},
		{"network error is retried", func() { fake.DropNext("sendMessage") }, "-10", "", text, nil, func(t *testing.T, id string, err error) {
			var se *bot.SendError
			if err == nil || errors.As(err, &se) || strings.Contains(err.Error(), fake.Token) || !strings.Contains(err.Error(), "/bot<token>/sendMessage") {
				t.Fatalf("%v", err)
			}
		}},
		{"unreadable payload", nil, "-10", "", telegram.Payload{}, []byte("{"), func(t *testing.T, id string, err error) {
			var se *bot.SendError
			if !errors.As(err, &se) || !se.Permanent {
				t.Fatalf("%v", err)
			}
		}},
		{"unknown method", nil, "-10", "", telegram.Payload{Method: "sendPigeon", Text: "x"}, nil, func(t *testing.T, id string, err error) {
			var se *bot.SendError
			if !errors.As(err, &se) || !se.Permanent {
				t.Fatalf("%v", err)
			}
		}},
		{"edit of a vanished message sends a new one", nil, "-10", "", telegram.Payload{Method: "editMessageText", MessageID: 999, Text: "page 2"}, nil, func(t *testing.T, id string, err error) {
			sent := fake.Sent(-10)
			if err != nil || id != "2" || sent[len(sent)-1].Text != "page 2" {
				t.Fatalf("id %q, %v, %+v", id, err, sent)
			}
		}},
		{"edit that changes nothing is done", nil, "-10", "", telegram.Payload{Method: "editMessageText", MessageID: 2, Text: "page 2"}, nil, func(t *testing.T, id string, err error) {
			if err != nil || id != "2" {
				t.Fatalf("id %q, %v", id, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			raw := tt.raw
			if raw == nil {
				raw = payload(t, tt.p)
			}
			id, err := a.Send(context.Background(), &digest.OutboxMessage{Key: "k", ChatID: tt.chat, ThreadID: tt.thread, Payload: raw})
			tt.check(t, id, err)
			if err != nil && strings.Contains(err.Error(), fake.Token) {
				t.Errorf("error holds the token: %v", err)
			}
		})
	}
}

func TestSendHonoursContext(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server notices the client hanging up
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer hang.Close()
	a := newSender(t, hang.URL, "42:secret-token")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := a.Send(ctx, &digest.OutboxMessage{ChatID: "1", Payload: payload(t, telegram.Payload{Method: "sendMessage", Text: "x"})})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Send returned %s after its context ended", took)
	}
	if strings.Contains(err.Error(), "secret-token") {
		t.Errorf("error holds the token: %v", err)
	}
}

func TestNewChecksConfig(t *testing.T) {
	core := bot.New(bot.Deps{})
	tests := []struct {
		name string
		cfg  telegram.Config
		want string
	}{
		{"no token", telegram.Config{Bot: core}, "token: not set"},
		{"malformed token", telegram.Config{Token: "abc def/../x", Bot: core}, "not a bot token"},
		{"no core", telegram.Config{Token: "1:x"}, "no chat core"},
		{"bad api url", telegram.Config{Token: "1:x", Bot: core, APIURL: "ftp://x"}, "api url"},
		{"webhook without secret", telegram.Config{Token: "1:x", Bot: core, Webhook: telegram.WebhookConfig{ListenAddr: ":0"}}, "secret token"},
		{"webhook secret with spaces", telegram.Config{Token: "1:x", Bot: core, Webhook: telegram.WebhookConfig{ListenAddr: ":0", SecretToken: "a b"}}, "secret token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := telegram.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error about %q", err, tt.want)
			}
			if tt.cfg.Token != "" && strings.Contains(err.Error(), tt.cfg.Token) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}

func TestSelfHostedAPIURL(t *testing.T) {
	// A Bot API server under a path, which holds an escaped % sign.
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.EscapedPath()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true,"result":{"message_id":7,"date":1,"chat":{"id":1,"type":"private"}}}`))
	}))
	defer srv.Close()
	a := newSender(t, srv.URL+"/tg/100%25/", "42:tok")
	id, err := a.Send(context.Background(), &digest.OutboxMessage{ChatID: "1", Payload: payload(t, telegram.Payload{Method: "sendMessage", Text: "x"})})
	if err != nil || id != "7" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	if path != "/tg/100%25/bot42:tok/sendMessage" {
		t.Errorf("request path %q", path)
	}
}
