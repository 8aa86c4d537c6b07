//! Disjoint pairs. Link- and node-disjoint pairs of least total cost come from
//! Suurballe's algorithm (shortest path, reversed-edge residual, second
//! shortest path, cancel overlapping edges). SRLG-disjointness is NP-hard in
//! general; a k-shortest candidate search finds it in practice.

use std::collections::{BTreeSet, HashMap};

use super::cspf::{cspf, dijkstra, edge_cost, path_of, usable, Constraints, Path, PathError};
use super::graph::{NodeId, TeEdge, TeGraph};
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

/// A path disjoint from `existing`: exclusions, then CSPF.
pub fn disjoint_from(
    g: &TeGraph,
    src: NodeId,
    dst: NodeId,
    c: &Constraints,
    existing: &Path,
    kind: Disjointness,
) -> Result<Path, PathError> {
    let mut c = c.clone();
    match kind {
        Disjointness::Link => c.exclude_links.extend(existing.links(g)),
        Disjointness::Node => {
            let names = existing.node_names(g);
            if names.len() > 2 {
                c.exclude_nodes
                    .extend(names[1..names.len() - 1].iter().cloned());
            }
            c.exclude_links.extend(existing.links(g));
        }
        Disjointness::Srlg => {
            c.exclude_srlgs.extend(existing.srlgs(g));
            c.exclude_links.extend(existing.links(g));
        }
    }
    cspf(g, src, dst, &c).map_err(|e| PathError::NotDisjoint {
        kind: kind.name().into(),
        reason: e.to_string(),
    })
}

fn shares(g: &TeGraph, a: &Path, b: &Path, kind: Disjointness) -> bool {
    let la: BTreeSet<String> = a.links(g).into_iter().collect();
    if b.links(g).iter().any(|l| la.contains(l)) {
        return true;
    }
    match kind {
        Disjointness::Link => false,
        Disjointness::Node => {
            let inner = |p: &Path| -> BTreeSet<usize> {
                p.nodes[1..p.nodes.len().saturating_sub(1)]
                    .iter()
                    .copied()
                    .collect()
            };
            !inner(a).is_disjoint(&inner(b))
        }
        Disjointness::Srlg => !a.srlgs(g).is_disjoint(&b.srlgs(g)),
    }
}

/// The pair of least total cost; the cheaper path first.
pub fn disjoint_pair(
    g: &TeGraph,
    src: NodeId,
    dst: NodeId,
    c: &Constraints,
    kind: Disjointness,
) -> Result<(Path, Path), PathError> {
    let not = |reason: String| PathError::NotDisjoint {
        kind: kind.name().into(),
        reason,
    };
    cspf(
        g,
        src,
        dst,
        &Constraints {
            max_latency_us: None,
            ..c.clone()
        },
    )?;
    let pair = match kind {
        Disjointness::Link | Disjointness::Node => {
            suurballe(g, src, dst, c, kind == Disjointness::Node)
        }
        Disjointness::Srlg => None,
    };
    let pair = match pair {
        Some(p) if !shares(g, &p.0, &p.1, kind) && within_bound(c, &p) => Some(p),
        _ => candidate_search(g, src, dst, c, kind),
    };
    let (a, b) = pair.ok_or_else(|| not("no pair of paths avoids sharing".into()))?;
    Ok(if a.sort_key() <= b.sort_key() {
        (a, b)
    } else {
        (b, a)
    })
}

fn within_bound(c: &Constraints, p: &(Path, Path)) -> bool {
    c.max_latency_us
        .is_none_or(|b| p.0.latency_us <= b && p.1.latency_us <= b)
}

/// Best pair among k-shortest candidates for the first path, each with the
/// best path disjoint from it.
fn candidate_search(
    g: &TeGraph,
    src: NodeId,
    dst: NodeId,
    c: &Constraints,
    kind: Disjointness,
) -> Option<(Path, Path)> {
    let mut best: Option<(Path, Path)> = None;
    for p1 in k_shortest(g, src, dst, c, 16) {
        if let Ok(p2) = disjoint_from(g, src, dst, c, &p1, kind) {
            let total = p1.cost + p2.cost;
            if best.as_ref().is_none_or(|(a, b)| total < a.cost + b.cost) {
                best = Some((p1, p2));
            }
        }
    }
    best
}

/// Suurballe on a working copy: node-disjoint by splitting transit nodes.
fn suurballe(
    g: &TeGraph,
    src: NodeId,
    dst: NodeId,
    c: &Constraints,
    split: bool,
) -> Option<(Path, Path)> {
    let (ok, _) = usable(g, c, src, dst);
    // Working graph: node v becomes v_in (v) and v_out (n + v) when splitting.
    let n = g.nodes.len();
    let out_of = |v: NodeId| {
        if split && v != src && v != dst {
            n + v
        } else {
            v
        }
    };
    let mut w = TeGraph::new(
        (0..if split { 2 * n } else { n })
            .map(|i| super::graph::TeNode {
                name: i.to_string(),
                node_sid: None,
            })
            .collect(),
    );
    let mut origin: Vec<Option<usize>> = Vec::new();
    for (e, edge) in g.edges.iter().enumerate() {
        if !ok[e] {
            continue;
        }
        w.add_edge(TeEdge {
            from: out_of(edge.from),
            to: edge.to,
            ..edge.clone()
        });
        origin.push(Some(e));
    }
    if split {
        for v in 0..n {
            if v != src && v != dst {
                w.add_edge(TeEdge {
                    link: format!("split-{v}"),
                    from: v,
                    to: n + v,
                    latency_us: 0,
                    te_metric: 0,
                    igp_metric: 0,
                    capacity_gbps: f64::MAX,
                    reserved_gbps: 0.0,
                    srlgs: BTreeSet::new(),
                    admin_groups: BTreeSet::new(),
                    up: true,
                    pruned: false,
                    adj_sid: 0,
                });
                origin.push(None);
            }
        }
    }
    let all = vec![true; w.edges.len()];
    let cost = |e: &TeEdge| {
        if e.link.starts_with("split-") && e.latency_us == 0 && e.te_metric == 0 {
            0
        } else {
            edge_cost(e, c.metric)
        }
    };
    // Bellman-Ford style shortest paths (costs can be negative on reversed edges).
    let shortest =
        |wg: &TeGraph, allowed: &[bool], reversed: &HashMap<usize, i64>| -> Option<Vec<usize>> {
            let m = wg.nodes.len();
            let mut dist = vec![i64::MAX; m];
            let mut prev: Vec<Option<usize>> = vec![None; m];
            dist[src] = 0;
            for _ in 0..m {
                let mut changed = false;
                for (e, edge) in wg.edges.iter().enumerate() {
                    if !allowed[e] || dist[edge.from] == i64::MAX {
                        continue;
                    }
                    let wcost = reversed.get(&e).copied().unwrap_or(cost(edge) as i64);
                    let d = dist[edge.from] + wcost;
                    if d < dist[edge.to] {
                        dist[edge.to] = d;
                        prev[edge.to] = Some(e);
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
            }
            if dist[dst] == i64::MAX {
                return None;
            }
            let mut edges = Vec::new();
            let mut at = dst;
            let mut guard = 0;
            while at != src {
                let e = prev[at]?;
                edges.push(e);
                at = wg.edges[e].from;
                guard += 1;
                if guard > m {
                    return None;
                }
            }
            edges.reverse();
            Some(edges)
        };
    let p1 = shortest(&w, &all, &HashMap::new())?;
    // Residual: forbid p1's edges, add their reversals at negative cost.
    let mut r = w.clone();
    let mut allowed = all.clone();
    let mut reversed = HashMap::new();
    let mut rev_of = HashMap::new();
    for &e in &p1 {
        allowed[e] = false;
        let edge = w.edges[e].clone();
        let id = r.add_edge(TeEdge {
            from: edge.to,
            to: edge.from,
            ..edge.clone()
        });
        allowed.push(true);
        reversed.insert(id, -(cost(&edge) as i64));
        rev_of.insert(id, e);
    }
    let p2 = shortest(&r, &allowed, &reversed)?;
    // Cancel p1 edges that p2 traversed backwards; the rest forms two paths.
    let cancelled: BTreeSet<usize> = p2.iter().filter_map(|e| rev_of.get(e).copied()).collect();
    let mut pool: Vec<usize> = p1
        .iter()
        .copied()
        .filter(|e| !cancelled.contains(e))
        .collect();
    pool.extend(p2.iter().copied().filter(|e| !rev_of.contains_key(e)));
    let mut paths = Vec::new();
    for _ in 0..2 {
        let mut at = src;
        let mut edges = Vec::new();
        let mut guard = 0;
        while at != dst {
            let idx = pool.iter().position(|&e| w.edges[e].from == at)?;
            let e = pool.remove(idx);
            edges.push(e);
            at = w.edges[e].to;
            guard += 1;
            if guard > w.edges.len() {
                return None;
            }
        }
        let real: Vec<usize> = edges
            .iter()
            .filter_map(|&e| origin.get(e).copied().flatten())
            .collect();
        paths.push(path_of(g, src, real, c.metric));
    }
    let b = paths.pop()?;
    let a = paths.pop()?;
    let _ = dijkstra;
    Some((a, b))
}
