//! `/healthz` (the process serves) and `/readyz` (it can do its job), the same paths and bodies in
//! both services: `{"status": "ok"}`, and for readiness one member per dependency checked, e.g.
//! `{"status": "ok", "database": "ok"}`, or status 503 with `"unavailable"` where a check failed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Serialize;
use store::Database;

use crate::shutdown::Draining;

#[derive(Serialize)]
struct Status {
    status: &'static str,
}

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Status { status: "ok" })
}

type CheckFuture = Pin<Box<dyn Future<Output = bool>>>;

/// One dependency `/readyz` asks, by name.
pub struct Check {
    pub name: &'static str,
    run: Arc<dyn Fn() -> CheckFuture + Send + Sync>,
}

impl Check {
    pub fn new<F, Fut>(name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + 'static,
    {
        Self {
            name,
            run: Arc::new(move || Box::pin(check())),
        }
    }

    /// The database answers a trivial query (on a blocking thread: it may wait for a connection).
    pub fn database(db: Database) -> Self {
        Self::new("database", move || {
            let pool = db.pool().clone();
            async move {
                tokio::task::spawn_blocking(move || store::is_ready(&pool))
                    .await
                    .unwrap_or(false)
            }
        })
    }
}

/// What `/readyz` checks, in order; mounted as app data. A draining replica is not ready
/// whatever its checks say: `{"status": "unavailable", "shutdown": "draining"}`.
pub struct Readiness {
    pub checks: Vec<Check>,
    pub draining: Draining,
}

pub async fn readyz(readiness: web::Data<Readiness>) -> HttpResponse {
    let mut body = serde_json::Map::new();
    if readiness.draining.is_set() {
        body.insert("status".into(), "unavailable".into());
        body.insert("shutdown".into(), "draining".into());
        return HttpResponse::ServiceUnavailable().json(body);
    }
    let mut ready = true;
    for check in &readiness.checks {
        let ok = (check.run)().await;
        if !ok {
            log::warn!("not ready: the {} check failed", check.name);
        }
        ready &= ok;
        body.insert(
            check.name.to_string(),
            serde_json::Value::from(if ok { "ok" } else { "unavailable" }),
        );
    }
    body.insert(
        "status".into(),
        serde_json::Value::from(if ready { "ok" } else { "unavailable" }),
    );
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
