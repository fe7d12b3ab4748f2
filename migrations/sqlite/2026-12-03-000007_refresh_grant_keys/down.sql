CREATE INDEX token_families_expires_idx ON token_families (expires_at);
CREATE INDEX token_families_revoked_idx ON token_families (revoked_at);
CREATE TABLE refresh_tokens_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    access_token_hash BLOB,
    family_id VARCHAR(36) NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    scope TEXT NOT NULL
);
INSERT INTO refresh_tokens_old (id, issued_at, expires_at, revoked_at, application_id, user_id,
                                token_hash, access_token_hash, family_id, scope)
SELECT id, issued_at, expires_at, revoked_at, application_id, user_id,
       token_hash, access_token_hash, family_id, scope
FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_old RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_application_idx ON refresh_tokens (application_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
