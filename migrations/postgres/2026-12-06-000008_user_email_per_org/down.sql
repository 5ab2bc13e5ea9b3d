DROP INDEX users_by_email;
DROP INDEX users_by_organization_email;
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
