//! On-demand services through the real northbound on the lab (#14): many
//! E-Lines between one PE pair share one SR-TE policy per direction
//! (automated steering by color), which reserves their sum and lives while
//! one of them uses it — checked on the devices and in the reservations at
//! every step.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use api::policies_client::PoliciesClient;
use api::services_client::ServicesClient;
use api::topology_client::TopologyClient;
use common::*;
use strata::proto::strata::v1 as api;
use strata::simulators::fabric::SimFabric;
use tonic::transport::Channel;

const NI: &str = "/network-instances/network-instance";
/// Where Strata's SR-TE rules live on a headend.
const RULES: &str = "/network-instances/network-instance[name=DEFAULT]/policy-forwarding/policies/policy[policy-id=strata-srte]/rules";
const A: &str = "nva-pe1";
const B: &str = "chi-pe1";

fn eline(name: &str, vlan: u32, gbps: f64) -> api::ServiceSpec {
    api::ServiceSpec {
        bandwidth_gbps: gbps,
        ..e_line(name, [A, B], vlan)
    }
}

/// (sequence id, color, endpoint, SID labels) of every SR-TE rule on `device`.
fn rules(fabric: &SimFabric, device: &str) -> Vec<(u64, u64, String, Vec<u64>)> {
    let leaf = |p: String| device_leaf(fabric, device, &p);
    (1..=64)
        .filter_map(|seq| {
            let base = format!("{RULES}/rule[sequence-id={seq}]");
            let color = leaf(format!("{base}/srte/config/srte-color"))?.as_u64()?;
            let endpoint = leaf(format!("{base}/srte/config/srte-endpoint"))?
                .as_str()?
                .to_string();
            // The segment list is numbered by the candidate path (a move
            // makes a new one), so take whichever the rule holds.
            let sids = (1..=8)
                .map(|list| {
                    (0..16)
                        .map_while(|i| {
                            leaf(format!(
                                "{base}/action/segment-lists/segment-list[index={list}]/sids/sid[index={i}]/config/value"
                            ))
                            .and_then(|v| v.as_u64())
                        })
                        .collect::<Vec<u64>>()
                })
                .find(|l| !l.is_empty())
                .unwrap_or_default();
            Some((seq, color, endpoint, sids))
        })
        .collect()
}

async fn all_policies(c: &mut PoliciesClient<Channel>) -> Vec<api::Policy> {
    c.list_policies(api::ListPoliciesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .policies
}

async fn reservations(c: &mut TopologyClient<Channel>) -> BTreeMap<String, f64> {
    c.list_links(api::ListLinksRequest::default())
        .await
        .unwrap()
        .into_inner()
        .links
        .into_iter()
        .map(|l| (l.name, l.reserved_gbps))
        .collect()
}

/// With `live` services (10 Gb/s each) up: one policy per direction, each
/// naming all of them and reserving their sum on every link of its path
/// (nothing anywhere else); one rule per headend with the policy's SIDs;
/// each live service's EVPN instance on both PEs and no other.
async fn check_shared(
    lab: &ApiLab,
    policies: &mut PoliciesClient<Channel>,
    topology: &mut TopologyClient<Channel>,
    live: &[api::Service],
    gone: &[api::Service],
) {
    let fabric = &lab.lab.fabric;
    let ps = all_policies(policies).await;
    let total = 10.0 * live.len() as f64;
    if live.is_empty() {
        assert!(ps.is_empty(), "the last service took the policies: {ps:?}");
    } else {
        assert_eq!(ps.len(), 2, "one policy per direction: {ps:?}");
    }
    let want_services: Vec<&str> = live.iter().map(|s| s.id.as_str()).collect();
    let mut on_path: BTreeSet<String> = BTreeSet::new();
    for p in &ps {
        let riders: Vec<&str> = p.shares.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(riders, want_services, "{}", p.id);
        assert!(p.shares.iter().all(|s| s.bandwidth_gbps == 10.0));
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(spec.constraints.as_ref().unwrap().bandwidth_gbps, total);
        assert_eq!(p.owner, live[0].id, "the longest-standing service owns it");
        for s in live {
            assert!(s.transport_policies.contains(&p.id), "{s:?}");
        }
        let path = p.path.as_ref().unwrap();
        on_path.extend(path.links.iter().cloned());
        let want: Vec<u64> = path.segments.iter().map(|s| u64::from(s.label)).collect();
        let on_device = rules(fabric, &spec.headend);
        assert_eq!(
            on_device.len(),
            1,
            "one rule on {}: {on_device:?}",
            spec.headend
        );
        let (_, color, endpoint, sids) = &on_device[0];
        assert_eq!(
            (*color, endpoint.as_str(), sids),
            (100, p.endpoint_address.as_str(), &want)
        );
    }
    if live.is_empty() {
        for pe in [A, B] {
            assert!(rules(fabric, pe).is_empty(), "no rule left on {pe}");
        }
    }
    for (link, reserved) in reservations(topology).await {
        let want = if on_path.contains(&link) { total } else { 0.0 };
        assert_eq!(reserved, want, "reserved on {link}");
    }
    for pe in [A, B] {
        for (s, up) in live
            .iter()
            .map(|s| (s, true))
            .chain(gone.iter().map(|s| (s, false)))
        {
            let vni = device_leaf(
                fabric,
                pe,
                &format!(
                    "{NI}[name=strata-evpn-{}]/evpn/evpn-instances/evpn-instance[evi={}]/vxlan/config/vni",
                    s.evi, s.evi
                ),
            );
            assert_eq!(vni.is_some(), up, "{} on {pe}", s.id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_e_lines_between_one_pe_pair_share_one_transport_per_direction() {
    let topo = us_metro();
    let lab = start_api_lab(&topo).await;
    let mut services = ServicesClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut policies = PoliciesClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut topology = TopologyClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut live = Vec::new();
    for i in 0..10 {
        let svc = services
            .create_service(api::CreateServiceRequest {
                request_id: String::new(),
                spec: Some(eline(&format!("dci-{i}"), 100 + i, 10.0)),
            })
            .await
            .unwrap_or_else(|e| panic!("E-Line {i}: {}", e.message()))
            .into_inner();
        live.push(svc);
        check_shared(&lab, &mut policies, &mut topology, &live, &[]).await;
    }

    // Other constraints under the same color cannot share: refused, naming
    // the field and the policy, and nothing changes.
    let before = (
        device_config(&lab.lab.fabric, A),
        reservations(&mut topology).await,
    );
    let mut other = eline("dci-x", 200, 10.0);
    other.transport = Some(api::Constraints {
        max_latency_us: 1_000_000,
        ..Default::default()
    });
    let err = services
        .create_service(api::CreateServiceRequest {
            request_id: String::new(),
            spec: Some(other),
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
        err.message().starts_with(
            "spec.transport: chi-pe1 already carries color 100 to nva-pe1 on shared transport"
        ),
        "{}",
        err.message()
    );
    assert_eq!(
        before,
        (
            device_config(&lab.lab.fabric, A),
            reservations(&mut topology).await
        )
    );

    let mut gone = Vec::new();
    while !live.is_empty() {
        let svc = live.remove(0);
        services
            .delete_service(api::DeleteServiceRequest {
                id: svc.id.clone(),
                revision: 0,
            })
            .await
            .unwrap_or_else(|e| panic!("delete {}: {}", svc.id, e.message()));
        gone.push(svc);
        check_shared(&lab, &mut policies, &mut topology, &live, &gone).await;
    }
}

/// Whether `config` (a device's whole configuration, as the simulator
/// exports it) holds SR-TE rule `seq` with a non-empty segment list.
fn rule_has_path(config: &serde_json::Value, seq: u64) -> bool {
    fn find(v: &serde_json::Value, seq: u64) -> bool {
        match v {
            serde_json::Value::Object(m) => {
                let this_rule = m
                    .get("sequence-id")
                    .and_then(|s| s.as_u64().or_else(|| s.as_str()?.parse().ok()))
                    == Some(seq)
                    && m.keys().any(|k| k.ends_with("srte"));
                if this_rule {
                    return serde_json::to_string(v).is_ok_and(|t| t.contains("\"sid\":[{"));
                }
                m.values().any(|x| find(x, seq))
            }
            serde_json::Value::Array(a) => a.iter().any(|x| find(x, seq)),
            _ => false,
        }
    }
    find(config, seq)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_grows_in_place_then_make_before_break_and_shrinks_in_place() {
    use api::updates_client::UpdatesClient;
    strata::simulators::set_log::capture_config(true);
    let topo = us_metro();
    let lab = start_api_lab(&topo).await;
    let fabric = &lab.lab.fabric;
    let mut services = ServicesClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut policies = PoliciesClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut topology = TopologyClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut updates = UpdatesClient::connect(lab.endpoint.clone()).await.unwrap();
    let svc = services
        .create_service(api::CreateServiceRequest {
            request_id: String::new(),
            spec: Some(eline("grow", 100, 100.0)),
        })
        .await
        .unwrap()
        .into_inner();
    let transport = |ps: &[api::Policy], headend: &str| {
        ps.iter()
            .find(|p| p.spec.as_ref().unwrap().headend == headend)
            .cloned()
            .unwrap()
    };
    let sets = |d: &str| fabric.device(d).unwrap().accepted_set_count();

    // Grow in place: the path has room, and no device is touched.
    let before = (sets(A), sets(B));
    let svc = updates
        .update_service(api::UpdateServiceRequest {
            id: svc.id.clone(),
            revision: svc.revision,
            bandwidth_gbps: Some(150.0),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(svc.spec.as_ref().unwrap().bandwidth_gbps, 150.0);
    assert_eq!(before, (sets(A), sets(B)), "bandwidth is not on the device");
    let ps = all_policies(&mut policies).await;
    let there = transport(&ps, A);
    let old_links = there.path.as_ref().unwrap().links.clone();
    let reserved = reservations(&mut topology).await;
    for l in &old_links {
        assert_eq!(reserved[l], 150.0, "{l}");
    }

    // A standalone policy fills that path to 10 Gb/s short of full.
    let free = {
        let links = topology
            .list_links(api::ListLinksRequest::default())
            .await
            .unwrap()
            .into_inner()
            .links;
        links
            .iter()
            .filter(|l| old_links.contains(&l.name))
            .map(|l| l.capacity_gbps - l.reserved_gbps)
            .fold(f64::INFINITY, f64::min)
    };
    let filler = policies
        .create_policy(api::CreatePolicyRequest {
            request_id: String::new(),
            spec: Some(api::PolicySpec {
                name: "filler".into(),
                headend: A.into(),
                endpoint: B.into(),
                color: 7,
                constraints: Some(api::Constraints {
                    bandwidth_gbps: free - 10.0,
                    ..Default::default()
                }),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        filler.path.as_ref().unwrap().links,
        old_links,
        "the filler takes the same path"
    );

    // Stale revision: ABORTED, nothing changes.
    let stale = updates
        .update_service(api::UpdateServiceRequest {
            id: svc.id.clone(),
            revision: svc.revision - 1,
            bandwidth_gbps: Some(200.0),
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), tonic::Code::Aborted, "{}", stale.message());
    // Bad input names its field; no room anywhere is FAILED_PRECONDITION;
    // each leaves devices and reservations as they were.
    let snapshot = |_: ()| async {
        let mut t = TopologyClient::connect(lab.endpoint.clone()).await.unwrap();
        (
            device_config(fabric, A),
            device_config(fabric, B),
            reservations(&mut t).await,
        )
    };
    let was = snapshot(()).await;
    for (gbps, code, starts) in [
        (Some(-1.0), tonic::Code::InvalidArgument, "bandwidth_gbps: "),
        (
            None,
            tonic::Code::InvalidArgument,
            "bandwidth_gbps: required",
        ),
        (
            Some(100_000.0),
            tonic::Code::FailedPrecondition,
            "shared transport",
        ),
    ] {
        let e = updates
            .update_service(api::UpdateServiceRequest {
                id: svc.id.clone(),
                revision: svc.revision,
                bandwidth_gbps: gbps,
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), code, "{gbps:?}: {}", e.message());
        assert!(e.message().starts_with(starts), "{gbps:?}: {}", e.message());
        assert_eq!(snapshot(()).await, was, "{gbps:?} changed nothing");
    }
    let e = updates
        .update_service(api::UpdateServiceRequest {
            id: "svc-404".into(),
            revision: 1,
            bandwidth_gbps: Some(1.0),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound, "{}", e.message());

    // Grow past the room left: the A → B transport moves make-before-break.
    let log_from = fabric.device(A).unwrap().accepted_set_count();
    let seq = rules(fabric, A)
        .iter()
        .find(|r| r.1 == 100)
        .map(|r| r.0)
        .unwrap();
    let svc = updates
        .update_service(api::UpdateServiceRequest {
            id: svc.id.clone(),
            revision: svc.revision,
            bandwidth_gbps: Some(200.0),
        })
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()))
        .into_inner();
    let ps = all_policies(&mut policies).await;
    let moved = transport(&ps, A);
    let new_links = moved.path.as_ref().unwrap().links.clone();
    assert_ne!(new_links, old_links, "moved to a path with room");
    assert_eq!(
        moved
            .spec
            .as_ref()
            .unwrap()
            .constraints
            .as_ref()
            .unwrap()
            .bandwidth_gbps,
        200.0
    );
    // Every Set on the headend since left the rule with a programmed path.
    let logged: Vec<_> = fabric
        .device(A)
        .unwrap()
        .accepted_sets()
        .into_iter()
        .filter(|s| s.seq > log_from)
        .collect();
    assert_eq!(logged.len(), 1, "one replacing Set: {logged:?}");
    for s in &logged {
        let config = s.config_after.as_ref().expect("config captured");
        assert!(
            rule_has_path(config, seq),
            "rule {seq} without a path after Set {}",
            s.seq
        );
    }
    let want: Vec<u64> = moved
        .path
        .as_ref()
        .unwrap()
        .segments
        .iter()
        .map(|s| u64::from(s.label))
        .collect();
    let on_device = rules(fabric, A);
    let rule = on_device.iter().find(|r| r.0 == seq).unwrap();
    assert_eq!(rule.3, want, "the new SIDs are on the headend");
    let reserved = reservations(&mut topology).await;
    for l in &new_links {
        assert!(reserved[l] >= 200.0, "{l}: {}", reserved[l]);
    }

    // Shrink in place: no Set anywhere, the path stays.
    let before = (sets(A), sets(B));
    let svc = updates
        .update_service(api::UpdateServiceRequest {
            id: svc.id.clone(),
            revision: svc.revision,
            bandwidth_gbps: Some(20.0),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(before, (sets(A), sets(B)));
    let ps = all_policies(&mut policies).await;
    assert_eq!(transport(&ps, A).path.as_ref().unwrap().links, new_links);
    assert_eq!(svc.spec.as_ref().unwrap().bandwidth_gbps, 20.0);
    assert!(ps.iter().filter(|p| !p.shares.is_empty()).all(|p| p
        .spec
        .as_ref()
        .unwrap()
        .constraints
        .as_ref()
        .unwrap()
        .bandwidth_gbps
        == 20.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_is_updated_in_place_or_moved_and_refusals_change_nothing() {
    use api::updates_client::UpdatesClient;
    strata::simulators::set_log::capture_config(true);
    let topo = us_metro();
    let lab = start_api_lab(&topo).await;
    let fabric = &lab.lab.fabric;
    let mut policies = PoliciesClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut services = ServicesClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut topology = TopologyClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut updates = UpdatesClient::connect(lab.endpoint.clone()).await.unwrap();
    let gbps = |g: f64| api::Constraints {
        bandwidth_gbps: g,
        ..Default::default()
    };
    let p = policies
        .create_policy(api::CreatePolicyRequest {
            request_id: String::new(),
            spec: Some(api::PolicySpec {
                name: "te".into(),
                headend: A.into(),
                endpoint: B.into(),
                color: 7,
                constraints: Some(gbps(10.0)),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let links = p.path.as_ref().unwrap().links.clone();
    let sets = || fabric.device(A).unwrap().accepted_set_count();

    let before = sets();
    let p = updates
        .update_policy(api::UpdatePolicyRequest {
            id: p.id.clone(),
            revision: p.revision,
            constraints: Some(gbps(50.0)),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(before, sets(), "grown in place: no Set");
    assert_eq!(p.path.as_ref().unwrap().links, links);
    let reserved = reservations(&mut topology).await;
    assert!(links.iter().all(|l| reserved[l] == 50.0), "{reserved:?}");

    // Refusals: stale, bad field, missing constraints, a service's transport.
    let was = (device_config(fabric, A), reservations(&mut topology).await);
    let svc = services
        .create_service(api::CreateServiceRequest {
            request_id: String::new(),
            spec: Some(eline("svc", 300, 1.0)),
        })
        .await
        .unwrap()
        .into_inner();
    let transport = policies
        .get_policy(api::GetPolicyRequest {
            id: svc.transport_policies[0].clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let was_with_svc = (device_config(fabric, A), reservations(&mut topology).await);
    let bad_link = api::Constraints {
        exclude_links: vec!["no-such-link".into()],
        ..Default::default()
    };
    for (id, revision, c, code, starts) in [
        (
            &p.id,
            p.revision - 1,
            Some(gbps(60.0)),
            tonic::Code::Aborted,
            "policy",
        ),
        (
            &p.id,
            p.revision,
            Some(bad_link),
            tonic::Code::NotFound,
            "constraints.exclude_links",
        ),
        (
            &p.id,
            p.revision,
            None,
            tonic::Code::InvalidArgument,
            "constraints: required",
        ),
        (
            &p.id,
            0,
            Some(gbps(60.0)),
            tonic::Code::InvalidArgument,
            "revision: required",
        ),
        (
            &transport.id,
            transport.revision,
            Some(gbps(60.0)),
            tonic::Code::FailedPrecondition,
            "policy",
        ),
    ] {
        let e = updates
            .update_policy(api::UpdatePolicyRequest {
                id: id.clone(),
                revision,
                constraints: c,
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), code, "{}", e.message());
        assert!(e.message().starts_with(starts), "{}", e.message());
        assert_eq!(
            was_with_svc,
            (device_config(fabric, A), reservations(&mut topology).await)
        );
    }
    services
        .delete_service(api::DeleteServiceRequest {
            id: svc.id,
            revision: 0,
        })
        .await
        .unwrap();
    assert_eq!(
        was,
        (device_config(fabric, A), reservations(&mut topology).await)
    );

    // Excluding its first link moves it: one Set, the rule never pathless.
    let seq = rules(fabric, A)
        .iter()
        .find(|r| r.1 == 7)
        .map(|r| r.0)
        .unwrap();
    let from = sets();
    let p = updates
        .update_policy(api::UpdatePolicyRequest {
            id: p.id.clone(),
            revision: p.revision,
            constraints: Some(api::Constraints {
                bandwidth_gbps: 50.0,
                exclude_links: vec![links[0].clone()],
                ..Default::default()
            }),
        })
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()))
        .into_inner();
    let new_links = p.path.as_ref().unwrap().links.clone();
    assert!(!new_links.contains(&links[0]), "{new_links:?}");
    let logged: Vec<_> = fabric
        .device(A)
        .unwrap()
        .accepted_sets()
        .into_iter()
        .filter(|s| s.seq > from)
        .collect();
    assert_eq!(logged.len(), 1, "one replacing Set");
    assert!(rule_has_path(logged[0].config_after.as_ref().unwrap(), seq));
    let reserved = reservations(&mut topology).await;
    assert_eq!(reserved[&links[0]], 0.0, "the old path is given back");
    assert!(
        new_links.iter().all(|l| reserved[l] == 50.0),
        "{reserved:?}"
    );
}
