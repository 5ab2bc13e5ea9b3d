-- The dialer engine: calls and their event log, agents' presence, and the
-- wrap-ups agents submit. A callback may name the agent who takes it.
ALTER TABLE leads ADD COLUMN callback_agent_id TEXT;

CREATE TABLE calls (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL REFERENCES organizations(id),
    contact_center_id  TEXT NOT NULL REFERENCES contact_centers(id),
    campaign_id        TEXT REFERENCES campaigns(id),
    lead_id            TEXT REFERENCES leads(id),
    agent_id           TEXT REFERENCES users(id),
    target_agent_id    TEXT REFERENCES users(id),
    origin             TEXT NOT NULL,
    phone              TEXT NOT NULL,
    caller_id          TEXT NOT NULL,
    state              TEXT NOT NULL,
    outcome            TEXT,
    answered_by        TEXT,
    muted              BOOLEAN NOT NULL DEFAULT FALSE,
    on_hold            BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         TIMESTAMP NOT NULL,
    dialed_at          TIMESTAMP,
    answered_at        TIMESTAMP,
    connected_at       TIMESTAMP,
    ended_at           TIMESTAMP,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX calls_open ON calls (state);
CREATE INDEX calls_by_campaign ON calls (campaign_id, created_at);
CREATE INDEX calls_by_agent ON calls (agent_id, created_at);
CREATE INDEX calls_by_contact_center ON calls (contact_center_id, created_at);
CREATE INDEX calls_by_lead ON calls (lead_id, created_at);

CREATE TABLE call_events (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL REFERENCES organizations(id),
    contact_center_id  TEXT NOT NULL,
    call_id            TEXT REFERENCES calls(id),
    agent_id           TEXT,
    kind               TEXT NOT NULL,
    detail             TEXT NOT NULL,
    at                 TIMESTAMP NOT NULL
);
CREATE INDEX call_events_by_call ON call_events (call_id, at);
CREATE INDEX call_events_by_contact_center ON call_events (contact_center_id, at);

CREATE TABLE agent_presence (
    user_id                  TEXT PRIMARY KEY REFERENCES users(id),
    organization_id          TEXT NOT NULL REFERENCES organizations(id),
    contact_center_id        TEXT REFERENCES contact_centers(id),
    status                   TEXT NOT NULL,
    reason                   TEXT,
    since                    TIMESTAMP NOT NULL,
    pending_wrap_up_call_id  TEXT REFERENCES calls(id),
    updated_at               TIMESTAMP NOT NULL
);

CREATE TABLE wrap_ups (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL REFERENCES organizations(id),
    call_id            TEXT NOT NULL UNIQUE REFERENCES calls(id),
    campaign_id        TEXT REFERENCES campaigns(id),
    lead_id            TEXT REFERENCES leads(id),
    agent_id           TEXT NOT NULL REFERENCES users(id),
    disposition_code   TEXT NOT NULL,
    notes              TEXT NOT NULL,
    automatic          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         TIMESTAMP NOT NULL
);
CREATE INDEX wrap_ups_by_campaign ON wrap_ups (campaign_id, created_at);
