package main

import (
	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/bot/discord"
	"github.com/seed-c50b6fda/herald/bot/telegram"
	"github.com/seed-c50b6fda/herald/config"
	"github.com/seed-c50b6fda/herald/digest"
)

// platforms builds the chat adapters whose tokens are configured; their
// replies go through outbox, and each registers there as a sender.
func (a *app) platforms(cfg config.Config, st digest.Store, b *bot.Bot, outbox *bot.Outbox) ([]platform, error) {
	var out []platform
	if tok := cfg.Telegram.Token.Reveal(); tok != "" {
		tg, err := telegram.New(telegram.Config{
			Token: tok, APIURL: cfg.Telegram.APIURL, Bot: b, Outbox: outbox, State: st, Chats: st,
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
		out = append(out, platform{name: digest.PlatformTelegram, renderer: tg, run: tg.Run,
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
		out = append(out, platform{name: digest.PlatformDiscord, renderer: dc, run: dc.Run, ready: dc.Ready})
	}
	return out, nil
}
