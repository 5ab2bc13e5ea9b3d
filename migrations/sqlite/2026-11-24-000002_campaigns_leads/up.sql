-- Campaigns and their leads; the organization's Do-Not-Call, Do-Not-Text
-- and invalid-number lists; dial attempts and the compliance trail.
CREATE TABLE campaigns (
    id                    TEXT PRIMARY KEY,
    organization_id       TEXT NOT NULL REFERENCES organizations(id),
    contact_center_id     TEXT NOT NULL REFERENCES contact_centers(id),
    name                  TEXT NOT NULL,
    state                 TEXT NOT NULL,
    dial_mode             TEXT NOT NULL,
    caller_id             TEXT NOT NULL,
    window_days           INTEGER NOT NULL,
    window_start          TEXT NOT NULL,
    window_end            TEXT NOT NULL,
    ring_timeout_secs     INTEGER NOT NULL,
    max_attempts          INTEGER NOT NULL,
    max_attempts_per_day  INTEGER NOT NULL,
    retry_no_answer_min   INTEGER NOT NULL,
    retry_busy_min        INTEGER NOT NULL,
    retry_machine_min     INTEGER NOT NULL,
    retry_abandoned_min   INTEGER NOT NULL,
    retry_failed_min      INTEGER NOT NULL,
    max_abandon_rate      REAL NOT NULL,
    max_dial_ratio        REAL NOT NULL,
    wrap_up_limit_secs    INTEGER,
    dispositions          TEXT NOT NULL,
    machine_handling      TEXT NOT NULL,
    safe_harbor_message   TEXT NOT NULL,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    UNIQUE (contact_center_id, name)
);
CREATE INDEX campaigns_by_organization ON campaigns (organization_id, id);
-- At most one running campaign per contact center, enforced by the database.
CREATE UNIQUE INDEX campaigns_one_running ON campaigns (contact_center_id) WHERE state = 'RUNNING';

CREATE TABLE leads (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL REFERENCES organizations(id),
    campaign_id        TEXT NOT NULL REFERENCES campaigns(id),
    phone              TEXT NOT NULL,
    first_name         TEXT,
    last_name          TEXT,
    time_zone          TEXT,
    custom_properties  TEXT NOT NULL,
    status             TEXT NOT NULL,
    priority           INTEGER NOT NULL DEFAULT 0,
    attempts           INTEGER NOT NULL DEFAULT 0,
    not_before         TIMESTAMP,
    last_attempt_at    TIMESTAMP,
    last_outcome       TEXT,
    last_abandoned_at  TIMESTAMP,
    claimed_at         TIMESTAMP,
    claimed_from       TEXT,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    UNIQUE (campaign_id, phone)
);
CREATE INDEX leads_for_claim ON leads (campaign_id, status, priority DESC, id);
CREATE INDEX leads_by_phone ON leads (organization_id, phone);

CREATE TABLE dnc_entries (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    phone            TEXT NOT NULL,
    source           TEXT NOT NULL,
    reason           TEXT NOT NULL,
    created_by       TEXT,
    created_at       TIMESTAMP NOT NULL,
    UNIQUE (organization_id, phone)
);

CREATE TABLE dnt_entries (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    phone            TEXT NOT NULL,
    source           TEXT NOT NULL,
    reason           TEXT NOT NULL,
    created_by       TEXT,
    created_at       TIMESTAMP NOT NULL,
    UNIQUE (organization_id, phone)
);

CREATE TABLE invalid_numbers (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    phone            TEXT NOT NULL,
    kind             TEXT NOT NULL,
    source           TEXT NOT NULL,
    reason           TEXT NOT NULL,
    created_by       TEXT,
    created_at       TIMESTAMP NOT NULL,
    UNIQUE (organization_id, phone)
);

CREATE TABLE dial_attempts (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    campaign_id      TEXT NOT NULL REFERENCES campaigns(id),
    lead_id          TEXT NOT NULL REFERENCES leads(id),
    phone            TEXT NOT NULL,
    started_at       TIMESTAMP NOT NULL,
    outcome          TEXT,
    ended_at         TIMESTAMP
);
CREATE INDEX dial_attempts_by_lead ON dial_attempts (lead_id, started_at);

CREATE TABLE compliance_trail (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    campaign_id      TEXT NOT NULL REFERENCES campaigns(id),
    lead_id          TEXT NOT NULL REFERENCES leads(id),
    phone            TEXT NOT NULL,
    at               TIMESTAMP NOT NULL,
    verdict          TEXT NOT NULL,
    allowed          BOOLEAN NOT NULL,
    facts            TEXT NOT NULL
);
CREATE INDEX compliance_trail_by_campaign ON compliance_trail (campaign_id, at);
