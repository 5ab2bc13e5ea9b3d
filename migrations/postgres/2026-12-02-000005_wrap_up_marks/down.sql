ALTER TABLE wrap_ups DROP COLUMN corrections;
ALTER TABLE wrap_ups DROP COLUMN updated_at;
ALTER TABLE wrap_ups DROP COLUMN callback_agent_id;
ALTER TABLE wrap_ups DROP COLUMN callback_at;
ALTER TABLE wrap_ups DROP COLUMN invalid_number;
ALTER TABLE wrap_ups DROP COLUMN do_not_text;
ALTER TABLE wrap_ups DROP COLUMN do_not_call;
