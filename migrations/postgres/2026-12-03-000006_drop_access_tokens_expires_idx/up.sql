-- No query reads access_tokens by expires_at any more: clean-up walks the table by where rows lie
-- (ctid page ranges on PostgreSQL, rowid ranges on SQLite), and every other lookup is by hash or
-- by user. The index cost each access-token row about 7 bytes and each insert an index write
-- (docs/benchmarks.md, "Bytes per token row").
DROP INDEX access_tokens_expires_idx;
