-- The gate's per-number rules read a number's calls across the organization.
CREATE INDEX calls_by_number ON calls (organization_id, phone, created_at);
