-- The state or province of a lead's address: its calling rules apply
-- with its number's (docs/compliance.md).
ALTER TABLE leads ADD COLUMN region TEXT;
