-- CSV imports run as jobs: progress and the per-row report survive the
-- request (and a restart: a job left RUNNING by a crash is marked FAILED at
-- start; the batches it wrote stay written).
CREATE TABLE import_jobs (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    campaign_id      TEXT NOT NULL REFERENCES campaigns(id),
    created_by       TEXT,
    file_name        TEXT NOT NULL,
    state            TEXT NOT NULL,
    total_rows       INTEGER NOT NULL,
    processed_rows   INTEGER NOT NULL,
    added            INTEGER NOT NULL,
    merged           INTEGER NOT NULL,
    rejected         INTEGER NOT NULL,
    warned           INTEGER NOT NULL,
    report           TEXT NOT NULL,
    error            TEXT,
    created_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP
);
CREATE INDEX import_jobs_by_campaign ON import_jobs (campaign_id, id);
