-- A search multiplies each article's relevance by a recency boost, so it
-- needs the publication time of every candidate that could reach the page.
-- Reading it from the article row costs an index lookup per candidate,
-- about as much as FTS5's own ranking of that candidate. search_blocks
-- keeps, for each block of 256 consecutive article IDs, the latest
-- publication time in the block: from it a search bounds the boost of
-- every candidate in the block, and reads the article rows only of the
-- candidates whose bound can still reach the page. Articles are stored
-- about as they are published, so a block's bound is close to the boost of
-- each of its articles.
--
-- The bound may only be too high, never too low: a deleted article leaves
-- it as it was, and a search treats a block missing here as boosted to
-- the full.
CREATE TABLE search_blocks (
	block  INTEGER PRIMARY KEY, -- article ID >> 8
	newest INTEGER NOT NULL     -- latest published in the block, Unix microseconds
);

CREATE TRIGGER articles_search_block_insert AFTER INSERT ON articles BEGIN
	INSERT INTO search_blocks (block, newest) VALUES (new.id >> 8, new.published)
	ON CONFLICT (block) DO UPDATE SET newest = max(newest, excluded.newest);
END;

CREATE TRIGGER articles_search_block_update AFTER UPDATE OF published ON articles BEGIN
	INSERT INTO search_blocks (block, newest) VALUES (new.id >> 8, new.published)
	ON CONFLICT (block) DO UPDATE SET newest = max(newest, excluded.newest);
END;

INSERT INTO search_blocks (block, newest)
SELECT id >> 8, max(published) FROM articles GROUP BY id >> 8;
