// Package sqlite owns Herald's embedded default store: digest.Store on a
// single SQLite file through the pure-Go modernc.org/sqlite driver (so
// CGO_ENABLED=0 builds work), in WAL mode with a busy timeout and foreign
// keys on. Versioned migrations are embedded in the binary and applied at
// open; a database written by a newer Herald is refused and left untouched.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// busyTimeout is how long a statement waits for another process's write
// lock before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// DB is a Herald store on one SQLite file. It is safe for concurrent use.
type DB struct {
	db   *sql.DB
	path string

	// rankStmt is rankByRelevanceSQL and hitsStmt searchHitsSQL, prepared
	// once: preparing them took a quarter and a tenth of a millisecond, a
	// twentieth and a fortieth of a typical search.
	rankStmt, hitsStmt *sql.Stmt

	// save holds SaveArticles' statements, prepared on first use; saves
	// queues its calls to write overlapping ones together.
	save  saveStmts
	saves saveQueue

	// writer is the process's write lock, a channel so that waiting can
	// end with a context: every write holds it, so the writers of one
	// process queue here in the order they came and wait only for the
	// writes ahead of them. On SQLite's lock they would poll instead,
	// retrying after sleeps of up to 100 ms, and a writer among many busy
	// ones can miss every moment the lock is free: of sixteen
	// SaveArticles calls at once, as the poller makes them, one failed
	// with SQLITE_BUSY after the 10 s busy timeout. busy_timeout is left
	// to waits on other processes.
	writer chan struct{}

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

// Open opens (creating if needed) the database at path and migrates it to
// the current schema. It refuses, without writing, a database whose schema
// is newer than this build knows.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Reads go through memory-mapped I/O for the first 2 GiB of the file
	// (the most SQLite allows), shared with every connection and process
	// through the OS page cache, instead of a pread and a copy into each
	// connection's own small page cache. A search over a million articles
	// visits thousands of index pages: with this, one-word and filtered
	// searches took a quarter to two fifths less time at the median, two
	// words and phrases up to an eighth less (BenchmarkSearchQuery, merged
	// index). Writes still go through the WAL. An I/O error on a mapped
	// page crashes the process instead of failing the query, the price
	// SQLite documents for memory-mapped I/O.
	q.Add("_pragma", "mmap_size(2147418112)")
	// Commits append to the WAL, and a checkpoint copies the WAL's pages
	// back into the file once it holds this many (SQLite's default is
	// 1,000). Ingestion rewrites the same index pages in commit after
	// commit, and each checkpoint copies them once and flushes the file
	// to disk: checkpointing ten times less often stored a million
	// synthetic articles 18% and 32% faster in two pairs of runs (3,607
	// to 4,248 and 3,052 to 4,039 articles/s, BenchmarkSearchIngest). The
	// WAL file grows to about 40 MiB and stays that size; pages still in
	// it are read from it, not mapped.
	q.Add("_pragma", "wal_autocheckpoint(10000)")
	// BEGIN IMMEDIATE takes the write lock at the start of a transaction,
	// so two writers queue on busy_timeout instead of deadlocking on a
	// read-to-write upgrade.
	q.Set("_txlock", "immediate")
	sqldb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db := &DB{db: sqldb, path: path, writer: make(chan struct{}, 1), Now: time.Now}
	if err := db.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	if db.rankStmt, err = sqldb.PrepareContext(ctx, rankByRelevanceSQL); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if db.hitsStmt, err = sqldb.PrepareContext(ctx, searchHitsSQL); err != nil {
		db.rankStmt.Close()
		sqldb.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

// migrate checks the schema version before anything writes to the file,
// then switches to WAL and applies the missing migrations, each in its own
// transaction together with the version bump.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	var current int
	if err := db.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("open sqlite %s: %w", db.path, err)
	}
	if current > len(ms) {
		return digest.Errorf(digest.ECONFLICT,
			"database %s has schema version %d, newer than this Herald supports (%d); it was written by a newer Herald: upgrade Herald, or use another database",
			db.path, current, len(ms))
	}
	var mode string
	if err := db.db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return fmt.Errorf("enable WAL on %s: %w", db.path, err)
	}
	for _, m := range ms[current:] {
		tx, err := db.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", db.path, err)
		}
		// Re-read inside the write lock: another process may have
		// migrated while we waited.
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", db.path, err)
		}
		if v >= m.version {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: apply %s: %w", db.path, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", db.path, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: apply %s: %w", db.path, m.name, err)
		}
	}
	return nil
}

// Version returns the schema version of the open database.
func (db *DB) Version(ctx context.Context) (int, error) {
	var v int
	err := db.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.db.PingContext(ctx)
}

// Close closes the database.
func (db *DB) Close() error {
	db.rankStmt.Close()
	db.hitsStmt.Close()
	db.save.close()
	return db.db.Close()
}

// lockWrite takes the process's write lock, waiting while ctx allows;
// unlockWrite gives it back. Writes never nest.
func (db *DB) lockWrite(ctx context.Context) error {
	select {
	case db.writer <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (db *DB) unlockWrite() { <-db.writer }

// withTx runs fn in a write transaction, committing when it returns nil.
func (db *DB) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := db.lockWrite(ctx); err != nil {
		return err
	}
	defer db.unlockWrite()
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// exec runs one writing statement under the write lock.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := db.lockWrite(ctx); err != nil {
		return nil, err
	}
	defer db.unlockWrite()
	return db.db.ExecContext(ctx, query, args...)
}

// execRow runs one writing statement that returns a row (RETURNING) under
// the write lock, scanning the row into dest.
func (db *DB) execRow(ctx context.Context, query string, args []any, dest ...any) error {
	if err := db.lockWrite(ctx); err != nil {
		return err
	}
	defer db.unlockWrite()
	return db.db.QueryRowContext(ctx, query, args...).Scan(dest...)
}

// micros converts a time to the stored form: Unix microseconds, 0 for the
// zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros is the inverse of micros, in UTC.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func (db *DB) now() time.Time {
	return db.Now().UTC()
}

// sqliteCode returns the extended result code of a driver error, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// isBusy reports whether err says that another process held the database
// for longer than the busy timeout.
func isBusy(err error) bool {
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
