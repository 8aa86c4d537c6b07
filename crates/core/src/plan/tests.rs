//! The planners on the small example fabric: what they place, what they
//! refuse, and that holding, revealing and releasing leave the fabric as the
//! plan said.

use super::*;
use crate::intent::{AttachmentSpec, ConstraintsSpec, PolicySpec, ServiceSpec, ServiceType};

use super::fixtures::small;

fn spec(name: &str, headend: &str, endpoint: &str, gbps: f64) -> PolicySpec {
    PolicySpec {
        name: name.into(),
        headend: headend.into(),
        endpoint: endpoint.into(),
        color: 7,
        constraints: ConstraintsSpec {
            bandwidth_gbps: gbps,
            ..Default::default()
        },
    }
}

fn hold(f: &mut Fabric, s: PolicySpec) -> String {
    let planned = policy::plan_create(f, &s).expect("placed");
    let id = f.new_id("pol");
    f.hold_policy(planned.into_record(id.clone(), s, None, 1));
    id
}

fn reserved(f: &Fabric, link: &str) -> f64 {
    f.graph
        .edges_of_link(link)
        .map(|e| f.graph.edges[e].reserved_gbps)
        .fold(0.0, f64::max)
}

#[test]
fn a_policy_is_placed_on_the_lowest_latency_path_and_numbered() {
    let f = small();
    let p = policy::plan_create(&f, &spec("p", "pe1", "pe2", 0.0)).unwrap();
    assert_eq!(p.placement.path.links(&f.graph), ["pe1-pe2"]);
    assert_eq!(p.sequence_id, 1);
    assert_eq!(p.intent.endpoint_address, "10.255.0.2");
}

#[test]
fn a_held_policy_takes_its_name_steering_and_bandwidth_until_released() {
    let mut f = small();
    let id = hold(&mut f, spec("p", "pe1", "pe2", 300.0));
    assert!(f.in_flight(&id), "held, not yet visible");
    assert_eq!(reserved(&f, "pe1-pe2"), 300.0);
    let again = policy::plan_create(&f, &spec("p", "pe1", "pe3", 0.0)).unwrap_err();
    assert!(
        matches!(again, error::PlanError::AlreadyExists(_)),
        "{again}"
    );
    let steer = policy::plan_create(&f, &spec("q", "pe1", "pe2", 0.0)).unwrap_err();
    assert!(
        steer.to_string().contains("already has a color 7 policy"),
        "{steer}"
    );
    // 300 of 400 Gb/s held: the next 200 goes the long way round.
    let next = policy::plan_create(&f, &spec("r", "pe1", "pe2", 200.0));
    let next = next.map(|p| p.placement.path.links(&f.graph));
    assert!(
        next.is_err() || next.as_ref().unwrap() != &["pe1-pe2"],
        "{next:?}"
    );
    assert!(
        policy::check_delete(&f, &id, 0).is_err(),
        "a held policy is not visible to deletes"
    );
    f.release_held(Kind::Policy, &id);
    assert_eq!(reserved(&f, "pe1-pe2"), 0.0);
    assert!(policy::plan_create(&f, &spec("p", "pe1", "pe2", 0.0)).is_ok());
}

#[test]
fn a_revealed_policy_is_deleted_only_at_its_revision() {
    let mut f = small();
    let id = hold(&mut f, spec("p", "pe1", "pe2", 0.0));
    f.reveal([&id]);
    let stale = policy::check_delete(&f, &id, 99).unwrap_err();
    assert_eq!(
        stale,
        error::PlanError::Aborted(format!("policy {id} is at revision 1, not 99"))
    );
    assert_eq!(policy::check_delete(&f, &id, 1).unwrap().id, id);
    assert!(matches!(
        policy::check_delete(&f, "pol-404", 0),
        Err(error::PlanError::NotFound { .. })
    ));
}

#[test]
fn a_service_gets_identifiers_and_a_transport_per_ordered_pe_pair() {
    let f = small();
    let spec = ServiceSpec {
        name: "lan".into(),
        service_type: Some(ServiceType::ELan),
        attachments: ["pe1", "pe2", "pe3"]
            .iter()
            .map(|pe| AttachmentSpec {
                device: pe.to_string(),
                interface: "ce-0/1/0".into(),
                vlan: 10,
            })
            .collect(),
        bandwidth_gbps: 150.0,
        ..Default::default()
    };
    let planned = service::plan_create(&f, &spec).unwrap();
    assert_eq!(planned.evi, EVI_RANGE.0);
    assert_eq!(planned.route_target, format!("65000:{}", EVI_RANGE.0));
    assert_eq!(
        planned.route_distinguishers["pe2"],
        format!("10.255.0.2:{}", EVI_RANGE.0)
    );
    assert_eq!(planned.transports.len(), 6);
    // The service's own transports reserve against each other: together
    // they overbook no direction of any link (150 Gb/s each on 400 Gb/s).
    let mut load: BTreeMap<usize, f64> = BTreeMap::new();
    for t in &planned.transports {
        for &e in &t.placement.path.edges {
            *load.entry(e).or_default() += 150.0;
        }
    }
    assert!(load.values().all(|&g| g <= 400.0), "{load:?}");

    let no_type = ServiceSpec {
        service_type: None,
        ..spec
    };
    let e = service::plan_create(&f, &no_type)
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some("spec.type: must be SERVICE_TYPE_E_LINE or SERVICE_TYPE_E_LAN")
    );
}

#[test]
fn a_link_down_moves_its_policies_and_its_recovery_brings_them_back() {
    use reroute::{LinkCondition, Outcome};
    let mut f = small();
    let id = hold(&mut f, spec("p", "pe1", "pe2", 100.0));
    f.reveal([&id]);
    let affected = reroute::apply(&mut f, "pe1-pe2", &LinkCondition::Down);
    assert_eq!(affected, std::slice::from_ref(&id));
    let mut outcomes = reroute::plan_all(&f, &affected, &LinkCondition::Down);
    let Some(Outcome::Move(m)) = outcomes.pop() else {
        panic!("the policy moves: {outcomes:?}");
    };
    assert_eq!(m.path.links(&f.graph), ["pe1-pe3", "pe2-pe3"]);
    assert_eq!(m.discriminator, 2, "a new candidate path");
    let left = reroute::commit_move(&mut f, m, "pe1-pe2", &LinkCondition::Down);
    assert_eq!(left.as_deref(), Some(&["pe1-pe2".to_string()][..]));
    assert_eq!(reserved(&f, "pe1-pe2"), 0.0, "its bandwidth moved with it");
    assert_eq!(reserved(&f, "pe1-pe3"), 100.0);
    assert!(f.policies[&id].displaced_by.contains("pe1-pe2"));

    let back = reroute::apply(&mut f, "pe1-pe2", &LinkCondition::Nominal);
    assert_eq!(
        back,
        std::slice::from_ref(&id),
        "what the link displaced comes back"
    );
    let Some(Outcome::Move(m)) = reroute::plan_all(&f, &back, &LinkCondition::Nominal).pop() else {
        panic!("the policy returns");
    };
    reroute::commit_move(&mut f, m, "pe1-pe2", &LinkCondition::Nominal);
    assert_eq!(f.policies[&id].path.links(&f.graph), ["pe1-pe2"]);
    assert!(f.policies[&id].displaced_by.is_empty());
}

fn eline(name: &str, vlan: u32, gbps: f64) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        service_type: Some(ServiceType::ELine),
        attachments: ["pe1", "pe2"]
            .iter()
            .map(|pe| AttachmentSpec {
                device: pe.to_string(),
                interface: "ce-0/1/0".into(),
                vlan,
            })
            .collect(),
        bandwidth_gbps: gbps,
        ..Default::default()
    }
}

/// A service's create as the controller stages and commits it.
fn add_service(f: &mut Fabric, spec: &ServiceSpec) -> Result<(String, Vec<bool>), PlanError> {
    let planned = service::plan_create(f, spec)?;
    let id = f.new_id("svc");
    let mut ids = Vec::new();
    for t in planned.transports {
        let pid = f.new_id("pol");
        ids.push(pid.clone());
        let record = t.into_record(pid, &id, spec, 1);
        f.hold_policy(record);
    }
    let moved: Vec<bool> = planned.joins.iter().map(|c| c.moved.is_some()).collect();
    for mut c in planned.joins {
        c.service = id.clone();
        ids.push(c.policy.clone());
        f.hold_share(&c);
        f.commit_share(c, 2);
    }
    f.hold_service(records::ServiceRecord {
        id: id.clone(),
        spec: spec.clone(),
        evi: planned.evi,
        vni: planned.vni,
        route_target: planned.route_target,
        route_distinguishers: planned.route_distinguishers,
        attachments: planned.attachments,
        policies: ids.clone(),
        revision: 1,
    });
    ids.push(id.clone());
    f.reveal(&ids);
    Ok((id, moved))
}

/// A service's delete as the controller commits it: shared transports
/// give back its share, the last user removes them.
fn delete_service(f: &mut Fabric, id: &str) -> Vec<String> {
    let record = f.services[id].clone();
    let mut spf = crate::pathcomp::IgpSpf::new(&f.graph);
    let mut gone = Vec::new();
    let mut leaves = Vec::new();
    for pid in &record.policies {
        let p = &f.policies[pid];
        if p.shares.iter().any(|(s, _)| s != id) {
            leaves.push(share::plan_change(f, &f.graph, &mut spf, p, id, 0.0).unwrap());
        } else {
            gone.push(pid.clone());
        }
    }
    drop(spf);
    f.remove_service(id);
    for pid in &gone {
        f.remove_policy(pid);
    }
    for c in leaves {
        f.commit_share(c, 3);
    }
    gone
}

#[test]
fn e_lines_between_one_pe_pair_share_their_transport_and_its_bandwidth() {
    let mut f = small();
    let mut ids = Vec::new();
    for i in 0..10 {
        let (id, moved) = add_service(&mut f, &eline(&format!("e{i}"), 100 + i, 10.0)).unwrap();
        assert!(moved.iter().all(|m| !m), "room in place: nothing moves");
        ids.push(id);
    }
    assert_eq!(f.policies.len(), 2, "one policy per direction");
    assert_eq!(reserved(&f, "pe1-pe2"), 100.0, "the sum of ten 10 Gb/s");
    for p in f.policies.values() {
        assert_eq!(p.shares.len(), 10);
        assert_eq!(p.constraints.bandwidth_gbps, 100.0);
        assert_eq!(p.spec.constraints.bandwidth_gbps, 100.0);
        assert_eq!(p.owner.as_deref(), Some(ids[0].as_str()));
    }
    for (n, id) in ids.iter().enumerate() {
        let gone = delete_service(&mut f, id);
        let left = 9 - n;
        if left > 0 {
            assert!(gone.is_empty(), "others still ride it");
            assert_eq!(f.policies.len(), 2);
            assert_eq!(reserved(&f, "pe1-pe2"), 10.0 * left as f64);
            let p = f.policies.values().next().unwrap();
            assert_eq!(p.owner.as_deref(), Some(ids[n + 1].as_str()));
        } else {
            assert_eq!(gone.len(), 2, "the last one takes them away");
        }
    }
    assert!(f.policies.is_empty() && f.steering.is_empty());
    assert_eq!(reserved(&f, "pe1-pe2"), 0.0);
}

#[test]
fn a_shared_transport_without_room_moves_to_a_path_that_has_it() {
    let mut f = small();
    add_service(&mut f, &eline("a", 100, 150.0)).unwrap();
    let x = hold(&mut f, spec("x", "pe1", "pe2", 200.0));
    f.reveal([&x]);
    assert_eq!(reserved(&f, "pe1-pe2"), 350.0);
    // 150 + 100 no longer fits the 50 left on pe1-pe2.
    // pe1 → pe2 moves; pe2 → pe1 (x is one way) grows in place.
    let (_, moved) = add_service(&mut f, &eline("b", 101, 100.0)).unwrap();
    assert_eq!(moved, [true, false]);
    let load = |from: &str, link: &str| {
        let from = f.graph.node_id(from).unwrap();
        f.graph
            .edges_of_link(link)
            .find(|&e| f.graph.edges[e].from == from)
            .map(|e| f.graph.edges[e].reserved_gbps)
    };
    assert_eq!(load("pe1", "pe1-pe2"), Some(200.0), "only x stays");
    assert_eq!(load("pe1", "pe1-pe3"), Some(250.0));
    assert_eq!(load("pe2", "pe1-pe2"), Some(250.0));
    let there = f.steered_by("pe1", 100, "pe2").unwrap();
    assert_eq!(there.path.links(&f.graph), ["pe1-pe3", "pe2-pe3"]);
    assert_eq!(there.discriminator, 2, "a new candidate path");
    assert_eq!(f.steered_by("pe2", 100, "pe1").unwrap().discriminator, 1);
}

#[test]
fn a_service_is_refused_a_transport_it_cannot_share() {
    let mut f = small();
    add_service(&mut f, &eline("a", 100, 10.0)).unwrap();
    let mut other = eline("b", 101, 10.0);
    other.transport.exclude_links = ["pe2-pe3".to_string()].into();
    let e = service::plan_create(&f, &other).err().unwrap().to_string();
    assert!(
        e.starts_with("spec.transport: pe1 already carries color 100 to pe2 on shared transport"),
        "{e}"
    );
    let mut f = small();
    let mut standalone = spec("x", "pe1", "pe2", 0.0);
    standalone.color = 100;
    let x = hold(&mut f, standalone);
    f.reveal([&x]);
    let e = service::plan_create(&f, &eline("a", 100, 10.0))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("not a service's transport"), "{e}");
    // A transport being created by another request is not joined.
    let mut f = small();
    let planned = service::plan_create(&f, &eline("a", 100, 10.0)).unwrap();
    for t in planned.transports {
        let pid = f.new_id("pol");
        f.hold_policy(t.into_record(pid, "svc-x", &eline("a", 100, 10.0), 1));
    }
    let e = service::plan_create(&f, &eline("b", 101, 10.0))
        .err()
        .unwrap();
    assert!(matches!(e, error::PlanError::Aborted(_)), "{e}");
}

/// A bandwidth change as the controller stages and commits it.
fn change_bandwidth(f: &mut Fabric, id: &str, gbps: f64) -> Result<Vec<bool>, PlanError> {
    let revision = f.services[id].revision;
    let c = update::plan_bandwidth(f, id, revision, gbps)?;
    let moved = c.changes.iter().map(|x| x.moved.is_some()).collect();
    f.hold_bandwidth(&c);
    let revs = vec![revision + 1; c.changes.len()];
    f.commit_bandwidth(c, &revs, revision + 1);
    Ok(moved)
}

#[test]
fn a_service_grows_in_place_then_by_moving_and_shrinks_in_place() {
    let mut f = small();
    let (id, _) = add_service(&mut f, &eline("a", 100, 100.0)).unwrap();
    assert_eq!(
        change_bandwidth(&mut f, &id, 200.0).unwrap(),
        [false, false]
    );
    assert_eq!(reserved(&f, "pe1-pe2"), 200.0);
    let x = hold(&mut f, spec("x", "pe1", "pe2", 150.0));
    f.reveal([&x]);
    // 200 → 300 does not fit the 50 left on pe1 → pe2: that one moves.
    assert_eq!(change_bandwidth(&mut f, &id, 300.0).unwrap(), [true, false]);
    let there = f.steered_by("pe1", 100, "pe2").unwrap();
    assert_eq!(there.path.links(&f.graph), ["pe1-pe3", "pe2-pe3"]);
    assert_eq!(there.constraints.bandwidth_gbps, 300.0);
    assert_eq!(f.services[&id].spec.bandwidth_gbps, 300.0);
    assert_eq!(change_bandwidth(&mut f, &id, 10.0).unwrap(), [false, false]);
    assert_eq!(reserved(&f, "pe1-pe3"), 10.0, "shrunk where it is");
    // Every hop of every path is 400 Gb/s: 500 fits nowhere, and nothing changes.
    let before: Vec<f64> = f.graph.edges.iter().map(|e| e.reserved_gbps).collect();
    let e = change_bandwidth(&mut f, &id, 500.0).unwrap_err();
    assert!(matches!(e, error::PlanError::Precondition(_)), "{e}");
    assert!(
        e.to_string().contains("cannot grow from 10 to 500 Gbps"),
        "{e}"
    );
    let after: Vec<f64> = f.graph.edges.iter().map(|e| e.reserved_gbps).collect();
    assert_eq!(before, after);
    let stale = update::plan_bandwidth(&f, &id, 1, 20.0).unwrap_err();
    assert!(matches!(stale, error::PlanError::Aborted(_)), "{stale}");
    let bad = update::plan_bandwidth(&f, &id, f.services[&id].revision, -1.0).unwrap_err();
    assert!(bad.to_string().starts_with("bandwidth_gbps: "), "{bad}");
    let none = update::plan_bandwidth(&f, &id, 0, 20.0).unwrap_err();
    assert!(none.to_string().starts_with("revision: "), "{none}");
}

#[test]
fn a_policy_changes_constraints_and_bandwidth_in_place_or_by_moving() {
    let mut f = small();
    let id = hold(&mut f, spec("p", "pe1", "pe2", 100.0));
    f.reveal([&id]);
    let rev = f.policies[&id].revision;
    let mut c = ConstraintsSpec {
        bandwidth_gbps: 300.0,
        ..Default::default()
    };
    let grow = update::plan_policy(&f, &id, rev, &c).unwrap();
    assert!(grow.moved.is_none(), "room in place");
    f.hold_policy_change(&grow, true);
    f.commit_policy_change(grow, rev + 1);
    assert_eq!(reserved(&f, "pe1-pe2"), 300.0);
    c.exclude_links = vec!["pe1-pe2".into()];
    let away = update::plan_policy(&f, &id, rev + 1, &c).unwrap();
    assert!(away.moved.is_some());
    f.hold_policy_change(&away, true);
    assert_eq!(
        reserved(&f, "pe1-pe2"),
        300.0,
        "both paths held until the commit"
    );
    assert_eq!(reserved(&f, "pe1-pe3"), 300.0);
    f.commit_policy_change(away, rev + 2);
    assert_eq!(reserved(&f, "pe1-pe2"), 0.0);
    assert_eq!(f.policies[&id].path.links(&f.graph), ["pe1-pe3", "pe2-pe3"]);
    assert_eq!(f.policies[&id].spec.constraints.exclude_links, ["pe1-pe2"]);
    let stale = update::plan_policy(&f, &id, rev, &c).unwrap_err();
    assert!(matches!(stale, error::PlanError::Aborted(_)), "{stale}");
    c.exclude_links = vec!["nope".into()];
    let bad = update::plan_policy(&f, &id, rev + 2, &c).unwrap_err();
    assert!(
        bad.to_string().starts_with("constraints.exclude_links"),
        "{bad}"
    );
}

#[test]
fn a_what_if_counts_every_service_on_a_shared_transport() {
    let mut f = small();
    let (a, _) = add_service(&mut f, &eline("a", 100, 10.0)).unwrap();
    let (b, _) = add_service(&mut f, &eline("b", 101, 10.0)).unwrap();
    let report = whatif::what_if(
        &f,
        &whatif::Failure {
            links: vec!["pe1-pe2".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let hit: Vec<&str> = report.services.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(hit, [a.as_str(), b.as_str()], "{report:?}");
}
