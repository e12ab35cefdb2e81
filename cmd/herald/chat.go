package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/bot/console"
	"github.com/seed-c50b6fda/herald/config"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/fetch"
	"github.com/seed-c50b6fda/herald/digest/poll"
	"github.com/seed-c50b6fda/herald/schedule"
)

func init() {
	register(&command{
		name:    "chat",
		summary: "speak the chat commands in a terminal, or from a script on stdin, as chat \"console\"",
		run:     runChat,
	})
}

func runChat(ctx context.Context, a *app, args []string) error {
	c := commands["chat"]
	if _, err := a.parse(c, flag.NewFlagSet(c.name, flag.ContinueOnError), args, 0, 0); err != nil {
		return err
	}
	cfg, st, err := a.setup(ctx)
	if err != nil {
		return err
	}
	grouper, err := a.newGrouper(ctx, cfg, st)
	if err != nil {
		return err
	}
	b := a.newBot(cfg, st, grouper, nil)
	interactive := false
	if f, ok := a.stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			interactive = true
			fmt.Fprintln(a.stdout, "Herald chat: type help for the commands, quit to leave.")
		}
	}
	return (&console.Adapter{Bot: b, In: a.stdin, Out: a.stdout, Prompt: interactive}).Run(ctx)
}

// newBot builds the chat core on the store; a feed added by /subscribe is
// fetched once and its first articles grouped into stories by grouper.
// reload, if not nil, is called when a chat's schedule changes.
func (a *app) newBot(cfg config.Config, st digest.Store, grouper poll.Grouper, reload func()) *bot.Bot {
	var onCommand func(string, string, time.Duration)
	if a.metrics != nil {
		onCommand = func(platform, command string, took time.Duration) {
			a.metrics.commandSeconds.WithLabelValues(platform, command).Observe(took.Seconds())
		}
	}
	return bot.New(bot.Deps{
		Store:      st,
		Feeds:      chatFeeds{a.newFeedAdder(cfg, st, false, grouper)},
		FeedURL:    func(s string) (string, error) { return checkFeedURL(s) },
		ArticleURL: articleURL,
		ParseSchedule: func(text string) (string, string, error) {
			spec, err := schedule.Parse(text)
			return spec.Cron, spec.Description, err
		},
		NextRuns:        schedule.Next,
		ScheduleChanged: reload,
		DefaultSchedule: cfg.Digest.Schedule,
		DefaultTimeZone: cfg.Digest.TimeZone,
		DigestLimit:     cfg.Digest.Limit,
		OnCommand:       onCommand,
		Logger:          a.logger.With("component", "bot"),
	})
}

// articleURL canonicalises a link the way stored articles are.
func articleURL(s string) (string, error) {
	u, err := fetch.CanonicalURL(s, "")
	if err != nil {
		return "", digest.Errorf(digest.EINVALID, "%q is not an article address: %v", s, err)
	}
	return u, nil
}

// chatFeeds adds feeds for /subscribe with the same checks as feeds add.
type chatFeeds struct{ ad *feedAdder }

func (c chatFeeds) AddFeed(ctx context.Context, u, name string) (*digest.Feed, error) {
	out, err := c.ad.add(ctx, u, name)
	var fe *fetch.Error
	if errors.As(err, &fe) {
		// The feed's own problem, said precisely: the user can act on it.
		return nil, &digest.Error{Code: digest.EINVALID, Message: fmt.Sprintf("Could not add %s: %s", u, fe.Error())}
	}
	if err != nil {
		return nil, err
	}
	// Read it back: the stored feed knows its title and article count.
	return c.ad.st.FindFeedByURL(ctx, out.URL)
}
