//! The authorization endpoint (RFC 6749 §4.1.1, RFC 7636, RFC 9207, OpenID Connect Core §3.1.2):
//! checking an authorize request, deciding what the browser must do next, and issuing the code.
//! The pages and cookies are the HTTP layer's; nothing here knows actix.

use std::sync::Arc;

use auth_store::models::{Application, AuthorizationCode, BrowserSession};
use auth_store::{applications, authorization_codes, consents};
use oauth_core::scopes::ScopeSet;
use oauth_core::secrets::new_token;
use store::{DbConnection, StoreError};
use url::Url;

use super::{authorization_code, resolve_scope, Params};
use crate::error::OAuthError;
use crate::pkce;
use crate::redirect_uris::is_registered;
use crate::services::Services;
use crate::token_strategy::TokenStrategy;

/// An authorize request that passed every check.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub app: Arc<Application>,
    /// Where the answer goes: the one sent, or the client's only registered one.
    pub redirect_uri: String,
    /// Whether the request named it, which the token request must then repeat.
    pub redirect_uri_sent: bool,
    pub scope: ScopeSet,
    pub state: Option<String>,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub prompt: Prompt,
}

/// OpenID Connect's `prompt`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// Why a request is refused, and so where the answer goes.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The client or its redirect URI cannot be trusted: an error page on the auth server, never
    /// a redirect (RFC 6749 §4.1.2.1).
    Page(String),
    /// Told to the client at its redirect URI.
    Redirect(Redirect),
    /// The database is away or failed: a page too.
    Server(OAuthError),
}

impl From<StoreError> for AuthorizeError {
    fn from(e: StoreError) -> Self {
        Self::Server(e.into())
    }
}

/// A redirect back to the client, with the code or the error, `state` and `iss`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect(pub String);

impl Redirect {
    /// `redirect_uri` with `params`, then `state` and `iss`, added to its query.
    pub fn to(
        redirect_uri: &str,
        params: &[(&str, &str)],
        state: Option<&str>,
        issuer: &str,
    ) -> Self {
        // The URI was registered, so it parses; its own query, if any, is kept (RFC 6749 §3.1.2).
        let mut url = match Url::parse(redirect_uri) {
            Ok(url) => url,
            Err(_) => return Self(redirect_uri.to_string()),
        };
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in params {
                query.append_pair(name, value);
            }
            if let Some(state) = state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", issuer);
        }
        Self(url.into())
    }
}

impl AuthorizeRequest {
    /// An error for the client, at its redirect URI.
    pub fn error(&self, issuer: &str, error: &str, description: &str) -> AuthorizeError {
        AuthorizeError::Redirect(Redirect::to(
            &self.redirect_uri,
            &[("error", error), ("error_description", description)],
            self.state.as_deref(),
            issuer,
        ))
    }
}

/// Longest `state` and `nonce` kept: they come back in a URL and an ID token.
const MAX_OPAQUE_CHARS: usize = 1000;

/// Checks the request: first the client and its redirect URI (failures show a page), then the
/// rest (failures go back to the client).
pub fn check(
    services: &Services,
    conn: &mut DbConnection,
    params: &impl Params,
) -> Result<AuthorizeRequest, AuthorizeError> {
    let Some(client_id) = params.get("client_id") else {
        return Err(AuthorizeError::Page(
            "The request names no client (client_id).".into(),
        ));
    };
    let app = match client_id.len() <= 100 {
        true => applications::find_by_client_id(conn, client_id)?,
        false => None,
    };
    let Some(app) = app else {
        return Err(AuthorizeError::Page("The client is unknown.".into()));
    };
    let registered: Vec<&str> = app.redirect_uris().collect();
    let (redirect_uri, redirect_uri_sent) = match params.get("redirect_uri") {
        Some(uri) if is_registered(uri, registered.iter().copied(), !app.is_confidential()) => {
            (uri.to_string(), true)
        }
        Some(_) => {
            return Err(AuthorizeError::Page(
                "The redirect_uri is not registered for this client.".into(),
            ))
        }
        None if registered.len() == 1 => (registered[0].to_string(), false),
        None => {
            return Err(AuthorizeError::Page(
                "The request names no redirect_uri, and the client has none or several.".into(),
            ))
        }
    };
    let state = params.get("state").map(str::to_string);
    let mut request = AuthorizeRequest {
        app: Arc::new(app),
        redirect_uri,
        redirect_uri_sent,
        scope: ScopeSet::default(),
        state,
        code_challenge: String::new(),
        nonce: None,
        prompt: Prompt::default(),
    };
    let refuse = |request: &AuthorizeRequest, error: &str, description: &str| {
        Err(request.error(&services.issuer, error, description))
    };
    if request
        .state
        .as_ref()
        .is_some_and(|s| s.len() > MAX_OPAQUE_CHARS)
    {
        // Too long to send back: the client gets its answer without it.
        request.state = None;
        return refuse(&request, "invalid_request", "The state is too long.");
    }
    match params.get("response_type") {
        Some("code") => {}
        Some(_) => {
            return refuse(
                &request,
                "unsupported_response_type",
                "Only response_type=code is supported.",
            )
        }
        None => return refuse(&request, "invalid_request", "Missing response_type."),
    }
    if !request.app.allows_grant(authorization_code::GRANT_TYPE) {
        return refuse(
            &request,
            "unauthorized_client",
            "The client may not use the authorization code grant.",
        );
    }
    match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (Some(challenge), Some(pkce::S256)) if pkce::is_valid_challenge(challenge) => {
            request.code_challenge = challenge.to_string();
        }
        (Some(_), Some(pkce::S256)) => {
            return refuse(
                &request,
                "invalid_request",
                "The code_challenge must be 43 characters of base64url (S256).",
            )
        }
        (None, _) => {
            return refuse(
                &request,
                "invalid_request",
                "PKCE is required: send code_challenge and code_challenge_method=S256.",
            )
        }
        (Some(_), _) => {
            return refuse(
                &request,
                "invalid_request",
                "Only code_challenge_method=S256 is supported.",
            )
        }
    }
    match params.get("nonce") {
        Some(nonce) if nonce.len() > MAX_OPAQUE_CHARS => {
            return refuse(&request, "invalid_request", "The nonce is too long.")
        }
        nonce => request.nonce = nonce.map(str::to_string),
    }
    request.prompt = match parse_prompt(params.get("prompt")) {
        Ok(prompt) => prompt,
        Err(description) => return refuse(&request, "invalid_request", description),
    };
    request.scope = match resolve_scope(services, &request.app, params.get("scope")) {
        Ok(scope) => scope,
        Err(e) => return refuse(&request, "invalid_scope", &e.description),
    };
    Ok(request)
}

pub fn parse_prompt(raw: Option<&str>) -> Result<Prompt, &'static str> {
    let mut prompt = Prompt::default();
    for value in raw.unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            // Only one account per browser session: nothing to select.
            "select_account" => {}
            _ => return Err("The prompt must be none, login or consent."),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err("prompt=none cannot be combined with another value.");
    }
    Ok(prompt)
}

/// What the browser must do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Login,
    Consent,
    /// Signed in and approved: the code can be issued.
    Approved,
}

/// The next step for a browser in `session` (None: not signed in). `fresh_login`: the user has
/// just entered their password, which satisfies `prompt=login`.
pub fn next_step(
    services: &Services,
    conn: &mut DbConnection,
    request: &AuthorizeRequest,
    session: Option<&BrowserSession>,
    fresh_login: bool,
) -> Result<Next, AuthorizeError> {
    let Some(session) = session.filter(|_| fresh_login || !request.prompt.login) else {
        if request.prompt.none {
            return Err(request.error(
                &services.issuer,
                "login_required",
                "The user is not signed in.",
            ));
        }
        return Ok(Next::Login);
    };
    if needs_consent(conn, request, session)? {
        if request.prompt.none {
            return Err(request.error(
                &services.issuer,
                "consent_required",
                "The user has not approved this client.",
            ));
        }
        return Ok(Next::Consent);
    }
    Ok(Next::Approved)
}

/// A first-party client never asks; a public one always does (RFC 8252 §8.6: anyone can claim
/// its client_id); a confidential one asks for scopes not approved before, or when told to.
fn needs_consent(
    conn: &mut DbConnection,
    request: &AuthorizeRequest,
    session: &BrowserSession,
) -> Result<bool, StoreError> {
    let app = &request.app;
    if app.skip_consent {
        return Ok(false);
    }
    if !app.is_confidential() || request.prompt.consent {
        return Ok(true);
    }
    let approved = consents::approved(conn, app.id, session.user_id)?;
    Ok(!request.scope.is_subset(&approved))
}

/// The user approved: remembered for a confidential client, so that it need not ask again.
pub fn record_consent(
    services: &Services,
    conn: &mut DbConnection,
    request: &AuthorizeRequest,
    session: &BrowserSession,
) -> Result<(), StoreError> {
    if request.app.is_confidential() {
        consents::approve(
            conn,
            request.app.id,
            session.user_id,
            &request.scope,
            services.clock.now(),
        )?;
    }
    Ok(())
}

/// Issues a code for the signed-in user, bound to everything the token request must match, and
/// the redirect that carries it.
pub fn issue_code(
    services: &Services,
    conn: &mut DbConnection,
    request: &AuthorizeRequest,
    session: &BrowserSession,
) -> Result<Redirect, StoreError> {
    let code = new_token();
    let now = services.clock.now();
    authorization_codes::insert(
        conn,
        &AuthorizationCode {
            code_hash: TokenStrategy::lookup_key(&code),
            application_id: request.app.id,
            user_id: session.user_id,
            credentials_version: session.credentials_version,
            redirect_uri: request
                .redirect_uri_sent
                .then(|| request.redirect_uri.clone()),
            code_challenge: request.code_challenge.clone(),
            scope: request.scope.to_string(),
            nonce: request.nonce.clone(),
            auth_time: session.auth_time,
            issued_at: now,
            expires_at: now + services.tokens.code_seconds,
            used_at: None,
            access_token_hash: None,
            family_id: None,
        },
    )?;
    Ok(Redirect::to(
        &request.redirect_uri,
        &[("code", &code)],
        request.state.as_deref(),
        &services.issuer,
    ))
}

/// The user said no.
pub fn deny(services: &Services, request: &AuthorizeRequest) -> AuthorizeError {
    request.error(
        &services.issuer,
        "access_denied",
        "The user denied the request.",
    )
}
