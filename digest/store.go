package digest

import (
	"context"
	"time"
)

// Every store method takes a context first and returns *Error values with
// ENOTFOUND, ECONFLICT or EINVALID where the contract says so; any other
// error is an internal failure of the storage itself.

// FeedStore persists feeds and their fetch state.
type FeedStore interface {
	// CreateFeed inserts f, setting f.ID and, when zero, f.CreatedAt.
	// It returns ECONFLICT when a feed with the same URL exists.
	CreateFeed(ctx context.Context, f *Feed) error

	// FindFeedByID returns the feed, or ENOTFOUND.
	FindFeedByID(ctx context.Context, id int64) (*Feed, error)

	// FindFeedByURL returns the feed with exactly this URL, or ENOTFOUND.
	FindFeedByURL(ctx context.Context, url string) (*Feed, error)

	// ListFeeds returns the feeds matching the filter, ordered by ID.
	ListFeeds(ctx context.Context, filter FeedFilter) ([]*Feed, error)

	// UpdateFeed saves every field of f except ID, URL, CreatedAt and
	// Articles. It returns ENOTFOUND when f.ID does not exist.
	UpdateFeed(ctx context.Context, f *Feed) error

	// DeleteFeed removes the feed and its links to articles and
	// subscriptions. Articles stay: they may belong to other feeds, and
	// they remain searchable and keep the seen-set. ENOTFOUND if absent.
	DeleteFeed(ctx context.Context, id int64) error
}

// ArticleStore persists articles. Key is the identity: an article is stored
// once however many feeds carry it.
type ArticleStore interface {
	// SaveArticles stores the articles seen in feed feedID in one
	// transaction. An article whose Key is already stored is not inserted
	// again (it is only linked to feedID); the others are inserted with
	// FeedID set to feedID and returned with their ID set, in input order.
	// It returns ENOTFOUND if the feed does not exist and EINVALID for an
	// article without a Key.
	SaveArticles(ctx context.Context, feedID int64, articles []*Article) (inserted []*Article, err error)

	// FindArticleByID returns the article, or ENOTFOUND.
	FindArticleByID(ctx context.Context, id int64) (*Article, error)

	// FindArticleByKey returns the article with this identity key, or
	// ENOTFOUND.
	FindArticleByKey(ctx context.Context, key string) (*Article, error)

	// ListArticles returns the articles matching the filter, ordered by ID.
	ListArticles(ctx context.Context, filter ArticleFilter) ([]*Article, error)

	// ArticleFeeds returns the IDs of every feed an article is linked to.
	ArticleFeeds(ctx context.Context, articleID int64) ([]int64, error)
}

// StoryStore persists story membership decided by the clusterer.
type StoryStore interface {
	// AssignStories puts each article into its story in one transaction,
	// creating stories that do not exist yet (a story's ID is the ID of
	// its founding article). ENOTFOUND if an article does not exist.
	AssignStories(ctx context.Context, assignments []StoryAssignment, at time.Time) error

	// MergeStories moves every member of m.From into m.Into, deletes
	// m.From and records the merge. ENOTFOUND if either story is absent;
	// EINVALID if From equals Into.
	MergeStories(ctx context.Context, m StoryMerge) error

	// FindStoryByID returns the story, or ENOTFOUND.
	FindStoryByID(ctx context.Context, id int64) (*Story, error)

	// ListStories returns the stories matching the filter, most recently
	// updated first (newest story first among equals).
	ListStories(ctx context.Context, filter StoryFilter) ([]*Story, error)

	// StoryMerges returns the recorded merges into story into, oldest first.
	StoryMerges(ctx context.Context, into int64) ([]StoryMerge, error)
}

// SubscriptionStore persists chats and their subscriptions.
type SubscriptionStore interface {
	// UpsertChat creates the chat or updates its Kind and Title. It does
	// not change Active; use SetChatActive.
	UpsertChat(ctx context.Context, c *Chat) error

	// FindChat returns the chat, or ENOTFOUND.
	FindChat(ctx context.Context, platform, id string) (*Chat, error)

	// MigrateChat moves a chat, its subscriptions and its undelivered
	// messages to a new id, as when Telegram upgrades a group to a
	// supergroup. ENOTFOUND if the chat does not exist; ECONFLICT if the
	// new id is taken.
	MigrateChat(ctx context.Context, platform, from, to string) error

	// SetChatActive marks a chat active or inactive, with the reason.
	// ENOTFOUND if the chat does not exist.
	SetChatActive(ctx context.Context, platform, id string, active bool, reason string) error

	// CreateSubscription inserts s (its chat must exist), setting s.ID and,
	// when zero, s.CreatedAt. ECONFLICT if the chat and thread already
	// have a subscription; ENOTFOUND if the chat or a feed does not exist.
	CreateSubscription(ctx context.Context, s *Subscription) error

	// FindSubscriptionByID returns the subscription, or ENOTFOUND.
	FindSubscriptionByID(ctx context.Context, id int64) (*Subscription, error)

	// FindSubscription returns the subscription of a chat and thread, or
	// ENOTFOUND.
	FindSubscription(ctx context.Context, platform, chatID, threadID string) (*Subscription, error)

	// ListSubscriptions returns the subscriptions matching the filter,
	// ordered by ID.
	ListSubscriptions(ctx context.Context, filter SubscriptionFilter) ([]*Subscription, error)

	// UpdateSubscription saves Filters, Schedule, TimeZone, Limit and
	// LastDigestAt. ENOTFOUND if s.ID does not exist.
	UpdateSubscription(ctx context.Context, s *Subscription) error

	// AddSubscriptionFeed makes the subscription follow a feed. ECONFLICT
	// if it already does; ENOTFOUND if either does not exist.
	AddSubscriptionFeed(ctx context.Context, subscriptionID, feedID int64) error

	// RemoveSubscriptionFeed stops following a feed. ENOTFOUND if the
	// subscription did not follow it.
	RemoveSubscriptionFeed(ctx context.Context, subscriptionID, feedID int64) error

	// DeleteSubscription removes the subscription. ENOTFOUND if absent.
	DeleteSubscription(ctx context.Context, id int64) error

	// RecordStoryDeliveries remembers which stories a subscription's digest
	// carried, replacing earlier records of the same stories. ENOTFOUND if
	// the subscription does not exist.
	RecordStoryDeliveries(ctx context.Context, subscriptionID int64, deliveries []StoryDelivery, at time.Time) error

	// StoryDeliveries returns, for those of storyIDs that a subscription's
	// digests carried before, the source count recorded then. Merged
	// stories keep the record of the story they were merged into.
	StoryDeliveries(ctx context.Context, subscriptionID int64, storyIDs []int64) (map[int64]int, error)
}

// OutboxStore persists messages to deliver.
type OutboxStore interface {
	// EnqueueMessages inserts the messages in one transaction, setting
	// their ID, Status (pending), NextAttemptAt and CreatedAt when zero. If
	// any message's Key is already stored, nothing is inserted and it
	// returns ECONFLICT: a delivery is enqueued once.
	EnqueueMessages(ctx context.Context, msgs []*OutboxMessage) error

	// EnqueueDigest enqueues the parts of one scheduled digest, records
	// the stories it carries and sets the subscription's LastDigestAt to
	// windowEnd, all in one transaction: a slot's digest is built once.
	// ECONFLICT if any part's key was enqueued before (nothing changes);
	// ENOTFOUND if the subscription does not exist.
	EnqueueDigest(ctx context.Context, subscriptionID int64, parts []*OutboxMessage, deliveries []StoryDelivery, windowEnd time.Time) error

	// ListOutbox returns the messages matching the filter, ordered by ID
	// (newest first with filter.Newest).
	ListOutbox(ctx context.Context, filter OutboxFilter) ([]*OutboxMessage, error)

	// MarkSent records that the platform confirmed message id.
	// ENOTFOUND if absent; ECONFLICT if it is not pending.
	MarkSent(ctx context.Context, id int64, platformID string, at time.Time) error

	// MarkAttemptFailed records a failed attempt: the message is retried
	// at next, or marked failed for good when next is zero. ENOTFOUND if
	// absent; ECONFLICT if it is not pending.
	MarkAttemptFailed(ctx context.Context, id int64, reason string, next time.Time) error
}

// StateStore keeps small named values that must survive restarts, such as a
// chat adapter's update offset.
type StateStore interface {
	// State returns the value stored under key, or ENOTFOUND.
	State(ctx context.Context, key string) (string, error)

	// SetState stores value under key, replacing any previous value.
	SetState(ctx context.Context, key, value string) error
}

// Store is everything Herald persists. store/sqlite and store/postgres
// implement it; store/storetest holds the contract both must pass.
type Store interface {
	FeedStore
	ArticleStore
	StoryStore
	SubscriptionStore
	OutboxStore
	StateStore
	SearchStore
	LeaseStore

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error

	// Close releases the store's resources.
	Close() error
}
