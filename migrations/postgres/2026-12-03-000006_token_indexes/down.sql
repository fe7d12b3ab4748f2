ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_token_hash_key;
ALTER TABLE refresh_tokens
    ADD CONSTRAINT refresh_tokens_token_hash_excl EXCLUDE USING hash (token_hash WITH =);
CREATE INDEX access_tokens_expires_idx ON access_tokens (expires_at);
