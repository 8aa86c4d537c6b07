//! The closed loop on loopback: real simulators, real gNMI telemetry, real
//! fault injection over gRPC. Impair a link → only the policies on it move
//! (the headend gets a new SID list); restore → they return after the
//! hold-down; a fiber cut fails over the packet links riding it.

mod common;

use std::time::Duration;

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
