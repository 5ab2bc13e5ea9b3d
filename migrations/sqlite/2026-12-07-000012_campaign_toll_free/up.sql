-- A campaign that calls businesses may dial toll-free leads (refused
-- otherwise: docs/compliance.md).
ALTER TABLE campaigns ADD COLUMN allow_toll_free BOOLEAN NOT NULL DEFAULT FALSE;
