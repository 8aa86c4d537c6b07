//! Tests for path computation. Most compare against brute force (`oracle`)
//! on many small seeded random graphs, so a wrong answer shows up as a
//! mismatch with the seed that reproduces it.

use std::collections::BTreeSet;

use super::*;

mod cspf_tests;
mod disjoint_tests;
mod example_tests;
mod optical_tests;
mod oracle;
mod perf;
mod sids_tests;
mod yen_tests;

/// Deterministic xorshift64*, so every failure replays from its seed.
pub(super) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

pub(super) const GROUPS: [&str; 3] = ["gold", "silver", "bronze"];

pub(super) fn nodes(n: usize, with_sid: impl Fn(usize) -> bool) -> Vec<TeNode> {
    (0..n)
        .map(|i| TeNode {
            name: format!("n{i}"),
            node_sid: with_sid(i).then_some(16000 + i as u32),
        })
        .collect()
}

pub(super) fn edge(link: &str, from: NodeId, to: NodeId) -> TeEdge {
    TeEdge {
        link: link.to_string(),
        from,
        to,
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
    }
}

/// Adds a bidirectional link (two edges, same attributes).
pub(super) fn link(g: &mut TeGraph, name: &str, a: NodeId, b: NodeId, f: impl Fn(&mut TeEdge)) {
    for (x, y) in [(a, b), (b, a)] {
        let mut e = edge(name, x, y);
        f(&mut e);
        assert!(g.add_edge(e).is_some());
    }
}

/// A random fabric: `links` links between random node pairs (parallel links
/// happen), small metric ranges so ties and ECMP are common, some zero
/// latencies and TE metrics, some links down, degraded (pruned from TE but
/// still in the IGP) or loaded, 0–2 SRLGs from a
/// pool of 6, random admin groups; a few nodes without a node SID.
pub(super) fn random_graph(seed: u64, n: usize, links: usize) -> TeGraph {
    let mut r = Rng::new(seed);
    let mut g = TeGraph::new(nodes(n, |i| i % 5 != 3));
    for l in 0..links {
        let a = r.below(n as u64) as usize;
        let mut b = r.below(n as u64) as usize;
        if a == b {
            b = (b + 1) % n;
        }
        let latency = if r.chance(8) {
            0
        } else {
            1 + r.below(20) as u32
        };
        let te = r.below(7) as u32;
        let igp = 1 + r.below(3) as u32;
        let down = r.chance(12);
        let degraded = r.chance(12);
        let srlgs: BTreeSet<u32> = (0..r.below(3)).map(|_| r.below(6) as u32).collect();
        let groups: BTreeSet<String> = GROUPS
            .iter()
            .filter(|_| r.chance(2))
            .map(|s| s.to_string())
            .collect();
        for (from, to) in [(a, b), (b, a)] {
            let reserved = if r.chance(5) { 95.0 } else { 0.0 };
            assert!(g
                .add_edge(TeEdge {
                    link: format!("l{l}"),
                    from,
                    to,
                    latency_us: latency,
                    te_metric: te,
                    igp_metric: igp,
                    capacity_gbps: 100.0,
                    reserved_gbps: reserved,
                    srlgs: srlgs.clone(),
                    admin_groups: groups.clone(),
                    up: !down,
                    pruned: degraded,
                    adj_sid: 0,
                })
                .is_some());
        }
    }
    g
}

fn pick<T: Clone>(r: &mut Rng, items: &[T]) -> T {
    items[r.below(items.len() as u64) as usize].clone()
}

/// Random constraints exercising every field; `bound` decides whether a
/// latency bound may appear.
pub(super) fn random_constraints(r: &mut Rng, n: usize, links: usize, bound: bool) -> Constraints {
    let metrics = [Metric::Latency, Metric::Igp, Metric::Te, Metric::Hops];
    let group_set = |r: &mut Rng| -> BTreeSet<String> {
        if r.chance(4) {
            [pick(r, &GROUPS).to_string()].into_iter().collect()
        } else {
            BTreeSet::new()
        }
    };
    Constraints {
        metric: pick(r, &metrics),
        max_latency_us: (bound && r.chance(2)).then(|| 5 + r.below(50)),
        bandwidth_gbps: if r.chance(3) { 10.0 } else { 0.0 },
        include_any: group_set(r),
        include_all: if r.chance(3) {
            group_set(r)
        } else {
            BTreeSet::new()
        },
        exclude_any: group_set(r),
        exclude_nodes: if r.chance(4) {
            [format!("n{}", r.below(n as u64))].into_iter().collect()
        } else {
            BTreeSet::new()
        },
        exclude_links: if r.chance(4) {
            [format!("l{}", r.below(links as u64))]
                .into_iter()
                .collect()
        } else {
            BTreeSet::new()
        },
        exclude_srlgs: if r.chance(5) {
            [r.below(6) as u32].into_iter().collect()
        } else {
            BTreeSet::new()
        },
        max_sid_depth: None,
    }
}
