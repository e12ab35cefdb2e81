// Package telegram owns Herald's Telegram adapter: it receives updates
// from the Bot API (long polling with a cancellable loop and a persisted
// offset, or a webhook that checks Telegram's secret token header), turns
// commands, button presses, channel posts and forum-topic messages into
// bot.Requests, renders the chat core's messages as Telegram HTML, and
// sends what the outbox hands it (as a bot.Sender), mapping the Bot API's
// answers (429 retry_after, 403, migrate_to_chat_id) to what the outbox
// does next.
//
// It is the only package that imports go-telegram-bot-api. That library
// predates forum topics, webhook secret tokens and contexts, so the
// adapter uses it for the wire (requests, multipart uploads, response and
// error types) and adds the rest: every call carries a context through a
// per-call HTTP client, update types add message_thread_id, and the bot
// token, which the Bot API puts in every request URL, is scrubbed from
// every error the adapter returns or logs.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
	"golang.org/x/time/rate"
)

// DefaultAPIURL is the Bot API base URL unless Config.APIURL says otherwise
// (HERALD_TELEGRAM_API_URL, for a self-hosted Bot API server).
const DefaultAPIURL = "https://api.telegram.org"

// ChatStore is what the adapter records about chats: whether the bot may
// post there (a user who blocked the bot and unblocked it, a group that
// removed and re-added it) and where a group moved when it became a
// supergroup. digest.Store implements it.
type ChatStore interface {
	// FindChat returns the chat, or ENOTFOUND.
	FindChat(ctx context.Context, platform, id string) (*digest.Chat, error)
	// SetChatActive marks a chat active or inactive; ENOTFOUND if the
	// chat is unknown.
	SetChatActive(ctx context.Context, platform, id string, active bool, reason string) error
	// MigrateChat moves a chat to a new id; ENOTFOUND if it is unknown,
	// ECONFLICT if the new id is taken.
	MigrateChat(ctx context.Context, platform, from, to string) error
}

// Config configures an Adapter.
type Config struct {
	Token  string // the bot token from @BotFather; required
	APIURL string // Bot API base URL: DefaultAPIURL

	Bot    *bot.Bot    // the chat core; required
	Outbox *bot.Outbox // replies are enqueued here; nil sends them directly (tests, one-off tools)
	// State keeps the update offset across restarts; nil keeps it in
	// memory only, so updates confirmed before a restart are never seen
	// again but those handled after the last confirmation may repeat.
	State digest.StateStore
	// Chats records blocked, re-added and migrated chats; may be nil.
	Chats ChatStore
	// Updates, when set, shares webhook updates between replicas behind
	// a load balancer, so that an update Telegram delivers again, to
	// whichever replica, is handled once; nil remembers handled updates
	// in this process only.
	Updates UpdateClaims

	// HTTPClient makes the Bot API requests. The default has connect,
	// TLS and idle time-outs, follows no redirects, and gives up on a
	// request after PollTimeout plus 30s; each call also carries its own
	// deadline (RequestTimeout, or PollTimeout plus 15s for getUpdates).
	HTTPClient *http.Client

	PollTimeout    time.Duration // long-poll timeout of getUpdates: 50s (Telegram counts whole seconds)
	RequestTimeout time.Duration // any other Bot API call: 30s
	AdminCacheTTL  time.Duration // how long a getChatMember answer is trusted: 1m
	ShutdownGrace  time.Duration // updates being handled when Run's ctx ends may finish this long: 10s
	Concurrency    int           // chats whose updates are handled at once: 8

	Webhook WebhookConfig

	Now    func() time.Time
	Logger *slog.Logger
}

// WebhookConfig switches the adapter from long polling to a webhook: it is
// on when ListenAddr or Listener is set.
type WebhookConfig struct {
	// URL is the public HTTPS address Telegram posts updates to. When
	// set, Run registers it (setWebhook) with the secret token; when
	// empty, the operator registered it.
	URL        string
	ListenAddr string       // where to listen, e.g. ":8443"
	Listener   net.Listener // instead of ListenAddr (socket activation, tests)
	Path       string       // request path: "/telegram"
	// SecretToken is required in webhook mode: a request whose
	// X-Telegram-Bot-Api-Secret-Token header differs is refused. 1 to
	// 256 characters of A-Z, a-z, 0-9, _ and -.
	SecretToken string
}

func (w WebhookConfig) enabled() bool { return w.ListenAddr != "" || w.Listener != nil }

// Adapter connects the chat core to Telegram.
type Adapter struct {
	cfg    Config
	api    *tgbotapi.BotAPI // never used as is: each call copies it with a client bound to its context
	client *http.Client
	log    *slog.Logger

	me      atomic.Pointer[tgbotapi.User]
	running atomic.Bool
	admins  *adminCache
	locks   chatLocks
	seen    recentUpdates

	// rejectLog limits warnings about webhook requests with a wrong
	// secret, which anybody who finds the URL can send.
	rejectLog rate.Sometimes
}

var (
	_ bot.Sender   = (*Adapter)(nil)
	_ bot.Renderer = (*Adapter)(nil)
)

var (
	tokenPattern  = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	secretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

// New checks the configuration and returns an Adapter. It does no I/O: Run
// introduces the bot to Telegram.
func New(cfg Config) (*Adapter, error) {
	if cfg.Token == "" {
		return nil, errors.New("telegram: token: not set (HERALD_TELEGRAM_TOKEN)")
	}
	if !tokenPattern.MatchString(cfg.Token) {
		// The token itself stays out of the message.
		return nil, errors.New("telegram: token: not a bot token (digits, a colon, then letters, digits, _ and -)")
	}
	if cfg.Bot == nil {
		return nil, errors.New("telegram: no chat core (Config.Bot)")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	base := strings.TrimRight(cfg.APIURL, "/")
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("telegram: api url %q: must be an http or https URL such as %s", cfg.APIURL, DefaultAPIURL)
	}
	if cfg.Webhook.enabled() {
		if !secretPattern.MatchString(cfg.Webhook.SecretToken) {
			return nil, errors.New("telegram: webhook secret token: required in webhook mode, 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
		}
		if cfg.Webhook.URL != "" {
			if u, err := url.Parse(cfg.Webhook.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, fmt.Errorf("telegram: webhook url %q: must be the public https URL Telegram posts to", cfg.Webhook.URL)
			}
		}
		if cfg.Webhook.Path == "" {
			cfg.Webhook.Path = "/telegram"
		}
		if !strings.HasPrefix(cfg.Webhook.Path, "/") {
			cfg.Webhook.Path = "/" + cfg.Webhook.Path
		}
	}
	switch {
	case cfg.PollTimeout <= 0:
		cfg.PollTimeout = 50 * time.Second
	case cfg.PollTimeout < time.Second:
		// Telegram counts whole seconds, and 0 would mean short
		// polling: a request after request while nothing happens.
		cfg.PollTimeout = time.Second
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.AdminCacheTTL <= 0 {
		cfg.AdminCacheTTL = time.Minute
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = defaultClient(cfg.PollTimeout)
	}
	// tgbotapi formats the endpoint with the token and the method; a %
	// in the base URL must not be read as a verb.
	endpoint := strings.ReplaceAll(base, "%", "%%") + "/bot%s/%s"
	// tgbotapi.NewBotAPIWithClient would call getMe here, without a
	// context; the struct with SetAPIEndpoint is the same bot without
	// the I/O, and Run calls getMe with its context.
	api := &tgbotapi.BotAPI{Token: cfg.Token, Client: client, Buffer: 100}
	api.SetAPIEndpoint(endpoint)
	a := &Adapter{
		cfg:       cfg,
		api:       api,
		client:    client,
		log:       cfg.Logger.With("component", "telegram", "platform", digest.PlatformTelegram),
		admins:    newAdminCache(cfg.AdminCacheTTL, cfg.Now),
		seen:      recentUpdates{ids: map[int]bool{}},
		rejectLog: rate.Sometimes{Interval: time.Minute},
	}
	return a, nil
}

func defaultClient(poll time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          16,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   poll + 30*time.Second,
		// The Bot API does not redirect; a redirect would carry the
		// token in its URL to wherever it points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Limits returns Telegram's sending limits for the outbox: 30 messages a
// second over all chats, one a second into a chat (with a burst of 3, so
// a short multi-part reply is not drawn out), and at most 20 in any minute
// into a group or channel (a bucket of 3 refilled at 17 a minute).
func Limits() bot.Limits {
	return bot.Limits{
		Global: 30, GlobalBurst: 30,
		PerChat: 1, PerChatBurst: 3,
		PerGroup: rate.Limit(17.0 / 60), PerGroupBurst: 3,
		IsGroup: IsGroup,
	}
}

// IsGroup reports whether a Telegram chat id is a group, supergroup or
// channel: their ids are negative, users' are positive.
func IsGroup(chatID string) bool { return strings.HasPrefix(chatID, "-") }

// Username returns the bot's username once Run has introduced the bot to
// Telegram, or "".
func (a *Adapter) Username() string {
	if me := a.me.Load(); me != nil {
		return me.UserName
	}
	return ""
}

// Run introduces the bot (getMe, setMyCommands from bot.Commands()) and
// then receives updates until ctx ends: by long polling, or by serving the
// webhook when Config.Webhook is set. Updates being handled when ctx ends
// get ShutdownGrace to finish; Run returns when every goroutine it started
// has stopped. It returns an error only when it cannot go on: Telegram
// refused the token, or the webhook cannot listen.
func (a *Adapter) Run(ctx context.Context) error {
	if !a.running.CompareAndSwap(false, true) {
		return errors.New("telegram: Run is already running")
	}
	defer a.running.Store(false)
	if err := a.start(ctx); err != nil || ctx.Err() != nil {
		return err
	}
	if a.cfg.Webhook.enabled() {
		return a.serveWebhook(ctx)
	}
	return a.poll(ctx)
}

// start calls getMe until it succeeds (Telegram may be unreachable when
// Herald starts), then sets the command menu.
func (a *Adapter) start(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		raw, err := a.call(ctx, "getMe", nil, nil)
		var me tgbotapi.User
		if err == nil {
			err = decodeResult("getMe", raw, &me)
		}
		if err == nil {
			a.me.Store(&me)
			a.log.Info("connected to Telegram", "bot_username", me.UserName, "bot_id", me.ID)
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		if refusedToken(err) {
			return fmt.Errorf("telegram: the Bot API refused the token: %w", err)
		}
		wait := bot.Backoff(attempt, time.Minute)
		a.log.Warn("cannot reach Telegram; retrying", "err", err, "retry_in", wait.Round(time.Millisecond))
		if !sleep(ctx, wait) {
			return nil
		}
	}
	var cmds []tgbotapi.BotCommand
	for _, c := range bot.Commands() {
		cmds = append(cmds, tgbotapi.BotCommand{Command: c.Name, Description: c.Help})
	}
	params := tgbotapi.Params{}
	if err := params.AddInterface("commands", cmds); err != nil {
		return fmt.Errorf("telegram: encode commands: %w", err)
	}
	if _, err := a.call(ctx, "setMyCommands", params, nil); err != nil && ctx.Err() == nil {
		// The menu is a convenience; commands work without it.
		a.log.Warn("cannot set the command menu", "err", err)
	}
	return nil
}

// refusedToken reports whether the Bot API says the token is wrong.
func refusedToken(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Code == http.StatusUnauthorized || ae.Code == http.StatusNotFound)
}

// sleep waits d or until ctx ends, and reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// adminCache remembers for a while whether a user administers a chat, so
// that a burst of commands costs one getChatMember.
type adminCache struct {
	mu  sync.Mutex
	ttl time.Duration
	now func() time.Time
	m   map[string]adminEntry
}

type adminEntry struct {
	admin bool
	at    time.Time
}

func newAdminCache(ttl time.Duration, now func() time.Time) *adminCache {
	return &adminCache{ttl: ttl, now: now, m: map[string]adminEntry{}}
}

func (c *adminCache) get(key string) (admin, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || c.now().Sub(e.at) >= c.ttl {
		return false, false
	}
	return e.admin, true
}

func (c *adminCache) put(key string, admin bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) >= 10000 {
		for k, e := range c.m {
			if now.Sub(e.at) >= c.ttl {
				delete(c.m, k)
			}
		}
	}
	c.m[key] = adminEntry{admin: admin, at: now}
}

// chatLocks serialises the handling of one chat's updates when they arrive
// concurrently (webhook), so that replies keep the order of the commands.
type chatLocks struct {
	mu sync.Mutex
	m  map[int64]*chatLock
}

type chatLock struct {
	sync.Mutex
	users int
}

func (l *chatLocks) lock(chat int64) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[int64]*chatLock{}
	}
	cl := l.m[chat]
	if cl == nil {
		cl = &chatLock{}
		l.m[chat] = cl
	}
	cl.users++
	l.mu.Unlock()
	cl.Lock()
	return func() {
		cl.Unlock()
		l.mu.Lock()
		if cl.users--; cl.users == 0 {
			delete(l.m, chat)
		}
		l.mu.Unlock()
	}
}

// UpdateClaims records, for every replica of a bot, which webhook updates
// are being handled and which were.
type UpdateClaims interface {
	// Begin claims an update for handling. It reports handle when this
	// process should handle it now, and done when one already has; with
	// neither, another process is handling it at this moment (or died
	// doing so, and its claim has yet to expire).
	Begin(ctx context.Context, updateID int) (handle, done bool, err error)
	// Done records that the update was handled.
	Done(ctx context.Context, updateID int) error
}

// recentUpdates remembers the ids of the last updates handled, so that an
// update Telegram delivers again (a webhook answer it did not get) is not
// handled twice.
type recentUpdates struct {
	mu    sync.Mutex
	ids   map[int]bool
	order []int
}

const recentUpdatesKept = 4096

// add records id and reports whether it is new.
func (r *recentUpdates) add(id int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids[id] {
		return false
	}
	r.ids[id] = true
	r.order = append(r.order, id)
	if len(r.order) > recentUpdatesKept {
		delete(r.ids, r.order[0])
		r.order = r.order[1:]
	}
	return true
}
