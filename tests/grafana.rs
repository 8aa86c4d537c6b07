//! The shipped Grafana dashboard queries only metrics a running lab serves,
//! so it cannot silently go blank when a metric is renamed.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::time::Duration;

/// Metric names (`strata_…`) in a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("strata_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

fn scrape(addr: std::net::SocketAddr) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("metrics port");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: strata\r\n\r\n")
        .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_the_dashboard_queries_is_served() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/grafana/strata-dashboard.json"
    );
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("dashboard")).expect("JSON");
    let mut queried = BTreeSet::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            queried.extend(metric_names(target["expr"].as_str().expect("expr")));
        }
    }
    assert!(queried.len() >= 8, "{queried:?}");

    let options = strata::lab::LabOptions {
        metrics: Some("127.0.0.1:0".parse().unwrap()),
        ..common::closed_loop_lab_options()
    };
    let lab = strata::lab::Lab::start(&common::small_topology(), &options)
        .await
        .expect("lab");
    let addr = lab.metrics().expect("metrics served");
    let text = tokio::task::spawn_blocking(move || scrape(addr))
        .await
        .unwrap();
    let served: BTreeSet<String> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_string)
        .collect();
    let missing: Vec<_> = queried.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "the dashboard queries metrics /metrics does not serve: {missing:?}\nserved: {served:?}"
    );
    lab.shutdown().await;
}
