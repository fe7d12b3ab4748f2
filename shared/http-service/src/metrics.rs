//! Prometheus metrics both services export alike: requests by route template, method and status,
//! their latency, and the build. Each service adds its own to the same [`Registry`] and serves it
//! at `GET /metrics` (here) on its own address or on `METRICS_BIND`.
//!
//! Every label value comes from a closed set the server chose: a route template (never the raw
//! path, whose ids would make a series per object), a method from a fixed list, a status code.
//! Nothing a client sends becomes a label, so the number of series is bounded and no user data,
//! token or secret can reach a scrape.

use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpResponse};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

/// The label of a request that matched no route (a 404 or 405 of the default service).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Latency buckets in seconds, from half a millisecond (a cached introspection) to 10 s (the
/// longest a request may wait for its body).
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A histogram with [`LATENCY_BUCKETS`].
pub fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The request methods a label may name; any other is `OTHER`.
#[allow(clippy::upper_case_acronyms)] // the label values are the methods as written on the wire
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum MethodLabel {
    GET,
    HEAD,
    POST,
    PUT,
    PATCH,
    DELETE,
    OPTIONS,
    OTHER,
}

impl From<&Method> for MethodLabel {
    fn from(method: &Method) -> Self {
        match *method {
            Method::GET => Self::GET,
            Method::HEAD => Self::HEAD,
            Method::POST => Self::POST,
            Method::PUT => Self::PUT,
            Method::PATCH => Self::PATCH,
            Method::DELETE => Self::DELETE,
            Method::OPTIONS => Self::OPTIONS,
            _ => Self::OTHER,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: MethodLabel,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: MethodLabel,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The request counters and latency histograms; cheap to clone (the families are shared).
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: HistogramFamily<RouteLabels>,
}

impl HttpMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            requests: Family::default(),
            duration: Family::new_with_constructor(latency_histogram),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            metrics.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from the request's arrival to its response, by route template and method",
            metrics.duration.clone(),
        );
        metrics
    }

    /// Counts one answered request. `route` is the matched route's template, if any.
    pub fn record(
        &self,
        route: Option<String>,
        method: &Method,
        status: StatusCode,
        took: Duration,
    ) {
        let route = route.unwrap_or_else(|| UNMATCHED_ROUTE.to_string());
        let method = MethodLabel::from(method);
        self.duration
            .get_or_create(&RouteLabels {
                route: route.clone(),
                method,
            })
            .observe(took.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status: status.as_u16(),
            })
            .inc();
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    service: &'static str,
    version: &'static str,
    revision: &'static str,
}

/// The git commit the binary was built from (build.rs), or `unknown` outside a git checkout
/// when the build did not pass `GIT_REVISION`.
pub const REVISION: &str = env!("OAUTH_GIT_REVISION");

/// A new registry holding `build_info{service, version, revision} 1`.
pub fn registry(service: &'static str, version: &'static str) -> Registry {
    let mut registry = Registry::default();
    registry.register(
        "build",
        "The running build: its service, version and git revision",
        Info::new(BuildLabels {
            service,
            version,
            revision: REVISION,
        }),
    );
    registry
}

/// Everything registered, ready to be served.
pub struct Exporter(Registry);

impl Exporter {
    pub fn new(registry: Registry) -> Self {
        Self(registry)
    }

    /// The text exposition format (OpenMetrics 1.0, which Prometheus asks for and reads).
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::with_capacity(16 * 1024);
        prometheus_client::encoding::text::encode(&mut text, &self.0)?;
        Ok(text)
    }
}

pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics`.
pub async fn serve(exporter: web::Data<Exporter>) -> HttpResponse {
    match exporter.render() {
        Ok(text) => HttpResponse::Ok()
            .content_type(CONTENT_TYPE)
            .insert_header(("cache-control", "no-store"))
            .body(text),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// Mounts `GET /metrics`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(serve));
}
