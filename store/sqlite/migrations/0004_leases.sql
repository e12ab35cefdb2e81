-- Leases: named pieces of work held by one process until they expire or
-- are released (digest.LeaseStore). Times are Unix microseconds.
CREATE TABLE leases (
	name       TEXT PRIMARY KEY,
	owner      TEXT NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX leases_expires ON leases (expires_at);
