//! Brute force, written independently of the code under test: enumerate
//! every simple path of a small graph and filter, sort, pair them directly
//! from the definitions.

use std::collections::BTreeSet;

use super::super::*;

pub type Key = (u64, u64, usize, Vec<EdgeId>);

/// Every simple path from `src` to `dst` over all edges (up or not).
pub fn all_paths(g: &TeGraph, src: NodeId, dst: NodeId) -> Vec<Vec<EdgeId>> {
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
        for (e, edge) in g.edges.iter().enumerate() {
            if edge.from != at || seen[edge.to] {
                continue;
            }
            seen[edge.to] = true;
            cur.push(e);
            go(g, edge.to, dst, seen, cur, out);
            cur.pop();
            seen[edge.to] = false;
        }
    }
    let mut seen = vec![false; g.nodes.len()];
    seen[src] = true;
    let mut out = Vec::new();
    go(g, src, dst, &mut seen, &mut Vec::new(), &mut out);
    out
}

pub fn cost_of(g: &TeGraph, m: Metric, edges: &[EdgeId]) -> u64 {
    edges
        .iter()
        .map(|&e| {
            let e = &g.edges[e];
            match m {
                Metric::Latency => u64::from(e.latency_us),
                Metric::Igp => u64::from(e.igp_metric.max(1)),
                Metric::Te => u64::from(e.te_metric),
                Metric::Hops => 1,
            }
        })
        .sum()
}

pub fn latency_of(g: &TeGraph, edges: &[EdgeId]) -> u64 {
    edges
        .iter()
        .map(|&e| u64::from(g.edges[e].latency_us))
        .sum()
}

pub fn key(g: &TeGraph, m: Metric, edges: &[EdgeId]) -> Key {
    (
        cost_of(g, m, edges),
        latency_of(g, edges),
        edges.len(),
        edges.to_vec(),
    )
}

fn nodes_of(g: &TeGraph, src: NodeId, edges: &[EdgeId]) -> Vec<NodeId> {
    let mut v = vec![src];
    v.extend(edges.iter().map(|&e| g.edges[e].to));
    v
}

/// Every constraint except the latency bound, straight from its definition.
pub fn allowed(g: &TeGraph, c: &Constraints, src: NodeId, dst: NodeId, edges: &[EdgeId]) -> bool {
    let edges_ok = edges.iter().all(|&e| {
        let e = &g.edges[e];
        let has = |a: &String| e.admin_groups.contains(a);
        e.up && !e.pruned
            && e.capacity_gbps - e.reserved_gbps + 1e-9 >= c.bandwidth_gbps
            && (c.include_any.is_empty() || c.include_any.iter().any(has))
            && c.include_all.iter().all(has)
            && !c.exclude_any.iter().any(has)
            && !c.exclude_links.contains(&e.link)
            && e.srlgs.is_disjoint(&c.exclude_srlgs)
    });
    let nodes_ok = nodes_of(g, src, edges)
        .iter()
        .all(|&n| n == src || n == dst || !c.exclude_nodes.contains(&g.nodes[n].name));
    edges_ok && nodes_ok
}

pub fn feasible(g: &TeGraph, c: &Constraints, src: NodeId, dst: NodeId, edges: &[EdgeId]) -> bool {
    allowed(g, c, src, dst, edges) && c.max_latency_us.is_none_or(|b| latency_of(g, edges) <= b)
}

/// Feasible paths, sorted by the deterministic order.
pub fn sorted_feasible(g: &TeGraph, c: &Constraints, src: NodeId, dst: NodeId) -> Vec<Key> {
    let mut keys: Vec<Key> = all_paths(g, src, dst)
        .into_iter()
        .filter(|p| feasible(g, c, src, dst, p))
        .map(|p| key(g, c.metric, &p))
        .collect();
    keys.sort();
    keys
}

pub fn links(g: &TeGraph, p: &[EdgeId]) -> BTreeSet<String> {
    p.iter().map(|&e| g.edges[e].link.clone()).collect()
}

pub fn transit(g: &TeGraph, p: &[EdgeId]) -> BTreeSet<NodeId> {
    p.iter().skip(1).map(|&e| g.edges[e].from).collect()
}

pub fn srlgs(g: &TeGraph, p: &[EdgeId]) -> BTreeSet<u32> {
    p.iter()
        .flat_map(|&e| g.edges[e].srlgs.iter().copied())
        .collect()
}

pub fn disjoint(g: &TeGraph, a: &[EdgeId], b: &[EdgeId], kind: Disjointness) -> bool {
    links(g, a).is_disjoint(&links(g, b))
        && match kind {
            Disjointness::Link => true,
            Disjointness::Node => transit(g, a).is_disjoint(&transit(g, b)),
            Disjointness::Srlg => srlgs(g, a).is_disjoint(&srlgs(g, b)),
        }
}

/// Least total cost over all unordered pairs of feasible disjoint paths.
pub fn best_pair(
    g: &TeGraph,
    c: &Constraints,
    src: NodeId,
    dst: NodeId,
    kind: Disjointness,
) -> Option<u64> {
    let paths: Vec<Vec<EdgeId>> = all_paths(g, src, dst)
        .into_iter()
        .filter(|p| feasible(g, c, src, dst, p))
        .collect();
    let mut best: Option<u64> = None;
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[i + 1..] {
            if disjoint(g, a, b, kind) {
                let t = cost_of(g, c.metric, a) + cost_of(g, c.metric, b);
                best = Some(best.map_or(t, |x| x.min(t)));
            }
        }
    }
    best
}

/// The unique least-IGP path over up edges, if exactly one path achieves
/// the least cost.
pub fn unique_igp_path(g: &TeGraph, from: NodeId, to: NodeId) -> Option<Vec<EdgeId>> {
    let paths: Vec<Vec<EdgeId>> = all_paths(g, from, to)
        .into_iter()
        .filter(|p| p.iter().all(|&e| g.edges[e].up))
        .collect();
    let min = paths.iter().map(|p| cost_of(g, Metric::Igp, p)).min()?;
    let mut best = paths
        .into_iter()
        .filter(|p| cost_of(g, Metric::Igp, p) == min);
    let first = best.next()?;
    best.next().is_none().then_some(first)
}

/// What a SID list forwards over, by the definition of each segment.
pub fn expand(g: &TeGraph, src: NodeId, segments: &[Segment]) -> Option<Vec<EdgeId>> {
    let mut at = src;
    let mut out = Vec::new();
    for s in segments {
        match *s {
            Segment::Adjacency { edge, label } => {
                let e = &g.edges[edge];
                if e.from != at || label != e.adj_sid {
                    return None;
                }
                out.push(edge);
                at = e.to;
            }
            Segment::Node { node, label } => {
                if g.nodes[node].node_sid != Some(label) {
                    return None;
                }
                out.extend(unique_igp_path(g, at, node)?);
                at = node;
            }
        }
    }
    Some(out)
}

/// The fewest segments any valid SID list for `path` can have (shortest
/// path over positions: an adjacency moves one hop, a node SID moves to any
/// later SID-carrying node the IGP reaches along exactly this sub-path).
pub fn min_segments(g: &TeGraph, src: NodeId, path: &[EdgeId]) -> usize {
    let nodes = nodes_of(g, src, path);
    let n = path.len();
    let mut best = vec![usize::MAX; n + 1];
    best[0] = 0;
    for i in 0..n {
        if best[i] == usize::MAX {
            continue;
        }
        best[i + 1] = best[i + 1].min(best[i] + 1);
        for j in i + 1..=n {
            let sub = &path[i..j];
            if g.nodes[nodes[j]].node_sid.is_some()
                && unique_igp_path(g, nodes[i], nodes[j]).as_deref() == Some(sub)
            {
                best[j] = best[j].min(best[i] + 1);
            }
        }
    }
    best[n]
}
