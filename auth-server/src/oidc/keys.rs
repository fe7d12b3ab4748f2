//! RSA signing keys: making one, reading one back from its stored PEM, and its public half as a
//! JWK (RFC 7517). The key id is the RFC 7638 thumbprint of the public key, so it names the key
//! itself and two keys never share one.

use auth_store::models::{NewSigningKey, SigningKey};
use auth_store::signing_keys;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{DecodingKey, EncodingKey};
use oauth_core::audit::{self, Event};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use sha2::{Digest, Sha256};
use store::{Database, StoreError};

/// RSA 2048, the size OpenID Connect's RS256 expects and every relying party accepts.
pub const KEY_BITS: usize = 2048;
pub const ALGORITHM: &str = "RS256";

/// A new key. Slow (a prime search, a few tenths of a second): call it off the async workers.
pub fn generate() -> anyhow::Result<NewKey> {
    let private = rsa::PrivateKey::new(&mut getrandom::SysRng, KEY_BITS)
        .map_err(|e| anyhow::anyhow!("RSA key generation failed: {e}"))?;
    let pem = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("encoding the key as PKCS#8 failed: {e}"))?;
    Ok(NewKey {
        kid: PublicJwk::of(&private).kid,
        private_key_pem: pem.to_string(),
    })
}

/// A generated key, not yet stored.
pub struct NewKey {
    pub kid: String,
    private_key_pem: String,
}

impl NewKey {
    /// The row to store. `created_at` is when it is stored, not when it was generated: the
    /// publish delay counts from the moment replicas can read it.
    pub fn row(&self, created_at: i64) -> NewSigningKey {
        NewSigningKey {
            kid: self.kid.clone(),
            private_key_pem: self.private_key_pem.clone(),
            created_at,
        }
    }
}

/// Stores a first key when there is none (at start). Replicas that start together may each make
/// one, but only one is stored (`signing_keys::insert_first`).
pub async fn ensure_one(db: &Database) -> anyhow::Result<()> {
    if !db.run(signing_keys::is_empty).await? {
        return Ok(());
    }
    let key = tokio::task::spawn_blocking(generate).await??;
    let kid = key.kid.clone();
    if db
        .run(move |conn| -> Result<bool, StoreError> {
            signing_keys::insert_first(conn, &key.row(oauth_core::time::now()))
        })
        .await?
    {
        audit::record(Event::SigningKeyCreated)
            .field("kid", kid)
            .emit();
    }
    Ok(())
}

/// A stored key, read back: what signs with it and what publishes it.
pub struct ParsedKey {
    pub kid: String,
    /// PKCS#1 DER, the form `jsonwebtoken` signs with.
    pub encoding: EncodingKey,
    /// The public key, to read back ID tokens this server signed (`id_token_hint`).
    pub decoding: DecodingKey,
    pub jwk: PublicJwk,
}

impl std::fmt::Debug for ParsedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Reads a stored key back. Its kid must be its thumbprint: a row whose kid names another key
/// would publish one key and sign with another.
pub fn parse(row: &SigningKey) -> anyhow::Result<ParsedKey> {
    let private = rsa::PrivateKey::from_pkcs8_pem(&row.private_key_pem)
        .map_err(|e| anyhow::anyhow!("signing key {} is not a PKCS#8 RSA key: {e}", row.kid))?;
    if private.size() * 8 < KEY_BITS {
        anyhow::bail!("signing key {} is shorter than {KEY_BITS} bits", row.kid);
    }
    let jwk = PublicJwk::of(&private);
    if jwk.kid != row.kid {
        anyhow::bail!("signing key {} has the thumbprint {}", row.kid, jwk.kid);
    }
    let der = private
        .to_pkcs1_der()
        .map_err(|e| anyhow::anyhow!("signing key {} cannot be encoded: {e}", row.kid))?;
    Ok(ParsedKey {
        kid: jwk.kid.clone(),
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        decoding: DecodingKey::from_rsa_raw_components(&private.n_bytes(), &private.e_bytes()),
        jwk,
    })
}

/// The public half of a key as the JWKS lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PublicJwk {
    pub kty: &'static str,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    /// Modulus and exponent, big-endian without leading zeros, base64url without padding.
    pub n: String,
    pub e: String,
}

impl PublicJwk {
    fn of(key: &impl PublicKeyParts) -> Self {
        let n = URL_SAFE_NO_PAD.encode(key.n_bytes());
        let e = URL_SAFE_NO_PAD.encode(key.e_bytes());
        Self {
            kty: "RSA",
            kid: thumbprint(&n, &e),
            use_: "sig",
            alg: ALGORITHM,
            n,
            e,
        }
    }
}

/// RFC 7638 §3: SHA-256 of the required members in lexicographic order, without whitespace.
/// Base64url text needs no JSON escaping.
fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The row as the database gives it back.
    pub(crate) fn stored(new: NewSigningKey) -> SigningKey {
        SigningKey {
            id: 1,
            kid: new.kid,
            private_key_pem: new.private_key_pem,
            created_at: new.created_at,
            retired_at: None,
        }
    }

    #[test]
    fn a_generated_key_reads_back_with_its_thumbprint_as_kid() {
        let started = std::time::Instant::now();
        let key = stored(generate().unwrap().row(1_700_000_000));
        eprintln!("generated a {KEY_BITS}-bit key in {:?}", started.elapsed());
        assert!(key
            .private_key_pem
            .starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(key.kid.len(), 43);
        let parsed = parse(&key).unwrap();
        assert_eq!(parsed.kid, key.kid);
        assert_eq!(parsed.jwk.e, "AQAB");
        // 2048 bits are 256 bytes, 342 base64url characters.
        assert_eq!(parsed.jwk.n.len(), 342);
        let shown = format!("{parsed:?} {key:?}");
        assert!(!shown.contains("PRIVATE"), "{shown}");
    }

    #[test]
    fn a_row_whose_kid_names_another_key_is_refused() {
        let mut key = stored(generate().unwrap().row(0));
        key.kid = "someone-else".into();
        assert!(parse(&key).unwrap_err().to_string().contains("thumbprint"));
        key.private_key_pem =
            "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n".into();
        assert!(parse(&key).is_err());
    }

    #[test]
    fn the_thumbprint_follows_rfc_7638() {
        // RFC 7638 §3.1's example key and its thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
