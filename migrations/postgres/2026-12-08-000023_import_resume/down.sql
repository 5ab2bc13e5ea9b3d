DROP TABLE import_report_rows;
DROP TABLE import_uploads;
ALTER TABLE import_jobs DROP COLUMN settings;
ALTER TABLE import_jobs DROP COLUMN batches_done;
