//! /healthz (the process serves) and /readyz (it can do its job: the database and the auth
//! server both answer).

use actix_web::{web, HttpResponse};
use serde_json::json;
use shared::db::Database;
use shared::error::ApiError;

/// Where the auth server says it is alive, asked with the introspection client's timeouts.
#[derive(Debug, Clone)]
pub struct AuthServerHealth {
    pub http: reqwest::Client,
    pub url: String,
}

impl AuthServerHealth {
    async fn answers(&self) -> bool {
        match self.http.get(&self.url).send().await {
            Ok(response) => response.status().is_success(),
            Err(e) => {
                log::warn!("the auth server's health check failed: {e}");
                false
            }
        }
    }
}

pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn readiness(
    pool: web::Data<Database>,
    auth_server: web::Data<AuthServerHealth>,
) -> Result<HttpResponse, ApiError> {
    let pool = pool.into_inner();
    let database = web::block(move || shared::db::is_ready(pool.pool()))
        .await
        .unwrap_or(false);
    if !database {
        return Err(ApiError::Unavailable("the database does not answer".into()));
    }
    if !auth_server.answers().await {
        return Err(ApiError::Unavailable(
            "the auth server does not answer".into(),
        ));
    }
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}
