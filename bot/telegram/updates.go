package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
)

// allowedUpdates are the update kinds the adapter asks Telegram for.
var allowedUpdates = []string{"message", "channel_post", "callback_query", "my_chat_member"}

// update is a Bot API update, with the kinds the adapter handles.
type update struct {
	UpdateID      int                         `json:"update_id"`
	Message       *message                    `json:"message"`
	ChannelPost   *message                    `json:"channel_post"`
	CallbackQuery *callbackQuery              `json:"callback_query"`
	MyChatMember  *tgbotapi.ChatMemberUpdated `json:"my_chat_member"`
}

// message adds to tgbotapi.Message the forum-topic fields of Bot API 6.3,
// which tgbotapi v5.5.1 lacks.
type message struct {
	tgbotapi.Message
	MessageThreadID int  `json:"message_thread_id"`
	IsTopicMessage  bool `json:"is_topic_message"`
}

// callbackQuery is a button press; its message carries the topic fields.
type callbackQuery struct {
	ID      string         `json:"id"`
	From    *tgbotapi.User `json:"from"`
	Message *message       `json:"message"`
	Data    string         `json:"data"`
}

// chat returns the id of the chat an update belongs to, or 0.
func (u *update) chat() int64 {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		return u.Message.Chat.ID
	case u.ChannelPost != nil && u.ChannelPost.Chat != nil:
		return u.ChannelPost.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil && u.CallbackQuery.Message.Chat != nil:
		return u.CallbackQuery.Message.Chat.ID
	case u.MyChatMember != nil:
		return u.MyChatMember.Chat.ID
	}
	return 0
}

// offsetKey is where the update offset is kept, per bot: a new token for
// another bot starts afresh.
func (a *Adapter) offsetKey() string {
	return fmt.Sprintf("telegram/%d/update_offset", a.me.Load().ID)
}

func (a *Adapter) loadOffset(ctx context.Context) int {
	if a.cfg.State == nil {
		return 0
	}
	v, err := a.cfg.State.State(ctx, a.offsetKey())
	if err != nil {
		if !digest.IsNotFound(err) {
			a.log.Error("read the update offset; starting from Telegram's", "err", err)
		}
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		a.log.Error("stored update offset is not a number; starting from Telegram's", "value", v)
		return 0
	}
	return n
}

func (a *Adapter) saveOffset(ctx context.Context, offset int) {
	if a.cfg.State == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := a.cfg.State.SetState(ctx, a.offsetKey(), strconv.Itoa(offset)); err != nil {
		a.log.Error("save the update offset; updates since the last save may be handled again after a restart", "err", err, "offset", offset)
	}
}

// poll receives updates with getUpdates until ctx ends. The offset is
// saved after each batch is handled, so a restart neither skips an update
// nor handles a handled one again (replies are also enqueued under keys
// derived from the update, so one handled twice after a crash is answered
// once).
func (a *Adapter) poll(ctx context.Context) error {
	offset := a.loadOffset(ctx)
	a.log.Info("receiving updates by long polling", "offset", offset)
	failures := 0
	for ctx.Err() == nil {
		params := tgbotapi.Params{"timeout": strconv.Itoa(int(a.cfg.PollTimeout / time.Second))}
		params.AddNonZero("offset", offset)
		if err := params.AddInterface("allowed_updates", allowedUpdates); err != nil {
			return fmt.Errorf("telegram: encode allowed updates: %w", err)
		}
		raw, err := a.call(ctx, "getUpdates", params, nil)
		var ups []*update
		next := offset
		if err == nil {
			ups, next, err = a.decodeUpdates(raw, offset)
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if refusedToken(err) {
				return fmt.Errorf("telegram: get updates: the Bot API refused the token: %w", err)
			}
			failures++
			wait := a.pollFailed(failures, err)
			if !sleep(ctx, wait) {
				break
			}
			continue
		}
		if failures > 0 {
			a.log.Info("receiving updates again", "failed_attempts", failures)
			failures = 0
		}
		if len(ups) > 0 {
			a.handleBatch(ctx, ups)
		}
		if next != offset {
			offset = next
			a.saveOffset(ctx, offset)
		}
	}
	a.log.Info("stopped receiving updates")
	return nil
}

// pollFailed logs a failed getUpdates, quieter the longer the failures
// last (attempts 1, 2, 4, 8, ... at Warn), and returns how long to wait.
func (a *Adapter) pollFailed(failures int, err error) time.Duration {
	wait := bot.Backoff(failures-1, 30*time.Second)
	level := slog.LevelDebug
	msg := "cannot get updates; retrying"
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.RetryAfter > 0 {
			wait = ae.RetryAfter
		}
		if ae.Code == http.StatusConflict && strings.Contains(ae.Description, "webhook") {
			msg = "cannot get updates: a webhook is set for this bot; delete it (deleteWebhook) or run in webhook mode"
			wait = max(wait, 10*time.Second)
		} else if ae.Code == http.StatusConflict {
			msg = "cannot get updates: another process polls with the same token"
		}
	}
	if failures&(failures-1) == 0 {
		level = slog.LevelWarn
	}
	a.log.Log(context.Background(), level, msg, "err", err, "attempt", failures, "retry_in", wait.Round(time.Millisecond))
	return wait
}

// decodeUpdates reads a getUpdates result and returns the updates and the
// offset that confirms them all. An update that cannot be read is logged
// and skipped, never retried forever; a result that is no list of updates
// is an error, retried like a failed call.
func (a *Adapter) decodeUpdates(raw json.RawMessage, offset int) ([]*update, int, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, offset, fmt.Errorf("telegram getUpdates: the result is not a list of updates: %w", err)
	}
	var out []*update
	for _, item := range items {
		var id struct {
			UpdateID int `json:"update_id"`
		}
		if err := json.Unmarshal(item, &id); err != nil {
			a.log.Error("update without an update_id; skipped", "err", err)
			continue
		}
		offset = max(offset, id.UpdateID+1)
		u := &update{}
		if err := json.Unmarshal(item, u); err != nil {
			a.log.Error("cannot read update; skipped", "update_id", id.UpdateID, "err", err)
			continue
		}
		out = append(out, u)
	}
	return out, offset, nil
}

// handleBatch handles a batch of updates: each chat's in order, up to
// Concurrency chats at once. Handling outlives ctx by at most
// ShutdownGrace, so that a command being answered when Herald stops is
// answered and its update confirmed.
func (a *Adapter) handleBatch(ctx context.Context, ups []*update) {
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(a.cfg.ShutdownGrace, cancel) })
	defer stop()

	var order []int64
	byChat := map[int64][]*update{}
	for _, u := range ups {
		c := u.chat()
		if _, ok := byChat[c]; !ok {
			order = append(order, c)
		}
		byChat[c] = append(byChat[c], u)
	}
	sem := make(chan struct{}, a.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, c := range order {
		sem <- struct{}{}
		wg.Add(1)
		go func(us []*update) {
			defer wg.Done()
			defer func() { <-sem }()
			for _, u := range us {
				a.handle(hctx, u)
			}
		}(byChat[c])
	}
	wg.Wait()
}

// handle handles one update. A panic is logged with its stack instead of
// ending the process: one bad update must not stop the bot.
func (a *Adapter) handle(ctx context.Context, u *update) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("panic while handling an update", "update_id", u.UpdateID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	switch {
	case u.Message != nil:
		a.handleMessage(ctx, u.Message)
	case u.ChannelPost != nil:
		a.handleMessage(ctx, u.ChannelPost)
	case u.CallbackQuery != nil:
		a.handleCallback(ctx, u.CallbackQuery)
	case u.MyChatMember != nil:
		a.handleMembership(ctx, u.MyChatMember)
	}
}

// chatKind maps Telegram's chat types to the chat core's kinds.
func chatKind(t string) string {
	switch t {
	case "private":
		return "private"
	case "channel":
		return "channel"
	default:
		return "group"
	}
}

func chatTitle(c *tgbotapi.Chat) string {
	if c.Title != "" {
		return c.Title
	}
	name := strings.TrimSpace(c.FirstName + " " + c.LastName)
	if name == "" && c.UserName != "" {
		name = "@" + c.UserName
	}
	return name
}

func userName(u *tgbotapi.User) string {
	if u.UserName != "" {
		return u.UserName
	}
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// request builds the chat core's request for a message in a chat, sent
// by from (a user) or on behalf of senderChat, and decides who may change
// the chat's settings: the user in a private chat; the channel itself in a
// channel (only its administrators can post); an anonymous administrator
// of a group (sender_chat is the group itself); and otherwise whoever
// getChatMember says is the creator or an administrator. Someone writing
// on behalf of another channel is nobody Telegram can vouch for.
func (a *Adapter) request(ctx context.Context, msg *message, from *tgbotapi.User, senderChat *tgbotapi.Chat) *bot.Request {
	chat := msg.Chat
	r := &bot.Request{
		Platform:  digest.PlatformTelegram,
		ChatID:    strconv.FormatInt(chat.ID, 10),
		ChatKind:  chatKind(chat.Type),
		ChatTitle: chatTitle(chat),
	}
	if msg.IsTopicMessage && msg.MessageThreadID != 0 {
		r.ThreadID = strconv.Itoa(msg.MessageThreadID)
	}
	switch {
	case senderChat != nil && senderChat.ID == chat.ID:
		r.UserID, r.UserName, r.Admin = "chat"+r.ChatID, "anonymous administrator", true
		if chat.Type == "channel" {
			r.UserName = chat.Title
		}
	case senderChat != nil:
		r.UserID, r.UserName = "chat"+strconv.FormatInt(senderChat.ID, 10), senderChat.Title
	case from != nil:
		r.UserID, r.UserName = strconv.FormatInt(from.ID, 10), userName(from)
		r.Admin = r.Private() || a.isAdmin(ctx, chat.ID, from.ID)
	case chat.Type == "channel":
		r.UserID, r.UserName, r.Admin = "chat"+r.ChatID, chat.Title, true
	}
	return r
}

// isAdmin asks Telegram whether a user administers a chat, remembering the
// answer for AdminCacheTTL. When Telegram cannot be asked, the user is not
// an administrator this time (and the answer is not remembered).
func (a *Adapter) isAdmin(ctx context.Context, chat, user int64) bool {
	key := fmt.Sprintf("%d/%d", chat, user)
	if admin, ok := a.admins.get(key); ok {
		return admin
	}
	params := tgbotapi.Params{"chat_id": strconv.FormatInt(chat, 10), "user_id": strconv.FormatInt(user, 10)}
	raw, err := a.call(ctx, "getChatMember", params, nil)
	var member struct {
		Status string `json:"status"`
	}
	if err == nil {
		err = decodeResult("getChatMember", raw, &member)
	}
	if err != nil {
		a.log.Warn("cannot check whether the user is a chat administrator; treating as a member", "chat_id", chat, "user_id", user, "err", err)
		return false
	}
	admin := member.Status == "creator" || member.Status == "administrator"
	a.admins.put(key, admin)
	return admin
}

// handleMessage answers a command in a message or channel post, and
// follows a group's migration to a supergroup.
func (a *Adapter) handleMessage(ctx context.Context, msg *message) {
	if msg.Chat == nil {
		return
	}
	switch {
	case msg.MigrateToChatID != 0:
		a.migrate(ctx, msg.Chat.ID, msg.MigrateToChatID)
		return
	case msg.MigrateFromChatID != 0:
		a.migrate(ctx, msg.MigrateFromChatID, msg.Chat.ID)
		return
	case msg.IsAutomaticForward || msg.Text == "":
		// A channel post forwarded into its discussion group is the
		// channel's command, not the group's; media without text has
		// nothing to answer.
		return
	}
	me := a.me.Load()
	cmd, args, ok := bot.ParseCommand(msg.Text, me.UserName)
	key := fmt.Sprintf("reply/telegram/%d/%d/m%d", me.ID, msg.Chat.ID, msg.MessageID)
	if !ok {
		if msg.Chat.Type == "private" {
			hint := &bot.Message{Blocks: []bot.Block{{Kind: bot.Paragraph, Text: "I answer commands. Send /help to see them."}}}
			a.deliver(ctx, a.request(ctx, msg, msg.From, msg.SenderChat), key, []*bot.Message{hint}, 0)
		}
		return
	}
	req := a.request(ctx, msg, msg.From, msg.SenderChat)
	req.Command, req.Args = cmd, args
	a.reactivate(ctx, req.ChatID)
	a.deliver(ctx, req, key, a.cfg.Bot.Handle(ctx, req), 0)
}

// handleCallback answers a button press: always answers the callback
// query (Telegram shows a spinner until then), with the reply itself as a
// notification when it is a short error, and otherwise delivers the reply,
// replacing the message the button was on when the chat core asks for it.
func (a *Adapter) handleCallback(ctx context.Context, cq *callbackQuery) {
	toast := ""
	defer func() { a.answerCallback(ctx, cq.ID, toast) }()
	if cq.Message == nil || cq.Message.Chat == nil || cq.From == nil {
		toast = "This button no longer works. Send the command again."
		return
	}
	if cq.Data == "" {
		return
	}
	me := a.me.Load()
	req := a.request(ctx, cq.Message, cq.From, nil) // the presser, not the message's author
	req.Callback = cq.Data
	msgs := a.cfg.Bot.Handle(ctx, req)
	if len(msgs) == 1 {
		if t := toastText(msgs[0]); t != "" {
			toast, msgs = t, nil
		}
	}
	key := fmt.Sprintf("reply/telegram/%d/%d/c%s", me.ID, cq.Message.Chat.ID, cq.ID)
	a.deliver(ctx, req, key, msgs, cq.Message.MessageID)
}

func (a *Adapter) answerCallback(ctx context.Context, id, text string) {
	if id == "" {
		return
	}
	params := tgbotapi.Params{"callback_query_id": id}
	params.AddNonEmpty("text", text)
	if _, err := a.call(ctx, "answerCallbackQuery", params, nil); err != nil {
		// Telegram forgets a query after about 15 seconds; the press
		// was handled all the same.
		a.log.Debug("cannot answer a button press", "err", err)
	}
}

// handleMembership records that the bot was removed from a chat (or
// blocked by a user) and that it is back.
func (a *Adapter) handleMembership(ctx context.Context, u *tgbotapi.ChatMemberUpdated) {
	if a.cfg.Chats == nil {
		return
	}
	id := strconv.FormatInt(u.Chat.ID, 10)
	var active bool
	var reason string
	switch u.NewChatMember.Status {
	case "kicked", "left":
		reason = "the bot was removed from the chat"
		if u.Chat.Type == "private" {
			reason = "the user blocked the bot"
		}
	case "member", "administrator", "creator", "restricted":
		active = true
	default:
		return
	}
	err := a.cfg.Chats.SetChatActive(ctx, digest.PlatformTelegram, id, active, reason)
	switch {
	case digest.IsNotFound(err):
		// A chat that never subscribed: nothing to record.
	case err != nil:
		a.log.Error("record the bot's membership", "chat_id", id, "status", u.NewChatMember.Status, "err", err)
	case active:
		a.log.Info("bot is back in the chat", "chat_id", id)
	default:
		a.log.Info("chat marked inactive", "chat_id", id, "reason", reason)
	}
}

// reactivate marks a chat active again when a command arrives from it
// after Telegram refused a message to it (a user who unblocked the bot).
func (a *Adapter) reactivate(ctx context.Context, chatID string) {
	if a.cfg.Chats == nil {
		return
	}
	c, err := a.cfg.Chats.FindChat(ctx, digest.PlatformTelegram, chatID)
	if err != nil || c.Active {
		if err != nil && !digest.IsNotFound(err) {
			a.log.Error("find chat", "chat_id", chatID, "err", err)
		}
		return
	}
	if err := a.cfg.Chats.SetChatActive(ctx, digest.PlatformTelegram, chatID, true, ""); err != nil {
		a.log.Error("mark chat active", "chat_id", chatID, "err", err)
		return
	}
	a.log.Info("chat active again", "chat_id", chatID, "was", c.Inactive)
}

// migrate follows a group that became a supergroup.
func (a *Adapter) migrate(ctx context.Context, from, to int64) {
	if a.cfg.Chats == nil {
		return
	}
	f, t := strconv.FormatInt(from, 10), strconv.FormatInt(to, 10)
	err := a.cfg.Chats.MigrateChat(ctx, digest.PlatformTelegram, f, t)
	switch {
	case digest.IsNotFound(err), digest.IsConflict(err):
		// Unknown chat, or migrated already (Telegram sends two
		// service messages, and the outbox follows it too).
		a.log.Debug("chat migration: nothing to move", "chat_id", f, "to_chat_id", t, "err", err)
	case err != nil:
		a.log.Error("follow chat migration", "chat_id", f, "to_chat_id", t, "err", err)
	default:
		a.log.Info("chat migrated", "chat_id", f, "to_chat_id", t)
	}
}

// deliver renders the chat core's replies and hands them to the outbox
// under keys derived from the update (key/1, key/2, ...), so that an
// update handled twice is answered once. Without an outbox it sends them
// directly. editID is the message a paging button was on.
func (a *Adapter) deliver(ctx context.Context, req *bot.Request, key string, msgs []*bot.Message, editID int) {
	var ps []Payload
	for _, m := range msgs {
		rendered, err := Render(m)
		if err != nil {
			a.log.Error("cannot render a reply", "chat_id", req.ChatID, "command", req.Command, "err", err)
			continue
		}
		if m.Replace && editID != 0 && len(rendered) > 0 && rendered[0].Method == methodSend {
			rendered[0].Method, rendered[0].MessageID = methodEdit, editID
		}
		ps = append(ps, rendered...)
	}
	if len(ps) == 0 {
		return
	}
	bodies, err := encodePayloads(ps)
	if err != nil {
		a.log.Error("cannot encode a reply", "chat_id", req.ChatID, "err", err)
		return
	}
	out := make([]*digest.OutboxMessage, len(bodies))
	for i, b := range bodies {
		out[i] = &digest.OutboxMessage{
			Key: fmt.Sprintf("%s/%d", key, i+1), Platform: digest.PlatformTelegram, ChatID: req.ChatID, ThreadID: req.ThreadID,
			Part: i + 1, Parts: len(bodies), Kind: bot.KindReply, Payload: b,
		}
	}
	if a.cfg.Outbox == nil {
		for _, m := range out {
			if _, err := a.Send(ctx, m); err != nil {
				a.log.Warn("cannot send a reply", "chat_id", m.ChatID, "key", m.Key, "err", err)
				return
			}
		}
		return
	}
	err = a.cfg.Outbox.Enqueue(ctx, out)
	switch {
	case digest.IsConflict(err):
		a.log.Debug("reply enqueued before; the update was handled already", "key", key)
	case err != nil:
		a.log.Error("cannot enqueue a reply", "chat_id", req.ChatID, "key", key, "err", err)
	}
}

// WebhookHandler returns the handler of Telegram's webhook requests: it
// refuses a request whose X-Telegram-Bot-Api-Secret-Token header is not the
// configured secret (401), handles the update, and answers 200 once its
// replies are enqueued, so that Telegram delivers it again after a
// failure. Updates Telegram delivers twice are handled once. Run serves it
// in webhook mode; use it directly to mount it on a server of your own
// (Run must still be running, or have run, to know the bot's name).
func (a *Adapter) WebhookHandler() http.Handler {
	secret := []byte(a.cfg.Webhook.SecretToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := []byte(r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		if len(secret) == 0 || subtle.ConstantTimeCompare(got, secret) != 1 {
			a.rejectLog.Do(func() {
				a.log.Warn("refused a webhook request without the secret token", "remote_addr", r.RemoteAddr)
			})
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if a.me.Load() == nil {
			http.Error(w, "starting", http.StatusServiceUnavailable) // Telegram retries
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		u := &update{}
		if err == nil {
			err = json.Unmarshal(body, u)
		}
		if err != nil {
			http.Error(w, "not an update", http.StatusBadRequest)
			return
		}
		// Telegram may hang up before the answer; the update is handled
		// all the same, within a bound.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), a.cfg.RequestTimeout+time.Minute)
		defer cancel()
		if claims := a.cfg.Updates; claims != nil {
			// The store, shared by the replicas, decides. An update
			// another replica is handling gets 503: Telegram delivers it
			// again later, when it is done or its handler's claim has
			// expired.
			handle, done, err := claims.Begin(ctx, u.UpdateID)
			switch {
			case err != nil:
				a.log.Warn("cannot claim a webhook update; Telegram will deliver it again", "update_id", u.UpdateID, "err", err)
				http.Error(w, "try again", http.StatusServiceUnavailable)
				return
			case done:
				a.log.Debug("update delivered again; handled before", "update_id", u.UpdateID)
				w.WriteHeader(http.StatusOK)
				return
			case !handle:
				a.log.Debug("update being handled by another replica", "update_id", u.UpdateID)
				http.Error(w, "being handled", http.StatusServiceUnavailable)
				return
			case !a.seen.add(u.UpdateID):
				// A claim is this process's: a redelivery while the first
				// delivery is still being handled here is not handled twice.
				a.log.Debug("update delivered again while being handled here", "update_id", u.UpdateID)
				w.WriteHeader(http.StatusOK)
				return
			}
		} else if !a.seen.add(u.UpdateID) {
			a.log.Debug("update delivered again; handled before", "update_id", u.UpdateID)
			w.WriteHeader(http.StatusOK)
			return
		}
		unlock := a.locks.lock(u.chat())
		a.handle(ctx, u)
		unlock()
		if claims := a.cfg.Updates; claims != nil {
			if err := claims.Done(ctx, u.UpdateID); err != nil {
				// Its answer is enqueued under a key of its own: handled
				// again, it is still answered once.
				a.log.Warn("cannot record a handled webhook update", "update_id", u.UpdateID, "err", err)
			}
		}
		w.WriteHeader(http.StatusOK)
	})
}

// serveWebhook serves WebhookHandler until ctx ends, registering the
// webhook with Telegram first when Config.Webhook.URL is set.
func (a *Adapter) serveWebhook(ctx context.Context) error {
	wc := a.cfg.Webhook
	ln := wc.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", wc.ListenAddr); err != nil {
			return fmt.Errorf("telegram webhook: listen on %s: %w", wc.ListenAddr, err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle(wc.Path, a.WebhookHandler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("receiving updates by webhook", "addr", ln.Addr().String(), "path", wc.Path)
	if wc.URL != "" {
		params := tgbotapi.Params{"url": wc.URL, "secret_token": wc.SecretToken}
		if err := params.AddInterface("allowed_updates", allowedUpdates); err != nil {
			return fmt.Errorf("telegram: encode allowed updates: %w", err)
		}
		if _, err := a.call(ctx, "setWebhook", params, nil); err != nil && ctx.Err() == nil {
			a.log.Error("cannot register the webhook with Telegram; updates arrive only if it was registered before", "err", err)
		}
	}
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		<-errc
		a.log.Info("stopped receiving updates")
		return nil
	case err := <-errc:
		return fmt.Errorf("telegram webhook: serve on %s: %w", ln.Addr(), err)
	}
}

// utf16Len is the length of s in UTF-16 code units, the unit of Telegram's
// limits.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
