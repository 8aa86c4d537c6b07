//! Maintenance drains on loopback: real simulators, the real API. Drain a
//! link while policies are being created: every policy ends programmed, off
//! the drained link, and its headend's rule holds exactly the SID list the
//! controller shows; new placements avoid the link until it is undrained;
//! the drain is announced as events and survives a restart.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use api::maintenance_client::MaintenanceClient;
use common::*;
use strata::lab::Lab;
use strata::northbound::ControllerApi;
use strata::proto::strata::v1 as api;

fn policy(name: &str, h: &str, e: &str, color: u32) -> api::CreatePolicyRequest {
    api::CreatePolicyRequest {
        request_id: String::new(),
        spec: Some(api::PolicySpec {
            name: name.into(),
            headend: h.into(),
            endpoint: e.into(),
            color,
            constraints: None,
        }),
    }
}

/// Every segment list (index → labels) of the rule for `color` to
/// `endpoint` on `headend`.
fn device_lists(lab: &Lab, headend: &str, color: u32, endpoint: &str) -> BTreeMap<u64, Vec<u64>> {
    let rules = "/network-instances/network-instance[name=DEFAULT]/policy-forwarding/policies/policy[policy-id=strata-srte]/rules";
    let leaf = |p: String| device_leaf(&lab.fabric, headend, &p);
    let Some(seq) = (1..=128).find(|seq| {
        let srte = format!("{rules}/rule[sequence-id={seq}]/srte/config");
        leaf(format!("{srte}/srte-color")).and_then(|v| v.as_u64()) == Some(color as u64)
            && leaf(format!("{srte}/srte-endpoint"))
                .as_ref()
                .and_then(|v| v.as_str())
                == Some(endpoint)
    }) else {
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    for index in 0..=32u64 {
        let base = format!(
            "{rules}/rule[sequence-id={seq}]/action/segment-lists/segment-list[index={index}]/sids/sid"
        );
        let sids: Vec<u64> = (0..16)
            .map_while(|i| leaf(format!("{base}[index={i}]/config/value")).and_then(|v| v.as_u64()))
            .collect();
        if !sids.is_empty() {
            out.insert(index, sids);
        }
    }
    out
}

/// Every policy is programmed, off `link`, and its headend holds one
/// segment list for it: the labels the controller shows.
fn all_programmed_off(lab: &Lab, link: &str) -> Result<usize, String> {
    let policies = lab.controller.list_policies("", "");
    for p in &policies {
        let spec = p.spec.clone().unwrap_or_default();
        let path = p.path.clone().unwrap_or_default();
        if p.state != api::PolicyState::Programmed as i32 {
            return Err(format!("{} is in state {}", p.id, p.state));
        }
        if path.links.iter().any(|l| l == link) {
            return Err(format!("{} still on {link}: {:?}", p.id, path.links));
        }
        let want: Vec<u64> = path.segments.iter().map(|s| s.label as u64).collect();
        let lists = device_lists(lab, &spec.headend, spec.color, &p.endpoint_address);
        let got: Vec<&Vec<u64>> = lists.values().collect();
        if got != [&want] {
            return Err(format!(
                "{} on {}: the device holds {lists:?}, the controller shows {want:?}",
                p.id, spec.headend
            ));
        }
    }
    Ok(policies.len())
}

async fn maintenance(lab: &Lab) -> MaintenanceClient<tonic::transport::Channel> {
    MaintenanceClient::connect(format!("http://{}", lab.api))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_under_load_leaves_every_policy_programmed_and_undrain_reopens_the_link() {
    let topo = small_topology();
    let lab = Arc::new(Lab::start(&topo, &closed_loop_lab_options()).await.unwrap());
    assert!(
        eventually(Duration::from_secs(10), || lab.state.counts().up
            == topo.nodes.len())
        .await
    );
    let c = &lab.controller;
    let mut on_link = Vec::new();
    for i in 0..6u32 {
        on_link.push(
            c.create_policy(policy(&format!("a{i}"), "pe1", "pe2", 200 + i))
                .await
                .unwrap()
                .id,
        );
        on_link.push(
            c.create_policy(policy(&format!("b{i}"), "pe2", "pe1", 300 + i))
                .await
                .unwrap()
                .id,
        );
    }
    for id in &on_link {
        assert_eq!(c.get_policy(id).unwrap().path.unwrap().links, ["pe1-pe2"]);
    }
    let mut events = api::events_client::EventsClient::connect(format!("http://{}", lab.api))
        .await
        .unwrap()
        .watch(api::WatchRequest { from_revision: 0 })
        .await
        .unwrap()
        .into_inner();

    // Load: creates racing the drain, some planned before it prunes the link.
    let creating = {
        let lab = lab.clone();
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..12u32 {
                let r = lab
                    .controller
                    .create_policy(policy(&format!("load{i}"), "pe1", "pe2", 400 + i))
                    .await;
                ids.push(r.map(|p| p.id).map_err(|e| e.to_string()));
            }
            ids
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut m = maintenance(&lab).await;
    let drained = m
        .drain(api::DrainRequest {
            target: "pe1-pe2".into(),
            reason: "fiber splice".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let created = creating.await.unwrap();
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    let info = drained.drain.clone().unwrap();
    assert_eq!(
        (info.kind.as_str(), info.links.as_slice()),
        ("link", &["pe1-pe2".to_string()][..])
    );
    assert!(drained.unmoved_policies.is_empty(), "{drained:?}");
    assert!(drained.failed_policies.is_empty(), "{drained:?}");
    for id in &on_link {
        assert!(
            drained.moved_policies.contains(id),
            "{id} moved: {drained:?}"
        );
    }
    let n = all_programmed_off(&lab, "pe1-pe2").unwrap();
    assert_eq!(n, 24);

    // New placements avoid it; draining it again, or something unknown, is refused.
    let after = c
        .create_policy(policy("after", "pe1", "pe2", 500))
        .await
        .unwrap();
    assert_eq!(after.path.unwrap().links, ["pe1-pe3", "pe2-pe3"]);
    let again = m
        .drain(api::DrainRequest {
            target: "pe1-pe2".into(),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), tonic::Code::AlreadyExists, "{again:?}");
    let unknown = m
        .drain(api::DrainRequest {
            target: "pe9".into(),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    assert!(unknown.message().starts_with("target: "), "{unknown:?}");
    let listed = m
        .list_drains(api::ListDrainsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.drains.len(), 1);
    assert_eq!(listed.drains[0].target, "pe1-pe2");
    assert_eq!(listed.drains[0].reason, "fiber splice");

    // Events: the drain started, then what it moved.
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(e)) = tokio_stream::StreamExt::next(&mut events).await {
            if let Some(api::event::Object::Drain(d)) = &e.object {
                seen.push((e.change, d.moved_policies.len()));
                if e.change == api::Change::Updated as i32 {
                    break;
                }
            }
        }
    })
    .await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].0, api::Change::Created as i32);
    assert!(seen[1].1 >= on_link.len(), "{seen:?}");

    // Undrain: back in service, what it displaced returns, placements use it.
    let undrained = m
        .undrain(api::UndrainRequest {
            target: "pe1-pe2".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(undrained.links_back, ["pe1-pe2"]);
    for id in &on_link {
        assert!(
            undrained.restored_policies.contains(id),
            "{id}: {undrained:?}"
        );
        assert_eq!(c.get_policy(id).unwrap().path.unwrap().links, ["pe1-pe2"]);
    }
    let reopened = c
        .create_policy(policy("reopened", "pe1", "pe2", 600))
        .await
        .unwrap();
    assert_eq!(reopened.path.unwrap().links, ["pe1-pe2"]);
    assert!(m
        .list_drains(api::ListDrainsRequest {})
        .await
        .unwrap()
        .into_inner()
        .drains
        .is_empty());
    let gone = m
        .undrain(api::UndrainRequest {
            target: "pe1-pe2".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), tonic::Code::NotFound);
    match Arc::try_unwrap(lab) {
        Ok(lab) => lab.shutdown().await,
        Err(_) => panic!("the lab is still shared"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_drain_reports_what_cannot_move_and_survives_a_restart() {
    let topo = small_topology();
    let dir = tempfile::tempdir().unwrap();
    let options = strata::lab::LabOptions {
        data_dir: Some(dir.path().to_path_buf()),
        ..closed_loop_lab_options()
    };
    let lab = Lab::start(&topo, &options).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || lab.state.counts().up
            == topo.nodes.len())
        .await
    );
    let c = &lab.controller;
    // pe1 → pe3 ends at pe3, so draining pe3 leaves it nowhere to go;
    // pe1 → pe2 does not touch pe3.
    let ends = c
        .create_policy(policy("ends", "pe1", "pe3", 200))
        .await
        .unwrap()
        .id;
    let beside = c
        .create_policy(policy("beside", "pe1", "pe2", 201))
        .await
        .unwrap()
        .id;
    let mut m = maintenance(&lab).await;
    let r = m
        .drain(api::DrainRequest {
            target: "pe3".into(),
            reason: "line card".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.drain.as_ref().unwrap().kind, "node");
    assert_eq!(r.drain.as_ref().unwrap().links, ["pe2-pe3", "pe1-pe3"]);
    assert_eq!(r.unmoved_policies, std::slice::from_ref(&ends), "{r:?}");
    assert!(r.moved_policies.is_empty(), "{r:?}");
    // What could not move keeps its path (still programmed on the device)
    // and is reported down.
    let shown = c.get_policy(&ends).unwrap();
    assert_eq!(shown.state, api::PolicyState::Down as i32);
    assert_eq!(shown.path.as_ref().unwrap().links, ["pe1-pe3"]);
    let lists = device_lists(&lab, "pe1", 200, &shown.endpoint_address);
    assert_eq!(lists.len(), 1, "{lists:?}");
    assert_eq!(
        c.get_policy(&beside).unwrap().path.unwrap().links,
        ["pe1-pe2"]
    );
    lab.shutdown().await;

    // The drain is journaled: after a restart it is still in force.
    let lab = Lab::start(&topo, &options).await.unwrap();
    let mut m = maintenance(&lab).await;
    let listed = m
        .list_drains(api::ListDrainsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.drains.len(), 1, "{listed:?}");
    assert_eq!(listed.drains[0].target, "pe3");
    assert_eq!(listed.drains[0].reason, "line card");
    let avoid = lab
        .controller
        .create_policy(policy("avoid", "pe2", "pe1", 300))
        .await
        .unwrap();
    assert_eq!(avoid.path.unwrap().links, ["pe1-pe2"]);
    let no = lab
        .controller
        .create_policy(policy("no", "pe2", "pe3", 301))
        .await;
    assert!(no.is_err(), "pe3 is drained: {no:?}");
    let back = m
        .undrain(api::UndrainRequest {
            target: "pe3".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(back.links_back, ["pe2-pe3", "pe1-pe3"]);
    assert_eq!(
        lab.controller.get_policy(&ends).unwrap().state,
        api::PolicyState::Programmed as i32,
        "up again once pe3 is back"
    );
    lab.shutdown().await;
}
