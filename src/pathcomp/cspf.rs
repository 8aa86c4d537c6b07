//! Constrained shortest path first: prune what the constraints forbid, then
//! search on the chosen metric, exactly honouring a latency bound.

use super::constraints::{usable, weights, Constraints, Metric, Pruned};
use super::graph::{NodeId, TeGraph};
use super::path::{check_endpoints, node_name, Path, PathError};
use super::search::{best_path, Miss, Scratch, Topo};

/// The best path from `src` to `dst` under `c`, in the deterministic order
/// (metric cost, latency, hops, edge ids).
///
/// With a latency bound and a metric other than latency, the metric-shortest
/// path may break the bound while a costlier one meets it; the search then
/// turns into an exact resource-constrained shortest path (see `search`), so
/// the answer is the best path *among those meeting the bound*.
///
/// Errors: `UnknownNode`, `NoPath` (with the pruning that left no route),
/// `LatencyBound` (routes exist, the fastest is over the bound).
pub fn cspf(g: &TeGraph, src: NodeId, dst: NodeId, c: &Constraints) -> Result<Path, PathError> {
    check_endpoints(g, src, dst)?;
    let (ok, pruned) = usable(g, c, src, dst);
    let w = weights(g, c.metric);
    let mut scratch = Scratch::new(g.nodes.len());
    let found = best_path(
        g,
        &w,
        &ok,
        src,
        dst,
        c.max_latency_us,
        c.metric == Metric::Latency,
        &mut scratch,
    );
    match found {
        Ok(edges) => Ok(Path::from_edges(g, src, edges, c.metric)),
        Err(Miss::Unreachable) => Err(no_path(g, src, dst, &pruned)),
        Err(Miss::OverBound { best_us }) => Err(PathError::LatencyBound {
            best_us,
            bound_us: c.max_latency_us.unwrap_or(0),
        }),
    }
}

/// A NoPath error that blames the constraints only when they are to blame.
pub(crate) fn no_path(g: &TeGraph, src: NodeId, dst: NodeId, pruned: &Pruned<'_>) -> PathError {
    let reason = if pruned.any() && joined(g, src, dst) {
        pruned.reason()
    } else {
        "no chain of links joins them, whatever their state".to_string()
    };
    PathError::NoPath {
        from: node_name(g, src),
        to: node_name(g, dst),
        reason,
    }
}

/// Reachability over every edge, up or down.
fn joined(g: &TeGraph, src: NodeId, dst: NodeId) -> bool {
    let mut seen = vec![false; g.node_count()];
    let mut stack = vec![src];
    seen[src] = true;
    while let Some(u) = stack.pop() {
        if u == dst {
            return true;
        }
        for &e in g.out_edges(u) {
            let v = g.edges[e].to;
            if !seen[v] {
                seen[v] = true;
                stack.push(v);
            }
        }
    }
    false
}
