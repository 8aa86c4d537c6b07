//! The shipped example fabric, end to end.

use std::collections::BTreeSet;

use super::optical::{self, FiberGraph, Spectrum};
use super::*;

fn us_metro() -> crate::model::Topology {
    crate::topology::parse_str(include_str!("../../../../../examples/us-metro.yaml"))
        .expect("the example parses")
}

#[test]
fn seattle_to_virginia_on_latency_compresses_within_depth() {
    let g = TeGraph::packet_layer(&us_metro());
    let (s, d) = (g.node_id("sea-pe1").unwrap(), g.node_id("nva-pe1").unwrap());
    let p = cspf(&g, s, d, &Constraints::default()).unwrap();
    assert!(p.edges.len() >= 3 && p.latency_us > 10_000, "{p:?}");
    let segs = compress(&g, &p, Some(10)).unwrap();
    assert!(!segs.is_empty() && segs.len() < 12, "{segs:?}");
    assert_eq!(expand(&g, s, &segs), Some(p.edges.clone()));
    // the next few routes are no faster, and all distinct
    let ks = k_shortest(&g, s, d, &Constraints::default(), 5);
    assert_eq!(ks.len(), 5);
    assert_eq!(ks[0], p);
    assert!(ks.windows(2).all(|w| w[0].sort_key() < w[1].sort_key()));
}

#[test]
fn planes_and_bounds_on_the_example() {
    let g = TeGraph::packet_layer(&us_metro());
    let (s, d) = (g.node_id("sea-pe1").unwrap(), g.node_id("nva-pe1").unwrap());
    let plane1 = Constraints {
        include_any: ["plane-1".to_string()].into_iter().collect(),
        ..Default::default()
    };
    let p = cspf(&g, s, d, &plane1).unwrap();
    assert!(
        p.links(&g).iter().all(|l| l.ends_with("-p1")),
        "{:?}",
        p.links(&g)
    );
    // IGP path under a bound no looser than the fastest path's latency
    let fastest = cspf(&g, s, d, &Constraints::default()).unwrap();
    let c = Constraints {
        metric: Metric::Igp,
        max_latency_us: Some(fastest.latency_us),
        ..Default::default()
    };
    let p = cspf(&g, s, d, &c).unwrap();
    assert!(p.latency_us <= fastest.latency_us);
    let c = Constraints {
        max_latency_us: Some(fastest.latency_us - 1),
        ..c
    };
    assert_eq!(
        cspf(&g, s, d, &c),
        Err(PathError::LatencyBound {
            best_us: fastest.latency_us,
            bound_us: fastest.latency_us - 1
        })
    );
}

#[test]
fn protection_pairs_on_the_example() {
    let g = TeGraph::packet_layer(&us_metro());
    let (s, d) = (g.node_id("sea-pe1").unwrap(), g.node_id("nva-pe1").unwrap());
    for kind in [Disjointness::Link, Disjointness::Node, Disjointness::Srlg] {
        let (a, b) = disjoint_pair(&g, s, d, &Constraints::default(), kind).unwrap();
        assert!(are_disjoint(&g, &a, &b, kind), "{kind:?}");
        let again = disjoint_from(&g, s, d, &Constraints::default(), &a, kind).unwrap();
        assert!(are_disjoint(&g, &a, &again, kind));
        assert!(again.sort_key() <= b.sort_key(), "{kind:?}");
    }
    // the two planes ride the same fibers: plane-2 is link- but not
    // SRLG-disjoint from plane-1's path
    let p1 = cspf(&g, s, d, &Constraints::default()).unwrap();
    let plane2 = Constraints {
        include_any: ["plane-2".to_string()].into_iter().collect(),
        ..Default::default()
    };
    let (s2, d2) = (g.node_id("sea-pe2").unwrap(), g.node_id("nva-pe2").unwrap());
    let q = cspf(&g, s2, d2, &plane2).unwrap();
    assert!(!p1.srlgs(&g).is_disjoint(&q.srlgs(&g)));
}

#[test]
fn wavelengths_on_the_example() {
    let t = us_metro();
    let g = FiberGraph::from_topology(&t);
    let mut s = Spectrum::default();
    let offered = optical::ranked(&optical::all_mode_ids());
    let none = BTreeSet::new();
    let ask = |modes| optical::Ask {
        modes,
        hints: &offered,
        tx_power_dbm: -10.0,
        margin_db: 1.0,
        k: 4,
        exclude_fibers: &none,
    };
    // 296 km between metros is past 400ZR's CD tolerance: OpenZR+ 400G
    let zr = [optical::mode(1).unwrap()];
    match optical::plan_wavelength(&g, &s, "sea-ot1", "pdx-ot1", &ask(&zr)) {
        Err(e) => assert_eq!(
            e.to_string(),
            "on the shortest route (296.3 km) CD 4,948 ps/nm exceeds 400ZR's 2,400 ps/nm; \
             OpenZR+ 400G would fit"
        ),
        Ok(p) => panic!("{p:?}"),
    }
    let p = optical::plan_wavelength(&g, &s, "sea-ot1", "pdx-ot1", &ask(&offered)).unwrap();
    assert_eq!(
        (p.fibers.clone(), p.channel, p.mode),
        (vec!["sea-pdx-f1".to_string()], 0, 2)
    );
    s.occupy(&p.fibers, p.channel, p.mode);
    let q = optical::plan_wavelength(&g, &s, "sea-ot1", "pdx-ot1", &ask(&offered)).unwrap();
    assert_eq!(q.channel, 1);
    // the intra-metro DCI fiber is what 400ZR is for
    let dci = optical::plan_wavelength(&g, &s, "nva-ot1", "nva-ot2", &ask(&offered)).unwrap();
    assert_eq!(
        (dci.mode, dci.fibers.clone()),
        (1, vec!["nva-dci-f1".to_string()])
    );
    // and no inter-metro fiber takes 400ZR
    for l in t
        .links
        .iter()
        .filter(|l| l.layer == crate::model::Layer::Fiber)
    {
        let zr_fits = optical::plan_wavelength(&g, &s, &l.a.node, &l.b.node, &ask(&zr))
            .is_ok_and(|p| p.fibers == [l.name.clone()]);
        assert_eq!(zr_fits, l.name == "nva-dci-f1", "{}", l.name);
    }
    // coast to coast closes only at a lower rate
    let far = optical::plan_wavelength(&g, &s, "sea-ot1", "nva-ot1", &ask(&offered)).unwrap();
    assert!(optical::mode(far.mode).unwrap().rate_gbps < 400, "{far:?}");
}
