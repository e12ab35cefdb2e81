// Package telegramtest owns an in-process fake of the Telegram Bot API for
// tests of the Telegram adapter: an httptest server that speaks the Bot
// API's wire format (POST /bot<token>/<method> with form, multipart or JSON
// parameters; {"ok", "result"} or {"ok": false, "error_code",
// "description", "parameters": {"retry_after", "migrate_to_chat_id"}}
// answers with the matching HTTP status) and keeps what a bot would see:
// users, chats with their members and roles, forum topics, messages with
// their thread ids, pending updates, answered callback queries, the bot's
// command menu and its webhook.
//
// Tests act as Telegram's users (Post, SendText, ChannelPost, PressButton,
// PushUpdate), make Telegram misbehave (RateLimit, Block, Migrate,
// FailNext, DropNext), and read what the bot did (Sent, CallbackAnswers,
// Commands, Calls, UpdateOffsets, Deliveries). It validates what the bot
// sends the way the Bot API does: HTML parse mode, the 4096-character
// limit counted in UTF-16 units, the 64-byte limit of callback data, chats
// the bot was removed from, topics that do not exist.
//
// Updates are kept until confirmed, with the Bot API's offset semantics:
// getUpdates with offset N forgets every update below N, long polls for
// up to its timeout, and a second concurrent getUpdates ends the first
// with 409 Conflict. With a webhook set, getUpdates answers 409 and the
// server posts each update to the webhook, with the secret token header,
// until the webhook answers 2xx.
package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Member statuses, as getChatMember reports them.
const (
	StatusCreator       = "creator"
	StatusAdministrator = "administrator"
	StatusMember        = "member"
	StatusRestricted    = "restricted"
	StatusLeft          = "left"
	StatusKicked        = "kicked"
)

// GroupAnonymousBot is the sender Telegram shows for a message an
// anonymous group administrator wrote (sender_chat is then the group).
var GroupAnonymousBot = User{ID: 1087968824, IsBot: true, FirstName: "Group", Username: "GroupAnonymousBot"}

// User is a Telegram user, in the Bot API's JSON shape.
type User struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name,omitempty"`
	Username  string `json:"username,omitempty"`
}

// Chat is a Telegram chat, in the Bot API's JSON shape. Type is
// "private", "group", "supergroup" or "channel".
type Chat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	IsForum   bool   `json:"is_forum,omitempty"`
}

// Button is an inline keyboard button.
type Button struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// Keyboard is an inline keyboard, the reply_markup of a message.
type Keyboard struct {
	InlineKeyboard [][]Button `json:"inline_keyboard"`
}

// Document is a file the bot sent.
type Document struct {
	Name     string
	MIMEType string
	Data     []byte
}

// Message is a message in a chat as the server keeps it.
type Message struct {
	ID        int
	ChatID    int64
	ThreadID  int   // forum topic; 0 for the chat itself
	From      int64 // the sender's user id (the bot's for the bot's messages; 0 for channel posts)
	Text      string
	HTML      string // the text as sent, when the parse mode was HTML
	ParseMode string
	Entities  []Entity
	Keyboard  [][]Button
	Document  *Document // Text is then the caption
	Edits     int       // how many times editMessageText changed it
	Date      time.Time

	senderChat *Chat
	autoFwd    bool
}

// CallbackAnswer is the bot's answer to a button press.
type CallbackAnswer struct {
	QueryID   string
	Data      string // the pressed button's callback data
	UserID    int64
	Text      string
	ShowAlert bool
}

// BotCommand is an entry of the bot's command menu.
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// Call is one Bot API request the server answered.
type Call struct {
	Method      string // as the Bot API names it, e.g. "sendMessage"
	ChatID      int64  // the chat_id parameter, if any
	At          time.Time
	Code        int // 200, or the error code answered
	Description string
}

// Webhook is the webhook the bot set.
type Webhook struct {
	URL            string
	SecretToken    string
	AllowedUpdates []string
}

// WebhookAttempt is one delivery of an update to the webhook.
type WebhookAttempt struct {
	UpdateID int
	Status   int // HTTP status, 0 when the request failed
}

type chatState struct {
	chat       Chat
	members    map[int64]string
	order      []int64 // members in the order they joined
	messages   []*Message
	nextID     int
	topics     map[int]string
	migratedTo int64
	rateLimit  []int // retry_after of the next sends answered 429
}

type pending struct {
	id   int
	kind string
	body []byte
}

type callbackState struct {
	data     string
	user     int64
	answered bool
	answer   CallbackAnswer
}

type failure struct {
	drop bool
	err  *apiError
}

// Server is a fake Bot API server. Its methods are safe for concurrent use.
type Server struct {
	// Token is the bot token the server accepts in request paths.
	Token string
	// Bot is the bot's own user, as getMe returns it.
	Bot User
	// WaitTimeout bounds Wait and WaitSent: 5s unless set.
	WaitTimeout time.Duration

	tb      testing.TB
	srv     *httptest.Server
	closing chan struct{}
	once    sync.Once
	wg      sync.WaitGroup

	mu           sync.Mutex
	changed      chan struct{} // closed and replaced on every change
	users        map[int64]User
	chats        map[int64]*chatState
	updates      []pending
	nextUpdate   int
	allowed      []string
	polls        int
	waiting      int // getUpdates requests waiting for updates
	callbacks    map[string]*callbackState
	answers      []CallbackAnswer
	nextCallback int
	commands     []BotCommand
	webhook      Webhook
	hookCancel   context.CancelFunc
	hookAttempts []WebhookAttempt
	failures     map[string][]failure
	calls        []Call
	offsets      []int
	deliveries   map[int]int
	limits       *limiter // nil until EnforceLimits
}

// NewServer starts a fake Bot API server for a bot named herald_test_bot
// and closes it when the test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		Token:       "7000000001:AAH-fake-telegram-token_for_herald_tests",
		Bot:         User{ID: 7000000001, IsBot: true, FirstName: "Herald", Username: "herald_test_bot"},
		WaitTimeout: 5 * time.Second,
		tb:          tb,
		closing:     make(chan struct{}),
		changed:     make(chan struct{}),
		users:       map[int64]User{},
		chats:       map[int64]*chatState{},
		nextUpdate:  100000,
		callbacks:   map[string]*callbackState{},
		failures:    map[string][]failure{},
		deliveries:  map[int]int{},
	}
	s.srv = httptest.NewServer(s)
	tb.Cleanup(s.Close)
	return s
}

// URL is the Bot API base URL to configure the bot with (what
// https://api.telegram.org is for the real one).
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server: long polls and webhook deliveries end.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.mu.Lock()
		if s.hookCancel != nil {
			s.hookCancel()
		}
		s.mu.Unlock()
		s.srv.Close()
		s.wg.Wait()
	})
}

// touch wakes everything waiting for a change. s.mu must be held.
func (s *Server) touch() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// AddUser makes a user known to the server.
func (s *Server) AddUser(id int64, firstName, username string) User {
	u := User{ID: id, FirstName: firstName, Username: username}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = u
	s.touch()
	return u
}

// AddPrivateChat opens the private chat of a known user with the bot; its
// id is the user's id.
func (s *Server) AddPrivateChat(userID int64) Chat {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok {
		s.tb.Fatalf("telegramtest: AddPrivateChat: no user %d", userID)
	}
	c := Chat{ID: userID, Type: "private", FirstName: u.FirstName, Username: u.Username}
	s.addChat(c)
	s.chats[c.ID].join(userID, StatusMember)
	return c
}

// AddChat creates a group, supergroup or channel with the bot in it (as a
// member of groups and an administrator of channels). Members are added
// with SetMember.
func (s *Server) AddChat(c Chat) Chat {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Type != "group" && c.Type != "supergroup" && c.Type != "channel" {
		s.tb.Fatalf("telegramtest: AddChat: type %q is not group, supergroup or channel", c.Type)
	}
	s.addChat(c)
	return c
}

func (s *Server) addChat(c Chat) *chatState {
	cs := &chatState{chat: c, members: map[int64]string{}, topics: map[int]string{}, nextID: 1}
	if c.Type == "channel" {
		cs.join(s.Bot.ID, StatusAdministrator)
	} else {
		cs.join(s.Bot.ID, StatusMember)
	}
	s.chats[c.ID] = cs
	s.touch()
	return cs
}

func (c *chatState) join(user int64, status string) {
	if _, ok := c.members[user]; !ok {
		c.order = append(c.order, user)
	}
	c.members[user] = status
}

// SetMember gives a known user a status in a chat (StatusCreator,
// StatusAdministrator, StatusMember, StatusLeft, ...).
func (s *Server) SetMember(chatID, userID int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat(chatID)
	if _, ok := s.users[userID]; !ok {
		s.tb.Fatalf("telegramtest: SetMember: no user %d", userID)
	}
	c.join(userID, status)
	s.touch()
}

// AddTopic creates a topic in a forum supergroup.
func (s *Server) AddTopic(chatID int64, threadID int, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat(chatID)
	if !c.chat.IsForum {
		s.tb.Fatalf("telegramtest: AddTopic: chat %d is not a forum", chatID)
	}
	c.topics[threadID] = name
}

func (s *Server) mustChat(id int64) *chatState {
	c, ok := s.chats[id]
	if !ok {
		s.tb.Fatalf("telegramtest: no chat %d", id)
	}
	return c
}

// Post is a message a user (or a channel) writes.
type Post struct {
	ChatID   int64
	FromID   int64 // the author; ignored for channel posts
	ThreadID int   // forum topic; 0 for the chat itself (General)
	Text     string

	// AnonymousAdmin sends the message as an anonymous administrator of
	// the group: from GroupAnonymousBot, with the group as sender_chat.
	AnonymousAdmin bool
	// AutomaticForward marks a channel post that Telegram forwards into
	// the channel's discussion group.
	AutomaticForward bool
}

// Post delivers a message from a user (or, in a channel, a channel post)
// as an update, and returns its message id.
func (s *Server) Post(p Post) int {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat(p.ChatID)
	m := &Message{ChatID: p.ChatID, ThreadID: p.ThreadID, Text: p.Text, Date: time.Now(), autoFwd: p.AutomaticForward}
	kind := "message"
	switch {
	case c.chat.Type == "channel":
		kind = "channel_post"
		ch := c.chat
		m.senderChat = &ch
	case p.AnonymousAdmin:
		m.From = GroupAnonymousBot.ID
		ch := c.chat
		m.senderChat = &ch
	default:
		if _, ok := s.users[p.FromID]; !ok {
			s.tb.Fatalf("telegramtest: Post: no user %d", p.FromID)
		}
		if st := c.members[p.FromID]; st == "" || st == StatusLeft || st == StatusKicked {
			s.tb.Fatalf("telegramtest: Post: user %d is not in chat %d", p.FromID, p.ChatID)
		}
		m.From = p.FromID
	}
	if p.ThreadID != 0 && c.topics[p.ThreadID] == "" {
		s.tb.Fatalf("telegramtest: Post: chat %d has no topic %d", p.ChatID, p.ThreadID)
	}
	m.Entities = commandEntities(p.Text)
	m.ID = c.nextID
	c.nextID++
	c.messages = append(c.messages, m)
	s.push(kind, s.wire(m))
	return m.ID
}

// SendText posts text from a user into a chat and returns its message id.
func (s *Server) SendText(chatID, fromID int64, text string) int {
	s.tb.Helper()
	return s.Post(Post{ChatID: chatID, FromID: fromID, Text: text})
}

// ChannelPost posts text into a channel and returns its message id.
func (s *Server) ChannelPost(chatID int64, text string) int {
	s.tb.Helper()
	return s.Post(Post{ChatID: chatID, Text: text})
}

// PressButton presses the button with callback data on one of the bot's
// messages, as user fromID, and returns the callback query's id. The
// message must carry that button.
func (s *Server) PressButton(chatID int64, messageID int, fromID int64, data string) string {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat(chatID)
	m := c.find(messageID)
	if m == nil || m.From != s.Bot.ID {
		s.tb.Fatalf("telegramtest: PressButton: no message %d of the bot in chat %d", messageID, chatID)
	}
	found := false
	for _, row := range m.Keyboard {
		for _, b := range row {
			found = found || b.CallbackData == data
		}
	}
	if !found {
		s.tb.Fatalf("telegramtest: PressButton: message %d in chat %d has no button %q (keyboard %v)", messageID, chatID, data, m.Keyboard)
	}
	u, ok := s.users[fromID]
	if !ok {
		s.tb.Fatalf("telegramtest: PressButton: no user %d", fromID)
	}
	s.nextCallback++
	id := fmt.Sprintf("%d%07d", 58, s.nextCallback)
	s.callbacks[id] = &callbackState{data: data, user: fromID}
	s.push("callback_query", map[string]any{
		"id": id, "from": u, "message": s.wire(m), "chat_instance": strconv.FormatInt(-chatID*7, 10), "data": data,
	})
	return id
}

// PushUpdate queues any update, e.g. "my_chat_member" with a payload in
// the Bot API's shape, and returns its update_id.
func (s *Server) PushUpdate(kind string, payload any) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.push(kind, payload)
}

func (s *Server) push(kind string, payload any) int {
	s.nextUpdate++
	id := s.nextUpdate
	body, err := json.Marshal(map[string]any{"update_id": id, kind: payload})
	if err != nil {
		s.tb.Fatalf("telegramtest: encode %s update: %v", kind, err)
	}
	s.updates = append(s.updates, pending{id: id, kind: kind, body: body})
	s.touch()
	return id
}

// SetBotStatus changes the bot's own membership of a chat and queues the
// my_chat_member update Telegram sends for it: StatusKicked in a private
// chat means the user blocked the bot; StatusMember there, unblocked.
func (s *Server) SetBotStatus(chatID int64, status string, byUser int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat(chatID)
	old := c.members[s.Bot.ID]
	c.join(s.Bot.ID, status)
	s.push("my_chat_member", map[string]any{
		"chat": c.chat, "from": s.users[byUser], "date": time.Now().Unix(),
		"old_chat_member": map[string]any{"user": s.Bot, "status": old},
		"new_chat_member": map[string]any{"user": s.Bot, "status": status},
	})
}

// Block makes every send to a chat fail with 403, as when the user blocked
// the bot or a group removed it, without the my_chat_member update (as when
// it happened while the bot was not reading updates).
func (s *Server) Block(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustChat(chatID).join(s.Bot.ID, StatusKicked)
	s.touch()
}

// Unblock undoes Block.
func (s *Server) Unblock(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat(chatID)
	status := StatusMember
	if c.chat.Type == "channel" {
		status = StatusAdministrator
	}
	c.join(s.Bot.ID, status)
	s.touch()
}

// Migrate upgrades group from to supergroup to, as Telegram does: the new
// chat has the same title and members, and sends to the old id fail with
// 400 and parameters.migrate_to_chat_id. With notify, it queues the two
// service messages Telegram sends (migrate_to_chat_id in the old chat,
// migrate_from_chat_id in the new one).
func (s *Server) Migrate(from, to int64, notify bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.mustChat(from)
	if old.chat.Type != "group" {
		s.tb.Fatalf("telegramtest: Migrate: chat %d is a %s, not a group", from, old.chat.Type)
	}
	c := s.addChat(Chat{ID: to, Type: "supergroup", Title: old.chat.Title})
	for _, u := range old.order {
		c.join(u, old.members[u])
	}
	old.migratedTo = to
	if notify {
		creator := s.Bot
		for _, u := range old.order {
			if old.members[u] == StatusCreator {
				creator = s.users[u]
			}
		}
		for _, m := range []*Message{
			{ID: old.nextID, ChatID: from, From: creator.ID, Date: time.Now()},
			{ID: c.nextID, ChatID: to, From: creator.ID, Date: time.Now()},
		} {
			w := s.wire(m)
			if m.ChatID == from {
				w.MigrateToChatID = to
				old.nextID++
			} else {
				w.MigrateFromChatID = from
				c.nextID++
			}
			s.push("message", w)
		}
	}
}

// RateLimit makes the next times sends (or edits) into a chat fail with 429
// and parameters.retry_after seconds.
func (s *Server) RateLimit(chatID int64, retryAfter, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat(chatID)
	for range times {
		c.rateLimit = append(c.rateLimit, retryAfter)
	}
}

// FailNext makes the next call of method (e.g. "getUpdates") answer an
// error with this code and description.
func (s *Server) FailNext(method string, code int, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := strings.ToLower(method)
	s.failures[m] = append(s.failures[m], failure{err: &apiError{Code: code, Description: description}})
}

// DropNext makes the next call of method fail without an answer: the
// server closes the connection, as a broken network would.
func (s *Server) DropNext(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := strings.ToLower(method)
	s.failures[m] = append(s.failures[m], failure{drop: true})
}

// Messages returns every message of a chat, the users' and the bot's, in
// order, as they are now (after edits).
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.chats[chatID]
	if !ok {
		return nil
	}
	out := make([]Message, 0, len(c.messages))
	for _, m := range c.messages {
		out = append(out, m.copy())
	}
	return out
}

// Sent returns the bot's messages in a chat, in order, as they are now.
func (s *Server) Sent(chatID int64) []Message {
	var out []Message
	for _, m := range s.Messages(chatID) {
		if m.From == s.Bot.ID {
			out = append(out, m)
		}
	}
	return out
}

// Message returns one message of a chat.
func (s *Server) Message(chatID int64, id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.chats[chatID]; ok {
		if m := c.find(id); m != nil {
			return m.copy(), true
		}
	}
	return Message{}, false
}

// CallbackAnswers returns the bot's answers to button presses, in order.
func (s *Server) CallbackAnswers() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallbackAnswer(nil), s.answers...)
}

// Commands returns the bot's command menu, as setMyCommands set it.
func (s *Server) Commands() []BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BotCommand(nil), s.commands...)
}

// Calls returns the requests answered for a method (as the Bot API names
// it, any case), or every request for "".
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || strings.EqualFold(c.Method, method) {
			out = append(out, c)
		}
	}
	return out
}

// UpdateOffsets returns the offset parameter of every getUpdates call
// that had one, in order.
func (s *Server) UpdateOffsets() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.offsets...)
}

// Deliveries reports how many times an update was handed to the bot, by
// getUpdates or the webhook.
func (s *Server) Deliveries(updateID int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deliveries[updateID]
}

// LastUpdateID returns the update_id of the newest update.
func (s *Server) LastUpdateID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextUpdate
}

// Pending returns how many updates wait for confirmation.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// Waiting returns how many getUpdates requests are waiting for an update
// right now (long polling).
func (s *Server) Waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting
}

// Webhook returns the webhook the bot set, if any.
func (s *Server) Webhook() Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook
}

// WebhookAttempts returns every delivery of an update to the webhook.
func (s *Server) WebhookAttempts() []WebhookAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]WebhookAttempt(nil), s.hookAttempts...)
}

// Wait waits until cond holds, checking on every change of the server and
// every few milliseconds (cond may look at other state), and fails the
// test after WaitTimeout. Call it from the test's goroutine.
func (s *Server) Wait(what string, cond func() bool) {
	s.tb.Helper()
	deadline := time.NewTimer(s.WaitTimeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return
		}
		t := time.NewTimer(10 * time.Millisecond)
		select {
		case <-ch:
		case <-t.C:
		case <-deadline.C:
			t.Stop()
			s.tb.Fatalf("telegramtest: timed out after %s waiting for %s", s.WaitTimeout, what)
		}
		t.Stop()
	}
}

// WaitSent waits until the bot has sent at least n messages to a chat and
// returns them all.
func (s *Server) WaitSent(chatID int64, n int) []Message {
	s.tb.Helper()
	var got []Message
	s.Wait(fmt.Sprintf("%d messages from the bot in chat %d", n, chatID), func() bool {
		got = s.Sent(chatID)
		return len(got) >= n
	})
	return got
}

func (m *Message) copy() Message {
	c := *m
	c.Entities = append([]Entity(nil), m.Entities...)
	c.Keyboard = nil
	for _, row := range m.Keyboard {
		c.Keyboard = append(c.Keyboard, append([]Button(nil), row...))
	}
	if m.Document != nil {
		d := *m.Document
		c.Document = &d
	}
	return c
}

func (c *chatState) find(id int) *Message {
	for _, m := range c.messages {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// wireMessage is a message in the Bot API's JSON shape.
type wireMessage struct {
	MessageID          int           `json:"message_id"`
	MessageThreadID    int           `json:"message_thread_id,omitempty"`
	IsTopicMessage     bool          `json:"is_topic_message,omitempty"`
	From               *User         `json:"from,omitempty"`
	SenderChat         *Chat         `json:"sender_chat,omitempty"`
	Date               int64         `json:"date"`
	EditDate           int64         `json:"edit_date,omitempty"`
	Chat               Chat          `json:"chat"`
	Text               string        `json:"text,omitempty"`
	Entities           []Entity      `json:"entities,omitempty"`
	Caption            string        `json:"caption,omitempty"`
	CaptionEntities    []Entity      `json:"caption_entities,omitempty"`
	Document           *wireDocument `json:"document,omitempty"`
	ReplyMarkup        *Keyboard     `json:"reply_markup,omitempty"`
	MigrateToChatID    int64         `json:"migrate_to_chat_id,omitempty"`
	MigrateFromChatID  int64         `json:"migrate_from_chat_id,omitempty"`
	IsAutomaticForward bool          `json:"is_automatic_forward,omitempty"`
}

type wireDocument struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

// wire returns m in the Bot API's shape. s.mu must be held.
func (s *Server) wire(m *Message) *wireMessage {
	c := s.chats[m.ChatID]
	w := &wireMessage{MessageID: m.ID, Date: m.Date.Unix(), Chat: c.chat, SenderChat: m.senderChat, IsAutomaticForward: m.autoFwd}
	if m.ThreadID != 0 {
		w.MessageThreadID, w.IsTopicMessage = m.ThreadID, c.chat.IsForum
	}
	switch {
	case m.From == s.Bot.ID:
		b := s.Bot
		w.From = &b
	case m.From == GroupAnonymousBot.ID:
		b := GroupAnonymousBot
		w.From = &b
	case m.From != 0:
		u := s.users[m.From]
		w.From = &u
	}
	if m.Edits > 0 {
		w.EditDate = time.Now().Unix()
	}
	if m.Document != nil {
		w.Document = &wireDocument{FileID: fmt.Sprintf("BQAC%d_%d", m.ChatID, m.ID), FileUniqueID: fmt.Sprintf("AgAD%d", m.ID),
			FileName: m.Document.Name, MimeType: m.Document.MIMEType, FileSize: len(m.Document.Data)}
		w.Caption, w.CaptionEntities = m.Text, m.Entities
	} else {
		w.Text, w.Entities = m.Text, m.Entities
	}
	if len(m.Keyboard) > 0 {
		w.ReplyMarkup = &Keyboard{InlineKeyboard: m.Keyboard}
	}
	return w
}

// commandEntities returns the bot_command entities Telegram marks in a
// user's text: a / starting a word, the command and an optional @bot.
func commandEntities(text string) []Entity {
	var out []Entity
	units := 0
	startOfWord := true
	for i, r := range text {
		if r == '/' && startOfWord {
			j := i + 1
			for j < len(text) && (isWordByte(text[j]) || text[j] == '@') {
				j++
			}
			if j > i+1 {
				out = append(out, Entity{Type: "bot_command", Offset: units, Length: utf16Len(text[i:j])})
			}
		}
		startOfWord = r == ' ' || r == '\n' || r == '\t'
		units += utf16Len(string(r))
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// apiError is an error answer of the Bot API.
type apiError struct {
	Code        int
	Description string
	RetryAfter  int
	MigrateTo   int64
}

// ServeHTTP answers Bot API requests: POST (or GET) /bot<token>/<method>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		writeAnswer(w, nil, &apiError{Code: 404, Description: "Not Found"})
		return
	}
	if token != s.Token {
		writeAnswer(w, nil, &apiError{Code: 401, Description: "Unauthorized"})
		return
	}
	key := strings.ToLower(method)
	h, known := handlers[key]
	name := method
	if known {
		name = h.name
	}
	p, perr := readParams(r)
	chatID, _ := strconv.ParseInt(p.str("chat_id"), 10, 64)

	s.mu.Lock()
	var f *failure
	if q := s.failures[key]; len(q) > 0 {
		f, s.failures[key] = &q[0], q[1:]
	}
	s.mu.Unlock()

	var result any
	var aerr *apiError
	switch {
	case f != nil && f.drop:
		s.record(Call{Method: name, ChatID: chatID, At: time.Now(), Code: 0, Description: "connection dropped"})
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case f != nil:
		aerr = f.err
	case perr != nil:
		aerr = perr
	case !known:
		aerr = &apiError{Code: 404, Description: "Not Found"}
	default:
		result, aerr = h.fn(s, r.Context(), p)
	}
	call := Call{Method: name, ChatID: chatID, At: time.Now(), Code: 200}
	if aerr != nil {
		call.Code, call.Description = aerr.Code, aerr.Description
	}
	s.record(call)
	writeAnswer(w, result, aerr)
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	s.touch()
}

func writeAnswer(w http.ResponseWriter, result any, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	if e == nil {
		body, err := json.Marshal(map[string]any{"ok": true, "result": result})
		if err != nil {
			e = &apiError{Code: 500, Description: "Internal Server Error: " + err.Error()}
		} else {
			w.Write(body)
			return
		}
	}
	ans := map[string]any{"ok": false, "error_code": e.Code, "description": e.Description}
	params := map[string]any{}
	if e.RetryAfter > 0 {
		params["retry_after"] = e.RetryAfter
	}
	if e.MigrateTo != 0 {
		params["migrate_to_chat_id"] = e.MigrateTo
	}
	if len(params) > 0 {
		ans["parameters"] = params
	}
	w.WriteHeader(e.Code)
	json.NewEncoder(w).Encode(ans)
}

// params are a request's parameters, from the query, a form, a multipart
// form or a JSON body, with the files of a multipart form.
type params struct {
	v     map[string]string
	files map[string]*Document
}

func readParams(r *http.Request) (params, *apiError) {
	p := params{v: map[string]string{}, files: map[string]*Document{}}
	for k, vs := range r.URL.Query() {
		p.v[k] = vs[0]
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var m map[string]json.RawMessage
		body, err := io.ReadAll(io.LimitReader(r.Body, 50<<20))
		if err == nil && len(bytes.TrimSpace(body)) > 0 {
			err = json.Unmarshal(body, &m)
		}
		if err != nil {
			return p, &apiError{Code: 400, Description: "Bad Request: can't parse JSON body: " + err.Error()}
		}
		for k, raw := range m {
			var str string
			if json.Unmarshal(raw, &str) == nil {
				p.v[k] = str
			} else {
				p.v[k] = string(raw)
			}
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(50 << 20); err != nil {
			return p, &apiError{Code: 400, Description: "Bad Request: can't parse multipart form: " + err.Error()}
		}
		for k, vs := range r.MultipartForm.Value {
			p.v[k] = vs[0]
		}
		for k, fhs := range r.MultipartForm.File {
			f, err := fhs[0].Open()
			if err != nil {
				return p, &apiError{Code: 400, Description: "Bad Request: can't read file " + k}
			}
			data, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return p, &apiError{Code: 400, Description: "Bad Request: can't read file " + k}
			}
			p.files[k] = &Document{Name: fhs[0].Filename, MIMEType: fhs[0].Header.Get("Content-Type"), Data: data}
		}
	default:
		if err := r.ParseForm(); err != nil {
			return p, &apiError{Code: 400, Description: "Bad Request: can't parse form: " + err.Error()}
		}
		for k, vs := range r.PostForm {
			p.v[k] = vs[0]
		}
	}
	return p, nil
}

func (p params) has(k string) bool   { _, ok := p.v[k]; return ok }
func (p params) str(k string) string { return p.v[k] }

func (p params) int(k string) (int64, *apiError) {
	v := strings.TrimSpace(p.v[k])
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, &apiError{Code: 400, Description: fmt.Sprintf("Bad Request: invalid %s specified", k)}
	}
	return n, nil
}

func (p params) bool(k string) bool {
	b, _ := strconv.ParseBool(p.v[k])
	return b
}

func (p params) json(k string, v any) *apiError {
	raw := strings.TrimSpace(p.v[k])
	if raw == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return &apiError{Code: 400, Description: fmt.Sprintf("Bad Request: can't parse %s JSON object", k)}
	}
	return nil
}

// deliver posts pending updates to the webhook until ctx ends.
func (s *Server) deliver(ctx context.Context, hook Webhook) {
	defer s.wg.Done()
	client := &http.Client{Timeout: 10 * time.Second}
	for {
		s.mu.Lock()
		next, ok := s.nextFor(hook.AllowedUpdates)
		ch := s.changed
		s.mu.Unlock()
		if !ok {
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(next.body))
		if err != nil {
			s.tb.Errorf("telegramtest: webhook request: %v", err)
			return
		}
		req.Header.Set("Content-Type", "application/json")
		if hook.SecretToken != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", hook.SecretToken)
		}
		status := 0
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			status = resp.StatusCode
		}
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		s.deliveries[next.id]++
		s.hookAttempts = append(s.hookAttempts, WebhookAttempt{UpdateID: next.id, Status: status})
		if status >= 200 && status < 300 {
			s.confirm(next.id + 1)
		}
		s.touch()
		s.mu.Unlock()
		if status < 200 || status >= 300 {
			select {
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
				return
			}
		}
	}
}

// nextFor returns the first pending update of an allowed kind, dropping
// the ones before it that are not allowed. s.mu must be held.
func (s *Server) nextFor(allowed []string) (pending, bool) {
	for len(s.updates) > 0 {
		u := s.updates[0]
		if isAllowed(allowed, u.kind) {
			return u, true
		}
		s.updates = s.updates[1:]
	}
	return pending{}, false
}

// confirm forgets the updates below offset. s.mu must be held.
func (s *Server) confirm(offset int) {
	i := 0
	for i < len(s.updates) && s.updates[i].id < offset {
		i++
	}
	s.updates = s.updates[i:]
}

func isAllowed(allowed []string, kind string) bool {
	if len(allowed) == 0 {
		return kind != "chat_member" && kind != "message_reaction" && kind != "message_reaction_count"
	}
	for _, a := range allowed {
		if a == kind {
			return true
		}
	}
	return false
}

// admins returns a chat's administrators, the creator first.
func (c *chatState) admins() []int64 {
	var out []int64
	for _, u := range c.order {
		if st := c.members[u]; st == StatusCreator || st == StatusAdministrator {
			out = append(out, u)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return c.members[out[i]] == StatusCreator && c.members[out[j]] != StatusCreator })
	return out
}
