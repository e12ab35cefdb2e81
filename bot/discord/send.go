package discord

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
)

// Discord JSON error codes the adapter acts on.
const (
	codeUnknownChannel = 10003
	codeThreadArchived = 50083 // a locked (or archived and not reopenable) thread
)

// target says what a message was sent to, which decides what an error
// means for the chat.
type target int

const (
	toChannel     target = iota // a channel or DM: the chat itself
	toThread                    // a thread of the chat
	toInteraction               // an interaction's webhook
)

// Send delivers an outbox message: to the interaction it answers, or else
// into its thread, its channel, or a new post when the channel is a forum.
// It implements bot.Sender. Errors are *bot.SendError where Discord's
// answer decides what comes next: a 429 with its retry-after (global or
// not), Forbidden when the bot lost access to the channel or the channel
// is gone, ThreadGone when the message's thread was deleted, Permanent for
// a request Discord refuses as it is (and for an expired interaction);
// network failures and 5xx are returned as they
// are, so the outbox retries them.
func (a *Adapter) Send(ctx context.Context, m *digest.OutboxMessage) (string, error) {
	var p payload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return "", &bot.SendError{Err: fmt.Errorf("discord send %s: undecodable payload: %w", m.Key, err), Permanent: true}
	}
	if err := p.validate(); err != nil {
		return "", &bot.SendError{Err: fmt.Errorf("discord send %s: %w", m.Key, err), Permanent: true}
	}
	if p.Interaction != nil {
		id, err := a.sendInteraction(ctx, &p)
		return id, sendError(m, toInteraction, err)
	}
	b := p.Message
	b.Flags &^= flagEphemeral // only interaction replies can be private
	if m.ThreadID != "" {
		id, err := a.post(ctx, m.ThreadID, m.Key, b, p.Files)
		return id, sendError(m, toThread, err)
	}
	ch, err := a.channel(ctx, m.ChatID)
	if err != nil {
		return "", sendError(m, toChannel, err)
	}
	if ch.forum() {
		id, err := a.sendForum(ctx, m, &p, b)
		return id, sendError(m, toChannel, err)
	}
	id, err := a.post(ctx, m.ChatID, m.Key, b, p.Files)
	return id, sendError(m, toChannel, err)
}

// nonce derives a message nonce from an outbox key: Discord allows 25
// characters, and with enforce_nonce it does not create a second message
// with the same nonce in a channel for a few minutes, so a retry after a
// lost answer does not post twice.
func nonce(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:12])
}

// post creates a message in a channel or thread.
func (a *Adapter) post(ctx context.Context, channelID, key string, b body, files []payloadFile) (string, error) {
	b.Nonce, b.EnforceNonce = nonce(key), true
	var msg struct {
		ID string `json:"id"`
	}
	err := a.api.do(ctx, call{method: "POST", route: "POST /channels/{id}/messages",
		path: "/channels/" + url.PathEscape(channelID) + "/messages", body: b, files: restFiles(files), bot: true}, &msg)
	return msg.ID, err
}

// sendForum posts into a forum channel: the first part of a delivery
// starts a post (a thread) titled with the payload's thread name, and the
// later parts go into the post their first part started. It returns the
// post's id for a first part: a post's starter message has its id.
func (a *Adapter) sendForum(ctx context.Context, m *digest.OutboxMessage, p *payload, b body) (string, error) {
	if m.Part > 1 {
		thread, err := a.forumPost(ctx, m)
		if err != nil {
			return "", err
		}
		if thread != "" {
			return a.post(ctx, thread, m.Key, b, p.Files)
		}
	}
	name := p.ThreadName
	if name == "" {
		name = "Herald"
	}
	var thread struct {
		ID string `json:"id"`
	}
	err := a.api.do(ctx, call{method: "POST", route: "POST /channels/{id}/threads",
		path: "/channels/" + url.PathEscape(m.ChatID) + "/threads",
		body: map[string]any{"name": name, "message": b}, files: restFiles(p.Files), bot: true}, &thread)
	if err == nil {
		a.channels.put(channelInfo{ID: thread.ID, Type: 11, ParentID: m.ChatID, Name: name})
	}
	return thread.ID, err
}

// forumPost finds the post the first part of m's delivery started: the
// sent part 1 of the same subscription, slot, kind and number of parts in
// the same chat. It returns "" when there is none (the first part failed
// for good), and m then starts a post of its own.
func (a *Adapter) forumPost(ctx context.Context, m *digest.OutboxMessage) (string, error) {
	sent, err := a.cfg.Store.ListOutbox(ctx, digest.OutboxFilter{Platform: m.Platform, ChatID: m.ChatID,
		Kind: m.Kind, Status: digest.OutboxSent, Newest: true, Limit: 100})
	if err != nil {
		return "", fmt.Errorf("find the forum post of %s: %w", m.Key, err)
	}
	for _, s := range sent {
		if s.Part == 1 && s.ID < m.ID && s.SubscriptionID == m.SubscriptionID && s.Slot.Equal(m.Slot) &&
			s.Parts == m.Parts && s.PlatformID != "" {
			return s.PlatformID, nil
		}
	}
	return "", nil
}

// sendInteraction sends a reply with an interaction's token: an edit of
// the original response, or a follow-up (then deleting the original when
// asked, which was a deferred "thinking…" message).
func (a *Adapter) sendInteraction(ctx context.Context, p *payload) (string, error) {
	t := p.Interaction
	if t.AppID == "" || t.Token == "" {
		return "", errors.New("interaction reply without application id or token")
	}
	hook := "/webhooks/" + url.PathEscape(t.AppID) + "/" + url.PathEscape(t.Token)
	b := p.Message
	var msg struct {
		ID string `json:"id"`
	}
	if t.EditOriginal {
		b.Flags &^= flagEphemeral
		err := a.api.do(ctx, call{method: "PATCH", route: "PATCH /webhooks/{app}/{token}/messages/@original",
			path: hook + "/messages/@original", body: b, files: restFiles(p.Files)}, &msg)
		return msg.ID, err
	}
	if p.Ephemeral {
		b.Flags |= flagEphemeral
	}
	err := a.api.do(ctx, call{method: "POST", route: "POST /webhooks/{app}/{token}",
		path: hook, body: b, files: restFiles(p.Files)}, &msg)
	if err != nil {
		return "", err
	}
	if t.DeleteOriginal {
		err := a.api.do(ctx, call{method: "DELETE", route: "DELETE /webhooks/{app}/{token}/messages/@original",
			path: hook + "/messages/@original"}, nil)
		var ae *APIError
		if err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusNotFound) {
			// The reply is out; a "thinking…" left behind is cosmetic.
			a.log.Warn("delete deferred response", "err", err)
		}
	}
	return msg.ID, nil
}

// sendError maps Discord's answer to what the outbox should do.
func sendError(m *digest.OutboxMessage, to target, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("discord send %s: %w", m.Key, err)
	var ae *APIError
	if !errors.As(err, &ae) {
		return err // network: retried
	}
	switch {
	case ae.Status == http.StatusTooManyRequests:
		return &bot.SendError{Err: err, RetryAfter: ae.RetryAfter, Global: ae.Global}
	case ae.Status >= 500:
		return err
	case to == toInteraction:
		// An expired or unknown interaction token, or a reply Discord
		// refuses: nothing to do with the chat.
		if ae.Status == http.StatusUnauthorized || ae.Status >= 400 {
			return &bot.SendError{Err: err, Permanent: true}
		}
	case ae.Status == http.StatusUnauthorized:
		return err // the bot token: the operator must fix it; retried
	case ae.Status == http.StatusForbidden && to == toThread && ae.Code == codeThreadArchived:
		// The thread was locked; the channel it belongs to is fine.
		return &bot.SendError{Err: err, Permanent: true}
	case ae.Status == http.StatusForbidden:
		return &bot.SendError{Err: err, Forbidden: true}
	case ae.Status == http.StatusNotFound && to == toChannel && (ae.Code == codeUnknownChannel || ae.Code == 0):
		return &bot.SendError{Err: err, Forbidden: true} // the channel is gone
	case ae.Status == http.StatusNotFound && to == toThread && ae.Code == codeUnknownChannel:
		return &bot.SendError{Err: err, ThreadGone: true} // the thread was deleted; its channel is fine
	case ae.Status >= 400:
		// Refused as it is (an invalid body): this message fails, the
		// chat goes on.
		return &bot.SendError{Err: err, Permanent: true}
	}
	return err
}
