DROP TABLE audit_log;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE memberships;
DROP TABLE contact_centers;
DROP TABLE users;
DROP TABLE organizations;
