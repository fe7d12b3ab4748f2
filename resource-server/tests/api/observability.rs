//! What operators see of the resource server: its calls to the auth server by outcome, the
//! introspection cache, 503s the auth server caused, requests by route template, and the
//! request id passed on to the auth server.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use test_support::on_both_backends;
use test_support::scrape::Scrape;
use test_support::TestDatabase;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

impl TestApp {
    async fn scrape(&self) -> Scrape {
        let res = self.get("/metrics", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        Scrape::parse(&res.text().await.unwrap())
    }
}

fn introspection_of(token: &str) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/o/introspect/"))
        .and(body_string_contains(format!("token={token}&")))
}

fn active() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "active": true, "scope": "read", "client_id": "demo", "username": "tue", "sub": "1",
        "exp": oauth_core::time::now() + 3600,
    }))
}

async fn introspection_outcomes_and_the_cache_are_counted(db: TestDatabase) {
    let server = MockServer::start().await;
    introspection_of("good")
        .respond_with(active())
        .mount(&server)
        .await;
    introspection_of("garbage")
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    introspection_of("slow")
        .respond_with(active().set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let app = spawn_app_with(
        db,
        AuthServer::At(format!("{}/o/introspect/", server.uri())),
        &[("INTROSPECTION_TIMEOUT_MS", "300")],
    )
    .await;
    for _ in 0..3 {
        assert_eq!(
            app.get("/users/", Some("good")).await.status(),
            StatusCode::OK
        );
    }
    for token in ["garbage", "slow"] {
        assert_eq!(
            app.get("/users/", Some(token)).await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    let m = app.scrape().await;
    let calls = |outcome| m.sum("introspection_requests_total", &[("outcome", outcome)]);
    assert_eq!(calls("ok"), 1.0);
    assert_eq!(calls("bad_answer"), 1.0);
    assert_eq!(calls("timeout"), 1.0);
    assert_eq!(m.sum("introspection_requests_total", &[]), 3.0);
    assert_eq!(
        m.sum("introspection_request_duration_seconds_count", &[]),
        3.0
    );
    let lookups = |result| m.sum("introspection_cache_lookups_total", &[("result", result)]);
    assert_eq!(lookups("hit"), 2.0);
    assert_eq!(lookups("miss"), 3.0);
    assert!(m.has_family("introspection_cache_entries"));
    assert_eq!(m.sum("auth_server_unavailable_responses_total", &[]), 2.0);
    let users = |status| {
        m.sum(
            "http_requests_total",
            &[("route", "/users/"), ("method", "GET"), ("status", status)],
        )
    };
    assert_eq!(users("200"), 3.0);
    assert_eq!(users("503"), 2.0);
    let build = m.matching("build_info", &[]).next().expect("build_info");
    assert_eq!(build.labels["service"], "resource-server");
}

async fn a_refused_connection_is_its_own_outcome(db: TestDatabase) {
    let url = format!("http://127.0.0.1:{}/o/introspect/", free_port());
    let app = spawn_app_with(db, AuthServer::At(url), &[]).await;
    assert_eq!(
        app.get("/users/", Some("any")).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let m = app.scrape().await;
    assert_eq!(
        m.sum("introspection_requests_total", &[("outcome", "refused")]),
        1.0
    );
    assert_eq!(m.sum("auth_server_unavailable_responses_total", &[]), 1.0);
}

async fn routes_are_labelled_by_template_never_by_id(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read").await;
    let user_id = app.user_id;
    for id in [user_id, 999_999, 123_456] {
        app.get(&format!("/users/{id}/"), Some(&token)).await;
    }
    let m = app.scrape().await;
    let by_id = |status| {
        m.sum(
            "http_requests_total",
            &[
                ("route", "/users/{id}/"),
                ("method", "GET"),
                ("status", status),
            ],
        )
    };
    assert_eq!(by_id("200"), 1.0);
    assert_eq!(by_id("404"), 2.0);
    let text = app.get("/metrics", None).await.text().await.unwrap();
    for leaked in [token.as_str(), RS_CLIENT_SECRET] {
        assert!(!text.contains(leaked), "{leaked} in /metrics");
    }
    // Ids only in label values: a sample's value may hold any digits.
    for sample in Scrape::parse(&text).samples {
        for value in sample.labels.values() {
            assert!(
                !value.contains("999999") && !value.contains("123456"),
                "{sample:?}"
            );
        }
    }
}

async fn the_request_id_goes_on_to_the_auth_server(db: TestDatabase) {
    let server = MockServer::start().await;
    introspection_of("good")
        .and(header("x-request-id", "from-the-balancer-1"))
        .respond_with(active())
        .expect(1)
        .mount(&server)
        .await;
    let app = spawn_app_with(
        db,
        AuthServer::At(format!("{}/o/introspect/", server.uri())),
        &[("INTROSPECTION_CACHE_SECONDS", "0")],
    )
    .await;
    let res = app
        .http
        .get(app.url("/users/"))
        .bearer_auth("good")
        .header("x-request-id", "from-the-balancer-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-request-id"], "from-the-balancer-1");
    server.verify().await;

    // Without one, the id the resource server made is the one the auth server hears.
    server.reset().await;
    introspection_of("good")
        .respond_with(active())
        .mount(&server)
        .await;
    let res = app.get("/users/", Some("good")).await;
    let made = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].headers["x-request-id"], made.as_str());
}

on_both_backends!(
    introspection_outcomes_and_the_cache_are_counted,
    a_refused_connection_is_its_own_outcome,
    routes_are_labelled_by_template_never_by_id,
    the_request_id_goes_on_to_the_auth_server,
);

/// The metric names a PromQL expression reads: what is left once label matchers, ranges, strings,
/// `by (...)` lists, function calls and keywords are taken out.
fn metric_names(expr: &str) -> Vec<String> {
    let mut text = String::new();
    let mut depth_braces = 0;
    let mut depth_brackets = 0;
    let mut in_string = false;
    for c in expr.chars() {
        match c {
            '"' if depth_braces == 0 => in_string = !in_string,
            _ if in_string => {}
            '{' => depth_braces += 1,
            '}' => depth_braces -= 1,
            '[' => depth_brackets += 1,
            ']' => depth_brackets -= 1,
            _ if depth_braces > 0 || depth_brackets > 0 => {}
            c => text.push(c),
        }
    }
    // Aggregations may be followed by `by (...)` rather than their parenthesis.
    let keywords = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "sum",
        "avg",
        "min",
        "max",
        "count",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
    ];
    let mut names = Vec::new();
    let mut rest = text.as_str();
    let mut skip_list = false;
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic() || c == '_') {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(tail.len());
        let word = &tail[..end];
        let after = tail[end..].trim_start();
        // A number's exponent or digits glued to a word are not names.
        let preceded_by_digit = start > 0 && rest.as_bytes()[start - 1].is_ascii_digit();
        if skip_list {
            // Inside `by (...)`: label names until the closing parenthesis.
            if let Some(close) = tail.find(')') {
                rest = &tail[close + 1..];
                skip_list = false;
                continue;
            }
        }
        if keywords.contains(&word) {
            skip_list =
                matches!(word, "by" | "without" | "on" | "ignoring") || word.starts_with("group_");
        } else if !after.starts_with('(') && !preceded_by_digit {
            names.push(word.to_string());
        }
        rest = &tail[end..];
    }
    names
}

#[test]
fn metric_names_reads_the_names_and_nothing_else() {
    assert_eq!(
        metric_names(
            r#"sum by (job, route) (rate(http_requests_total{status=~"5..",route="/x"}[5m])) / sum(db_pool_max_connections) > 1e3"#
        ),
        ["http_requests_total", "db_pool_max_connections"]
    );
}

/// Every PromQL expression of the Grafana dashboard reads metrics both services really export
/// (a renamed metric would leave a panel silently empty).
async fn every_dashboard_query_reads_a_metric_the_services_export(db: TestDatabase) {
    let app = spawn_app(db).await;
    // Traffic first: a family with open labels (route, client) shows once it has a series.
    let token = app.token("read").await;
    assert_eq!(
        app.get("/users/", Some(&token)).await.status(),
        StatusCode::OK
    );
    let mut exported = std::collections::BTreeSet::new();
    let auth_metrics = format!("{}/metrics", app.auth_base.as_deref().unwrap());
    let texts = [
        app.get("/metrics", None).await.text().await.unwrap(),
        app.http
            .get(auth_metrics)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    ];
    for text in &texts {
        for (family, kind) in Scrape::parse(text).families {
            let suffixes: &[&str] = match kind.as_str() {
                "counter" => &["_total"],
                "histogram" => &["_bucket", "_sum", "_count"],
                "info" => &["_info"],
                _ => &[""],
            };
            for suffix in suffixes {
                exported.insert(format!("{family}{suffix}"));
            }
        }
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/grafana/oauth-services.json"
    );
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut read = std::collections::BTreeSet::new();
    let panels = dashboard["panels"].as_array().unwrap();
    for panel in panels {
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{} has no query", panel["title"]);
        for target in targets {
            let expr = target["expr"].as_str().unwrap();
            let names = metric_names(expr);
            assert!(!names.is_empty(), "no metric in {expr}");
            for name in names {
                assert!(
                    exported.contains(&name),
                    "panel {}: {name} is not exported (exported: {exported:?})",
                    panel["title"]
                );
                read.insert(name);
            }
        }
    }
    // The panels the operations issue asks for: rate, errors, latency, cache hits, pool.
    for needed in [
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "introspection_cache_lookups_total",
        "db_pool_connections",
        "db_pool_max_connections",
    ] {
        assert!(read.contains(needed), "no panel reads {needed}");
    }
}

on_both_backends!(every_dashboard_query_reads_a_metric_the_services_export);
