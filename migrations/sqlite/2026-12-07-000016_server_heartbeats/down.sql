DROP TABLE server_heartbeats;
