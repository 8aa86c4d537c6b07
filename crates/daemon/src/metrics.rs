//! Operational metrics: lock-free counters and a reroute-latency histogram,
//! served as Prometheus text on `/metrics` when an address is configured
//! (nothing listens otherwise). Every update also goes to the process's
//! [`Sink`] when one is installed (OpenTelemetry, see `crate::otel`), so the
//! two views count the same events in the same places.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Upper bounds (seconds) of the reroute latency buckets.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0,
];

/// A second destination for the counts kept here. Process-wide because the
/// exporters behind it are; unset, an update costs one atomic load more.
pub trait Sink: Send + Sync {
    /// Telemetry values ingested from device notifications.
    fn samples(&self, n: u64);
    fn breach(&self);
    fn restore(&self);
    /// Policies moved to a new path, and ones whose headend refused or missed it.
    fn reroutes(&self, moved: u64, failed: u64);
    /// Breach sample received → every affected headend acked.
    fn reroute_latency(&self, took: Duration);
}

static SINK: OnceLock<Box<dyn Sink>> = OnceLock::new();

/// Installs the process's sink; `false` if one was already installed.
pub fn set_sink(sink: Box<dyn Sink>) -> bool {
    SINK.set(sink).is_ok()
}

fn sink() -> Option<&'static dyn Sink> {
    SINK.get().map(|s| s.as_ref())
}

/// Telemetry samples ingested (the count itself lives in `telemetry::Ingest`).
pub fn samples_ingested(n: u64) {
    if let Some(s) = sink() {
        s.samples(n);
    }
}

#[derive(Default)]
pub struct Metrics {
    pub breaches: AtomicU64,
    pub restores: AtomicU64,
    pub reroutes: AtomicU64,
    pub reroute_failures: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
    last_us: AtomicU64,
}

impl Metrics {
    pub fn breach(&self) {
        self.breaches.fetch_add(1, Ordering::Relaxed);
        if let Some(s) = sink() {
            s.breach();
        }
    }

    pub fn restore(&self) {
        self.restores.fetch_add(1, Ordering::Relaxed);
        if let Some(s) = sink() {
            s.restore();
        }
    }

    /// Policies moved, and policies whose headend refused or missed the move.
    pub fn rerouted(&self, moved: u64, failed: u64) {
        self.reroutes.fetch_add(moved, Ordering::Relaxed);
        self.reroute_failures.fetch_add(failed, Ordering::Relaxed);
        if let Some(s) = sink() {
            s.reroutes(moved, failed);
        }
    }

    /// Breach sample received → every affected headend acked.
    pub fn observe_reroute(&self, took: Duration) {
        if let Some(s) = sink() {
            s.reroute_latency(took);
        }
        let s = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        self.last_us
            .store(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// (reroute batches so far, how long the last one took).
    pub fn last_reroute(&self) -> (u64, Duration) {
        (
            self.count.load(Ordering::Relaxed),
            Duration::from_micros(self.last_us.load(Ordering::Relaxed)),
        )
    }

    /// Prometheus text exposition; `extra` are (name, help, value) gauges or
    /// counters owned elsewhere (telemetry ingest, sessions).
    pub fn render(&self, extra: &[(&str, &str, &str, f64)]) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        counter(
            "strata_breaches_total",
            "Link threshold breaches.",
            self.breaches.load(Ordering::Relaxed),
        );
        counter(
            "strata_restores_total",
            "Links restored after the hold-down.",
            self.restores.load(Ordering::Relaxed),
        );
        counter(
            "strata_reroutes_total",
            "Policies moved to a new path.",
            self.reroutes.load(Ordering::Relaxed),
        );
        counter(
            "strata_reroute_failures_total",
            "Policies whose headend refused or missed a reroute.",
            self.reroute_failures.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP strata_reroute_seconds Breach sample received to all affected headends acked.\n# TYPE strata_reroute_seconds histogram"
        );
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "strata_reroute_seconds_bucket{{le=\"{b}\"}} {}",
                self.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "strata_reroute_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "strata_reroute_seconds_sum {}",
            self.sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "strata_reroute_seconds_count {count}");
        for (name, kind, help, v) in extra {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
        out
    }
}

/// A minimal HTTP/1.1 endpoint: `GET /metrics` → text; anything else → 404.
pub async fn serve(
    listener: tokio::net::TcpListener,
    render: Arc<dyn Fn() -> String + Send + Sync>,
    mut halted: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = halted.wait_for(|h| *h) => return,
        };
        let Ok((mut sock, _)) = accepted else {
            // Out of descriptors, say: wait rather than spin on the error.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let render = render.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            let n = match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf)).await {
                Ok(Ok(n)) => n,
                _ => return,
            };
            let req = String::from_utf8_lossy(&buf[..n]);
            let (status, body) = if req.starts_with("GET /metrics ") {
                ("200 OK", render())
            } else {
                ("404 Not Found", "try GET /metrics\n".to_string())
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.observe_reroute(Duration::from_micros(800));
        m.observe_reroute(Duration::from_millis(30));
        let text = m.render(&[("strata_devices_up", "gauge", "Sessions up.", 3.0)]);
        assert!(
            text.contains("strata_reroute_seconds_bucket{le=\"0.001\"} 1"),
            "{text}"
        );
        assert!(text.contains("strata_reroute_seconds_bucket{le=\"0.05\"} 2"));
        assert!(text.contains("strata_reroute_seconds_count 2"));
        assert!(text.contains("strata_devices_up 3"));
    }
}
