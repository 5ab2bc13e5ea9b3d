-- The event bus between instances (api/src/events/pg.rs) sends events
-- as NOTIFY payloads; one too large for a notification (8,000 bytes) is
-- kept here and the notification carries its id. Rows are swept after a
-- few minutes: events are not replayed (a subscriber after a gap re-reads
-- state).
CREATE TABLE bus_events (
    id BIGSERIAL PRIMARY KEY,
    payload TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX bus_events_by_time ON bus_events (at);
