DROP TABLE consents;
DROP TABLE authorization_codes;
DROP TABLE browser_sessions;
ALTER TABLE applications DROP COLUMN skip_consent;
ALTER TABLE applications DROP COLUMN post_logout_redirect_uris;
ALTER TABLE applications DROP COLUMN redirect_uris;
