//! Fenced device writes on real simulators: every Set the southbound sends
//! carries the gNMI master-arbitration extension with its election id, and a
//! device refuses the Set of a deposed controller (a lower id than the
//! highest it has seen) without touching its configuration.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::json;
use strata::proto::gnmi::SetRequest;
use strata::southbound::fence::Election;
use strata::southbound::{DeviceTarget, Southbound, SouthboundError};
use strata::state::FabricState;
use strata::telemetry::Ingest;

fn controller(
    fabric: &strata::simulators::fabric::SimFabric,
    election: &Election,
) -> (Arc<Southbound>, Arc<FabricState>) {
    let topology = small_topology();
    let state = Arc::new(FabricState::default());
    let sessions = strata::southbound::SessionConfig {
        election: election.clone(),
        ..fast_sessions()
    };
    let southbound = Southbound::new(state.clone(), Arc::new(Ingest::default()), sessions);
    let node = topology.node("pe1").unwrap();
    southbound.add_device(DeviceTarget {
        name: node.name.clone(),
        role: node.role,
        address: fabric.address("pe1").unwrap(),
        router_id: node.router_id,
    });
    (southbound, state)
}

fn evpn(evi: u32) -> SetRequest {
    let attachments = [("ce-0/1/0".to_string(), evi)];
    let edit = strata::render::Dialect::OpenConfig.evpn(&strata::render::EvpnInstance {
        service: "svc",
        evi,
        vni: 10000 + evi,
        route_distinguisher: "10.255.0.1:100",
        route_target: "65000:100",
        attachments: &attachments,
    });
    strata::southbound::request::set_request(&edit).unwrap()
}

#[tokio::test]
async fn a_deposed_controllers_set_is_refused_and_the_device_is_unchanged() {
    let topology = small_topology();
    let fabric = start_sims(&topology).await;
    let (old, new) = (Election::fixed(1), Election::fixed(2));
    let (deposed, deposed_state) = controller(&fabric, &old);
    let (leader, leader_state) = controller(&fabric, &new);
    assert!(
        eventually(Duration::from_secs(10), || deposed_state.counts().up == 1
            && leader_state.counts().up == 1)
        .await
    );
    // Before the newer controller writes, the older one is the master.
    deposed.set("pe1", evpn(101)).await.unwrap();
    leader.set("pe1", evpn(102)).await.unwrap();
    let device = fabric.device("pe1").unwrap();
    assert_eq!(device.arbiter.highest(), 2);
    let before = device_config(&fabric, "pe1");

    match deposed.set("pe1", evpn(103)).await {
        Err(SouthboundError::Rejected { code, message, .. }) => {
            assert_eq!(code, tonic::Code::PermissionDenied);
            assert!(
                message.contains("lower than the highest seen (2)"),
                "{message}"
            );
        }
        other => panic!("the deposed controller's Set was not refused: {other:?}"),
    }
    assert_eq!(device_config(&fabric, "pe1"), before);
    assert!(device_leaf(
        &fabric,
        "pe1",
        "/network-instances/network-instance[name=strata-evpn-103]/config/name"
    )
    .is_none());

    // The leader keeps writing; a standard client without the extension is
    // not arbitrated; a controller with a newer term is the master again.
    leader.set("pe1", evpn(104)).await.unwrap();
    let mut raw = raw_client(&fabric, "pe1").await;
    raw.set(SetRequest {
        update: vec![json_update(
            "/interfaces/interface[name=lo0]/config/description",
            json!("set by a plain gNMI client"),
        )],
        ..Default::default()
    })
    .await
    .expect("a Set without master arbitration is accepted");
    old.set(3);
    deposed.set("pe1", evpn(105)).await.unwrap();
    assert!(leader.set("pe1", evpn(106)).await.is_err());
    assert_eq!(device.arbiter.highest(), 3);
}
