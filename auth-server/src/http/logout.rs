//! GET and POST /o/logout/ (OpenID Connect RP-Initiated Logout 1.0). Without a valid
//! `id_token_hint` a page asks the user to confirm, so that a link on another site cannot sign
//! anyone out; the confirmation posts back with the CSRF token.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};

use super::cookies::CookiePolicy;
use super::form::read_form;
use super::pages::{self, LoggedOutPage, LogoutPage};
use crate::services::Services;
use crate::sessions;

pub async fn logout_get(cookies: web::Data<CookiePolicy>, req: HttpRequest) -> HttpResponse {
    let (token, new_cookie) = cookies.csrf_token(&req);
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
            return pages::error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The sign-in service is not available right now. Try again later.",
            );
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
