//! Shared helpers for integration tests: a small fabric, simulators on
//! ephemeral loopback ports, and a southbound attached to them.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use strata::gnmi::parse_path;
use strata::model::Topology;
use strata::proto::gnmi::g_nmi_client::GNmiClient;
use strata::proto::gnmi::{typed_value, Path, TypedValue, Update};
use strata::simulators::fabric::{SimFabric, SimOptions};
use strata::southbound::{DeviceTarget, SessionConfig, Southbound};
use strata::state::FabricState;
use strata::telemetry::Ingest;
use tonic::transport::Channel;

pub const SMALL: &str = include_str!("../../examples/small.yaml");

/// An E-Line between two PEs' `ce-0/1/0` on one VLAN, nothing else set.
pub fn e_line(name: &str, ends: [&str; 2], vlan: u32) -> strata::proto::strata::v1::ServiceSpec {
    use strata::proto::strata::v1 as api;
    api::ServiceSpec {
        name: name.into(),
        r#type: api::ServiceType::ELine as i32,
        attachments: ends
            .iter()
            .map(|d| api::Attachment {
                device: d.to_string(),
                interface: "ce-0/1/0".into(),
                vlan,
            })
            .collect(),
        ..Default::default()
    }
}

pub fn small_topology() -> Topology {
    strata::topology::parse_str(SMALL).expect("examples/small.yaml is valid")
}

pub struct Lab {
    pub fabric: Arc<SimFabric>,
    pub southbound: Arc<Southbound>,
    pub state: Arc<FabricState>,
    pub ingest: Arc<Ingest>,
}

pub fn fast_sessions() -> SessionConfig {
    SessionConfig {
        connect_timeout: Duration::from_secs(2),
        rpc_timeout: Duration::from_secs(5),
        backoff_base: Duration::from_millis(50),
        backoff_cap: Duration::from_millis(300),
        sample_interval: Duration::from_millis(50),
        queue_depth: 64,
        ..SessionConfig::default()
    }
}

pub async fn start_sims(topology: &Topology) -> Arc<SimFabric> {
    start_sims_every(topology, Duration::from_millis(50)).await
}

pub async fn start_sims_every(topology: &Topology, measure: Duration) -> Arc<SimFabric> {
    let fabric = SimFabric::new(
        topology,
        SimOptions {
            measure_interval: measure,
            ephemeral_ports: true,
        },
    );
    fabric.start().await.expect("simulators start");
    fabric
}

pub async fn start_lab(topology: &Topology) -> Lab {
    start_lab_with(topology, Duration::from_millis(50), fast_sessions()).await
}

/// Big fabrics in parallel tests on 2 cores: measure and sample less often.
pub async fn start_lab_with(
    topology: &Topology,
    measure: Duration,
    sessions: SessionConfig,
) -> Lab {
    let fabric = start_sims_every(topology, measure).await;
    let state = Arc::new(FabricState::default());
    let ingest = Arc::new(Ingest::default());
    let southbound = Southbound::new(state.clone(), ingest.clone(), sessions);
    for node in &topology.nodes {
        southbound.add_device(DeviceTarget {
            name: node.name.clone(),
            role: node.role,
            address: fabric.address(&node.name).expect("bound"),
            router_id: node.router_id,
        });
    }
    Lab {
        fabric,
        southbound,
        state,
        ingest,
    }
}

/// Polls `cond` until it holds or `timeout` passes (waiting for asynchronous
/// effects; never used to assert timing).
pub async fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

pub async fn raw_client(fabric: &SimFabric, device: &str) -> GNmiClient<Channel> {
    let addr = fabric.address(device).expect("device bound");
    GNmiClient::connect(format!("http://{addr}"))
        .await
        .expect("connect")
}

pub fn path(s: &str) -> Path {
    parse_path(s).expect("test path")
}

pub fn json_update(p: &str, value: serde_json::Value) -> Update {
    Update {
        path: Some(path(p)),
        val: Some(TypedValue {
            value: Some(typed_value::Value::JsonIetfVal(
                serde_json::to_vec(&value).unwrap(),
            )),
        }),
        ..Default::default()
    }
}

pub fn json_of(tv: &TypedValue) -> serde_json::Value {
    strata::gnmi::value::typed_to_json(tv).expect("json value")
}

pub const US_METRO: &str = include_str!("../../examples/us-metro.yaml");

pub fn us_metro() -> Topology {
    strata::topology::parse_str(US_METRO).expect("examples/us-metro.yaml is valid")
}

/// The daemon's one wiring (`strata lab`: journal-less daemon with
/// reconcile, closed loop and the northbound API with fault injection) on
/// simulators, on loopback with ephemeral ports.
pub struct ApiLab {
    pub lab: Lab,
    pub controller: Arc<strata::controller::Controller>,
    pub endpoint: String,
    /// Keeps the daemon running for the test's lifetime.
    pub daemon: strata::lab::Lab,
}

pub async fn start_api_lab(topology: &Topology) -> ApiLab {
    let sessions = SessionConfig {
        sample_interval: Duration::from_millis(1000),
        rpc_timeout: Duration::from_secs(15),
        ..fast_sessions()
    };
    let options = strata::lab::LabOptions {
        sim: SimOptions {
            measure_interval: Duration::from_millis(500),
            ephemeral_ports: true,
        },
        sessions,
        ..closed_loop_lab_options()
    };
    let daemon = strata::lab::Lab::start(topology, &options)
        .await
        .expect("lab starts");
    assert!(
        eventually(Duration::from_secs(20), || daemon.state.counts().up
            == topology.nodes.len())
        .await,
        "all sessions up: {:?}",
        daemon.state.counts()
    );
    ApiLab {
        lab: Lab {
            fabric: daemon.fabric.clone(),
            southbound: daemon.southbound.clone(),
            state: daemon.state.clone(),
            ingest: daemon.ingest.clone(),
        },
        controller: daemon.controller.clone(),
        endpoint: format!("http://{}", daemon.api),
        daemon,
    }
}

/// Reads one value from a simulated device's tree.
pub fn device_leaf(fabric: &SimFabric, device: &str, p: &str) -> Option<serde_json::Value> {
    fabric
        .device(device)?
        .read(|t| t.leaf_value(&path(p)).cloned())
}

/// Config of every network instance and TE policy on a device, for
/// before/after comparisons.
pub fn device_config(fabric: &SimFabric, device: &str) -> serde_json::Value {
    use strata::gnmi::tree::{DataFilter, Tree};
    fabric
        .device(device)
        .map(|d| {
            d.read(|t| {
                let mut out = serde_json::Map::new();
                for root in [
                    "/network-instances",
                    "/components",
                    "/terminal-device/logical-channels",
                ] {
                    if let Ok(found) = t.find(&path(root)) {
                        if let Some(f) = found.first() {
                            out.insert(root.into(), Tree::export(f, true, DataFilter::Config));
                        }
                    }
                }
                for f in t
                    .find(&path("/interfaces/interface/subinterfaces"))
                    .unwrap_or_default()
                {
                    out.insert(
                        strata::gnmi::format_path(&f.path),
                        Tree::export(&f, true, DataFilter::Config),
                    );
                }
                serde_json::Value::Object(out)
            })
        })
        .unwrap_or(serde_json::Value::Null)
}

/// Lab options for closed-loop tests: ephemeral ports, fast measurement and
/// sessions, a short hold-down, intents in memory.
pub fn closed_loop_lab_options() -> strata::lab::LabOptions {
    strata::lab::LabOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        sim: SimOptions {
            measure_interval: Duration::from_millis(50),
            ephemeral_ports: true,
        },
        sessions: fast_sessions(),
        health: strata::telemetry::health::HealthConfig {
            hold_down: Duration::from_millis(800),
            silence_timeout: Duration::from_secs(5),
            ..Default::default()
        }
        .into(),
        pools: Default::default(),
        duration: None,
        metrics: None,
        data_dir: None,
        reconcile_interval: Duration::from_secs(30),
        recover_journal: false,
        web: None,
        security: strata::lab::LabSecurity::Insecure,
    }
}
