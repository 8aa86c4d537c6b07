use super::oracle;
use super::*;

/// Constraints without a bound: Suurballe's exact territory.
fn unbounded(r: &mut Rng, n: usize, links: usize) -> Constraints {
    random_constraints(r, n, links, false)
}

fn check_pair(g: &TeGraph, c: &Constraints, kind: Disjointness, a: &Path, b: &Path, seed: u64) {
    assert!(
        oracle::disjoint(g, &a.edges, &b.edges, kind),
        "seed {seed} {kind:?}: {a:?} {b:?}"
    );
    let (src, dst) = (a.nodes[0], *a.nodes.last().unwrap());
    for p in [a, b] {
        assert!(oracle::feasible(g, c, src, dst, &p.edges), "seed {seed}");
        assert_eq!(p.cost, oracle::cost_of(g, c.metric, &p.edges));
    }
    assert!(a.sort_key() <= b.sort_key(), "better path first");
}

#[test]
fn link_and_node_disjoint_pairs_have_the_least_total_cost() {
    let mut pairs = 0;
    for seed in 0..600u64 {
        let mut r = Rng::new(seed ^ 0xD1);
        let n = 5 + r.below(4) as usize;
        let links = n + 2 + r.below(n as u64 + 4) as usize;
        let g = random_graph(seed, n, links);
        let c = unbounded(&mut r, n, links);
        for kind in [Disjointness::Link, Disjointness::Node] {
            let want = oracle::best_pair(&g, &c, 0, n - 1, kind);
            match (disjoint_pair(&g, 0, n - 1, &c, kind), want) {
                (Ok((a, b)), Some(t)) => {
                    check_pair(&g, &c, kind, &a, &b, seed);
                    assert_eq!(a.cost + b.cost, t, "seed {seed} {kind:?} {c:?}");
                    pairs += 1;
                }
                (Err(PathError::NotDisjoint { .. } | PathError::NoPath { .. }), None) => {}
                (got, want) => panic!("seed {seed} {kind:?}: got {got:?}, oracle {want:?}"),
            }
        }
    }
    assert!(pairs > 300, "{pairs}");
}

/// The SRLG search is a heuristic, exact only when the better path of the
/// optimal pair is among the 16 candidate first paths. On these graphs
/// (≤ 8 nodes) that always holds, so the test demands the optimum: a pair
/// whenever one exists, never one sharing a risk, and the least total cost.
/// On large meshes the search can miss; that is documented on
/// `disjoint_pair`, not tested here.
#[test]
fn srlg_disjoint_pairs_are_sound_found_and_optimal_on_small_graphs() {
    let mut pairs = 0;
    for seed in 0..400u64 {
        let mut r = Rng::new(seed ^ 0x5A);
        let n = 5 + r.below(4) as usize;
        let links = n + 2 + r.below(n as u64 + 4) as usize;
        let g = random_graph(seed, n, links);
        let c = unbounded(&mut r, n, links);
        let want = oracle::best_pair(&g, &c, 0, n - 1, Disjointness::Srlg);
        match (disjoint_pair(&g, 0, n - 1, &c, Disjointness::Srlg), want) {
            (Ok((a, b)), Some(t)) => {
                check_pair(&g, &c, Disjointness::Srlg, &a, &b, seed);
                assert_eq!(a.cost + b.cost, t, "seed {seed}");
                pairs += 1;
            }
            (Err(PathError::NotDisjoint { .. } | PathError::NoPath { .. }), None) => {}
            (got, want) => panic!("seed {seed}: got {got:?}, oracle {want:?}"),
        }
    }
    assert!(pairs > 100, "{pairs}");
}

/// With a bound both paths must meet it; Suurballe ignores bounds, so an
/// over-bound Suurballe pair falls back to the candidate search (heuristic,
/// but exact on graphs this small, as above).
#[test]
fn bounded_pairs_meet_the_bound_and_are_optimal_on_small_graphs() {
    let mut pairs = 0;
    for seed in 0..300u64 {
        let mut r = Rng::new(seed ^ 0xB0);
        let n = 5 + r.below(4) as usize;
        let links = n + 2 + r.below(n as u64 + 4) as usize;
        let g = random_graph(seed, n, links);
        let mut c = unbounded(&mut r, n, links);
        c.max_latency_us = Some(20 + r.below(40));
        for kind in [Disjointness::Link, Disjointness::Node, Disjointness::Srlg] {
            let want = oracle::best_pair(&g, &c, 0, n - 1, kind);
            match (disjoint_pair(&g, 0, n - 1, &c, kind), want) {
                (Ok((a, b)), Some(t)) => {
                    check_pair(&g, &c, kind, &a, &b, seed);
                    assert_eq!(a.cost + b.cost, t, "seed {seed} {kind:?}");
                    pairs += 1;
                }
                (Err(_), None) => {}
                (got, want) => panic!("seed {seed} {kind:?}: got {got:?}, oracle {want:?}"),
            }
        }
    }
    assert!(pairs > 100, "{pairs}");
}

#[test]
fn disjoint_from_is_the_best_path_disjoint_from_the_existing_one() {
    let mut found = 0;
    for seed in 0..300u64 {
        let mut r = Rng::new(seed ^ 0xF0);
        let n = 5 + r.below(4) as usize;
        let links = n + 2 + r.below(n as u64 + 4) as usize;
        let g = random_graph(seed, n, links);
        let c = random_constraints(&mut r, n, links, true);
        let Ok(existing) = cspf(&g, 0, n - 1, &Constraints::default()) else {
            continue;
        };
        for kind in [Disjointness::Link, Disjointness::Node, Disjointness::Srlg] {
            let want = oracle::all_paths(&g, 0, n - 1)
                .into_iter()
                .filter(|p| oracle::feasible(&g, &c, 0, n - 1, p))
                .filter(|p| oracle::disjoint(&g, p, &existing.edges, kind))
                .map(|p| oracle::key(&g, c.metric, &p))
                .min();
            match (disjoint_from(&g, 0, n - 1, &c, &existing, kind), want) {
                (Ok(p), Some(k)) => {
                    assert_eq!(p.sort_key(), k, "seed {seed} {kind:?}");
                    found += 1;
                }
                (Err(PathError::NotDisjoint { reason, .. }), None) => {
                    assert!(!reason.is_empty())
                }
                (got, want) => panic!("seed {seed} {kind:?}: got {got:?}, oracle {want:?}"),
            }
        }
    }
    assert!(found > 200, "{found}");
}

/// The classic trap: the shortest path a-b-c-z (3) blocks every second path,
/// while a-b-z and a-c-z (4 each) are disjoint.
#[test]
fn suurballe_escapes_the_shortest_path_trap() {
    let mut g = TeGraph::new(nodes(4, |_| true));
    let (a, b, c, z) = (0, 1, 2, 3);
    let w = |m: u32| move |e: &mut TeEdge| e.igp_metric = m;
    link(&mut g, "ab", a, b, w(1));
    link(&mut g, "bc", b, c, w(1));
    link(&mut g, "cz", c, z, w(1));
    link(&mut g, "ac", a, c, w(3));
    link(&mut g, "bz", b, z, w(3));
    let cons = Constraints {
        metric: Metric::Igp,
        ..Default::default()
    };
    assert_eq!(cspf(&g, a, z, &cons).unwrap().links(&g), ["ab", "bc", "cz"]);
    for kind in [Disjointness::Link, Disjointness::Node] {
        let (p, q) = disjoint_pair(&g, a, z, &cons, kind).unwrap();
        assert_eq!(p.links(&g), ["ab", "bz"], "{kind:?}");
        assert_eq!(q.links(&g), ["ac", "cz"], "{kind:?}");
    }
    // the same pair is SRLG-disjoint unless a shared risk joins them
    for link in ["bz", "ac"] {
        g.update_link(link, |e| {
            e.srlgs.insert(7);
        });
    }
    match disjoint_pair(&g, a, z, &cons, Disjointness::Srlg) {
        Err(PathError::NotDisjoint { kind, reason }) => {
            assert_eq!(kind, "SRLG");
            assert!(reason.contains("16 best routes"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_bridge_means_no_disjoint_pair() {
    let mut g = TeGraph::new(nodes(4, |_| true));
    link(&mut g, "ab", 0, 1, |_| {});
    link(&mut g, "ac", 0, 2, |_| {});
    link(&mut g, "bc", 1, 2, |_| {});
    link(&mut g, "cd", 2, 3, |_| {});
    match disjoint_pair(&g, 0, 3, &Constraints::default(), Disjointness::Link) {
        Err(PathError::NotDisjoint { reason, .. }) => {
            assert!(reason.contains("common link"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // node-disjoint fails on a cut node even where links are redundant
    link(&mut g, "cd2", 2, 3, |_| {});
    assert!(disjoint_pair(&g, 0, 3, &Constraints::default(), Disjointness::Link).is_ok());
    assert!(matches!(
        disjoint_pair(&g, 0, 3, &Constraints::default(), Disjointness::Node),
        Err(PathError::NotDisjoint { .. })
    ));
}
