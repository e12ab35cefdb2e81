package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
)

// linkPreviewOff disables link previews (Bot API 7.0 link_preview_options).
const linkPreviewOff = `{"is_disabled":true}`

// Send delivers one outbox message (a Payload) to m.ChatID, into the forum
// topic m.ThreadID if set, and returns Telegram's message id. Failures
// Telegram explains are *bot.SendError values (see sendError); an edit
// whose message is gone or too old is sent as a new message, and an edit
// that changes nothing counts as done.
func (a *Adapter) Send(ctx context.Context, m *digest.OutboxMessage) (string, error) {
	var p Payload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return "", &bot.SendError{Err: fmt.Errorf("telegram: decode outbox payload %s: %w", m.Key, err), Permanent: true}
	}
	id, err := a.send(ctx, m.ChatID, m.ThreadID, p)
	if err != nil {
		return "", sendError(err)
	}
	return id, nil
}

func (a *Adapter) send(ctx context.Context, chatID, threadID string, p Payload) (string, error) {
	params := tgbotapi.Params{"chat_id": chatID}
	params.AddNonEmpty("parse_mode", p.ParseMode)
	if len(p.Keyboard) > 0 {
		var rows [][]tgbotapi.InlineKeyboardButton
		for _, r := range p.Keyboard {
			var row []tgbotapi.InlineKeyboardButton
			for _, b := range r {
				row = append(row, tgbotapi.NewInlineKeyboardButtonData(b.Label, b.Data))
			}
			rows = append(rows, row)
		}
		if err := params.AddInterface("reply_markup", tgbotapi.NewInlineKeyboardMarkup(rows...)); err != nil {
			return "", &bot.SendError{Err: fmt.Errorf("telegram: encode keyboard: %w", err), Permanent: true}
		}
	}
	switch p.Method {
	case methodSend:
		params.AddNonEmpty("message_thread_id", threadID)
		params["text"] = p.Text
		params["link_preview_options"] = linkPreviewOff
		raw, err := a.call(ctx, methodSend, params, nil)
		if err != nil {
			return "", err
		}
		return messageID(raw, 0), nil
	case methodEdit:
		params["message_id"] = strconv.Itoa(p.MessageID)
		params["text"] = p.Text
		params["link_preview_options"] = linkPreviewOff
		raw, err := a.call(ctx, methodEdit, params, nil)
		var ae *APIError
		switch {
		case err == nil:
			return messageID(raw, p.MessageID), nil
		case errors.As(err, &ae) && ae.Code == 400 && strings.Contains(ae.Description, "message is not modified"):
			return strconv.Itoa(p.MessageID), nil // a button pressed twice: the page is already shown
		case errors.As(err, &ae) && ae.Code == 400 && (strings.Contains(ae.Description, "message to edit not found") ||
			strings.Contains(ae.Description, "message can't be edited")):
			a.log.Debug("message to edit is gone; sending a new one", "chat_id", chatID, "message_id", p.MessageID)
			p.Method, p.MessageID = methodSend, 0
			return a.send(ctx, chatID, threadID, p)
		default:
			return "", err
		}
	case methodDocument:
		if p.File == nil || len(p.File.Data) == 0 {
			return "", &bot.SendError{Err: errors.New("telegram: sendDocument payload without a file"), Permanent: true}
		}
		params.AddNonEmpty("message_thread_id", threadID)
		params.AddNonEmpty("caption", p.Text)
		files := []tgbotapi.RequestFile{{Name: "document", Data: tgbotapi.FileBytes{Name: p.File.Name, Bytes: p.File.Data}}}
		raw, err := a.call(ctx, methodDocument, params, files)
		if err != nil {
			return "", err
		}
		return messageID(raw, 0), nil
	default:
		return "", &bot.SendError{Err: fmt.Errorf("telegram: outbox payload with unknown method %q", p.Method), Permanent: true}
	}
}

// messageID reads the id of the message a call sent or edited, or returns
// fallback ("" for 0) when the result carries none (an edit of an inline
// message answers true). The message was delivered either way: an
// unreadable result must not make the outbox send it again.
func messageID(raw json.RawMessage, fallback int) string {
	var msg struct {
		MessageID int `json:"message_id"`
	}
	if json.Unmarshal(raw, &msg) != nil || msg.MessageID == 0 {
		if fallback == 0 {
			return ""
		}
		return strconv.Itoa(fallback)
	}
	return strconv.Itoa(msg.MessageID)
}
