package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/render"
)

// option is a slash command option; every option is a string that
// becomes part of the command's arguments, in the order listed.
type option struct {
	name, desc   string
	required     bool
	autocomplete bool
	maxLen       int
	choices      []string
}

// options types the arguments of the chat core's commands. A command the
// core adds later without an entry here gets one "arguments" option (see
// commandOptions), so that it still works.
var options = map[string][]option{
	"subscribe": {
		{name: "url", desc: "The feed's address (RSS, Atom or JSON Feed), or a page that links to one", required: true, maxLen: 2000},
		{name: "name", desc: "A short name for the feed in this channel", maxLen: 64},
	},
	"unsubscribe": {
		{name: "feed", desc: "The feed to stop following: its name or address", required: true, autocomplete: true, maxLen: 2000},
	},
	"digest": {
		{name: "since", desc: "How far back to look: 12h, 24h (the default), 2d or 1w", maxLen: 16},
	},
	"schedule": {
		{name: "when", desc: "daily 08:00, weekdays 07:30, a cron expression such as 0 8 * * 1-5, or off", maxLen: 100},
	},
	"timezone": {
		{name: "zone", desc: "An IANA time zone such as Europe/Berlin, America/New_York or UTC", maxLen: 64},
	},
	"filter": {
		{name: "action", desc: "Leave out to show the filters", choices: []string{"include", "exclude", "clear"}},
		{name: "words", desc: "Words or phrases, comma-separated, or a /regular expression/", maxLen: 1000},
	},
	"why": {
		{name: "url", desc: "The article's address", required: true, maxLen: 2000},
	},
	"search": {
		{name: "query", desc: `Words, "exact phrases", -excluded, OR, source:name, feed:name, since:7d`, required: true, maxLen: 500},
	},
}

// commandOptions returns the options of command c.
func commandOptions(c bot.CommandInfo) []option {
	if opts, ok := options[c.Name]; ok {
		return opts
	}
	if c.Args == "" {
		return nil
	}
	return []option{{name: "arguments", desc: render.DiscordPlain(c.Args, 100),
		required: !strings.HasPrefix(c.Args, "["), maxLen: 2000}}
}

// applicationCommands returns the slash commands for the chat core's
// commands, usable in servers and in DMs with the bot.
func applicationCommands(infos []bot.CommandInfo) []*discordgo.ApplicationCommand {
	contexts := []discordgo.InteractionContextType{discordgo.InteractionContextGuild, discordgo.InteractionContextBotDM}
	install := []discordgo.ApplicationIntegrationType{discordgo.ApplicationIntegrationGuildInstall}
	var out []*discordgo.ApplicationCommand
	for _, c := range infos {
		desc := c.Help
		if c.Admin {
			desc += " (Manage Channels in servers)"
		}
		ac := &discordgo.ApplicationCommand{
			Type: discordgo.ChatApplicationCommand, Name: c.Name, Description: render.DiscordPlain(desc, 100),
			Contexts: &contexts, IntegrationTypes: &install,
			Options: []*discordgo.ApplicationCommandOption{},
		}
		for _, o := range commandOptions(c) {
			opt := &discordgo.ApplicationCommandOption{
				Type: discordgo.ApplicationCommandOptionString, Name: o.name, Description: o.desc,
				Required: o.required, Autocomplete: o.autocomplete, MaxLength: o.maxLen,
			}
			for _, ch := range o.choices {
				opt.Choices = append(opt.Choices, &discordgo.ApplicationCommandOptionChoice{Name: ch, Value: ch})
			}
			ac.Options = append(ac.Options, opt)
		}
		out = append(out, ac)
	}
	return out
}

// register replaces the application's commands with the chat core's, in
// one bulk overwrite: in Config.GuildID when set, else globally.
func (a *Adapter) register(ctx context.Context, appID string) error {
	cmds := applicationCommands(bot.Commands())
	c := call{method: "PUT", route: "PUT /applications/{id}/commands", path: "/applications/" + url.PathEscape(appID) + "/commands", body: cmds, bot: true}
	if g := a.cfg.GuildID; g != "" {
		c.route = "PUT /applications/{id}/guilds/{guild}/commands"
		c.path = "/applications/" + url.PathEscape(appID) + "/guilds/" + url.PathEscape(g) + "/commands"
	}
	for attempt := 1; ; attempt++ {
		err := a.api.do(ctx, c, nil)
		if err == nil {
			a.log.Info("slash commands registered", "commands", len(cmds), "guild_id", a.cfg.GuildID)
			return nil
		}
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
			return &fatalError{"discord: the bot token was refused (401 on " + c.route + ")"}
		case errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests:
			if !sleep(ctx, ae.RetryAfter) {
				return ctx.Err()
			}
		case errors.As(err, &ae) && ae.Status < 500:
			return err // our request is wrong: retrying does not help
		case attempt >= 5:
			return err
		default:
			if !sleep(ctx, backoff(attempt)) {
				return ctx.Err()
			}
		}
	}
}

// args joins a command's option values into the argument text the chat
// core parses, in the order the options are declared.
func args(c bot.CommandInfo, given []*discordgo.ApplicationCommandInteractionDataOption) string {
	values := map[string]string{}
	for _, o := range given {
		if s, ok := o.Value.(string); ok {
			values[o.Name] = strings.TrimSpace(s)
		}
	}
	var parts []string
	for _, o := range commandOptions(c) {
		if v := values[o.name]; v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, " ")
}

// commandInfo returns the chat core's command named name.
func commandInfo(name string) (bot.CommandInfo, bool) {
	for _, c := range bot.Commands() {
		if c.Name == name {
			return c, true
		}
	}
	return bot.CommandInfo{}, false
}

// maxChoices is Discord's limit on autocomplete choices.
const maxChoices = 25

// feedChoices suggests the feeds a chat follows whose name, title or
// address contains what the user typed; a choice's value is the feed's
// id, which /unsubscribe accepts.
func (a *Adapter) feedChoices(ctx context.Context, req *bot.Request, typed string) ([]*discordgo.ApplicationCommandOptionChoice, error) {
	sub, err := a.cfg.Store.FindSubscription(ctx, req.Platform, req.ChatID, req.ThreadID)
	if digest.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("autocomplete feeds of %s: %w", req.ChatID, err)
	}
	if len(sub.FeedIDs) == 0 {
		return nil, nil
	}
	feeds, err := a.cfg.Store.ListFeeds(ctx, digest.FeedFilter{IDs: sub.FeedIDs})
	if err != nil {
		return nil, fmt.Errorf("autocomplete feeds of %s: %w", req.ChatID, err)
	}
	typed = strings.ToLower(strings.TrimSpace(typed))
	var match []*digest.Feed
	for _, f := range feeds {
		if typed == "" || strings.Contains(strings.ToLower(f.Name), typed) || strings.Contains(strings.ToLower(f.Title), typed) ||
			strings.Contains(strings.ToLower(f.URL), typed) {
			match = append(match, f)
		}
	}
	sort.SliceStable(match, func(i, j int) bool {
		pi := strings.HasPrefix(strings.ToLower(match[i].DisplayName()), typed)
		pj := strings.HasPrefix(strings.ToLower(match[j].DisplayName()), typed)
		if pi != pj {
			return pi
		}
		return strings.ToLower(match[i].DisplayName()) < strings.ToLower(match[j].DisplayName())
	})
	var out []*discordgo.ApplicationCommandOptionChoice
	for _, f := range match[:min(len(match), maxChoices)] {
		name := f.DisplayName()
		if host := hostOf(f.URL); host != "" && !strings.Contains(strings.ToLower(name), host) {
			name += " · " + host
		}
		out = append(out, &discordgo.ApplicationCommandOptionChoice{
			Name: render.DiscordPlain(name, 100), Value: strconv.FormatInt(f.ID, 10),
		})
	}
	return out, nil
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(p.Hostname()), "www.")
}

// autocompleteTimeout leaves room in Discord's three seconds.
const autocompleteTimeout = 2500 * time.Millisecond
