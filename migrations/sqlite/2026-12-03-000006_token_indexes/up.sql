-- No query reads access_tokens by expires_at any more: clean-up walks the table by rowid ranges,
-- and every other lookup is by hash or by user (docs/benchmarks.md, "Bytes per token row").
-- (Refresh tokens' hashes are already UNIQUE here; the PostgreSQL migration makes them so.)
DROP INDEX access_tokens_expires_idx;
