//! The best path under a latency bound: a resource-constrained shortest
//! path, exact, and cheap when the bound does not bite.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::graph::{EdgeId, NodeId};
use super::search::{distances_to, shortest, Arcs, Scratch, Topo, NONE};

/// Why no path was returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Miss {
    Unreachable,
    /// Paths exist, but the fastest of them takes `best_us`.
    OverBound {
        best_us: u64,
    },
}

/// The best path whose latency is at most `bound` (if any bound). Fast path:
/// plain Dijkstra, whose answer usually meets the bound. Otherwise an exact
/// resource-constrained search, guided and pruned by reverse distances.
/// `cost_is_latency` says the metric is latency itself, so Dijkstra's answer
/// already is the fastest path and the bound check is direct.
#[allow(clippy::too_many_arguments)]
pub(crate) fn best_path<G: Topo, A: Arcs>(
    g: &G,
    a: &A,
    src: NodeId,
    dst: NodeId,
    bound: Option<u64>,
    cost_is_latency: bool,
    s: &mut Scratch,
) -> Result<Vec<EdgeId>, Miss> {
    let first = shortest(g, a, src, dst, s).ok_or(Miss::Unreachable)?;
    let Some(bound) = bound else {
        return Ok(first);
    };
    let (_, first_lat) = a.totals(&first);
    if first_lat <= bound {
        return Ok(first);
    }
    if cost_is_latency {
        return Err(Miss::OverBound { best_us: first_lat });
    }
    let (to_lat, next) = distances_to(g, a, |e| a.lat(e), dst);
    let best_us = to_lat[src];
    if best_us > bound {
        return Err(Miss::OverBound { best_us });
    }
    // The fastest path is feasible, so its cost caps what is worth exploring.
    let mut cap = 0u64;
    let mut at = src;
    let mut steps = 0;
    while at != dst && steps <= g.node_count() {
        let e = next[at];
        if e == NONE {
            return Err(Miss::OverBound { best_us });
        }
        cap = cap.saturating_add(a.cost(e));
        at = g.head(e);
        steps += 1;
    }
    let (to_cost, _) = distances_to(g, a, |e| a.cost(e), dst);
    let guide = Guide {
        bound,
        cap,
        to_cost: &to_cost,
        to_lat: &to_lat,
    };
    constrained(g, a, src, dst, &guide).ok_or(Miss::OverBound { best_us })
}

/// Lower bounds from every node to the destination, and the limits.
struct Guide<'a> {
    bound: u64,
    cap: u64,
    to_cost: &'a [u64],
    to_lat: &'a [u64],
}

struct Label {
    node: NodeId,
    edge: EdgeId,
    parent: usize,
    cost: u64,
    lat: u64,
    hops: u32,
    alive: bool,
}

/// Compares `labels[pa].seq + ea` with `labels[b].seq` (same hop count).
fn label_lex_cmp(labels: &[Label], mut pa: usize, ea: EdgeId, b: usize) -> Ordering {
    let mut verdict = ea.cmp(&labels[b].edge);
    let mut pb = labels[b].parent;
    while pa != pb && pa != NONE && pb != NONE {
        if labels[pa].edge != labels[pb].edge {
            verdict = labels[pa].edge.cmp(&labels[pb].edge);
        }
        pa = labels[pa].parent;
        pb = labels[pb].parent;
    }
    verdict
}

/// Exact label-setting search for the best path (in the total order) with
/// latency ≤ bound. Labels are partial paths (cost, latency); at each node
/// only labels no other label dominates survive — one with cost and latency
/// both no worse is at least as good after any common extension. Pops follow
/// A* on (cost + cost-to-go, latency + latency-to-go, hops): reverse distances
/// are consistent lower bounds, and hops strictly grow along edges, so the
/// first label popped at `dst` is the optimum. Labels that cannot meet the
/// bound even on the fastest way home, or cannot beat the fastest path's
/// cost, are never created.
fn constrained<G: Topo, A: Arcs>(
    g: &G,
    a: &A,
    src: NodeId,
    dst: NodeId,
    guide: &Guide<'_>,
) -> Option<Vec<EdgeId>> {
    let mut labels = vec![Label {
        node: src,
        edge: NONE,
        parent: NONE,
        cost: 0,
        lat: 0,
        hops: 0,
        alive: true,
    }];
    let mut frontier: Vec<Vec<usize>> = vec![Vec::new(); g.node_count()];
    frontier[src].push(0);
    let mut heap = BinaryHeap::new();
    heap.push(Reverse((
        guide.to_cost[src],
        guide.to_lat[src],
        0u32,
        0usize,
    )));
    let mut beaten: Vec<usize> = Vec::new();
    while let Some(Reverse((_, _, _, li))) = heap.pop() {
        if !labels[li].alive {
            continue;
        }
        let (u, cost, lat, hops) = (
            labels[li].node,
            labels[li].cost,
            labels[li].lat,
            labels[li].hops,
        );
        if u == dst {
            let mut edges = Vec::with_capacity(hops as usize);
            let mut at = li;
            while labels[at].edge != NONE {
                edges.push(labels[at].edge);
                at = labels[at].parent;
            }
            edges.reverse();
            return Some(edges);
        }
        for &e in g.out_edges(u) {
            if !a.ok(e) {
                continue;
            }
            let v = g.head(e);
            let (c2, l2, h2) = (
                cost.saturating_add(a.cost(e)),
                lat.saturating_add(a.lat(e)),
                hops.saturating_add(1),
            );
            if l2.saturating_add(guide.to_lat[v]) > guide.bound
                || c2.saturating_add(guide.to_cost[v]) > guide.cap
            {
                continue;
            }
            // an existing label at v at least as good in every respect wins
            let dominated = frontier[v].iter().any(|&j| {
                let o = &labels[j];
                o.cost <= c2
                    && o.lat <= l2
                    && ((o.cost, o.lat) != (c2, l2)
                        || o.hops < h2
                        || (o.hops == h2 && label_lex_cmp(&labels, li, e, j) != Ordering::Less))
            });
            if dominated {
                continue;
            }
            beaten.clear();
            beaten.extend(frontier[v].iter().copied().filter(|&j| {
                let o = &labels[j];
                c2 <= o.cost && l2 <= o.lat
            }));
            for &j in &beaten {
                labels[j].alive = false;
            }
            frontier[v].retain(|&j| labels[j].alive);
            let id = labels.len();
            labels.push(Label {
                node: v,
                edge: e,
                parent: li,
                cost: c2,
                lat: l2,
                hops: h2,
                alive: true,
            });
            frontier[v].push(id);
            heap.push(Reverse((
                c2.saturating_add(guide.to_cost[v]),
                l2.saturating_add(guide.to_lat[v]),
                h2,
                id,
            )));
        }
    }
    None
}
