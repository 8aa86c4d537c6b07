//! The closed loop on loopback: real simulators, real gNMI telemetry, real
//! fault injection over gRPC. Impair a link → only the policies on it move
//! (the headend gets a new SID list); restore → they return after the
//! hold-down; a fiber cut fails over the packet links riding it.

mod common;

use std::time::Duration;
use strata::northbound::ControllerApi;

use common::*;
use strata::lab::{Lab, LabOptions};
use strata::proto::strata::sim::v1 as sim;
use strata::proto::strata::v1 as api;

fn options() -> LabOptions {
    closed_loop_lab_options()
}

/// The labels of segment list `discriminator` in the color 100 rule to
/// `endpoint` on `headend` (empty if there is no such list).
fn te_sids(lab: &Lab, headend: &str, endpoint: &str, discriminator: u32) -> Vec<u64> {
    let rules = "/network-instances/network-instance[name=DEFAULT]/policy-forwarding/policies/policy[policy-id=strata-srte]/rules";
    let leaf = |p: String| device_leaf(&lab.fabric, headend, &p);
    let Some(seq) = (1..=64).find(|seq| {
        let srte = format!("{rules}/rule[sequence-id={seq}]/srte/config");
        leaf(format!("{srte}/srte-color")).and_then(|v| v.as_u64()) == Some(100)
            && leaf(format!("{srte}/srte-endpoint"))
                .as_ref()
                .and_then(|v| v.as_str())
                == Some(endpoint)
    }) else {
        return Vec::new();
    };
    let base = format!(
        "{rules}/rule[sequence-id={seq}]/action/segment-lists/segment-list[index={discriminator}]/sids/sid"
    );
    (0..8)
        .map_while(|i| leaf(format!("{base}[index={i}]/config/value")).and_then(|v| v.as_u64()))
        .collect()
}

async fn links_of(lab: &Lab, id: &str) -> Vec<String> {
    lab.controller.get_policy(id).unwrap().path.unwrap().links
}

/// The controller commits a reroute right after the headend acks it.
async fn settles_on(lab: &Lab, id: &str, want: impl Fn(&[String]) -> bool) -> bool {
    eventually(Duration::from_secs(5), || {
        want(&lab.controller.get_policy(id).unwrap().path.unwrap().links)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impairment_moves_affected_policies_and_recovery_brings_them_back() {
    let topo = small_topology();
    let lab = Lab::start(&topo, &options()).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || lab.state.counts().up
            == topo.nodes.len())
        .await
    );
    let mk = |name: &str, h: &str, e: &str| api::CreatePolicyRequest {
        request_id: String::new(),
        spec: Some(api::PolicySpec {
            name: name.into(),
            headend: h.into(),
            endpoint: e.into(),
            color: 100,
            constraints: None,
        }),
    };
    let p12 = lab
        .controller
        .create_policy(mk("p12", "pe1", "pe2"))
        .await
        .unwrap();
    let p23 = lab
        .controller
        .create_policy(mk("p23", "pe2", "pe3"))
        .await
        .unwrap();
    let p31 = lab
        .controller
        .create_policy(mk("p31", "pe3", "pe1"))
        .await
        .unwrap();
    assert_eq!(links_of(&lab, &p12.id).await, vec!["pe1-pe2"]);
    assert_eq!(te_sids(&lab, "pe1", "10.255.0.2", 1), vec![16002]);

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
    assert!(
        eventually(Duration::from_secs(10), || te_sids(
            &lab,
            "pe1",
            "10.255.0.2",
            2
        ) == vec![16003, 16002])
        .await,
        "pe1 got a SID list avoiding pe1-pe2: {:?}",
        te_sids(&lab, "pe1", "10.255.0.2", 2)
    );
    assert!(
        eventually(Duration::from_secs(5), || te_sids(
            &lab,
            "pe1",
            "10.255.0.2",
            1
        )
        .is_empty())
        .await,
        "old candidate path removed after the new one"
    );
    assert!(settles_on(&lab, &p12.id, |l| !l.contains(&"pe1-pe2".to_string())).await);
    // the other headends were not touched
    assert_eq!(
        lab.controller.get_policy(&p23.id).unwrap().revision,
        p23.revision
    );
    assert_eq!(
        lab.controller.get_policy(&p31.id).unwrap().revision,
        p31.revision
    );
    assert_eq!(te_sids(&lab, "pe2", "10.255.0.3", 1).len(), 1);

    faults
        .restore_link(sim::LinkRequest {
            link: "pe1-pe2".into(),
        })
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || te_sids(
            &lab,
            "pe1",
            "10.255.0.2",
            3
        ) == vec![16002])
        .await,
        "p12 returned to pe1-pe2 after the hold-down"
    );
    assert!(settles_on(&lab, &p12.id, |l| l == ["pe1-pe2"]).await);

    // a fiber cut under pe1-pe2 fails it over again
    faults
        .cut_link(sim::LinkRequest {
            link: "ot1-ot2".into(),
        })
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || te_sids(
            &lab,
            "pe1",
            "10.255.0.2",
            4
        ) == vec![16003, 16002])
        .await,
        "fiber cut moved p12: {:?}",
        lab.controller.get_policy(&p12.id).unwrap().path
    );
    let e = faults
        .cut_link(sim::LinkRequest {
            link: "no-such-fiber".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    lab.shutdown().await;
}

/// Two PEs joined through a transit router p1 (short) or through p2 and p3
/// (long), so every PE-to-PE policy crosses p1 until it fails.
const TRANSIT: &str = r#"
name: transit
defaults:
  address_base: 127.0.0.1:20700
  capacity_gbps: 400
nodes:
  - {name: pe1, role: packet, router_id: 10.255.7.1, node_sid: 16701}
  - {name: pe2, role: packet, router_id: 10.255.7.2, node_sid: 16702}
  - {name: p1, role: packet, router_id: 10.255.7.11, node_sid: 16711}
  - {name: p2, role: packet, router_id: 10.255.7.12, node_sid: 16712}
  - {name: p3, role: packet, router_id: 10.255.7.13, node_sid: 16713}
links:
  - {name: pe1-p1, a: {node: pe1, interface: et-0/0/1}, b: {node: p1, interface: et-0/0/1}, layer: packet, length_km: 10}
  - {name: p1-pe2, a: {node: p1, interface: et-0/0/2}, b: {node: pe2, interface: et-0/0/1}, layer: packet, length_km: 10}
  - {name: pe1-p2, a: {node: pe1, interface: et-0/0/2}, b: {node: p2, interface: et-0/0/1}, layer: packet, length_km: 40}
  - {name: p2-p3, a: {node: p2, interface: et-0/0/2}, b: {node: p3, interface: et-0/0/1}, layer: packet, length_km: 40}
  - {name: p3-pe2, a: {node: p3, interface: et-0/0/2}, b: {node: pe2, interface: et-0/0/2}, layer: packet, length_km: 40}
"#;

fn crosses(lab: &Lab, id: &str, node: &str) -> bool {
    let links = lab.controller.get_policy(id).unwrap().path.unwrap().links;
    links.iter().any(|l| {
        lab.fabric
            .topology()
            .link(l)
            .is_some_and(|l| l.touches(node))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_transit_router_takes_its_links_down_and_policies_move_off_it() {
    let topo = strata::topology::parse_str(TRANSIT).unwrap();
    let mut opts = options();
    // Far beyond the test's waits: only the neighbours' telemetry can take
    // the links down, not the crashed router's silence.
    opts.health.global.silence_timeout = Duration::from_secs(600);
    let lab = Lab::start(&topo, &opts).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || lab.state.counts().up
            == topo.nodes.len())
        .await
    );
    let mut ids = Vec::new();
    for (name, h, e, color) in [
        ("a", "pe1", "pe2", 100),
        ("b", "pe2", "pe1", 100),
        ("c", "pe1", "pe2", 200),
        ("d", "pe2", "pe1", 200),
    ] {
        let p = lab
            .controller
            .create_policy(api::CreatePolicyRequest {
                request_id: String::new(),
                spec: Some(api::PolicySpec {
                    name: name.into(),
                    headend: h.into(),
                    endpoint: e.into(),
                    color,
                    constraints: None,
                }),
            })
            .await
            .unwrap();
        assert!(crosses(&lab, &p.id, "p1"), "{name} starts through p1");
        ids.push(p.id);
    }
    let p1_links = ["pe1-p1", "p1-pe2"];

    lab.fabric.crash("p1").await.unwrap();
    // The neighbours see their ports towards p1 go down and its adjacency go.
    let oper = |dev: &str, port: &str| {
        device_leaf(
            &lab.fabric,
            dev,
            &format!("/interfaces/interface[name={port}]/state/oper-status"),
        )
    };
    assert_eq!(oper("pe1", "et-0/0/1"), Some(serde_json::json!("DOWN")));
    assert_eq!(oper("pe2", "et-0/0/1"), Some(serde_json::json!("DOWN")));
    assert_eq!(oper("pe1", "et-0/0/2"), Some(serde_json::json!("UP")));
    let p1_sysid = strata::simulators::device::isis_system_id("10.255.7.11".parse().unwrap());
    let adjacency = |dev: &str| {
        let lsp_id = format!(
            "{}.00-00",
            strata::simulators::device::isis_system_id(topo.node(dev).unwrap().router_id.unwrap())
        );
        let p = format!(
            "{}/isis/levels/level[level-number=2]/link-state-database/lsp[lsp-id={lsp_id}]/tlvs/tlv[type=EXTENDED_IS_REACHABILITY]/extended-is-reachability/neighbors/neighbor[system-id={p1_sysid}]/state/system-id",
            strata::simulators::device::ISIS_PROTOCOL
        );
        device_leaf(&lab.fabric, dev, &p)
    };
    assert_eq!(adjacency("pe1"), None, "pe1 withdrew its adjacency to p1");
    assert_eq!(adjacency("pe2"), None, "pe2 withdrew its adjacency to p1");

    assert!(
        eventually(Duration::from_secs(10), || {
            let inner = lab.controller.read();
            p1_links.iter().all(|l| inner.degraded.contains(*l))
        })
        .await,
        "the controller took p1's links down: {:?}",
        lab.controller.read().degraded
    );
    for id in &ids {
        assert!(
            eventually(Duration::from_secs(10), || !crosses(&lab, id, "p1")).await,
            "policy {id} moved off p1: {:?}",
            lab.controller.get_policy(id).unwrap().path
        );
    }
    // The headends steer on the new path.
    assert!(
        eventually(Duration::from_secs(10), || {
            let sids = (1..=8)
                .map(|d| te_sids(&lab, "pe1", "10.255.7.2", d))
                .find(|s| !s.is_empty())
                .unwrap_or_default();
            !sids.is_empty() && !sids.contains(&16711)
        })
        .await,
        "pe1's SID list to pe2 avoids p1"
    );

    lab.fabric.restart("p1", false).await.unwrap();
    assert_eq!(oper("pe1", "et-0/0/1"), Some(serde_json::json!("UP")));
    assert!(
        eventually(Duration::from_secs(5), || adjacency("pe1").is_some()).await,
        "pe1 formed its adjacency to p1 again"
    );
    assert!(
        eventually(Duration::from_secs(20), || {
            let inner = lab.controller.read();
            p1_links.iter().all(|l| !inner.degraded.contains(*l))
        })
        .await,
        "p1's links came back after the hold-down: {:?}",
        lab.controller.read().degraded
    );
    // Each left on whichever of p1's links failed first; they return once
    // both are back, whichever recovers last.
    for id in &ids {
        assert!(
            eventually(Duration::from_secs(10), || crosses(&lab, id, "p1")).await,
            "policy {id} returned through p1: {:?}",
            lab.controller.get_policy(id).unwrap().path
        );
    }
    lab.shutdown().await;
}
