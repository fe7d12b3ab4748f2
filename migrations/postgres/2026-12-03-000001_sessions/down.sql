ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_family_fk;
DROP TABLE token_families;
ALTER TABLE access_tokens DROP COLUMN credentials_version;
ALTER TABLE users DROP COLUMN credentials_version;
