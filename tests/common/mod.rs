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
    }
}

pub async fn start_sims(topology: &Topology) -> Arc<SimFabric> {
    let fabric = SimFabric::new(
        topology,
        SimOptions {
            measure_interval: Duration::from_millis(50),
            ephemeral_ports: true,
        },
    );
    fabric.start().await.expect("simulators start");
    fabric
}

pub async fn start_lab(topology: &Topology) -> Lab {
    let fabric = start_sims(topology).await;
    let state = Arc::new(FabricState::default());
    let ingest = Arc::new(Ingest::default());
    let southbound = Southbound::new(state.clone(), ingest.clone(), fast_sessions());
    for node in &topology.nodes {
        southbound.add_device(DeviceTarget {
            name: node.name.clone(),
            role: node.role,
            address: fabric.address(&node.name).expect("bound"),
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
