//! Errors as the contract words them: RFC 6749 §5.2 bodies for the auth server, Django REST
//! framework `{"detail": …}` bodies for the resource server. 500s and 503s say nothing about the
//! cause to the client; the cause goes to the log.

use std::collections::BTreeMap;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::wire::{DetailBody, OAuthErrorBody};

/// A failure of the database layer, split by whether retrying later could help.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (pool timeout, connection lost): answer 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Query(diesel::result::Error),
    /// The data-access code panicked on the calling worker (see `Database::read`): answer 500.
    #[error("a database task panicked")]
    Panicked,
}

impl StoreError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }

    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(
            self,
            Self::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                _
            ))
        )
    }
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Self::Unavailable(info.message().to_string()),
            // SQLite reports a writer that waited out busy_timeout as "database is locked".
            Error::DatabaseError(_, ref info) if info.message().contains("database is locked") => {
                Self::Unavailable(info.message().to_string())
            }
            // A COMMIT that failed and could not be rolled back either: what matters is why the
            // commit failed, typically a connection lost at that very moment.
            Error::RollbackErrorOnCommit { commit_error, .. } => Self::from(*commit_error),
            // Diesel gives up on a connection whose rollback failed, which in practice means the
            // connection is gone; the pool discards it and the next request gets a fresh one.
            Error::BrokenTransactionManager => {
                Self::Unavailable("the connection broke during a transaction".into())
            }
            other => Self::Query(other),
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// RFC 6749 §5.2 error codes, plus the 503 the server answers while its database is away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    UnsupportedTokenType,
    TemporarilyUnavailable,
    ServerError,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::ServerError => "server_error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
    /// The client tried HTTP Basic: a 401 then carries `WWW-Authenticate: Basic`.
    pub basic_challenge: bool,
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            basic_challenge: false,
        }
    }

    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, d)
    }
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidClient, d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidGrant, d)
    }
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::UnauthorizedClient, d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidScope, d)
    }

    pub fn with_basic_challenge(mut self, basic: bool) -> Self {
        self.basic_challenge = basic;
        self
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => {
                log::warn!("database unavailable: {cause}");
                Self::new(
                    OAuthErrorCode::TemporarilyUnavailable,
                    "The service is temporarily unavailable.",
                )
            }
            cause @ (StoreError::Query(_) | StoreError::Panicked) => {
                log::error!("database error: {cause}");
                Self::new(OAuthErrorCode::ServerError, "Internal error.")
            }
        }
    }
}

impl From<diesel::result::Error> for OAuthError {
    fn from(e: diesel::result::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<r2d2::Error> for OAuthError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<actix_web::error::BlockingError> for OAuthError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        log::error!("a blocking task was cancelled");
        Self::new(OAuthErrorCode::ServerError, "Internal error.")
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        match self.code {
            OAuthErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            OAuthErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            OAuthErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if self.code == OAuthErrorCode::InvalidClient && self.basic_challenge {
            res.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="oauth""#));
        }
        res.json(OAuthErrorBody {
            error: self.code.as_str().to_string(),
            error_description: self.description.clone(),
        })
    }
}

pub const NOT_AUTHENTICATED: &str = "Authentication credentials were not provided.";
pub const PERMISSION_DENIED: &str = "You do not have permission to perform this action.";
pub const NOT_FOUND: &str = "Not found.";

/// The resource server's errors, in Django REST framework's shapes.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not authenticated")]
    NotAuthenticated,
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The token lacks the view's scopes; carries the scopes it would need.
    #[error("insufficient scope")]
    InsufficientScope(String),
    /// Authenticated with the right scopes but missing a model permission, or refused outright.
    #[error("permission denied")]
    PermissionDenied,
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("validation failed")]
    Validation(BTreeMap<String, Vec<String>>),
    #[error("unsupported media type")]
    UnsupportedMediaType(String),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    /// One field's validation error.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(BTreeMap::from([(field.to_string(), vec![message.into()])]))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => {
                Self::Unavailable(format!("database unavailable: {cause}"))
            }
            cause @ (StoreError::Query(_) | StoreError::Panicked) => {
                Self::Unexpected(anyhow::anyhow!("database error: {cause}"))
            }
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        Self::Unexpected(anyhow::anyhow!("a blocking task was cancelled"))
    }
}

fn detail(status: StatusCode, text: &str) -> HttpResponse {
    HttpResponse::build(status).json(DetailBody {
        detail: text.to_string(),
    })
}

fn with_challenge(mut res: HttpResponse, value: String) -> HttpResponse {
    if let Ok(v) = HeaderValue::from_str(&value) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotAuthenticated | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope(_) | Self::PermissionDenied => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) | Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            Self::NotAuthenticated => with_challenge(
                detail(status, NOT_AUTHENTICATED),
                r#"Bearer realm="api""#.into(),
            ),
            Self::InvalidToken(why) => with_challenge(
                detail(status, why),
                r#"Bearer realm="api", error="invalid_token""#.into(),
            ),
            Self::InsufficientScope(scope) => with_challenge(
                detail(status, PERMISSION_DENIED),
                format!(r#"Bearer realm="api", error="insufficient_scope", scope="{scope}""#),
            ),
            Self::PermissionDenied => detail(status, PERMISSION_DENIED),
            Self::NotFound => detail(status, NOT_FOUND),
            Self::BadRequest(why) => detail(status, why),
            Self::Validation(fields) => HttpResponse::build(status).json(fields),
            Self::UnsupportedMediaType(ct) => detail(
                status,
                &format!("Unsupported media type \"{ct}\" in request."),
            ),
            Self::PayloadTooLarge => detail(status, "Request body is too large."),
            Self::Unavailable(cause) => {
                log::warn!("answering 503: {cause}");
                detail(status, "Service temporarily unavailable, try again later.")
            }
            Self::Unexpected(cause) => {
                log::error!("internal error: {cause:#}");
                detail(status, "A server error occurred.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error};

    use super::*;

    #[test]
    fn a_connection_lost_at_commit_is_unavailable_not_a_query_error() {
        let lost = Error::RollbackErrorOnCommit {
            rollback_error: Box::new(Error::BrokenTransactionManager),
            commit_error: Box::new(Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection,
                Box::new("server closed the connection unexpectedly".to_string()),
            )),
        };
        assert!(matches!(StoreError::from(lost), StoreError::Unavailable(_)));
        assert!(matches!(
            StoreError::from(Error::BrokenTransactionManager),
            StoreError::Unavailable(_)
        ));
        let constraint = Error::RollbackErrorOnCommit {
            rollback_error: Box::new(Error::BrokenTransactionManager),
            commit_error: Box::new(Error::DatabaseError(
                DatabaseErrorKind::SerializationFailure,
                Box::new("could not serialize".to_string()),
            )),
        };
        assert!(matches!(StoreError::from(constraint), StoreError::Query(_)));
    }
}
