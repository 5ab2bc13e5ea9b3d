-- What an instance is called in logs, metrics and the live floor (serve --instance-name).
ALTER TABLE server_heartbeats ADD COLUMN name TEXT;
