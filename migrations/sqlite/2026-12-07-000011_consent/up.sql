-- Consent to be called, per number across the organization: a log that is
-- only added to (consent given, of a kind; consent revoked). What stands at
-- an instant is the strongest consent given after the last revocation
-- (docs/compliance.md).
CREATE TABLE consents (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    phone            TEXT NOT NULL,
    -- EXPRESS, EXPRESS_WRITTEN or REVOKED.
    kind             TEXT NOT NULL,
    -- When it was given or revoked (not when it was recorded).
    at               TIMESTAMP NOT NULL,
    -- How: a web form, a signed paper, said on a call …
    method           TEXT NOT NULL,
    -- Where the record came from: the form's address, the import, the call.
    source           TEXT NOT NULL,
    lead_id          TEXT,
    call_id          TEXT,
    created_by       TEXT,
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX consents_by_number ON consents (organization_id, phone, at);

-- What a campaign's automated dial modes ask of consent: LAW (what the
-- called party's jurisdiction requires), EXPRESS or EXPRESS_WRITTEN
-- everywhere.
ALTER TABLE campaigns ADD COLUMN automated_consent TEXT NOT NULL DEFAULT 'LAW';

-- The called party revoked their consent on this call.
ALTER TABLE wrap_ups ADD COLUMN revoke_consent BOOLEAN NOT NULL DEFAULT FALSE;
