-- The state or province of a lead's address: its calling rules apply
-- with its number's (docs/compliance.md).
ALTER TABLE leads ADD COLUMN region TEXT;
-- A lead's time zone that its number does not confirm narrows its window
-- (both zones' clocks apply) until someone verifies it.
ALTER TABLE leads ADD COLUMN time_zone_verified BOOLEAN NOT NULL DEFAULT FALSE;
