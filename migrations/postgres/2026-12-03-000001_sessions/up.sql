-- Sessions end when credentials change. Every password change and every deactivation bumps the
-- user's credentials_version; a token carries the version it was issued under, and is dead once
-- the two differ. A counter, not a timestamp: a token issued in the same second as the change is
-- still told apart.
ALTER TABLE users ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE access_tokens ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 0;

-- One row per grant: the refresh tokens descended from one password grant form a family.
-- current_hash names the one refresh token of the family that may be used; rotation claims the
-- family by moving it (UPDATE … WHERE current_hash = the presented one), and revocation updates
-- the row first, so the two serialize on the row lock. Used refresh tokens stay while the family
-- could still be used, so that a rotated token replayed late is still recognised as reuse (RFC
-- 9700 §4.14.2). expires_at is absolute (REFRESH_TOKEN_MAX_LIFETIME_SECONDS after the grant);
-- rotation never extends it.
CREATE TABLE token_families (
    id VARCHAR(36) PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credentials_version INTEGER NOT NULL,
    current_hash VARCHAR(64),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX token_families_application_idx ON token_families (application_id);
CREATE INDEX token_families_user_idx ON token_families (user_id);
CREATE INDEX token_families_expires_idx ON token_families (expires_at);
CREATE INDEX token_families_revoked_idx ON token_families (revoked_at);

-- Existing grants become families that end when their newest refresh token does (no family is
-- lengthened), whose current token is their one unrevoked refresh token, and a family with no
-- live token left is revoked.
INSERT INTO token_families (id, application_id, user_id, credentials_version, current_hash, created_at, expires_at, revoked_at)
SELECT family_id, MIN(application_id), MIN(user_id), 0,
       MAX(CASE WHEN revoked_at IS NULL THEN token_hash END),
       MIN(issued_at), MAX(expires_at),
       CASE WHEN COUNT(*) FILTER (WHERE revoked_at IS NULL) = 0 THEN MAX(revoked_at) END
FROM refresh_tokens
GROUP BY family_id;

ALTER TABLE refresh_tokens
    ADD CONSTRAINT refresh_tokens_family_fk
    FOREIGN KEY (family_id) REFERENCES token_families (id) ON DELETE CASCADE;
