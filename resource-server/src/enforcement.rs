//! Applies a route's policy before its handler runs: first the token (401, or 403 with the
//! scopes it lacks), then the model permission (403), and only then does the handler look any
//! object up, so a caller without `delete_user` learns nothing about which users exist.

use crate::error::ApiError;
use crate::policy::{Decision, Policy};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use http_service::request_id::RequestId;
use store::{users, Database};

use crate::database::run;
use crate::introspection::Introspector;
use crate::principal::Principal;
use crate::route_table::Route;

/// The route's resource: its operations, the policy in front of them, and a 405 for the rest.
pub fn resource(
    route: &'static Route,
) -> actix_web::Resource<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let mut resource =
        web::resource(route.path).default_service(web::to(move |req: HttpRequest| {
            method_not_allowed(route, req)
        }));
    for op in route.operations {
        resource = resource.route((op.handler)(web::method(op.method.clone())));
        // Like Django, every GET view also answers HEAD; actix-web sends the headers only.
        if op.method == Method::GET {
            resource = resource.route((op.handler)(web::head()));
        }
    }
    resource.wrap(from_fn(move |req, next| enforce(route, req, next)))
}

/// Lets the request through to its handler, or answers the refusal itself so that the access
/// log records it like any other response.
async fn enforce(
    route: &'static Route,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    match authorize(route, &req).await {
        Ok(Some(principal)) => {
            req.extensions_mut().insert(principal);
        }
        Ok(None) => {}
        Err(refusal) => return Ok(req.error_response(refusal)),
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Who the request acts for, once the route's policy and model permission allow it; `None` on
/// an open route.
async fn authorize(
    route: &'static Route,
    req: &ServiceRequest,
) -> Result<Option<Principal>, ApiError> {
    let method = req.method().clone();
    let policy = route.policy_for(&method);
    if policy == Policy::Open {
        return Ok(None);
    }
    let introspector = app_data::<Introspector>(req)?;
    let request_id = req.extensions().get::<RequestId>().cloned();
    let principal = Principal::authenticate(
        req.headers(),
        &introspector,
        request_id.as_ref().map(RequestId::as_str),
    )
    .await?;
    match policy.check(&method, principal.caller()) {
        Decision::Allow => {}
        Decision::NotAuthenticated => return Err(ApiError::NotAuthenticated),
        Decision::InsufficientScope(scope) => return Err(ApiError::InsufficientScope(scope)),
        Decision::Refused => return Err(ApiError::PermissionDenied),
    }
    let codename = route
        .operation(&method)
        .and_then(|op| op.model_permission)
        .and_then(|p| p.codename(&method));
    if let Some(codename) = codename {
        let pool = app_data::<Database>(req)?;
        require_permission(&pool, principal.user_id(), codename).await?;
    }
    Ok(Some(principal))
}

/// Django's `has_perm` for the token's user. A token that acts for no user (client
/// credentials) holds no model permission.
pub async fn require_permission(
    pool: &web::Data<Database>,
    user_id: Option<i32>,
    codename: String,
) -> Result<(), ApiError> {
    let Some(user_id) = user_id else {
        return Err(ApiError::PermissionDenied);
    };
    let held = run(pool, move |conn| {
        Ok(users::has_permission(conn, user_id, &codename)?)
    })
    .await?;
    if held {
        Ok(())
    } else {
        Err(ApiError::PermissionDenied)
    }
}

fn app_data<T: 'static>(req: &ServiceRequest) -> Result<web::Data<T>, ApiError> {
    req.app_data::<web::Data<T>>().cloned().ok_or_else(|| {
        ApiError::Unexpected(anyhow::anyhow!(
            "{} is not registered as app data",
            std::any::type_name::<T>()
        ))
    })
}

/// Django REST framework's 405: a JSON detail and the methods the route does serve.
async fn method_not_allowed(route: &'static Route, req: HttpRequest) -> HttpResponse {
    let allowed: Vec<&str> = route
        .operations
        .iter()
        .map(|op| op.method.as_str())
        .collect();
    let detail = format!("Method \"{}\" not allowed.", req.method());
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, allowed.join(", ")))
        .json(crate::error::DetailBody { detail })
}
