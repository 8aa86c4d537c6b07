//! Disjoint paths for protection: a pair placed together, or a second path
//! placed against an existing one.
//!
//! What "disjoint" means here (both directions of a link are the same link):
//! - `Link`: the paths share no link;
//! - `Node`: they share no transit node (and so no link either);
//! - `Srlg`: they share no link and no SRLG (a link is its own risk).

use std::collections::BTreeSet;

use super::constraints::{usable, weights, Constraints};
use super::cspf::cspf;
use super::graph::{NodeId, TeGraph};
use super::path::{check_endpoints, node_name, Path, PathError};
use super::suurballe::suurballe;
use super::yen::k_shortest;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disjointness {
    Link,
    Node,
    Srlg,
}

impl Disjointness {
    fn name(self) -> &'static str {
        match self {
            Disjointness::Link => "link",
            Disjointness::Node => "node",
            Disjointness::Srlg => "SRLG",
        }
    }
}

/// How many first-path candidates the fallback search tries.
pub const PAIR_CANDIDATES: usize = 16;

/// The best path from `src` to `dst` under `c` that is `kind`-disjoint from
/// `existing`: the existing path's links (and transit nodes, or SRLGs) are
/// added to the exclusions, then CSPF. Exact.
pub fn disjoint_from(
    g: &TeGraph,
    src: NodeId,
    dst: NodeId,
    c: &Constraints,
    existing: &Path,
    kind: Disjointness,
) -> Result<Path, PathError> {
    check_endpoints(g, src, dst)?;
    let mut c = c.clone();
    c.exclude_links.extend(existing.links(g));
    let avoided = match kind {
        Disjointness::Link => "links",
        Disjointness::Node => {
            c.exclude_nodes
                .extend(existing.transit().iter().map(|&n| node_name(g, n)));
            "links and transit nodes"
        }
        Disjointness::Srlg => {
            c.exclude_srlgs.extend(existing.srlgs(g));
            "links and SRLGs"
        }
    };
    cspf(g, src, dst, &c).map_err(|e| match e {
        PathError::NoPath { reason, .. } => PathError::NotDisjoint {
            kind: kind.name().into(),
            reason: format!("avoiding the existing path's {avoided} leaves no route ({reason})"),
        },
        e @ PathError::LatencyBound { .. } => PathError::NotDisjoint {
            kind: kind.name().into(),
            reason: format!("avoiding the existing path's {avoided}: {e}"),
        },
        other => other,
    })
}

/// Whether `a` and `b` are `kind`-disjoint.
pub fn are_disjoint(g: &TeGraph, a: &Path, b: &Path, kind: Disjointness) -> bool {
    let links: BTreeSet<String> = a.links(g).into_iter().collect();
    if b.links(g).iter().any(|l| links.contains(l)) {
        return false;
    }
    match kind {
        Disjointness::Link => true,
        Disjointness::Node => {
            let transit: BTreeSet<NodeId> = a.transit().iter().copied().collect();
            !b.transit().iter().any(|n| transit.contains(n))
        }
        Disjointness::Srlg => a.srlgs(g).is_disjoint(&b.srlgs(g)),
    }
}

/// Two `kind`-disjoint paths from `src` to `dst` under `c`, the better one
/// (in the deterministic order) first.
///
/// - `Link` / `Node` without a latency bound: Suurballe (node splitting for
///   `Node`); the pair has the least total cost — exact.
/// - `Srlg`: SRLG-disjoint pairs are link-disjoint pairs, so when Suurballe's
///   link-disjoint optimum happens to be SRLG-disjoint it is the optimum.
///   Otherwise (the problem is NP-hard in general) a heuristic: each of the
///   `PAIR_CANDIDATES` best paths is tried as the first path, paired with the
///   best path disjoint from it, and the pair of least total cost wins. This
///   is exact whenever the better path of the optimal pair is among those
///   candidates, and can miss a pair (or a cheaper one) otherwise.
/// - With a latency bound both paths must meet it; if Suurballe's pair does
///   not, the same candidate search is used (so `Link`/`Node` with a bound
///   are heuristic too).
///
/// `c.max_sid_depth` is not applied here (compress each path and check).
///
/// Errors: those of `cspf` when not even one path exists; `NotDisjoint` when
/// no disjoint pair was found (for `Link`/`Node` without a bound, and when no
/// link-disjoint pair exists at all, that is certain).
pub fn disjoint_pair(
    g: &TeGraph,
    src: NodeId,
    dst: NodeId,
    c: &Constraints,
    kind: Disjointness,
) -> Result<(Path, Path), PathError> {
    let c = &Constraints {
        max_sid_depth: None,
        ..c.clone()
    };
    let best_single = cspf(g, src, dst, c)?;
    let (ok, _) = usable(g, c, src, dst);
    let w = weights(g, c.metric);
    let to_path = |edges| Path::from_edges(g, src, edges, c.metric);
    let not_disjoint = |reason: String| PathError::NotDisjoint {
        kind: kind.name().into(),
        reason,
    };
    let Some((a, b)) = suurballe(g, &w, &ok, src, dst, kind == Disjointness::Node) else {
        let common = if kind == Disjointness::Node {
            "transit node or link"
        } else {
            "link"
        };
        return Err(not_disjoint(format!(
            "every route from {} to {} under the constraints crosses a common {common} \
             (the best single route is {})",
            node_name(g, src),
            node_name(g, dst),
            best_single.node_names(g).join(" → ")
        )));
    };
    let (a, b) = (to_path(a), to_path(b));
    if are_disjoint(g, &a, &b, kind) && within_bound(c, &a) && within_bound(c, &b) {
        return Ok(ordered(a, b));
    }
    candidate_search(g, src, dst, c, kind, best_single.cost).ok_or_else(|| {
        not_disjoint(format!(
            "none of the {PAIR_CANDIDATES} best routes from {} to {} has a {}-disjoint partner{}",
            node_name(g, src),
            node_name(g, dst),
            kind.name(),
            match c.max_latency_us {
                Some(b) => format!(" within {b} µs"),
                None => String::new(),
            }
        ))
    })
}

fn within_bound(c: &Constraints, p: &Path) -> bool {
    c.max_latency_us.is_none_or(|b| p.latency_us <= b)
}

fn ordered(a: Path, b: Path) -> (Path, Path) {
    if a.sort_key() <= b.sort_key() {
        (a, b)
    } else {
        (b, a)
    }
}

/// Each of the best paths as the first path, with the best path disjoint
/// from it; least total cost wins (ties: the better pair in path order).
fn candidate_search(
    g: &TeGraph,
    src: NodeId,
    dst: NodeId,
    c: &Constraints,
    kind: Disjointness,
    cheapest: u64,
) -> Option<(Path, Path)> {
    let mut best: Option<(u64, (Path, Path))> = None;
    for p1 in k_shortest(g, src, dst, c, PAIR_CANDIDATES) {
        // no partner is cheaper than the cheapest path, so nothing later wins
        if best
            .as_ref()
            .is_some_and(|(total, _)| p1.cost.saturating_add(cheapest) > *total)
        {
            break;
        }
        let Ok(p2) = disjoint_from(g, src, dst, c, &p1, kind) else {
            continue;
        };
        let total = p1.cost.saturating_add(p2.cost);
        let pair = ordered(p1, p2);
        let better = match &best {
            None => true,
            Some((t, (x, y))) => {
                (total, pair.0.sort_key(), pair.1.sort_key()) < (*t, x.sort_key(), y.sort_key())
            }
        };
        if better {
            best = Some((total, pair));
        }
    }
    best.map(|(_, pair)| pair)
}
