use super::*;
use crate::intent::{ConstraintsSpec, PolicySpec};
use crate::model::Endpoint;
use crate::plan::{
    policy,
    repair::{Changes, RepairCache},
};

use crate::plan::fixtures::{policy as add_policy, small};

fn pe4() -> Node {
    Node {
        name: "pe4".into(),
        role: Role::Packet,
        site: None,
        location: None,
        address: "127.0.0.1:20399".parse().unwrap(),
        router_id: Some("10.255.0.4".parse().unwrap()),
        node_sid: Some(16004),
        interfaces: vec![],
        access_interfaces: vec!["ce-0/1/0".into()],
    }
}

fn link(name: &str, a: (&str, &str), b: (&str, &str), latency_us: u32) -> Link {
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
        length_km: 1.0,
        latency_us,
        capacity_gbps: 100.0,
        te_metric: 10,
        igp_metric: 10,
        srlgs: Default::default(),
        admin_groups: Default::default(),
        rides: vec![],
        plant: None,
    }
}

fn change(f: &mut Fabric, d: Diff) -> Result<Diff, PlanError> {
    let d = check(f, &d, "change")?;
    apply(f, &d);
    Ok(d)
}

#[test]
fn a_node_and_its_links_added_at_run_time_carry_policies() {
    let mut f = small();
    change(&mut f, Diff::one(Change::AddNode(pe4()))).unwrap();
    change(
        &mut f,
        Diff::one(Change::AddLink(link(
            "pe1-pe4",
            ("pe1", "et-0/0/9"),
            ("pe4", "et-0/0/1"),
            5,
        ))),
    )
    .unwrap();
    assert_eq!(f.topology.node("pe4").unwrap().interfaces, ["et-0/0/1"]);
    assert!(f
        .topology
        .node("pe1")
        .unwrap()
        .interfaces
        .contains(&"et-0/0/9".to_string()));
    let id = add_policy(&mut f, "to-pe4", "pe2", "pe4", 7);
    assert_eq!(
        f.policies[&id]
            .path
            .links(&f.graph)
            .last()
            .map(String::as_str),
        Some("pe1-pe4")
    );
    // The graph is the one a fresh start on the changed topology builds.
    let fresh = crate::pathcomp::TeGraph::packet_layer(&f.topology);
    assert_eq!(fresh.node_id("pe4"), f.graph.node_id("pe4"));
}

#[test]
fn bad_changes_name_their_field_and_change_nothing() {
    let mut f = small();
    let before = f.topology.clone();
    let mut n = pe4();
    n.node_sid = Some(16001);
    let e = change(&mut f, Diff::one(Change::AddNode(n))).unwrap_err();
    assert!(
        e.to_string().starts_with("change.node_sid: 16001 is pe1's"),
        "{e}"
    );
    let e = change(
        &mut f,
        Diff::one(Change::AddNode(before.node("pe1").unwrap().clone())),
    )
    .unwrap_err();
    assert!(matches!(e, PlanError::AlreadyExists(_)), "{e}");
    let e = change(
        &mut f,
        Diff::one(Change::AddLink(link(
            "x",
            ("pe1", "et-0/0/1"),
            ("pe3", "et-0/0/9"),
            5,
        ))),
    )
    .unwrap_err();
    assert!(e.to_string().contains("change.a.interface"), "{e}");
    assert!(e.to_string().contains("pe1-pe2"), "{e}");
    let e = change(
        &mut f,
        Diff::one(Change::AddLink(link(
            "x",
            ("pe1", "et-9"),
            ("nope", "et-9"),
            5,
        ))),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "change.b.node: node \"nope\" not found");
    let e = change(
        &mut f,
        Diff::one(Change::AddLink(link(
            "pe1",
            ("pe1", "et-9"),
            ("pe2", "et-9"),
            5,
        ))),
    )
    .unwrap_err();
    assert!(
        matches!(e, PlanError::AlreadyExists(_)),
        "a link named as a node: {e}"
    );
    let e = change(&mut f, Diff::one(Change::RemoveLink("nope".into()))).unwrap_err();
    assert!(matches!(e, PlanError::NotFound { .. }), "{e}");
    let e = change(&mut f, Diff::one(Change::RemoveLink("ot1-ot2".into()))).unwrap_err();
    assert!(matches!(e, PlanError::Invalid { .. }), "{e}");
    // A diff whose last step fails applies none of its steps.
    let d = Diff {
        changes: vec![
            Change::AddNode(pe4()),
            Change::AddLink(link("bad", ("pe4", "et-1"), ("ghost", "et-1"), 5)),
        ],
    };
    assert!(change(&mut f, d).is_err());
    assert_eq!(f.topology, before);
    assert!(f.graph.node_id("pe4").is_none());
}

#[test]
fn a_link_in_use_is_refused_with_its_users_until_they_are_moved_off() {
    let mut f = small();
    let id = add_policy(&mut f, "a", "pe1", "pe2", 7);
    let e = change(&mut f, Diff::one(Change::RemoveLink("pe1-pe2".into()))).unwrap_err();
    assert!(matches!(e, PlanError::Precondition(_)));
    assert!(e.to_string().contains(&format!("policy {id}")), "{e}");
    // Removing a node takes its links, so the node is refused for the same user.
    let e = change(&mut f, Diff::one(Change::RemoveNode("pe2".into()))).unwrap_err();
    assert!(e.to_string().contains(&format!("policy {id}")), "{e}");
    // pe2-pe3 carries nothing: it goes, and the graph forgets it.
    change(&mut f, Diff::one(Change::RemoveLink("pe2-pe3".into()))).unwrap();
    assert!(f.topology.link("pe2-pe3").is_none());
    assert_eq!(f.graph.edges_of_link("pe2-pe3").count(), 0);
    assert!(!f
        .topology
        .node("pe3")
        .unwrap()
        .interfaces
        .contains(&"et-0/0/1".to_string()));
    // A drain moves the policy off (here by hand, as the reroute would):
    // once nothing rides the link it can go.
    f.remove_policy(&id);
    f.drains.insert(
        "pe1-pe2".into(),
        crate::plan::drain::resolve(&f, "pe1-pe2", "target").unwrap(),
    );
    let d = check(&f, &Diff::one(Change::RemoveLink("pe1-pe2".into())), "name").unwrap();
    assert_eq!(drains_ended(&f, &d), ["pe1-pe2"]);
    apply(&mut f, &d);
    assert!(f.drains.is_empty(), "the link's drain ends with it");
    // Edges after a removed one keep their ids and adjacency SIDs.
    let e = f.graph.edges_of_link("pe1-pe3").next().unwrap();
    assert_eq!(
        f.graph.edges[e].adj_sid,
        crate::pathcomp::ADJ_SID_BASE + e as u32
    );
    assert!(f.graph.is_removed(0));
}

#[test]
fn a_capacity_below_what_is_reserved_is_refused() {
    let mut f = small();
    let spec = PolicySpec {
        name: "fat".into(),
        headend: "pe1".into(),
        endpoint: "pe2".into(),
        color: 7,
        constraints: ConstraintsSpec {
            bandwidth_gbps: 50.0,
            max_sid_depth: 8,
            ..Default::default()
        },
    };
    let planned = policy::plan_create(&f, &spec).unwrap();
    let id = f.new_id("pol");
    f.hold_policy(planned.into_record(id.clone(), spec, None, 1));
    let mut l = f.topology.link("pe1-pe2").unwrap().clone();
    l.capacity_gbps = 10.0;
    let e = change(&mut f, Diff::one(Change::UpdateLink(l.clone()))).unwrap_err();
    assert!(e.to_string().starts_with("change.capacity_gbps"), "{e}");
    l.capacity_gbps = 60.0;
    l.te_metric = 77;
    change(&mut f, Diff::one(Change::UpdateLink(l))).unwrap();
    let e = f.graph.edges_of_link("pe1-pe2").next().unwrap();
    assert_eq!(
        (f.graph.edges[e].capacity_gbps, f.graph.edges[e].te_metric),
        (60.0, 77)
    );
    assert_eq!(f.graph.edges[e].reserved_gbps, 50.0);
}

#[test]
fn a_reload_is_the_diff_of_two_files_applied_whole() {
    let mut f = small();
    let mut new = f.topology.clone();
    new.links.retain(|l| l.name != "pe2-pe3");
    new.links
        .iter_mut()
        .find(|l| l.name == "pe1-pe3")
        .unwrap()
        .te_metric = 55;
    new.nodes.push(pe4());
    new.links
        .push(link("pe3-pe4", ("pe3", "et-0/0/7"), ("pe4", "et-0/0/1"), 5));
    let d = diff(&f.topology, &new);
    let shown: Vec<String> = d.changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "- link pe2-pe3",
            "+ node pe4",
            "~ link pe1-pe3",
            "+ link pe3-pe4"
        ]
    );
    change(&mut f, d).unwrap();
    assert!(
        diff(&f.topology, &new).is_empty(),
        "{:?}",
        diff(&f.topology, &new)
    );
    // Back to the file: the opposite diff.
    let original = small().topology;
    let back = diff(&f.topology, &original);
    assert!(back.changes.contains(&Change::RemoveNode("pe4".into())));
    change(&mut f, back).unwrap();
    assert!(diff(&f.topology, &original).is_empty());
}

#[test]
fn a_topology_change_makes_every_earlier_repair_path_stale() {
    let mut f = small();
    let id = add_policy(&mut f, "a", "pe1", "pe2", 7);
    RepairCache::refresh_all(&mut f);
    f.graph.set_link_pruned("pe1-pe2", true);
    let p = f.policies[&id].clone();
    let (via, _) = f
        .repairs
        .lookup(&f, &mut Changes::new(&f.graph), &p, "pe1-pe2")
        .expect("a fresh repair path");
    assert_eq!(via.links(&f.graph), ["pe1-pe3", "pe2-pe3"]);
    f.graph.set_link_pruned("pe1-pe2", false);
    // A shorter way round appears: the old repair path is no longer the best.
    change(
        &mut f,
        Diff {
            changes: vec![
                Change::AddNode(pe4()),
                Change::AddLink(link("pe1-pe4", ("pe1", "et-0/0/9"), ("pe4", "et-0/0/1"), 1)),
                Change::AddLink(link("pe2-pe4", ("pe2", "et-0/0/9"), ("pe4", "et-0/0/2"), 1)),
            ],
        },
    )
    .unwrap();
    f.graph.set_link_pruned("pe1-pe2", true);
    assert!(
        f.repairs
            .lookup(&f, &mut Changes::new(&f.graph), &p, "pe1-pe2")
            .is_none(),
        "stale entry used"
    );
    f.graph.set_link_pruned("pe1-pe2", false);
    RepairCache::refresh_all(&mut f);
    f.graph.set_link_pruned("pe1-pe2", true);
    let (via, _) = f
        .repairs
        .lookup(&f, &mut Changes::new(&f.graph), &p, "pe1-pe2")
        .expect("recomputed");
    assert_eq!(via.links(&f.graph), ["pe1-pe4", "pe2-pe4"]);
}

#[test]
fn names_and_lists_are_bounded_as_a_file_bounds_them() {
    let mut f = small();
    let mut n = pe4();
    n.name = "PE 4".into();
    let e = change(&mut f, Diff::one(Change::AddNode(n))).unwrap_err();
    assert!(e.to_string().starts_with("change.name:"), "{e}");
    let mut n = pe4();
    n.access_interfaces = (0..=MAX_LIST).map(|i| format!("ce-{i}")).collect();
    let e = change(&mut f, Diff::one(Change::AddNode(n))).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("change.access_interfaces: at most"),
        "{e}"
    );
    let mut l = link("x", ("pe1", "et 9"), ("pe2", "et-9"), 5);
    let e = change(&mut f, Diff::one(Change::AddLink(l.clone()))).unwrap_err();
    assert!(e.to_string().starts_with("change.a.interface:"), "{e}");
    l.a.interface = "et-9".into();
    l.capacity_gbps = f64::NAN;
    let e = change(&mut f, Diff::one(Change::AddLink(l))).unwrap_err();
    assert!(e.to_string().starts_with("change.capacity_gbps:"), "{e}");
}

#[test]
fn a_link_with_bandwidth_held_by_a_move_in_flight_is_not_removed_yet() {
    let mut f = small();
    // As a make-before-break move holds its new path before it is recorded.
    f.graph.update_link("pe2-pe3", |e| e.reserved_gbps = 5.0);
    let e = change(&mut f, Diff::one(Change::RemoveLink("pe2-pe3".into()))).unwrap_err();
    assert!(matches!(e, PlanError::Aborted(_)), "{e}");
    assert!(f.topology.link("pe2-pe3").is_some());
}
