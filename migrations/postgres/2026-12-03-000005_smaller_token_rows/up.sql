-- Smaller token rows (docs/benchmarks.md, "Bytes per token row"). A token is kept as the
-- SHA-256 of its value in 32 raw bytes instead of 64 hex characters, and found through a hash
-- index, whose entries hold a 4-byte hash code instead of the whole key. The exclusion
-- constraint on that index keeps the hashes unique as a UNIQUE btree did (a hash index cannot be
-- UNIQUE). Columns are ordered 8-byte first, so that none is padded.
--
-- An access token needs no id: nothing else names it but by its hash. What linked to it by id (the
-- refresh token issued with it, the authorization code that issued it) now records its hash,
-- with no foreign key: the access token may be cleaned up first, and the link then names
-- nothing, as no token is ever issued with that hash again. Without the id an access-token row
-- has no primary key: logical replication needs REPLICA IDENTITY FULL on it (docs/operations.md).

-- 1. Refresh tokens, rebuilt in the new layout, linked to their access token by hash.
ALTER SEQUENCE refresh_tokens_id_seq OWNED BY NONE;
CREATE TABLE refresh_tokens_new (
    id BIGINT NOT NULL DEFAULT nextval('refresh_tokens_id_seq') PRIMARY KEY,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash BYTEA NOT NULL,
    access_token_hash BYTEA,
    family_id VARCHAR(36) NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    scope TEXT NOT NULL
);
INSERT INTO refresh_tokens_new (id, issued_at, expires_at, revoked_at, application_id, user_id,
                                token_hash, access_token_hash, family_id, scope)
SELECT r.id, r.issued_at, r.expires_at, r.revoked_at, r.application_id, r.user_id,
       decode(r.token_hash, 'hex'), decode(a.token_hash, 'hex'), r.family_id, r.scope
FROM refresh_tokens r
LEFT JOIN access_tokens a ON a.id = r.access_token_id;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_new RENAME TO refresh_tokens;
ALTER INDEX refresh_tokens_new_pkey RENAME TO refresh_tokens_pkey;
ALTER SEQUENCE refresh_tokens_id_seq OWNED BY refresh_tokens.id;
ALTER TABLE refresh_tokens
    RENAME CONSTRAINT refresh_tokens_new_application_id_fkey TO refresh_tokens_application_id_fkey;
ALTER TABLE refresh_tokens
    RENAME CONSTRAINT refresh_tokens_new_user_id_fkey TO refresh_tokens_user_id_fkey;
ALTER TABLE refresh_tokens
    RENAME CONSTRAINT refresh_tokens_new_family_id_fkey TO refresh_tokens_family_fk;
ALTER TABLE refresh_tokens
    ADD CONSTRAINT refresh_tokens_token_hash_excl EXCLUDE USING hash (token_hash WITH =);
-- No index on expires_at: clean-up deletes refresh tokens by family.
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_application_idx ON refresh_tokens (application_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- 2. Authorization codes: by the raw hash, linked to what they issued by hash.
ALTER TABLE authorization_codes ADD COLUMN access_token_hash BYTEA;
UPDATE authorization_codes c SET access_token_hash = decode(a.token_hash, 'hex')
FROM access_tokens a WHERE a.id = c.access_token_id;
ALTER TABLE authorization_codes DROP COLUMN access_token_id;
ALTER TABLE authorization_codes ALTER COLUMN code_hash TYPE BYTEA USING decode(code_hash, 'hex');

-- 3. The family's current token.
ALTER TABLE token_families
    ALTER COLUMN current_hash TYPE BYTEA USING decode(current_hash, 'hex');

-- 4. Access tokens, rebuilt: no id, 8-byte columns first. Nothing references the table any more.
CREATE TABLE access_tokens_new (
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    credentials_version INTEGER NOT NULL DEFAULT 0,
    token_hash BYTEA NOT NULL,
    scope TEXT NOT NULL
);
INSERT INTO access_tokens_new (issued_at, expires_at, revoked_at, application_id, user_id,
                               credentials_version, token_hash, scope)
SELECT issued_at, expires_at, revoked_at, application_id, user_id,
       credentials_version, decode(token_hash, 'hex'), scope
FROM access_tokens;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_new RENAME TO access_tokens;
ALTER TABLE access_tokens
    RENAME CONSTRAINT access_tokens_new_application_id_fkey TO access_tokens_application_id_fkey;
ALTER TABLE access_tokens
    RENAME CONSTRAINT access_tokens_new_user_id_fkey TO access_tokens_user_id_fkey;
ALTER TABLE access_tokens
    ADD CONSTRAINT access_tokens_token_hash_excl EXCLUDE USING hash (token_hash WITH =);
-- Deleting a user cascades here, and users are deleted through the API: without this index each
-- such delete reads the whole table. Half the rows (client_credentials) have no user; the index
-- leaves them out. Clean-up finds expired tokens by expires_at. Deleting a client (the admin
-- CLI, or deleting a user who owns clients) reads the whole table instead: an index for that
-- rare delete would cost every row 6.5 bytes.
CREATE INDEX access_tokens_user_idx ON access_tokens (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX access_tokens_expires_idx ON access_tokens (expires_at);
