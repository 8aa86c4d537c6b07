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
        name: name.into(),
        r#type: api::ServiceType::ELine as i32,
        attachments: [A, B]
            .iter()
            .map(|d| api::Attachment {
                device: d.to_string(),
                interface: "ce-0/1/0".into(),
                vlan,
            })
            .collect(),
        bandwidth_gbps: gbps,
        ..Default::default()
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
            let sids = (0..16)
                .map_while(|i| {
                    leaf(format!(
                        "{base}/action/segment-lists/segment-list[index=1]/sids/sid[index={i}]/config/value"
                    ))
                    .and_then(|v| v.as_u64())
                })
                .collect();
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
