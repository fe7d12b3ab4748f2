use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::startup::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Ready when the database answers.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.db.pool().clone();
    match web::block(move || shared::db::is_ready(&pool)).await {
        Ok(true) => HttpResponse::Ok().json(json!({"status": "ok", "database": "ok"})),
        _ => HttpResponse::ServiceUnavailable()
            .json(json!({"status": "unavailable", "database": "unavailable"})),
    }
}
