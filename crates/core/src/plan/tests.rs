//! The planners on the small example fabric: what they place, what they
//! refuse, and that holding, revealing and releasing leave the fabric as the
//! plan said.

use super::*;
use crate::intent::{AttachmentSpec, ConstraintsSpec, PolicySpec, ServiceSpec, ServiceType};

fn small() -> Fabric {
    let topology = crate::topology::parse_str(include_str!("../../../../examples/small.yaml"))
        .expect("the example parses");
    Fabric::new(topology, Pools::default())
}

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
