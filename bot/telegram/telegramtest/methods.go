package telegramtest

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

type handler struct {
	name string // as the Bot API spells it
	fn   func(s *Server, ctx context.Context, p params) (any, *apiError)
}

// handlers are the methods the server answers, by lower-case name (the
// Bot API ignores the case of method names).
var handlers = map[string]handler{}

func init() {
	for _, h := range []handler{
		{"getMe", (*Server).getMe},
		{"getUpdates", (*Server).getUpdates},
		{"sendMessage", (*Server).sendMessage},
		{"editMessageText", (*Server).editMessageText},
		{"sendDocument", (*Server).sendDocument},
		{"answerCallbackQuery", (*Server).answerCallbackQuery},
		{"setMyCommands", (*Server).setMyCommands},
		{"getMyCommands", (*Server).getMyCommands},
		{"getChat", (*Server).getChat},
		{"getChatMember", (*Server).getChatMember},
		{"getChatAdministrators", (*Server).getChatAdministrators},
		{"setWebhook", (*Server).setWebhook},
		{"deleteWebhook", (*Server).deleteWebhook},
		{"getWebhookInfo", (*Server).getWebhookInfo},
	} {
		handlers[strings.ToLower(h.name)] = h
	}
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{Code: 400, Description: "Bad Request: " + fmt.Sprintf(format, args...)}
}

func (s *Server) getMe(context.Context, params) (any, *apiError) {
	return map[string]any{"id": s.Bot.ID, "is_bot": true, "first_name": s.Bot.FirstName, "username": s.Bot.Username,
		"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false}, nil
}

// getUpdates answers with the pending updates from offset on, waiting up
// to timeout seconds for one to arrive.
func (s *Server) getUpdates(ctx context.Context, p params) (any, *apiError) {
	offset, err := p.int("offset")
	if err != nil {
		return nil, err
	}
	limit, err := p.int("limit")
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, err := p.int("timeout")
	if err != nil {
		return nil, err
	}
	var allowed []string
	if err := p.json("allowed_updates", &allowed); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhook.URL != "" {
		return nil, &apiError{Code: 409, Description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	}
	if p.has("allowed_updates") {
		s.allowed = allowed
	}
	s.polls++
	me := s.polls
	s.touch() // ends an earlier poll still waiting
	if p.has("offset") {
		s.offsets = append(s.offsets, int(offset))
		switch {
		case offset > 0:
			s.confirm(int(offset))
		case offset < 0:
			if keep := int(-offset); keep < len(s.updates) {
				s.updates = s.updates[len(s.updates)-keep:]
			}
		}
	}
	deadline := time.Now().Add(time.Duration(timeout) * time.Second)
	for {
		if me != s.polls {
			return nil, &apiError{Code: 409, Description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
		}
		var batch []pending
		kept := s.updates[:0:0]
		for _, u := range s.updates {
			if !isAllowed(s.allowed, u.kind) {
				continue // the Bot API drops updates of kinds not asked for
			}
			kept = append(kept, u)
			if len(batch) < int(limit) {
				batch = append(batch, u)
			}
		}
		s.updates = kept
		if len(batch) > 0 || !time.Now().Before(deadline) {
			out := make([]rawJSON, len(batch))
			for i, u := range batch {
				out[i] = u.body
				s.deliveries[u.id]++
			}
			return out, nil
		}
		ch := s.changed
		s.waiting++
		s.touch()
		s.mu.Unlock()
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
		case <-s.closing:
		}
		t.Stop()
		s.mu.Lock()
		s.waiting--
		if ctx.Err() != nil {
			return []rawJSON{}, nil // nobody reads the answer
		}
		select {
		case <-s.closing:
			return []rawJSON{}, nil
		default:
		}
	}
}

// rawJSON is an update's stored JSON, marshalled as it is.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

// chatParam finds the chat of a request's chat_id. s.mu must be held.
func (s *Server) chatParam(p params) (*chatState, *apiError) {
	raw := strings.TrimSpace(p.str("chat_id"))
	if raw == "" {
		return nil, badRequest("chat_id is empty")
	}
	var id int64
	if _, err := fmt.Sscan(raw, &id); err != nil {
		name := strings.TrimPrefix(raw, "@")
		for _, c := range s.chats {
			if c.chat.Username != "" && strings.EqualFold(c.chat.Username, name) {
				return c, nil
			}
		}
		return nil, badRequest("chat not found")
	}
	c, ok := s.chats[id]
	if !ok {
		return nil, badRequest("chat not found")
	}
	return c, nil
}

// sendFault is what the Bot API answers a message into c instead of
// sending it, if anything. s.mu must be held.
func (s *Server) sendFault(c *chatState) *apiError {
	if c.migratedTo != 0 {
		return &apiError{Code: 400, Description: "Bad Request: group chat was upgraded to a supergroup chat", MigrateTo: c.migratedTo}
	}
	if st := c.members[s.Bot.ID]; st == StatusKicked || st == StatusLeft {
		switch c.chat.Type {
		case "private":
			return &apiError{Code: 403, Description: "Forbidden: bot was blocked by the user"}
		case "channel":
			return &apiError{Code: 403, Description: "Forbidden: bot is not a member of the channel chat"}
		case "supergroup":
			return &apiError{Code: 403, Description: "Forbidden: bot was kicked from the supergroup chat"}
		default:
			return &apiError{Code: 403, Description: "Forbidden: bot was kicked from the group chat"}
		}
	}
	if len(c.rateLimit) > 0 {
		ra := c.rateLimit[0]
		c.rateLimit = c.rateLimit[1:]
		return &apiError{Code: 429, Description: fmt.Sprintf("Too Many Requests: retry after %d", ra), RetryAfter: ra}
	}
	return s.throttle(c)
}

// thread checks message_thread_id against the chat's topics.
func (c *chatState) thread(p params) (int, *apiError) {
	id, err := p.int("message_thread_id")
	if err != nil || id == 0 {
		return 0, err
	}
	if !c.chat.IsForum || c.topics[int(id)] == "" {
		return 0, badRequest("message thread not found")
	}
	return int(id), nil
}

// formatted parses text in a parse mode into what Telegram shows.
func formatted(text, mode string, limit int, what string) (string, []Entity, *apiError) {
	var shown string
	var ents []Entity
	switch strings.ToLower(mode) {
	case "html":
		var err error
		if shown, ents, err = ParseHTML(text); err != nil {
			return "", nil, badRequest("%v", err)
		}
	case "":
		shown, ents, _ = trim(text, nil)
	default:
		return "", nil, badRequest("unsupported parse_mode %q (the fake speaks HTML only)", mode)
	}
	if utf16Len(shown) > limit {
		return "", nil, badRequest("%s is too long", what)
	}
	return shown, ents, nil
}

// keyboard reads and checks an inline keyboard.
func keyboard(p params) ([][]Button, *apiError) {
	var kb struct {
		InlineKeyboard [][]Button `json:"inline_keyboard"`
	}
	if err := p.json("reply_markup", &kb); err != nil {
		return nil, err
	}
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			switch {
			case b.Text == "":
				return nil, badRequest("BUTTON_TEXT_INVALID")
			case b.CallbackData != "" && b.URL != "", b.CallbackData == "" && b.URL == "":
				return nil, badRequest("can't parse inline keyboard button: exactly one of callback_data and url must be set")
			case b.CallbackData != "" && len(b.CallbackData) > 64:
				return nil, badRequest("BUTTON_DATA_INVALID")
			case b.URL != "":
				if u, err := url.Parse(b.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "tg") {
					return nil, badRequest("BUTTON_URL_INVALID")
				}
			}
		}
	}
	return kb.InlineKeyboard, nil
}

func (s *Server) sendMessage(_ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.chatParam(p)
	if err != nil {
		return nil, err
	}
	if err := s.sendFault(c); err != nil {
		return nil, err
	}
	thread, err := c.thread(p)
	if err != nil {
		return nil, err
	}
	text, ents, err := formatted(p.str("text"), p.str("parse_mode"), 4096, "message")
	if err != nil {
		return nil, err
	}
	if text == "" {
		return nil, badRequest("message text is empty")
	}
	kb, err := keyboard(p)
	if err != nil {
		return nil, err
	}
	m := &Message{ID: c.nextID, ChatID: c.chat.ID, ThreadID: thread, From: s.Bot.ID, Text: text, Entities: ents,
		ParseMode: p.str("parse_mode"), Keyboard: kb, Date: time.Now()}
	if strings.EqualFold(m.ParseMode, "html") {
		m.HTML = p.str("text")
	}
	c.nextID++
	c.messages = append(c.messages, m)
	s.touch()
	return s.wire(m), nil
}

func (s *Server) editMessageText(_ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.str("inline_message_id") != "" {
		return nil, badRequest("the fake does not keep inline messages")
	}
	c, err := s.chatParam(p)
	if err != nil {
		return nil, err
	}
	id, err := p.int("message_id")
	if err != nil {
		return nil, err
	}
	if err := s.sendFault(c); err != nil {
		return nil, err
	}
	m := c.find(int(id))
	if m == nil || m.From != s.Bot.ID || m.Document != nil {
		return nil, badRequest("message to edit not found")
	}
	text, ents, err := formatted(p.str("text"), p.str("parse_mode"), 4096, "message")
	if err != nil {
		return nil, err
	}
	if text == "" {
		return nil, badRequest("message text is empty")
	}
	kb, err := keyboard(p)
	if err != nil {
		return nil, err
	}
	if text == m.Text && fmt.Sprint(ents) == fmt.Sprint(m.Entities) && fmt.Sprint(kb) == fmt.Sprint(m.Keyboard) {
		return nil, badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	}
	m.Text, m.Entities, m.Keyboard, m.ParseMode = text, ents, kb, p.str("parse_mode")
	m.HTML = ""
	if strings.EqualFold(m.ParseMode, "html") {
		m.HTML = p.str("text")
	}
	m.Edits++
	s.touch()
	return s.wire(m), nil
}

func (s *Server) sendDocument(_ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.chatParam(p)
	if err != nil {
		return nil, err
	}
	if err := s.sendFault(c); err != nil {
		return nil, err
	}
	thread, err := c.thread(p)
	if err != nil {
		return nil, err
	}
	doc := p.files["document"]
	if doc == nil {
		if p.str("document") != "" {
			return nil, badRequest("wrong remote file identifier specified: the fake accepts uploads only")
		}
		return nil, badRequest("there is no document in the request")
	}
	if len(doc.Data) == 0 {
		return nil, badRequest("file must be non-empty")
	}
	caption, ents, err := formatted(p.str("caption"), p.str("parse_mode"), 1024, "message caption")
	if err != nil {
		return nil, err
	}
	kb, err := keyboard(p)
	if err != nil {
		return nil, err
	}
	m := &Message{ID: c.nextID, ChatID: c.chat.ID, ThreadID: thread, From: s.Bot.ID, Text: caption, Entities: ents,
		ParseMode: p.str("parse_mode"), Keyboard: kb, Document: doc, Date: time.Now()}
	if strings.EqualFold(m.ParseMode, "html") {
		m.HTML = p.str("caption")
	}
	c.nextID++
	c.messages = append(c.messages, m)
	s.touch()
	return s.wire(m), nil
}

func (s *Server) answerCallbackQuery(_ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := p.str("callback_query_id")
	cb, ok := s.callbacks[id]
	if !ok || cb.answered {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	text := p.str("text")
	if utf16Len(text) > 200 {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	cb.answered = true
	cb.answer = CallbackAnswer{QueryID: id, Data: cb.data, UserID: cb.user, Text: text, ShowAlert: p.bool("show_alert")}
	s.answers = append(s.answers, cb.answer)
	s.touch()
	return true, nil
}

var commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (s *Server) setMyCommands(_ context.Context, p params) (any, *apiError) {
	var cmds []BotCommand
	if err := p.json("commands", &cmds); err != nil {
		return nil, err
	}
	if len(cmds) > 100 {
		return nil, badRequest("too many commands")
	}
	for _, c := range cmds {
		if !commandName.MatchString(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf16Len(strings.TrimSpace(c.Description)); n == 0 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = cmds
	s.touch()
	return true, nil
}

func (s *Server) getMyCommands(context.Context, params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BotCommand{}, s.commands...), nil
}

func (s *Server) getChat(_ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.chatParam(p)
	if err != nil {
		return nil, err
	}
	return c.chat, nil
}

// member returns a member in the Bot API's shape. s.mu must be held.
func (s *Server) member(c *chatState, user int64) map[string]any {
	u, ok := s.users[user]
	if user == s.Bot.ID {
		u, ok = s.Bot, true
	}
	if !ok {
		return nil
	}
	status := c.members[user]
	if status == "" {
		status = StatusLeft
	}
	m := map[string]any{"user": u, "status": status}
	switch status {
	case StatusCreator:
		m["is_anonymous"] = false
	case StatusAdministrator:
		m["can_be_edited"] = false
		m["is_anonymous"] = false
		m["can_manage_chat"] = true
		m["can_change_info"] = true
		m["can_delete_messages"] = true
		m["can_invite_users"] = true
		m["can_restrict_members"] = true
		m["can_pin_messages"] = true
		m["can_promote_members"] = false
	case StatusRestricted:
		m["is_member"] = true
		m["can_send_messages"] = false
	case StatusKicked:
		m["until_date"] = 0
	}
	return m
}

func (s *Server) getChatMember(_ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.chatParam(p)
	if err != nil {
		return nil, err
	}
	user, err := p.int("user_id")
	if err != nil {
		return nil, err
	}
	m := s.member(c, user)
	if m == nil {
		return nil, badRequest("user not found")
	}
	return m, nil
}

func (s *Server) getChatAdministrators(_ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.chatParam(p)
	if err != nil {
		return nil, err
	}
	if c.chat.Type == "private" {
		return nil, badRequest("there are no administrators in the private chat")
	}
	out := []map[string]any{}
	for _, u := range c.admins() {
		if u != s.Bot.ID || c.chat.Type == "channel" {
			out = append(out, s.member(c, u))
		}
	}
	return out, nil
}

var secretToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Server) setWebhook(_ context.Context, p params) (any, *apiError) {
	hook := Webhook{URL: p.str("url"), SecretToken: p.str("secret_token")}
	if err := p.json("allowed_updates", &hook.AllowedUpdates); err != nil {
		return nil, err
	}
	if hook.SecretToken != "" && !secretToken.MatchString(hook.SecretToken) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	if hook.URL != "" {
		if u, err := url.Parse(hook.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, badRequest("bad webhook: invalid URL")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hookCancel != nil {
		s.hookCancel()
		s.hookCancel = nil
	}
	if p.bool("drop_pending_updates") {
		s.updates = nil
	}
	s.webhook = hook
	if hook.URL != "" {
		select {
		case <-s.closing:
		default:
			ctx, cancel := context.WithCancel(context.Background())
			s.hookCancel = cancel
			s.wg.Add(1)
			go s.deliver(ctx, hook)
		}
	}
	s.touch()
	return true, nil
}

func (s *Server) deleteWebhook(_ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hookCancel != nil {
		s.hookCancel()
		s.hookCancel = nil
	}
	s.webhook = Webhook{}
	if p.bool("drop_pending_updates") {
		s.updates = nil
	}
	s.touch()
	return true, nil
}

func (s *Server) getWebhookInfo(context.Context, params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]any{"url": s.webhook.URL, "has_custom_certificate": false, "pending_update_count": len(s.updates),
		"allowed_updates": s.webhook.AllowedUpdates}, nil
}
