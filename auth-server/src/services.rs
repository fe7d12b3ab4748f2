//! The service value every flow takes: what a flow needs from the world, and nothing from HTTP.

use auth_store::models::NewAccessToken;
use auth_store::tokens::{self, Rotation};
use oauth_core::scopes::ScopeSet;
use oauth_core::secrets::PasswordHasher;
use store::batch::Batcher;
use store::Database;

use crate::clients::ClientAuthenticator;
use crate::metrics::AuthMetrics;
use crate::oidc::key_ring::KeyRing;
use crate::throttle::LoginThrottle;
use crate::token_strategy::TokenStrategy;

pub struct Services {
    pub db: Database,
    /// The busiest token writes, committed in batches.
    pub writes: TokenWrites,
    /// The issuer (RFC 8414, RFC 9207): the base of every URL the server announces.
    pub issuer: String,
    pub clock: Clock,
    pub hasher: PasswordHasher,
    pub throttle: LoginThrottle,
    pub tokens: TokenStrategy,
    /// How long a browser stays signed in.
    pub session_seconds: i64,
    pub clients: ClientAuthenticator,
    /// Every scope a client may ever be granted.
    pub scopes: ScopeSet,
    /// The OpenID Connect signing keys, and the ID token lifetime they are kept for.
    pub keys: KeyRing,
    pub metrics: AuthMetrics,
}

/// Where flows read the time: the system clock, or a fixed instant in tests of expiry.
#[derive(Debug, Clone, Copy, Default)]
pub enum Clock {
    #[default]
    System,
    Fixed(i64),
}

impl Clock {
    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        match self {
            Self::System => oauth_core::time::now(),
            Self::Fixed(t) => *t,
        }
    }
}

/// The token writes that come in at thousands a second, each gathered with those that arrive
/// while an earlier one commits (group commit; `store::batch`). Each caller still hears only
/// after its own row is committed.
pub struct TokenWrites {
    /// client_credentials tokens.
    pub access: Batcher<NewAccessToken, ()>,
    /// Refresh rotations: `true` for the one caller whose claim won.
    pub rotations: Batcher<Rotation, bool>,
}

impl TokenWrites {
    pub fn new(db: &Database) -> Self {
        Self {
            access: Batcher::new(db.clone(), "access_tokens", tokens::insert_access_batch),
            rotations: Batcher::new(
                db.clone(),
                "refresh_rotations",
                tokens::rotate_refresh_batch,
            ),
        }
    }
}
