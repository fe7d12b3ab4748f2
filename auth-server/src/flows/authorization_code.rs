//! The authorization code grant's token request (RFC 6749 §4.1.3, RFC 7636 §4.5): a code the
//! authorize endpoint issued, redeemed once by the client it was issued to, with the verifier of
//! its PKCE challenge. A code presented again revokes what its first exchange issued.

use std::net::IpAddr;
use std::sync::Arc;

use auth_store::authorization_codes::{self, Claim};
use auth_store::models::{Application, AuthorizationCode};
use auth_store::tokens;
use diesel::Connection;
use oauth_core::audit::{self, Event};
use oauth_core::scopes::ScopeSet;
use oauth_core::wire::TokenResponse;
use store::{users, DbConnection, StoreError};

use super::{authorize_client, client_vanished, Params};
use crate::clients::PresentedClient;
use crate::error::OAuthError;
use crate::oidc::id_token::{self, IdTokenRequest};
use crate::oidc::OPENID_SCOPE;
use crate::pkce;
use crate::services::Services;
use crate::token_strategy::{Owner, TokenStrategy};

pub const GRANT_TYPE: &str = "authorization_code";

pub struct CodeRequest {
    pub code: String,
    pub redirect_uri: Option<String>,
    pub code_verifier: String,
}

/// Never the code or the verifier.
impl std::fmt::Debug for CodeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeRequest")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl CodeRequest {
    pub fn parse(params: &impl Params) -> Result<Self, OAuthError> {
        let code_verifier = params.required("code_verifier")?;
        if !pkce::is_valid_verifier(code_verifier) {
            return Err(OAuthError::invalid_request(
                "The code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~.",
            ));
        }
        Ok(Self {
            code: params.required("code")?.to_string(),
            redirect_uri: params.get("redirect_uri").map(str::to_string),
            code_verifier: code_verifier.to_string(),
        })
    }
}

const BAD_CODE: &str = "The authorization code is invalid, expired or already used.";

/// What the exchange decided. A refusal is returned as a value, not an error, so that the
/// transaction still commits: the code stays used, and a replay's revocations stay done.
enum Outcome {
    Issued(TokenResponse),
    Refused(OAuthError),
}

pub async fn issue(
    services: Arc<Services>,
    client: Option<PresentedClient>,
    request: CodeRequest,
    peer: Option<IpAddr>,
) -> Result<TokenResponse, OAuthError> {
    let s = services.clone();
    let outcome = services
        .db
        .run(move |conn| -> Result<Outcome, OAuthError> {
            let app = authorize_client(&s, conn, client.as_ref(), GRANT_TYPE)?;
            conn.transaction::<_, OAuthError, _>(|conn| exchange(&s, conn, &app, &request, peer))
        })
        .await?;
    match outcome {
        Outcome::Issued(response) => Ok(response),
        Outcome::Refused(e) => Err(e),
    }
}

fn exchange(
    services: &Services,
    conn: &mut DbConnection,
    app: &Application,
    request: &CodeRequest,
    peer: Option<IpAddr>,
) -> Result<Outcome, OAuthError> {
    let now = services.clock.now();
    let code_hash = TokenStrategy::lookup_key(&request.code);
    let code = match authorization_codes::claim(conn, &code_hash, now)? {
        Claim::Claimed(code) => code,
        Claim::Unknown => return Ok(Outcome::Refused(OAuthError::invalid_grant(BAD_CODE))),
        Claim::Replayed(code) => {
            // RFC 6749 §4.1.2: whoever presents it, a code seen twice has leaked.
            revoke_issued(conn, &code, now)?;
            services.metrics.replay_detected(GRANT_TYPE);
            audit::record(Event::AuthorizationCodeReuse)
                .field("user_id", code.user_id)
                .field("client_id", &app.client_id)
                .optional("peer", peer)
                .emit();
            return Ok(Outcome::Refused(OAuthError::invalid_grant(BAD_CODE)));
        }
    };
    if let Some(problem) = binding_problem(&code, app, request, now) {
        return Ok(Outcome::Refused(OAuthError::invalid_grant(problem)));
    }
    let Some(user) = users::find(conn, code.user_id)?
        .filter(|u| u.is_active && u.credentials_version == code.credentials_version)
    else {
        return Ok(Outcome::Refused(OAuthError::invalid_grant(BAD_CODE)));
    };
    let scope = ScopeSet::parse_lenient(&code.scope);
    let owner = Owner {
        id: user.id,
        credentials_version: user.credentials_version,
    };
    let access = services.tokens.access(app, Some(owner), &scope, now);
    let refresh = app.allows_grant(super::refresh_token::GRANT_TYPE).then(|| {
        let family = services.tokens.new_family(app, owner, now);
        let token = services.tokens.refresh(&family, &code.scope, now);
        (family, token)
    });
    tokens::insert_grant(
        conn,
        &access.row,
        refresh.as_ref().map(|(family, r)| (family, &r.row)),
    )
    .map_err(client_vanished)?;
    authorization_codes::record_issued(
        conn,
        &code_hash,
        &access.row.token_hash,
        refresh.as_ref().map(|(family, _)| family.id.as_str()),
    )?;
    let id_token = if scope.contains(OPENID_SCOPE) {
        Some(id_token::mint(
            services,
            conn,
            &IdTokenRequest {
                client_id: &app.client_id,
                user: &user,
                scope: &scope,
                nonce: code.nonce.as_deref(),
                auth_time: code.auth_time,
                access_token: &access.token,
                issued_at: now,
            },
        )?)
    } else {
        None
    };
    let mut response =
        services
            .tokens
            .response(&scope, access.token, refresh.map(|(_, r)| r.token));
    response.id_token = id_token;
    Ok(Outcome::Issued(response))
}

/// Why the code cannot be redeemed by this request, if it cannot.
fn binding_problem(
    code: &AuthorizationCode,
    app: &Application,
    request: &CodeRequest,
    now: i64,
) -> Option<&'static str> {
    if code.application_id != app.id || code.expires_at <= now {
        return Some(BAD_CODE);
    }
    // RFC 6749 §4.1.3: required, and identical, when the authorize request included it.
    if code.redirect_uri.as_deref() != request.redirect_uri.as_deref() {
        return Some("The redirect_uri does not match the authorization request.");
    }
    if !pkce::verifier_matches(&request.code_verifier, &code.code_challenge) {
        return Some("The code_verifier does not match the code_challenge.");
    }
    None
}

fn revoke_issued(
    conn: &mut DbConnection,
    code: &AuthorizationCode,
    now: i64,
) -> Result<(), StoreError> {
    if let Some(hash) = &code.access_token_hash {
        tokens::revoke_access(conn, hash, now)?;
    }
    if let Some(family) = &code.family_id {
        tokens::revoke_family(conn, family, now)?;
    }
    Ok(())
}
