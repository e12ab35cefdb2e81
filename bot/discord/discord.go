// Package discord owns Herald's Discord adapter: the gateway session that
// receives interactions, the slash commands registered for every command
// of the chat core, the answers to interactions (acknowledged within
// Discord's three seconds, deferred when the work may take longer, and
// ephemeral for errors), the rendering of the core's messages as Discord
// messages (markdown content, embeds for digests and titled replies,
// buttons for paging), and delivery of outbox messages into text
// channels, threads, forum channels and DMs.
//
// # Chats
//
// A Request's ChatID is the channel the interaction came from. In a
// thread of a text channel, ChatID is the parent channel and ThreadID the
// thread, so that a subscription made there posts into that thread. A
// forum (or media) channel is the chat itself: a subscription made in one
// of its posts belongs to the forum, and each digest arrives as a new post
// titled with the digest's title and date. In a DM the chat belongs to the
// user. A member may change a channel's settings when their permissions in
// that channel (the bitfield Discord sends with the interaction) include
// Manage Channels or Administrator.
//
// # Payloads
//
// Outbox payloads are JSON objects of this package's own (see payload):
// the message body in the shape of Discord's create-message endpoint,
// files to upload, the post title for a forum, whether only the invoking
// user sees it, and for replies that complete or follow an interaction,
// the application id and interaction token to send them with. Channel
// messages carry a nonce derived from the outbox key with enforce_nonce,
// so that a retried send is not posted twice.
//
// # Discordgo
//
// Only discordgo's data types are used (interactions, application
// commands, channel types, permissions, intents). Its REST functions use
// package-level endpoint variables, so pointing them at a REST proxy means
// one API base for the whole process, and they sleep for rate limits and
// retry 429s without a context; its gateway session fetches the wrong
// gateway URL, ignores resume_gateway_url and cannot be stopped while it
// reconnects. This package speaks REST with its own small client, whose
// base comes from Config.APIURL (HERALD_DISCORD_API_URL), and the gateway
// with its own client (see gateway).
package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
)

// DefaultAPIURL is Discord's REST base.
const DefaultAPIURL = "https://discord.com/api/v10"

// intents are the gateway intents the adapter asks for: guilds, for the
// channel events that keep its channel cache right. Interactions need no
// intent, DMs included, and the message content intent is not needed.
const intents = discordgo.IntentsGuilds

// Outbox takes the replies that follow an interaction's first response.
// *bot.Outbox implements it.
type Outbox interface {
	Enqueue(ctx context.Context, msgs []*digest.OutboxMessage) error
}

// Store is what the adapter reads and records itself: a chat's feeds for
// autocomplete, sent outbox messages to find the forum post that later
// parts of a delivery go into, and chats that become active again when an
// interaction shows the bot may post there once more (a chat is marked
// inactive when Discord refuses a delivery). digest.Store implements it.
type Store interface {
	FindSubscription(ctx context.Context, platform, chatID, threadID string) (*digest.Subscription, error)
	ListFeeds(ctx context.Context, filter digest.FeedFilter) ([]*digest.Feed, error)
	ListOutbox(ctx context.Context, filter digest.OutboxFilter) ([]*digest.OutboxMessage, error)
	// FindChat returns a chat, or ENOTFOUND.
	FindChat(ctx context.Context, platform, id string) (*digest.Chat, error)
	// SetChatActive marks a chat active or inactive.
	SetChatActive(ctx context.Context, platform, id string, active bool, reason string) error
}

// Config configures an Adapter.
type Config struct {
	Token   string // the bot token ("Bot " in front is optional)
	APIURL  string // REST base with the API version, like DefaultAPIURL (the default)
	GuildID string // register commands in this guild only (they update at once), not globally

	// ShardID and ShardCount select the gateway shard (ShardCount 0
	// means 1).
	ShardID, ShardCount int

	Bot    *bot.Bot
	Outbox Outbox
	Store  Store

	// AckAfter is how long a command may run before its interaction is
	// deferred ("Herald is thinking…"): 1.5s, well inside Discord's 3s.
	// Commands that fetch or search are deferred at once.
	AckAfter time.Duration
	// Workers bounds the interactions handled at once: 32.
	Workers int

	HTTPClient *http.Client // for REST; default: 30s time-out
	// Logger receives the adapter's logs, with the component and
	// platform attributes added.
	Logger *slog.Logger
}

// Adapter connects Herald to Discord. It is a bot.Sender and a
// bot.Renderer for the platform digest.PlatformDiscord.
type Adapter struct {
	cfg      Config
	api      *restClient
	log      *slog.Logger
	dialer   *websocket.Dialer
	channels *channelCache

	handlers sync.WaitGroup
	slots    chan struct{}

	connected atomic.Bool // a gateway session is ready or resumed
}

// Ready reports whether the gateway session is up: the adapter receives
// interactions. It is false before the first READY and while reconnecting.
func (a *Adapter) Ready() bool { return a.connected.Load() }

var (
	_ bot.Sender   = (*Adapter)(nil)
	_ bot.Renderer = (*Adapter)(nil)
)

// New returns an Adapter for cfg.
func New(cfg Config) (*Adapter, error) {
	token := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(cfg.Token), "Bot "))
	if token == "" {
		return nil, errors.New("discord: no bot token")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	u, err := url.Parse(cfg.APIURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("discord: api url %q is not an http or https base URL", cfg.APIURL)
	}
	if cfg.ShardCount <= 0 {
		cfg.ShardCount = 1
	}
	if cfg.ShardID < 0 || cfg.ShardID >= cfg.ShardCount {
		return nil, fmt.Errorf("discord: shard id %d is not below the shard count %d", cfg.ShardID, cfg.ShardCount)
	}
	if cfg.Bot == nil || cfg.Outbox == nil || cfg.Store == nil {
		return nil, errors.New("discord: Config needs Bot, Outbox and Store")
	}
	if cfg.AckAfter <= 0 {
		cfg.AckAfter = 1500 * time.Millisecond
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 32
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Token = token
	return &Adapter{
		cfg: cfg,
		api: &restClient{base: strings.TrimRight(cfg.APIURL, "/"), auth: "Bot " + token, http: cfg.HTTPClient, token: token},
		log: cfg.Logger.With("component", "discord", "platform", digest.PlatformDiscord),
		dialer: &websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: dialTimeout,
			ReadBufferSize: 16 << 10, WriteBufferSize: 4 << 10},
		channels: newChannelCache(100_000),
		slots:    make(chan struct{}, cfg.Workers),
	}, nil
}

// Limits are Discord's sending limits: 50 requests a second for the bot,
// 5 messages per 5 seconds in a channel.
func Limits() bot.Limits {
	return bot.Limits{Global: 50, GlobalBurst: 50, PerChat: 1, PerChatBurst: 5}
}

// Run registers the slash commands (shard 0 does, for all shards) and
// answers interactions until ctx ends; it then closes the gateway, waits for the interactions being
// answered, and returns nil. It returns an error when Discord refuses the
// token or the gateway configuration (shard, intents).
func (a *Adapter) Run(ctx context.Context) error {
	appID, err := a.applicationID(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	// With several shards (processes), the first registers the commands
	// for all.
	if a.cfg.ShardID == 0 {
		if err := a.register(ctx, appID); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var fatal *fatalError
			if errors.As(err, &fatal) {
				return err
			}
			// Commands registered before still work; the rest of the
			// bot should not stop for this.
			a.log.Error("register slash commands", "err", err)
		}
	}
	g := &gateway{
		api: a.api, token: a.cfg.Token, intents: intents, shard: [2]int{a.cfg.ShardID, a.cfg.ShardCount},
		log: a.log, dialer: a.dialer,
		onDispatch: func(typ string, data json.RawMessage) {
			if typ == "READY" || typ == "RESUMED" {
				a.connected.Store(true)
			}
			a.dispatch(ctx, typ, data)
		},
		onDisconnect: func() { a.connected.Store(false) },
	}
	err = g.run(ctx)
	a.handlers.Wait()
	return err
}

// applicationID asks Discord for the bot's application, retrying
// transient failures.
func (a *Adapter) applicationID(ctx context.Context) (string, error) {
	for attempt := 1; ; attempt++ {
		var app struct {
			ID string `json:"id"`
		}
		err := a.api.do(ctx, call{method: "GET", route: "GET /applications/@me", path: "/applications/@me", bot: true}, &app)
		if err == nil && app.ID != "" {
			return app.ID, nil
		}
		var ae *APIError
		if errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
			return "", &fatalError{fmt.Sprintf("discord: the bot token was refused (%d on GET /applications/@me)", ae.Status)}
		}
		if err == nil {
			err = errors.New("discord GET /applications/@me: no id in the answer")
		}
		wait := backoff(attempt)
		a.log.Warn("get application", "err", err, "retry_in", wait)
		if !sleep(ctx, wait) {
			return "", ctx.Err()
		}
	}
}

// dispatch handles a gateway event on the reading goroutine:
// interactions go to a worker, channel events update the cache.
func (a *Adapter) dispatch(ctx context.Context, typ string, data json.RawMessage) {
	switch typ {
	case "INTERACTION_CREATE":
		select {
		case a.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		a.handlers.Add(1)
		go func() {
			defer a.handlers.Done()
			defer func() { <-a.slots }()
			defer func() {
				// A bug in answering one interaction must not take the
				// bot down with it.
				if v := recover(); v != nil {
					a.log.Error("panic answering an interaction", "panic", v, "stack", string(debug.Stack()))
				}
			}()
			a.interaction(ctx, data)
		}()
	case "GUILD_CREATE":
		var g struct {
			Channels []channelInfo `json:"channels"`
			Threads  []channelInfo `json:"threads"`
		}
		if json.Unmarshal(data, &g) == nil {
			a.channels.put(g.Channels...)
			a.channels.put(g.Threads...)
		}
	case "CHANNEL_CREATE", "CHANNEL_UPDATE", "THREAD_CREATE", "THREAD_UPDATE":
		var c channelInfo
		if json.Unmarshal(data, &c) == nil {
			a.channels.put(c)
		}
	case "CHANNEL_DELETE", "THREAD_DELETE":
		var c channelInfo
		if json.Unmarshal(data, &c) == nil {
			a.channels.drop(c.ID)
		}
	}
}

// channelInfo is what the adapter needs to know of a channel.
type channelInfo struct {
	ID       string                `json:"id"`
	Type     discordgo.ChannelType `json:"type"`
	GuildID  string                `json:"guild_id"`
	ParentID string                `json:"parent_id"`
	Name     string                `json:"name"`
}

func (c channelInfo) thread() bool {
	switch c.Type {
	case discordgo.ChannelTypeGuildNewsThread, discordgo.ChannelTypeGuildPublicThread, discordgo.ChannelTypeGuildPrivateThread:
		return true
	}
	return false
}

func (c channelInfo) forum() bool {
	return c.Type == discordgo.ChannelTypeGuildForum || c.Type == discordgo.ChannelTypeGuildMedia
}

// channelCache remembers channels by id. Types and parents do not change
// (a deleted channel is dropped through the gateway), so entries never
// expire; past its size, half the entries are forgotten.
type channelCache struct {
	mu   sync.Mutex
	max  int
	byID map[string]channelInfo
}

func newChannelCache(max int) *channelCache {
	return &channelCache{max: max, byID: map[string]channelInfo{}}
}

func (c *channelCache) get(id string) (channelInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.byID[id]
	return ch, ok
}

func (c *channelCache) put(chs ...channelInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range chs {
		if ch.ID == "" {
			continue
		}
		if len(c.byID) >= c.max {
			n := 0
			for k := range c.byID {
				delete(c.byID, k)
				if n++; n >= c.max/2 {
					break
				}
			}
		}
		c.byID[ch.ID] = ch
	}
}

func (c *channelCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byID, id)
}

// channel returns a channel from the cache, or from Discord.
func (a *Adapter) channel(ctx context.Context, id string) (channelInfo, error) {
	if ch, ok := a.channels.get(id); ok {
		return ch, nil
	}
	var ch channelInfo
	err := a.api.do(ctx, call{method: "GET", route: "GET /channels/{id}", path: "/channels/" + url.PathEscape(id), bot: true}, &ch)
	if err != nil {
		return channelInfo{}, err
	}
	a.channels.put(ch)
	return ch, nil
}
