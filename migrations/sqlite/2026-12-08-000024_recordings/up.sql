-- A call's recording: where its file is kept and what it holds. The file
-- itself is in the recording store (the data dir, or an object store).
CREATE TABLE recordings (
    call_id TEXT PRIMARY KEY REFERENCES calls (id),
    organization_id TEXT NOT NULL,
    contact_center_id TEXT NOT NULL,
    -- RECORDING, PAUSED, DONE, CUT (a crash ended it: it plays to its
    -- last second), DELETED (retention or an erasure; the row stays).
    state TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    frames BIGINT NOT NULL DEFAULT 0,
    size_bytes BIGINT NOT NULL DEFAULT 0,
    sha256 TEXT,
    -- JSON array of {"fromMs": …, "toMs": …}
    paused_spans TEXT NOT NULL DEFAULT '[]',
    deleted_at TIMESTAMP,
    deleted_reason TEXT
);
CREATE INDEX recordings_by_time ON recordings (organization_id, started_at);
