//! Every answer checked against brute force on small random graphs.

use std::collections::BTreeSet;

use super::*;

/// Deterministic xorshift, so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_graph(seed: u64, n: usize, links: usize) -> TeGraph {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let nodes = (0..n)
        .map(|i| TeNode {
            name: format!("n{i}"),
            node_sid: Some(16000 + i as u32),
        })
        .collect();
    let mut g = TeGraph::new(nodes);
    for l in 0..links {
        let a = r.below(n as u64) as usize;
        let mut b = r.below(n as u64) as usize;
        if a == b {
            b = (b + 1) % n;
        }
        let latency = 1 + r.below(20) as u32;
        let igp = 1 + r.below(3) as u32;
        let srlg = r.below(6) as u32;
        let group = if r.below(3) == 0 { "gold" } else { "silver" };
        for (from, to) in [(a, b), (b, a)] {
            g.add_edge(TeEdge {
                link: format!("l{l}"),
                from,
                to,
                latency_us: latency,
                te_metric: 1 + (latency % 7),
                igp_metric: igp,
                capacity_gbps: 100.0,
                reserved_gbps: if r.below(5) == 0 { 95.0 } else { 0.0 },
                srlgs: [srlg].into_iter().collect(),
                admin_groups: [group.to_string()].into_iter().collect(),
                up: true,
                pruned: false,
                adj_sid: 0,
            });
        }
    }
    g
}

/// All simple paths src → dst (edge sequences).
fn all_paths(g: &TeGraph, src: NodeId, dst: NodeId) -> Vec<Vec<EdgeId>> {
    fn go(
        g: &TeGraph,
        at: NodeId,
        dst: NodeId,
        seen: &mut Vec<bool>,
        cur: &mut Vec<EdgeId>,
        out: &mut Vec<Vec<EdgeId>>,
    ) {
        if at == dst {
            out.push(cur.clone());
            return;
        }
        for &e in g.out_edges(at) {
            let v = g.edges[e].to;
            if seen[v] {
                continue;
            }
            seen[v] = true;
            cur.push(e);
            go(g, v, dst, seen, cur, out);
            cur.pop();
            seen[v] = false;
        }
    }
    let mut seen = vec![false; g.nodes.len()];
    seen[src] = true;
    let mut out = Vec::new();
    go(g, src, dst, &mut seen, &mut Vec::new(), &mut out);
    out
}

fn feasible(g: &TeGraph, c: &Constraints, src: NodeId, dst: NodeId, edges: &[EdgeId]) -> bool {
    let (ok, _) = cspf::usable(g, c, src, dst);
    let lat: u64 = edges
        .iter()
        .map(|e| u64::from(g.edges[*e].latency_us))
        .sum();
    edges.iter().all(|e| ok[*e]) && c.max_latency_us.is_none_or(|b| lat <= b)
}

fn cost(g: &TeGraph, c: &Constraints, edges: &[EdgeId]) -> u64 {
    edges
        .iter()
        .map(|e| cspf::edge_cost(&g.edges[*e], c.metric))
        .sum()
}

fn constraint_variants(seed: u64) -> Vec<Constraints> {
    let metrics = [Metric::Latency, Metric::Igp, Metric::Te, Metric::Hops];
    let mut r = Rng(seed | 1);
    (0..4)
        .map(|i| Constraints {
            metric: metrics[i % 4],
            max_latency_us: if r.below(2) == 0 {
                Some(10 + r.below(40))
            } else {
                None
            },
            bandwidth_gbps: if r.below(3) == 0 { 10.0 } else { 0.0 },
            exclude_any: if r.below(4) == 0 {
                ["gold".to_string()].into_iter().collect()
            } else {
                BTreeSet::new()
            },
            exclude_srlgs: if r.below(4) == 0 {
                [r.below(6) as u32].into_iter().collect()
            } else {
                BTreeSet::new()
            },
            ..Default::default()
        })
        .collect()
}

#[test]
fn cspf_matches_brute_force() {
    let mut checked = 0;
    for seed in 1..120u64 {
        let g = random_graph(seed, 7, 11);
        for c in constraint_variants(seed) {
            let paths = all_paths(&g, 0, 6);
            let best = paths
                .iter()
                .filter(|p| feasible(&g, &c, 0, 6, p))
                .map(|p| cost(&g, &c, p))
                .min();
            match (cspf(&g, 0, 6, &c), best) {
                (Ok(p), Some(b)) => {
                    assert_eq!(p.cost, b, "seed {seed} {c:?}");
                    assert!(feasible(&g, &c, 0, 6, &p.edges));
                    checked += 1;
                }
                (Err(_), None) => {}
                (got, want) => panic!("seed {seed} {c:?}: got {got:?}, oracle {want:?}"),
            }
        }
    }
    assert!(checked > 100, "only {checked} feasible cases");
}

#[test]
fn k_shortest_returns_the_k_cheapest() {
    for seed in 1..60u64 {
        let g = random_graph(seed, 6, 10);
        let c = Constraints {
            metric: Metric::Te,
            ..Default::default()
        };
        let mut costs: Vec<u64> = all_paths(&g, 0, 5)
            .iter()
            .filter(|p| feasible(&g, &c, 0, 5, p))
            .map(|p| cost(&g, &c, p))
            .collect();
        costs.sort();
        let got: Vec<u64> = k_shortest(&g, 0, 5, &c, 5).iter().map(|p| p.cost).collect();
        costs.truncate(5);
        assert_eq!(got, costs, "seed {seed}");
    }
}

fn inner_nodes(g: &TeGraph, p: &[EdgeId]) -> BTreeSet<NodeId> {
    p.iter().skip(1).map(|e| g.edges[*e].from).collect()
}

fn links_of(g: &TeGraph, p: &[EdgeId]) -> BTreeSet<String> {
    p.iter().map(|e| g.edges[*e].link.clone()).collect()
}

#[test]
fn disjoint_pairs_are_optimal_for_link_and_node() {
    for seed in 1..80u64 {
        let g = random_graph(seed, 6, 11);
        let c = Constraints {
            metric: Metric::Igp,
            ..Default::default()
        };
        let paths: Vec<Vec<EdgeId>> = all_paths(&g, 0, 5);
        for kind in [Disjointness::Link, Disjointness::Node] {
            let mut best: Option<u64> = None;
            for (i, a) in paths.iter().enumerate() {
                for b in &paths[i + 1..] {
                    let ok = links_of(&g, a).is_disjoint(&links_of(&g, b))
                        && (kind == Disjointness::Link
                            || inner_nodes(&g, a).is_disjoint(&inner_nodes(&g, b)));
                    if ok {
                        let t = cost(&g, &c, a) + cost(&g, &c, b);
                        best = Some(best.map_or(t, |x| x.min(t)));
                    }
                }
            }
            match (disjoint_pair(&g, 0, 5, &c, kind), best) {
                (Ok((a, b)), Some(t)) => {
                    assert_eq!(a.cost + b.cost, t, "seed {seed} {kind:?}");
                    assert!(links_of(&g, &a.edges).is_disjoint(&links_of(&g, &b.edges)));
                }
                (Err(_), None) => {}
                (got, want) => panic!("seed {seed} {kind:?}: got {got:?}, oracle {want:?}"),
            }
        }
    }
}

#[test]
fn srlg_disjoint_pairs_are_sound_and_found_when_they_exist() {
    for seed in 1..80u64 {
        let g = random_graph(seed, 6, 12);
        let c = Constraints::default();
        let paths = all_paths(&g, 0, 5);
        let srlgs = |p: &[EdgeId]| -> BTreeSet<u32> {
            p.iter()
                .flat_map(|e| g.edges[*e].srlgs.iter().copied())
                .collect()
        };
        let exists = paths.iter().enumerate().any(|(i, a)| {
            paths[i + 1..]
                .iter()
                .any(|b| srlgs(a).is_disjoint(&srlgs(b)))
        });
        match disjoint_pair(&g, 0, 5, &c, Disjointness::Srlg) {
            Ok((a, b)) => assert!(srlgs(&a.edges).is_disjoint(&srlgs(&b.edges)), "seed {seed}"),
            Err(e) => assert!(!exists, "seed {seed}: a pair exists but got {e}"),
        }
    }
}

#[test]
fn compressed_sids_expand_back_to_the_path() {
    for seed in 1..150u64 {
        let g = random_graph(seed, 7, 12);
        for p in k_shortest(&g, 0, 6, &Constraints::default(), 4) {
            let segs = compress(&g, &p, None).unwrap();
            assert!(!segs.is_empty() && segs.len() <= p.edges.len());
            assert_eq!(expand(&g, 0, &segs), Some(p.edges.clone()), "seed {seed}");
        }
    }
}

#[test]
fn igp_shortest_path_is_one_node_sid_and_ecmp_needs_more() {
    // square a-b-d and a-c-d, equal IGP: ECMP from a to d
    let nodes = ["a", "b", "c", "d"]
        .iter()
        .enumerate()
        .map(|(i, n)| TeNode {
            name: n.to_string(),
            node_sid: Some(16001 + i as u32),
        })
        .collect();
    let mut g = TeGraph::new(nodes);
    for (l, a, b) in [("ab", 0, 1), ("bd", 1, 3), ("ac", 0, 2), ("cd", 2, 3)] {
        for (x, y) in [(a, b), (b, a)] {
            g.add_edge(TeEdge {
                link: l.into(),
                from: x,
                to: y,
                latency_us: 10,
                te_metric: 10,
                igp_metric: 10,
                capacity_gbps: 100.0,
                reserved_gbps: 0.0,
                srlgs: BTreeSet::new(),
                admin_groups: BTreeSet::new(),
                up: true,
                pruned: false,
                adj_sid: 0,
            });
        }
    }
    let p = cspf(&g, 0, 3, &Constraints::default()).unwrap();
    let segs = compress(&g, &p, None).unwrap();
    // a→d is ECMP, so the path needs the middle node's SID first
    assert_eq!(segs.len(), 2, "{segs:?}");
    assert!(matches!(segs[1], Segment::Node { label: 16004, .. }));
    // break the tie: now a→b→d is the unique IGP path, one SID
    g.set_link_up("cd", false);
    let p = cspf(&g, 0, 3, &Constraints::default()).unwrap();
    assert_eq!(compress(&g, &p, None).unwrap().len(), 1);
    assert!(matches!(
        compress(&g, &p, Some(0)),
        Err(PathError::SidDepth { needed: 1, max: 0 })
    ));
}

#[test]
fn latency_bound_reports_the_numbers() {
    let g = random_graph(3, 6, 10);
    let c = Constraints {
        max_latency_us: Some(1),
        ..Default::default()
    };
    if let Err(e) = cspf(&g, 0, 5, &c) {
        let msg = e.to_string();
        assert!(msg.contains("bound") || msg.contains("no path"), "{msg}");
    }
}

#[test]
fn optical_grid_spectrum_and_feasibility() {
    use optical::*;
    assert_eq!(channel_frequency_mhz(0), 191_300_000);
    assert_eq!(channel_frequency_mhz(CHANNEL_COUNT - 1), 196_100_000);
    for i in 0..CHANNEL_COUNT {
        assert_eq!(channel_index(channel_frequency_mhz(i)), Some(i));
    }
    assert_eq!(channel_index(193_150_000), None);
    // one fiber: the textbook formula
    let len = 400.0;
    let n = (len / 80.0f64).ceil();
    let expect = 58.0 - 5.5 - (len / n) * 0.22 - 10.0 * n.log10();
    assert!((estimated_osnr_db(&[len]) - expect).abs() < 1e-9);
    let t = crate::topology::parse_str(include_str!("../../examples/us-metro.yaml")).unwrap();
    let g = FiberGraph::from_topology(&t);
    let mut s = Spectrum::default();
    let zr = &MODES[0];
    let p = plan_wavelength(&g, &s, "sea-ot1", "pdx-ot1", zr, 1.0, 4, &BTreeSet::new()).unwrap();
    assert_eq!(p.channel, 0);
    s.occupy(&p.fibers, 0);
    let q = plan_wavelength(&g, &s, "sea-ot1", "pdx-ot1", zr, 1.0, 4, &BTreeSet::new()).unwrap();
    assert_eq!(q.channel, 1, "first fit skips the lit channel");
    for ch in 0..CHANNEL_COUNT {
        s.occupy(&p.fibers, ch);
    }
    assert!(matches!(
        plan_wavelength(&g, &s, "sea-ot1", "pdx-ot1", zr, 1.0, 1, &BTreeSet::new()),
        Err(RwaError::NoSpectrum { .. })
    ));
    match plan_wavelength(
        &g,
        &Spectrum::default(),
        "sea-ot1",
        "nva-ot1",
        zr,
        1.0,
        4,
        &BTreeSet::new(),
    ) {
        Err(RwaError::Infeasible {
            best_osnr_db,
            required_osnr_db,
            ..
        }) => assert!(best_osnr_db < required_osnr_db + 1.0),
        other => panic!("{other:?}"),
    }
}

#[test]
fn example_fabric_paths_compress_within_depth() {
    let t = crate::topology::parse_str(include_str!("../../examples/us-metro.yaml")).unwrap();
    let g = TeGraph::packet_layer(&t);
    let (s, d) = (g.node_id("sea-pe1").unwrap(), g.node_id("nva-pe1").unwrap());
    let p = cspf(&g, s, d, &Constraints::default()).unwrap();
    let segs = compress(&g, &p, Some(10)).unwrap();
    assert!(!segs.is_empty() && segs.len() < 12);
    assert_eq!(expand(&g, s, &segs), Some(p.edges));
}
