-- Token hashes as 32 raw bytes instead of 64 hex characters, and access tokens keyed by their
-- hash, as on PostgreSQL (see its migration for why). What linked to an access token by id (the
-- refresh token issued with it, the authorization code that issued it) records its hash, with no
-- foreign key. unhex() needs SQLite 3.41; the bundled one is newer.
--
-- SQLite changes a column's type or constraints only by rebuilding the table, and with foreign
-- keys on, dropping a table that others reference would delete or null their rows: the tables
-- that reference access_tokens are rebuilt first, without that reference.

-- 1. Refresh tokens.
CREATE TABLE refresh_tokens_new (
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
INSERT INTO refresh_tokens_new (id, issued_at, expires_at, revoked_at, application_id, user_id,
                                token_hash, access_token_hash, family_id, scope)
SELECT r.id, r.issued_at, r.expires_at, r.revoked_at, r.application_id, r.user_id,
       unhex(r.token_hash), unhex(a.token_hash), r.family_id, r.scope
FROM refresh_tokens r
LEFT JOIN access_tokens a ON a.id = r.access_token_id;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_new RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_application_idx ON refresh_tokens (application_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- 2. Authorization codes.
CREATE TABLE authorization_codes_new (
    code_hash BLOB PRIMARY KEY NOT NULL,
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
    access_token_hash BLOB,
    family_id VARCHAR(36) REFERENCES token_families (id) ON DELETE SET NULL
);
INSERT INTO authorization_codes_new
SELECT unhex(c.code_hash), c.application_id, c.user_id, c.credentials_version, c.redirect_uri,
       c.code_challenge, c.scope, c.nonce, c.auth_time, c.issued_at, c.expires_at, c.used_at,
       unhex(a.token_hash), c.family_id
FROM authorization_codes c
LEFT JOIN access_tokens a ON a.id = c.access_token_id;
DROP TABLE authorization_codes;
ALTER TABLE authorization_codes_new RENAME TO authorization_codes;
CREATE INDEX authorization_codes_application_idx ON authorization_codes (application_id);
CREATE INDEX authorization_codes_user_idx ON authorization_codes (user_id);
CREATE INDEX authorization_codes_expires_idx ON authorization_codes (expires_at);
CREATE INDEX authorization_codes_family_idx ON authorization_codes (family_id);

-- 3. The family's current token. token_families is referenced by the tables above, so it is not
--    rebuilt: the column keeps its declared type, whose TEXT affinity stores a BLOB unchanged.
UPDATE token_families SET current_hash = unhex(current_hash) WHERE current_hash IS NOT NULL;

-- 4. Access tokens, keyed by their hash. Nothing references the table any more.
CREATE TABLE access_tokens_new (
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    credentials_version INTEGER NOT NULL DEFAULT 0,
    token_hash BLOB PRIMARY KEY NOT NULL,
    scope TEXT NOT NULL
);
INSERT INTO access_tokens_new (issued_at, expires_at, revoked_at, application_id, user_id,
                               credentials_version, token_hash, scope)
SELECT issued_at, expires_at, revoked_at, application_id, user_id,
       credentials_version, unhex(token_hash), scope
FROM access_tokens;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_new RENAME TO access_tokens;
CREATE INDEX access_tokens_user_idx ON access_tokens (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX access_tokens_expires_idx ON access_tokens (expires_at);
