use super::oracle;
use super::*;

#[test]
fn compressed_lists_expand_back_to_the_path_with_the_fewest_segments() {
    let (mut checked, mut mixed) = (0, 0);
    for seed in 0..300u64 {
        let mut r = Rng::new(seed ^ 0x51D);
        let n = 5 + r.below(4) as usize;
        let links = n + r.below(n as u64 + 4) as usize;
        let g = random_graph(seed, n, links);
        let mut spf = IgpSpf::new(&g);
        let c = Constraints {
            metric: Metric::Te,
            ..Default::default()
        };
        for p in k_shortest(&g, 0, n - 1, &c, 6) {
            let segs = compress_with(&mut spf, &p, None).unwrap();
            assert_eq!(
                segs,
                compress(&g, &p, None).unwrap(),
                "cache changes nothing"
            );
            assert_eq!(
                oracle::expand(&g, 0, &segs),
                Some(p.edges.clone()),
                "seed {seed}: {segs:?} for {p:?}"
            );
            assert_eq!(expand(&g, 0, &segs), Some(p.edges.clone()));
            assert_eq!(
                segs.len(),
                oracle::min_segments(&g, 0, &p.edges),
                "seed {seed}: {segs:?} not minimal for {p:?}"
            );
            let kinds = |node: bool| {
                segs.iter()
                    .any(|s| matches!(s, Segment::Node { .. }) == node)
            };
            if kinds(true) && kinds(false) {
                mixed += 1;
            }
            checked += 1;
        }
    }
    assert!(checked > 500, "{checked}");
    assert!(mixed > 50, "{mixed}");
}

/// a-b-d and a-c-d with equal IGP: ECMP from a to d.
fn square() -> TeGraph {
    let mut g = TeGraph::new(nodes(4, |_| true));
    link(&mut g, "ab", 0, 1, |_| {});
    link(&mut g, "bd", 1, 3, |_| {});
    link(&mut g, "ac", 0, 2, |_| {});
    link(&mut g, "cd", 2, 3, |_| {});
    g
}

#[test]
fn the_igp_shortest_path_is_one_node_sid_and_ecmp_needs_more() {
    let mut g = square();
    let p = cspf(&g, 0, 3, &Constraints::default()).unwrap();
    assert_eq!(p.links(&g), ["ab", "bd"]);
    let segs = compress(&g, &p, None).unwrap();
    // a→d is ECMP: steer to b first, then d
    assert_eq!(
        segs,
        [
            Segment::Node {
                node: 1,
                label: 16001
            },
            Segment::Node {
                node: 3,
                label: 16003
            }
        ]
    );
    // break the tie: a→b→d is now the unique IGP path, one SID
    g.set_link_up("cd", false);
    let segs = compress(&g, &p, None).unwrap();
    assert_eq!(
        segs,
        [Segment::Node {
            node: 3,
            label: 16003
        }]
    );
    assert_eq!(
        compress(&g, &p, Some(0)),
        Err(PathError::SidDepth { needed: 1, max: 0 })
    );
}

#[test]
fn parallel_links_and_off_igp_hops_need_adjacency_sids() {
    let mut g = TeGraph::new(nodes(3, |_| true));
    link(&mut g, "ab-1", 0, 1, |_| {});
    link(&mut g, "ab-2", 0, 1, |_| {});
    link(&mut g, "bc", 1, 2, |e| e.igp_metric = 50);
    link(&mut g, "ac", 0, 2, |e| e.igp_metric = 20);
    // a→b over ab-2 then the expensive b→c: neither hop is the IGP's choice
    let ab2 = g
        .edges_of_link("ab-2")
        .find(|&e| g.edges[e].from == 0)
        .unwrap();
    let bc = g
        .edges_of_link("bc")
        .find(|&e| g.edges[e].from == 1)
        .unwrap();
    let p = Path::from_edges(&g, 0, vec![ab2, bc], Metric::Igp);
    let segs = compress(&g, &p, Some(5)).unwrap();
    assert_eq!(
        segs,
        [
            Segment::Adjacency {
                edge: ab2,
                label: ADJ_SID_BASE + ab2 as u32
            },
            Segment::Adjacency {
                edge: bc,
                label: ADJ_SID_BASE + bc as u32
            }
        ]
    );
    assert_eq!(
        compress(&g, &p, Some(1)),
        Err(PathError::SidDepth { needed: 2, max: 1 })
    );
    let msg = compress(&g, &p, Some(1)).unwrap_err().to_string();
    assert!(msg.contains('2') && msg.contains('1'), "{msg}");
}

#[test]
fn nodes_without_a_sid_are_passed_over() {
    // a-b-c-d line, unique IGP path; c has no node SID, d does
    let mut g = TeGraph::new(nodes(4, |i| i != 2));
    link(&mut g, "ab", 0, 1, |_| {});
    link(&mut g, "bc", 1, 2, |_| {});
    link(&mut g, "cd", 2, 3, |_| {});
    let p = cspf(&g, 0, 3, &Constraints::default()).unwrap();
    assert_eq!(compress(&g, &p, None).unwrap().len(), 1);
    // a path ending at c must end with an adjacency
    let p = cspf(&g, 0, 2, &Constraints::default()).unwrap();
    let segs = compress(&g, &p, None).unwrap();
    assert!(matches!(segs[0], Segment::Node { node: 1, .. }), "{segs:?}");
    assert!(matches!(segs[1], Segment::Adjacency { .. }), "{segs:?}");
    assert_eq!(expand(&g, 0, &segs), Some(p.edges));
}

#[test]
fn an_invalid_path_is_an_error_not_a_panic() {
    let g = square();
    let bogus = Path {
        edges: vec![0, 99],
        nodes: vec![0, 1, 3],
        cost: 0,
        latency_us: 0,
    };
    assert!(matches!(
        compress(&g, &bogus, None),
        Err(PathError::NoPath { .. })
    ));
}
