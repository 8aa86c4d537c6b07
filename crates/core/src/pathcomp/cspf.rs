//! Constrained shortest path first: prune what the constraints forbid, then
//! search on the chosen metric, exactly honouring a latency bound.

use super::constraints::{usable, Constraints, Lazy, Metric, Pruned};
use super::graph::{NodeId, TeGraph};
use super::path::{check_endpoints, node_name, Path, PathError};
use super::rcsp::{best_path, Miss};
use super::search::{with_scratch, Topo};
use super::sids::{compress_with, IgpSpf};
use super::view::CompactView;
use super::yen::k_shortest;

/// How many paths, best first, `cspf` tries to fit `max_sid_depth`.
pub const SID_DEPTH_CANDIDATES: usize = 32;

/// The best path from `src` to `dst` under `c`, in the deterministic order
/// (metric cost, latency, hops, edge ids).
///
/// With a latency bound and a metric other than latency, the metric-shortest
/// path may break the bound while a costlier one meets it; the search then
/// turns into an exact resource-constrained shortest path (see `rcsp`), so
/// the answer is the best path *among those meeting the bound*.
///
/// With `max_sid_depth`, a path the headend cannot push is no answer: the
/// best path whose SID list (see `compress`) fits is returned, searched among
/// the `SID_DEPTH_CANDIDATES` best paths (so a fitting path further down the
/// order is not found — `SidDepth` then gives the fewest SIDs seen).
///
/// Errors: `UnknownNode`, `NoPath` (with the pruning that left no route),
/// `LatencyBound` (routes exist, the fastest is over the bound), `SidDepth`.
pub fn cspf(g: &TeGraph, src: NodeId, dst: NodeId, c: &Constraints) -> Result<Path, PathError> {
    cspf_with(g, &mut IgpSpf::new(g), src, dst, c)
}

/// `cspf` on `g`, with the IGP shortest-path trees for the SID-depth check
/// taken from (and left in) `spf`, so a batch of computations shares them.
/// `spf`'s graph must have the same IGP view as `g` (`up`, `igp_metric`);
/// reservations, pruning and TE attributes may differ.
pub fn cspf_with(
    g: &TeGraph,
    spf: &mut IgpSpf<'_>,
    src: NodeId,
    dst: NodeId,
    c: &Constraints,
) -> Result<Path, PathError> {
    check_endpoints(g, src, dst)?;
    let bound = c.max_latency_us;
    let by_latency = c.metric == Metric::Latency;
    let found = with_scratch(g.nodes.len(), |s| match g.compact() {
        Some(k) => {
            let arcs = CompactView::new(g, k, c, src, dst);
            best_path(g, &arcs, src, dst, bound, by_latency, s)
        }
        None => best_path(
            g,
            &Lazy::new(g, c, src, dst),
            src,
            dst,
            bound,
            by_latency,
            s,
        ),
    });
    let best = match found {
        Ok(edges) => Path::from_edges(g, src, edges, c.metric),
        Err(Miss::Unreachable) => {
            // what the constraints pruned, only now that it is worth saying
            let (_, pruned) = usable(g, c, src, dst);
            return Err(no_path(g, src, dst, &pruned));
        }
        Err(Miss::OverBound { best_us }) => {
            return Err(PathError::LatencyBound {
                best_us,
                bound_us: c.max_latency_us.unwrap_or(0),
            })
        }
    };
    match c.max_sid_depth {
        Some(max) => fit_sid_depth(g, spf, src, dst, c, best, max),
        None => Ok(best),
    }
}

/// The first of the best paths whose SID list is at most `max` deep.
fn fit_sid_depth(
    g: &TeGraph,
    spf: &mut IgpSpf<'_>,
    src: NodeId,
    dst: NodeId,
    c: &Constraints,
    best: Path,
    max: usize,
) -> Result<Path, PathError> {
    let mut fewest = compress_with(spf, &best, None)?.len();
    if fewest <= max {
        return Ok(best);
    }
    for p in k_shortest(g, src, dst, c, SID_DEPTH_CANDIDATES)
        .into_iter()
        .skip(1)
    {
        let needed = compress_with(spf, &p, None)?.len();
        if needed <= max {
            return Ok(p);
        }
        fewest = fewest.min(needed);
    }
    Err(PathError::SidDepth {
        needed: fewest,
        max,
    })
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
