//! The resource server's errors in Django REST framework's shapes, and their HTTP answers. A 500
//! or 503 says nothing about the cause to the client; the cause goes to the log.

use std::collections::BTreeMap;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use store::StoreError;
use utoipa::ToSchema;

/// Django REST framework's error body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(as = Detail)]
pub struct DetailBody {
    pub detail: String,
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
