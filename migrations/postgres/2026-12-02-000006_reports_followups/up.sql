-- What wrap-up feeds: the durations analytics sum (kept on the rows, so a
-- report is one aggregate pass and never timestamp arithmetic), agents'
-- time per status in hourly pieces, follow-up rules, webhook endpoints and
-- the transactional outbox their deliveries come from.

-- A call's time on hold and in conversation (connected → ended, minus
-- hold), in milliseconds; held_at is when the current hold began.
ALTER TABLE calls ADD COLUMN hold_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN talk_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN held_at TIMESTAMP;

-- The wrap-up's own time (call ended → submitted), and the disposition's
-- category and conversion flag as they were when it was given.
ALTER TABLE wrap_ups ADD COLUMN wrap_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE wrap_ups ADD COLUMN category TEXT NOT NULL DEFAULT 'NON_CONTACT';
ALTER TABLE wrap_ups ADD COLUMN conversion BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX wrap_ups_by_agent ON wrap_ups (agent_id, created_at);

-- Time agents spent in each status, cut at UTC hour boundaries.
CREATE TABLE agent_time (
    contact_center_id  TEXT NOT NULL REFERENCES contact_centers(id),
    hour               TIMESTAMP NOT NULL,
    user_id            TEXT NOT NULL REFERENCES users(id),
    status             TEXT NOT NULL,
    organization_id    TEXT NOT NULL REFERENCES organizations(id),
    ms                 BIGINT NOT NULL,
    PRIMARY KEY (contact_center_id, hour, user_id, status)
);

CREATE TABLE webhook_endpoints (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    name             TEXT NOT NULL,
    url              TEXT NOT NULL,
    secret           TEXT NOT NULL,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_by_org ON webhook_endpoints (organization_id);

-- "When disposition is X (or category Y) → do Z", in position order.
CREATE TABLE follow_up_rules (
    id                  TEXT PRIMARY KEY,
    organization_id     TEXT NOT NULL REFERENCES organizations(id),
    campaign_id         TEXT NOT NULL REFERENCES campaigns(id),
    position            INTEGER NOT NULL,
    disposition_code    TEXT,
    category            TEXT,
    action              TEXT NOT NULL,
    delay_minutes       INTEGER,
    target_campaign_id  TEXT REFERENCES campaigns(id),
    endpoint_id         TEXT REFERENCES webhook_endpoints(id),
    created_at          TIMESTAMP NOT NULL
);
CREATE INDEX follow_up_rules_by_campaign ON follow_up_rules (campaign_id, position);

-- Webhook deliveries owed, written in the wrap-up's transaction. The id is
-- the Webhook-Id every (re)delivery carries.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints(id),
    event            TEXT NOT NULL,
    payload          TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    next_attempt_at  TIMESTAMP NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    delivered_at     TIMESTAMP,
    last_error       TEXT
);
CREATE INDEX outbox_pending ON outbox (delivered_at, next_attempt_at);
CREATE INDEX outbox_by_endpoint ON outbox (endpoint_id, created_at);

CREATE TABLE webhook_deliveries (
    id           TEXT PRIMARY KEY,
    outbox_id    TEXT NOT NULL REFERENCES outbox(id),
    attempt      INTEGER NOT NULL,
    at           TIMESTAMP NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_by_outbox ON webhook_deliveries (outbox_id, attempt);
