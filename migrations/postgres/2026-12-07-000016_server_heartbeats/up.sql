-- The last moment each running server knew it was alive (written every
-- second). After a crash, the next start ends the calls that were in
-- flight at that moment, with the talk time they really had, instead of
-- at the restart.
CREATE TABLE server_heartbeats (
    instance_id TEXT PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    beat_at TIMESTAMP NOT NULL
);
