-- The articles no story holds yet, kept by triggers, so that the clusterer's
-- question "which articles of the last days are unassigned?" (ListArticles
-- with Unassigned and Since, asked every few seconds) reads only those.
-- Asked of articles and article_stories, it is an anti-join that no index
-- serves: PostgreSQL scanned all of article_stories for every call (200,000
-- articles: 30-50 ms with 10,000 in the window, 115-420 ms with all of them
-- in it; measured). A partial index cannot say "no row in another table",
-- and a column on articles would rewrite the row, and recompute its search
-- vector, on every assignment (see article_stories in migration 0001).
CREATE TABLE unclustered_articles (
	article_id bigint PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
	first_seen timestamptz NOT NULL
);
CREATE INDEX unclustered_articles_first_seen ON unclustered_articles (first_seen);

INSERT INTO unclustered_articles (article_id, first_seen)
SELECT a.id, a.first_seen FROM articles a
WHERE NOT EXISTS (SELECT 1 FROM article_stories s WHERE s.article_id = a.id);

-- Statement triggers with transition tables: one INSERT or DELETE per
-- statement, however many rows it wrote (SaveArticles and AssignStories
-- write a batch in one statement).
CREATE FUNCTION herald_articles_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO unclustered_articles (article_id, first_seen)
	SELECT n.id, n.first_seen FROM herald_new n
	WHERE NOT EXISTS (SELECT 1 FROM article_stories s WHERE s.article_id = n.id)
	ON CONFLICT (article_id) DO NOTHING;
	RETURN NULL;
END $$;

CREATE FUNCTION herald_articles_clustered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM unclustered_articles u USING herald_new n WHERE u.article_id = n.article_id;
	RETURN NULL;
END $$;

-- An article that leaves its story without being deleted is unassigned
-- again. (Herald never does this today; a deleted article has no row in
-- articles left to join when this runs.)
CREATE FUNCTION herald_articles_unclustered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO unclustered_articles (article_id, first_seen)
	SELECT a.id, a.first_seen FROM herald_old o JOIN articles a ON a.id = o.article_id
	ON CONFLICT (article_id) DO NOTHING;
	RETURN NULL;
END $$;

CREATE TRIGGER articles_added AFTER INSERT ON articles
	REFERENCING NEW TABLE AS herald_new
	FOR EACH STATEMENT EXECUTE FUNCTION herald_articles_added();
CREATE TRIGGER article_stories_added AFTER INSERT ON article_stories
	REFERENCING NEW TABLE AS herald_new
	FOR EACH STATEMENT EXECUTE FUNCTION herald_articles_clustered();
CREATE TRIGGER article_stories_removed AFTER DELETE ON article_stories
	REFERENCING OLD TABLE AS herald_old
	FOR EACH STATEMENT EXECUTE FUNCTION herald_articles_unclustered();
