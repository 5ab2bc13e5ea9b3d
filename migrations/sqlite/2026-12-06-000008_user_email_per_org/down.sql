DROP INDEX users_by_email;
DROP INDEX users_by_organization_email;
CREATE UNIQUE INDEX users_email_unique ON users (email);
