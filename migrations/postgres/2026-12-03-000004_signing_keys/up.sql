-- The OpenID Connect provider's signing keys: RSA 2048, the private key as unencrypted PKCS#8 PEM
-- (whoever can read this table can sign ID tokens; docs/security.md). kid is the key's RFC 7638
-- thumbprint. A key is published in the JWKS from created_at on and signs once every replica and
-- every cached JWKS has it; retired_at is when a newer key was added, after which it signs only
-- until that one takes over and stays published until the last ID token it signed has expired.
-- id orders the keys as they were added, which created_at, in whole seconds, cannot. The rows
-- are few: no other index.
CREATE TABLE signing_keys (
    id BIGSERIAL PRIMARY KEY,
    kid VARCHAR(64) NOT NULL UNIQUE,
    private_key_pem TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
