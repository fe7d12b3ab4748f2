//! GET and POST /o/authorize/: the authorize request arrives as a query; the login and consent
//! forms post back to the same URL (their `action` is left out), so the request never has to be
//! kept between steps and is checked again on every step.

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use store::users;

use super::cookies::CookiePolicy;
use super::form::{read_form, Form};
use super::pages::{self, ConsentPage, LoginPage};
use crate::error::{OAuthError, OAuthErrorCode};
use crate::flows::authorize::{self, AuthorizeError, AuthorizeRequest, Next, Redirect};
use crate::login::{self, BAD_CREDENTIALS};
use crate::redirect_uris::origin;
use crate::services::Services;
use crate::sessions;

/// Where the browser goes from here.
enum Step {
    Login(AuthorizeRequest),
    Consent {
        request: AuthorizeRequest,
        username: String,
    },
    Redirect(Redirect),
}

const FORM_EXPIRED: &str = "This form has expired or was not sent from this site. Go back to the \
                            application, start signing in again, and submit the form once.";

pub async fn authorize_get(
    services: web::Data<Services>,
    cookies: web::Data<CookiePolicy>,
    req: HttpRequest,
) -> HttpResponse {
    let query = match read_query(&req) {
        Ok(query) => query,
        Err(page) => return *page,
    };
    let session_id = cookies.session_id(&req);
    let s = services.clone().into_inner();
    let step = services
        .db
        .run(move |conn| -> Result<Step, AuthorizeError> {
            let request = authorize::check(&s, conn, &query)?;
            let session = match &session_id {
                Some(id) => sessions::find(&s, conn, id)?,
                None => None,
            };
            let next = authorize::next_step(&s, conn, &request, session.as_ref(), false)?;
            step_for(&s, conn, request, session.as_ref(), next)
        })
        .await;
    respond(&cookies, &req, step, None)
}

pub async fn authorize_post(
    services: web::Data<Services>,
    cookies: web::Data<CookiePolicy>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let query = match read_query(&req) {
        Ok(query) => query,
        Err(page) => return *page,
    };
    let form = match read_form(&req, payload).await {
        Ok(form) => form,
        Err(e) => return pages::error_page(StatusCode::BAD_REQUEST, &e.description),
    };
    // Before anything else, credentials included: a forged post must not even count as a
    // failed login.
    if !cookies.csrf_ok(&req, form.get("csrf_token")) {
        return pages::error_page(StatusCode::FORBIDDEN, FORM_EXPIRED);
    }
    let services = services.into_inner();
    if let Some(answer) = form.get("allow") {
        let approve = match answer {
            "yes" => true,
            "no" => false,
            _ => return pages::error_page(StatusCode::BAD_REQUEST, "Choose Allow or Deny."),
        };
        let step = decide(&services, &cookies, &req, query, approve).await;
        return respond(&cookies, &req, step, None);
    }
    sign_in(services, &cookies, &req, query, &form).await
}

/// The consent form's answer.
async fn decide(
    services: &Arc<Services>,
    cookies: &CookiePolicy,
    req: &HttpRequest,
    query: Form,
    approve: bool,
) -> Result<Step, AuthorizeError> {
    let session_id = cookies.session_id(req);
    let s = services.clone();
    services
        .db
        .run(move |conn| -> Result<Step, AuthorizeError> {
            let request = authorize::check(&s, conn, &query)?;
            let session = match &session_id {
                Some(id) => sessions::find(&s, conn, id)?,
                None => None,
            };
            // Signed out (or the session ended) while the consent page was open.
            let Some(session) = session else {
                return Ok(Step::Login(request));
            };
            if !approve {
                return Err(authorize::deny(&s, &request));
            }
            authorize::record_consent(&s, conn, &request, &session)?;
            Ok(Step::Redirect(authorize::issue_code(
                &s, conn, &request, &session,
            )?))
        })
        .await
}

/// The login form: the password grant's checks, throttle and answer, then a new session.
async fn sign_in(
    services: Arc<Services>,
    cookies: &CookiePolicy,
    req: &HttpRequest,
    query: Form,
    form: &Form,
) -> HttpResponse {
    let login = form.get("username").unwrap_or("").to_string();
    let Some(password) = form.get("password").map(str::to_string) else {
        return retry_login(services, cookies, req, query, &login).await;
    };
    let s = services.clone();
    let typed = login.clone();
    let checked = services
        .db
        .run(move |conn| -> Result<_, AuthorizeError> {
            let request = authorize::check(&s, conn, &query)?;
            let attempt = login::begin(&s, conn, &typed)?;
            Ok((request, attempt, query))
        })
        .await;
    let (request, attempt, query) = match checked {
        Ok(checked) => checked,
        Err(e) => return respond(cookies, req, Err(e), None),
    };
    let origin = login::Origin {
        client_id: &request.app.client_id,
        peer: req.peer_addr().map(|a| a.ip()),
    };
    let verified = match login::verify(&services, attempt, password, origin).await {
        Ok(verified) => verified,
        Err(e) if e.code == OAuthErrorCode::InvalidGrant => {
            return retry_login(services, cookies, req, query, &login).await
        }
        Err(e) => return respond(cookies, req, Err(AuthorizeError::Server(e)), None),
    };
    let previous = cookies.session_id(req);
    let s = services.clone();
    let step = services
        .db
        .run(move |conn| -> Result<(Step, String), AuthorizeError> {
            login::complete(&s, conn, &verified)?;
            let (id, session) = sessions::start(&s, conn, &verified.user, previous.as_deref())?;
            let next = authorize::next_step(&s, conn, &request, Some(&session), true)?;
            Ok((step_for(&s, conn, request, Some(&session), next)?, id))
        })
        .await;
    match step {
        Ok((step, id)) => respond(cookies, req, Ok(step), Some(cookies.session_cookie(id))),
        Err(e) => respond(cookies, req, Err(e), None),
    }
}

/// The login page again, with the one answer every failure gets.
async fn retry_login(
    services: Arc<Services>,
    cookies: &CookiePolicy,
    req: &HttpRequest,
    query: Form,
    login: &str,
) -> HttpResponse {
    let s = services.clone();
    let checked = services
        .db
        .run(move |conn| authorize::check(&s, conn, &query))
        .await;
    match checked {
        Ok(request) => login_page(cookies, req, &request, Some(BAD_CREDENTIALS), login),
        Err(e) => respond(cookies, req, Err(e), None),
    }
}

fn step_for(
    services: &Services,
    conn: &mut store::DbConnection,
    request: AuthorizeRequest,
    session: Option<&auth_store::models::BrowserSession>,
    next: Next,
) -> Result<Step, AuthorizeError> {
    Ok(match (next, session) {
        (Next::Approved, Some(session)) => {
            Step::Redirect(authorize::issue_code(services, conn, &request, session)?)
        }
        (Next::Consent, Some(session)) => {
            let username = users::find(conn, session.user_id)?
                .map(|u| u.username)
                .unwrap_or_default();
            Step::Consent { request, username }
        }
        _ => Step::Login(request),
    })
}

fn read_query(req: &HttpRequest) -> Result<Form, Box<HttpResponse>> {
    Form::parse(req.query_string().as_bytes())
        .map_err(|e| Box::new(pages::error_page(StatusCode::BAD_REQUEST, &e.description)))
}

fn respond(
    cookies: &CookiePolicy,
    req: &HttpRequest,
    step: Result<Step, AuthorizeError>,
    session_cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> HttpResponse {
    let mut response = match step {
        Ok(Step::Redirect(to)) | Err(AuthorizeError::Redirect(to)) => redirect(&to),
        Ok(Step::Login(request)) => login_page(cookies, req, &request, None, ""),
        Ok(Step::Consent { request, username }) => consent_page(cookies, req, &request, &username),
        Err(AuthorizeError::Page(message)) => pages::error_page(StatusCode::BAD_REQUEST, &message),
        Err(AuthorizeError::Server(e)) => server_error_page(&e),
    };
    if let Some(cookie) = session_cookie {
        // The response was built here; adding a well-formed cookie cannot fail.
        let _ = response.add_cookie(&cookie);
    }
    response
}

fn redirect(to: &Redirect) -> HttpResponse {
    let mut builder = HttpResponse::Found();
    pages::page_headers(&mut builder, &[])
        .insert_header((header::LOCATION, to.0.as_str()))
        .finish()
}

fn server_error_page(e: &OAuthError) -> HttpResponse {
    let status = match e.code {
        OAuthErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    pages::error_page(
        status,
        "The sign-in service is not available right now. Try again later.",
    )
}

/// A page with a form, and the CSRF cookie its token comes from when the browser had none.
fn form_page(
    cookies: &CookiePolicy,
    req: &HttpRequest,
    render: impl FnOnce(&str) -> HttpResponse,
) -> HttpResponse {
    let (token, new_cookie) = cookies.csrf_token(req);
    let mut response = render(&token);
    if let Some(cookie) = new_cookie {
        let _ = response.add_cookie(&cookie);
    }
    response
}

fn login_page(
    cookies: &CookiePolicy,
    req: &HttpRequest,
    request: &AuthorizeRequest,
    error: Option<&str>,
    login: &str,
) -> HttpResponse {
    let target = origin(&request.redirect_uri).unwrap_or_default();
    form_page(cookies, req, |csrf_token| {
        pages::render(
            HttpResponseBuilder::new(StatusCode::OK),
            &LoginPage {
                client_name: &request.app.name,
                error,
                csrf_token,
                login,
            },
            &[&target],
        )
    })
}

fn consent_page(
    cookies: &CookiePolicy,
    req: &HttpRequest,
    request: &AuthorizeRequest,
    username: &str,
) -> HttpResponse {
    let target = origin(&request.redirect_uri).unwrap_or_default();
    form_page(cookies, req, |csrf_token| {
        pages::render(
            HttpResponseBuilder::new(StatusCode::OK),
            &ConsentPage {
                client_name: &request.app.name,
                username,
                scopes: pages::describe(&request.scope),
                csrf_token,
                redirect_origin: &target,
            },
            &[&target],
        )
    })
}
