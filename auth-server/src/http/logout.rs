//! GET and POST /o/logout/ (OpenID Connect RP-Initiated Logout 1.0). With a valid
//! `id_token_hint` for the signed-in user the session ends at once, and the browser goes back to
//! a `post_logout_redirect_uri` registered for the hint's client. Without one, a page asks the
//! user to confirm, so that a link on another site cannot sign anyone out; the confirmation posts
//! back with the CSRF token.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use auth_store::applications;
use url::Url;

use super::cookies::CookiePolicy;
use super::form::{read_form, Form};
use super::pages::{self, LoggedOutPage, LogoutPage};
use crate::oidc::id_token::{read_hint, IdTokenHint};
use crate::services::Services;
use crate::sessions;

const UNAVAILABLE: &str = "The sign-in service is not available right now. Try again later.";

pub async fn logout_get(
    services: web::Data<Services>,
    cookies: web::Data<CookiePolicy>,
    req: HttpRequest,
) -> HttpResponse {
    let query = match Form::parse(req.query_string().as_bytes()) {
        Ok(query) => query,
        Err(e) => return pages::error_page(StatusCode::BAD_REQUEST, &e.description),
    };
    let hint = match query.get("id_token_hint") {
        Some(token) => read_hint(&services, token).await,
        None => None,
    };
    if let Some(hint) = hint {
        match hinted_logout(&services, &cookies, &req, &query, &hint).await {
            Ok(Some(response)) => return response,
            Ok(None) => {}
            Err(()) => return pages::error_page(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
        }
    }
    confirmation_page(&cookies, &req)
}

/// The hint names the signed-in user (or nobody is signed in): sign out, and go back to the
/// client when it asked for a URI it registered. None: the hint is for someone else, so ask.
async fn hinted_logout(
    services: &Services,
    cookies: &CookiePolicy,
    req: &HttpRequest,
    query: &Form,
    hint: &IdTokenHint,
) -> Result<Option<HttpResponse>, ()> {
    let session_id = cookies.session_id(req);
    let client_id = hint.client_id.clone();
    let (session_user, app) = services
        .db
        .run(move |conn| -> Result<_, store::StoreError> {
            let session = match &session_id {
                Some(id) => sessions::find_user(conn, id)?,
                None => None,
            };
            Ok((session, applications::find_by_client_id(conn, &client_id)?))
        })
        .await
        .map_err(|e| log::warn!("logout: {e}"))?;
    if session_user.is_some_and(|user_id| user_id != hint.user_id) {
        return Ok(None);
    }
    let mut response = end_session(services, cookies, req).await;
    let requested = query.get("post_logout_redirect_uri");
    let registered = requested.filter(|uri| {
        app.as_ref()
            .is_some_and(|app| app.post_logout_redirect_uris().any(|r| r == *uri))
    });
    if let Some(uri) = registered {
        let location = with_state(uri, query.get("state"));
        let mut redirect = HttpResponse::Found();
        pages::page_headers(&mut redirect, &[]).insert_header((header::LOCATION, location));
        let mut redirect = redirect.finish();
        let _ = redirect.add_cookie(&cookies.session_removal());
        response = redirect;
    }
    Ok(Some(response))
}

fn with_state(uri: &str, state: Option<&str>) -> String {
    match (Url::parse(uri), state) {
        (Ok(mut url), Some(state)) => {
            url.query_pairs_mut().append_pair("state", state);
            url.into()
        }
        _ => uri.to_string(),
    }
}

fn confirmation_page(cookies: &CookiePolicy, req: &HttpRequest) -> HttpResponse {
    let (token, new_cookie) = cookies.csrf_token(req);
    let mut response = pages::render(
        HttpResponseBuilder::new(StatusCode::OK),
        &LogoutPage { csrf_token: &token },
        &[],
    );
    if let Some(cookie) = new_cookie {
        let _ = response.add_cookie(&cookie);
    }
    response
}

pub async fn logout_post(
    services: web::Data<Services>,
    cookies: web::Data<CookiePolicy>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let form = match read_form(&req, payload).await {
        Ok(form) => form,
        Err(e) => return pages::error_page(StatusCode::BAD_REQUEST, &e.description),
    };
    if !cookies.csrf_ok(&req, form.get("csrf_token")) {
        return pages::error_page(
            StatusCode::FORBIDDEN,
            "This form has expired or was not sent from this site. Reload the page and try again.",
        );
    }
    end_session(&services, &cookies, &req).await
}

/// Ends the browser's session, if it has one, and says so.
async fn end_session(
    services: &Services,
    cookies: &CookiePolicy,
    req: &HttpRequest,
) -> HttpResponse {
    if let Some(id) = cookies.session_id(req) {
        if let Err(e) = services.db.run(move |conn| sessions::end(conn, &id)).await {
            log::warn!("could not end a session: {e}");
            return pages::error_page(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
        }
    }
    let mut response = pages::render(
        HttpResponseBuilder::new(StatusCode::OK),
        &LoggedOutPage,
        &[],
    );
    let _ = response.add_cookie(&cookies.session_removal());
    response
}
