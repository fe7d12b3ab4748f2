-- scripts/bench --fill-tokens on SQLite: :access access tokens and :families token families with
-- one refresh token each, shaped like the rows the server writes, half of each dead.
-- Parameters (sqlite3's .parameter set, prepended by scripts/bench): :access, :families, :app_id,
-- :user_id, :now (Unix seconds).
--
-- The same rows as fill-tokens.postgres.sql (see there): row i is live when i % 4 is 0 or 2,
-- expired two days ago when 1, revoked two days ago when 3. SQLite has no SHA-256 function, so
-- token_hash is 32 random bytes, the same size as a real hash; current_hash too. One
-- transaction, one writer: the rowids are consecutive, so refresh token i links to the hash of
-- access token first + i * (access / families), found by rowid.
BEGIN IMMEDIATE;
CREATE TEMP TABLE fill_base AS
SELECT COALESCE((SELECT MAX(rowid) FROM access_tokens), 0) AS first_access;

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :access)
INSERT INTO access_tokens
    (token_hash, application_id, user_id, scope, issued_at, expires_at, revoked_at,
     credentials_version)
SELECT randomblob(32),
       :app_id,
       CASE WHEN i % 2 = 0 THEN :user_id END,
       'read',
       :now - 3600,
       CASE i % 4 WHEN 1 THEN :now - 172800 ELSE :now + 36000 END,
       CASE i % 4 WHEN 3 THEN :now - 172800 END,
       0
FROM n;

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :families)
INSERT INTO token_families
    (id, application_id, user_id, credentials_version, current_hash, created_at, expires_at,
     revoked_at)
SELECT printf('%s-%s-4%s-a%s-%s', substr(h, 1, 8), substr(h, 9, 4), substr(h, 14, 3),
              substr(h, 18, 3), substr(h, 21, 12)),
       :app_id, :user_id, 0, randomblob(32),
       :now - 7200,
       CASE i % 4 WHEN 1 THEN :now - 172800 ELSE :now + 2592000 END,
       CASE i % 4 WHEN 3 THEN :now - 172800 END
FROM (SELECT i, lower(hex(randomblob(16))) AS h FROM n);

-- The families in insertion (rowid) order are families 1..:families.
INSERT INTO refresh_tokens
    (token_hash, access_token_hash, application_id, user_id, family_id, scope, issued_at,
     expires_at, revoked_at)
SELECT current_hash,
       (SELECT a.token_hash FROM access_tokens AS a
        WHERE a.rowid = (SELECT first_access FROM fill_base) + rn * MAX(:access / :families, 1)),
       application_id, user_id, id, 'read', created_at, expires_at, revoked_at
FROM (SELECT f.*, ROW_NUMBER() OVER (ORDER BY f.rowid) AS rn
      FROM token_families AS f WHERE f.id NOT IN (SELECT family_id FROM refresh_tokens));

DROP TABLE fill_base;
COMMIT;
ANALYZE;
