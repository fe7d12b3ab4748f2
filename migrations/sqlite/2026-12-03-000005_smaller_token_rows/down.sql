-- Back to hex hashes and access tokens with an id (new ids, in the order the tokens were issued),
-- in the layout the earlier migrations' down steps expect (they copy rows by position).

-- 1. Access tokens.
CREATE TABLE access_tokens_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash VARCHAR(64) NOT NULL UNIQUE,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    credentials_version INTEGER NOT NULL DEFAULT 0
);
INSERT INTO access_tokens_old (token_hash, application_id, user_id, scope, issued_at, expires_at,
                               revoked_at, credentials_version)
SELECT lower(hex(token_hash)), application_id, user_id, scope, issued_at, expires_at,
       revoked_at, credentials_version
FROM access_tokens
ORDER BY issued_at;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_old RENAME TO access_tokens;
CREATE INDEX access_tokens_application_idx ON access_tokens (application_id);
CREATE INDEX access_tokens_user_idx ON access_tokens (user_id);
CREATE INDEX access_tokens_expires_idx ON access_tokens (expires_at);

-- 2. The family's current token.
UPDATE token_families SET current_hash = lower(hex(current_hash)) WHERE current_hash IS NOT NULL;

-- 3. Authorization codes.
CREATE TABLE authorization_codes_old (
    code_hash VARCHAR(64) PRIMARY KEY NOT NULL,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credentials_version INTEGER NOT NULL,
    redirect_uri TEXT,
    code_challenge VARCHAR(128) NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    auth_time BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    access_token_id BIGINT REFERENCES access_tokens (id) ON DELETE SET NULL,
    family_id VARCHAR(36) REFERENCES token_families (id) ON DELETE SET NULL
);
INSERT INTO authorization_codes_old
SELECT lower(hex(c.code_hash)), c.application_id, c.user_id, c.credentials_version,
       c.redirect_uri, c.code_challenge, c.scope, c.nonce, c.auth_time, c.issued_at,
       c.expires_at, c.used_at, a.id, c.family_id
FROM authorization_codes c
LEFT JOIN access_tokens a ON a.token_hash = lower(hex(c.access_token_hash));
DROP TABLE authorization_codes;
ALTER TABLE authorization_codes_old RENAME TO authorization_codes;
CREATE INDEX authorization_codes_application_idx ON authorization_codes (application_id);
CREATE INDEX authorization_codes_user_idx ON authorization_codes (user_id);
CREATE INDEX authorization_codes_expires_idx ON authorization_codes (expires_at);
CREATE INDEX authorization_codes_access_token_idx ON authorization_codes (access_token_id);
CREATE INDEX authorization_codes_family_idx ON authorization_codes (family_id);

-- 4. Refresh tokens.
CREATE TABLE refresh_tokens_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash VARCHAR(64) NOT NULL UNIQUE,
    access_token_id BIGINT REFERENCES access_tokens (id) ON DELETE SET NULL,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id VARCHAR(36) NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
INSERT INTO refresh_tokens_old
SELECT r.id, lower(hex(r.token_hash)), a.id, r.application_id, r.user_id, r.family_id, r.scope,
       r.issued_at, r.expires_at, r.revoked_at
FROM refresh_tokens r
LEFT JOIN access_tokens a ON a.token_hash = lower(hex(r.access_token_hash));
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_old RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_access_token_idx ON refresh_tokens (access_token_id);
CREATE INDEX refresh_tokens_application_idx ON refresh_tokens (application_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
