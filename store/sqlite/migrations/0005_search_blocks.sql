-- search_blocks keeps, for each block of 256 consecutive article IDs, the
-- earliest and the latest publication time in the block. Articles are
-- stored about as they are published, so a block's times are close to
-- those of each of its articles, and a search uses them twice:
--
--  - A search multiplies each article's relevance by a recency boost, so
--    it needs the publication time of every candidate that could reach
--    the page, and reading it from the article row costs an index lookup
--    per candidate, about as much as FTS5's own ranking of it. A block's
--    latest time bounds the boost of each of its articles, so a search
--    reads the article rows only of the candidates whose bound can still
--    reach the page.
--  - since: and before: become a range of article IDs, the blocks that
--    can hold articles published in the window, found through the two
--    indexes below: since: walks the blocks that hold articles published
--    at or after it, before: those that hold articles published before
--    it. A search then walks only the matches in that range.
--
-- The times may only be too wide, never too narrow: a deleted article
-- leaves them as they were, and so does a publication time changed later,
-- which only widens them.
CREATE TABLE search_blocks (
	block  INTEGER PRIMARY KEY, -- article ID >> 8
	oldest INTEGER NOT NULL,    -- earliest published in the block, Unix microseconds
	newest INTEGER NOT NULL     -- latest published in the block
);
CREATE INDEX search_blocks_newest ON search_blocks (newest, block);
CREATE INDEX search_blocks_oldest ON search_blocks (oldest, block);

CREATE TRIGGER articles_search_block_insert AFTER INSERT ON articles BEGIN
	INSERT INTO search_blocks (block, oldest, newest) VALUES (new.id >> 8, new.published, new.published)
	ON CONFLICT (block) DO UPDATE SET oldest = min(oldest, excluded.oldest), newest = max(newest, excluded.newest);
END;

CREATE TRIGGER articles_search_block_update AFTER UPDATE OF published ON articles BEGIN
	INSERT INTO search_blocks (block, oldest, newest) VALUES (new.id >> 8, new.published, new.published)
	ON CONFLICT (block) DO UPDATE SET oldest = min(oldest, excluded.oldest), newest = max(newest, excluded.newest);
END;

INSERT INTO search_blocks (block, oldest, newest)
SELECT id >> 8, min(published), max(published) FROM articles GROUP BY id >> 8;

-- The blocks give since: and before: their range of IDs; the index on
-- published that did so before is read by nothing else, and every article
-- written kept it up.
DROP INDEX articles_published;
