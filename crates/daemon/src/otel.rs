//! The process's tracing subscriber, and OpenTelemetry export (OTLP over
//! gRPC) when a collector endpoint is configured.
//!
//! Log lines on stderr are always installed, filtered by `RUST_LOG` (default
//! `warn`). With an endpoint, two things are added: a tracing-opentelemetry
//! layer that batches strata's spans (the closed loop's `reroute` with its
//! `compute`, `program` and per-headend `set` children) to the collector, and a
//! meter provider whose periodic reader publishes the counts kept in
//! `crate::metrics` (through its `Sink` hook). Without an endpoint nothing of
//! OpenTelemetry is built: no layer, no exporter threads, no connection.

use std::time::Duration;

use opentelemetry::metrics::{Counter, Histogram, MeterProvider as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

/// The standard variable naming the collector when no flag does.
pub const ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// Upper bounds (ms) of the reroute latency buckets: the Prometheus ones.
const LATENCY_BOUNDS_MS: [f64; 12] = [
    0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 5000.0,
];

/// Owns the exporters; [`Otel::shutdown`] (or dropping it) flushes what is
/// still batched. Must happen while the Tokio runtime that was current at
/// [`init`] is still running: the gRPC channel's I/O lives on it.
pub struct Otel {
    tracer: SdkTracerProvider,
    meter: SdkMeterProvider,
    done: bool,
}

impl Otel {
    /// Exports what is pending and stops the exporter threads.
    pub fn shutdown(mut self) -> anyhow::Result<()> {
        self.done = true;
        let traces = self.tracer.shutdown();
        let metrics = self.meter.shutdown();
        traces
            .map_err(|e| anyhow::anyhow!("OpenTelemetry: flushing spans to the collector: {e}"))?;
        metrics.map_err(|e| {
            anyhow::anyhow!("OpenTelemetry: flushing metrics to the collector: {e}")
        })?;
        Ok(())
    }
}

impl Drop for Otel {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.tracer.shutdown();
            let _ = self.meter.shutdown();
        }
    }
}

/// The endpoint in force: the flag, else `OTEL_EXPORTER_OTLP_ENDPOINT`.
pub fn endpoint(flag: Option<String>) -> Option<String> {
    flag.filter(|e| !e.is_empty()).or_else(|| {
        std::env::var(ENDPOINT_ENV)
            .ok()
            .filter(|e| !e.trim().is_empty())
    })
}

/// Installs the global tracing subscriber; with `endpoint` (see [`endpoint`]
/// for the flag/env precedence) also the OpenTelemetry export. Call once,
/// inside a Tokio runtime context when an endpoint is given.
pub fn init(endpoint: Option<String>, service_name: &str) -> anyhow::Result<Option<Otel>> {
    let log_filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(log_filter);
    let Some(endpoint) = endpoint else {
        tracing_subscriber::registry().with(fmt).try_init()?;
        return Ok(None);
    };
    let resource = Resource::builder()
        .with_service_name(service_name.to_string())
        .build();

    let spans = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint.clone())
        .build()?;
    let tracer = SdkTracerProvider::builder()
        .with_resource(resource.clone())
        .with_batch_exporter(spans)
        .build();

    let metrics = opentelemetry_otlp::MetricExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()?;
    let meter = SdkMeterProvider::builder()
        .with_resource(resource)
        // OTEL_METRIC_EXPORT_INTERVAL overrides the SDK's 60 s default.
        .with_reader(PeriodicReader::builder(metrics).build())
        .build();

    // Only strata's own spans and events, at info and above, whatever RUST_LOG
    // says for the log lines; never the exporter's own transport (tonic, h2),
    // which would feed back into itself.
    let export_filter = tracing_subscriber::filter::Targets::new()
        .with_target(env!("CARGO_CRATE_NAME"), tracing::Level::INFO);
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer.tracer(service_name.to_string()))
        .with_filter(export_filter);
    tracing_subscriber::registry()
        .with(fmt)
        .with(layer)
        .try_init()?;

    if !crate::metrics::set_sink(Box::new(Instruments::new(&meter))) {
        tracing::warn!("OpenTelemetry metrics hook was already installed; keeping the first");
    }
    Ok(Some(Otel {
        tracer,
        meter,
        done: false,
    }))
}

/// The OpenTelemetry instruments behind `crate::metrics::Sink`.
struct Instruments {
    samples: Counter<u64>,
    breaches: Counter<u64>,
    restores: Counter<u64>,
    reroutes: Counter<u64>,
    reroute_failures: Counter<u64>,
    reroute_ms: Histogram<f64>,
}

impl Instruments {
    fn new(provider: &SdkMeterProvider) -> Self {
        let meter = provider.meter("strata");
        Instruments {
            samples: meter
                .u64_counter("strata.telemetry.samples")
                .with_unit("{sample}")
                .with_description("Telemetry values ingested from device notifications.")
                .build(),
            breaches: meter
                .u64_counter("strata.breaches")
                .with_unit("{breach}")
                .with_description("Link threshold breaches.")
                .build(),
            restores: meter
                .u64_counter("strata.restores")
                .with_unit("{restore}")
                .with_description("Links restored after the hold-down.")
                .build(),
            reroutes: meter
                .u64_counter("strata.reroutes")
                .with_unit("{policy}")
                .with_description("Policies moved to a new path.")
                .build(),
            reroute_failures: meter
                .u64_counter("strata.reroute.failures")
                .with_unit("{policy}")
                .with_description("Policies whose headend refused or missed a reroute.")
                .build(),
            reroute_ms: meter
                .f64_histogram("strata.reroute.duration")
                .with_unit("ms")
                .with_description("Breach sample received to all affected headends acked.")
                .with_boundaries(LATENCY_BOUNDS_MS.to_vec())
                .build(),
        }
    }
}

impl crate::metrics::Sink for Instruments {
    fn samples(&self, n: u64) {
        self.samples.add(n, &[]);
    }
    fn breach(&self) {
        self.breaches.add(1, &[]);
    }
    fn restore(&self) {
        self.restores.add(1, &[]);
    }
    fn reroutes(&self, moved: u64, failed: u64) {
        self.reroutes.add(moved, &[]);
        if failed > 0 {
            self.reroute_failures.add(failed, &[]);
        }
    }
    fn reroute_latency(&self, took: Duration) {
        self.reroute_ms.record(took.as_secs_f64() * 1e3, &[]);
    }
}
