package main

import (
	"database/sql"
	"strconv"
	"testing"

	"github.com/seed-c50b6fda/herald/store/sqlite"
)

// bumpSchema marks the database as written by a newer Herald.
func bumpSchema(tb testing.TB, path string) {
	tb.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("PRAGMA user_version = " + strconv.Itoa(sqlite.SchemaVersion()+1)); err != nil {
		tb.Fatal(err)
	}
}
