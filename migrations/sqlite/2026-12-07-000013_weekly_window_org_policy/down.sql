DROP TABLE organization_policies;
ALTER TABLE campaigns DROP COLUMN window_hours;
