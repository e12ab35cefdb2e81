// Package bot owns Herald's platform-neutral chat core: the commands and
// their usage errors, permissions, per-user rate limits, the message model
// that adapters render, and the outbox through which everything the bot
// sends is delivered (token buckets, retry-after, blocked chats, migrated
// groups).
//
// It imports no chat SDK. Adapters (bot/telegram, bot/discord,
// bot/console) turn their platform's updates into a Request, pass it to
// Bot.Handle, render the Messages it returns and hand them to the Outbox.
package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// FeedAdder fetches a feed once to check it, and stores it with its first
// articles. Errors are *digest.Error values whose messages say precisely
// what is wrong with the feed ("not a feed: use https://…/rss", "404").
type FeedAdder interface {
	AddFeed(ctx context.Context, url, name string) (*digest.Feed, error)
}

// Deps is what the chat core needs.
type Deps struct {
	Store digest.Store
	Feeds FeedAdder

	// FeedURL normalises a feed address the way stored feeds are; it
	// returns EINVALID for an address that cannot be a feed.
	FeedURL func(string) (string, error)
	// ArticleURL canonicalises an article link the way stored articles
	// are (tracking parameters removed and so on), or returns EINVALID.
	ArticleURL func(string) (string, error)
	// ParseSchedule turns what a user typed ("daily 08:00", a cron
	// expression, "off") into a stored spec ("" for off) and a
	// description, or returns EINVALID.
	ParseSchedule func(text string) (spec, description string, err error)
	// NextRuns lists the next n runs of a spec in a time zone.
	NextRuns func(spec string, loc *time.Location, after time.Time, n int) []time.Time
	// ScheduleChanged is called after a chat's schedule or time zone
	// changed, so the scheduler can reload. May be nil.
	ScheduleChanged func()

	DefaultSchedule string // for new subscriptions; "" for none
	DefaultTimeZone string // for new subscriptions
	DigestLimit     int    // stories per digest

	// CommandEvery and CommandBurst limit each user's commands: a burst,
	// then one per CommandEvery. Defaults 3s and 5.
	CommandEvery time.Duration
	CommandBurst int

	// OnCommand, when set, observes every handled request (metrics).
	OnCommand func(platform, command string, took time.Duration)

	Now    func() time.Time
	Logger *slog.Logger
}

// Bot handles chat commands.
type Bot struct {
	d       Deps
	limiter *userLimiter
	pages   *pageCache
}

// New returns a Bot.
func New(d Deps) *Bot {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.CommandEvery <= 0 {
		d.CommandEvery = 3 * time.Second
	}
	if d.CommandBurst <= 0 {
		d.CommandBurst = 5
	}
	if d.DigestLimit <= 0 {
		d.DigestLimit = digest.DefaultLimit
	}
	if d.DefaultTimeZone == "" {
		d.DefaultTimeZone = "UTC"
	}
	return &Bot{d: d, limiter: newUserLimiter(d.CommandEvery, d.CommandBurst), pages: newPageCache(1000)}
}

// Handle answers one request with at least one message (none only while a
// flooding user has already been asked to slow down), and never an error:
// problems with the request become replies that say what to do, and our
// own failures become a short apology while the log keeps the cause.
func (b *Bot) Handle(ctx context.Context, req *Request) []*Message {
	start := b.d.Now()
	log := b.d.Logger.With("platform", req.Platform, "chat_id", req.ChatID, "user_id", req.UserID, "command", req.Command)
	user := req.Platform + "/" + req.UserID
	// The console is the operator at the machine (or a script of theirs):
	// limits protect chats from other people, not the operator from
	// themselves.
	if req.Platform != digest.PlatformConsole {
		if ok, warn, wait := b.limiter.allow(user, start); !ok {
			if !warn {
				return nil // told once already; stay quiet during the flood
			}
			return replyError(fmt.Sprintf("You are sending commands faster than I can answer. Please wait %s and try again.",
				wait.Round(time.Second).String()))
		}
	}
	msgs, err := b.dispatch(ctx, req)
	took := b.d.Now().Sub(start)
	if b.d.OnCommand != nil {
		name := req.Command
		if req.Callback != "" {
			name = "button"
		} else if _, known := commandByName[name]; !known {
			name = "unknown" // bounded label values for metrics
		}
		b.d.OnCommand(req.Platform, name, took)
	}
	if err != nil {
		if digest.ErrorCode(err) == digest.EINTERNAL {
			log.Error("command failed", "err", err)
		} else {
			log.Debug("command refused", "err", err)
		}
		return replyError(digest.ErrorMessage(err))
	}
	log.Debug("command handled", "duration", took)
	return msgs
}

func (b *Bot) dispatch(ctx context.Context, req *Request) ([]*Message, error) {
	if req.Callback != "" {
		return b.callback(ctx, req)
	}
	c, ok := commandByName[req.Command]
	if !ok {
		return nil, digest.Errorf(digest.EINVALID, "I don't know /%s. Send /help to see what I can do.", req.Command)
	}
	if c.Admin && !req.Private() && !req.Admin {
		return nil, digest.Errorf(digest.EFORBIDDEN, "Only chat administrators can use /%s here.", c.Name)
	}
	return c.run(b, ctx, req)
}

// CommandInfo describes a command for help texts and platform menus.
type CommandInfo struct {
	Name  string // without "/"
	Args  string // argument synopsis
	Help  string // one line
	Admin bool   // changes the chat's settings: administrators only in groups

	run func(b *Bot, ctx context.Context, req *Request) ([]*Message, error)
}

// Usage is the command with its arguments, e.g. "/subscribe URL [name]".
func (c CommandInfo) Usage() string {
	if c.Args == "" {
		return "/" + c.Name
	}
	return "/" + c.Name + " " + c.Args
}

// Commands returns every command, in the order /help lists them.
func Commands() []CommandInfo {
	out := make([]CommandInfo, len(commandList))
	copy(out, commandList)
	return out
}

var commandByName = map[string]*CommandInfo{}

// usage returns an EINVALID error that shows how to use command name.
func usage(name, problem string) error {
	c := commandByName[name]
	msg := "Usage: " + c.Usage() + " — " + c.Help
	if problem != "" {
		msg = problem + "\n" + msg
	}
	return &digest.Error{Code: digest.EINVALID, Message: msg}
}

// location returns the time zone of a subscription.
func location(sub *digest.Subscription) *time.Location {
	if sub != nil && sub.TimeZone != "" {
		if loc, err := time.LoadLocation(sub.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// formatTime shows a time the way a reader in loc expects.
func formatTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("Mon 2 Jan 15:04 MST")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func quote(s string) string {
	return "“" + strings.TrimSpace(s) + "”"
}
