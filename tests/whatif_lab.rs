//! What-if against reality, on loopback: real simulators, the real API. Ask
//! `WhatIf` what cutting a fiber would do, then cut it through the
//! simulators' fault injection and let the closed loop react: every policy the
//! answer moves ends on the path (and SID list) it said, every one it strands
//! is reported down, every other policy is untouched, and the headends' Sets
//! carry the new lists. Also: nothing changes when asking, and unknown names
//! are NOT_FOUND naming their field.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use strata::lab::Lab;
use strata::northbound::ControllerApi;
use strata::proto::strata::sim::v1 as sim;
use strata::proto::strata::v1 as api;

fn policy(name: &str, h: &str, e: &str, max_latency_us: u64) -> api::CreatePolicyRequest {
    api::CreatePolicyRequest {
        request_id: String::new(),
        spec: Some(api::PolicySpec {
            name: name.into(),
            headend: h.into(),
            endpoint: e.into(),
            // the E-Line's transports take the default color 100
            color: 200,
            constraints: Some(api::Constraints {
                max_latency_us,
                ..Default::default()
            }),
        }),
    }
}

/// Every policy's (links, labels, state, revision), by id.
type Shown = BTreeMap<String, (Vec<String>, Vec<u32>, i32, u64)>;

fn shown(lab: &Lab) -> Shown {
    lab.controller
        .list_policies("", "")
        .into_iter()
        .map(|p| {
            let path = p.path.unwrap_or_default();
            (
                p.id,
                (
                    path.links,
                    path.segments.iter().map(|s| s.label).collect(),
                    p.state,
                    p.revision,
                ),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_if_a_fiber_is_cut_equals_cutting_it() {
    let topo = small_topology();
    let lab = Lab::start(&topo, &closed_loop_lab_options()).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || lab.state.counts().up
            == topo.nodes.len())
        .await
    );
    let c = &lab.controller;
    // On the fiber's packet link: one that can detour, one whose latency
    // bound only the direct link meets. Beside it: one the cut must not touch.
    let moves = c
        .create_policy(policy("moves", "pe1", "pe2", 0))
        .await
        .unwrap();
    let bound = c
        .create_policy(policy("bound", "pe2", "pe1", 400))
        .await
        .unwrap();
    let beside = c
        .create_policy(policy("beside", "pe2", "pe3", 0))
        .await
        .unwrap();
    let eline = c
        .create_service(api::CreateServiceRequest {
            request_id: String::new(),
            spec: Some(api::ServiceSpec {
                name: "dci".into(),
                r#type: api::ServiceType::ELine as i32,
                attachments: ["pe1", "pe2"]
                    .iter()
                    .map(|pe| api::Attachment {
                        device: pe.to_string(),
                        interface: "ce-0/1/0".into(),
                        vlan: 100,
                    })
                    .collect(),
                bandwidth_gbps: 10.0,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let before = shown(&lab);
    assert_eq!(before.len(), 5, "three policies and two transports");

    let mut whatif = api::what_if_client::WhatIfClient::connect(format!("http://{}", lab.api))
        .await
        .unwrap();
    let answer = whatif
        .what_if(api::WhatIfRequest {
            fail_fibers: vec!["ot1-ot2".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown(&lab), before, "asking changes nothing");
    assert_eq!(answer.failed_fibers, ["ot1-ot2"]);
    assert_eq!(answer.failed_links, ["pe1-pe2"]);
    let impact: BTreeMap<&str, &api::PolicyImpact> =
        answer.policies.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut expect_affected: Vec<&str> = before
        .iter()
        .filter(|(_, (links, ..))| links.contains(&"pe1-pe2".to_string()))
        .map(|(id, _)| id.as_str())
        .collect();
    expect_affected.sort();
    assert_eq!(
        impact.keys().copied().collect::<Vec<_>>(),
        expect_affected,
        "{answer:?}"
    );
    assert!(!impact[moves.id.as_str()].stranded);
    assert!(impact[bound.id.as_str()].stranded, "{answer:?}");
    assert!(!impact[bound.id.as_str()].meets_sla);
    assert!(!impact.contains_key(beside.id.as_str()));
    assert_eq!(answer.services.len(), 1);
    assert_eq!(answer.services[0].id, eline.id);
    assert!(answer.services[0].meets_sla, "its transports can detour");

    // Now for real.
    let mut faults =
        sim::fault_injection_client::FaultInjectionClient::connect(format!("http://{}", lab.api))
            .await
            .unwrap();
    faults
        .cut_link(sim::LinkRequest {
            link: "ot1-ot2".into(),
        })
        .await
        .unwrap();
    let settled = |now: &Shown| {
        answer.policies.iter().all(|p| {
            let (links, labels, state, _) = &now[&p.id];
            if p.stranded {
                *state == api::PolicyState::Down as i32
            } else {
                links == &p.new_links && labels == &p.new_labels
            }
        })
    };
    assert!(
        eventually(Duration::from_secs(15), || settled(&shown(&lab))).await,
        "the what-if said {:#?}\nthe cut did {:#?}",
        answer.policies,
        shown(&lab)
    );
    let after = shown(&lab);
    for (id, was) in &before {
        if !impact.contains_key(id.as_str()) {
            assert_eq!(&after[id], was, "{id} was not on the fiber");
        }
    }
    for p in &answer.policies {
        assert!(!after[&p.id].0.is_empty());
        if p.stranded {
            assert_eq!(
                after[&p.id].0, p.old_links,
                "a stranded policy keeps its path"
            );
        }
    }
    // The moved policies' headends hold the new SID lists.
    for p in answer.policies.iter().filter(|p| !p.stranded) {
        let headend = &p.new_nodes[0];
        let config = device_config(&lab.fabric, headend).to_string();
        for label in &p.new_labels {
            assert!(
                config.contains(&label.to_string()),
                "{headend} lacks {label} for {}",
                p.id
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_names_are_not_found_by_field_and_survivability_streams_a_table() {
    let topo = small_topology();
    let lab = Lab::start(&topo, &closed_loop_lab_options()).await.unwrap();
    let mut whatif = api::what_if_client::WhatIfClient::connect(format!("http://{}", lab.api))
        .await
        .unwrap();
    let e = whatif
        .what_if(api::WhatIfRequest {
            fail_fibers: vec!["ot1-ot2".into(), "pe1-pe2".into(), "x".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    assert_eq!(e.message(), "fail_fibers[1]: fiber \"pe1-pe2\" not found");
    let e = whatif
        .what_if(api::WhatIfRequest {
            fail_links: vec!["l".into(); 1025],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().starts_with("fail_links: "), "{}", e.message());

    lab.controller
        .create_policy(policy("p", "pe1", "pe2", 0))
        .await
        .unwrap();
    let mut stream = whatif
        .survivability(api::SurvivabilityRequest {})
        .await
        .unwrap()
        .into_inner();
    let (mut progress, mut rows) = (Vec::new(), Vec::new());
    while let Some(m) = stream.message().await.unwrap() {
        match m.row {
            Some(r) => rows.push(r),
            None => progress.push((m.done, m.total)),
        }
    }
    assert_eq!(progress.last(), Some(&(6, 6)), "{progress:?}");
    let names: Vec<String> = rows
        .iter()
        .map(|r| format!("{} {}", r.kind, r.name))
        .collect();
    assert_eq!(
        names,
        ["srlg 500", "node pe1", "node pe2", "node pe3", "node ot1", "node ot2"]
    );
    // The policy's own ends strand it; the fiber and ot1/ot2 only move it.
    let verdict: Vec<bool> = rows.iter().map(|r| r.survives).collect();
    assert_eq!(verdict, [true, false, false, true, true, true]);
}
