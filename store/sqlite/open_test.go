package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"testing"
)

// TestOpenSettings checks the settings Open gives every connection of the
// pool, read back from SQLite: a setting misspelt in the DSN is ignored
// without an error.
func TestOpenSettings(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string]string{
		"journal_mode":       "wal",
		"synchronous":        "1", // NORMAL
		"foreign_keys":       "1",
		"busy_timeout":       strconv.FormatInt(busyTimeout.Milliseconds(), 10),
		"mmap_size":          "2147418112",
		"wal_autocheckpoint": "10000",
	}
	// Hold two connections at once, so the second is a new one.
	var conns []*sql.Conn
	for range 2 {
		c, err := db.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		for name, v := range want {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
				t.Fatalf("connection %d: PRAGMA %s: %v", i, name, err)
			}
			if got != v {
				t.Errorf("connection %d: %s = %s, want %s", i, name, got, v)
			}
		}
	}
}
