-- The full wrap-up: the marks an agent can set (Do-Not-Call, Do-Not-Text,
-- invalid number), the callback asked for, and corrections within the
-- edit window (updated_at and a count; each one is in the audit log).
ALTER TABLE wrap_ups ADD COLUMN do_not_call BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE wrap_ups ADD COLUMN do_not_text BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE wrap_ups ADD COLUMN invalid_number TEXT;
ALTER TABLE wrap_ups ADD COLUMN callback_at TIMESTAMP;
ALTER TABLE wrap_ups ADD COLUMN callback_agent_id TEXT REFERENCES users(id);
ALTER TABLE wrap_ups ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE wrap_ups ADD COLUMN corrections INTEGER NOT NULL DEFAULT 0;
