-- A campaign whose days have different hours writes them out day by day,
-- Monday first ("09:00-20:00,…,-" with "-" for a closed day); NULL: the
-- same hours (window_start–window_end) on each of window_days.
ALTER TABLE campaigns ADD COLUMN window_hours TEXT;

-- An organization's own calling rules (its hours, holidays and per-number
-- caps), which narrow what the law allows and never widen it. Each change
-- is a new revision: a decision at an instant is judged by the revision in
-- force then (docs/compliance.md).
CREATE TABLE organization_policies (
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    revision         INTEGER NOT NULL,
    -- JSON: {"hours": "09:00-20:00,…", "holidays": [{"name", "date"}],
    -- "caps": [{"max", "withinHours"}]}.
    policy           TEXT NOT NULL,
    set_at           TIMESTAMP NOT NULL,
    set_by           TEXT NOT NULL,
    PRIMARY KEY (organization_id, revision)
);
