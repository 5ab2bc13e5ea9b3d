-- The same table as on PostgreSQL, where the event bus between instances
-- keeps events too large for a NOTIFY payload. One SQLite file serves one
-- instance, whose bus is in-process: it stays empty here.
CREATE TABLE bus_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    payload TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX bus_events_by_time ON bus_events (at);
