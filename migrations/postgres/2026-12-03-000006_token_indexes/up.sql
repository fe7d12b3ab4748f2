-- 1. No query reads access_tokens by expires_at any more: clean-up walks the table by where rows
-- lie (ctid page ranges), and every other lookup is by hash or by user. The index cost each
-- access-token row about 7 bytes and each insert an index write (docs/benchmarks.md, "Bytes
-- per token row").
DROP INDEX access_tokens_expires_idx;

-- 2. A refresh token's hash is unique in a btree again, not through an exclusion constraint on a
-- hash index. The planner cannot tell that a hash index holds each value once, so when the
-- tables had grown since their statistics were taken it expected several rows and chose to hash
-- the whole family table for every refresh; the refresh grant's statements are prepared once per
-- connection, so that plan stayed (docs/benchmarks.md, "The refresh grant in the open loop").
-- A unique index tells the planner one row at most, whatever the statistics say. Access tokens
-- keep their hash index: their lookups join only small tables, and they are the rows whose size
-- counts.
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_token_hash_excl;
ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash);
