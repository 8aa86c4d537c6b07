//! OpenTelemetry export end to end: an in-process OTLP/gRPC collector on
//! loopback, a lab whose closed loop reroutes a policy off an impaired link,
//! and the spans and metrics the collector received once the exporters are
//! shut down (flushed). Its own test binary: the tracing subscriber and the
//! metrics hook are process-wide.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata::northbound::ControllerApi;

use common::*;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point, Metric};
use opentelemetry_proto::tonic::trace::v1::Span;
use strata::lab::{Lab, LabOptions};
use strata::proto::strata::sim::v1 as sim;
use strata::proto::strata::v1 as api;
use tonic::{Request, Response, Status};

/// Keeps everything exported to it.
#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<Span>>>,
    metrics: Arc<Mutex<Vec<Metric>>>,
    services: Arc<Mutex<Vec<String>>>,
}

impl Collector {
    fn note_service(&self, attrs: Option<&[KeyValue]>) {
        if let Some(name) = attrs.and_then(|a| string_attr(a, "service.name")) {
            self.services.lock().unwrap().push(name);
        }
    }
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        for rs in request.into_inner().resource_spans {
            self.note_service(rs.resource.as_ref().map(|r| r.attributes.as_slice()));
            for ss in rs.scope_spans {
                self.spans.lock().unwrap().extend(ss.spans);
            }
        }
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        for rm in request.into_inner().resource_metrics {
            self.note_service(rm.resource.as_ref().map(|r| r.attributes.as_slice()));
            for sm in rm.scope_metrics {
                self.metrics.lock().unwrap().extend(sm.metrics);
            }
        }
        Ok(Response::new(ExportMetricsServiceResponse::default()))
    }
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn string_attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    match attr(attrs, key)? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        _ => None,
    }
}

fn int_attr(attrs: &[KeyValue], key: &str) -> Option<i64> {
    match attr(attrs, key)? {
        any_value::Value::IntValue(v) => Some(*v),
        _ => None,
    }
}

/// The last exported value of a monotonic counter (cumulative temporality).
fn counter(metrics: &[Metric], name: &str) -> Option<i64> {
    metrics
        .iter()
        .filter(|m| m.name == name)
        .filter_map(|m| match &m.data {
            Some(metric::Data::Sum(s)) => s.data_points.first().and_then(|p| match p.value {
                Some(number_data_point::Value::AsInt(v)) => Some(v),
                Some(number_data_point::Value::AsDouble(v)) => Some(v as i64),
                None => None,
            }),
            _ => None,
        })
        .next_back()
}

/// (count, sum) of the last exported histogram point.
fn histogram(metrics: &[Metric], name: &str) -> Option<(u64, f64)> {
    metrics
        .iter()
        .filter(|m| m.name == name)
        .filter_map(|m| match &m.data {
            Some(metric::Data::Histogram(h)) => h
                .data_points
                .first()
                .map(|p| (p.count, p.sum.unwrap_or_default())),
            _ => None,
        })
        .next_back()
}

fn options() -> LabOptions {
    closed_loop_lab_options()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reroute_spans_and_metrics_reach_an_otlp_collector() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .add_service(MetricsServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let otel = strata::otel::init(Some(format!("http://{addr}")), "strata-otlp-test")
        .expect("subscriber and exporters install")
        .expect("an endpoint turns export on");

    let topo = small_topology();
    let lab = Lab::start(&topo, &options()).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || lab.state.counts().up
            == topo.nodes.len())
        .await
    );
    let p12 = lab
        .controller
        .create_policy(api::CreatePolicyRequest {
            request_id: String::new(),
            spec: Some(api::PolicySpec {
                name: "p12".into(),
                headend: "pe1".into(),
                endpoint: "pe2".into(),
                color: 100,
                constraints: None,
            }),
        })
        .await
        .unwrap();
    let mut faults =
        sim::fault_injection_client::FaultInjectionClient::connect(format!("http://{}", lab.api))
            .await
            .unwrap();
    faults
        .impair_link(sim::ImpairLinkRequest {
            link: "pe1-pe2".into(),
            extra_delay_us: 5000,
            loss_percent: 0.0,
        })
        .await
        .unwrap();
    // The histogram is fed once the whole reroute (and its span) is done.
    assert!(
        eventually(Duration::from_secs(10), || lab
            .controller
            .metrics()
            .last_reroute()
            .0
            >= 1)
        .await,
        "the closed loop rerouted"
    );
    let links = lab
        .controller
        .get_policy(&p12.id)
        .unwrap()
        .path
        .unwrap()
        .links;
    assert!(!links.contains(&"pe1-pe2".to_string()), "{links:?}");
    let controller = lab.controller.clone();
    lab.shutdown().await;
    // What the Prometheus side counted, to compare with what was exported.
    let prom_reroutes = controller.metrics().last_reroute().0;
    let prom_breaches = controller
        .metrics()
        .breaches
        .load(std::sync::atomic::Ordering::Relaxed);

    // Shutdown blocks until the exporters have flushed through the runtime.
    tokio::task::spawn_blocking(move || otel.shutdown())
        .await
        .unwrap()
        .expect("exporters flush on shutdown");
    server.abort();

    let spans = collector.spans.lock().unwrap().clone();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    let reroute = spans
        .iter()
        .find(|s| {
            s.name == "reroute" && string_attr(&s.attributes, "link").as_deref() == Some("pe1-pe2")
        })
        .unwrap_or_else(|| panic!("a reroute span for pe1-pe2 among {names:?}"));
    assert!(
        int_attr(&reroute.attributes, "policies").unwrap_or(0) >= 1,
        "{:?}",
        reroute.attributes
    );
    assert_eq!(int_attr(&reroute.attributes, "moved"), Some(1));
    assert_eq!(
        string_attr(&reroute.attributes, "headends").as_deref(),
        Some("pe1")
    );
    let child = |name: &str| {
        spans
            .iter()
            .find(|s| {
                s.name == name
                    && s.trace_id == reroute.trace_id
                    && s.parent_span_id == reroute.span_id
            })
            .unwrap_or_else(|| panic!("a {name} span under the reroute span among {names:?}"))
    };
    let compute = child("compute");
    let program = child("program");
    assert_eq!(
        string_attr(&compute.attributes, "link").as_deref(),
        Some("pe1-pe2")
    );
    assert_eq!(int_attr(&program.attributes, "headends"), Some(1));
    // The reroute span covers breach → compute → every Set acked.
    assert!(reroute.start_time_unix_nano <= compute.start_time_unix_nano);
    assert!(compute.end_time_unix_nano <= program.start_time_unix_nano);
    assert!(program.end_time_unix_nano <= reroute.end_time_unix_nano);
    let set = spans
        .iter()
        .find(|s| s.name == "set" && s.parent_span_id == program.span_id)
        .unwrap_or_else(|| panic!("a per-headend set span under program among {names:?}"));
    assert_eq!(
        string_attr(&set.attributes, "headend").as_deref(),
        Some("pe1")
    );

    let metrics = collector.metrics.lock().unwrap().clone();
    let (count, sum_ms) = histogram(&metrics, "strata.reroute.duration")
        .expect("the reroute latency histogram was exported");
    assert!(count >= 1, "histogram count {count}");
    assert!(sum_ms > 0.0);
    // Fed from the same hook as the Prometheus counters: the same counts.
    assert_eq!(count, prom_reroutes);
    assert_eq!(
        counter(&metrics, "strata.breaches"),
        Some(prom_breaches as i64)
    );
    assert!(prom_breaches >= 1);
    assert!(counter(&metrics, "strata.reroutes").unwrap_or(0) >= 1);
    assert!(counter(&metrics, "strata.telemetry.samples").unwrap_or(0) > 0);
    assert!(collector
        .services
        .lock()
        .unwrap()
        .iter()
        .all(|s| s == "strata-otlp-test"));
}
