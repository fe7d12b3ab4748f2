CREATE INDEX token_families_expires_idx ON token_families (expires_at);
CREATE INDEX token_families_revoked_idx ON token_families (revoked_at);
CREATE INDEX refresh_tokens_application_idx ON refresh_tokens (application_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_application_id_fkey
    FOREIGN KEY (application_id) REFERENCES applications (id) ON DELETE CASCADE;
ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
