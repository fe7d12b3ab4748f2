-- A refresh token's client and owner are its family's: the family row references both, and
-- deleting a client or a user deletes its families, whose refresh tokens go with them (the
-- family key cascades). The refresh token's own references to the client and the user, and the
-- indexes those deletes used, only repeated that: each rotation paid two foreign-key checks
-- (a row lock on the client and on the user, shared by every concurrent refresh) and two index
-- entries for it (docs/benchmarks.md, "Refresh rotation in one statement"). The columns stay, as
-- copies of the family's, which the refresh grant reads with the token.
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_application_id_fkey;
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_user_id_fkey;
DROP INDEX refresh_tokens_application_idx;
DROP INDEX refresh_tokens_user_idx;

-- No query finds families by revoked_at or expires_at: clean-up walks them by id, and the
-- rotation's claim and the revocation find the family by id. With these indexes, a claim
-- prepared while the statistics were stale (a family table that had grown since the last
-- ANALYZE) read every unrevoked family through the revoked_at index, for every refresh.
DROP INDEX token_families_revoked_idx;
DROP INDEX token_families_expires_idx;
