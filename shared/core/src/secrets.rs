//! Random tokens, hashing, and constant-time comparison.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::TryRngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::accounts::PASSWORD_MAX_BYTES;

/// Configured secrets are held in these, whose `Debug` never shows the value; re-exported so that
/// every crate uses the same `secrecy`.
pub use secrecy::{ExposeSecret, SecretString};

/// `bytes` random bytes from the OS generator, URL-safe base64 without padding.
pub fn random_urlsafe(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng
        .try_fill_bytes(&mut buf)
        .expect("the operating system's random generator failed");
    URL_SAFE_NO_PAD.encode(buf)
}

/// An opaque bearer or refresh token: 256 random bits, 43 URL-safe characters.
pub fn new_token() -> String {
    random_urlsafe(32)
}

pub fn new_client_id() -> String {
    random_urlsafe(24)
}

/// A client secret: 384 random bits.
pub fn new_client_secret() -> String {
    random_urlsafe(48)
}

/// SHA-256, hex. Tokens and client secrets are high-entropy, so a fast hash is enough: nobody can
/// guess their way back from it, and checking one costs microseconds, not a bcrypt round.
pub fn sha256_hex(value: &str) -> String {
    format!("{:x}", Sha256::digest(value.as_bytes()))
}

/// SHA-256, raw: what the token tables store.
pub fn sha256(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// True when `secret` hashes to `stored_hash`, compared in constant time.
pub fn verify_secret(secret: &str, stored_hash: &str) -> bool {
    constant_time_eq(sha256_hex(secret).as_bytes(), stored_hash.as_bytes())
}

/// bcrypt at a fixed cost, with a dummy hash at that cost so that a check for a user who does not
/// exist costs the same as one for a user who does.
#[derive(Clone)]
pub struct PasswordHasher {
    cost: u32,
    /// What the dummy check verifies (its result is ignored): not the password sent, which may
    /// be too long for bcrypt to read whole.
    dummy_input: String,
    dummy_hash: String,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("cost", &self.cost)
            .finish()
    }
}

impl PasswordHasher {
    pub fn new(cost: u32) -> anyhow::Result<Self> {
        let dummy_input = random_urlsafe(16);
        let dummy_hash = bcrypt::hash(&dummy_input, cost)?;
        Ok(Self {
            cost,
            dummy_input,
            dummy_hash,
        })
    }

    pub fn cost(&self) -> u32 {
        self.cost
    }

    /// Fails for a password longer than bcrypt reads, instead of hashing a cut-off prefix
    /// (`accounts::password_problem` refuses those first). The bcrypt crate's own
    /// `non_truncating_hash` is not used: it counts the terminating NUL and so refuses a
    /// 72-byte password, which bcrypt reads in full.
    pub fn hash(&self, password: &str) -> anyhow::Result<String> {
        if password.len() > PASSWORD_MAX_BYTES {
            anyhow::bail!(
                "a password longer than {PASSWORD_MAX_BYTES} bytes cannot be hashed whole"
            );
        }
        Ok(bcrypt::hash(password, self.cost)?)
    }

    /// Verifies against the stored hash, or against the dummy hash when there is none. A password
    /// longer than bcrypt reads matches nothing, not even a hash of its first 72 bytes; it still
    /// costs one bcrypt round, so its answer comes no sooner than any other.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        match stored {
            Some(hash) if password.len() <= PASSWORD_MAX_BYTES => {
                bcrypt::verify(password, hash).unwrap_or(false)
            }
            _ => {
                let _ = bcrypt::verify(&self.dummy_input, &self.dummy_hash);
                false
            }
        }
    }

    /// True when `stored` was hashed at another cost than this hasher's (or is no bcrypt hash):
    /// after a successful login it is hashed again, so that raising BCRYPT_COST needs no
    /// migration.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        stored
            .parse::<bcrypt::HashParts>()
            .map_or(true, |parts| parts.get_cost() != self.cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_url_safe_and_carry_256_bits() {
        let t = new_token();
        assert_eq!(t.len(), 43);
        assert!(t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(t, new_token());
    }

    #[test]
    fn hashes_are_lower_case_hex_sha256() {
        // FIPS 180-2's test vector: stored hashes must stay comparable across versions.
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_secret_verifies_only_against_its_own_hash() {
        let secret = new_client_secret();
        let hash = sha256_hex(&secret);
        assert!(verify_secret(&secret, &hash));
        assert!(!verify_secret("something else", &hash));
        assert!(!verify_secret(&secret, ""));
    }

    #[test]
    fn passwords_verify_and_a_missing_user_never_does() {
        let hasher = PasswordHasher::new(4).unwrap();
        let hash = hasher.hash("s3cret").unwrap();
        assert!(hasher.verify("s3cret", Some(&hash)));
        assert!(!hasher.verify("wrong", Some(&hash)));
        assert!(!hasher.verify("s3cret", None));
        assert!(!hasher.verify("s3cret", Some("not a bcrypt hash")));
    }

    #[test]
    fn a_hash_at_another_cost_needs_rehashing() {
        let hasher = PasswordHasher::new(4).unwrap();
        assert!(!hasher.needs_rehash(&hasher.hash("s3cret").unwrap()));
        let costlier = PasswordHasher::new(5).unwrap().hash("s3cret").unwrap();
        assert!(hasher.needs_rehash(&costlier));
        assert!(hasher.needs_rehash("not a bcrypt hash"));
    }

    #[test]
    fn a_password_past_72_bytes_is_neither_hashed_nor_matched_by_its_prefix() {
        let hasher = PasswordHasher::new(4).unwrap();
        let exact = "p".repeat(PASSWORD_MAX_BYTES);
        let hash = hasher.hash(&exact).unwrap();
        assert!(hasher.verify(&exact, Some(&hash)));
        // bcrypt itself would cut this to `exact` and accept it.
        assert!(!hasher.verify(&format!("{exact}p"), Some(&hash)));
        assert!(hasher.hash(&format!("{exact}p")).is_err());
        assert!(!hasher.verify(&format!("{exact}p"), None));
    }
}
