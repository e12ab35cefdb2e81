package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	// The tests need an administrative connection, to create and drop a
	// database of their own, which no store offers; the herald binary
	// itself reaches PostgreSQL only through store/postgres.
	"github.com/jackc/pgx/v5"

	"github.com/seed-c50b6fda/herald/store/postgres"
)

// freshDatabase creates an empty database on the server HERALD_TEST_POSTGRES
// names (scripts/pgtest.sh starts a throwaway one), drops it when the test
// ends, and returns its URL with the password given, if any: every test
// sees only its own rows. It skips the test when the variable is unset.
func freshDatabase(tb testing.TB, password string) string {
	tb.Helper()
	server := os.Getenv("HERALD_TEST_POSTGRES")
	if server == "" {
		tb.Skip("HERALD_TEST_POSTGRES is not set: start a throwaway server with " +
			"`export HERALD_TEST_POSTGRES=$(scripts/pgtest.sh start)` to run herald's commands on PostgreSQL")
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Skipf("HERALD_TEST_POSTGRES is not a postgres:// URL (%v); these tests need one", err)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "herald_cmd_" + hex.EncodeToString(b[:])
	pgAdmin(tb, server, "CREATE DATABASE "+name+" ENCODING 'UTF8' TEMPLATE template0")
	tb.Cleanup(func() { pgAdmin(tb, server, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u.Path = "/" + name
	if password != "" {
		u.User = url.UserPassword(u.User.Username(), password)
	}
	return u.String()
}

// pgAdmin runs one statement on the database at u, outside any store.
func pgAdmin(tb testing.TB, u, sql string, args ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		tb.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// pgEnv is the environment of a herald run on the database at u that may
// fetch from httptest servers on 127.0.0.1.
func pgEnv(u string) map[string]string {
	return map[string]string{
		"HERALD_DATABASE":            u,
		"HERALD_FETCH_ALLOW_PRIVATE": "1",
		"HERALD_LOG_LEVEL":           "error",
	}
}

func TestPostgresCommands(t *testing.T) {
	u := freshDatabase(t, "")
	env := pgEnv(u)
	r := mustRun(t, env, "migrate")
	if want := fmt.Sprintf("is at schema version %d\n", postgres.SchemaVersion()); !strings.HasSuffix(r.stdout, want) {
		t.Errorf("migrate printed %q, want it to end %q", r.stdout, want)
	}
	// Migrating again finds nothing to do.
	if again := mustRun(t, env, "migrate"); again.stdout != r.stdout {
		t.Errorf("second migrate printed %q, first %q", again.stdout, r.stdout)
	}

	srv := newFeedServer(t)
	good := srv.set("/good.xml", "Good News", "a", "b", "c")
	r = mustRun(t, env, "feeds", "add", good, "--name", "good")
	if want := "added feed 1: Good News (" + good + ") with 3 item(s)"; !strings.Contains(r.stdout, want) {
		t.Errorf("feeds add printed %q, want %q", r.stdout, want)
	}
	mustRun(t, env, "feeds", "add", "https://other.example/atom", "--no-fetch")
	r = herald(t, env, "feeds", "add", good)
	if r.code != 1 || !strings.Contains(r.stderr, "already added") {
		t.Errorf("adding a feed twice: code %d, stderr %q", r.code, r.stderr)
	}
	feeds := listFeeds(t, env)
	if len(feeds) != 2 || feeds[0].URL != good || feeds[0].Name != "good" || feeds[0].Status != "ok" ||
		feeds[0].Articles != 3 || feeds[1].URL != "https://other.example/atom" || feeds[1].Status != "new" {
		t.Fatalf("feeds = %+v", feeds)
	}
	r = mustRun(t, env, "search", "Story", "b")
	if !strings.Contains(r.stdout, "Story b") || !strings.Contains(r.stdout, "https://news.example/b") {
		t.Errorf("search on PostgreSQL found no fetched article:\n%s", r.stdout)
	}
	mustRun(t, env, "feeds", "remove", "2")
	if feeds := listFeeds(t, env); len(feeds) != 1 || feeds[0].URL != good {
		t.Errorf("after removing feed 2: %+v", feeds)
	}

	// Another database on the same server sees none of it.
	other := pgEnv(freshDatabase(t, ""))
	if feeds := listFeeds(t, other); len(feeds) != 0 {
		t.Errorf("a fresh database lists %+v", feeds)
	}
}

// TestPostgresPasswordHidden runs commands whose output and errors name
// the database: the password in its URL must appear in neither. The test
// server trusts local connections, so it accepts any password.
func TestPostgresPasswordHidden(t *testing.T) {
	const secret = "s3cret-Passw0rd"
	u := freshDatabase(t, secret)
	env := pgEnv(u)
	noSecret := func(t *testing.T, r result) {
		t.Helper()
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("the password is shown:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
		}
	}
	r := mustRun(t, env, "migrate")
	noSecret(t, r)
	if !strings.Contains(r.stdout, ":***@") {
		t.Errorf("migrate does not name the database with its password hidden: %q", r.stdout)
	}
	noSecret(t, mustRun(t, env, "config", "check"))
	noSecret(t, mustRun(t, env, "feeds", "list"))

	// A server that does not answer: the error names the database, not
	// its password.
	down, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	down.Host = "127.0.0.1:1"
	r = herald(t, pgEnv(down.String()), "feeds", "list")
	if r.code != 1 {
		t.Errorf("feeds list on a closed port: exit %d, want 1", r.code)
	}
	noSecret(t, r)
}

// TestPostgresSchemaVersions upgrades a database an older Herald wrote and
// refuses one a newer Herald wrote, without touching it.
func TestPostgresSchemaVersions(t *testing.T) {
	current := postgres.SchemaVersion()
	if current < 2 {
		t.Skip("only one schema version so far")
	}
	u := freshDatabase(t, "")
	env := pgEnv(u)
	mustRun(t, env, "feeds", "add", "https://kept.example/feed", "--no-fetch")

	// Take the database back to version 1, as Herald left it before the
	// leases of version 2 and the unassigned articles of version 3.
	pgAdmin(t, u, `DROP TABLE leases, unclustered_articles`)
	pgAdmin(t, u, `DROP FUNCTION herald_articles_added, herald_articles_clustered, herald_articles_unclustered CASCADE`)
	pgAdmin(t, u, `DELETE FROM schema_migrations WHERE version >= 2`)
	r := mustRun(t, env, "migrate")
	if want := fmt.Sprintf("is at schema version %d\n", current); !strings.HasSuffix(r.stdout, want) {
		t.Errorf("migrate from version 1 printed %q, want it to end %q", r.stdout, want)
	}
	if feeds := listFeeds(t, env); len(feeds) != 1 || feeds[0].URL != "https://kept.example/feed" {
		t.Errorf("after the upgrade, feeds = %+v", feeds)
	}

	pgAdmin(t, u, `INSERT INTO schema_migrations (version, name) VALUES ($1, 'from a newer Herald')`, current+1)
	for _, args := range [][]string{{"migrate"}, {"feeds", "list"}} {
		r := herald(t, env, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "schema version "+strconv.Itoa(current+1)) ||
			!strings.Contains(r.stderr, "newer than this Herald supports") {
			t.Errorf("herald %s on a newer database: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}
