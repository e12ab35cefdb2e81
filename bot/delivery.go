package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// Renderer turns a message into what a platform's Sender sends: one
// payload per platform message, in order.
type Renderer interface {
	RenderPayloads(m *Message) ([][]byte, error)
}

// Delivery builds scheduled digests and feed notices and puts them in the
// outbox. Building is idempotent per (subscription, slot): the outbox keys
// carry the slot, and the store enqueues a slot's parts, its story records
// and the subscription's new window end in one transaction.
type Delivery struct {
	Store     digest.Store
	Renderers map[string]Renderer // by platform
	Wake      func()              // tells the outbox there is work; may be nil

	DigestLimit int           // stories per digest when the subscription sets none
	FirstWindow time.Duration // window of a subscription's first digest: 24h
	NoticeAfter time.Duration // a feed failing this long gets a notice: 24h

	// OnDigest, when set, observes every digest enqueued (metrics).
	OnDigest func(sub *digest.Subscription, parts int)

	Now    func() time.Time
	Logger *slog.Logger
}

func (d *Delivery) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Delivery) log() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// DigestKey is the outbox key prefix of a subscription's digest for a slot.
func DigestKey(subscriptionID int64, slot string) string {
	return fmt.Sprintf("digest/%d/%s", subscriptionID, slot)
}

// DeliverDigest builds the digest of subscription subID for the slot
// (slot names it, e.g. "2026-03-29T08:00 Europe/Berlin"; at is when it is
// due) and enqueues it. Calling it again for the same slot does nothing.
// A digest with no stories is not sent; the window still moves on.
func (d *Delivery) DeliverDigest(ctx context.Context, subID int64, slot string, at time.Time) error {
	sub, err := d.Store.FindSubscriptionByID(ctx, subID)
	if err != nil {
		return fmt.Errorf("deliver digest %d/%s: %w", subID, slot, err)
	}
	log := d.log().With("platform", sub.Platform, "chat_id", sub.ChatID, "subscription_id", sub.ID, "slot", slot)
	if !sub.LastDigestAt.Before(at) {
		log.Debug("slot already delivered")
		return nil
	}
	renderer, ok := d.Renderers[sub.Platform]
	if !ok {
		return fmt.Errorf("deliver digest %d/%s: no renderer for platform %s", subID, slot, sub.Platform)
	}
	since := sub.LastDigestAt
	if since.IsZero() {
		first := d.FirstWindow
		if first <= 0 {
			first = 24 * time.Hour
		}
		since = at.Add(-first)
	}
	limit := sub.Limit
	if limit <= 0 {
		limit = d.DigestLimit
	}
	b := &digest.Builder{Store: d.Store, Now: d.now}
	dg, err := b.Build(ctx, digest.BuildRequest{
		FeedIDs: sub.FeedIDs, Since: since, Until: at, Filters: sub.Filters, Limit: limit,
		Location: location(sub), SubscriptionID: sub.ID,
	})
	if err != nil {
		return fmt.Errorf("deliver digest %d/%s: %w", subID, slot, err)
	}
	dg.Notices = nil // feed trouble has notices of its own, not a line in every digest
	var parts []*digest.OutboxMessage
	if len(dg.Stories) > 0 {
		payloads, err := renderer.RenderPayloads(&Message{Digest: dg})
		if err != nil {
			return fmt.Errorf("deliver digest %d/%s: render: %w", subID, slot, err)
		}
		key := DigestKey(sub.ID, slot)
		for i, p := range payloads {
			parts = append(parts, &digest.OutboxMessage{
				Key: fmt.Sprintf("%s/%d", key, i+1), Platform: sub.Platform, ChatID: sub.ChatID, ThreadID: sub.ThreadID,
				SubscriptionID: sub.ID, Slot: at, Part: i + 1, Parts: len(payloads), Kind: "digest", Payload: p,
			})
		}
	}
	err = d.Store.EnqueueDigest(ctx, sub.ID, parts, dg.Deliveries(), at)
	if digest.IsConflict(err) {
		log.Debug("slot already enqueued")
		return nil
	}
	if err != nil {
		return fmt.Errorf("deliver digest %d/%s: %w", subID, slot, err)
	}
	if len(parts) == 0 {
		log.Info("no new stories; nothing to send")
		return nil
	}
	log.Info("digest enqueued", "stories", len(dg.Stories), "parts", len(parts))
	if d.OnDigest != nil {
		d.OnDigest(sub, len(parts))
	}
	if d.Wake != nil {
		d.Wake()
	}
	return nil
}

// noticeKey names the notice about one run of failures of a feed in one
// subscription; the run is identified by when it started.
func noticeKey(kind string, subID, feedID int64, since time.Time) string {
	return fmt.Sprintf("notice/%s/%d/%d/%d", kind, subID, feedID, since.UnixMicro())
}

// CheckFeedNotices tells each subscription once when one of its feeds has
// been failing for NoticeAfter, and once when it recovers.
func (d *Delivery) CheckFeedNotices(ctx context.Context) error {
	after := d.NoticeAfter
	if after <= 0 {
		after = 24 * time.Hour
	}
	now := d.now()
	feeds, err := d.Store.ListFeeds(ctx, digest.FeedFilter{})
	if err != nil {
		return fmt.Errorf("check feed notices: %w", err)
	}
	byID := map[int64]*digest.Feed{}
	for _, f := range feeds {
		byID[f.ID] = f
		if f.Status() != digest.FeedFailing || f.FailingSince.IsZero() || now.Sub(f.FailingSince) < after {
			continue
		}
		subs, err := d.Store.ListSubscriptions(ctx, digest.SubscriptionFilter{FeedID: f.ID})
		if err != nil {
			return fmt.Errorf("check feed notices: %w", err)
		}
		for _, sub := range subs {
			msg := say(text(fmt.Sprintf("The feed %s has been failing since %s: %s. Herald keeps retrying; /status shows the state of every feed.",
				f.DisplayName(), formatTime(f.FailingSince, location(sub)), f.LastError)))
			if err := d.notice(ctx, sub, noticeKey("failing", sub.ID, f.ID, f.FailingSince), msg); err != nil {
				return err
			}
		}
	}
	// Recoveries: a failing notice whose feed is healthy again.
	sent, err := d.Store.ListOutbox(ctx, digest.OutboxFilter{Kind: "notice"})
	if err != nil {
		return fmt.Errorf("check feed notices: %w", err)
	}
	recovered := map[string]bool{}
	for _, m := range sent {
		if strings.HasPrefix(m.Key, "notice/recovered/") {
			recovered[strings.TrimPrefix(m.Key, "notice/recovered/")] = true
		}
	}
	for _, m := range sent {
		run, ok := strings.CutPrefix(m.Key, "notice/failing/")
		if !ok || m.Part != 1 || recovered[run] {
			continue
		}
		var subID, feedID, sinceUS int64
		if n, _ := fmt.Sscanf(strings.ReplaceAll(run, "/", " "), "%d %d %d", &subID, &feedID, &sinceUS); n != 3 {
			continue
		}
		f := byID[feedID]
		if f == nil || f.Status() != digest.FeedOK {
			continue // still failing, or removed
		}
		sub, err := d.Store.FindSubscriptionByID(ctx, subID)
		if digest.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("check feed notices: %w", err)
		}
		msg := say(text(fmt.Sprintf("The feed %s works again.", f.DisplayName())))
		if err := d.notice(ctx, sub, "notice/recovered/"+run, msg); err != nil {
			return err
		}
	}
	return nil
}

// notice enqueues msg to a subscription's chat under key, once.
func (d *Delivery) notice(ctx context.Context, sub *digest.Subscription, key string, msg *Message) error {
	renderer, ok := d.Renderers[sub.Platform]
	if !ok {
		return nil // no adapter for the platform in this process
	}
	payloads, err := renderer.RenderPayloads(msg)
	if err != nil {
		return fmt.Errorf("render notice %s: %w", key, err)
	}
	var msgs []*digest.OutboxMessage
	for i, p := range payloads {
		k := key
		if i > 0 {
			k += "/" + strconv.Itoa(i+1)
		}
		msgs = append(msgs, &digest.OutboxMessage{Key: k, Platform: sub.Platform, ChatID: sub.ChatID, ThreadID: sub.ThreadID,
			SubscriptionID: sub.ID, Part: i + 1, Parts: len(payloads), Kind: "notice", Payload: p})
	}
	err = d.Store.EnqueueMessages(ctx, msgs)
	if digest.IsConflict(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueue notice %s: %w", key, err)
	}
	d.log().Info("feed notice enqueued", "key", key, "chat_id", sub.ChatID)
	if d.Wake != nil {
		d.Wake()
	}
	return nil
}
