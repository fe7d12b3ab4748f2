-- Timestamps are Unix seconds (BIGINT) so that both backends compare them the same way.
CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    username VARCHAR(150) NOT NULL UNIQUE,
    email VARCHAR(254) NOT NULL DEFAULT '',
    first_name VARCHAR(150) NOT NULL DEFAULT '',
    last_name VARCHAR(150) NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    is_superuser BOOLEAN NOT NULL DEFAULT FALSE,
    date_joined BIGINT NOT NULL
);
CREATE INDEX users_email_lower_idx ON users (lower(email));

CREATE TABLE groups (
    id SERIAL PRIMARY KEY,
    name VARCHAR(150) NOT NULL UNIQUE
);

CREATE TABLE permissions (
    id SERIAL PRIMARY KEY,
    codename VARCHAR(100) NOT NULL UNIQUE,
    name VARCHAR(255) NOT NULL
);

CREATE TABLE user_groups (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_groups_group_idx ON user_groups (group_id);

CREATE TABLE group_permissions (
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    permission_id INTEGER NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, permission_id)
);
CREATE INDEX group_permissions_permission_idx ON group_permissions (permission_id);

-- Deleting a user deletes the applications they own and, through them, every token.
CREATE TABLE applications (
    id SERIAL PRIMARY KEY,
    client_id VARCHAR(100) NOT NULL UNIQUE,
    client_secret_hash VARCHAR(64),
    name VARCHAR(255) NOT NULL,
    client_type VARCHAR(32) NOT NULL CHECK (client_type IN ('confidential', 'public')),
    grant_types TEXT NOT NULL,
    allowed_scopes TEXT NOT NULL,
    default_scopes TEXT NOT NULL,
    can_introspect BOOLEAN NOT NULL DEFAULT FALSE,
    owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX applications_owner_idx ON applications (owner_id);

CREATE TABLE access_tokens (
    id BIGSERIAL PRIMARY KEY,
    token_hash VARCHAR(64) NOT NULL UNIQUE,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX access_tokens_application_idx ON access_tokens (application_id);
CREATE INDEX access_tokens_user_idx ON access_tokens (user_id);
CREATE INDEX access_tokens_expires_idx ON access_tokens (expires_at);

-- family_id ties every refresh token descended from one grant, for reuse detection.
CREATE TABLE refresh_tokens (
    id BIGSERIAL PRIMARY KEY,
    token_hash VARCHAR(64) NOT NULL UNIQUE,
    access_token_id BIGINT REFERENCES access_tokens (id) ON DELETE SET NULL,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id VARCHAR(36) NOT NULL,
    scope TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_access_token_idx ON refresh_tokens (access_token_id);
CREATE INDEX refresh_tokens_application_idx ON refresh_tokens (application_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    account VARCHAR(300) NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX login_failures_account_idx ON login_failures (account, failed_at);

CREATE TABLE albums (
    id SERIAL PRIMARY KEY,
    artist_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name VARCHAR(100) NOT NULL,
    release_date DATE NOT NULL,
    num_stars INTEGER NOT NULL CHECK (num_stars BETWEEN 0 AND 5)
);
CREATE INDEX albums_artist_idx ON albums (artist_id);

CREATE TABLE songs (
    id SERIAL PRIMARY KEY,
    album_id INTEGER NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    title VARCHAR(100) NOT NULL,
    duration_seconds INTEGER NOT NULL CHECK (duration_seconds >= 0)
);
CREATE INDEX songs_album_idx ON songs (album_id);
