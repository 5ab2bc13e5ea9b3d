ALTER TABLE import_jobs DROP COLUMN instance_id;
