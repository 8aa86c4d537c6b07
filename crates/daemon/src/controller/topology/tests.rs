//! Runtime topology through the controller: journaled, replayed over the
//! file on restart (journal and etcd), announced as events, refused whole.

use std::sync::Arc;

use super::super::programmer::Recorder;
use super::super::tests::{policy, reopen, small};
use super::super::Controller;
use crate::model::{Endpoint, Layer, Link, Node, Role};
use crate::northbound::ControllerApi;
use crate::object::{Change as EventChange, Object};
use crate::plan::topology::{Change, Diff};

fn pe4() -> Node {
    Node {
        name: "pe4".into(),
        role: Role::Packet,
        site: Some("Annex".into()),
        location: None,
        address: "127.0.0.1:20399".parse().unwrap(),
        router_id: Some("10.255.0.4".parse().unwrap()),
        node_sid: Some(16004),
        interfaces: vec![],
        access_interfaces: vec!["ce-0/1/0".into()],
    }
}

fn link(name: &str, a: (&str, &str), b: (&str, &str)) -> Link {
    Link {
        name: name.into(),
        a: Endpoint {
            node: a.0.into(),
            interface: a.1.into(),
        },
        b: Endpoint {
            node: b.0.into(),
            interface: b.1.into(),
        },
        layer: Layer::Packet,
        length_km: 10.0,
        latency_us: 0,
        capacity_gbps: 100.0,
        te_metric: 0,
        igp_metric: 0,
        srlgs: Default::default(),
        admin_groups: Default::default(),
        rides: vec![],
        plant: None,
    }
}

async fn grow(c: &Controller) {
    c.change_topology(Diff::one(Change::AddNode(pe4())), false, "node")
        .await
        .unwrap();
    for l in [
        link("pe1-pe4", ("pe1", "et-0/0/9"), ("pe4", "et-0/0/1")),
        link("pe2-pe4", ("pe2", "et-0/0/9"), ("pe4", "et-0/0/2")),
    ] {
        c.change_topology(Diff::one(Change::AddLink(l)), false, "link")
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn runtime_nodes_and_links_survive_a_restart_with_the_policies_on_them() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let (policy_before, revision, weak) = {
        let c = reopen(dir.path(), rec.clone());
        grow(&c).await;
        // A link of the file, drained and so unused: removed, and stays
        // removed; its drain ends with it.
        c.drain("pe2-pe3", "decommission").await.unwrap();
        let r = c
            .change_topology(
                Diff::one(Change::RemoveLink("pe2-pe3".into())),
                false,
                "name",
            )
            .await
            .unwrap();
        assert!(r.applied);
        let p = c
            .create_policy(policy("to-pe4", "pe3", "pe4", 9))
            .await
            .unwrap();
        assert!(p
            .path
            .as_ref()
            .unwrap()
            .links
            .contains(&"pe1-pe4".to_string()));
        (p, r.revision, Arc::downgrade(&c))
    };
    // The journal's lock goes with the last handle on the controller.
    super::super::tests::released(weak).await;
    let c = reopen(dir.path(), rec);
    let f = c.read();
    let n = f.topology.node("pe4").expect("pe4 is back");
    assert_eq!(n.site.as_deref(), Some("Annex"));
    assert_eq!(n.interfaces, ["et-0/0/1", "et-0/0/2"]);
    let l = f.topology.link("pe1-pe4").expect("pe1-pe4 is back");
    assert_eq!(
        l.latency_us, 49,
        "derived from its 10 km as a file's would be"
    );
    assert!(f.topology.link("pe2-pe3").is_none(), "a removal is kept");
    assert!(f.drains.is_empty(), "the drain ended with its link");
    assert_eq!(f.graph.edges_of_link("pe2-pe3").count(), 0);
    assert!(f.graph.node_id("pe4").is_some());
    let p = f
        .policies
        .get(&policy_before.id)
        .expect("the policy is back");
    assert_eq!(
        p.path.links(&f.graph),
        policy_before.path.as_ref().unwrap().links
    );
    drop(f);
    // The journal's revisions carried on.
    assert!(c.events().revision() > revision);
}

#[tokio::test]
async fn a_change_is_announced_step_by_step_and_a_dry_run_changes_nothing() {
    let c = Controller::new(small(), Recorder::new(), None);
    let (_, mut rx) = c.events().watch(0).unwrap();
    let before = c.read().topology.clone();
    let r = c
        .change_topology(Diff::one(Change::AddNode(pe4())), true, "node")
        .await
        .unwrap();
    assert!(!r.applied);
    assert_eq!(r.steps, [Change::AddNode(pe4())]);
    assert_eq!(c.read().topology, before);
    grow(&c).await;
    let mut seen = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let Object::Topology(t) = &e.object {
            seen.push((e.change, t.kind.clone(), t.name.clone(), t.node.is_some()));
        }
    }
    assert_eq!(
        seen,
        [
            (EventChange::Created, "node".into(), "pe4".into(), true),
            (EventChange::Created, "link".into(), "pe1-pe4".into(), false),
            (EventChange::Created, "link".into(), "pe2-pe4".into(), false),
        ]
    );
    // Removing the node takes its links, one event each, links first.
    let r = c
        .change_topology(Diff::one(Change::RemoveNode("pe4".into())), false, "name")
        .await
        .unwrap();
    let shown: Vec<String> = r.steps.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["- link pe1-pe4", "- link pe2-pe4", "- node pe4"]);
    assert_eq!(c.read().topology, before);
}

#[tokio::test]
async fn a_link_in_use_is_refused_naming_its_users_and_nothing_changes() {
    let c = Controller::new(small(), Recorder::new(), None);
    let p = c.create_policy(policy("p", "pe1", "pe2", 9)).await.unwrap();
    let e = c
        .change_topology(
            Diff::one(Change::RemoveLink("pe1-pe2".into())),
            false,
            "name",
        )
        .await
        .unwrap_err();
    let status = tonic::Status::from(e);
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    assert!(
        status.message().contains(&format!("policy {}", p.id)),
        "{status:?}"
    );
    assert!(c.read().topology.link("pe1-pe2").is_some());
    assert!(c
        .read()
        .graph
        .edges_of_link("pe1-pe2")
        .all(|e| !c.read().graph.edges[e].pruned));
    // Drained first, the policy moves off and the link can go.
    c.drain("pe1-pe2", "fibre work").await.unwrap();
    c.change_topology(
        Diff::one(Change::RemoveLink("pe1-pe2".into())),
        false,
        "name",
    )
    .await
    .unwrap();
    assert!(c.read().topology.link("pe1-pe2").is_none());
}

#[tokio::test]
async fn runtime_nodes_survive_a_restart_on_etcd() {
    let Some(etcd) = crate::store::etcd_server::for_test("runtime_topology_on_etcd").await else {
        return;
    };
    let config = etcd.config_with_prefix("/topology/");
    let rec = Recorder::new();
    let open = || async {
        let (store, replayed) = crate::store::Store::open_etcd(&config).await.unwrap();
        let c = Controller::with_store(small(), rec.clone(), None, Some(Arc::new(store)));
        c.restore(&replayed).unwrap();
        c
    };
    {
        let c = open().await;
        grow(&c).await;
        c.change_topology(
            Diff::one(Change::RemoveLink("pe2-pe4".into())),
            false,
            "name",
        )
        .await
        .unwrap();
    }
    let c = open().await;
    let f = c.read();
    assert!(f.topology.node("pe4").is_some());
    assert!(f.topology.link("pe1-pe4").is_some());
    assert!(f.topology.link("pe2-pe4").is_none());
}

#[tokio::test]
async fn the_closed_loop_judges_links_added_at_run_time_and_forgets_removed_ones() {
    use crate::controller::closed_loop::ClosedLoop;
    use crate::telemetry::health::{HealthConfig, Reading};
    let c = Controller::new(small(), Recorder::new(), None);
    let mut lp = ClosedLoop::new(c.clone(), &small(), HealthConfig::default());
    // pe1-pe2 has a reading behind it, which a topology change must not lose.
    lp.observe("pe1", "et-0/0/1", Reading::DelayUs(300.0), 1)
        .await;
    let before = format!("{:?}", lp.health("pe1-pe2"));
    grow(&c).await;
    assert!(lp.health("pe1-pe4").is_none(), "not before it looks");
    lp.follow_topology();
    assert!(lp.health("pe1-pe4").is_some());
    assert_eq!(
        lp.link_of("pe4", "et-0/0/1").map(String::as_str),
        Some("pe1-pe4")
    );
    assert_eq!(format!("{:?}", lp.health("pe1-pe2")), before);
    c.change_topology(Diff::one(Change::RemoveNode("pe4".into())), false, "name")
        .await
        .unwrap();
    lp.follow_topology();
    assert!(lp.health("pe1-pe4").is_none());
    assert!(lp.link_of("pe4", "et-0/0/1").is_none());
}

/// A replica follower's reload (`Controller::reload`) lays the runtime
/// nodes and links the leader journaled over the follower's own file, as a
/// start-up does — a file link removed at run time stays removed — and
/// tells its watchers one event per step it moved.
#[tokio::test]
async fn a_followers_reload_takes_the_runtime_topology_and_announces_each_step() {
    let Some(etcd) = crate::store::etcd_server::for_test("runtime_topology_mirror").await else {
        return;
    };
    let config = etcd.config_with_prefix("/topology-mirror/");
    let (store, replayed) = crate::store::Store::open_etcd(&config).await.unwrap();
    let leader = Controller::with_store(small(), Recorder::new(), None, Some(Arc::new(store)));
    leader.restore(&replayed).unwrap();
    let snapshot = || async {
        let mut kv = crate::store::etcd::kv(crate::store::etcd::channel(&config).await.unwrap());
        crate::store::etcd::snapshot(&mut kv, &config)
            .await
            .unwrap()
            .0
    };
    let names = |c: &Controller| {
        let f = c.read();
        let mut nodes: Vec<String> = f.topology.nodes.iter().map(|n| n.name.clone()).collect();
        let mut links: Vec<String> = f.topology.links.iter().map(|l| l.name.clone()).collect();
        nodes.sort();
        links.sort();
        (nodes, links)
    };
    let follower = Controller::new(small(), Recorder::new(), None);

    grow(&leader).await;
    let before = follower.events().revision();
    follower.reload(&snapshot().await).unwrap();
    assert_eq!(names(&follower), names(&leader));
    assert!(follower.read().graph.node_id("pe4").is_some());
    assert_eq!(
        follower.events().revision() - before,
        3,
        "pe4 and its two links"
    );

    // Removals, of a runtime link and of one from the file.
    for gone in ["pe2-pe4", "pe2-pe3"] {
        leader
            .change_topology(Diff::one(Change::RemoveLink(gone.into())), false, "name")
            .await
            .unwrap();
    }
    let before = follower.events().revision();
    follower.reload(&snapshot().await).unwrap();
    assert_eq!(names(&follower), names(&leader));
    assert!(follower.read().topology.link("pe2-pe3").is_none());
    assert_eq!(follower.events().revision() - before, 2);
    // The same state again announces nothing.
    let before = follower.events().revision();
    follower.reload(&snapshot().await).unwrap();
    assert_eq!(follower.events().revision(), before);
}
