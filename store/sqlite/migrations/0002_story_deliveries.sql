-- Which stories each subscription's digests carried, and how many sources
-- they had then: a story is repeated only when it grew.
CREATE TABLE story_deliveries (
	subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	story_id        INTEGER NOT NULL,
	sources         INTEGER NOT NULL,
	sent_at         INTEGER NOT NULL,
	PRIMARY KEY (subscription_id, story_id)
) WITHOUT ROWID;
CREATE INDEX story_deliveries_story ON story_deliveries (story_id);
