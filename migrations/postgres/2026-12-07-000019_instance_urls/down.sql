ALTER TABLE server_heartbeats DROP COLUMN internal_url;
