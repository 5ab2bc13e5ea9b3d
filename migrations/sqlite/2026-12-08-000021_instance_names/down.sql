ALTER TABLE server_heartbeats DROP COLUMN name;
