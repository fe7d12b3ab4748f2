//! The auth server's own metrics, beside the HTTP and pool metrics both services export: tokens
//! issued, failed logins and lockouts, replays caught, introspection answers and the clean-up.
//! Every label value is chosen by the server; the `client` label is a registered client's id,
//! only once the client has authenticated, and at most [`MAX_CLIENT_LABELS`] of them.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::clean_up::Cleared;

/// The grants whose credential is single-use, so that a second use is a replay.
const REPLAYABLE_GRANTS: [&str; 2] = [
    crate::flows::refresh_token::GRANT_TYPE,
    crate::flows::authorization_code::GRANT_TYPE,
];

/// Clients past this many are counted under `client="other"`: a deployment with thousands of
/// registered clients must not get thousands of series per grant.
pub const MAX_CLIENT_LABELS: usize = 100;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IssuedLabels {
    grant: &'static str,
    client: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrantLabels {
    grant: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActiveLabels {
    active: bool,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TableLabels {
    table: &'static str,
}

#[derive(Clone, Debug)]
pub struct AuthMetrics {
    issued: Family<IssuedLabels, Counter>,
    clients: Arc<RwLock<HashSet<String>>>,
    login_failures: Counter,
    lockouts: Counter,
    replays: Family<GrantLabels, Counter>,
    introspections: Family<ActiveLabels, Counter>,
    cleaned: Family<TableLabels, Counter>,
    cleanup_duration: Histogram,
}

impl Default for AuthMetrics {
    fn default() -> Self {
        Self {
            issued: Family::default(),
            clients: Arc::default(),
            login_failures: Counter::default(),
            lockouts: Counter::default(),
            replays: Family::default(),
            introspections: Family::default(),
            cleaned: Family::default(),
            cleanup_duration: Histogram::new([0.01, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0]),
        }
    }
}

impl AuthMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "oauth_tokens_issued",
            "Token responses from the token endpoint, by grant type and client",
            metrics.issued.clone(),
        );
        registry.register(
            "oauth_login_failures",
            "Failed sign-ins (password grant or login page): wrong credentials, inactive account or throttled",
            metrics.login_failures.clone(),
        );
        registry.register(
            "oauth_login_lockouts",
            "Sign-ins refused because the account was throttled (LOGIN_FAILURE_LIMIT)",
            metrics.lockouts.clone(),
        );
        registry.register(
            "oauth_token_reuse_detected",
            "A used refresh token or authorization code presented again; its grant was revoked",
            metrics.replays.clone(),
        );
        registry.register(
            "oauth_introspections",
            "Introspection answers to authorised callers, by whether the token was active",
            metrics.introspections.clone(),
        );
        registry.register(
            "oauth_cleanup_deleted_rows",
            "Rows the periodic clean-up deleted, by table",
            metrics.cleaned.clone(),
        );
        registry.register(
            "oauth_cleanup_duration_seconds",
            "How long each periodic clean-up took",
            metrics.cleanup_duration.clone(),
        );
        // Every series of a closed set exists from the start, at zero, so that rates and
        // increases are defined before the first event.
        for grant in REPLAYABLE_GRANTS {
            metrics
                .replays
                .get_or_create(&GrantLabels { grant })
                .inc_by(0);
        }
        for active in [true, false] {
            metrics
                .introspections
                .get_or_create(&ActiveLabels { active })
                .inc_by(0);
        }
        for (table, _) in Cleared::default().by_table() {
            metrics
                .cleaned
                .get_or_create(&TableLabels { table })
                .inc_by(0);
        }
        metrics
    }

    pub fn issued(&self, grant: &'static str, client_id: &str) {
        let client = self.client_label(client_id);
        self.issued
            .get_or_create(&IssuedLabels { grant, client })
            .inc();
    }

    fn client_label(&self, client_id: &str) -> String {
        let known = |clients: &HashSet<String>| clients.contains(client_id);
        if self.clients.read().map(|c| known(&c)).unwrap_or(false) {
            return client_id.to_string();
        }
        let Ok(mut clients) = self.clients.write() else {
            return "other".into();
        };
        if known(&clients) || clients.len() < MAX_CLIENT_LABELS {
            clients.insert(client_id.to_string());
            client_id.to_string()
        } else {
            "other".into()
        }
    }

    /// A failed sign-in; `locked` when the throttle refused it.
    pub fn login_failed(&self, locked: bool) {
        self.login_failures.inc();
        if locked {
            self.lockouts.inc();
        }
    }

    pub fn replay_detected(&self, grant: &'static str) {
        self.replays.get_or_create(&GrantLabels { grant }).inc();
    }

    pub fn introspected(&self, active: bool) {
        self.introspections
            .get_or_create(&ActiveLabels { active })
            .inc();
    }

    pub fn cleaned_up(&self, deleted: &[(&'static str, usize)], took: Duration) {
        for &(table, rows) in deleted {
            self.cleaned
                .get_or_create(&TableLabels { table })
                .inc_by(rows as u64);
        }
        self.cleanup_duration.observe(took.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_past_the_limit_share_one_label() {
        let metrics = AuthMetrics::default();
        for i in 0..MAX_CLIENT_LABELS {
            assert_eq!(metrics.client_label(&format!("c{i}")), format!("c{i}"));
        }
        assert_eq!(metrics.client_label("one-too-many"), "other");
        assert_eq!(metrics.client_label("c7"), "c7");
    }
}
