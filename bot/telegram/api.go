package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/seed-c50b6fda/herald/bot"
)

// APIError is an error answer of the Bot API. Its description never holds
// the bot token.
type APIError struct {
	Method      string
	Code        int    // error_code: 400, 403, 429, ...
	Description string // e.g. "Forbidden: bot was blocked by the user"
	RetryAfter  time.Duration
	MigrateTo   int64 // parameters.migrate_to_chat_id
}

func (e *APIError) Error() string {
	return fmt.Sprintf("telegram %s: %d %s", e.Method, e.Code, e.Description)
}

// boundClient makes one Bot API request under the context of the call it
// belongs to (tgbotapi builds requests without one), remembers the HTTP
// status (tgbotapi drops error_code for uploads), and takes the token out
// of transport errors, whose message holds the request URL.
type boundClient struct {
	ctx    context.Context
	client *http.Client
	token  string
	status int
}

func (b *boundClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := b.client.Do(req.WithContext(b.ctx))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, &url.Error{Op: ue.Op, URL: redact(ue.URL, b.token), Err: ue.Err}
		}
		return nil, err
	}
	b.status = resp.StatusCode
	return resp, nil
}

// call makes one Bot API request: with files, as a multipart upload. The
// error is an *APIError when Telegram answered one, and otherwise a
// transport error; neither contains the token.
func (a *Adapter) call(ctx context.Context, method string, params tgbotapi.Params, files []tgbotapi.RequestFile) (json.RawMessage, error) {
	timeout := a.cfg.RequestTimeout
	if method == "getUpdates" {
		timeout = a.cfg.PollTimeout + 15*time.Second
	}
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	bc := &boundClient{ctx: callCtx, client: a.client, token: a.cfg.Token}
	api := *a.api // a shallow copy per call: the client carries this call's context
	api.Client = bc
	var resp *tgbotapi.APIResponse
	var err error
	if files != nil {
		resp, err = api.UploadFiles(method, params, files)
	} else {
		resp, err = api.MakeRequest(method, params)
	}
	if err != nil {
		return nil, a.apiError(ctx, callCtx, method, bc.status, err)
	}
	return resp.Result, nil
}

// apiError turns what tgbotapi returned into an error without the token.
func (a *Adapter) apiError(ctx, callCtx context.Context, method string, status int, err error) error {
	var te *tgbotapi.Error
	if errors.As(err, &te) {
		code := te.Code
		if code == 0 {
			code = status
		}
		return &APIError{
			Method: method, Code: code, Description: redact(te.Message, a.cfg.Token),
			RetryAfter: time.Duration(te.RetryAfter) * time.Second, MigrateTo: te.MigrateToChatID,
		}
	}
	var cause error
	switch {
	case ctx.Err() != nil:
		cause = ctx.Err()
	case callCtx.Err() != nil:
		cause = callCtx.Err()
		err = fmt.Errorf("no answer in time: %w", err)
	}
	msg := fmt.Sprintf("telegram %s: %v", method, err)
	if status != 0 && status != http.StatusOK {
		// An answer that was not the Bot API's JSON, e.g. a proxy's
		// 502 page.
		msg = fmt.Sprintf("telegram %s: HTTP %d: %v", method, status, err)
	}
	return &scrubbed{msg: redact(msg, a.cfg.Token), cause: cause}
}

// scrubbed is a transport error with the token taken out of its message.
// It unwraps only to a context error, if that is what ended the call: the
// original error chain may hold the request URL, and so the token.
type scrubbed struct {
	msg   string
	cause error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.cause }

// redact replaces the token in s, in the forms a URL may carry it.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	s = strings.ReplaceAll(s, token, "<token>")
	if esc := url.PathEscape(token); esc != token {
		s = strings.ReplaceAll(s, esc, "<token>")
	}
	return s
}

// decodeResult reads a successful call's result.
func decodeResult(method string, raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("telegram %s: decode result: %w", method, err)
	}
	return nil
}

// sendError tells the outbox what a failed send means (see bot.SendError):
// wait for 429's retry_after; give up on a chat that blocked or removed
// the bot (403, or a chat Telegram no longer knows); follow a group that
// became a supergroup; drop a message Telegram refuses as malformed (other
// 400s); and retry anything else (network, 5xx, 401 until the operator
// fixes the token) with back-off.
func sendError(err error) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	se := &bot.SendError{Err: err}
	switch {
	case ae.Code == http.StatusTooManyRequests:
		se.RetryAfter = max(ae.RetryAfter, time.Second)
	case ae.Code == http.StatusForbidden:
		se.Forbidden = true
	case ae.Code == http.StatusBadRequest && ae.MigrateTo != 0:
		se.MigratedTo = fmt.Sprint(ae.MigrateTo)
	case ae.Code == http.StatusBadRequest && strings.Contains(strings.ToLower(ae.Description), "chat not found"):
		se.Forbidden = true
	case ae.Code == http.StatusBadRequest && strings.Contains(strings.ToLower(ae.Description), "message thread not found"):
		se.ThreadGone = true // the forum topic was deleted
	case ae.Code == http.StatusBadRequest, ae.Code == http.StatusRequestEntityTooLarge:
		se.Permanent = true
	default:
		return err
	}
	return se
}
