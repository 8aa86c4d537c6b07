use std::collections::BTreeSet;

use super::oracle;
use super::*;

#[test]
fn cspf_is_the_best_feasible_path_by_brute_force() {
    let (mut found, mut bounded_detour, mut over_bound, mut none) = (0, 0, 0, 0);
    for seed in 0..1500u64 {
        let mut r = Rng::new(seed ^ 0xC5);
        let n = 5 + r.below(4) as usize;
        let links = n + r.below(n as u64 + 4) as usize;
        let g = random_graph(seed, n, links);
        let c = random_constraints(&mut r, n, links, true);
        let (src, dst) = (0, n - 1);
        let want = oracle::sorted_feasible(&g, &c, src, dst);
        let unbounded = Constraints {
            max_latency_us: None,
            ..c.clone()
        };
        let allowed = oracle::sorted_feasible(&g, &unbounded, src, dst);
        match cspf(&g, src, dst, &c) {
            Ok(p) => {
                let best = want.first().unwrap_or_else(|| panic!("seed {seed}: {p:?}"));
                assert_eq!(&p.sort_key(), best, "seed {seed} {c:?}");
                assert_eq!(p.nodes.len(), p.edges.len() + 1);
                assert_eq!(p.latency_us, oracle::latency_of(&g, &p.edges));
                found += 1;
                if allowed.first() != Some(best) {
                    bounded_detour += 1;
                }
            }
            Err(PathError::LatencyBound { best_us, bound_us }) => {
                assert!(want.is_empty(), "seed {seed}: a path meets the bound");
                let fastest = allowed.iter().map(|k| k.1).min();
                assert_eq!(Some(best_us), fastest, "seed {seed}");
                assert_eq!(Some(bound_us), c.max_latency_us);
                assert!(best_us > bound_us);
                over_bound += 1;
            }
            Err(PathError::NoPath { .. }) => {
                assert!(
                    allowed.is_empty(),
                    "seed {seed} {c:?}: oracle has {allowed:?}"
                );
                none += 1;
            }
            Err(e) => panic!("seed {seed}: {e}"),
        }
    }
    // the cases the test is for all happened often enough to mean something
    assert!(found > 250, "{found}");
    assert!(bounded_detour > 10, "{bounded_detour}");
    assert!(over_bound > 10, "{over_bound}");
    assert!(none > 10, "{none}");
}

/// The exact constrained search itself: metric ≠ latency, and a bound
/// strictly between the fastest path's latency and the metric-shortest
/// path's, so the plain Dijkstra answer is always over it.
#[test]
fn bound_between_fastest_and_cheapest_matches_brute_force() {
    let mut checked = 0;
    for seed in 0..800u64 {
        let mut r = Rng::new(seed ^ 0xB7);
        let n = 6 + r.below(3) as usize;
        let links = 2 * n + r.below(6) as usize;
        let g = random_graph(seed, n, links);
        let metric = [Metric::Igp, Metric::Te, Metric::Hops][r.below(3) as usize];
        let mut c = Constraints {
            metric,
            ..Default::default()
        };
        let all = oracle::sorted_feasible(&g, &c, 0, n - 1);
        let (Some(cheapest), Some(fastest)) = (all.first(), all.iter().map(|k| k.1).min()) else {
            continue;
        };
        if cheapest.1 <= fastest {
            continue;
        }
        c.max_latency_us = Some(fastest + r.below(cheapest.1 - fastest));
        let want = oracle::sorted_feasible(&g, &c, 0, n - 1);
        let got = cspf(&g, 0, n - 1, &c).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(Some(&got.sort_key()), want.first(), "seed {seed} {c:?}");
        checked += 1;
    }
    assert!(checked > 200, "{checked}");
}

/// a —1— b —1— d (slow: 100 µs each) and a —5— c —5— d (fast: 10 µs each)
fn two_routes() -> TeGraph {
    let mut g = TeGraph::new(nodes(4, |_| true));
    let slow = |e: &mut TeEdge| {
        e.igp_metric = 1;
        e.latency_us = 100;
    };
    let fast = |e: &mut TeEdge| {
        e.igp_metric = 5;
        e.latency_us = 10;
    };
    link(&mut g, "ab", 0, 1, slow);
    link(&mut g, "bd", 1, 3, slow);
    link(&mut g, "ac", 0, 2, fast);
    link(&mut g, "cd", 2, 3, fast);
    g
}

#[test]
fn a_bound_moves_the_igp_path_to_a_costlier_one_that_meets_it() {
    let g = two_routes();
    let mut c = Constraints {
        metric: Metric::Igp,
        ..Default::default()
    };
    let p = cspf(&g, 0, 3, &c).unwrap();
    assert_eq!(p.links(&g), ["ab", "bd"]);
    assert_eq!((p.cost, p.latency_us), (2, 200));
    c.max_latency_us = Some(50);
    let p = cspf(&g, 0, 3, &c).unwrap();
    assert_eq!(p.links(&g), ["ac", "cd"]);
    assert_eq!((p.cost, p.latency_us), (10, 20));
    c.max_latency_us = Some(19);
    assert_eq!(
        cspf(&g, 0, 3, &c),
        Err(PathError::LatencyBound {
            best_us: 20,
            bound_us: 19
        })
    );
    let msg = cspf(&g, 0, 3, &c).unwrap_err().to_string();
    assert!(msg.contains("20 µs") && msg.contains("19 µs"), "{msg}");
}

#[test]
fn latency_metric_checks_the_bound_directly() {
    let g = two_routes();
    let c = Constraints {
        max_latency_us: Some(10),
        ..Default::default()
    };
    assert_eq!(
        cspf(&g, 0, 3, &c),
        Err(PathError::LatencyBound {
            best_us: 20,
            bound_us: 10
        })
    );
}

#[test]
fn endpoints_are_never_excluded_and_a_loop_request_is_an_error() {
    let g = two_routes();
    let c = Constraints {
        exclude_nodes: ["n0", "n3", "n2"].iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let p = cspf(&g, 0, 3, &c).unwrap();
    assert_eq!(p.node_names(&g), ["n0", "n1", "n3"]);
    match cspf(&g, 1, 1, &Constraints::default()) {
        Err(PathError::NoPath { reason, .. }) => assert!(reason.contains("same node")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        cspf(&g, 0, 9, &Constraints::default()),
        Err(PathError::UnknownNode(_))
    ));
}

#[test]
fn no_path_says_what_was_pruned() {
    let mut g = two_routes();
    g.set_link_up("bd", false);
    g.update_link("ac", |e| e.reserved_gbps = 80.0);
    let c = Constraints {
        bandwidth_gbps: 50.0,
        ..Default::default()
    };
    match cspf(&g, 0, 3, &c) {
        Err(PathError::NoPath { from, to, reason }) => {
            assert_eq!((from.as_str(), to.as_str()), ("n0", "n3"));
            assert!(reason.contains("1 link down"), "{reason}");
            assert!(
                reason.contains("1 link without 50 Gbps of free bandwidth"),
                "{reason}"
            );
            assert!(reason.contains("no route remains"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // an island is not the constraints' fault
    let mut g = TeGraph::new(nodes(3, |_| true));
    link(&mut g, "ab", 0, 1, |_| {});
    match cspf(&g, 0, 2, &Constraints::default()) {
        Err(PathError::NoPath { reason, .. }) => assert!(reason.contains("no chain"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn admin_groups_follow_rfc_3630() {
    let mut g = TeGraph::new(nodes(4, |_| true));
    let groups = |gs: &'static [&'static str]| {
        move |e: &mut TeEdge| e.admin_groups = gs.iter().map(|s| s.to_string()).collect()
    };
    link(&mut g, "ab", 0, 1, groups(&["gold", "red"]));
    link(&mut g, "bd", 1, 3, groups(&["gold"]));
    link(&mut g, "ac", 0, 2, groups(&["silver"]));
    link(&mut g, "cd", 2, 3, groups(&["silver", "red"]));
    let set = |gs: &[&str]| gs.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let route = |c: Constraints| cspf(&g, 0, 3, &c).map(|p| p.links(&g));
    let ab = Ok(vec!["ab".to_string(), "bd".to_string()]);
    let ac = Ok(vec!["ac".to_string(), "cd".to_string()]);
    assert_eq!(
        route(Constraints {
            include_any: set(&["gold", "blue"]),
            ..Default::default()
        }),
        ab
    );
    assert_eq!(
        route(Constraints {
            include_any: set(&["silver"]),
            ..Default::default()
        }),
        ac
    );
    assert!(route(Constraints {
        include_all: set(&["gold", "red"]),
        ..Default::default()
    })
    .is_err());
    assert_eq!(
        route(Constraints {
            exclude_any: set(&["gold"]),
            ..Default::default()
        }),
        ac
    );
}

#[test]
fn ties_break_on_latency_then_hops_then_edge_ids() {
    // three equal-IGP routes a→d: via b (2 hops), via c (2 hops), direct with
    // IGP 2 (1 hop); equal latency everywhere except where noted
    let mut g = TeGraph::new(nodes(4, |_| true));
    let m = |igp: u32, lat: u32| {
        move |e: &mut TeEdge| {
            e.igp_metric = igp;
            e.latency_us = lat;
        }
    };
    link(&mut g, "ac", 0, 2, m(1, 5));
    link(&mut g, "cd", 2, 3, m(1, 5));
    link(&mut g, "ab", 0, 1, m(1, 5));
    link(&mut g, "bd", 1, 3, m(1, 5));
    link(&mut g, "ad", 0, 3, m(2, 10));
    let c = Constraints {
        metric: Metric::Igp,
        ..Default::default()
    };
    // all cost 2, latency 10: the direct link has the fewest hops
    assert_eq!(cspf(&g, 0, 3, &c).unwrap().links(&g), ["ad"]);
    g.set_link_latency("ad", 11);
    // now the two 2-hop routes tie on everything but edge ids: "ac" came first
    let p = cspf(&g, 0, 3, &c).unwrap();
    assert_eq!(p.links(&g), ["ac", "cd"]);
    g.set_link_latency("ab", 4);
    assert_eq!(cspf(&g, 0, 3, &c).unwrap().links(&g), ["ab", "bd"]);
    // the same input always gives the same answer
    let again: Vec<Path> = (0..5).map(|_| cspf(&g, 0, 3, &c).unwrap()).collect();
    assert!(again.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn unconstrained_cspf_agrees_with_petgraph_dijkstra() {
    use petgraph::graph::{DiGraph, NodeIndex};
    let n = 1000;
    let mut r = Rng::new(77);
    let mut g = TeGraph::new(nodes(n, |_| true));
    let mut pg: DiGraph<(), u64> = DiGraph::new();
    let idx: Vec<NodeIndex> = (0..n).map(|_| pg.add_node(())).collect();
    for l in 0..4 * n {
        let a = r.below(n as u64) as usize;
        let b = r.below(n as u64) as usize;
        if a == b {
            continue;
        }
        let te = 1 + r.below(1000) as u32;
        link(&mut g, &format!("l{l}"), a, b, |e| e.te_metric = te);
        pg.add_edge(idx[a], idx[b], u64::from(te));
        pg.add_edge(idx[b], idx[a], u64::from(te));
    }
    let c = Constraints {
        metric: Metric::Te,
        ..Default::default()
    };
    for src in [0usize, 17, 999] {
        let dist = petgraph::algo::dijkstra(&pg, idx[src], None, |e| *e.weight());
        for dst in (0..n).step_by(37).filter(|&d| d != src) {
            match cspf(&g, src, dst, &c) {
                Ok(p) => assert_eq!(Some(&p.cost), dist.get(&idx[dst]), "{src}→{dst}"),
                Err(_) => assert!(!dist.contains_key(&idx[dst]), "{src}→{dst}"),
            }
        }
    }
}

#[test]
fn a_sid_depth_limit_picks_the_best_path_that_fits() {
    // fast 0-1-2-3 over links the IGP avoids (3 node SIDs), slower 0-4-3
    // along the IGP shortest path (1 node SID)
    let mut g = TeGraph::new(nodes(5, |_| true));
    let m = |igp: u32, lat: u32| {
        move |e: &mut TeEdge| {
            e.igp_metric = igp;
            e.latency_us = lat;
        }
    };
    link(&mut g, "01", 0, 1, m(100, 1));
    link(&mut g, "12", 1, 2, m(100, 1));
    link(&mut g, "23", 2, 3, m(100, 1));
    link(&mut g, "04", 0, 4, m(1, 10));
    link(&mut g, "43", 4, 3, m(1, 10));
    let mut c = Constraints::default();
    let fast = cspf(&g, 0, 3, &c).unwrap();
    assert_eq!(fast.links(&g), ["01", "12", "23"]);
    assert_eq!(compress(&g, &fast, None).unwrap().len(), 3);
    c.max_sid_depth = Some(3);
    assert_eq!(cspf(&g, 0, 3, &c).unwrap(), fast);
    c.max_sid_depth = Some(2);
    let fits = cspf(&g, 0, 3, &c).unwrap();
    assert_eq!(fits.links(&g), ["04", "43"]);
    c.max_sid_depth = Some(0);
    assert_eq!(
        cspf(&g, 0, 3, &c),
        Err(PathError::SidDepth { needed: 1, max: 0 })
    );
    // disjoint_from goes through cspf and inherits the limit
    c.max_sid_depth = Some(1);
    let other = disjoint_from(&g, 0, 3, &c, &fits, Disjointness::Link);
    assert_eq!(other, Err(PathError::SidDepth { needed: 3, max: 1 }));
}

/// CSPF reads edges on demand (`Lazy`); it must say exactly what the
/// materialised `usable` mask and `weights` arrays say, for every edge.
#[test]
fn on_demand_edge_view_matches_the_materialised_one() {
    use crate::pathcomp::constraints::{usable, weights, Lazy};
    use crate::pathcomp::search::Arcs;
    use crate::pathcomp::view::CompactView;
    let mut differ = 0;
    for seed in 0..400u64 {
        let mut r = Rng::new(seed ^ 0x1A2);
        let n = 5 + r.below(6) as usize;
        let links = n + r.below(2 * n as u64) as usize;
        let g = random_graph(seed, n, links);
        let mut c = random_constraints(&mut r, n, links, true);
        if r.chance(3) {
            // several exclusions at once, endpoints among them
            c.exclude_nodes
                .extend(["n0".to_string(), format!("n{}", n / 2)]);
            c.exclude_links.extend(["l0".to_string(), "l1".to_string()]);
        }
        let (src, dst) = (0, n - 1);
        let (ok, _) = usable(&g, &c, src, dst);
        let w = weights(&g, c.metric);
        let lazy = Lazy::new(&g, &c, src, dst);
        let compact = g.compact().expect("small graph");
        let view = CompactView::new(&g, compact, &c, src, dst);
        for (e, &usable) in ok.iter().enumerate() {
            assert_eq!(lazy.ok(e), usable, "seed {seed} edge {e} {c:?}");
            assert_eq!(lazy.cost(e), w.cost[e], "seed {seed} edge {e}");
            assert_eq!(lazy.lat(e), w.lat[e], "seed {seed} edge {e}");
            assert_eq!(view.ok(e), usable, "seed {seed} edge {e} {c:?}");
            assert_eq!(view.cost(e), w.cost[e], "seed {seed} edge {e}");
            assert_eq!(view.lat(e), w.lat[e], "seed {seed} edge {e}");
        }
        // the in-place adjacency walk lists exactly the usable out-edges
        for u in 0..n {
            let mut seen = Vec::new();
            view.each_out(&g, u, |e, v, cost, lat| {
                assert_eq!((v, cost, lat), (g.edges[e].to, w.cost[e], w.lat[e]));
                seen.push(e);
            });
            let want: Vec<EdgeId> = g.out_edges(u).iter().copied().filter(|&e| ok[e]).collect();
            assert_eq!(seen, want, "seed {seed} node {u}");
        }
        differ += ok.iter().filter(|&&o| !o).count();
    }
    assert!(differ > 500, "constraints pruned only {differ} edges");
}

/// Searches read an edge's ends, metrics, state and bandwidth for every edge
/// they relax; the layout keeps those in the record's first cache line.
#[test]
fn the_fields_a_search_reads_share_one_cache_line() {
    use std::mem::{align_of, offset_of, size_of};
    assert_eq!(align_of::<TeEdge>(), 64);
    let hot = [
        offset_of!(TeEdge, from) + size_of::<NodeId>(),
        offset_of!(TeEdge, to) + size_of::<NodeId>(),
        offset_of!(TeEdge, capacity_gbps) + 8,
        offset_of!(TeEdge, reserved_gbps) + 8,
        offset_of!(TeEdge, latency_us) + 4,
        offset_of!(TeEdge, te_metric) + 4,
        offset_of!(TeEdge, igp_metric) + 4,
        offset_of!(TeEdge, up) + 1,
        offset_of!(TeEdge, pruned) + 1,
    ];
    assert!(hot.iter().all(|&end| end <= 64), "{hot:?}");
}

/// The search reads a compact copy of the edges, built once; every change
/// the controller makes (reservations, SRLGs a wavelength adds, state,
/// latency) must show in the very next computation.
#[test]
fn edge_changes_are_seen_by_the_next_cspf() {
    let mut g = two_routes();
    let fast = cspf(&g, 0, 3, &Constraints::default()).unwrap().links(&g);
    let other: Vec<String> = ["ac", "cd", "ab", "bd"]
        .iter()
        .map(|s| s.to_string())
        .filter(|l| !fast.contains(l))
        .collect();
    let bw = Constraints {
        bandwidth_gbps: 50.0,
        ..Default::default()
    };
    assert_eq!(cspf(&g, 0, 3, &bw).unwrap().links(&g), fast);
    // a reservation on the fast route pushes a bandwidth request off it…
    let fast_path = cspf(&g, 0, 3, &bw).unwrap();
    crate::plan::policy::reserve(&mut g, &fast_path, 60.0);
    assert_eq!(cspf(&g, 0, 3, &bw).unwrap().links(&g), other);
    // …and releasing it brings the request back
    crate::plan::policy::release(&mut g, &fast_path, 60.0);
    assert_eq!(cspf(&g, 0, 3, &bw).unwrap().links(&g), fast);
    // an SRLG gained at run time is excluded at once
    let srlg = Constraints {
        exclude_srlgs: [42].into_iter().collect(),
        ..Default::default()
    };
    assert_eq!(cspf(&g, 0, 3, &srlg).unwrap().links(&g), fast);
    g.update_link(&fast[0], |e| {
        e.srlgs.insert(42);
    });
    assert_eq!(cspf(&g, 0, 3, &srlg).unwrap().links(&g), other);
    // state and latency changes too
    g.update_link(&fast[0], |e| {
        e.srlgs.clear();
    });
    g.set_link_up(&fast[0], false);
    assert_eq!(
        cspf(&g, 0, 3, &Constraints::default()).unwrap().links(&g),
        other
    );
    g.set_link_up(&fast[0], true);
    g.set_link_latency(&other[0], 0);
    g.set_link_latency(&other[1], 0);
    assert_eq!(
        cspf(&g, 0, 3, &Constraints::default()).unwrap().links(&g),
        other
    );
    // ends are structure: update_edge leaves them alone
    let e = g.edges_of_link(&fast[0]).next().unwrap();
    let (from, to) = (g.edges[e].from, g.edges[e].to);
    assert!(g.update_edge(e, |x| {
        x.from = 99;
        x.to = 98;
    }));
    assert_eq!((g.edges[e].from, g.edges[e].to), (from, to));
    assert!(!g.update_edge(usize::MAX, |_| {}));
}
