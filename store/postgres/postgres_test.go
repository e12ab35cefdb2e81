package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/store/storetest"
)

// serverURL returns the test server's URL, or skips: these tests need a
// real PostgreSQL (scripts/pgtest.sh starts a throwaway one).
func serverURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("HERALD_TEST_POSTGRES")
	if u == "" {
		tb.Skip("HERALD_TEST_POSTGRES is not set: start a throwaway server with " +
			"`export HERALD_TEST_POSTGRES=$(scripts/pgtest.sh start)` to run the PostgreSQL store tests")
	}
	return u
}

// admin runs a statement on the test server outside any store.
func admin(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, serverURL(tb))
	if err != nil {
		tb.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// freshSchema creates an empty schema that is dropped when the test ends,
// and returns the server URL that makes it the connections' search_path:
// every test gets a database of its own.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	_, u := newSchema(tb)
	return u
}

// newSchema is freshSchema, also returning the schema's name.
func newSchema(tb testing.TB) (schema, u string) {
	tb.Helper()
	base := serverURL(tb)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	schema = "herald_test_" + hex.EncodeToString(b[:])
	admin(tb, "CREATE SCHEMA "+schema)
	tb.Cleanup(func() { admin(tb, "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })
	return schema, withSearchPath(tb, base, schema)
}

func withSearchPath(tb testing.TB, base, schema string) string {
	tb.Helper()
	if !strings.Contains(base, "://") { // key=value form
		return base + " search_path=" + schema
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("HERALD_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openURL(tb testing.TB, u string) *DB {
	tb.Helper()
	db, err := Open(context.Background(), u)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func open(tb testing.TB) digest.Store {
	tb.Helper()
	return openURL(tb, freshSchema(tb))
}

func TestContract(t *testing.T) {
	serverURL(t)
	storetest.Run(t, open)
}

func TestOpenMigratesAndReopens(t *testing.T) {
	ctx := context.Background()
	u := freshSchema(t)
	db := openURL(t, u)
	if v, err := db.Version(ctx); err != nil || v != SchemaVersion() {
		t.Fatalf("version = %d, %v; want %d", v, err, SchemaVersion())
	}
	if err := db.CreateFeed(ctx, &digest.Feed{URL: "https://a.example/feed"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	again := openURL(t, u)
	if _, err := again.FindFeedByURL(ctx, "https://a.example/feed"); err != nil {
		t.Fatalf("feed lost across reopen: %v", err)
	}
}

// TestOpenConcurrently starts several stores on one new database at once,
// as replicas do: the advisory lock lets one migrate while the others wait,
// and every one of them ends up on the current schema.
func TestOpenConcurrently(t *testing.T) {
	u := freshSchema(t)
	const replicas = 4
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	dbs := make([]*DB, replicas)
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = Open(context.Background(), u)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
			continue
		}
		defer dbs[i].Close()
		if v, err := dbs[i].Version(context.Background()); err != nil || v != SchemaVersion() {
			t.Errorf("replica %d: version %d, %v", i, v, err)
		}
	}
	// Each migration was recorded once.
	conn := connect(t, u)
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != SchemaVersion() {
		t.Errorf("schema_migrations has %d rows, want %d", n, SchemaVersion())
	}
}

func connect(tb testing.TB, u string) *pgx.Conn {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// schemaState describes everything in the test's schema: each relation
// with its kind, each table's number of rows, and the recorded migrations,
// so that a refused open can be shown to have changed nothing.
func schemaState(tb testing.TB, conn *pgx.Conn) string {
	tb.Helper()
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT c.relname, c.relkind FROM pg_class c
		WHERE c.relnamespace = current_schema()::regnamespace ORDER BY c.relname`)
	if err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	var tables []string
	for rows.Next() {
		var name string
		var kind byte
		if err := rows.Scan(&name, &kind); err != nil {
			tb.Fatal(err)
		}
		b.WriteString(name + ":" + string(rune(kind)) + "\n")
		if kind == 'r' {
			tables = append(tables, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	for _, table := range tables {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
			tb.Fatal(err)
		}
		b.WriteString(table + " rows " + strconv.Itoa(n) + "\n")
	}
	var migrations string
	err = conn.QueryRow(ctx, `SELECT coalesce(string_agg(version || ' ' || name || ' ' || applied_at, '; ' ORDER BY version), '')
		FROM schema_migrations`).Scan(&migrations)
	if err != nil {
		tb.Fatal(err)
	}
	b.WriteString("migrations " + migrations + "\n")
	return b.String()
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, u string, conn *pgx.Conn)
	}{
		{"a database this Herald migrated before", func(t *testing.T, u string, conn *pgx.Conn) {
			db := openURL(t, u)
			if err := db.CreateFeed(context.Background(), &digest.Feed{URL: "https://kept.example/feed"}); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}},
		{"a database only a newer Herald wrote", func(t *testing.T, u string, conn *pgx.Conn) {
			if _, err := conn.Exec(context.Background(), `CREATE TABLE schema_migrations (
				version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			u := freshSchema(t)
			conn := connect(t, u)
			tc.setup(t, u, conn)
			// Pretend a newer Herald migrated this database.
			newer := SchemaVersion() + 1
			if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')`, newer); err != nil {
				t.Fatal(err)
			}
			before := schemaState(t, conn)

			db, err := Open(ctx, u)
			if err == nil {
				db.Close()
				t.Fatal("Open accepted a database with a newer schema")
			}
			if digest.ErrorCode(err) != digest.ECONFLICT {
				t.Errorf("error code = %q, want %q", digest.ErrorCode(err), digest.ECONFLICT)
			}
			msg := err.Error()
			for _, want := range []string{"schema version " + strconv.Itoa(newer), "newer than this Herald supports", "upgrade Herald"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if after := schemaState(t, conn); after != before {
				t.Errorf("refusing a newer database still changed it:\nbefore\n%s\nafter\n%s", before, after)
			}
		})
	}
}

func TestOpenErrorsHideThePassword(t *testing.T) {
	u, err := url.Parse(serverURL(t))
	if err != nil {
		t.Skipf("HERALD_TEST_POSTGRES is not a URL: %v", err)
	}
	u.User = url.UserPassword("nobody", "s3cret-Passw0rd")
	u.Host = "127.0.0.1:1" // nothing listens there
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := Open(ctx, u.String())
	if err == nil {
		db.Close()
		t.Fatal("Open succeeded against a closed port")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error shows the password: %v", err)
	}
	for _, bad := range []string{"postgres://nobody:s3cret-Passw0rd@[::1", "host=x password=s3cret-Passw0rd port=notaport"} {
		_, err := Open(ctx, bad)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open with a malformed URL: %v, want an error without the password", err)
		}
	}
}

func TestOpenRefusesNonUTF8Database(t *testing.T) {
	base, err := url.Parse(serverURL(t))
	if err != nil || base.Scheme == "" {
		t.Skipf("HERALD_TEST_POSTGRES is not a URL: %v", err)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "herald_latin1_" + hex.EncodeToString(b[:])
	admin(t, "CREATE DATABASE "+name+" ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
	t.Cleanup(func() { admin(t, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u := *base
	u.Path = "/" + name
	db, err := Open(context.Background(), u.String())
	if err == nil {
		db.Close()
		t.Fatal("Open accepted a LATIN1 database")
	}
	if !strings.Contains(err.Error(), "UTF8") {
		t.Errorf("error %q does not say the database must be UTF8", err)
	}
	var tables int
	if err := connect(t, u.String()).QueryRow(context.Background(),
		`SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("the refused database holds %d relations, want none", tables)
	}
}
