-- scripts/bench --fill-tokens on PostgreSQL: :access access tokens and :families token families
-- with one refresh token each, shaped like the rows the server writes, half of each dead.
-- Variables (psql -v): access, families, app_id, user_id, now (Unix seconds).
--
-- Row i (1-based) is live when i % 4 is 0 or 2, expired two days ago when it is 1 and revoked two
-- days ago when it is 3, so dead and live rows interleave on every page and in every index, as
-- after months of traffic (the worst case for a clean-up that walks the table). Access tokens
-- alternate between a user's (password grant) and the client's own (client_credentials); each
-- refresh token links to an access token, as issued.
--
-- token_hash is the SHA-256 of a made-up token, 32 raw bytes as the server stores it; so is
-- current_hash, and a refresh token's link to its access token is that token's hash.
\set ON_ERROR_STOP on
BEGIN;

INSERT INTO access_tokens
    (token_hash, application_id, user_id, scope, issued_at, expires_at, revoked_at,
     credentials_version)
SELECT sha256(convert_to('bench-fill-access-' || i, 'UTF8')),
       :app_id,
       CASE WHEN i % 2 = 0 THEN :user_id END,
       'read',
       :now - 3600,
       CASE i % 4 WHEN 1 THEN :now - 172800 ELSE :now + 36000 END,
       CASE i % 4 WHEN 3 THEN :now - 172800 END,
       0
FROM generate_series(1, :access) AS i;

INSERT INTO token_families
    (id, application_id, user_id, credentials_version, current_hash, created_at, expires_at,
     revoked_at)
SELECT md5('bench-fill-family-' || i)::uuid::text,
       :app_id,
       :user_id,
       0,
       sha256(convert_to('bench-fill-refresh-' || i, 'UTF8')),
       :now - 7200,
       CASE i % 4 WHEN 1 THEN :now - 172800 ELSE :now + 2592000 END,
       CASE i % 4 WHEN 3 THEN :now - 172800 END
FROM generate_series(1, :families) AS i;

-- Refresh token i links to access token i * (access / families), by its hash.
INSERT INTO refresh_tokens
    (token_hash, access_token_hash, application_id, user_id, family_id, scope, issued_at,
     expires_at, revoked_at)
SELECT sha256(convert_to('bench-fill-refresh-' || i, 'UTF8')),
       sha256(convert_to('bench-fill-access-' || (i * GREATEST(:access / :families, 1)), 'UTF8')),
       :app_id,
       :user_id,
       md5('bench-fill-family-' || i)::uuid::text,
       'read',
       :now - 7200,
       CASE i % 4 WHEN 1 THEN :now - 172800 ELSE :now + 2592000 END,
       CASE i % 4 WHEN 3 THEN :now - 172800 END
FROM generate_series(1, :families) AS i;

COMMIT;
VACUUM ANALYZE access_tokens;
VACUUM ANALYZE token_families;
VACUUM ANALYZE refresh_tokens;
-- The fill dirties gigabytes of buffers in minutes, where real tables fill over days: written out
-- now, before the measurements, rather than by the checkpointer during them.
CHECKPOINT;
