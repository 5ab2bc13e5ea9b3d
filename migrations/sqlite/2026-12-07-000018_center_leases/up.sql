-- The same table as on PostgreSQL, where instances sharing the database
-- divide contact centers by lease. One SQLite file serves one instance
-- (a second is refused at start), which owns every center: it stays empty
-- here.
CREATE TABLE center_leases (
    contact_center_id TEXT PRIMARY KEY REFERENCES contact_centers(id),
    owner TEXT,
    epoch BIGINT NOT NULL DEFAULT 0,
    expires_at TIMESTAMP NOT NULL,
    taken_at TIMESTAMP
);
CREATE INDEX center_leases_by_owner ON center_leases (owner);
