//! What-if on the small example fabric: one test per failure kind, the
//! overbooking a reroute would cause, lost wavelengths, bad names, and the
//! survivability table agreeing with one what-if per element.

use super::*;
use crate::intent::{ConstraintsSpec, PolicySpec, WavelengthSpec};
use crate::pathcomp::optical::WavelengthPlan;
use crate::plan::Kind;

use crate::plan::fixtures::{placed, small};

fn add(f: &mut Fabric, name: &str, headend: &str, endpoint: &str, color: u32, gbps: f64) -> String {
    let s = PolicySpec {
        name: name.into(),
        headend: headend.into(),
        endpoint: endpoint.into(),
        color,
        constraints: ConstraintsSpec {
            bandwidth_gbps: gbps,
            ..Default::default()
        },
    };
    placed(f, s)
}

fn links(f: &Fabric, id: &str) -> Vec<String> {
    f.policies[id].path.links(&f.graph)
}

fn moved_to(r: &WhatIfReport, id: &str) -> Vec<String> {
    match &r
        .policies
        .iter()
        .find(|p| p.id == id)
        .expect("affected")
        .outcome
    {
        Outcome::Moved { links, .. } => links.clone(),
        other => panic!("{id}: {other:?}"),
    }
}

/// A fabric with pe1→pe2 riding the fiber, and pe2→pe3 beside it.
fn two_policies() -> (Fabric, String, String) {
    let mut f = small();
    let a = add(&mut f, "a", "pe1", "pe2", 7, 0.0);
    let b = add(&mut f, "b", "pe2", "pe3", 7, 0.0);
    assert_eq!(links(&f, &a), ["pe1-pe2"]);
    assert_eq!(links(&f, &b), ["pe2-pe3"]);
    (f, a, b)
}

#[test]
fn a_fiber_cut_moves_what_rides_it_and_changes_nothing() {
    let (f, a, _) = two_policies();
    let before = f.graph.clone();
    let r = what_if(
        &f,
        &Failure {
            fibers: vec!["ot1-ot2".into()],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.failed_fibers, ["ot1-ot2"]);
    assert_eq!(r.failed_links, ["pe1-pe2"]);
    assert_eq!(r.policies.len(), 1, "{r:?}");
    assert_eq!(moved_to(&r, &a), ["pe1-pe3", "pe2-pe3"]);
    let p = &r.policies[0];
    assert_eq!(p.old_links, ["pe1-pe2"]);
    assert!(p.latency_change_us().unwrap() > 0, "{p:?}");
    assert!(p.meets_sla(), "no bound: a path is enough");
    assert!(r.shortfalls.is_empty() && r.wavelengths.is_empty());
    assert_eq!(f.graph, before, "the fabric is not touched");
    assert_eq!(links(&f, &a), ["pe1-pe2"]);
}

#[test]
fn a_link_failure_moves_only_the_policies_on_it() {
    let (f, a, b) = two_policies();
    let r = what_if(
        &f,
        &Failure {
            links: vec!["pe2-pe3".into()],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.failed_links, ["pe2-pe3"]);
    assert!(r.failed_fibers.is_empty());
    assert_eq!(moved_to(&r, &b), ["pe1-pe2", "pe1-pe3"]);
    assert!(r.policies.iter().all(|p| p.id != a));
}

#[test]
fn an_srlg_failure_takes_the_fiber_and_what_inherits_its_srlg() {
    let (f, a, _) = two_policies();
    let r = what_if(
        &f,
        &Failure {
            srlgs: vec![500],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.failed_fibers, ["ot1-ot2"]);
    assert_eq!(r.failed_links, ["pe1-pe2"]);
    assert_eq!(moved_to(&r, &a), ["pe1-pe3", "pe2-pe3"]);
}

#[test]
fn a_node_failure_strands_what_starts_or_ends_there_and_moves_what_transits() {
    let (mut f, a, b) = two_policies();
    // Forced through pe3 by excluding the direct link.
    let s = PolicySpec {
        name: "via".into(),
        headend: "pe1".into(),
        endpoint: "pe2".into(),
        color: 9,
        constraints: ConstraintsSpec {
            exclude_links: vec!["pe1-pe2".into()],
            ..Default::default()
        },
    };
    let planned = policy::plan_create(&f, &s).unwrap();
    let via = f.new_id("pol");
    f.hold_policy(planned.into_record(via.clone(), s, None, 1));
    f.reveal([&via]);
    let r = what_if(
        &f,
        &Failure {
            nodes: vec!["pe3".into()],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.failed_links, ["pe2-pe3", "pe1-pe3"]);
    let impact = |id: &str| r.policies.iter().find(|p| p.id == id).unwrap();
    assert!(impact(&b).stranded(), "{:?}", impact(&b));
    assert!(impact(&via).stranded(), "excluded from its only other way");
    assert!(!impact(&b).meets_sla());
    assert!(r.policies.iter().all(|p| p.id != a), "untouched");
    let s = r.summary();
    assert_eq!(s.stranded_policies.len(), 2);
    assert!(!s.survives());
}

#[test]
fn the_reroute_places_a_links_policies_against_one_graph_so_overbooking_is_reported() {
    let mut f = small();
    let p1 = add(&mut f, "p1", "pe1", "pe2", 7, 200.0);
    let p2 = add(&mut f, "p2", "pe1", "pe2", 8, 200.0);
    let _p3 = add(&mut f, "p3", "pe1", "pe3", 7, 150.0);
    assert_eq!(links(&f, &p2), ["pe1-pe2"]);
    let r = what_if(
        &f,
        &Failure {
            links: vec!["pe1-pe2".into()],
            ..Default::default()
        },
    )
    .unwrap();
    // Each sees 250 Gb/s free on pe1→pe3 and takes it: 550 of 400.
    assert_eq!(moved_to(&r, &p1), ["pe1-pe3", "pe2-pe3"]);
    assert_eq!(moved_to(&r, &p2), ["pe1-pe3", "pe2-pe3"]);
    let short: Vec<_> = r
        .shortfalls
        .iter()
        .map(|s| (s.link.as_str(), s.from.as_str(), s.short_gbps()))
        .collect();
    assert_eq!(short, [("pe1-pe3", "pe1", 150.0)], "{:?}", r.shortfalls);
}

#[test]
fn a_lost_wavelength_is_stranded_with_the_link_it_carries() {
    let mut f = small();
    let a = add(&mut f, "a", "pe2", "pe3", 7, 0.0);
    let spec = WavelengthSpec {
        name: "w".into(),
        a: "ot1".into(),
        b: "ot2".into(),
        carries_link: "pe2-pe3".into(),
        ..Default::default()
    };
    f.hold_wavelength(WavelengthRecord {
        id: "wl-1".into(),
        spec,
        plan: WavelengthPlan {
            fibers: vec!["ot1-ot2".into()],
            nodes: vec!["ot1".into(), "ot2".into()],
            channel: 0,
            frequency_mhz: 191_300_000,
            length_km: 60.0,
            osnr_db: 30.0,
            required_osnr_db: 20.0,
            margin_db: 10.0,
            mode: 1,
            planned_margin_db: 4.0,
        },
        mode: 1,
        power_dbm: 0.0,
        a_port: "line-1".into(),
        b_port: "line-1".into(),
        a_logical: 1,
        b_logical: 1,
        carried_srlgs: Default::default(),
        revision: 1,
        live: Default::default(),
        measured_osnr_db: None,
        below_prediction: false,
    });
    f.reveal([&"wl-1".to_string()]);
    let r = what_if(
        &f,
        &Failure {
            nodes: vec!["ot2".into()],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.wavelengths.len(), 1);
    assert!(
        r.wavelengths[0].reason.contains("not re-planned"),
        "{:?}",
        r.wavelengths
    );
    assert_eq!(r.failed_links, ["pe1-pe2", "pe2-pe3"]);
    // pe2's both links are down (one with the fiber, one with the
    // wavelength): nowhere to go.
    assert!(r.policies.iter().find(|p| p.id == a).unwrap().stranded());
    f.release_held(Kind::Wavelength, "wl-1");
}

#[test]
fn unknown_names_are_not_found_by_their_field() {
    let f = small();
    let e = |failure: Failure| check(&f, &failure).unwrap_err().to_string();
    assert_eq!(
        e(Failure {
            fibers: vec!["ot1-ot2".into(), "pe1-pe2".into()],
            ..Default::default()
        }),
        "fail_fibers[1]: fiber \"pe1-pe2\" not found"
    );
    assert_eq!(
        e(Failure {
            links: vec!["nope".into()],
            ..Default::default()
        }),
        "fail_links[0]: packet link \"nope\" not found"
    );
    assert_eq!(
        e(Failure {
            srlgs: vec![500, 7],
            ..Default::default()
        }),
        "fail_srlgs[1]: SRLG 7 (no link carries it) not found"
    );
    assert_eq!(
        e(Failure {
            nodes: vec!["pe9".into()],
            ..Default::default()
        }),
        "fail_nodes[0]: node \"pe9\" not found"
    );
    assert!(e(Failure {
        nodes: vec!["pe1".into(); limits::EXCLUSIONS + 1],
        ..Default::default()
    })
    .starts_with("fail_nodes: "));
}

#[test]
fn survivability_walks_every_srlg_and_node_and_agrees_with_each_what_if() {
    let mut f = small();
    add(&mut f, "a", "pe1", "pe2", 7, 200.0);
    add(&mut f, "b", "pe2", "pe3", 7, 300.0);
    add(&mut f, "c", "pe1", "pe3", 7, 300.0);
    let mut seen = Vec::new();
    let table = survivability(&f, |done, total| seen.push((done, total)));
    let elements: Vec<String> = table.iter().map(|(e, _)| e.to_string()).collect();
    assert_eq!(
        elements,
        ["srlg 500", "node pe1", "node pe2", "node pe3", "node ot1", "node ot2"]
    );
    assert_eq!(seen.last(), Some(&(6, 6)));
    for (e, summary) in &table {
        let alone = what_if(&f, &e.failure()).unwrap().summary();
        assert_eq!(&alone, summary, "{e}: the scratch graph was put back");
    }
    // Cutting the fiber sends 200 Gb/s onto links already 300 of 400 full.
    let srlg = &table[0].1;
    assert_eq!(srlg.stranded_policies.len(), 1, "{srlg:?}");
    assert!(!srlg.survives());
}

#[test]
fn survivability_on_many_threads_equals_one_thread_and_can_stop_early() {
    let mut f = small();
    add(&mut f, "a", "pe1", "pe2", 7, 200.0);
    add(&mut f, "b", "pe2", "pe3", 7, 300.0);
    add(&mut f, "c", "pe1", "pe3", 7, 300.0);
    let view = View::all(&f);
    let elements = view.elements();
    let one = view.survivability_on(&elements, 1, |_, _| true);
    for workers in [2, 3, 8] {
        let mut seen = Vec::new();
        let many = view.survivability_on(&elements, workers, |done, total| {
            seen.push((done, total));
            true
        });
        assert_eq!(many, one, "{workers} threads");
        // Progress counts up by one to the total, whatever order rows finish.
        let counts: Vec<usize> = seen.iter().map(|(d, _)| *d).collect();
        assert_eq!(counts, (1..=elements.len()).collect::<Vec<_>>());
    }
    // A caller that goes away after two results gets two rows (and the
    // threads stop), each equal to its row in the full table.
    let some = view.survivability_on(&elements, 2, |done, _| done < 2);
    assert_eq!(some.len(), 2);
    for row in &some {
        assert!(one.contains(row), "{row:?}");
    }
}

#[test]
fn what_ifs_resuming_kept_igp_trees_answer_as_fresh_ones() {
    let mut f = small();
    add(&mut f, "a", "pe1", "pe2", 7, 10.0);
    add(&mut f, "b", "pe2", "pe1", 7, 10.0);
    add(&mut f, "c", "pe1", "pe3", 7, 10.0);
    let mut trees = crate::pathcomp::IgpTrees::default();
    let view = View::all(&f);
    for e in view.elements() {
        let fresh = view.what_if(&e.failure()).unwrap();
        let resumed = view.what_if_with(&e.failure(), &mut trees).unwrap();
        assert_eq!(resumed, fresh, "{e}");
    }
    // Kept trees from another IGP view are not used: a metric change moves
    // the SID lists, and the answer follows it.
    let mut g = f.graph.clone();
    let e0 = g.edges_of_link("pe1-pe2").next().unwrap();
    g.update_edge(e0, |e| e.igp_metric = 1000);
    let (a, b) = (g.node_id("pe1").unwrap(), g.node_id("pe2").unwrap());
    let mut spf = IgpSpf::resume(&g, trees.clone());
    let fresh = IgpSpf::new(&g).distance(a, b);
    assert_ne!(IgpSpf::resume(&f.graph, trees).distance(a, b), fresh);
    assert_eq!(spf.distance(a, b), fresh);
}
