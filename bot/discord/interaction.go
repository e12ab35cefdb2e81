package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
)

// Interaction callback types.
const (
	callbackMessage         = 4 // CHANNEL_MESSAGE_WITH_SOURCE
	callbackDeferredMessage = 5 // DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: "thinking…"
	callbackDeferredUpdate  = 6 // DEFERRED_UPDATE_MESSAGE: a button press, answered later
	callbackUpdate          = 7 // UPDATE_MESSAGE: a button press replaces its message
	callbackAutocomplete    = 8 // APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
)

// slowCommands fetch or search: their interaction is deferred at once
// rather than after AckAfter.
var slowCommands = map[string]bool{"subscribe": true, "digest": true, "search": true}

// manageChannels are the permissions that let a member change a
// channel's settings.
const manageChannels = discordgo.PermissionManageChannels | discordgo.PermissionAdministrator

// interactionPayload is an INTERACTION_CREATE with the channel object,
// which discordgo's Interaction type lacks.
type interactionPayload struct {
	discordgo.Interaction
	Channel *channelInfo

	dest destination // where the chat's deliveries go, once resolved
}

// destination is the kind of place a chat's deliveries go.
type destination int

const (
	destDM destination = iota
	destChannel
	destThread
	destForum
)

// interaction answers one INTERACTION_CREATE.
func (a *Adapter) interaction(ctx context.Context, raw json.RawMessage) {
	var ix discordgo.Interaction
	if err := json.Unmarshal(raw, &ix); err != nil {
		a.log.Warn("undecodable interaction", "err", err)
		return
	}
	var extra struct {
		Channel *channelInfo `json:"channel"`
	}
	json.Unmarshal(raw, &extra)
	p := &interactionPayload{Interaction: ix, Channel: extra.Channel}
	switch ix.Type {
	case discordgo.InteractionApplicationCommand, discordgo.InteractionMessageComponent:
		a.answer(ctx, p)
	case discordgo.InteractionApplicationCommandAutocomplete:
		a.autocomplete(ctx, p)
	}
}

// user returns who invoked an interaction.
func (p *interactionPayload) user() *discordgo.User {
	if p.Member != nil && p.Member.User != nil {
		return p.Member.User
	}
	if p.User != nil {
		return p.User
	}
	return &discordgo.User{}
}

// admin reports whether the invoker may change the chat's settings.
func (p *interactionPayload) admin() bool {
	if p.GuildID == "" {
		return true // a DM belongs to its user
	}
	return p.Member != nil && p.Member.Permissions&manageChannels != 0
}

// request turns an interaction into the chat core's Request, resolving
// the channel (and a thread's parent) where the payload does not say.
func (a *Adapter) request(ctx context.Context, p *interactionPayload) (*bot.Request, error) {
	u := p.user()
	req := &bot.Request{Platform: digest.PlatformDiscord, UserID: u.ID, UserName: u.GlobalName, Admin: p.admin()}
	if req.UserName == "" {
		req.UserName = u.Username
	}
	switch p.Type {
	case discordgo.InteractionApplicationCommand:
		data := p.ApplicationCommandData()
		req.Command = data.Name
		if c, ok := commandInfo(data.Name); ok {
			req.Args = args(c, data.Options)
		}
	case discordgo.InteractionMessageComponent:
		req.Callback = p.MessageComponentData().CustomID
	}
	if p.GuildID == "" {
		req.ChatKind, req.ChatID, req.ChatTitle = "private", p.ChannelID, req.UserName
		p.dest = destDM
		return req, nil
	}
	req.ChatKind = "group"
	ch := channelInfo{}
	if p.Channel != nil && p.Channel.ID == p.ChannelID {
		ch = *p.Channel
		a.channels.put(ch)
	} else {
		var err error
		if ch, err = a.channel(ctx, p.ChannelID); err != nil {
			return nil, fmt.Errorf("resolve channel %s: %w", p.ChannelID, err)
		}
	}
	req.ChatID, req.ChatTitle = ch.ID, "#"+ch.Name
	p.dest = destChannel
	if ch.forum() {
		p.dest = destForum // no command runs in a forum itself, but should one
	}
	if ch.thread() && ch.ParentID != "" {
		parent, err := a.channel(ctx, ch.ParentID)
		if err != nil {
			return nil, fmt.Errorf("resolve the parent %s of thread %s: %w", ch.ParentID, ch.ID, err)
		}
		req.ChatID, req.ChatTitle = parent.ID, "#"+parent.Name
		p.dest = destForum
		if !parent.forum() {
			req.ThreadID = ch.ID
			req.ChatTitle += " › " + ch.Name
			p.dest = destThread
		}
	}
	return req, nil
}

// answer handles a command or a button press: it runs the chat core and
// answers with its first message at once when that takes less than
// AckAfter, else defers the answer and completes it when done; further
// messages follow through the outbox.
func (a *Adapter) answer(ctx context.Context, p *interactionPayload) {
	// Discord's three seconds run from when it made the interaction,
	// which its id tells: one replayed after a resume may be old already.
	received := time.Now()
	if made := snowflakeTime(p.ID); !made.IsZero() && made.Before(received) {
		received = made
	}
	log := a.log.With("interaction_id", p.ID, "channel_id", p.ChannelID, "user_id", p.user().ID)
	component := p.Type == discordgo.InteractionMessageComponent
	results := make(chan []*bot.Message, 1)
	var req *bot.Request
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		r, err := a.request(hctx, p)
		if err != nil {
			log.Error("interaction not understood", "err", err)
			results <- []*bot.Message{{Blocks: []bot.Block{{Text: digest.ErrorMessage(err)}}, Error: true, Ephemeral: true}}
			return
		}
		req = r
		missing := a.checkChat(hctx, p, r)
		msgs := a.cfg.Bot.Handle(hctx, r)
		if len(msgs) == 0 {
			// The core says nothing to a user flooding it; Discord
			// needs an answer, which only they see.
			msgs = []*bot.Message{{Blocks: []bot.Block{{Text: "Please wait a moment before the next command."}}, Ephemeral: true}}
		}
		if last := msgs[len(msgs)-1]; missing != "" && r.Command == "subscribe" && !last.Error {
			last.Blocks = append(last.Blocks, bot.Block{Text: missing})
		}
		results <- msgs
	}()

	wait := a.cfg.AckAfter - time.Since(received)
	if !component {
		name := p.ApplicationCommandData().Name
		c, _ := commandInfo(name)
		refused := c.Admin && !p.admin() // answered at once, and privately
		if slowCommands[name] && !refused {
			wait = 0
		}
	}
	// The core honours ctx, so waiting for its answer never outlasts a
	// shutdown by much; an answer made while shutting down is not sent.
	var msgs []*bot.Message
	timer := time.NewTimer(max(wait, 0))
	defer timer.Stop()
	select {
	case msgs = <-results:
		if ctx.Err() != nil {
			return
		}
		if err := a.respond(ctx, p, req, msgs); err != nil {
			log.Warn("answer interaction", "err", err)
		}
		return
	case <-timer.C:
	}

	deferred := callbackDeferredMessage
	if component {
		deferred = callbackDeferredUpdate
	}
	if err := a.callback(ctx, p, map[string]any{"type": deferred}, nil); err != nil && ctx.Err() == nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			// Too late (Discord told the user the bot did not respond),
			// or unknown: stop the work, whose answer nobody would see.
			log.Warn("interaction expired before it was acknowledged; dropped", "err", err)
			cancel()
			<-results
			return
		}
		log.Warn("defer interaction", "err", err)
	}
	msgs = <-results
	if ctx.Err() != nil {
		return
	}
	parts, err := a.renderAll(msgs)
	if err != nil {
		log.Error("render reply", "err", err)
		parts, _ = a.renderAll([]*bot.Message{apology()})
	}
	first := &parts[0]
	t := &interactionTarget{AppID: p.AppID, Token: p.Token}
	switch {
	case !component && first.Ephemeral:
		// A deferred response cannot become private: say it privately
		// and remove the "thinking…" message everyone saw.
		t.DeleteOriginal = true
	case !component, first.Replace:
		t.EditOriginal = true
	}
	first.Interaction = t
	for i := 1; i < len(parts); i++ {
		parts[i].Interaction = &interactionTarget{AppID: p.AppID, Token: p.Token}
	}
	if err := a.enqueue(ctx, p, req, parts); err != nil {
		log.Error("enqueue reply", "err", err)
	}
}

func apology() *bot.Message {
	return &bot.Message{Blocks: []bot.Block{{Text: digest.ErrorMessage(fmt.Errorf("internal"))}}, Error: true, Ephemeral: true}
}

// renderAll renders messages into one list of parts.
func (a *Adapter) renderAll(msgs []*bot.Message) ([]payload, error) {
	var parts []payload
	for _, m := range msgs {
		ps, err := renderMessage(m)
		if err != nil {
			return nil, err
		}
		parts = append(parts, ps...)
	}
	if len(parts) == 0 {
		return renderMessage(apology())
	}
	return parts, nil
}

// respond answers an interaction with its first message and enqueues the
// rest as follow-ups.
func (a *Adapter) respond(ctx context.Context, p *interactionPayload, req *bot.Request, msgs []*bot.Message) error {
	parts, err := a.renderAll(msgs)
	if err != nil {
		a.log.Error("render reply", "err", err, "interaction_id", p.ID)
		if parts, err = a.renderAll([]*bot.Message{apology()}); err != nil {
			return err
		}
	}
	first := parts[0]
	data := first.Message
	typ := callbackMessage
	if p.Type == discordgo.InteractionMessageComponent && first.Replace {
		typ = callbackUpdate
	} else if first.Ephemeral {
		data.Flags |= flagEphemeral
	}
	if err := a.callback(ctx, p, map[string]any{"type": typ, "data": data}, first.Files); err != nil {
		return err
	}
	for i := 1; i < len(parts); i++ {
		parts[i].Interaction = &interactionTarget{AppID: p.AppID, Token: p.Token}
	}
	return a.enqueue(ctx, p, req, parts[1:])
}

// callback posts an interaction response.
func (a *Adapter) callback(ctx context.Context, p *interactionPayload, resp map[string]any, files []payloadFile) error {
	c := call{method: "POST", route: "POST /interactions/{id}/{token}/callback",
		path: "/interactions/" + url.PathEscape(p.ID) + "/" + url.PathEscape(p.Token) + "/callback", body: resp, files: restFiles(files)}
	return a.api.do(ctx, c, nil)
}

// enqueue puts interaction replies in the outbox. They belong to the
// interaction's chat, in order, under keys made from the interaction id.
func (a *Adapter) enqueue(ctx context.Context, p *interactionPayload, req *bot.Request, parts []payload) error {
	if len(parts) == 0 {
		return nil
	}
	chatID, threadID := p.ChannelID, ""
	if req != nil {
		chatID, threadID = req.ChatID, req.ThreadID
	}
	var msgs []*digest.OutboxMessage
	for i, part := range parts {
		raw, err := json.Marshal(part)
		if err != nil {
			return fmt.Errorf("encode reply %d: %w", i+1, err)
		}
		msgs = append(msgs, &digest.OutboxMessage{
			Key:      fmt.Sprintf("reply/discord/%s/%d", p.ID, i+1),
			Platform: digest.PlatformDiscord, ChatID: chatID, ThreadID: threadID,
			Part: i + 1, Parts: len(parts), Kind: bot.KindReply, Payload: raw,
		})
	}
	return a.cfg.Outbox.Enqueue(context.WithoutCancel(ctx), msgs)
}

// autocomplete suggests values for the option being typed.
func (a *Adapter) autocomplete(ctx context.Context, p *interactionPayload) {
	ctx, cancel := context.WithTimeout(ctx, autocompleteTimeout)
	defer cancel()
	data := p.ApplicationCommandData()
	choices := []*discordgo.ApplicationCommandOptionChoice{}
	for _, o := range data.Options {
		if !o.Focused || data.Name != "unsubscribe" || o.Name != "feed" {
			continue
		}
		req, err := a.request(ctx, p)
		if err == nil {
			var found []*discordgo.ApplicationCommandOptionChoice
			if found, err = a.feedChoices(ctx, req, fmt.Sprint(o.Value)); found != nil {
				choices = found
			}
		}
		if err != nil {
			a.log.Warn("autocomplete", "err", err, "interaction_id", p.ID)
		}
	}
	resp := map[string]any{"type": callbackAutocomplete, "data": map[string]any{"choices": choices}}
	if err := a.callback(ctx, p, resp, nil); err != nil {
		a.log.Warn("answer autocomplete", "err", err, "interaction_id", p.ID)
	}
}

func restFiles(files []payloadFile) []restFile {
	var out []restFile
	for _, f := range files {
		out = append(out, restFile(f))
	}
	return out
}

// checkChat compares what the bot needs to deliver into the request's
// chat with its permissions there (app_permissions of the interaction).
// When they suffice and the chat had been marked inactive after a refused
// delivery, it becomes active again; when they do not, checkChat returns
// a note saying what is missing, for the reply to /subscribe.
func (a *Adapter) checkChat(ctx context.Context, p *interactionPayload, req *bot.Request) string {
	if p.dest != destDM && p.AppPermissions&discordgo.PermissionAdministrator == 0 {
		send, sendName := int64(discordgo.PermissionSendMessages), "Send Messages"
		if p.dest == destThread {
			send, sendName = discordgo.PermissionSendMessagesInThreads, "Send Messages in Threads"
		}
		var missing []string
		for _, n := range []struct {
			perm int64
			name string
		}{{discordgo.PermissionViewChannel, "View Channel"}, {send, sendName}, {discordgo.PermissionEmbedLinks, "Embed Links"}} {
			if p.AppPermissions&n.perm == 0 {
				missing = append(missing, n.name)
			}
		}
		switch len(missing) {
		case 0:
		case 1:
			return "Note: Herald cannot post digests here yet: it lacks the " + missing[0] +
				" permission in this channel. Give its role this permission here, or digests will not arrive."
		default:
			return "Note: Herald cannot post digests here yet: it lacks the " + strings.Join(missing, ", ") +
				" permissions in this channel. Give its role these permissions here, or digests will not arrive."
		}
	}
	chat, err := a.cfg.Store.FindChat(ctx, req.Platform, req.ChatID)
	if err != nil || chat.Active {
		return ""
	}
	if err := a.cfg.Store.SetChatActive(ctx, req.Platform, req.ChatID, true, ""); err != nil {
		a.log.Warn("mark chat active again", "err", err, "chat_id", req.ChatID)
		return ""
	}
	a.log.Info("chat active again: the bot may post there", "chat_id", req.ChatID, "was", chat.Inactive)
	return ""
}

// discordEpoch is the first millisecond of 2015, where snowflakes count
// from.
const discordEpoch = 1420070400000

// snowflakeTime returns when Discord made the object with id, or zero.
func snowflakeTime(id string) time.Time {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(n>>22) + discordEpoch)
}
