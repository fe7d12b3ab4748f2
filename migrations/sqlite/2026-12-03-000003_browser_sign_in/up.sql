-- Browser sign-in (authorization code with PKCE). Redirect URIs are stored space-separated: a
-- registered URI is absolute and has no space. skip_consent marks a first-party client.
ALTER TABLE applications ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN skip_consent BOOLEAN NOT NULL DEFAULT 0;

-- A signed-in browser. Only the SHA-256 of the cookie's session id is kept, so a database
-- reader cannot sign in as anyone; any replica can resolve it. A password change or a
-- deactivation ends the session as it ends tokens (credentials_version).
CREATE TABLE browser_sessions (
    id_hash VARCHAR(64) PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credentials_version INTEGER NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX browser_sessions_user_idx ON browser_sessions (user_id);
CREATE INDEX browser_sessions_expires_idx ON browser_sessions (expires_at);

-- An authorization code, by hash, with everything it is bound to. used_at makes it single-use:
-- the exchange claims it with one conditional UPDATE. access_token_id and family_id record what
-- the exchange issued, so that a second presentation revokes exactly that (RFC 6749 §4.1.2).
-- redirect_uri is NULL when the authorize request omitted it.
CREATE TABLE authorization_codes (
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
CREATE INDEX authorization_codes_application_idx ON authorization_codes (application_id);
CREATE INDEX authorization_codes_user_idx ON authorization_codes (user_id);
CREATE INDEX authorization_codes_expires_idx ON authorization_codes (expires_at);
CREATE INDEX authorization_codes_access_token_idx ON authorization_codes (access_token_id);
CREATE INDEX authorization_codes_family_idx ON authorization_codes (family_id);

-- The scopes a user approved for a confidential client, so that it is not asked again (a public
-- client is asked every time, RFC 8252 §8.6).
CREATE TABLE consents (
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (application_id, user_id)
);
CREATE INDEX consents_user_idx ON consents (user_id);
