-- An email is unique within an organization, not across Pinline: creating
-- a user must not tell one organization's admin that another organization
-- has that email. Login finds the account by email and password.
-- SQLite keeps a column's UNIQUE in the table: the table is rebuilt (the
-- documented twelve steps), other tables' references untouched.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE users_new (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    email           TEXT NOT NULL,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('AGENT', 'SUPERVISOR', 'ADMIN')),
    password_hash   TEXT NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
INSERT INTO users_new (id, organization_id, email, name, role, password_hash, active, created_at, updated_at)
    SELECT id, organization_id, email, name, role, password_hash, active, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_by_organization ON users (organization_id, id);
CREATE UNIQUE INDEX users_by_organization_email ON users (organization_id, email);
CREATE INDEX users_by_email ON users (email);
COMMIT;
PRAGMA foreign_keys = ON;
