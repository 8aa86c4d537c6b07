//! The controller's southbound against real simulators on loopback:
//! Capabilities-checked sessions, Set/Get through the session queue,
//! streamed telemetry, and reconnection after a device crash.

mod common;

use std::time::Duration;
use strata::northbound::ControllerApi;

use common::*;
use serde_json::json;
use strata::proto::gnmi::{Encoding, GetRequest, SetRequest};
use strata::southbound::{DeviceTarget, Southbound, SouthboundError};
use strata::state::{FabricState, SessionState};
use strata::telemetry::Ingest;

#[tokio::test]
async fn sessions_come_up_set_get_and_stream_telemetry() {
    let topology = small_topology();
    let lab = start_lab(&topology).await;
    assert!(
        eventually(Duration::from_secs(10), || lab.state.counts().up
            == topology.nodes.len())
        .await,
        "all sessions up: {:?}",
        lab.state.counts()
    );
    let pe1 = lab.state.device("pe1").unwrap();
    assert!(pe1.models.iter().any(|m| m == "openconfig-pf-srte"));

    // What render puts on a PE for a service, through the southbound's Set.
    let attachments = [("ce-0/1/0".to_string(), 100)];
    let edit = strata::render::Dialect::OpenConfig.evpn(&strata::render::EvpnInstance {
        service: "svc",
        evi: 100,
        vni: 10100,
        route_distinguisher: "10.255.0.1:100",
        route_target: "65000:100",
        attachments: &attachments,
    });
    let set = strata::southbound::request::set_request(&edit).expect("a valid Set");
    lab.southbound
        .set("pe1", set)
        .await
        .expect("set through the session");
    let got = lab
        .southbound
        .get(
            "pe1",
            GetRequest {
                path: vec![path("/network-instances/network-instance[name=strata-evpn-100]/evpn/evpn-instances/evpn-instance[evi=100]/vxlan/config/vni")],
                encoding: Encoding::JsonIetf as i32,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        json_of(got.notification[0].update[0].val.as_ref().unwrap()),
        json!(10100)
    );

    // A device's rejection comes back as Rejected with the device's code.
    let bad = SetRequest {
        update: vec![json_update(
            "/interfaces/interface[name=lo0]/config/mtu",
            json!(1),
        )],
        ..Default::default()
    };
    match lab.southbound.set("pe1", bad).await {
        Err(SouthboundError::Rejected { code, message, .. }) => {
            assert_eq!(code, tonic::Code::InvalidArgument);
            assert!(message.contains("mtu"), "{message}");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }

    // Link delay of pe1-pe3 (90 km ≈ 441 µs) arrives through the subscription,
    // from pe1's own IS-IS LSP, attributed to et-0/0/2 by link-id and ifindex.
    let delay = || {
        lab.ingest
            .link_readings("pe1", "et-0/0/2")
            .and_then(|r| r.delay_us)
    };
    assert!(
        eventually(Duration::from_secs(10), || delay().is_some()).await,
        "delay sample streamed"
    );
    let d = delay().unwrap().value;
    assert!((441.0..=460.0).contains(&d), "delay {d}");
    // an optical channel's OSNR is streamed too once provisioned at both ends
    for ot in ["ot1", "ot2"] {
        lab.southbound
            .set(
                ot,
                SetRequest {
                    update: vec![json_update(
                        "/components/component[name=och-line-1]/optical-channel/config",
                        json!({"frequency": 193_175_000u64, "target-output-power": -10.0, "operational-mode": 1}),
                    )],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let osnr = || {
        lab.ingest
            .link_readings("ot1", "och-line-1")
            .and_then(|r| r.osnr_db)
    };
    assert!(
        eventually(Duration::from_secs(10), || osnr()
            .is_some_and(|s| s.value > 30.0))
        .await,
        "OSNR of a provisioned 60 km channel streamed: {:?}",
        osnr()
    );
}

#[tokio::test]
async fn a_crashed_device_is_reconnected_after_restart_and_others_are_unaffected() {
    let topology = small_topology();
    let lab = start_lab(&topology).await;
    assert!(
        eventually(Duration::from_secs(10), || lab.state.counts().up
            == topology.nodes.len())
        .await
    );
    lab.fabric.crash("pe2").await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || lab
            .state
            .device("pe2")
            .unwrap()
            .state
            != SessionState::Up)
        .await,
        "session notices the crash"
    );
    let status = lab.state.device("pe2").unwrap();
    assert!(status.last_error.is_some());
    // requests to the dead device fail fast and clearly; other devices still work
    let err = lab
        .southbound
        .get(
            "pe2",
            GetRequest {
                path: vec![path("/interfaces")],
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, SouthboundError::Unavailable { .. }),
        "{err:?}"
    );
    lab.southbound
        .get(
            "pe1",
            GetRequest {
                path: vec![path("/interfaces")],
                ..Default::default()
            },
        )
        .await
        .expect("pe1 unaffected");

    lab.fabric.restart("pe2", false).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || {
            let d = lab.state.device("pe2").unwrap();
            d.state == SessionState::Up && d.connects == 2
        })
        .await,
        "reconnected: {:?}",
        lab.state.device("pe2")
    );
    lab.southbound
        .get(
            "pe2",
            GetRequest {
                path: vec![path("/interfaces")],
                ..Default::default()
            },
        )
        .await
        .expect("pe2 serves again");
}

#[tokio::test]
async fn a_dead_address_backs_off_without_blocking_others() {
    let topology = small_topology();
    let fabric = start_sims(&topology).await;
    let state = std::sync::Arc::new(FabricState::default());
    let sb = Southbound::new(
        state.clone(),
        std::sync::Arc::new(Ingest::default()),
        fast_sessions(),
    );
    // a port nothing listens on
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    sb.add_device(DeviceTarget {
        name: "ghost".into(),
        role: strata::model::Role::Packet,
        address: dead,
        router_id: None,
    });
    sb.add_device(DeviceTarget {
        name: "pe1".into(),
        role: strata::model::Role::Packet,
        address: fabric.address("pe1").unwrap(),
        router_id: None,
    });
    assert!(
        eventually(Duration::from_secs(10), || state
            .device("pe1")
            .is_some_and(|d| d.state == SessionState::Up))
        .await
    );
    assert!(
        eventually(Duration::from_secs(5), || state
            .device("ghost")
            .is_some_and(|d| d.last_error.is_some()))
        .await
    );
    let ghost = state.device("ghost").unwrap();
    assert_ne!(ghost.state, SessionState::Up);
    assert!(ghost.last_error.unwrap().contains("connect"));
    // and a role mismatch (optical device where a router was expected) is refused by the capability check
    sb.add_device(DeviceTarget {
        name: "wrong".into(),
        role: strata::model::Role::Packet,
        address: fabric.address("ot1").unwrap(),
        router_id: None,
    });
    assert!(
        eventually(Duration::from_secs(5), || state
            .device("wrong")
            .is_some_and(|d| d
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("lacks required models"))))
        .await
    );
}

/// Sets queued for one device go out together when they touch disjoint
/// subtrees; one bad Set among them fails alone and the rest still apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_sets_to_one_device_batch_and_a_bad_one_fails_alone() {
    let topology = small_topology();
    let lab = start_lab(&topology).await;
    assert!(
        eventually(Duration::from_secs(10), || lab.state.counts().up
            == topology.nodes.len())
        .await
    );
    let sets: Vec<_> = (0..40)
        .map(|i| {
            let sb = lab.southbound.clone();
            let req = SetRequest {
                replace: vec![if i == 17 {
                    json_update("/interfaces/interface[name=lo0]/config/mtu", json!(1))
                } else {
                    json_update(
                        &format!("/network-instances/network-instance[name=EVI-{i}]"),
                        json!({"config": {"name": format!("EVI-{i}"),
                            "type": "openconfig-network-instance-types:L2VSI"}}),
                    )
                }],
                ..Default::default()
            };
            tokio::spawn(async move { sb.set("pe2", req).await })
        })
        .collect();
    for (i, s) in sets.into_iter().enumerate() {
        let r = s.await.unwrap();
        if i == 17 {
            assert!(
                matches!(
                    r,
                    Err(SouthboundError::Rejected {
                        code: tonic::Code::InvalidArgument,
                        ..
                    })
                ),
                "{r:?}"
            );
        } else {
            let resp = r.unwrap_or_else(|e| panic!("set {i}: {e}"));
            assert_eq!(resp.response.len(), 1, "set {i} gets its own result");
            assert!(
                device_leaf(
                    &lab.fabric,
                    "pe2",
                    &format!("/network-instances/network-instance[name=EVI-{i}]/config/name")
                )
                .is_some(),
                "EVI-{i} applied"
            );
        }
    }
}

/// A device whose configuration is too large for one answer is still
/// reconciled: the container is read entry by entry, Strata's drift is
/// repaired and foreign configuration left alone; an entry too large even
/// alone is named in the device's reconcile status (API and state), not
/// silently skipped, and nothing under it is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_config_larger_than_one_answer_is_reconciled_entry_by_entry() {
    use strata::proto::strata::v1 as api;
    let topology = small_topology();
    let limit = 256 * 1024;
    let options = strata::lab::LabOptions {
        sessions: strata::southbound::SessionConfig {
            max_response_bytes: limit,
            ..common::fast_sessions()
        },
        // The runner's periodic pass is what reports a device's status.
        reconcile_interval: Duration::from_millis(500),
        ..common::closed_loop_lab_options()
    };
    let lab = strata::lab::Lab::start(&topology, &options)
        .await
        .expect("lab starts");
    assert!(eventually(Duration::from_secs(20), || lab.state.counts().up == 5).await);
    // Strata's service on pe1 …
    let svc = lab
        .controller
        .create_service(api::CreateServiceRequest {
            request_id: String::new(),
            spec: Some(e_line("big", ["pe1", "pe2"], 300)),
        })
        .await
        .expect("service");
    let strata_ni = format!(
        "/network-instances/network-instance[name=strata-evpn-{}]",
        svc.evi
    );
    // … and foreign network instances that make /network-instances larger
    // than the controller takes in one answer.
    let mut raw = common::raw_client(&lab.fabric, "pe1").await;
    let foreign = |i: usize, bytes: usize| {
        json_update(
            &format!("/network-instances/network-instance[name=customer-{i}]"),
            json!({"config": {"name": format!("customer-{i}"),
                "type": "openconfig-network-instance-types:L3VRF",
                "description": "d".repeat(bytes)}}),
        )
    };
    raw.set(SetRequest {
        update: (0..60).map(|i| foreign(i, 8 * 1024)).collect(),
        ..Default::default()
    })
    .await
    .expect("foreign config planted");
    let foreign_before = device_config(&lab.fabric, "pe1")["/network-instances"]
        .to_string()
        .matches("customer-")
        .count();
    // Drift: Strata's instance removed behind its back.
    raw.set(SetRequest {
        delete: vec![path(&strata_ni)],
        ..Default::default()
    })
    .await
    .expect("drift");
    assert!(common::device_leaf(&lab.fabric, "pe1", &format!("{strata_ni}/config/name")).is_none());

    // One answer would not do: the whole container is over the limit.
    let whole = lab
        .southbound
        .get(
            "pe1",
            strata::proto::gnmi::GetRequest {
                path: vec![path("/network-instances")],
                r#type: strata::proto::gnmi::get_request::DataType::Config as i32,
                encoding: strata::proto::gnmi::Encoding::JsonIetf as i32,
                ..Default::default()
            },
        )
        .await;
    assert!(
        whole
            .as_ref()
            .is_err_and(|e| e.to_string().contains("too large")),
        "{whole:?}"
    );
    lab.controller
        .reconcile_device("pe1")
        .await
        .expect("reconciled entry by entry");
    assert!(
        common::device_leaf(&lab.fabric, "pe1", &format!("{strata_ni}/config/name")).is_some(),
        "Strata's instance is back"
    );
    let after = device_config(&lab.fabric, "pe1")["/network-instances"].to_string();
    assert_eq!(
        after.matches("customer-").count(),
        foreign_before,
        "foreign config kept"
    );

    // One entry too large even alone: reconcile says so, keeps it, and the
    // API shows it.
    raw.set(SetRequest {
        update: vec![foreign(999, 300 * 1024)],
        ..Default::default()
    })
    .await
    .expect("a huge foreign instance");
    let err = lab.controller.reconcile_device("pe1").await.unwrap_err();
    assert!(
        err.contains("customer-999") && err.contains("too large"),
        "{err}"
    );
    assert!(common::device_leaf(
        &lab.fabric,
        "pe1",
        "/network-instances/network-instance[name=customer-999]/config/name"
    )
    .is_some());
    // The runner's passes report it where operators look: the node's view.
    let mut topo = api::topology_client::TopologyClient::connect(format!("http://{}", lab.api))
        .await
        .unwrap();
    let mut shown = String::new();
    for _ in 0..100 {
        shown = topo
            .get_node(api::GetNodeRequest { name: "pe1".into() })
            .await
            .unwrap()
            .into_inner()
            .reconcile_error;
        if shown.contains("customer-999") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(shown.contains("customer-999"), "GetNode shows {shown:?}");
    let pe2 = topo
        .get_node(api::GetNodeRequest { name: "pe2".into() })
        .await
        .unwrap()
        .into_inner();
    assert!(pe2.reconcile_error.is_empty(), "{:?}", pe2.reconcile_error);
    lab.shutdown().await;
}
