//! The middleware every request goes through first: it gives the request its id, counts and
//! times it by route template, and, while the replica drains, asks the client to close the
//! connection. One middleware rather than three, as each costs a boxed future per request.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};

use crate::metrics::HttpMetrics;
use crate::request_id::{self, RequestId};
use crate::shutdown::Draining;

/// What [`observe`] reads, mounted as app data.
#[derive(Debug, Clone)]
pub struct Observed {
    pub metrics: HttpMetrics,
    pub draining: Draining,
}

/// Mount with `.app_data(web::Data::new(Observed { .. }))`, and wrap it inside the access log
/// (`.wrap(from_fn(observe)).wrap(access_log())`), which then logs the response's
/// `X-Request-Id`.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let observed = req.app_data::<web::Data<Observed>>().cloned();
    let id = RequestId::for_request(req.headers());
    req.extensions_mut().insert(id.clone());
    // Not a clone of the request: routing needs it unshared (it panics on a clone).
    let method = req.method().clone();
    let Some(observed) = observed else {
        // Not mounted (a test's bare App): only the id.
        let mut res = next.call(req).await?;
        res.headers_mut().insert(request_id::HEADER, id.0);
        return Ok(res);
    };
    match next.call(req).await {
        Ok(mut res) => {
            observed.metrics.record(
                res.request().match_pattern(),
                &method,
                res.status(),
                started.elapsed(),
            );
            res.headers_mut().insert(request_id::HEADER, id.0);
            if observed.draining.is_set() {
                res.response_mut()
                    .head_mut()
                    .set_connection_type(ConnectionType::Close);
            }
            Ok(res)
        }
        Err(e) => {
            // Only a middleware's error gets here (a handler's is already a response), and
            // the request went with it: counted without its route.
            let status = e.as_response_error().status_code();
            observed
                .metrics
                .record(None, &method, status, started.elapsed());
            Err(e)
        }
    }
}
