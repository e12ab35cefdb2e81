package telegramtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/bot/telegram/telegramtest"
)

// answer is a Bot API answer.
type answer struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
	status int
}

func call(tb testing.TB, s *telegramtest.Server, method string, form url.Values) answer {
	tb.Helper()
	return callToken(tb, s, s.Token, method, form)
}

func callToken(tb testing.TB, s *telegramtest.Server, token, method string, form url.Values) answer {
	tb.Helper()
	resp, err := http.PostForm(s.URL()+"/bot"+token+"/"+method, form)
	if err != nil {
		tb.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		tb.Fatalf("%s: decode answer: %v", method, err)
	}
	a.status = resp.StatusCode
	if !a.OK && a.status != a.ErrorCode {
		tb.Errorf("%s: HTTP status %d but error_code %d", method, a.status, a.ErrorCode)
	}
	return a
}

type update struct {
	UpdateID int             `json:"update_id"`
	Message  json.RawMessage `json:"message"`
}

func (u update) String() string { return fmt.Sprintf("{%d %s}", u.UpdateID, u.Message) }

func updates(tb testing.TB, a answer) []update {
	tb.Helper()
	if !a.OK {
		tb.Fatalf("getUpdates: %d %s", a.ErrorCode, a.Description)
	}
	var us []update
	if err := json.Unmarshal(a.Result, &us); err != nil {
		tb.Fatal(err)
	}
	return us
}

func setup(t *testing.T) *telegramtest.Server {
	s := telegramtest.NewServer(t)
	s.AddUser(10, "Ada", "ada")
	s.AddUser(20, "Bob", "")
	s.AddChat(telegramtest.Chat{ID: -100, Type: "supergroup", Title: "Team"})
	s.SetMember(-100, 10, telegramtest.StatusCreator)
	s.SetMember(-100, 20, telegramtest.StatusMember)
	s.AddPrivateChat(10)
	return s
}

func TestWireFormat(t *testing.T) {
	s := setup(t)
	me := call(t, s, "getMe", nil)
	var u telegramtest.User
	if err := json.Unmarshal(me.Result, &u); err != nil || !me.OK || u.Username != "herald_test_bot" || !u.IsBot {
		t.Fatalf("getMe = %+v (%s), %v", me, me.Result, err)
	}
	if a := callToken(t, s, "123:wrong", "getMe", nil); a.OK || a.ErrorCode != 401 || a.Description != "Unauthorized" {
		t.Errorf("wrong token: %+v", a)
	}
	if a := call(t, s, "sendPigeon", nil); a.OK || a.ErrorCode != 404 {
		t.Errorf("unknown method: %+v", a)
	}
	// Method names are case-insensitive, and JSON bodies work like forms.
	body := `{"chat_id": -100, "text": "<b>hi</b>", "parse_mode": "HTML"}`
	resp, err := http.Post(s.URL()+"/bot"+s.Token+"/SENDMESSAGE", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sent := s.Sent(-100); len(sent) != 1 || sent[0].Text != "hi" || sent[0].Entities[0].Type != "bold" {
		t.Errorf("JSON sendMessage: %+v", sent)
	}
}

func TestUpdatesOffsetsAndLongPoll(t *testing.T) {
	s := setup(t)
	first := s.SendText(-100, 10, "/start@herald_test_bot")
	s.SendText(-100, 20, "/feeds")
	got := updates(t, call(t, s, "getUpdates", url.Values{"timeout": {"0"}}))
	if len(got) != 2 || !bytes.Contains(got[0].Message, []byte(`"bot_command"`)) {
		t.Fatalf("first poll: %d updates: %v", len(got), got)
	}
	if first != 1 {
		t.Errorf("first message id %d, want 1", first)
	}
	// Without confirming, the same updates come again.
	if again := updates(t, call(t, s, "getUpdates", url.Values{"timeout": {"0"}})); len(again) != 2 {
		t.Fatalf("unconfirmed updates: %d, want 2 again", len(again))
	}
	last := got[1].UpdateID
	if n := s.Deliveries(last); n != 2 {
		t.Errorf("Deliveries = %d, want 2", n)
	}

	// A long poll with the next offset waits, and returns as soon as an
	// update arrives.
	done := make(chan []update)
	go func() {
		resp, err := http.PostForm(s.URL()+"/bot"+s.Token+"/getUpdates", url.Values{"offset": {itoa(last + 1)}, "timeout": {"10"}})
		if err != nil {
			done <- nil
			return
		}
		defer resp.Body.Close()
		var a answer
		json.NewDecoder(resp.Body).Decode(&a)
		var us []update
		json.Unmarshal(a.Result, &us)
		done <- us
	}()
	s.Wait("the long poll to confirm", func() bool { return s.Pending() == 0 })
	s.SendText(10, 10, "/help")
	select {
	case us := <-done:
		if len(us) != 1 || us[0].UpdateID != last+1 {
			t.Fatalf("long poll returned %v", us)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long poll did not return when an update arrived")
	}
	if offs := s.UpdateOffsets(); len(offs) != 1 || offs[0] != last+1 {
		t.Errorf("offsets = %v", offs)
	}

	// A poll that times out answers an empty list.
	if us := updates(t, call(t, s, "getUpdates", url.Values{"offset": {itoa(last + 2)}, "timeout": {"0"}})); len(us) != 0 {
		t.Errorf("empty poll: %v", us)
	}
}

func TestConcurrentPollsConflict(t *testing.T) {
	s := setup(t)
	var wg sync.WaitGroup
	var firstAnswer answer
	wg.Add(1)
	go func() {
		defer wg.Done()
		firstAnswer = call(t, s, "getUpdates", url.Values{"timeout": {"10"}})
	}()
	s.Wait("the first poll to wait", func() bool { return s.Waiting() == 1 })
	second := call(t, s, "getUpdates", url.Values{"timeout": {"0"}})
	wg.Wait()
	if firstAnswer.OK || firstAnswer.ErrorCode != 409 || !strings.Contains(firstAnswer.Description, "terminated by other getUpdates") {
		t.Errorf("first poll: %+v, want 409", firstAnswer)
	}
	if !second.OK {
		t.Errorf("second poll: %+v", second)
	}
}

func TestSendMessageValidation(t *testing.T) {
	s := setup(t)
	tests := []struct {
		name string
		form url.Values
		code int
		desc string
	}{
		{"ok", url.Values{"text": {"<b>x</b> &amp; y"}, "parse_mode": {"HTML"}}, 200, ""},
		{"unknown tag", url.Values{"text": {"<p>x</p>"}, "parse_mode": {"HTML"}}, 400, "can't parse entities"},
		{"unclosed", url.Values{"text": {"<b>x"}, "parse_mode": {"HTML"}}, 400, "can't find end tag"},
		{"crossed", url.Values{"text": {"<b><i>x</b></i>"}, "parse_mode": {"HTML"}}, 400, "unmatched end tag"},
		{"bare amp", url.Values{"text": {"a & b"}, "parse_mode": {"HTML"}}, 400, "bare &"},
		{"named entity", url.Values{"text": {"&nbsp;"}, "parse_mode": {"HTML"}}, 400, "unsupported entity"},
		{"empty", url.Values{"text": {"  <b> </b> "}, "parse_mode": {"HTML"}}, 400, "message text is empty"},
		{"4096 units", url.Values{"text": {strings.Repeat("😀", 2048)}}, 200, ""},
		{"4097 units", url.Values{"text": {strings.Repeat("😀", 2048) + "x"}}, 400, "message is too long"},
		{"tags do not count", url.Values{"text": {"<b>" + strings.Repeat("x", 4096) + "</b>"}, "parse_mode": {"HTML"}}, 200, ""},
		{"callback data 64", url.Values{"text": {"x"}, "reply_markup": {`{"inline_keyboard":[[{"text":"a","callback_data":"` + strings.Repeat("d", 64) + `"}]]}`}}, 200, ""},
		{"callback data 65", url.Values{"text": {"x"}, "reply_markup": {`{"inline_keyboard":[[{"text":"a","callback_data":"` + strings.Repeat("d", 65) + `"}]]}`}}, 400, "BUTTON_DATA_INVALID"},
		{"no topics here", url.Values{"text": {"x"}, "message_thread_id": {"5"}}, 400, "message thread not found"},
		{"markdown", url.Values{"text": {"*x*"}, "parse_mode": {"MarkdownV2"}}, 400, "parse_mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("chat_id", "-100")
			a := call(t, s, "sendMessage", tt.form)
			if a.status != tt.code || !strings.Contains(a.Description, tt.desc) {
				t.Fatalf("answer %d %q, want %d with %q", a.status, a.Description, tt.code, tt.desc)
			}
		})
	}
	if a := call(t, s, "sendMessage", url.Values{"chat_id": {"-999"}, "text": {"x"}}); a.ErrorCode != 400 || a.Description != "Bad Request: chat not found" {
		t.Errorf("unknown chat: %+v", a)
	}
}

func TestFaults(t *testing.T) {
	s := setup(t)
	s.AddChat(telegramtest.Chat{ID: -5, Type: "group", Title: "Old"})
	s.RateLimit(-100, 7, 1)
	a := call(t, s, "sendMessage", url.Values{"chat_id": {"-100"}, "text": {"x"}})
	if a.ErrorCode != 429 || a.Parameters.RetryAfter != 7 || a.Description != "Too Many Requests: retry after 7" {
		t.Errorf("rate limited: %+v", a)
	}
	if a := call(t, s, "sendMessage", url.Values{"chat_id": {"-100"}, "text": {"x"}}); !a.OK {
		t.Errorf("after the 429: %+v", a)
	}
	s.Block(10)
	if a := call(t, s, "sendMessage", url.Values{"chat_id": {"10"}, "text": {"x"}}); a.ErrorCode != 403 || !strings.Contains(a.Description, "blocked by the user") {
		t.Errorf("blocked: %+v", a)
	}
	s.Migrate(-5, -1005, true)
	if a := call(t, s, "sendMessage", url.Values{"chat_id": {"-5"}, "text": {"x"}}); a.ErrorCode != 400 || a.Parameters.MigrateToChatID != -1005 {
		t.Errorf("migrated: %+v", a)
	}
	if a := call(t, s, "sendMessage", url.Values{"chat_id": {"-1005"}, "text": {"x"}}); !a.OK {
		t.Errorf("new chat: %+v", a)
	}
	if us := updates(t, call(t, s, "getUpdates", nil)); len(us) != 2 ||
		!bytes.Contains(us[0].Message, []byte(`"migrate_to_chat_id":-1005`)) || !bytes.Contains(us[1].Message, []byte(`"migrate_from_chat_id":-5`)) {
		t.Errorf("migration service messages: %v", us)
	}
	s.FailNext("getMe", 500, "Internal Server Error")
	if a := call(t, s, "getMe", nil); a.ErrorCode != 500 {
		t.Errorf("FailNext: %+v", a)
	}
	s.DropNext("getMe")
	if _, err := http.PostForm(s.URL()+"/bot"+s.Token+"/getMe", nil); err == nil {
		t.Error("DropNext: the request succeeded")
	}
	if a := call(t, s, "getMe", nil); !a.OK {
		t.Errorf("after the faults: %+v", a)
	}
	calls := s.Calls("sendMessage")
	if len(calls) != 5 || calls[0].Code != 429 || calls[0].ChatID != -100 || calls[1].Code != 200 {
		t.Errorf("calls = %+v", calls)
	}
}

func TestEditAndCallbacks(t *testing.T) {
	s := setup(t)
	kb := `{"inline_keyboard":[[{"text":"Next","callback_data":"feeds:2"}]]}`
	a := call(t, s, "sendMessage", url.Values{"chat_id": {"-100"}, "text": {"Page 1"}, "reply_markup": {kb}})
	var m struct {
		MessageID int `json:"message_id"`
	}
	json.Unmarshal(a.Result, &m)
	edit := url.Values{"chat_id": {"-100"}, "message_id": {itoa(m.MessageID)}, "text": {"Page 1"}, "reply_markup": {kb}}
	if a := call(t, s, "editMessageText", edit); a.ErrorCode != 400 || !strings.Contains(a.Description, "message is not modified") {
		t.Errorf("identical edit: %+v", a)
	}
	edit.Set("text", "Page 2")
	if a := call(t, s, "editMessageText", edit); !a.OK {
		t.Errorf("edit: %+v", a)
	}
	if got, _ := s.Message(-100, m.MessageID); got.Text != "Page 2" || got.Edits != 1 {
		t.Errorf("edited message: %+v", got)
	}
	edit.Set("message_id", "999")
	if a := call(t, s, "editMessageText", edit); a.ErrorCode != 400 || !strings.Contains(a.Description, "message to edit not found") {
		t.Errorf("edit of a missing message: %+v", a)
	}
	id := s.PressButton(-100, m.MessageID, 20, "feeds:2")
	if a := call(t, s, "answerCallbackQuery", url.Values{"callback_query_id": {id}, "text": {"ok"}}); !a.OK {
		t.Errorf("answer: %+v", a)
	}
	if a := call(t, s, "answerCallbackQuery", url.Values{"callback_query_id": {id}}); a.ErrorCode != 400 {
		t.Errorf("second answer: %+v", a)
	}
	if ans := s.CallbackAnswers(); len(ans) != 1 || ans[0].Data != "feeds:2" || ans[0].UserID != 20 || ans[0].Text != "ok" {
		t.Errorf("answers = %+v", ans)
	}
}

func TestSendDocumentAndMembers(t *testing.T) {
	s := setup(t)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("chat_id", "-100")
	mw.WriteField("caption", "<i>2 feeds</i>")
	mw.WriteField("parse_mode", "HTML")
	fw, _ := mw.CreateFormFile("document", "feeds.opml")
	fw.Write([]byte("<opml/>"))
	mw.Close()
	resp, err := http.Post(s.URL()+"/bot"+s.Token+"/sendDocument", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sent := s.Sent(-100)
	if len(sent) != 1 || sent[0].Document == nil || string(sent[0].Document.Data) != "<opml/>" || sent[0].Document.Name != "feeds.opml" || sent[0].Text != "2 feeds" {
		t.Fatalf("sent = %+v", sent)
	}

	var mem struct {
		Status string `json:"status"`
	}
	for user, want := range map[string]string{"10": "creator", "20": "member", "7000000001": "member"} {
		a := call(t, s, "getChatMember", url.Values{"chat_id": {"-100"}, "user_id": {user}})
		json.Unmarshal(a.Result, &mem)
		if mem.Status != want {
			t.Errorf("getChatMember %s = %s, want %s", user, mem.Status, want)
		}
	}
	var admins []struct {
		User telegramtest.User `json:"user"`
	}
	json.Unmarshal(call(t, s, "getChatAdministrators", url.Values{"chat_id": {"-100"}}).Result, &admins)
	if len(admins) != 1 || admins[0].User.ID != 10 {
		t.Errorf("admins = %+v", admins)
	}
}

func TestWebhookDelivery(t *testing.T) {
	s := setup(t)
	var mu sync.Mutex
	var got []string
	fail := 1
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("X-Telegram-Bot-Api-Secret-Token") != "s3cret" {
			t.Errorf("secret header %q", r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		}
		if fail > 0 {
			fail--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		got = append(got, string(b))
	}))
	defer hook.Close()
	if a := call(t, s, "setWebhook", url.Values{"url": {hook.URL}, "secret_token": {"s3cret"}}); !a.OK {
		t.Fatalf("setWebhook: %+v", a)
	}
	if a := call(t, s, "getUpdates", nil); a.ErrorCode != 409 {
		t.Errorf("getUpdates with a webhook: %+v", a)
	}
	id := s.SendText(-100, 20, "/feeds")
	s.Wait("the webhook to take the update", func() bool { return s.Pending() == 0 })
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !strings.Contains(got[0], `"text":"/feeds"`) {
		t.Errorf("webhook got %q", got)
	}
	if at := s.WebhookAttempts(); len(at) != 2 || at[0].Status != 500 || at[1].Status != 200 {
		t.Errorf("attempts = %+v (message %d)", at, id)
	}
	if a := call(t, s, "setWebhook", url.Values{"url": {hook.URL}, "secret_token": {"no spaces"}}); a.ErrorCode != 400 {
		t.Errorf("bad secret accepted: %+v", a)
	}
}

func TestParseHTML(t *testing.T) {
	tests := []struct {
		in   string
		text string
		ents []telegramtest.Entity
	}{
		{"plain", "plain", nil},
		{"  <b>bold</b> tail \n", "bold tail", []telegramtest.Entity{{Type: "bold", Offset: 0, Length: 4}}},
		{`😀 <a href="https://x.example/?a=1&amp;b=2">link</a>`, "😀 link", []telegramtest.Entity{{Type: "text_link", Offset: 3, Length: 4, URL: "https://x.example/?a=1&b=2"}}},
		{"<b>a<i>b</i></b>", "ab", []telegramtest.Entity{{Type: "italic", Offset: 1, Length: 1}, {Type: "bold", Offset: 0, Length: 2}}},
		{"&lt;&gt;&amp;&quot;&#128512;&#x41;", `<>&"😀A`, nil},
		{`<span class="tg-spoiler">s</span>`, "s", []telegramtest.Entity{{Type: "spoiler", Offset: 0, Length: 1}}},
	}
	for _, tt := range tests {
		text, ents, err := telegramtest.ParseHTML(tt.in)
		if err != nil || text != tt.text || len(ents) != len(tt.ents) {
			t.Errorf("ParseHTML(%q) = %q, %+v, %v; want %q, %+v", tt.in, text, ents, err, tt.text, tt.ents)
			continue
		}
		for i := range ents {
			if ents[i] != tt.ents[i] {
				t.Errorf("ParseHTML(%q) entity %d = %+v, want %+v", tt.in, i, ents[i], tt.ents[i])
			}
		}
	}
	for _, bad := range []string{"<a>x</a>", "<span>x</span>", "<script>", "x < y", "\xff", "</b>"} {
		if _, _, err := telegramtest.ParseHTML(bad); err == nil {
			t.Errorf("ParseHTML(%q) accepted", bad)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
