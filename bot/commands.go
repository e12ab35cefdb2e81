package bot

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// commandList is every command, in /help order.
var commandList = []CommandInfo{
	{Name: "start", Help: "what Herald does and how to begin"},
	{Name: "help", Help: "list the commands"},
	{Name: "subscribe", Args: "URL [name]", Help: "follow a feed in this chat", Admin: true},
	{Name: "unsubscribe", Args: "URL|name", Help: "stop following a feed", Admin: true},
	{Name: "feeds", Help: "the feeds this chat follows"},
	{Name: "digest", Args: "[24h]", Help: "a digest of this chat's feeds now"},
	{Name: "schedule", Args: "[daily 08:00|weekdays 07:30|CRON|off]", Help: "show or set when digests arrive"},
	{Name: "timezone", Args: "[Europe/Berlin]", Help: "show or set this chat's time zone"},
	{Name: "filter", Args: "[include|exclude WORDS|/regex/] [clear]", Help: "show or set which stories digests include"},
	{Name: "search", Args: "QUERY", Help: `search everything stored: words, "phrases", -not, OR, source:name, since:7d`},
	{Name: "status", Help: "feeds ok and failing, next digest, last delivery"},
	{Name: "why", Args: "URL", Help: "was this article delivered, and if not, why"},
	{Name: "export", Help: "this chat's feeds as an OPML file"},
}

// handlers binds each command to its method. It is set in init because
// /help reads commandList, which would otherwise refer to itself.
func init() {
	handlers := map[string]func(*Bot, context.Context, *Request) ([]*Message, error){
		"start": (*Bot).cmdHelp, "help": (*Bot).cmdHelp,
		"subscribe": (*Bot).cmdSubscribe, "unsubscribe": (*Bot).cmdUnsubscribe, "feeds": (*Bot).cmdFeeds,
		"digest": (*Bot).cmdDigest, "schedule": (*Bot).cmdSchedule, "timezone": (*Bot).cmdTimezone,
		"filter": (*Bot).cmdFilter, "search": (*Bot).cmdSearch, "status": (*Bot).cmdStatus, "why": (*Bot).cmdWhy, "export": (*Bot).cmdExport,
	}
	for i := range commandList {
		c := &commandList[i]
		c.run = handlers[c.Name]
		if c.run == nil {
			panic("bot: no handler for /" + c.Name)
		}
		commandByName[c.Name] = c
	}
}

// feedsPerPage is how many feeds /feeds shows at once.
const feedsPerPage = 10

// subscription returns the request's chat subscription, creating the chat
// and an empty subscription with the defaults when create is set. Without
// create, a chat with no subscription gets ENOTFOUND with a hint.
func (b *Bot) subscription(ctx context.Context, req *Request, create bool) (*digest.Subscription, error) {
	sub, err := b.d.Store.FindSubscription(ctx, req.Platform, req.ChatID, req.ThreadID)
	if err == nil || !digest.IsNotFound(err) {
		return sub, err
	}
	if !create {
		return nil, digest.Errorf(digest.ENOTFOUND, "This chat follows no feeds yet. An administrator can add one with /subscribe URL.")
	}
	chat := &digest.Chat{Platform: req.Platform, ID: req.ChatID, Kind: req.ChatKind, Title: req.ChatTitle}
	if err := b.d.Store.UpsertChat(ctx, chat); err != nil {
		return nil, err
	}
	sub = &digest.Subscription{
		Platform: req.Platform, ChatID: req.ChatID, ThreadID: req.ThreadID,
		Schedule: b.d.DefaultSchedule, TimeZone: b.d.DefaultTimeZone,
	}
	if err := b.d.Store.CreateSubscription(ctx, sub); err != nil {
		if digest.IsConflict(err) { // created meanwhile by a concurrent command
			return b.d.Store.FindSubscription(ctx, req.Platform, req.ChatID, req.ThreadID)
		}
		return nil, err
	}
	return sub, nil
}

func (b *Bot) cmdHelp(ctx context.Context, req *Request) ([]*Message, error) {
	var items []Item
	for _, c := range commandList {
		note := c.Help
		if c.Admin && !req.Private() {
			note += " (administrators)"
		}
		items = append(items, Item{Text: c.Usage(), Note: note})
	}
	intro := "Herald turns news feeds into one calm digest: articles about the same event from different outlets become one story that lists every source."
	if req.Command == "help" {
		intro = "Commands:"
	}
	return []*Message{say(text(intro), bullets(items...),
		text("Start with /subscribe URL, then /schedule daily 08:00 and /timezone to choose when the digest arrives."))}, nil
}

func (b *Bot) cmdSubscribe(ctx context.Context, req *Request) ([]*Message, error) {
	fields := strings.Fields(req.Args)
	if len(fields) == 0 {
		return nil, usage("subscribe", "Which feed? Give its address.")
	}
	rawURL, name := fields[0], strings.Join(fields[1:], " ")
	if len([]rune(name)) > 64 {
		return nil, usage("subscribe", "A feed name may be at most 64 characters long.")
	}
	canon, err := b.d.FeedURL(rawURL)
	if err != nil {
		return nil, usage("subscribe", digest.ErrorMessage(err))
	}
	feed, err := b.d.Store.FindFeedByURL(ctx, canon)
	if digest.IsNotFound(err) {
		feed, err = b.d.Feeds.AddFeed(ctx, canon, name)
	}
	if err != nil {
		return nil, err
	}
	sub, err := b.subscription(ctx, req, true)
	if err != nil {
		return nil, err
	}
	if err := b.d.Store.AddSubscriptionFeed(ctx, sub.ID, feed.ID); err != nil {
		if digest.IsConflict(err) {
			return replyText(fmt.Sprintf("This chat already follows %s.", feed.DisplayName())), nil
		}
		return nil, err
	}
	if b.d.ScheduleChanged != nil {
		b.d.ScheduleChanged()
	}
	when := "No digest is scheduled: set one with /schedule daily 08:00."
	if sub.Schedule != "" {
		when = "Digests: " + b.describeSchedule(sub) + ". Change it with /schedule."
	}
	return []*Message{say(text(fmt.Sprintf("Subscribed to %s (%s).", feed.DisplayName(), plural(feed.Articles, "article", "articles"))),
		text(when))}, nil
}

// describeSchedule says when a subscription's digests arrive.
func (b *Bot) describeSchedule(sub *digest.Subscription) string {
	if sub.Schedule == "" {
		return "not scheduled"
	}
	desc := sub.Schedule
	if _, d, err := b.d.ParseSchedule(sub.Schedule); err == nil {
		desc = d
	}
	return desc + " (" + location(sub).String() + ")"
}

// subscribedFeeds returns the feeds a subscription follows.
func (b *Bot) subscribedFeeds(ctx context.Context, sub *digest.Subscription) ([]*digest.Feed, error) {
	if len(sub.FeedIDs) == 0 {
		return nil, nil
	}
	return b.d.Store.ListFeeds(ctx, digest.FeedFilter{IDs: sub.FeedIDs})
}

func (b *Bot) cmdUnsubscribe(ctx context.Context, req *Request) ([]*Message, error) {
	ref := strings.TrimSpace(req.Args)
	if ref == "" {
		return nil, usage("unsubscribe", "Which feed? Give its address or its name from /feeds.")
	}
	sub, err := b.subscription(ctx, req, false)
	if err != nil {
		return nil, err
	}
	feeds, err := b.subscribedFeeds(ctx, sub)
	if err != nil {
		return nil, err
	}
	canon, _ := b.d.FeedURL(ref)
	var match []*digest.Feed
	for _, f := range feeds {
		if f.URL == canon || f.URL == ref || strings.EqualFold(f.Name, ref) || strings.EqualFold(f.Title, ref) ||
			strconv.FormatInt(f.ID, 10) == ref {
			match = append(match, f)
		}
	}
	switch len(match) {
	case 0:
		return nil, digest.Errorf(digest.ENOTFOUND, "This chat does not follow %s. See /feeds for the feeds it follows.", quote(ref))
	case 1:
	default:
		return nil, digest.Errorf(digest.EINVALID, "%s matches %d feeds; use the feed's address instead.", quote(ref), len(match))
	}
	if err := b.d.Store.RemoveSubscriptionFeed(ctx, sub.ID, match[0].ID); err != nil {
		return nil, err
	}
	return replyText(fmt.Sprintf("Unsubscribed from %s.", match[0].DisplayName())), nil
}

func (b *Bot) cmdFeeds(ctx context.Context, req *Request) ([]*Message, error) {
	return b.feedsPage(ctx, req, 1, false)
}

func (b *Bot) feedsPage(ctx context.Context, req *Request, page int, replace bool) ([]*Message, error) {
	sub, err := b.subscription(ctx, req, false)
	if err != nil {
		return nil, err
	}
	feeds, err := b.subscribedFeeds(ctx, sub)
	if err != nil {
		return nil, err
	}
	if len(feeds) == 0 {
		return replyText("This chat follows no feeds yet. An administrator can add one with /subscribe URL."), nil
	}
	pages := (len(feeds) + feedsPerPage - 1) / feedsPerPage
	page = min(max(page, 1), pages)
	loc := location(sub)
	var items []Item
	for _, f := range feeds[(page-1)*feedsPerPage : min(page*feedsPerPage, len(feeds))] {
		note := f.Status()
		if f.Status() == digest.FeedFailing {
			note = fmt.Sprintf("failing since %s: %s", formatTime(f.FailingSince, loc), f.LastError)
		}
		items = append(items, Item{Text: f.DisplayName(), URL: f.URL, Note: fmt.Sprintf("%s, %s", note, plural(f.Articles, "article", "articles"))})
	}
	m := say(heading(fmt.Sprintf("This chat follows %s", plural(len(feeds), "feed", "feeds"))), bullets(items...))
	m.Replace = replace
	if pages > 1 {
		m.Blocks = append(m.Blocks, text(fmt.Sprintf("Page %d of %d", page, pages)))
		m.Buttons = pageButtons("feeds", page, pages)
	}
	return []*Message{m}, nil
}

// pageButtons returns Previous and Next buttons for page of pages; the
// data is prefix:N.
func pageButtons(prefix string, page, pages int) []Button {
	var out []Button
	if page > 1 {
		out = append(out, Button{Label: "‹ Previous", Data: fmt.Sprintf("%s:%d", prefix, page-1)})
	}
	if page < pages {
		out = append(out, Button{Label: "Next ›", Data: fmt.Sprintf("%s:%d", prefix, page+1)})
	}
	return out
}

// parseWindow reads /digest's window: "24h", "90m", "2d", "1w".
func parseWindow(s string) (time.Duration, error) {
	if s == "" {
		return 24 * time.Hour, nil
	}
	s = strings.ToLower(strings.TrimSpace(s))
	mult := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		mult = 24 * time.Hour
	case strings.HasSuffix(s, "w"):
		mult = 7 * 24 * time.Hour
	}
	var d time.Duration
	if mult > 0 {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n <= 0 {
			return 0, usage("digest", fmt.Sprintf("%s is not a time span.", quote(s)))
		}
		d = time.Duration(n) * mult
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d <= 0 {
			return 0, usage("digest", fmt.Sprintf("%s is not a time span such as 12h, 2d or 1w.", quote(s)))
		}
	}
	if d > 7*24*time.Hour {
		return 0, usage("digest", "A digest covers at most one week (1w).")
	}
	return d, nil
}

func (b *Bot) cmdDigest(ctx context.Context, req *Request) ([]*Message, error) {
	window, err := parseWindow(req.Args)
	if err != nil {
		return nil, err
	}
	sub, err := b.subscription(ctx, req, false)
	if err != nil {
		return nil, err
	}
	if len(sub.FeedIDs) == 0 {
		return replyText("This chat follows no feeds yet. An administrator can add one with /subscribe URL."), nil
	}
	now := b.d.Now()
	builder := &digest.Builder{Store: b.d.Store, Now: b.d.Now}
	d, err := builder.Build(ctx, digest.BuildRequest{
		FeedIDs: sub.FeedIDs, Since: now.Add(-window), Until: now, Filters: sub.Filters,
		Limit: b.limit(sub), Location: location(sub),
	})
	if err != nil {
		return nil, err
	}
	if len(d.Stories) == 0 {
		m := say(text(fmt.Sprintf("No new stories in the last %s from this chat's feeds.", humanDuration(window))))
		for _, n := range d.Notices {
			m.Blocks = append(m.Blocks, text(n))
		}
		return []*Message{m}, nil
	}
	return []*Message{{Digest: d}}, nil
}

func (b *Bot) limit(sub *digest.Subscription) int {
	if sub.Limit > 0 {
		return sub.Limit
	}
	return b.d.DigestLimit
}

func humanDuration(d time.Duration) string {
	switch {
	case d%(7*24*time.Hour) == 0:
		return plural(int(d/(7*24*time.Hour)), "week", "weeks")
	case d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day", "days")
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour", "hours")
	default:
		return d.String()
	}
}

// requireAdmin refuses a change in a group from somebody who is not an
// administrator. Commands that both show and change a setting call it
// only when changing.
func requireAdmin(req *Request, name string) error {
	if req.Private() || req.Admin {
		return nil
	}
	return digest.Errorf(digest.EFORBIDDEN, "Only chat administrators can change the %s here.", name)
}

func (b *Bot) cmdSchedule(ctx context.Context, req *Request) ([]*Message, error) {
	if req.Args == "" {
		sub, err := b.subscription(ctx, req, false)
		if err != nil {
			return nil, err
		}
		return []*Message{b.scheduleReply("Digests arrive", sub)}, nil
	}
	if err := requireAdmin(req, "schedule"); err != nil {
		return nil, err
	}
	spec, _, err := b.d.ParseSchedule(req.Args)
	if err != nil {
		return nil, err
	}
	sub, err := b.subscription(ctx, req, true)
	if err != nil {
		return nil, err
	}
	sub.Schedule = spec
	if err := b.d.Store.UpdateSubscription(ctx, sub); err != nil {
		return nil, err
	}
	if b.d.ScheduleChanged != nil {
		b.d.ScheduleChanged()
	}
	return []*Message{b.scheduleReply("Done. Digests arrive", sub)}, nil
}

func (b *Bot) scheduleReply(lead string, sub *digest.Subscription) *Message {
	if sub.Schedule == "" {
		return say(text("No digest is scheduled for this chat. Set one with /schedule daily 08:00 (or weekdays 07:30, or a cron expression)."))
	}
	loc := location(sub)
	var items []Item
	for _, t := range b.d.NextRuns(sub.Schedule, loc, b.d.Now(), 3) {
		items = append(items, Item{Text: formatTime(t, loc)})
	}
	return say(text(lead+" "+b.describeSchedule(sub)+"."), code(sub.Schedule), heading("Next digests"), bullets(items...))
}

func (b *Bot) cmdTimezone(ctx context.Context, req *Request) ([]*Message, error) {
	arg := strings.TrimSpace(req.Args)
	if arg == "" {
		sub, err := b.subscription(ctx, req, false)
		if err != nil {
			return nil, err
		}
		return replyText(fmt.Sprintf("This chat's time zone is %s; it is %s there now.",
			location(sub), b.d.Now().In(location(sub)).Format("15:04"))), nil
	}
	if err := requireAdmin(req, "time zone"); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(arg)
	if err != nil || arg == "Local" || strings.ContainsAny(arg, " \t") {
		return nil, usage("timezone", fmt.Sprintf("%s is not a time zone name such as Europe/Berlin, America/New_York or UTC.", quote(arg)))
	}
	sub, err := b.subscription(ctx, req, true)
	if err != nil {
		return nil, err
	}
	sub.TimeZone = loc.String()
	if err := b.d.Store.UpdateSubscription(ctx, sub); err != nil {
		return nil, err
	}
	if b.d.ScheduleChanged != nil {
		b.d.ScheduleChanged()
	}
	msg := fmt.Sprintf("Time zone set to %s; it is %s there now.", loc, b.d.Now().In(loc).Format("15:04"))
	if sub.Schedule != "" {
		msg += " Digests arrive " + b.describeSchedule(sub) + "."
	}
	return replyText(msg), nil
}

func (b *Bot) cmdFilter(ctx context.Context, req *Request) ([]*Message, error) {
	verb, rest, _ := strings.Cut(strings.TrimSpace(req.Args), " ")
	verb = strings.ToLower(verb)
	if verb == "" {
		sub, err := b.subscription(ctx, req, false)
		if err != nil {
			return nil, err
		}
		return []*Message{filterReply("Filters", sub.Filters)}, nil
	}
	if verb != "include" && verb != "exclude" && verb != "clear" {
		return nil, usage("filter", fmt.Sprintf("%s is not include, exclude or clear.", quote(verb)))
	}
	if err := requireAdmin(req, "filters"); err != nil {
		return nil, err
	}
	sub, err := b.subscription(ctx, req, true)
	if err != nil {
		return nil, err
	}
	switch verb {
	case "clear":
		sub.Filters = digest.Filters{}
	default:
		entries := splitFilter(rest)
		if len(entries) == 0 {
			return nil, usage("filter", "Give words (comma-separated for phrases) or a /regular expression/.")
		}
		for _, e := range entries {
			if err := digest.CompileFilter(e); err != nil {
				return nil, err
			}
		}
		target := &sub.Filters.Include
		if verb == "exclude" {
			target = &sub.Filters.Exclude
		}
		for _, e := range entries {
			if !containsFold(*target, e) {
				*target = append(*target, e)
			}
		}
		if len(sub.Filters.Include)+len(sub.Filters.Exclude) > 50 {
			return nil, digest.Errorf(digest.EINVALID, "A chat can have at most 50 filters; remove some with /filter clear.")
		}
	}
	if err := b.d.Store.UpdateSubscription(ctx, sub); err != nil {
		return nil, err
	}
	return []*Message{filterReply("Done. Filters now", sub.Filters)}, nil
}

// splitFilter reads filter entries: one /regular expression/, or words and
// phrases separated by commas.
func splitFilter(s string) []string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/") {
		return []string{s}
	}
	var out []string
	for _, part := range strings.Split(s, ",") {
		if p := strings.Join(strings.Fields(part), " "); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func filterReply(lead string, f digest.Filters) *Message {
	if len(f.Include) == 0 && len(f.Exclude) == 0 {
		return say(text(lead + ": none. Digests include every story. Add one with /filter include WORDS or /filter exclude WORDS."))
	}
	m := say(text(lead + ":"))
	if len(f.Include) > 0 {
		m.Blocks = append(m.Blocks, text("Include stories that mention any of: "+strings.Join(f.Include, ", ")))
	}
	if len(f.Exclude) > 0 {
		m.Blocks = append(m.Blocks, text("Leave out stories that mention any of: "+strings.Join(f.Exclude, ", ")))
	}
	return m
}

func (b *Bot) cmdStatus(ctx context.Context, req *Request) ([]*Message, error) {
	sub, err := b.subscription(ctx, req, false)
	if err != nil {
		return nil, err
	}
	feeds, err := b.subscribedFeeds(ctx, sub)
	if err != nil {
		return nil, err
	}
	loc := location(sub)
	ok, failing := 0, []Item{}
	for _, f := range feeds {
		if f.Status() == digest.FeedFailing {
			failing = append(failing, Item{Text: f.DisplayName(), URL: f.URL,
				Note: fmt.Sprintf("failing since %s: %s", formatTime(f.FailingSince, loc), f.LastError)})
		} else {
			ok++
		}
	}
	m := say(heading("Status"), text(fmt.Sprintf("Feeds: %d ok, %d failing.", ok, len(failing))))
	if len(failing) > 0 {
		m.Blocks = append(m.Blocks, bullets(failing...))
	}
	next := "Next digest: none scheduled (/schedule daily 08:00 sets one)."
	if sub.Schedule != "" {
		if runs := b.d.NextRuns(sub.Schedule, loc, b.d.Now(), 1); len(runs) > 0 {
			next = "Next digest: " + formatTime(runs[0], loc) + "."
		}
	}
	m.Blocks = append(m.Blocks, text(next))
	sent, err := b.d.Store.ListOutbox(ctx, digest.OutboxFilter{Platform: req.Platform, ChatID: req.ChatID,
		Kind: "digest", Status: digest.OutboxSent, Newest: true, Limit: 1})
	if err != nil {
		return nil, err
	}
	last := "Last digest: none delivered yet."
	if len(sent) > 0 {
		last = "Last digest: delivered " + formatTime(sent[0].SentAt, loc) + "."
	}
	m.Blocks = append(m.Blocks, text(last))
	waiting, err := b.d.Store.ListOutbox(ctx, digest.OutboxFilter{Platform: req.Platform, ChatID: req.ChatID, Status: digest.OutboxPending})
	if err != nil {
		return nil, err
	}
	if len(waiting) > 0 {
		m.Blocks = append(m.Blocks, text(fmt.Sprintf("%s waiting to be delivered; last problem: %s",
			plural(len(waiting), "message is", "messages are"), lastError(waiting))))
	}
	return []*Message{m}, nil
}

func lastError(msgs []*digest.OutboxMessage) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].LastError != "" {
			return msgs[i].LastError
		}
	}
	return "none"
}

func (b *Bot) cmdWhy(ctx context.Context, req *Request) ([]*Message, error) {
	ref := strings.TrimSpace(req.Args)
	if ref == "" {
		return nil, usage("why", "Which article? Give its address.")
	}
	canon, err := b.d.ArticleURL(ref)
	if err != nil {
		return nil, usage("why", digest.ErrorMessage(err))
	}
	arts, err := b.d.Store.ListArticles(ctx, digest.ArticleFilter{URL: canon, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(arts) == 0 {
		return replyText("Herald has not seen that article in any feed. If it is new, its feed may not have been polled yet."), nil
	}
	a := arts[0]
	sub, err := b.subscription(ctx, req, false)
	if err != nil {
		return nil, err
	}
	m := say(heading(a.Title), text("From "+a.Source+", first seen "+formatTime(a.FirstSeen, location(sub))+"."))
	add := func(s string) { m.Blocks = append(m.Blocks, text(s)) }

	feedIDs, err := b.d.Store.ArticleFeeds(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	followed := false
	for _, id := range feedIDs {
		for _, s := range sub.FeedIDs {
			followed = followed || id == s
		}
	}
	storyID := a.StoryID
	members := []*digest.Article{a}
	if storyID != 0 {
		if members, err = b.d.Store.ListArticles(ctx, digest.ArticleFilter{StoryID: storyID}); err != nil {
			return nil, err
		}
		add(fmt.Sprintf("It belongs to story %d, reported in %s.", storyID, plural(len(members), "article", "articles")))
	} else {
		add("It has not been grouped into a story yet.")
		storyID = a.ID
	}
	if !followed {
		add("It comes from a feed this chat does not follow, so digests here do not include it.")
		return []*Message{m}, nil
	}
	matcher, err := digest.NewMatcher(sub.Filters)
	if err != nil {
		return nil, err
	}
	var texts []string
	for _, x := range members {
		texts = append(texts, x.Title, x.Summary)
	}
	if ok, reason := matcher.Match(strings.Join(texts, "\n")); !ok {
		add("This chat's filters leave it out: " + reason + ".")
		return []*Message{m}, nil
	}
	sent, err := b.d.Store.StoryDeliveries(ctx, sub.ID, []int64{storyID})
	if err != nil {
		return nil, err
	}
	if n, ok := sent[storyID]; ok {
		add(fmt.Sprintf("It was delivered in a digest here (with %s).", plural(n, "source", "sources")))
	} else if sub.Schedule == "" {
		add("It has not been delivered: this chat has no digest schedule. /digest shows it now.")
	} else {
		add("It has not been delivered yet; it is due in the next digest (" + b.describeSchedule(sub) + ").")
	}
	return []*Message{m}, nil
}

func (b *Bot) cmdExport(ctx context.Context, req *Request) ([]*Message, error) {
	sub, err := b.subscription(ctx, req, false)
	if err != nil {
		return nil, err
	}
	feeds, err := b.subscribedFeeds(ctx, sub)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := digest.WriteOPML(&buf, "Herald feeds of "+chatName(req), feeds, b.d.Now()); err != nil {
		return nil, err
	}
	m := say(text(fmt.Sprintf("%s of this chat, as OPML.", plural(len(feeds), "feed", "feeds"))))
	m.File = &File{Name: "herald-feeds.opml", Type: "text/x-opml", Data: buf.Bytes()}
	return []*Message{m}, nil
}

func chatName(req *Request) string {
	if req.ChatTitle != "" {
		return req.ChatTitle
	}
	return req.Platform + " chat " + req.ChatID
}

// callback answers a button press.
func (b *Bot) callback(ctx context.Context, req *Request) ([]*Message, error) {
	kind, arg, _ := strings.Cut(req.Callback, ":")
	switch kind {
	case "search":
		return b.searchCallback(ctx, req, arg)
	case "feeds":
		page, err := strconv.Atoi(arg)
		if err != nil {
			return nil, digest.Errorf(digest.EINVALID, "That button is no longer valid; send /feeds again.")
		}
		return b.feedsPage(ctx, req, page, true)
	default:
		return nil, digest.Errorf(digest.EINVALID, "That button is no longer valid.")
	}
}
