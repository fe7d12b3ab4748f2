//! What the userinfo endpoint and ID tokens say about a user, by scope: `sub` always,
//! `preferred_username` with `profile`, `email` with `email`.

use oauth_core::scopes::ScopeSet;
use serde::Serialize;
use store::models::User;

use super::{EMAIL_SCOPE, PROFILE_SCOPE};

/// Every claim about the user a token's scopes allow, as both the userinfo answer and the ID
/// token carry them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UserClaims {
    /// The user id as a string: stable, never reassigned, and not a login name.
    pub sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Always false with `email`: nobody checks that users own the addresses they give, and a
    /// relying party that links accounts by e-mail must be told so (OpenID Connect Core §5.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

impl UserClaims {
    pub fn of(user: &User, scope: &ScopeSet) -> Self {
        let email =
            (scope.contains(EMAIL_SCOPE) && !user.email.is_empty()).then(|| user.email.clone());
        Self {
            sub: user.id.to_string(),
            preferred_username: scope.contains(PROFILE_SCOPE).then(|| user.username.clone()),
            email_verified: email.as_ref().map(|_| false),
            email,
        }
    }
}

/// Every claim the provider may issue, for the discovery document.
pub const CLAIMS_SUPPORTED: [&str; 11] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "preferred_username",
    "email",
    "email_verified",
];

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn user(email: &str) -> User {
        User {
            id: 7,
            username: "tue".into(),
            email: email.into(),
            first_name: "Tue".into(),
            last_name: "Example".into(),
            password_hash: "$2b$04$x".into(),
            is_active: true,
            is_superuser: false,
            date_joined: 0,
            credentials_version: 0,
        }
    }

    fn claims(email: &str, scope: &str) -> serde_json::Value {
        let scope = ScopeSet::parse(scope).unwrap();
        serde_json::to_value(UserClaims::of(&user(email), &scope)).unwrap()
    }

    #[test]
    fn each_scope_adds_its_claims_and_nothing_else() {
        assert_eq!(
            claims("tue@example.com", "openid"),
            serde_json::json!({"sub": "7"})
        );
        assert_eq!(
            claims("tue@example.com", "openid profile"),
            serde_json::json!({"sub": "7", "preferred_username": "tue"})
        );
        assert_eq!(
            claims("tue@example.com", "openid email read"),
            serde_json::json!({"sub": "7", "email": "tue@example.com", "email_verified": false})
        );
    }

    #[test]
    fn a_blank_email_is_no_claim() {
        assert_eq!(claims("", "openid email"), serde_json::json!({"sub": "7"}));
    }
}
