//! The northbound strata.v1 API through a real gRPC client, on the example
//! fabric with simulated devices: what orchestrators ask for ends up on the
//! devices, and bad requests change nothing.

mod common;

use std::time::Duration;
use strata::northbound::ControllerApi;

use api::events_client::EventsClient;
use api::policies_client::PoliciesClient;
use api::services_client::ServicesClient;
use api::topology_client::TopologyClient;
use api::wavelengths_client::WavelengthsClient;
use common::*;
use strata::proto::strata::v1 as api;
use tokio_stream::StreamExt;

fn eline(name: &str, a: (&str, &str, u32), b: (&str, &str, u32)) -> api::ServiceSpec {
    api::ServiceSpec {
        name: name.into(),
        r#type: api::ServiceType::ELine as i32,
        attachments: [a, b]
            .iter()
            .map(|(d, i, v)| api::Attachment {
                device: d.to_string(),
                interface: i.to_string(),
                vlan: *v,
            })
            .collect(),
        bandwidth_gbps: 10.0,
        ..Default::default()
    }
}

const NI: &str = "/network-instances/network-instance";
/// Where Strata's SR-TE rules live on a headend.
const RULES: &str = "/network-instances/network-instance[name=DEFAULT]/policy-forwarding/policies/policy[policy-id=strata-srte]/rules";

/// `config` without a `strata-srte` policy that holds no rules.
fn without_empty_strata_srte(mut config: serde_json::Value) -> serde_json::Value {
    let nis = config
        .pointer_mut("/~1network-instances/network-instance")
        .and_then(|v| v.as_array_mut());
    for ni in nis.into_iter().flatten() {
        let Some(pf) = ni.get_mut("policy-forwarding") else {
            continue;
        };
        if let Some(list) = pf
            .pointer_mut("/policies/policy")
            .and_then(|v| v.as_array_mut())
        {
            list.retain(|p| {
                p["policy-id"] != "strata-srte"
                    || p["rules"]["rule"].as_array().is_some_and(|r| !r.is_empty())
            });
        }
        let empty = pf
            .pointer("/policies/policy")
            .and_then(|v| v.as_array())
            .is_none_or(|l| l.is_empty());
        if empty {
            if let Some(obj) = ni.as_object_mut() {
                obj.remove("policy-forwarding");
            }
        }
    }
    config
}

/// The sequence-id of the rule steering `color` traffic to `endpoint`.
fn srte_rule(
    fabric: &strata::simulators::fabric::SimFabric,
    headend: &str,
    color: u32,
    endpoint: &str,
) -> Option<u32> {
    (1..=64).find(|seq| {
        let leaf = |l: &str| {
            device_leaf(
                fabric,
                headend,
                &format!("{RULES}/rule[sequence-id={seq}]/srte/config/{l}"),
            )
        };
        leaf("srte-color").and_then(|v| v.as_u64()) == Some(u64::from(color))
            && leaf("srte-endpoint").as_ref().and_then(|v| v.as_str()) == Some(endpoint)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eline_is_programmed_on_both_pes_with_transport_and_removed_on_delete() {
    let topo = us_metro();
    let lab = start_api_lab(&topo).await;
    let mut services = ServicesClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut policies = PoliciesClient::connect(lab.endpoint.clone()).await.unwrap();
    let svc = services
        .create_service(api::CreateServiceRequest {
            request_id: "req-1".into(),
            spec: Some(eline(
                "acme-dci",
                ("nva-pe1", "ce-0/1/0", 100),
                ("chi-pe1", "ce-0/1/0", 100),
            )),
        })
        .await
        .expect("service created")
        .into_inner();
    assert_eq!(svc.transport_policies.len(), 2);
    assert!(svc.evi >= strata::controller::EVI_RANGE.0);
    let fabric = &lab.lab.fabric;
    for pe in ["nva-pe1", "chi-pe1"] {
        let vni = device_leaf(
            fabric,
            pe,
            &format!(
                "{NI}[name=strata-evpn-{}]/evpn/evpn-instances/evpn-instance[evi={}]/vxlan/config/vni",
                svc.evi, svc.evi
            ),
        );
        assert_eq!(
            vni,
            Some(serde_json::json!(svc.vni)),
            "{pe} has the EVPN instance"
        );
        let vlan = device_leaf(fabric, pe, "/interfaces/interface[name=ce-0/1/0]/subinterfaces/subinterface[index=100]/vlan/match/single-tagged/config/vlan-id");
        assert_eq!(vlan, Some(serde_json::json!(100)));
    }
    // Each transport policy's SID list on its headend is what the API reports.
    for pid in &svc.transport_policies {
        let p = policies
            .get_policy(api::GetPolicyRequest { id: pid.clone() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(p.owner, svc.id);
        let path = p.path.as_ref().unwrap();
        let want: Vec<u64> = path.segments.iter().map(|s| u64::from(s.label)).collect();
        assert!(!want.is_empty());
        let spec = p.spec.as_ref().unwrap();
        let seq = srte_rule(fabric, &spec.headend, spec.color, &p.endpoint_address)
            .expect("the policy's rule is on its headend");
        let base = format!(
            "{RULES}/rule[sequence-id={seq}]/action/segment-lists/segment-list[index=1]/sids/sid"
        );
        let got: Vec<u64> = (0..want.len())
            .map(|i| {
                device_leaf(
                    fabric,
                    &spec.headend,
                    &format!("{base}[index={i}]/config/value"),
                )
                .and_then(|v| v.as_u64())
                .unwrap_or(0)
            })
            .collect();
        assert_eq!(got, want, "SID list on {}", spec.headend);
        assert!(device_leaf(
            fabric,
            &spec.headend,
            &format!("{base}[index={}]/config/value", want.len())
        )
        .is_none());
        // the last segment reaches the endpoint
        assert_eq!(path.nodes.last().unwrap(), &spec.endpoint);
    }
    // A retried create returns the same service, not a second one.
    let again = services
        .create_service(api::CreateServiceRequest {
            request_id: "req-1".into(),
            spec: Some(eline(
                "acme-dci",
                ("nva-pe1", "ce-0/1/0", 100),
                ("chi-pe1", "ce-0/1/0", 100),
            )),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.id, svc.id);
    assert_eq!(
        services
            .list_services(api::ListServicesRequest::default())
            .await
            .unwrap()
            .into_inner()
            .services
            .len(),
        1
    );

    services
        .delete_service(api::DeleteServiceRequest {
            id: svc.id.clone(),
            revision: 0,
        })
        .await
        .unwrap();
    for pe in ["nva-pe1", "chi-pe1"] {
        assert!(device_leaf(
            fabric,
            pe,
            &format!("{NI}[name=strata-evpn-{}]/config/name", svc.evi)
        )
        .is_none());
        assert!(fabric.device(pe).unwrap().read(|t| t
            .find(&path(&format!("{RULES}/rule")))
            .map(|found| found.is_empty())
            .unwrap_or(true)));
    }
    assert!(policies
        .list_policies(api::ListPoliciesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .policies
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wavelength_tunes_both_transponders_alike_and_infeasible_is_refused_with_numbers() {
    let topo = us_metro();
    let lab = start_api_lab(&topo).await;
    let mut wl = WavelengthsClient::connect(lab.endpoint.clone())
        .await
        .unwrap();
    let w = wl
        .create_wavelength(api::CreateWavelengthRequest {
            request_id: String::new(),
            spec: Some(api::WavelengthSpec {
                name: "sea-pdx-1".into(),
                a: "sea-ot1".into(),
                b: "pdx-ot1".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("296 km is feasible for OpenZR+ 400G")
        .into_inner();
    // past 400ZR's CD tolerance: the fastest mode that closes is picked
    assert_eq!(
        (w.operational_mode, w.mode_name.as_str()),
        (2, "OpenZR+ 400G"),
        "{w:?}"
    );
    assert!(w.estimated_osnr_db >= w.required_osnr_db + 1.0, "{w:?}");
    assert!(
        w.planned_margin_db >= 0.0 && w.osnr_margin_db >= w.planned_margin_db,
        "{w:?}"
    );
    assert_eq!(
        device_leaf(
            &lab.lab.fabric,
            "sea-ot1",
            &format!(
                "/components/component[name=och-{}]/optical-channel/config/operational-mode",
                w.a_port
            ),
        ),
        Some(serde_json::json!(2))
    );
    let freq = |node: &str, port: &str| {
        device_leaf(
            &lab.lab.fabric,
            node,
            &format!("/components/component[name=och-{port}]/optical-channel/config/frequency"),
        )
    };
    assert_eq!(
        freq("sea-ot1", &w.a_port),
        Some(serde_json::json!(w.frequency_mhz))
    );
    assert_eq!(
        freq("pdx-ot1", &w.b_port),
        Some(serde_json::json!(w.frequency_mhz))
    );

    let before = (
        device_config(&lab.lab.fabric, "sea-ot1"),
        device_config(&lab.lab.fabric, "nva-ot1"),
    );
    let err = wl
        .create_wavelength(api::CreateWavelengthRequest {
            request_id: String::new(),
            spec: Some(api::WavelengthSpec {
                name: "sea-nva".into(),
                a: "sea-ot1".into(),
                b: "nva-ot1".into(),
                operational_mode: 1,
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        tonic::Code::FailedPrecondition,
        "{}",
        err.message()
    );
    assert!(
        err.message().contains("exceeds 400ZR's 2,400 ps/nm")
            && err.message().ends_with("would fit"),
        "{}",
        err.message()
    );
    assert_eq!(
        before,
        (
            device_config(&lab.lab.fabric, "sea-ot1"),
            device_config(&lab.lab.fabric, "nva-ot1")
        )
    );
    assert_eq!(
        wl.list_wavelengths(api::ListWavelengthsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .wavelengths
            .len(),
        1
    );

    wl.delete_wavelength(api::DeleteWavelengthRequest {
        id: w.id,
        revision: 0,
    })
    .await
    .unwrap();
    assert_eq!(freq("sea-ot1", &w.a_port), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_bounded_policy_and_bad_input_classes() {
    let topo = us_metro();
    let lab = start_api_lab(&topo).await;
    let mut policies = PoliciesClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut services = ServicesClient::connect(lab.endpoint.clone()).await.unwrap();
    let spec = |name: &str, bound: u64| api::PolicySpec {
        name: name.into(),
        headend: "sea-pe1".into(),
        endpoint: "lax-pe1".into(),
        color: 200,
        constraints: Some(api::Constraints {
            metric: api::Metric::Latency as i32,
            max_latency_us: bound,
            ..Default::default()
        }),
    };
    let p = policies
        .create_policy(api::CreatePolicyRequest {
            request_id: String::new(),
            spec: Some(spec("sea-lax-low-latency", 20_000)),
        })
        .await
        .expect("bounded policy placed")
        .into_inner();
    let path = p.path.unwrap();
    assert!(path.latency_us <= 20_000, "{path:?}");
    assert_eq!(path.nodes.first().map(String::as_str), Some("sea-pe1"));

    let snapshot = |lab: &ApiLab| {
        let devices: Vec<_> = ["sea-pe1", "lax-pe1", "nva-pe1", "chi-pe1", "sea-ot1"]
            .iter()
            .map(|d| device_config(&lab.lab.fabric, d))
            .collect();
        (
            devices,
            lab.controller.list_policies("", ""),
            lab.controller.list_services(),
            lab.controller.list_wavelengths(),
        )
    };
    let before = snapshot(&lab);
    let cases: Vec<(tonic::Code, &str, api::CreatePolicyRequest)> = vec![
        (
            tonic::Code::InvalidArgument,
            "spec.name",
            api::CreatePolicyRequest {
                spec: Some(spec("", 0)),
                ..Default::default()
            },
        ),
        (
            tonic::Code::InvalidArgument,
            "spec.name",
            api::CreatePolicyRequest {
                spec: Some(spec(&"n".repeat(16 * 1024), 0)),
                ..Default::default()
            },
        ),
        (
            tonic::Code::NotFound,
            "spec.constraints.exclude_nodes[0]",
            api::CreatePolicyRequest {
                spec: Some(api::PolicySpec {
                    constraints: Some(api::Constraints {
                        exclude_nodes: vec!["\u{1b}[2J".repeat(4096)],
                        ..Default::default()
                    }),
                    ..spec("x", 0)
                }),
                ..Default::default()
            },
        ),
        (
            tonic::Code::InvalidArgument,
            "spec",
            api::CreatePolicyRequest::default(),
        ),
        (
            tonic::Code::NotFound,
            "spec.headend",
            api::CreatePolicyRequest {
                spec: Some(api::PolicySpec {
                    headend: "nowhere".into(),
                    ..spec("x", 0)
                }),
                ..Default::default()
            },
        ),
        (
            tonic::Code::InvalidArgument,
            "spec.endpoint",
            api::CreatePolicyRequest {
                spec: Some(api::PolicySpec {
                    endpoint: "sea-ot1".into(),
                    ..spec("x", 0)
                }),
                ..Default::default()
            },
        ),
        (
            tonic::Code::InvalidArgument,
            "spec.color",
            api::CreatePolicyRequest {
                spec: Some(api::PolicySpec {
                    color: 0,
                    ..spec("x", 0)
                }),
                ..Default::default()
            },
        ),
        (
            tonic::Code::InvalidArgument,
            "spec.constraints.bandwidth_gbps",
            api::CreatePolicyRequest {
                spec: Some(api::PolicySpec {
                    constraints: Some(api::Constraints {
                        bandwidth_gbps: f64::NAN,
                        ..Default::default()
                    }),
                    ..spec("x", 0)
                }),
                ..Default::default()
            },
        ),
        (
            tonic::Code::NotFound,
            "spec.constraints.exclude_links[0]",
            api::CreatePolicyRequest {
                spec: Some(api::PolicySpec {
                    constraints: Some(api::Constraints {
                        exclude_links: vec!["nope".into()],
                        ..Default::default()
                    }),
                    ..spec("x", 0)
                }),
                ..Default::default()
            },
        ),
        (
            tonic::Code::FailedPrecondition,
            "latency",
            api::CreatePolicyRequest {
                spec: Some(api::PolicySpec {
                    color: 201,
                    ..spec("too-tight", 100)
                }),
                ..Default::default()
            },
        ),
        (
            tonic::Code::FailedPrecondition,
            "bandwidth",
            api::CreatePolicyRequest {
                spec: Some(api::PolicySpec {
                    color: 202,
                    constraints: Some(api::Constraints {
                        bandwidth_gbps: 5000.0,
                        ..Default::default()
                    }),
                    ..spec("x", 0)
                }),
                ..Default::default()
            },
        ),
        (
            tonic::Code::AlreadyExists,
            "sea-lax-low-latency",
            api::CreatePolicyRequest {
                spec: Some(spec("sea-lax-low-latency", 0)),
                ..Default::default()
            },
        ),
    ];
    for (code, words, req) in cases {
        let e = policies.create_policy(req).await.unwrap_err();
        assert_eq!(e.code(), code, "{words}: {}", e.message());
        assert!(
            e.message().contains(words),
            "expected {words:?} in {:?}",
            e.message()
        );
        // Bad input is quoted, not echoed: a 16 KB name makes a short status,
        // and control characters arrive escaped.
        assert!(
            e.message().len() < 400,
            "{words}: {} bytes",
            e.message().len()
        );
        assert!(
            !e.message().contains('\u{1b}'),
            "{words}: raw escape echoed"
        );
    }
    let svc_cases: Vec<(tonic::Code, &str, api::ServiceSpec)> = vec![
        (
            tonic::Code::InvalidArgument,
            "spec.attachments[1].vlan",
            eline(
                "s",
                ("nva-pe1", "ce-0/1/0", 10),
                ("chi-pe1", "ce-0/1/0", 5000),
            ),
        ),
        (
            tonic::Code::NotFound,
            "spec.attachments[0].interface",
            eline("s", ("nva-pe1", "et-9", 10), ("chi-pe1", "ce-0/1/0", 10)),
        ),
        (
            tonic::Code::InvalidArgument,
            "spec.attachments",
            api::ServiceSpec {
                attachments: vec![],
                ..eline(
                    "s",
                    ("nva-pe1", "ce-0/1/0", 10),
                    ("chi-pe1", "ce-0/1/0", 10),
                )
            },
        ),
        (
            tonic::Code::InvalidArgument,
            "spec.type",
            api::ServiceSpec {
                r#type: 0,
                ..eline(
                    "s",
                    ("nva-pe1", "ce-0/1/0", 10),
                    ("chi-pe1", "ce-0/1/0", 10),
                )
            },
        ),
        (
            tonic::Code::FailedPrecondition,
            "spec.evi",
            api::ServiceSpec {
                evi: 5,
                ..eline(
                    "s",
                    ("nva-pe1", "ce-0/1/0", 10),
                    ("chi-pe1", "ce-0/1/0", 10),
                )
            },
        ),
    ];
    for (code, words, spec) in svc_cases {
        let e = services
            .create_service(api::CreateServiceRequest {
                request_id: String::new(),
                spec: Some(spec),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), code, "{words}: {}", e.message());
        assert!(
            e.message().contains(words),
            "expected {words:?} in {:?}",
            e.message()
        );
    }
    let e = policies
        .get_policy(api::GetPolicyRequest {
            id: "pol-999".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    let e = policies
        .delete_policy(api::DeletePolicyRequest {
            id: p.id.clone(),
            revision: p.revision + 7,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Aborted);
    assert_eq!(snapshot(&lab), before, "failed requests changed nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_failure_mid_request_rolls_back_what_was_programmed() {
    let topo = us_metro();
    let lab = start_api_lab(&topo).await;
    let mut services = ServicesClient::connect(lab.endpoint.clone()).await.unwrap();
    // Devices are programmed together: chi-pe1 takes its Set, nva-pe1 fails.
    // Only its management plane dies: a power cut would also take its links
    // down and the service would be refused before any device is touched.
    lab.lab.fabric.stop_gnmi("nva-pe1").await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || lab
            .lab
            .state
            .device("nva-pe1")
            .unwrap()
            .state
            != strata::state::SessionState::Up)
        .await
    );
    let before = device_config(&lab.lab.fabric, "chi-pe1");
    let e = services
        .create_service(api::CreateServiceRequest {
            request_id: String::new(),
            spec: Some(eline(
                "doomed",
                ("nva-pe1", "ce-0/1/0", 7),
                ("chi-pe1", "ce-0/1/0", 7),
            )),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unavailable, "{}", e.message());
    assert!(e.message().contains("nva-pe1"), "{}", e.message());
    // The strata-srte policy the first rule brought stays (empty): it is
    // merged, not owned by one request, and deleting it in a rollback could
    // take another request's rule, in flight, with it.
    assert_eq!(
        without_empty_strata_srte(device_config(&lab.lab.fabric, "chi-pe1")),
        without_empty_strata_srte(before),
        "chi-pe1 rolled back"
    );
    assert!(lab.controller.list_services().is_empty());
    assert!(lab.controller.list_policies("", "").is_empty());
    // the EVI was not consumed: the next service gets the first one
    lab.lab.fabric.restart("nva-pe1", false).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || lab
            .lab
            .state
            .device("nva-pe1")
            .unwrap()
            .state
            == strata::state::SessionState::Up)
        .await
    );
    let ok = services
        .create_service(api::CreateServiceRequest {
            request_id: String::new(),
            spec: Some(eline(
                "fine",
                ("nva-pe1", "ce-0/1/0", 7),
                ("chi-pe1", "ce-0/1/0", 7),
            )),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.evi, strata::controller::EVI_RANGE.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_streams_events_and_resumes_from_a_revision() {
    let topo = small_topology();
    let lab = start_api_lab(&topo).await;
    let mut events = EventsClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut policies = PoliciesClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut stream = events
        .watch(api::WatchRequest { from_revision: 0 })
        .await
        .unwrap()
        .into_inner();
    let created = policies
        .create_policy(api::CreatePolicyRequest {
            request_id: "w1".into(),
            spec: Some(api::PolicySpec {
                name: "p1".into(),
                headend: "pe1".into(),
                endpoint: "pe2".into(),
                color: 10,
                constraints: None,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let ev = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(ev.change, api::Change::Created as i32);
    assert_eq!(ev.revision, created.revision);
    let deleted_rev = policies
        .delete_policy(api::DeletePolicyRequest {
            id: created.id.clone(),
            revision: created.revision,
        })
        .await
        .unwrap()
        .into_inner()
        .revision;
    // a new watcher resuming from the create sees exactly the delete
    let mut resumed = events
        .watch(api::WatchRequest {
            from_revision: created.revision,
        })
        .await
        .unwrap()
        .into_inner();
    let ev = tokio::time::timeout(Duration::from_secs(5), resumed.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (ev.revision, ev.change),
        (deleted_rev, api::Change::Deleted as i32)
    );
    // a revision never handed out is refused at once, not awaited in silence
    for ahead in [deleted_rev + 1, u64::MAX] {
        let refused = events
            .watch(api::WatchRequest {
                from_revision: ahead,
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::OutOfRange, "{refused:?}");
        assert!(
            refused
                .message()
                .contains(&format!("ahead of the current revision {deleted_rev}")),
            "{}",
            refused.message()
        );
    }

    // topology, health and reflection are served too
    let mut topo_client = TopologyClient::connect(lab.endpoint.clone()).await.unwrap();
    let nodes = topo_client
        .list_nodes(api::ListNodesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .nodes;
    assert_eq!(nodes.len(), 5);
    assert!(nodes
        .iter()
        .all(|n| n.session == api::SessionState::Up as i32));
    let link = topo_client
        .get_link(api::GetLinkRequest {
            name: "pe1-pe2".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        link.srlgs.contains(&500),
        "packet link inherits its fiber's SRLG: {link:?}"
    );
    let e = topo_client
        .get_node(api::GetNodeRequest { name: "zz".into() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    let channel = tonic::transport::Channel::from_shared(lab.endpoint.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let h = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "strata.v1.Policies".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        h.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_in_id_order_without_skipping_or_repeating() {
    let topo = us_metro();
    let lab = start_api_lab(&topo).await;
    let mut policies = PoliciesClient::connect(lab.endpoint.clone()).await.unwrap();
    let create = |color: u32| api::CreatePolicyRequest {
        request_id: String::new(),
        spec: Some(api::PolicySpec {
            name: format!("paged-{color}"),
            headend: "sea-pe1".into(),
            endpoint: "lax-pe1".into(),
            color,
            constraints: None,
        }),
    };
    let mut created = Vec::new();
    for color in 1..=25 {
        created.push(
            policies
                .create_policy(create(color))
                .await
                .unwrap()
                .into_inner()
                .id,
        );
    }
    let list = |page_size: i32, page_token: String| api::ListPoliciesRequest {
        headend: "sea-pe1".into(),
        page_size,
        page_token,
        ..Default::default()
    };

    let mut seen: Vec<String> = Vec::new();
    let mut sizes = Vec::new();
    let mut token = String::new();
    loop {
        let page = policies
            .list_policies(list(10, token))
            .await
            .unwrap()
            .into_inner();
        sizes.push(page.policies.len());
        seen.extend(page.policies.into_iter().map(|p| p.id));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
        if sizes.len() == 1 {
            // Between pages: one already listed goes, a new one comes. The
            // others must still each appear exactly once.
            policies
                .delete_policy(api::DeletePolicyRequest {
                    id: seen[0].clone(),
                    revision: 0,
                })
                .await
                .unwrap();
            created.push(
                policies
                    .create_policy(create(26))
                    .await
                    .unwrap()
                    .into_inner()
                    .id,
            );
        }
    }
    assert_eq!(sizes.len(), 3, "26 at most, 10 a page: {sizes:?}");
    assert_eq!(sizes[..2], [10, 10]);
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "id order, no repeats: {seen:?}"
    );
    for id in &created[..25] {
        assert_eq!(
            seen.iter().filter(|s| *s == id).count(),
            1,
            "{id} in {seen:?}"
        );
    }

    // Without paging parameters everything fits the default page.
    let all = policies
        .list_policies(api::ListPoliciesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.policies.len(), 25);
    assert_eq!(all.next_page_token, "");

    let first = policies
        .list_policies(list(10, String::new()))
        .await
        .unwrap()
        .into_inner();
    let refused = |e: tonic::Status, field: &str| {
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
        assert!(e.message().starts_with(&format!("{field}: ")), "{e:?}");
    };
    refused(
        policies
            .list_policies(list(10, "garbage".into()))
            .await
            .unwrap_err(),
        "page_token",
    );
    // A token resumes only the listing it came from: not other filters...
    refused(
        policies
            .list_policies(api::ListPoliciesRequest {
                headend: "lax-pe1".into(),
                page_token: first.next_page_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err(),
        "page_token",
    );
    // ...nor another RPC.
    let mut services = ServicesClient::connect(lab.endpoint.clone()).await.unwrap();
    refused(
        services
            .list_services(api::ListServicesRequest {
                page_token: first.next_page_token,
                ..Default::default()
            })
            .await
            .unwrap_err(),
        "page_token",
    );
    refused(
        policies
            .list_policies(list(-1, String::new()))
            .await
            .unwrap_err(),
        "page_size",
    );

    // Topology pages in name order, and the client helper collects them all.
    let topo_client = TopologyClient::connect(lab.endpoint.clone()).await.unwrap();
    let nodes = strata::pages::all_pages(|page_token| {
        let mut c = topo_client.clone();
        async move {
            let r = c
                .list_nodes(api::ListNodesRequest {
                    page_size: 7,
                    page_token,
                    ..Default::default()
                })
                .await?
                .into_inner();
            assert!(r.nodes.len() <= 7);
            Ok::<_, tonic::Status>((r.nodes, r.next_page_token))
        }
    })
    .await
    .unwrap();
    let mut names: Vec<&str> = topo.nodes.iter().map(|n| n.name.as_str()).collect();
    names.sort();
    assert!(names.len() > 7, "more than one page");
    assert_eq!(
        nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
        names
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_filters_over_the_limit_are_refused_naming_the_field() {
    let topo = us_metro();
    let lab = start_api_lab(&topo).await;
    let mut events = EventsClient::connect(lab.endpoint.clone()).await.unwrap();
    let many = |name: &str| vec![name.to_string(); strata::northbound::MAX_FILTER_ENTRIES + 1];
    for (field, req) in [
        (
            "devices",
            api::TelemetryRequest {
                devices: many("sea-pe1"),
                ..Default::default()
            },
        ),
        (
            "links",
            api::TelemetryRequest {
                links: many("pe1-pe2"),
                ..Default::default()
            },
        ),
        (
            "metrics",
            api::TelemetryRequest {
                metrics: many("up"),
                ..Default::default()
            },
        ),
    ] {
        let e = events.watch_telemetry(req).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
        assert!(
            e.message().starts_with(&format!("{field}: 10001 entries")),
            "{e:?}"
        );
    }
    // Within the limit, every name must still exist.
    for (field, req) in [
        (
            "devices[1]: node \"nowhere\" not found",
            api::TelemetryRequest {
                devices: vec!["sea-pe1".into(), "nowhere".into()],
                ..Default::default()
            },
        ),
        (
            "links[0]: link \"nowhere\" not found",
            api::TelemetryRequest {
                links: vec!["nowhere".into()],
                ..Default::default()
            },
        ),
    ] {
        let e = events.watch_telemetry(req).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::NotFound, "{e:?}");
        assert_eq!(e.message(), field);
    }
    // At the limit is fine (repeats included).
    let at_limit = vec!["sea-pe1".to_string(); strata::northbound::MAX_FILTER_ENTRIES];
    let mut stream = events
        .watch_telemetry(api::TelemetryRequest {
            devices: at_limit,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let sample = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("a sample within 10 s")
        .unwrap()
        .unwrap();
    assert_eq!(sample.device, "sea-pe1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_a_limit_are_refused_naming_the_field_and_change_nothing() {
    use strata::controller::limits;
    let topo = small_topology();
    let lab = start_api_lab(&topo).await;
    let mut policies = PoliciesClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut services = ServicesClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut wavelengths = WavelengthsClient::connect(lab.endpoint.clone())
        .await
        .unwrap();
    let snapshot = |lab: &ApiLab| {
        let devices: Vec<_> = ["pe1", "pe2", "pe3", "ot1", "ot2"]
            .iter()
            .map(|d| device_config(&lab.lab.fabric, d))
            .collect();
        (
            devices,
            lab.controller.list_policies("", ""),
            lab.controller.list_services(),
            lab.controller.list_wavelengths(),
            lab.controller.events().revision(),
        )
    };
    let before = snapshot(&lab);
    let n = |name: &str, count: usize| vec![name.to_string(); count];
    let policy = |constraints: api::Constraints| api::PolicySpec {
        name: "p".into(),
        headend: "pe1".into(),
        endpoint: "pe2".into(),
        color: 10,
        constraints: Some(constraints),
    };
    let long_request_id = "r".repeat(limits::REQUEST_ID_CHARS + 1);
    let policy_cases: Vec<(&str, String, api::PolicySpec)> = vec![
        (
            "",
            "spec.constraints.exclude_links: 100000 entries, at most 1024".into(),
            policy(api::Constraints {
                exclude_links: n("pe2-pe3", 100_000),
                ..Default::default()
            }),
        ),
        (
            "",
            "spec.constraints.exclude_nodes: 1025 entries, at most 1024".into(),
            policy(api::Constraints {
                exclude_nodes: n("pe3", limits::EXCLUSIONS + 1),
                ..Default::default()
            }),
        ),
        (
            "",
            "spec.constraints.exclude_srlgs: 1025 entries, at most 1024".into(),
            policy(api::Constraints {
                exclude_srlgs: vec![7; limits::EXCLUSIONS + 1],
                ..Default::default()
            }),
        ),
        (
            "",
            "spec.constraints.include_all: 65 entries, at most 64".into(),
            policy(api::Constraints {
                include_all: n("gold", limits::ADMIN_GROUPS + 1),
                ..Default::default()
            }),
        ),
        (
            "",
            "spec.constraints.exclude_any[1]: ".into(),
            policy(api::Constraints {
                exclude_any: vec!["red".into(), "g".repeat(300_000)],
                ..Default::default()
            }),
        ),
        (
            &long_request_id,
            "request_id: ".into(),
            policy(api::Constraints::default()),
        ),
    ];
    for (request_id, words, spec) in policy_cases {
        let e = policies
            .create_policy(api::CreatePolicyRequest {
                request_id: request_id.into(),
                spec: Some(spec),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{words}: {e:?}");
        assert!(
            e.message().starts_with(&words),
            "{words:?} in {:?}",
            e.message()
        );
        assert!(e.message().len() < 200, "input is quoted cut short: {e:?}");
    }

    let attachments = |count: usize| -> Vec<api::Attachment> {
        (0..count)
            .map(|i| api::Attachment {
                device: ["pe1", "pe2", "pe3"][i % 3].into(),
                interface: "ce-0/1/0".into(),
                vlan: 1 + i as u32,
            })
            .collect()
    };
    let eline_pe1_pe2 = eline("s", ("pe1", "ce-0/1/0", 10), ("pe2", "ce-0/1/0", 10));
    let service_cases: Vec<(&str, api::ServiceSpec)> = vec![
        (
            "spec.route_target: \"ev\\\"il]\\n/x:1\" is not ASN:NN or IPv4:NN",
            api::ServiceSpec {
                route_target: "ev\"il]\n/x:1".into(),
                ..eline_pe1_pe2.clone()
            },
        ),
        (
            "spec.route_target: ",
            api::ServiceSpec {
                route_target: format!("65000:{}", "1".repeat(500_000)),
                ..eline_pe1_pe2.clone()
            },
        ),
        (
            "spec.route_target: \"10.0.0.1:70000\"",
            api::ServiceSpec {
                route_target: "10.0.0.1:70000".into(),
                ..eline_pe1_pe2.clone()
            },
        ),
        (
            "spec.attachments: 257 entries, at most 256",
            api::ServiceSpec {
                r#type: api::ServiceType::ELan as i32,
                attachments: attachments(limits::ATTACHMENTS + 1),
                ..eline_pe1_pe2.clone()
            },
        ),
        (
            "spec.transport.exclude_links: 1025 entries, at most 1024",
            api::ServiceSpec {
                transport: Some(api::Constraints {
                    exclude_links: n("pe2-pe3", limits::EXCLUSIONS + 1),
                    ..Default::default()
                }),
                ..eline_pe1_pe2.clone()
            },
        ),
    ];
    for (words, spec) in service_cases {
        let e = services
            .create_service(api::CreateServiceRequest {
                request_id: String::new(),
                spec: Some(spec),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{words}: {e:?}");
        assert!(
            e.message().starts_with(words),
            "{words:?} in {:?}",
            e.message()
        );
        assert!(e.message().len() < 200, "input is quoted cut short: {e:?}");
    }
    let e = wavelengths
        .create_wavelength(api::CreateWavelengthRequest {
            request_id: String::new(),
            spec: Some(api::WavelengthSpec {
                name: "w".into(),
                a: "ot1".into(),
                b: "ot2".into(),
                exclude_fibers: n("ot1-ot2", limits::EXCLUSIONS + 1),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
    assert_eq!(
        e.message(),
        "spec.exclude_fibers: 1025 entries, at most 1024"
    );

    // Over the message limit, the server refuses before decoding: a 2 MB
    // route target and a 200000-entry exclude list never reach validation.
    let e = services
        .create_service(api::CreateServiceRequest {
            request_id: String::new(),
            spec: Some(api::ServiceSpec {
                route_target: "9".repeat(2 * strata::northbound::MAX_REQUEST_BYTES),
                ..eline_pe1_pe2.clone()
            }),
        })
        .await
        .unwrap_err();
    // tonic's answer, as the README says.
    assert_eq!(e.code(), tonic::Code::OutOfRange, "{e:?}");
    assert!(
        e.message().contains("decoded message length too large"),
        "{e:?}"
    );
    let e = policies
        .create_policy(api::CreatePolicyRequest {
            request_id: String::new(),
            spec: Some(policy(api::Constraints {
                exclude_links: n("pe2-pe3", 200_000),
                ..Default::default()
            })),
        })
        .await
        .unwrap_err();
    assert_ne!(e.code(), tonic::Code::Ok);
    assert_ne!(e.code(), tonic::Code::InvalidArgument, "not decoded: {e:?}");

    assert_eq!(snapshot(&lab), before, "refused requests changed nothing");

    // At every limit a request is accepted (repeats included), and a route
    // target in each form reaches the devices as given.
    let at_limit = policies
        .create_policy(api::CreatePolicyRequest {
            request_id: "r".repeat(limits::REQUEST_ID_CHARS),
            spec: Some(policy(api::Constraints {
                exclude_nodes: n("pe3", limits::EXCLUSIONS),
                exclude_links: n("pe2-pe3", limits::EXCLUSIONS),
                exclude_srlgs: vec![4_000_000_000; limits::EXCLUSIONS],
                exclude_any: (0..limits::ADMIN_GROUPS)
                    .map(|i| format!("{i:0>256}"))
                    .collect(),
                ..Default::default()
            })),
        })
        .await
        .expect("a policy at every limit")
        .into_inner();
    assert_eq!(at_limit.path.unwrap().links, ["pe1-pe2"]);
    let svc = services
        .create_service(api::CreateServiceRequest {
            request_id: String::new(),
            spec: Some(api::ServiceSpec {
                route_target: "4200000000:65535".into(),
                ..eline_pe1_pe2.clone()
            }),
        })
        .await
        .expect("a 4-byte ASN route target")
        .into_inner();
    assert_eq!(svc.route_target, "4200000000:65535");
    assert!(device_config(&lab.lab.fabric, "pe1")
        .to_string()
        .contains("4200000000:65535"));
}

/// A watcher that stops reading is cut off once its backlog passes
/// `MAX_WATCH_BACKLOG_BYTES`, told the revision it got to, and a new watch
/// from there replays everything it missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_that_does_not_read_is_cut_off_and_resumes_from_its_revision() {
    use strata::controller::limits;
    let topo = small_topology();
    let lab = start_api_lab(&topo).await;
    // A small HTTP/2 window, so what the transport buffers for the stalled
    // watcher is small beside its backlog limit.
    let stalled_channel = tonic::transport::Endpoint::from_shared(lab.endpoint.clone())
        .unwrap()
        .initial_stream_window_size(65_535)
        .initial_connection_window_size(65_535)
        .connect()
        .await
        .unwrap();
    let mut stalled_events = EventsClient::new(stalled_channel);
    let from = lab.controller.events().revision();
    let mut stalled = stalled_events
        .watch(api::WatchRequest {
            from_revision: from,
        })
        .await
        .unwrap()
        .into_inner();
    let mut policies = PoliciesClient::connect(lab.endpoint.clone()).await.unwrap();
    // Each policy event carries ~35 kB of (valid) constraints; 400 of them
    // are well over the 8 MiB backlog plus what the transport holds.
    let constraints = api::Constraints {
        exclude_nodes: vec!["pe3".into(); limits::EXCLUSIONS],
        exclude_links: vec!["pe2-pe3".into(); limits::EXCLUSIONS],
        exclude_srlgs: vec![4_000_000_000; limits::EXCLUSIONS],
        exclude_any: (0..limits::ADMIN_GROUPS)
            .map(|i| format!("{i:0>256}"))
            .collect(),
        ..Default::default()
    };
    let mut created = Vec::new();
    for i in 0..400u32 {
        let p = policies
            .create_policy(api::CreatePolicyRequest {
                request_id: String::new(),
                spec: Some(api::PolicySpec {
                    name: format!("big-{i}"),
                    headend: "pe1".into(),
                    endpoint: "pe2".into(),
                    color: 1 + i,
                    constraints: Some(constraints.clone()),
                }),
            })
            .await
            .unwrap()
            .into_inner();
        created.push(p.revision);
    }
    let mut seen = Vec::new();
    let status = loop {
        match tokio::time::timeout(Duration::from_secs(10), stalled.next())
            .await
            .expect("the stalled stream ends rather than hangs")
        {
            Some(Ok(ev)) => seen.push(ev.revision),
            Some(Err(status)) => break status,
            None => panic!("the stream ended without a status after {seen:?}"),
        }
    };
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    let last = *seen.last().unwrap_or(&from);
    assert_eq!(
        status.message(),
        format!("watcher fell behind after revision {last}; resume from {last}")
    );
    assert!(
        seen.len() < created.len(),
        "cut off before the end: {} of {} events",
        seen.len(),
        created.len()
    );
    // Resuming from the revision named replays the rest, without a gap.
    let mut events = EventsClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut resumed = events
        .watch(api::WatchRequest {
            from_revision: last,
        })
        .await
        .unwrap()
        .into_inner();
    let end = lab.controller.events().revision();
    while seen.last().is_none_or(|r| *r < end) {
        let ev = tokio::time::timeout(Duration::from_secs(10), resumed.next())
            .await
            .expect("the replay arrives")
            .unwrap()
            .unwrap();
        seen.push(ev.revision);
    }
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in order, once each");
    for revision in created {
        assert!(seen.contains(&revision), "policy event {revision} seen");
    }
}
