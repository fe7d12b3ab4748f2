-- Back to hex hashes and access tokens with an id (new ids, in the order the tokens were issued),
-- in the layout the earlier migrations' down steps expect.

-- 1. Access tokens.
CREATE TABLE access_tokens_old (
    id BIGSERIAL PRIMARY KEY,
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
SELECT encode(token_hash, 'hex'), application_id, user_id, scope, issued_at, expires_at,
       revoked_at, credentials_version
FROM access_tokens
ORDER BY issued_at;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_old RENAME TO access_tokens;
ALTER SEQUENCE access_tokens_old_id_seq RENAME TO access_tokens_id_seq;
ALTER INDEX access_tokens_old_pkey RENAME TO access_tokens_pkey;
ALTER INDEX access_tokens_old_token_hash_key RENAME TO access_tokens_token_hash_key;
ALTER TABLE access_tokens
    RENAME CONSTRAINT access_tokens_old_application_id_fkey TO access_tokens_application_id_fkey;
ALTER TABLE access_tokens
    RENAME CONSTRAINT access_tokens_old_user_id_fkey TO access_tokens_user_id_fkey;
CREATE INDEX access_tokens_application_idx ON access_tokens (application_id);
CREATE INDEX access_tokens_user_idx ON access_tokens (user_id);
CREATE INDEX access_tokens_expires_idx ON access_tokens (expires_at);

-- 2. The family's current token.
ALTER TABLE token_families
    ALTER COLUMN current_hash TYPE VARCHAR(64) USING encode(current_hash, 'hex');

-- 3. Authorization codes.
ALTER TABLE authorization_codes
    ALTER COLUMN code_hash TYPE VARCHAR(64) USING encode(code_hash, 'hex');
ALTER TABLE authorization_codes
    ADD COLUMN access_token_id BIGINT REFERENCES access_tokens (id) ON DELETE SET NULL;
UPDATE authorization_codes c SET access_token_id = a.id
FROM access_tokens a WHERE a.token_hash = encode(c.access_token_hash, 'hex');
ALTER TABLE authorization_codes DROP COLUMN access_token_hash;
CREATE INDEX authorization_codes_access_token_idx ON authorization_codes (access_token_id);

-- 4. Refresh tokens, linked by id again.
ALTER SEQUENCE refresh_tokens_id_seq OWNED BY NONE;
CREATE TABLE refresh_tokens_old (
    id BIGINT NOT NULL DEFAULT nextval('refresh_tokens_id_seq') PRIMARY KEY,
    token_hash VARCHAR(64) NOT NULL UNIQUE,
    access_token_id BIGINT REFERENCES access_tokens (id) ON DELETE SET NULL,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id VARCHAR(36) NOT NULL,
    scope TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
INSERT INTO refresh_tokens_old (id, token_hash, access_token_id, application_id, user_id,
                                family_id, scope, issued_at, expires_at, revoked_at)
SELECT r.id, encode(r.token_hash, 'hex'), a.id, r.application_id, r.user_id,
       r.family_id, r.scope, r.issued_at, r.expires_at, r.revoked_at
FROM refresh_tokens r
LEFT JOIN access_tokens a ON a.token_hash = encode(r.access_token_hash, 'hex');
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_old RENAME TO refresh_tokens;
ALTER INDEX refresh_tokens_old_pkey RENAME TO refresh_tokens_pkey;
ALTER INDEX refresh_tokens_old_token_hash_key RENAME TO refresh_tokens_token_hash_key;
ALTER SEQUENCE refresh_tokens_id_seq OWNED BY refresh_tokens.id;
ALTER TABLE refresh_tokens
    RENAME CONSTRAINT refresh_tokens_old_access_token_id_fkey TO refresh_tokens_access_token_id_fkey;
ALTER TABLE refresh_tokens
    RENAME CONSTRAINT refresh_tokens_old_application_id_fkey TO refresh_tokens_application_id_fkey;
ALTER TABLE refresh_tokens
    RENAME CONSTRAINT refresh_tokens_old_user_id_fkey TO refresh_tokens_user_id_fkey;
ALTER TABLE refresh_tokens
    ADD CONSTRAINT refresh_tokens_family_fk
    FOREIGN KEY (family_id) REFERENCES token_families (id) ON DELETE CASCADE;
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_access_token_idx ON refresh_tokens (access_token_id);
CREATE INDEX refresh_tokens_application_idx ON refresh_tokens (application_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
