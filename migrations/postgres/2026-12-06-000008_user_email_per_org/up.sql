-- An email is unique within an organization, not across Pinline: creating
-- a user must not tell one organization's admin that another organization
-- has that email. Login finds the account by email and password.
ALTER TABLE users DROP CONSTRAINT users_email_key;
CREATE UNIQUE INDEX users_by_organization_email ON users (organization_id, email);
CREATE INDEX users_by_email ON users (email);
