ALTER TABLE leads DROP COLUMN time_zone_verified;
ALTER TABLE leads DROP COLUMN region;
