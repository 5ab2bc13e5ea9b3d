-- Where other instances reach this one (commands for the centers it runs are forwarded there).
ALTER TABLE server_heartbeats ADD COLUMN internal_url TEXT;
