-- A refresh token's client and owner are its family's; see the PostgreSQL migration. SQLite
-- drops a foreign key only by rebuilding the table. Nothing references refresh_tokens, so
-- dropping the old table deletes nothing else.
CREATE TABLE refresh_tokens_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    application_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    access_token_hash BLOB,
    family_id VARCHAR(36) NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    scope TEXT NOT NULL
);
INSERT INTO refresh_tokens_new (id, issued_at, expires_at, revoked_at, application_id, user_id,
                                token_hash, access_token_hash, family_id, scope)
SELECT id, issued_at, expires_at, revoked_at, application_id, user_id,
       token_hash, access_token_hash, family_id, scope
FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_new RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

-- No query finds families by revoked_at or expires_at: clean-up walks them by id, and the
-- rotation's claim and the revocation find the family by id. With these indexes, a claim
-- prepared while the statistics were stale (a family table that had grown since the last
-- ANALYZE) read every unrevoked family through the revoked_at index, for every refresh.
DROP INDEX token_families_revoked_idx;
DROP INDEX token_families_expires_idx;
