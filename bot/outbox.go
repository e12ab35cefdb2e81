package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
	"golang.org/x/time/rate"
)

// Sender delivers rendered messages to one platform.
type Sender interface {
	// Send delivers m.Payload to m.ChatID (and m.ThreadID) and returns the
	// platform's id for the message. A *SendError says when the platform
	// answered something that changes what to do next; any other error is
	// retried with back-off.
	Send(ctx context.Context, m *digest.OutboxMessage) (platformID string, err error)
}

// SendError is a platform's answer that the outbox acts on.
type SendError struct {
	Err        error
	RetryAfter time.Duration // 429: wait this long before the chat's next message
	Global     bool          // the RetryAfter applies to every chat of the platform
	Forbidden  bool          // 403: the bot was blocked or removed; the chat becomes inactive
	MigratedTo string        // the chat moved to this id (Telegram group upgraded to supergroup)
	Permanent  bool          // the request itself is wrong; retrying cannot help
	// ThreadGone says that the message's thread (a Telegram forum topic,
	// a Discord thread) was deleted: the chat is fine, but nothing can
	// be sent there any more, so its subscription is removed.
	ThreadGone bool
}

func (e *SendError) Error() string { return e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// Limits are a platform's sending limits, enforced before sending so that
// 429s stay rare.
type Limits struct {
	Global       rate.Limit // messages per second over all chats
	GlobalBurst  int
	PerChat      rate.Limit // messages per second into one chat
	PerChatBurst int
	// PerGroup additionally limits chats for which IsGroup is true
	// (Telegram: 20 messages a minute in a group).
	PerGroup      rate.Limit
	PerGroupBurst int
	IsGroup       func(chatID string) bool
}

// OutboxStore is what the outbox persists.
type OutboxStore interface {
	EnqueueMessages(ctx context.Context, msgs []*digest.OutboxMessage) error
	ListOutbox(ctx context.Context, filter digest.OutboxFilter) ([]*digest.OutboxMessage, error)
	MarkSent(ctx context.Context, id int64, platformID string, at time.Time) error
	MarkAttemptFailed(ctx context.Context, id int64, reason string, next time.Time) error
	SetChatActive(ctx context.Context, platform, id string, active bool, reason string) error
	MigrateChat(ctx context.Context, platform, from, to string) error
	FindSubscription(ctx context.Context, platform, chatID, threadID string) (*digest.Subscription, error)
	DeleteSubscription(ctx context.Context, id int64) error
}

// Claimer divides the chats between processes that share a store
// (replica.Leases implements it): a process sends to a chat only while it
// holds the chat's claim, so each chat's parts still go one at a time and
// in order, and a message is sent by one process.
type Claimer interface {
	// Claim takes or renews the named claim; false means another process
	// holds it.
	Claim(ctx context.Context, name string) (bool, error)
	// Release gives the claim up.
	Release(ctx context.Context, name string) error
	// TTL is how long a claim lasts unless renewed. A send is cut off
	// well within it, so a slow platform cannot keep a process sending
	// after another has taken the chat over.
	TTL() time.Duration
}

// OutboxConfig configures an Outbox.
type OutboxConfig struct {
	Store   OutboxStore
	Senders map[string]Sender // by platform
	Limits  map[string]Limits // by platform; a platform without limits is unlimited
	Claims  Claimer           // set when other processes send from the same store

	MaxAttempts   int           // failed attempts before a message is marked failed (429s are none): 12
	MaxBackoff    time.Duration // longest wait between attempts: 30m
	ShutdownGrace time.Duration // in-flight sends may finish this long after Run's ctx ends: 10s

	// OnSent and OnRetry, when set, observe deliveries (metrics).
	OnSent  func(m *digest.OutboxMessage)
	OnRetry func(m *digest.OutboxMessage, err error)

	Now    func() time.Time
	Logger *slog.Logger
}

// Outbox delivers everything the bot sends: messages are written to the
// store first, sent in order per chat within the platform's limits, and
// marked sent only when the platform confirms, so a restart resumes unsent
// parts and never re-sends sent ones.
type Outbox struct {
	cfg  OutboxConfig
	wake chan struct{}

	mu       sync.Mutex
	share    int // processes sending for the same bots, sharing Global
	global   map[string]*rate.Limiter
	chats    map[string]*chatLimit
	pausedTo map[string]time.Time // platform or platform/chat -> resume time
	// throttled counts the 429s each pending message got in this
	// process: they are in its Attempts but are no failures.
	throttled map[int64]int
}

type chatLimit struct {
	chat, group *rate.Limiter
}

// NewOutbox returns an Outbox.
func NewOutbox(cfg OutboxConfig) *Outbox {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 12
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Minute
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	o := &Outbox{wake: make(chan struct{}, 1), share: 1, global: map[string]*rate.Limiter{},
		chats: map[string]*chatLimit{}, pausedTo: map[string]time.Time{}, throttled: map[int64]int{}}
	o.cfg = cfg
	o.cfg.Senders, o.cfg.Limits = map[string]Sender{}, map[string]Limits{}
	for p, s := range cfg.Senders {
		o.Register(p, s, cfg.Limits[p])
	}
	return o
}

// Register adds a platform's sender and limits, for adapters that need
// the outbox before they exist. Call it before Run.
func (o *Outbox) Register(platform string, s Sender, l Limits) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cfg.Senders[platform] = s
	o.cfg.Limits[platform] = l
	if l.Global > 0 {
		limit, burst := l.shared(o.share)
		o.global[platform] = rate.NewLimiter(limit, burst)
	}
}

// shared is the global limit and burst of one of n processes sending for
// the same bot.
func (l Limits) shared(n int) (rate.Limit, int) {
	return l.Global / rate.Limit(n), max(l.GlobalBurst/n, 1)
}

// ShareLimits tells the outbox that n processes (replicas) send for the
// same bots: a platform's global limit, which counts per bot, is divided
// between them, so that together they stay within it.
func (o *Outbox) ShareLimits(n int) {
	n = max(n, 1)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.share = n
	for platform, lim := range o.global {
		limit, burst := o.cfg.Limits[platform].shared(n)
		lim.SetLimit(limit)
		lim.SetBurst(burst)
	}
}

// Enqueue stores messages for delivery and wakes the sender. ECONFLICT
// means a message with the same key was enqueued before: the delivery is
// already on its way (or done).
func (o *Outbox) Enqueue(ctx context.Context, msgs []*digest.OutboxMessage) error {
	if err := o.cfg.Store.EnqueueMessages(ctx, msgs); err != nil {
		return err
	}
	o.Wake()
	return nil
}

// Wake makes Run look for due messages now.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// pollEvery is how often Run looks for due messages when nothing woke it,
// which picks up messages enqueued by other processes.
const pollEvery = time.Second

// Run sends due messages until ctx ends, then lets in-flight sends finish
// for at most ShutdownGrace and returns.
func (o *Outbox) Run(ctx context.Context) error {
	// Sends in flight when ctx ends get ShutdownGrace to finish: a part
	// the platform accepted should also be marked sent.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(o.cfg.ShutdownGrace, cancelSends) })
	defer stop()
	for {
		if ctx.Err() != nil {
			return nil
		}
		if err := o.round(ctx, sendCtx, o.wake); err != nil && ctx.Err() == nil {
			o.cfg.Logger.Error("outbox round failed", "err", err)
		}
		if ctx.Err() == nil && len(o.wake) > 0 {
			continue // new messages arrived during the round
		}
		t := time.NewTimer(pollEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-o.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Flush sends every due message once and returns when done: for the CLI
// and tests, which do not run a loop.
func (o *Outbox) Flush(ctx context.Context) error {
	return o.round(ctx, ctx, nil)
}

// restartAfter is how long a round runs before new messages may end it
// early.
const restartAfter = time.Second

// KindReply is the outbox Kind of a message that answers a command.
const KindReply = "reply"

// maxLimiterWait is the longest a round waits for a chat's token bucket
// before leaving the chat to the next round.
const maxLimiterWait = 5 * time.Second

// round sends the due messages, one at a time, taking chats in turns: the
// next part of a chat goes when the chat's bucket allows, and meanwhile
// other chats' parts go. Each chat's parts go in order, and a chat stops
// at its first part that is not due or fails, so a later part never
// overtakes an earlier one.
//
// One send at a time is deliberate: if the process dies between a send
// and its mark, at most that one part can be sent again.
//
// Chats whose next part answers a command go first, and when wake signals
// new messages the round ends early (at most once per restartAfter), so a
// reply does not wait behind a morning's digests to a thousand chats.
func (o *Outbox) round(ctx, sendCtx context.Context, wake <-chan struct{}) error {
	start := time.Now()
	// Only platforms this process can send to: the others' messages wait
	// for a process that has their adapter.
	var order []string
	queues := map[string][]*digest.OutboxMessage{}
	for platform := range o.cfg.Senders {
		msgs, err := o.cfg.Store.ListOutbox(ctx, digest.OutboxFilter{Status: digest.OutboxPending, Platform: platform, Limit: 5000})
		if err != nil {
			return fmt.Errorf("list pending %s messages: %w", platform, err)
		}
		for _, m := range msgs {
			k := m.Platform + "/" + m.ChatID
			if _, ok := queues[k]; !ok {
				order = append(order, k)
			}
			queues[k] = append(queues[k], m)
		}
	}
	// Replies first; otherwise oldest first, as listed.
	slices.SortStableFunc(order, func(a, b string) int {
		ra, rb := queues[a][0].Kind == KindReply, queues[b][0].Kind == KindReply
		switch {
		case ra && !rb:
			return -1
		case rb && !ra:
			return 1
		}
		return 0
	})
	claimed := map[string]bool{}
	defer o.releaseClaims(sendCtx, claimed)
	for len(order) > 0 && ctx.Err() == nil {
		sent := false
		wait := maxLimiterWait
		next := order[:0]
		for _, k := range order {
			if ctx.Err() != nil {
				return nil // stop taking work
			}
			if len(wake) > 0 && time.Since(start) > restartAfter {
				return nil // start again with the new messages in view
			}
			q := queues[k]
			m := q[0]
			if m.NextAttemptAt.After(o.cfg.Now()) || o.paused(m) {
				continue // the chat is done for this round
			}
			if o.cfg.Claims != nil {
				fresh, ok := o.claimChat(ctx, k, m, !claimed[k])
				if !ok {
					continue // another process sends to this chat
				}
				if !claimed[k] {
					// What was listed may have been sent by the process
					// that held the chat until now: go by the store.
					claimed[k] = true
					if len(fresh) == 0 {
						continue
					}
					q, m = fresh, fresh[0]
					queues[k] = q
					if m.NextAttemptAt.After(o.cfg.Now()) || o.paused(m) {
						continue
					}
				}
			}
			if d := o.chatDelay(m); d > 0 {
				wait = min(wait, d)
				next = append(next, k) // its turn comes later in this round
				continue
			}
			if !o.send(sendCtx, m) {
				continue
			}
			sent = true
			if len(q) > 1 {
				q[1].ChatID = m.ChatID // the chat may have migrated while sending
				queues[k] = q[1:]
				next = append(next, k)
			}
		}
		order = next
		if len(claimed) > 0 {
			// Chats done for this round are free for any process at
			// once: a reply another replica enqueued for one of them need
			// not wait for this round to end.
			o.releaseDone(sendCtx, claimed, order)
		}
		if !sent && len(order) > 0 {
			if wait >= maxLimiterWait {
				return nil // leave slow buckets to the next round
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
	}
	return nil
}

// claimChat takes or renews the claim on chat k (platform/chat) before m
// is sent. On the first claim in a round it returns the chat's pending
// messages as the store has them now.
func (o *Outbox) claimChat(ctx context.Context, k string, m *digest.OutboxMessage, first bool) ([]*digest.OutboxMessage, bool) {
	ok, err := o.cfg.Claims.Claim(ctx, "outbox/"+k)
	if err != nil {
		if ctx.Err() == nil {
			o.cfg.Logger.Warn("claim chat; leaving it for the next round", "platform", m.Platform, "chat_id", m.ChatID, "err", err)
		}
		return nil, false
	}
	if !ok || !first {
		return nil, ok
	}
	msgs, err := o.cfg.Store.ListOutbox(ctx, digest.OutboxFilter{Status: digest.OutboxPending, Platform: m.Platform, ChatID: m.ChatID, Limit: 5000})
	if err != nil {
		if ctx.Err() == nil {
			o.cfg.Logger.Warn("list the chat's pending messages; leaving it for the next round", "platform", m.Platform, "chat_id", m.ChatID, "err", err)
		}
		return nil, true // still claimed: released with the others at the end of the round
	}
	return msgs, true
}

// releaseDone gives up the claimed chats that are no longer in order.
func (o *Outbox) releaseDone(ctx context.Context, claimed map[string]bool, order []string) {
	going := make(map[string]bool, len(order))
	for _, k := range order {
		going[k] = true
	}
	done := map[string]bool{}
	for k := range claimed {
		if !going[k] {
			done[k] = true
			delete(claimed, k)
		}
	}
	o.releaseClaims(ctx, done)
}

// releaseClaims gives up the chats claimed in a round, so that any process
// may take them in the next.
func (o *Outbox) releaseClaims(ctx context.Context, claimed map[string]bool) {
	if len(claimed) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for k := range claimed {
		if err := o.cfg.Claims.Release(ctx, "outbox/"+k); err != nil {
			o.cfg.Logger.Warn("release chat claim", "chat", k, "err", err)
			return // the store is down: the claims expire
		}
	}
}

// paused reports whether the platform asked us to hold m's chat (or every
// chat) for now.
func (o *Outbox) paused(m *digest.OutboxMessage) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.cfg.Now()
	return o.pausedTo[m.Platform].After(now) || o.pausedTo[m.Platform+"/"+m.ChatID].After(now)
}

// chatDelay returns how long m's chat must wait for its buckets, taking
// a token when it need not wait.
func (o *Outbox) chatDelay(m *digest.OutboxMessage) time.Duration {
	o.mu.Lock()
	cl := o.chatLimiter(m.Platform, m.ChatID)
	o.mu.Unlock()
	now := time.Now()
	var rs []*rate.Reservation
	var delay time.Duration
	for _, l := range []*rate.Limiter{cl.chat, cl.group} {
		if l == nil {
			continue
		}
		r := l.ReserveN(now, 1)
		rs = append(rs, r)
		delay = max(delay, r.DelayFrom(now))
	}
	if delay > 0 {
		for _, r := range rs {
			r.CancelAt(now)
		}
	}
	return delay
}

// send delivers one message and records the outcome. It reports whether
// the chat's next message may follow.
func (o *Outbox) send(ctx context.Context, m *digest.OutboxMessage) bool {
	log := o.cfg.Logger.With("platform", m.Platform, "chat_id", m.ChatID, "outbox_id", m.ID, "key", m.Key)
	sender := o.cfg.Senders[m.Platform]
	if !o.waitTurn(ctx, m) {
		return false
	}
	sendCtx := ctx
	if o.cfg.Claims != nil {
		// The chat's claim was renewed just before: the send must end
		// while it holds.
		var cancel context.CancelFunc
		sendCtx, cancel = context.WithTimeout(ctx, o.cfg.Claims.TTL()/2)
		defer cancel()
	}
	id, err := sender.Send(sendCtx, m)
	now := o.cfg.Now()
	if err == nil {
		if err := o.cfg.Store.MarkSent(context.WithoutCancel(ctx), m.ID, id, now); err != nil {
			log.Error("message sent but not marked sent; it may repeat once", "err", err)
			return false
		}
		o.forget(m)
		if o.cfg.OnSent != nil {
			o.cfg.OnSent(m)
		}
		log.Debug("message sent", "platform_message_id", id)
		return true
	}
	if ctx.Err() != nil {
		return false // shutting down: the message stays pending
	}
	if o.cfg.OnRetry != nil {
		o.cfg.OnRetry(m, err)
	}
	store := context.WithoutCancel(ctx)
	var se *SendError
	errors.As(err, &se)
	switch {
	case se != nil && se.MigratedTo != "":
		log.Info("chat migrated", "to_chat_id", se.MigratedTo)
		if merr := o.cfg.Store.MigrateChat(store, m.Platform, m.ChatID, se.MigratedTo); merr != nil && !digest.IsNotFound(merr) {
			log.Error("follow chat migration", "err", merr)
			o.retryLater(store, log, m, err, 0)
			return false
		}
		m.ChatID = se.MigratedTo
		return o.send(ctx, m)
	case se != nil && se.Forbidden:
		log.Warn("bot was blocked or removed; chat marked inactive", "err", err)
		if aerr := o.cfg.Store.SetChatActive(store, m.Platform, m.ChatID, false, err.Error()); aerr != nil && !digest.IsNotFound(aerr) {
			log.Error("mark chat inactive", "err", aerr)
		}
		o.failForGood(store, log, m, err)
		return false
	case se != nil && se.ThreadGone && m.ThreadID != "":
		o.failForGood(store, log, m, err)
		o.dropThread(store, log, m)
		return true // the chat is fine: its next message may go
	case se != nil && se.Permanent:
		o.failForGood(store, log, m, err)
		return true // this message is wrong, not the chat: the next may go
	case se != nil && se.RetryAfter > 0:
		key := m.Platform + "/" + m.ChatID
		if se.Global {
			key = m.Platform
		}
		o.mu.Lock()
		o.pausedTo[key] = now.Add(se.RetryAfter)
		o.throttled[m.ID]++
		o.mu.Unlock()
		log.Warn("rate limited by platform", "retry_after", se.RetryAfter, "global", se.Global)
		// A 429 says when to try again, not that the message cannot be
		// delivered: it is recorded, but it never makes the outbox give
		// up, however long the platform throttles.
		if merr := o.cfg.Store.MarkAttemptFailed(store, m.ID, err.Error(), now.Add(se.RetryAfter)); merr != nil {
			log.Error("record failed attempt", "err", merr)
		}
		return false
	default:
		o.retryLater(store, log, m, err, 0)
		return false
	}
}

// dropThread removes the subscription of m's thread, which was deleted:
// its schedule would otherwise build digests that can never arrive.
func (o *Outbox) dropThread(ctx context.Context, log *slog.Logger, m *digest.OutboxMessage) {
	sub, err := o.cfg.Store.FindSubscription(ctx, m.Platform, m.ChatID, m.ThreadID)
	if digest.IsNotFound(err) {
		return // an answer in a thread without a subscription, or removed already
	}
	if err == nil {
		err = o.cfg.Store.DeleteSubscription(ctx, sub.ID)
	}
	if err != nil && !digest.IsNotFound(err) {
		log.Error("remove the subscription of a deleted thread", "thread_id", m.ThreadID, "err", err)
		return
	}
	log.Warn("the thread was deleted; its subscription is removed", "thread_id", m.ThreadID, "subscription_id", sub.ID)
}

// waitTurn waits for the platform's global bucket. It returns false,
// leaving m for a later round, when ctx ends first.
func (o *Outbox) waitTurn(ctx context.Context, m *digest.OutboxMessage) bool {
	o.mu.Lock()
	global := o.global[m.Platform]
	o.mu.Unlock()
	return global == nil || global.Wait(ctx) == nil
}

func (o *Outbox) chatLimiter(platform, chat string) *chatLimit {
	k := platform + "/" + chat
	if cl, ok := o.chats[k]; ok {
		return cl
	}
	l := o.cfg.Limits[platform]
	cl := &chatLimit{}
	if l.PerChat > 0 {
		cl.chat = rate.NewLimiter(l.PerChat, max(l.PerChatBurst, 1))
	}
	if l.PerGroup > 0 && l.IsGroup != nil && l.IsGroup(chat) {
		cl.group = rate.NewLimiter(l.PerGroup, max(l.PerGroupBurst, 1))
	}
	o.chats[k] = cl
	return cl
}

// retryLater schedules another attempt after wait, or after a capped,
// jittered exponential back-off when wait is zero; past MaxAttempts the
// message is marked failed, which /status and the logs show.
func (o *Outbox) retryLater(ctx context.Context, log *slog.Logger, m *digest.OutboxMessage, err error, wait time.Duration) {
	o.mu.Lock()
	failed := m.Attempts - o.throttled[m.ID] // 429s are no failures
	o.mu.Unlock()
	if failed+1 >= o.cfg.MaxAttempts {
		o.failForGood(ctx, log, m, fmt.Errorf("gave up after %d attempts: %w", failed+1, err))
		return
	}
	if wait <= 0 {
		wait = Backoff(failed, o.cfg.MaxBackoff)
	}
	if merr := o.cfg.Store.MarkAttemptFailed(ctx, m.ID, err.Error(), o.cfg.Now().Add(wait)); merr != nil {
		log.Error("record failed attempt", "err", merr)
	}
	log.Warn("send failed; will retry", "err", err, "attempt", failed+1, "retry_in", wait)
}

// forget drops what the outbox remembers about a message that is done.
func (o *Outbox) forget(m *digest.OutboxMessage) {
	o.mu.Lock()
	delete(o.throttled, m.ID)
	o.mu.Unlock()
}

func (o *Outbox) failForGood(ctx context.Context, log *slog.Logger, m *digest.OutboxMessage, err error) {
	o.forget(m)
	if merr := o.cfg.Store.MarkAttemptFailed(ctx, m.ID, err.Error(), time.Time{}); merr != nil {
		log.Error("record failed message", "err", merr)
	}
	log.Error("message not delivered", "err", err)
}

// Backoff is the wait before attempt n+1: 2^n seconds with ±25% jitter,
// capped at limit.
func Backoff(n int, limit time.Duration) time.Duration {
	d := time.Second << min(n, 20)
	if d > limit {
		d = limit
	}
	return time.Duration(float64(d) * (0.75 + rand.Float64()/2))
}
