-- An import any server can carry on: the upload kept in the database
-- until its job ends, the job's place in the file (batches written), and
-- its per-row report so far. A job whose server dies is taken over by a
-- live one (or, on SQLite, by the next start) and finishes where it
-- stopped.
ALTER TABLE import_jobs ADD COLUMN batches_done INTEGER NOT NULL DEFAULT 0;
-- JSON: the column mapping; set once the whole upload is stored (a job
-- without it cannot be carried on).
ALTER TABLE import_jobs ADD COLUMN settings TEXT;
CREATE TABLE import_uploads (
    job_id TEXT NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (job_id, seq)
);
CREATE TABLE import_report_rows (
    job_id TEXT NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    row_index INTEGER NOT NULL,
    code TEXT NOT NULL,
    phone TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (job_id, row_index, code)
);
