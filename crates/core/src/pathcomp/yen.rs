//! k shortest loopless paths (Yen), generic over the graph so the fiber
//! layer's routing reuses it.

use std::collections::BTreeSet;

use super::constraints::{usable, weights, Constraints, Metric};
use super::graph::{EdgeId, NodeId, TeGraph};
use super::path::{check_endpoints, Path};
use super::rcsp::best_path;
use super::search::{Arcs, Masked, Scratch, Topo, Weights};

/// Up to `k` loopless paths over the edges `ok` allows, best first in the
/// deterministic order.
///
/// A latency bound is honoured inside each spur search (the spur may spend
/// what the root left of the bound), so the result is exactly the first `k`
/// paths of Yen's full list once every path over the bound is filtered out —
/// without ever enumerating the filtered ones. Yen stays exact with such spur
/// searches because the bound applies to root + spur, and the root is fixed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn yen<G: Topo>(
    g: &G,
    w: &Weights,
    ok: &[bool],
    src: NodeId,
    dst: NodeId,
    bound: Option<u64>,
    cost_is_latency: bool,
    k: usize,
) -> Vec<Vec<EdgeId>> {
    if k == 0 || src == dst {
        return Vec::new();
    }
    let mut scratch = Scratch::new(g.node_count());
    let Ok(first) = best_path(
        g,
        &Masked { w, ok },
        src,
        dst,
        bound,
        cost_is_latency,
        &mut scratch,
    ) else {
        return Vec::new();
    };
    let mut seen: BTreeSet<Vec<EdgeId>> = BTreeSet::new();
    seen.insert(first.clone());
    let mut found = vec![first];
    let mut candidates: BTreeSet<(u64, u64, usize, Vec<EdgeId>)> = BTreeSet::new();
    let mut allowed = ok.to_vec();
    let mut banned: Vec<EdgeId> = Vec::new();
    while found.len() < k {
        let last = found[found.len() - 1].clone();
        let mut nodes = Vec::with_capacity(last.len() + 1);
        nodes.push(src);
        nodes.extend(last.iter().map(|&e| g.head(e)));
        let mut root_lat = 0u64;
        for i in 0..last.len() {
            let root = &last[..i];
            let mut ban = |e: EdgeId, allowed: &mut Vec<bool>| {
                if allowed[e] {
                    allowed[e] = false;
                    banned.push(e);
                }
            };
            // the spur must leave the root differently from every path found
            for p in &found {
                if p.len() > i && p[..i] == *root {
                    ban(p[i], &mut allowed);
                }
            }
            // and may not come back to the root
            for &n in &nodes[..i] {
                for &e in g.out_edges(n).iter().chain(g.in_edges(n)) {
                    ban(e, &mut allowed);
                }
            }
            let spur_bound = bound.and_then(|b| b.checked_sub(root_lat));
            if bound.is_none() || spur_bound.is_some() {
                let spur = best_path(
                    g,
                    &Masked { w, ok: &allowed },
                    nodes[i],
                    dst,
                    spur_bound,
                    cost_is_latency,
                    &mut scratch,
                );
                if let Ok(spur) = spur {
                    let mut edges = root.to_vec();
                    edges.extend(spur);
                    if seen.insert(edges.clone()) {
                        let (c, l) = Masked { w, ok }.totals(&edges);
                        candidates.insert((c, l, edges.len(), edges));
                    }
                }
            }
            for e in banned.drain(..) {
                allowed[e] = true;
            }
            root_lat = root_lat.saturating_add(w.lat[last[i]]);
        }
        let Some((_, _, _, next)) = candidates.pop_first() else {
            break;
        };
        found.push(next);
    }
    found
}

/// Up to `k` loopless paths from `src` to `dst` that satisfy `c`, best first
/// (cost on `c.metric`, latency, hops, edge ids). Paths over
/// `c.max_latency_us` are filtered out: the result is the `k` best paths that
/// meet the bound (fewer if fewer exist). Invalid endpoints give no paths.
pub fn k_shortest(g: &TeGraph, src: NodeId, dst: NodeId, c: &Constraints, k: usize) -> Vec<Path> {
    if check_endpoints(g, src, dst).is_err() {
        return Vec::new();
    }
    let (ok, _) = usable(g, c, src, dst);
    let w = weights(g, c.metric);
    yen(
        g,
        &w,
        &ok,
        src,
        dst,
        c.max_latency_us,
        c.metric == Metric::Latency,
        k,
    )
    .into_iter()
    .map(|edges| Path::from_edges(g, src, edges, c.metric))
    .collect()
}
