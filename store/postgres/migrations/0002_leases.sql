-- Leases: named pieces of work held by one replica until they expire or
-- are released (digest.LeaseStore). Expiry is on the server's clock, so
-- replicas whose clocks disagree still agree on who holds what.
CREATE TABLE leases (
	name       text PRIMARY KEY,
	owner      text NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX leases_expires ON leases (expires_at);
