-- Herald schema, version 1. Times are Unix microseconds (0 means unset).

CREATE TABLE feeds (
	id                 INTEGER PRIMARY KEY,
	url                TEXT    NOT NULL UNIQUE,
	name               TEXT    NOT NULL DEFAULT '',
	title              TEXT    NOT NULL DEFAULT '',
	site_url           TEXT    NOT NULL DEFAULT '',
	language           TEXT    NOT NULL DEFAULT '',
	priority           INTEGER NOT NULL DEFAULT 0,
	created_at         INTEGER NOT NULL,
	etag               TEXT    NOT NULL DEFAULT '',
	last_modified      TEXT    NOT NULL DEFAULT '',
	body_hash          TEXT    NOT NULL DEFAULT '',
	checked_at         INTEGER NOT NULL DEFAULT 0,
	succeeded_at       INTEGER NOT NULL DEFAULT 0,
	next_check_at      INTEGER NOT NULL DEFAULT 0,
	consecutive_errors INTEGER NOT NULL DEFAULT 0,
	last_error         TEXT    NOT NULL DEFAULT '',
	failing_since      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX feeds_next_check ON feeds (next_check_at);

CREATE TABLE stories (
	id         INTEGER PRIMARY KEY, -- the id of the founding article
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX stories_updated ON stories (updated_at);

CREATE TABLE story_merges (
	id         INTEGER PRIMARY KEY,
	from_id    INTEGER NOT NULL,
	into_id    INTEGER NOT NULL,
	article_id INTEGER NOT NULL,
	at         INTEGER NOT NULL
);
CREATE INDEX story_merges_into ON story_merges (into_id);

CREATE TABLE articles (
	id         INTEGER PRIMARY KEY,
	key        TEXT    NOT NULL UNIQUE,
	feed_id    INTEGER REFERENCES feeds (id) ON DELETE SET NULL,
	guid       TEXT    NOT NULL DEFAULT '',
	url        TEXT    NOT NULL DEFAULT '',
	title      TEXT    NOT NULL DEFAULT '',
	summary    TEXT    NOT NULL DEFAULT '',
	content    TEXT    NOT NULL DEFAULT '',
	author     TEXT    NOT NULL DEFAULT '',
	image_url  TEXT    NOT NULL DEFAULT '',
	language   TEXT    NOT NULL DEFAULT '',
	source     TEXT    NOT NULL DEFAULT '',
	published  INTEGER NOT NULL,
	first_seen INTEGER NOT NULL,
	story_id   INTEGER REFERENCES stories (id)
);
CREATE INDEX articles_first_seen ON articles (first_seen);
CREATE INDEX articles_story ON articles (story_id);
CREATE INDEX articles_url ON articles (url);

-- An article is stored once and linked to every feed that carried it.
CREATE TABLE article_feeds (
	feed_id    INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
	article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	first_seen INTEGER NOT NULL,
	PRIMARY KEY (feed_id, article_id)
) WITHOUT ROWID;
CREATE INDEX article_feeds_article ON article_feeds (article_id);

CREATE TABLE chats (
	platform        TEXT    NOT NULL,
	id              TEXT    NOT NULL,
	kind            TEXT    NOT NULL DEFAULT '',
	title           TEXT    NOT NULL DEFAULT '',
	active          INTEGER NOT NULL DEFAULT 1,
	inactive_reason TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	PRIMARY KEY (platform, id)
);

CREATE TABLE subscriptions (
	id             INTEGER PRIMARY KEY,
	platform       TEXT    NOT NULL,
	chat_id        TEXT    NOT NULL,
	thread_id      TEXT    NOT NULL DEFAULT '',
	include        TEXT    NOT NULL DEFAULT '[]', -- JSON array of words and /regexps/
	exclude        TEXT    NOT NULL DEFAULT '[]',
	schedule       TEXT    NOT NULL DEFAULT '',
	time_zone      TEXT    NOT NULL DEFAULT '',
	story_limit    INTEGER NOT NULL DEFAULT 0,
	last_digest_at INTEGER NOT NULL DEFAULT 0,
	created_at     INTEGER NOT NULL,
	UNIQUE (platform, chat_id, thread_id),
	FOREIGN KEY (platform, chat_id) REFERENCES chats (platform, id) ON DELETE CASCADE
);

CREATE TABLE subscription_feeds (
	subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	feed_id         INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
	PRIMARY KEY (subscription_id, feed_id)
) WITHOUT ROWID;
CREATE INDEX subscription_feeds_feed ON subscription_feeds (feed_id);

CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY,
	key             TEXT    NOT NULL UNIQUE,
	platform        TEXT    NOT NULL,
	chat_id         TEXT    NOT NULL,
	thread_id       TEXT    NOT NULL DEFAULT '',
	subscription_id INTEGER NOT NULL DEFAULT 0,
	slot            INTEGER NOT NULL DEFAULT 0,
	part            INTEGER NOT NULL DEFAULT 1,
	parts           INTEGER NOT NULL DEFAULT 1,
	kind            TEXT    NOT NULL,
	payload         BLOB    NOT NULL,
	status          TEXT    NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_error      TEXT    NOT NULL DEFAULT '',
	platform_id     TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	sent_at         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE state (
	key        TEXT    PRIMARY KEY,
	value      TEXT    NOT NULL,
	updated_at INTEGER NOT NULL
);
