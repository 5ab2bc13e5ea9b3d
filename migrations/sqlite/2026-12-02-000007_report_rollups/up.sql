-- Hourly rollups for reports over millions of calls: a finished call adds
-- itself to call_hours in the transaction that ends it, a wrap-up (and a
-- correction) to wrap_hours in its own. Reports read whole hours here and
-- only the partial hours at a range's edges from the raw rows. '' stands
-- for "none" in key columns (no campaign, no agent, not answered).
CREATE TABLE call_hours (
    contact_center_id  TEXT NOT NULL,
    campaign_id        TEXT NOT NULL,
    hour               TIMESTAMP NOT NULL,
    agent_id           TEXT NOT NULL,
    outcome            TEXT NOT NULL,
    answered_by        TEXT NOT NULL,
    dialed             BOOLEAN NOT NULL,
    connected          BOOLEAN NOT NULL,
    calls              BIGINT NOT NULL,
    talk_ms            BIGINT NOT NULL,
    hold_ms            BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, hour, contact_center_id, agent_id, outcome, answered_by, dialed, connected)
);
CREATE INDEX call_hours_by_contact_center ON call_hours (contact_center_id, hour);

CREATE TABLE wrap_hours (
    contact_center_id  TEXT NOT NULL,
    campaign_id        TEXT NOT NULL,
    hour               TIMESTAMP NOT NULL,
    agent_id           TEXT NOT NULL,
    disposition_code   TEXT NOT NULL,
    category           TEXT NOT NULL,
    conversion         BOOLEAN NOT NULL,
    wrap_ups           BIGINT NOT NULL,
    wrap_ms            BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, hour, contact_center_id, agent_id, disposition_code, category, conversion)
);
CREATE INDEX wrap_hours_by_contact_center ON wrap_hours (contact_center_id, hour);

-- Live answers by answer time, for the abandonment rate's two counts.
CREATE INDEX calls_live_answers ON calls (campaign_id, answered_at, outcome) WHERE answered_by = 'HUMAN';

INSERT INTO call_hours
SELECT c.contact_center_id, COALESCE(c.campaign_id, ''), strftime('%Y-%m-%d %H:00:00', c.created_at), COALESCE(c.agent_id, ''),
       COALESCE(c.outcome, ''), COALESCE(c.answered_by, ''), c.dialed_at IS NOT NULL,
       c.connected_at IS NOT NULL, COUNT(*), SUM(c.talk_ms), SUM(c.hold_ms)
FROM calls c WHERE c.state = 'ENDED'
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

INSERT INTO wrap_hours
SELECT c.contact_center_id, COALESCE(w.campaign_id, ''), strftime('%Y-%m-%d %H:00:00', w.created_at), w.agent_id, w.disposition_code,
       w.category, w.conversion, COUNT(*), SUM(w.wrap_ms)
FROM wrap_ups w JOIN calls c ON c.id = w.call_id
GROUP BY 1, 2, 3, 4, 5, 6, 7;
