// Package postgres owns Herald's PostgreSQL store: digest.Store on a
// PostgreSQL database through pgx, for operators who run several Herald
// replicas on one database. Versioned migrations are embedded in the binary
// and applied at open, in one transaction under an advisory lock so that
// replicas starting together migrate once; a database written by a newer
// Herald is refused and left untouched. Full-text search uses a weighted
// tsvector column with a GIN index (see search.go).
//
// It needs PostgreSQL 14 or later, built with ICU (as the packages of
// Debian, Ubuntu, the official container images and the managed services
// are), and a UTF8 database.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/seed-c50b6fda/herald/digest"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the key of the advisory lock held while migrating: the
// first 8 bytes of sha256("herald schema migrations").
const migrationLock int64 = 0x2f9c_4e1a_7b3d_5a60

// minServerVersion is the oldest PostgreSQL this store runs on (14: SQL
// function bodies bound at creation, used by the search migration).
const minServerVersion = 140000

// sessionDefaults are settings of Herald's sessions, unless the URL sets
// them. Herald's statements are small; a parallel plan for one of them
// (which PostgreSQL picks for a rare word on a small table, scanning every
// row) or JIT compilation (100 ms and more, for a plan it thinks costly)
// costs far more than it saves, and parallel workers taken by one search
// are missing for the other replicas' statements.
var sessionDefaults = map[string]string{
	"max_parallel_workers_per_gather": "0",
	"jit":                             "off",
}

// DB is a Herald store on a PostgreSQL database. It is safe for concurrent
// use, also by several processes on the same database.
type DB struct {
	pool *pgxpool.Pool
	name string // the database without its password, for messages

	// Now is the clock used for timestamps the store sets itself.
	Now func() time.Time
}

var _ digest.Store = (*DB)(nil)

// migration is one numbered schema step.
type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: name must start with a number and an underscore", e.Name())
		}
		data, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(data)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return out, nil
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		panic(err) // the embedded files are part of the binary
	}
	return len(ms)
}

// Open connects to the database at url (postgres://user:password@host/db,
// or any connection string pgx accepts) and migrates it to the current
// schema. It refuses, without writing, a database whose schema is newer
// than this build knows. Errors never contain the password.
func Open(ctx context.Context, url string) (*DB, error) {
	if url == "" {
		return nil, errors.New("open postgres: empty database URL")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message masks the password.
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	cc := cfg.ConnConfig
	name := fmt.Sprintf("postgres://%s@%s:%d/%s", cc.User, cc.Host, cc.Port, cc.Database)
	for param, value := range sessionDefaults {
		if _, set := cc.RuntimeParams[param]; !set {
			cc.RuntimeParams[param] = value
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	db := &DB{pool: pool, name: name, Now: time.Now}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// migrate checks the server and the schema version, then applies the
// missing migrations in one transaction holding migrationLock: replicas
// that start at once wait for the first and find the work done.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if err := db.checkServer(ctx); err != nil {
		return err
	}
	current, err := schemaVersion(ctx, db.pool)
	if err != nil {
		return fmt.Errorf("open %s: read schema version: %w", db.name, err)
	}
	if err := db.checkNotNewer(current, len(ms)); err != nil || current == len(ms) {
		return err
	}
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		// Re-read under the lock: another replica may have migrated
		// while we waited.
		v, err := schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		if err := db.checkNotNewer(v, len(ms)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		for _, m := range ms[v:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				if pgCode(err) == "0A000" && strings.Contains(err.Error(), "ICU") {
					return fmt.Errorf("apply %s: this PostgreSQL server was built without ICU, which Herald's search needs: %w", m.name, err)
				}
				return fmt.Errorf("apply %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return fmt.Errorf("apply %s: %w", m.name, err)
			}
		}
		return nil
	})
	if err != nil {
		if digest.ErrorCode(err) != digest.EINTERNAL {
			return err
		}
		return fmt.Errorf("migrate %s: %w", db.name, err)
	}
	return nil
}

// checkServer refuses servers and databases the schema cannot live on,
// with a message that says what to change.
func (db *DB) checkServer(ctx context.Context) error {
	var version int
	var encoding string
	err := db.pool.QueryRow(ctx, `SELECT current_setting('server_version_num')::int, current_setting('server_encoding')`).
		Scan(&version, &encoding)
	if err != nil {
		return fmt.Errorf("open %s: %w", db.name, err)
	}
	if version < minServerVersion {
		return fmt.Errorf("open %s: PostgreSQL %d.%d is too old; Herald needs PostgreSQL 14 or later", db.name, version/10000, version%10000)
	}
	if encoding != "UTF8" {
		return fmt.Errorf("open %s: the database uses encoding %s; Herald needs a UTF8 database (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)", db.name, encoding)
	}
	return nil
}

func (db *DB) checkNotNewer(current, known int) error {
	if current > known {
		return digest.Errorf(digest.ECONFLICT,
			"database %s has schema version %d, newer than this Herald supports (%d); it was written by a newer Herald: upgrade Herald, or use another database",
			db.name, current, known)
	}
	return nil
}

// querier is what both a pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// schemaVersion returns the highest applied migration, 0 for a database
// Herald has never written. It looks before it reads, so that inside a
// transaction a missing table does not abort it. It looks in pg_class
// rather than with to_regclass: a backend's catalog cache may still hold
// "no such table" from before it waited for another replica's migration,
// while a query of pg_class sees what that replica committed.
func schemaVersion(ctx context.Context, q querier) (int, error) {
	var exists bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relname = 'schema_migrations' AND n.nspname = current_schema())`).Scan(&exists)
	if err != nil || !exists {
		return 0, err
	}
	var v int
	err = q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// Version returns the schema version of the open database.
func (db *DB) Version(ctx context.Context) (int, error) {
	return schemaVersion(ctx, db.pool)
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.pool.Ping(ctx)
}

// Close closes every connection of the store.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// maxTxAttempts bounds how often withTx runs a transaction that the server
// aborted because of a deadlock or a serialization failure.
const maxTxAttempts = 4

// withTx runs fn in a transaction, committing when it returns nil. A
// transaction the server chose as a deadlock victim is run again, so fn
// must not change anything outside the database before it returns.
func (db *DB) withTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = pgx.BeginFunc(ctx, db.pool, fn)
		if attempt == maxTxAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
}

// retryable reports whether err is a transient abort worth retrying.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// pgCode returns the SQLSTATE of a server error, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func isUnique(err error) bool     { return pgCode(err) == "23505" }
func isForeignKey(err error) bool { return pgCode(err) == "23503" }

// constraint returns the name of the constraint a server error names.
func constraint(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.ConstraintName
	}
	return ""
}

// ts converts a time to a query argument: NULL for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// fromTS is the inverse of ts, in UTC.
func fromTS(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

func (db *DB) now() time.Time {
	return db.Now().UTC()
}

// wrap adds context to an internal error and passes digest errors through
// unchanged.
func wrap(err error, format string, args ...any) error {
	if err == nil || digest.ErrorCode(err) != digest.EINTERNAL {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
