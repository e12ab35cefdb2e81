package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// userAgent is what Discord requires of bots: "DiscordBot ($url, $version)".
const userAgent = "DiscordBot (https://github.com/seed-c50b6fda/herald, 1)"

// maxResponse bounds the REST answers read; Discord's are far smaller.
const maxResponse = 8 << 20

// restClient speaks Discord's REST API. Its base URL belongs to the
// client, so that a REST proxy can be configured per adapter; discordgo's
// REST functions are not used because their endpoints are package
// variables (one API base per process), their rate limiter sleeps without
// a context and they retry 429s themselves, where Herald's outbox must
// decide.
type restClient struct {
	base  string // e.g. https://discord.com/api/v10, no trailing slash
	auth  string // "Bot <token>"
	http  *http.Client
	token string // to scrub from error text Discord or a proxy might echo
}

// APIError is an error answer of Discord's REST API.
type APIError struct {
	Route   string // method and route template: "POST /channels/{id}/messages"
	Status  int
	Code    int    // Discord's JSON error code, e.g. 10003 Unknown Channel
	Message string // Discord's message

	RetryAfter time.Duration // 429: how long to wait
	Global     bool          // 429: the bot's global rate limit
}

// Error implements error. It names the route, never the path: a webhook
// path holds an interaction token.
func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	s := fmt.Sprintf("discord %s: %d %s", e.Route, e.Status, msg)
	if e.Code != 0 {
		s += fmt.Sprintf(" (code %d)", e.Code)
	}
	if e.Status == http.StatusTooManyRequests {
		s += fmt.Sprintf(", retry after %s", e.RetryAfter)
		if e.Global {
			s += " (global)"
		}
	}
	return s
}

// restFile is a file to upload with a message.
type restFile struct {
	Name string
	Type string
	Data []byte
}

// call is one REST request. Path segments that are not constants must
// have been escaped with url.PathEscape.
type call struct {
	method string
	route  string // template, for errors and logs: never the path, which may hold an interaction token
	path   string
	body   any // marshalled as JSON; nil for none
	files  []restFile
	bot    bool // send the bot token (webhook and interaction routes take none)
}

// do performs c and decodes a JSON answer into out (when not nil). Errors
// are *APIError for Discord's answers; others (network, time-outs) are
// wrapped with the route. No error text holds the token or the request
// URL.
func (r *restClient) do(ctx context.Context, c call, out any) error {
	body, contentType, err := encodeBody(c.body, c.files)
	if err != nil {
		return fmt.Errorf("discord %s: encode request: %w", c.route, err)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, r.base+c.path, body)
	if err != nil {
		return fmt.Errorf("discord %s: %w", c.route, scrub(err))
	}
	req.Header.Set("User-Agent", userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.bot {
		req.Header.Set("Authorization", r.auth)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return fmt.Errorf("discord %s: %w", c.route, scrub(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("discord %s: read answer: %w", c.route, scrub(err))
	}
	if resp.StatusCode >= 300 {
		return r.apiError(c.route, resp, data)
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("discord %s: decode answer: %w", c.route, err)
	}
	return nil
}

// scrub drops the URL from an *url.Error: an interaction or webhook URL
// holds a token.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

func (r *restClient) apiError(route string, resp *http.Response, data []byte) *APIError {
	e := &APIError{Route: route, Status: resp.StatusCode}
	var body struct {
		Message    string  `json:"message"`
		Code       int     `json:"code"`
		RetryAfter float64 `json:"retry_after"`
		Global     bool    `json:"global"`
	}
	if json.Unmarshal(data, &body) == nil {
		e.Message, e.Code = body.Message, body.Code
	}
	if r.token != "" {
		e.Message = strings.ReplaceAll(e.Message, r.token, "[token]")
	}
	if len(e.Message) > 300 {
		e.Message = e.Message[:300]
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		e.RetryAfter = time.Duration(body.RetryAfter * float64(time.Second))
		if e.RetryAfter <= 0 {
			if secs, err := strconv.ParseFloat(resp.Header.Get("Retry-After"), 64); err == nil && secs > 0 {
				e.RetryAfter = time.Duration(secs * float64(time.Second))
			}
		}
		if e.RetryAfter <= 0 {
			// A 429 without a wait comes from Cloudflare in front of
			// Discord, which bans for a while: do not hurry back.
			e.RetryAfter = 10 * time.Second
		}
		e.Global = body.Global || strings.EqualFold(resp.Header.Get("X-RateLimit-Scope"), "global") ||
			resp.Header.Get("X-RateLimit-Global") != ""
	}
	return e
}

// encodeBody returns v as JSON, or as multipart form data with a
// payload_json part and one files[n] part per file.
func encodeBody(v any, files []restFile) (io.Reader, string, error) {
	if v == nil && len(files) == 0 {
		return nil, "", nil
	}
	js, err := json.Marshal(v)
	if err != nil {
		return nil, "", err
	}
	if len(files) == 0 {
		return bytes.NewReader(js), "application/json", nil
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="payload_json"`)
	h.Set("Content-Type", "application/json")
	p, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	p.Write(js)
	for i, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files[%d]"; filename="%s"`, i, quoteEscaper.Replace(f.Name)))
		ct := f.Type
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		p, err := w.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		p.Write(f.Data)
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return &buf, w.FormDataContentType(), nil
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "")
