-- (Used on PostgreSQL; SQLite has one server, which counts in memory.)
-- Log-in attempts counted across every server on the database (the rate
-- limits hold whichever server a client reaches): kind 'ip' for every
-- attempt from an address, 'account' for each failure on an account.
CREATE TABLE login_attempts (
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX login_attempts_by_subject ON login_attempts (kind, subject, at);
CREATE INDEX login_attempts_by_time ON login_attempts (at);
