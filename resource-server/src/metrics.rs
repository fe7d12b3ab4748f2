//! The resource server's own metrics, beside the HTTP and pool metrics both services export: its
//! calls to the auth server (by outcome, with their latency), the introspection cache, and the
//! 503s the auth server caused. Every label value comes from a closed set.

use std::fmt::Write as _;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeLabelValue, EncodeMetric, LabelValueEncoder,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// How a call to the auth server's introspection endpoint ended.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Outcome {
    /// A well-formed answer, active or not.
    Ok,
    /// No answer within INTROSPECTION_TIMEOUT_MS.
    Timeout,
    /// No connection: nothing listens, or it refused.
    Refused,
    /// An answer that is not a 200 with introspection JSON within the size limit.
    BadAnswer,
    /// The exchange broke off some other way.
    Failed,
}

impl Outcome {
    pub const ALL: [Self; 5] = [
        Self::Ok,
        Self::Timeout,
        Self::Refused,
        Self::BadAnswer,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Timeout => "timeout",
            Self::Refused => "refused",
            Self::BadAnswer => "bad_answer",
            Self::Failed => "failed",
        }
    }
}

impl EncodeLabelValue for Outcome {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: Outcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LookupLabels {
    result: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug)]
pub struct ResourceMetrics {
    calls: Family<OutcomeLabels, Counter>,
    call_duration: HistogramFamily<OutcomeLabels>,
    lookups: Family<LookupLabels, Counter>,
    unavailable: Counter,
}

impl Default for ResourceMetrics {
    fn default() -> Self {
        Self {
            calls: Family::default(),
            call_duration: Family::new_with_constructor(http_service::metrics::latency_histogram),
            lookups: Family::default(),
            unavailable: Counter::default(),
        }
    }
}

impl ResourceMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "introspection_requests",
            "Calls to the auth server's introspection endpoint, by outcome",
            metrics.calls.clone(),
        );
        registry.register(
            "introspection_request_duration_seconds",
            "How long each call to the introspection endpoint took, by outcome",
            metrics.call_duration.clone(),
        );
        registry.register(
            "introspection_cache_lookups",
            "Bearer tokens looked up in the introspection cache: hit (answered from it) or miss (asked)",
            metrics.lookups.clone(),
        );
        registry.register(
            "auth_server_unavailable_responses",
            "Requests answered 503 because the auth server could not answer",
            metrics.unavailable.clone(),
        );
        // Every series of a closed set exists from the start, at zero, so that rates and
        // ratios are defined before the first failure.
        for outcome in Outcome::ALL {
            metrics
                .calls
                .get_or_create(&OutcomeLabels { outcome })
                .inc_by(0);
        }
        for result in ["hit", "miss"] {
            metrics
                .lookups
                .get_or_create(&LookupLabels { result })
                .inc_by(0);
        }
        metrics
    }

    pub fn called(&self, outcome: Outcome, took: Duration) {
        let labels = OutcomeLabels { outcome };
        self.calls.get_or_create(&labels).inc();
        self.call_duration
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    pub fn looked_up(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.lookups.get_or_create(&LookupLabels { result }).inc();
    }

    pub fn answered_unavailable(&self) {
        self.unavailable.inc();
    }
}

/// `introspection_cache_entries`, read from the cache at each scrape.
pub struct CacheSize<F>(pub F);

impl<F> std::fmt::Debug for CacheSize<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheSize")
    }
}

impl<F: Fn() -> u64 + Send + Sync + 'static> Collector for CacheSize<F> {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let entries = ConstGauge::new(i64::try_from((self.0)()).unwrap_or(i64::MAX));
        entries.encode(encoder.encode_descriptor(
            "introspection_cache_entries",
            "Introspection answers in the cache (approximate)",
            None,
            entries.metric_type(),
        )?)
    }
}
