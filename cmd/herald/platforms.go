package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/bot/discord"
	"github.com/seed-c50b6fda/herald/bot/telegram"
	"github.com/seed-c50b6fda/herald/config"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/replica"
)

// telegramPollLease names the lease of Telegram long polling;
// discordGatewayLease starts the names of the Discord gateway shards'.
const (
	telegramPollLease   = "telegram/updates"
	discordGatewayLease = "discord/gateway/"
)

// webhookHandling is how long a replica may take to handle a webhook
// update before another may (the adapter gives a handler its request
// time-out plus a minute, 90s by default); webhookHandled is how long a
// handled update is remembered: Telegram gives up redelivering well
// within a day.
const (
	webhookHandling = 2 * time.Minute
	webhookHandled  = 24 * time.Hour
)

// webhookUpdates shares Telegram webhook updates between the replicas
// behind a load balancer through leases: telegram/update/<id> while one
// handles it, telegram/update/<id>/done once handled.
type webhookUpdates struct {
	handling, handled *replica.Leases
}

func (w webhookUpdates) Begin(ctx context.Context, id int) (handle, done bool, err error) {
	name := "telegram/update/" + strconv.Itoa(id)
	h, err := w.handled.Holder(ctx, name+"/done")
	if err != nil || h != nil {
		return false, h != nil, err
	}
	if ok, err := w.handling.Claim(ctx, name); !ok || err != nil {
		return false, false, err
	}
	// Another replica may have finished it between the two questions.
	if h, err = w.handled.Holder(ctx, name+"/done"); err != nil || h != nil {
		if rerr := w.handling.Release(ctx, name); rerr != nil && err == nil {
			err = rerr
		}
		return false, h != nil, err
	}
	return true, false, nil
}

func (w webhookUpdates) Done(ctx context.Context, id int) error {
	name := "telegram/update/" + strconv.Itoa(id)
	if _, err := w.handled.Claim(ctx, name+"/done"); err != nil {
		return err
	}
	return w.handling.Release(ctx, name)
}

// checkShards refuses to connect a Discord gateway shard while another
// replica holds a shard of a different shard count: Discord would send
// some guilds' events to both, and each interaction would be answered
// twice.
func checkShards(ctx context.Context, leases *replica.Leases, shards int) error {
	held, err := leases.List(ctx, discordGatewayLease)
	if err != nil {
		return err
	}
	suffix := fmt.Sprintf("-of-%d", shards)
	for _, l := range held {
		if !strings.HasSuffix(l.Name, suffix) {
			return fmt.Errorf("discord: replica %s holds gateway shard %s, but this one is configured for %d shards: "+
				"every replica must set the same discord.shard_count (HERALD_DISCORD_SHARD_COUNT)",
				l.Owner, strings.TrimPrefix(l.Name, discordGatewayLease), shards)
		}
	}
	return nil
}

// platforms builds the chat adapters whose tokens are configured; their
// replies go through outbox, and each registers there as a sender.
//
// With several replicas on one database, what receives updates is held
// under a lease: Telegram long polling by one replica only (a second one
// fails at start: Telegram allows one consumer of getUpdates per bot, so
// several replicas use the webhook behind a load balancer), and each
// Discord gateway shard by one replica, the others standing by to take it
// over. Every replica sends.
func (a *app) platforms(cfg config.Config, st digest.Store, b *bot.Bot, outbox *bot.Outbox, leases *replica.Leases) ([]platform, error) {
	var out []platform
	if tok := cfg.Telegram.Token.Reveal(); tok != "" {
		var updates telegram.UpdateClaims
		if cfg.Telegram.WebhookURL != "" {
			updates = webhookUpdates{
				handling: a.leases(st, webhookHandling),
				handled:  a.leases(st, webhookHandled),
			}
		}
		tg, err := telegram.New(telegram.Config{
			Token: tok, APIURL: cfg.Telegram.APIURL, Bot: b, Outbox: outbox, State: st, Chats: st, Updates: updates,
			Webhook: telegram.WebhookConfig{
				URL: cfg.Telegram.WebhookURL, ListenAddr: cfg.Telegram.WebhookListen,
				SecretToken: cfg.Telegram.WebhookSecret.Reveal(),
			},
			Logger: a.logger, // the adapter names its component and platform
		})
		if err != nil {
			return nil, err
		}
		outbox.Register(digest.PlatformTelegram, tg, telegram.Limits())
		run := tg.Run
		if cfg.Telegram.WebhookURL == "" {
			run = func(ctx context.Context) error {
				err := leases.RunHolding(ctx, telegramPollLease, tg.Run)
				var held *replica.HeldError
				if errors.As(err, &held) {
					return fmt.Errorf("another replica (%s) receives this bot's updates by long polling, and Telegram allows one "+
						"long-polling consumer per bot: run one replica, or set HERALD_TELEGRAM_WEBHOOK_URL (telegram.webhook_url) "+
						"on every replica and put them behind a load balancer", held.Holder)
				}
				return err
			}
		}
		out = append(out, platform{name: digest.PlatformTelegram, renderer: tg, run: run,
			ready: func() bool { return tg.Username() != "" }}) // getMe answered
	}
	if tok := cfg.Discord.Token.Reveal(); tok != "" {
		dc, err := discord.New(discord.Config{
			Token: tok, APIURL: cfg.Discord.APIURL, GuildID: cfg.Discord.GuildID,
			ShardID: cfg.Discord.ShardID, ShardCount: cfg.Discord.ShardCount,
			Bot: b, Outbox: outbox, Store: st,
			Logger: a.logger, // the adapter names its component and platform
		})
		if err != nil {
			return nil, err
		}
		outbox.Register(digest.PlatformDiscord, dc, discord.Limits())
		shards := max(cfg.Discord.ShardCount, 1)
		lease := fmt.Sprintf("%s%d-of-%d", discordGatewayLease, cfg.Discord.ShardID, shards)
		var holding atomic.Bool
		out = append(out, platform{name: digest.PlatformDiscord, renderer: dc,
			run: func(ctx context.Context) error {
				return leases.RunExclusive(ctx, lease, func(ctx context.Context) error {
					if err := checkShards(ctx, leases, shards); err != nil {
						return err
					}
					holding.Store(true)
					defer holding.Store(false)
					return dc.Run(ctx)
				})
			},
			// A replica standing by for the gateway is ready: it sends.
			ready: func() bool { return !holding.Load() || dc.Ready() },
		})
	}
	return out, nil
}
