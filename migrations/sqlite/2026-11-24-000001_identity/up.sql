-- Identity: organizations, users, contact centers and their members,
-- login sessions, integrators' API tokens, and the audit trail.
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    email           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('AGENT', 'SUPERVISOR', 'ADMIN')),
    password_hash   TEXT NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX users_by_organization ON users (organization_id, id);

CREATE TABLE contact_centers (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    name            TEXT NOT NULL,
    dialer_enabled  BOOLEAN NOT NULL DEFAULT FALSE,
    default_region  TEXT NOT NULL DEFAULT 'US',
    time_zone       TEXT NOT NULL DEFAULT 'America/New_York',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (organization_id, name)
);

CREATE TABLE memberships (
    contact_center_id TEXT NOT NULL REFERENCES contact_centers(id) ON DELETE CASCADE,
    user_id           TEXT NOT NULL REFERENCES users(id),
    created_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (contact_center_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    ended_at    TIMESTAMP,
    client_ip   TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('AGENT', 'SUPERVISOR', 'ADMIN')),
    created_by      TEXT NOT NULL REFERENCES users(id),
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP,
    revoked_at      TIMESTAMP
);
CREATE INDEX api_tokens_by_organization ON api_tokens (organization_id, id);

CREATE TABLE audit_log (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    actor_id        TEXT,
    action          TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    detail          TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_by_organization ON audit_log (organization_id, id);
