//! From the `Authorization` header to who is asking and with which scopes.

use http_service::bearer::{bearer_credentials, Credentials, MalformedBearer};

use crate::error::ApiError;
use crate::policy::Caller;
use actix_web::dev::Payload;
use actix_web::http::header::HeaderMap;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::introspection::{ActiveToken, IntrospectionError, Introspector, TokenStatus};

/// Who the request acts for, once the policy has let it through. Handlers take it as an
/// extractor; routes without a policy have none.
#[derive(Debug, Clone)]
pub enum Principal {
    Anonymous,
    Token(ActiveToken),
}

impl Principal {
    /// Introspects the request's bearer token, if it has one.
    /// `request_id` goes on to the auth server with the introspection request.
    pub async fn authenticate(
        headers: &HeaderMap,
        introspector: &Introspector,
        request_id: Option<&str>,
    ) -> Result<Self, ApiError> {
        let token = match bearer_credentials(headers) {
            Ok(Credentials::None) => return Ok(Self::Anonymous),
            Ok(Credentials::Bearer(token)) => token,
            Err(MalformedBearer) => {
                return Err(ApiError::InvalidToken("Invalid bearer token.".into()))
            }
        };
        match introspector.introspect(token, request_id).await {
            Ok(TokenStatus::Active(active)) => Ok(Self::Token(active)),
            Ok(TokenStatus::Inactive) => Err(ApiError::InvalidToken(
                "The access token is invalid, expired or revoked.".into(),
            )),
            Err(IntrospectionError { cause, .. }) => {
                introspector.metrics().answered_unavailable();
                Err(ApiError::Unavailable(cause))
            }
        }
    }

    pub fn caller(&self) -> Caller<'_> {
        match self {
            Self::Anonymous => Caller::Anonymous,
            Self::Token(t) => Caller::Token(&t.scopes),
        }
    }

    /// The user the token acts for; a client_credentials token acts for none.
    pub fn user_id(&self) -> Option<i32> {
        match self {
            Self::Anonymous => None,
            Self::Token(t) => t.user_id,
        }
    }
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    /// The enforcement middleware stores the principal; a handler on an open route gets none.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .ok_or(ApiError::NotAuthenticated),
        )
    }
}
