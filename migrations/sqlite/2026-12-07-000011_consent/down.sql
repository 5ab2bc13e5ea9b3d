ALTER TABLE wrap_ups DROP COLUMN revoke_consent;
ALTER TABLE campaigns DROP COLUMN automated_consent;
DROP TABLE consents;
