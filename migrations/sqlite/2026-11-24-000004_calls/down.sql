DROP TABLE wrap_ups;
DROP TABLE agent_presence;
DROP TABLE call_events;
DROP TABLE calls;
ALTER TABLE leads DROP COLUMN callback_agent_id;
