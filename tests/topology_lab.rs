//! Runtime topology on loopback: real simulators, the real API. A PE added
//! at run time gets a simulated device and a session, a link to it carries
//! an E-Line created right after, without a restart, programmed on both
//! PEs; a link in use is refused naming its users until drained; a reload
//! shows its diff as a dry run and then applies it.

mod common;

use std::time::Duration;

use api::maintenance_client::MaintenanceClient;
use api::services_client::ServicesClient;
use api::topology_changes_client::TopologyChangesClient;
use api::topology_client::TopologyClient;
use common::*;
use strata::proto::strata::v1 as api;
use strata::simulators::fabric::SimFabric;

const NI: &str = "/network-instances/network-instance";
const RULES: &str = "/network-instances/network-instance[name=DEFAULT]/policy-forwarding/policies/policy[policy-id=strata-srte]/rules";
const ACCESS: [&str; 4] = ["ce-0/1/0", "ce-0/1/1", "ce-0/1/2", "ce-0/1/3"];

fn pe4() -> api::Node {
    api::Node {
        name: "pe4".into(),
        role: api::Role::Packet as i32,
        // The lab starts a simulated device and puts its port here.
        address: "127.0.0.1:0".into(),
        router_id: "10.255.0.4".into(),
        node_sid: 16004,
        access_interfaces: ACCESS.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn link(name: &str, a: (&str, &str), b: (&str, &str)) -> api::Link {
    let end = |(node, interface): (&str, &str)| api::Endpoint {
        node: node.into(),
        interface: interface.into(),
    };
    api::Link {
        name: name.into(),
        layer: api::Layer::Packet as i32,
        a: Some(end(a)),
        b: Some(end(b)),
        length_km: 30.0,
        capacity_gbps: 100.0,
        ..Default::default()
    }
}

fn steps(r: &api::TopologyChangeResponse) -> Vec<String> {
    r.steps
        .iter()
        .map(|s| {
            let sign = match api::Change::try_from(s.change) {
                Ok(api::Change::Created) => '+',
                Ok(api::Change::Deleted) => '-',
                _ => '~',
            };
            format!("{sign} {} {}", s.kind, s.name)
        })
        .collect()
}

/// (color, endpoint, SID labels) of every SR-TE rule on `device`.
fn rules(fabric: &SimFabric, device: &str) -> Vec<(u64, String, Vec<u64>)> {
    let leaf = |p: String| device_leaf(fabric, device, &p);
    (1..=16)
        .filter_map(|seq| {
            let base = format!("{RULES}/rule[sequence-id={seq}]");
            let color = leaf(format!("{base}/srte/config/srte-color"))?.as_u64()?;
            let endpoint = leaf(format!("{base}/srte/config/srte-endpoint"))?
                .as_str()?
                .to_string();
            let sids = (0..=8)
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
                .find(|s| !s.is_empty())
                .unwrap_or_default();
            Some((color, endpoint, sids))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pe_added_at_run_time_carries_an_e_line_and_links_in_use_are_guarded() {
    let lab = start_api_lab(&small_topology()).await;
    let mut changes = TopologyChangesClient::connect(lab.endpoint.clone())
        .await
        .unwrap();
    let mut services = ServicesClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut topology = TopologyClient::connect(lab.endpoint.clone()).await.unwrap();
    let mut maintenance = MaintenanceClient::connect(lab.endpoint.clone())
        .await
        .unwrap();

    // Bad input names its field; nothing is added.
    let mut bad = pe4();
    bad.router_id = "ten".into();
    let e = changes
        .add_node(api::AddNodeRequest {
            node: Some(bad),
            dry_run: false,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(
        e.message().starts_with("node.router_id:"),
        "{}",
        e.message()
    );
    let mut taken = pe4();
    taken.node_sid = 16001;
    let e = changes
        .add_node(api::AddNodeRequest {
            node: Some(taken),
            dry_run: false,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::AlreadyExists, "{}", e.message());
    assert!(
        lab.daemon.sims_of("pe4").is_none(),
        "no device for a refused node"
    );

    // The PE and a link to it, without a restart.
    let r = changes
        .add_node(api::AddNodeRequest {
            node: Some(pe4()),
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.applied);
    assert_eq!(steps(&r), ["+ node pe4"]);
    let r = changes
        .add_link(api::AddLinkRequest {
            link: Some(link("pe2-pe4", ("pe2", "et-0/0/9"), ("pe4", "et-0/0/1"))),
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(steps(&r), ["+ link pe2-pe4"]);
    let e = changes
        .add_link(api::AddLinkRequest {
            link: Some(link("x", ("pe2", "et-0/0/9"), ("pe3", "et-0/0/9"))),
            dry_run: false,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::AlreadyExists, "{}", e.message());
    assert!(
        e.message().starts_with("link.a.interface:"),
        "{}",
        e.message()
    );
    let sims = lab.daemon.sims_of("pe4").expect("a simulated pe4");
    assert!(
        eventually(Duration::from_secs(20), || lab
            .daemon
            .state
            .device("pe4")
            .is_some_and(|d| d.state == strata::state::SessionState::Up))
        .await,
        "pe4's session comes up: {:?}",
        lab.daemon.state.device("pe4")
    );
    let node = topology
        .get_node(api::GetNodeRequest { name: "pe4".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(node.address, sims.address("pe4").unwrap().to_string());
    assert_eq!(node.interfaces, ["et-0/0/1"]);

    // An E-Line to it, programmed on both PEs.
    let svc = services
        .create_service(api::CreateServiceRequest {
            request_id: String::new(),
            spec: Some(e_line("to-pe4", ["pe1", "pe4"], 300)),
        })
        .await
        .unwrap_or_else(|e| panic!("E-Line to pe4: {}", e.message()))
        .into_inner();
    for (pe, fabric) in [("pe1", lab.lab.fabric.clone()), ("pe4", sims.clone())] {
        let vni = device_leaf(
            &fabric,
            pe,
            &format!(
                "{NI}[name=strata-evpn-{}]/evpn/evpn-instances/evpn-instance[evi={}]/vxlan/config/vni",
                svc.evi, svc.evi
            ),
        );
        assert_eq!(
            vni.and_then(|v| v.as_u64()),
            Some(u64::from(svc.vni)),
            "{pe}"
        );
        let on_device = rules(&fabric, pe);
        assert_eq!(
            on_device.len(),
            1,
            "one transport rule on {pe}: {on_device:?}"
        );
    }
    let on_pe4 = &rules(&sims, "pe4")[0];
    assert_eq!(on_pe4.1, "10.255.0.1", "pe4's transport goes to pe1");
    assert_eq!(on_pe4.2.last(), Some(&16001), "ending on pe1's node SID");

    // The link carries the service: refused, naming the users; the dry run
    // is refused the same way and nothing changes.
    for dry_run in [true, false] {
        let e = changes
            .remove_link(api::RemoveLinkRequest {
                name: "pe2-pe4".into(),
                dry_run,
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{}", e.message());
        assert!(
            e.message().contains(&format!("service {}", svc.id)),
            "{}",
            e.message()
        );
        for p in &svc.transport_policies {
            assert!(
                e.message().contains(&format!("policy {p}")),
                "{}",
                e.message()
            );
        }
    }
    let e = changes
        .remove_link(api::RemoveLinkRequest {
            name: "nope".into(),
            dry_run: false,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);

    // A second way to pe4, then drain the first: the transports move off
    // and the link can go.
    changes
        .add_link(api::AddLinkRequest {
            link: Some(link("pe3-pe4", ("pe3", "et-0/0/9"), ("pe4", "et-0/0/2"))),
            dry_run: false,
        })
        .await
        .unwrap();
    let drained = maintenance
        .drain(api::DrainRequest {
            target: "pe2-pe4".into(),
            reason: "decommission".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(drained.unmoved_policies.is_empty(), "{drained:?}");
    let r = changes
        .remove_link(api::RemoveLinkRequest {
            name: "pe2-pe4".into(),
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(steps(&r), ["- link pe2-pe4"]);
    let drains = maintenance
        .list_drains(api::ListDrainsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(
        drains.drains.is_empty(),
        "the drain ended with its link: {drains:?}"
    );
    assert!(topology
        .get_link(api::GetLinkRequest {
            name: "pe2-pe4".into()
        })
        .await
        .is_err());

    // A reload: the file as it is now (pe4 and pe3-pe4 written in), with
    // pe1-pe3's TE metric changed and one more link.
    let address = sims.address("pe4").unwrap();
    // pe4 goes last among the nodes: addresses from `address_base` follow
    // the nodes' order.
    let text = SMALL
        .replace(
            "links:\n",
            &format!(
                "  - name: pe4\n    role: packet\n    address: {address}\n    router_id: 10.255.0.4\n    node_sid: 16004\nlinks:\n"
            ),
        )
        .replace(
            "links:\n",
            "links:\n  - name: pe3-pe4\n    a: {node: pe3, interface: et-0/0/9}\n    b: {node: pe4, interface: et-0/0/2}\n    layer: packet\n    length_km: 30\n    capacity_gbps: 100\n  - name: pe1-pe4\n    a: {node: pe1, interface: et-0/0/8}\n    b: {node: pe4, interface: et-0/0/3}\n    layer: packet\n    length_km: 20\n",
        )
        .replace(
            "    length_km: 90\n",
            "    length_km: 90\n    te_metric: 7\n",
        );
    let dry = changes
        .reload_topology(api::ReloadTopologyRequest {
            text: text.clone(),
            dry_run: true,
        })
        .await
        .unwrap_or_else(|e| panic!("dry run: {}", e.message()))
        .into_inner();
    assert!(!dry.applied);
    assert_eq!(steps(&dry), ["+ link pe1-pe4", "~ link pe1-pe3"]);
    assert!(topology
        .get_link(api::GetLinkRequest {
            name: "pe1-pe4".into()
        })
        .await
        .is_err());
    let applied = changes
        .reload_topology(api::ReloadTopologyRequest {
            text: text.clone(),
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(applied.applied);
    assert_eq!(steps(&applied), steps(&dry));
    let l = topology
        .get_link(api::GetLinkRequest {
            name: "pe1-pe3".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(l.te_metric, 7);
    // Reloading the same file again is no change.
    let again = changes
        .reload_topology(api::ReloadTopologyRequest {
            text,
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(again.steps.is_empty(), "{:?}", steps(&again));
    // The old file takes pe4 away, which the service still uses: refused.
    let e = changes
        .reload_topology(api::ReloadTopologyRequest {
            text: SMALL.into(),
            dry_run: true,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{}", e.message());
    assert!(
        e.message().contains(&format!("service {}", svc.id)),
        "{}",
        e.message()
    );
}

/// A restart keeps what was added at run time: the node, its link, and the
/// E-Line on them. The lab gives the node a fresh simulated device, and
/// reconciliation programs the service on it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_added_at_run_time_survive_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let options = strata::lab::LabOptions {
        data_dir: Some(data.path().to_path_buf()),
        ..closed_loop_lab_options()
    };
    let topo = small_topology();
    let start = || async {
        let lab = strata::lab::Lab::start(&topo, &options)
            .await
            .expect("lab starts");
        let endpoint = format!("http://{}", lab.api);
        (lab, endpoint)
    };
    let up = |lab: &strata::lab::Lab, n: &str| {
        lab.state
            .device(n)
            .is_some_and(|d| d.state == strata::state::SessionState::Up)
    };
    let svc = {
        let (lab, endpoint) = start().await;
        let mut changes = TopologyChangesClient::connect(endpoint.clone())
            .await
            .unwrap();
        changes
            .add_node(api::AddNodeRequest {
                node: Some(pe4()),
                dry_run: false,
            })
            .await
            .unwrap();
        changes
            .add_link(api::AddLinkRequest {
                link: Some(link("pe2-pe4", ("pe2", "et-0/0/9"), ("pe4", "et-0/0/1"))),
                dry_run: false,
            })
            .await
            .unwrap();
        assert!(eventually(Duration::from_secs(20), || up(&lab, "pe4")).await);
        let svc = ServicesClient::connect(endpoint)
            .await
            .unwrap()
            .create_service(api::CreateServiceRequest {
                request_id: String::new(),
                spec: Some(e_line("to-pe4", ["pe1", "pe4"], 301)),
            })
            .await
            .unwrap_or_else(|e| panic!("E-Line to pe4: {}", e.message()))
            .into_inner();
        lab.shutdown().await;
        svc
    };
    let (lab, endpoint) = start().await;
    let mut topology = TopologyClient::connect(endpoint.clone()).await.unwrap();
    let node = topology
        .get_node(api::GetNodeRequest { name: "pe4".into() })
        .await
        .expect("pe4 is back")
        .into_inner();
    let sims = lab.sims_of("pe4").expect("a fresh simulated pe4");
    assert_eq!(node.address, sims.address("pe4").unwrap().to_string());
    assert_eq!(node.interfaces, ["et-0/0/1"]);
    topology
        .get_link(api::GetLinkRequest {
            name: "pe2-pe4".into(),
        })
        .await
        .expect("pe2-pe4 is back");
    let services = ServicesClient::connect(endpoint)
        .await
        .unwrap()
        .list_services(api::ListServicesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(services.services.len(), 1);
    assert!(eventually(Duration::from_secs(20), || up(&lab, "pe4")).await);
    let vni_path = format!(
        "{NI}[name=strata-evpn-{}]/evpn/evpn-instances/evpn-instance[evi={}]/vxlan/config/vni",
        svc.evi, svc.evi
    );
    assert!(
        eventually(Duration::from_secs(20), || device_leaf(
            &sims, "pe4", &vni_path
        )
        .and_then(|v| v.as_u64())
            == Some(u64::from(svc.vni)))
        .await,
        "the E-Line is reconciled onto the restarted pe4"
    );
    lab.shutdown().await;
}

/// In a secure lab a device added at run time is guarded like the others
/// (TLS with a certificate from the lab CA naming it, the run's login), and
/// the controller still reaches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_added_to_a_secure_lab_is_guarded_and_reached() {
    let creds = tempfile::tempdir().unwrap();
    let security = strata::lab::LabSecurity::generate(creds.path()).unwrap();
    let options = strata::lab::LabOptions {
        security,
        ..closed_loop_lab_options()
    };
    let lab = strata::lab::Lab::start(&small_topology(), &options)
        .await
        .expect("lab starts");
    let node = strata::northbound::topology_changes::node_of(Some(pe4())).unwrap();
    lab.controller
        .change_topology(
            strata::plan::topology::Diff::one(strata::plan::topology::Change::AddNode(node)),
            false,
            "node",
        )
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(20), || lab
            .state
            .device("pe4")
            .is_some_and(|d| d.state == strata::state::SessionState::Up))
        .await,
        "pe4's session over TLS comes up: {:?}",
        lab.state.device("pe4")
    );
    // Plaintext gNMI to it is refused: it serves TLS only.
    let address = lab.sims_of("pe4").unwrap().address("pe4").unwrap();
    let plain =
        strata::proto::gnmi::g_nmi_client::GNmiClient::connect(format!("http://{address}")).await;
    if let Ok(mut c) = plain {
        assert!(c
            .capabilities(strata::proto::gnmi::CapabilityRequest::default())
            .await
            .is_err());
    }
    lab.shutdown().await;
}
