//! k shortest loopless paths (Yen), on the constrained graph.

use std::collections::BTreeSet;

use super::cspf::{dijkstra, path_of, usable, Constraints, Path};
use super::graph::{NodeId, TeGraph};

/// Up to `k` loopless paths in the deterministic order; paths over the
/// latency bound are left out (the bound is a filter here, not a search aid).
pub fn k_shortest(g: &TeGraph, src: NodeId, dst: NodeId, c: &Constraints, k: usize) -> Vec<Path> {
    if src >= g.nodes.len() || dst >= g.nodes.len() || src == dst || k == 0 {
        return Vec::new();
    }
    let (ok, _) = usable(g, c, src, dst);
    let Some(first) = dijkstra(g, &ok, src, dst, c.metric) else {
        return Vec::new();
    };
    let mut found: Vec<Path> = vec![first];
    let mut candidates: BTreeSet<(u64, u64, usize, Vec<usize>)> = BTreeSet::new();
    // Enough extra paths that filtering by the bound still leaves k.
    let budget = if c.max_latency_us.is_some() {
        k * 4 + 8
    } else {
        k
    };
    while found.len() < budget {
        let last = found[found.len() - 1].clone();
        for i in 0..last.edges.len() {
            let spur = last.nodes[i];
            let root = &last.edges[..i];
            let mut allowed = ok.clone();
            for p in &found {
                if p.edges.len() > i && p.edges[..i] == *root {
                    allowed[p.edges[i]] = false;
                }
            }
            // root nodes (except the spur) may not be revisited
            for &n in &last.nodes[..i] {
                for (e, edge) in g.edges.iter().enumerate() {
                    if edge.from == n || edge.to == n {
                        allowed[e] = false;
                    }
                }
            }
            if let Some(spur_path) = dijkstra(g, &allowed, spur, dst, c.metric) {
                let mut edges = root.to_vec();
                edges.extend(spur_path.edges);
                let p = path_of(g, src, edges, c.metric);
                candidates.insert(p.sort_key());
            }
        }
        let next = loop {
            let Some(key) = candidates.pop_first() else {
                break None;
            };
            if !found.iter().any(|p| p.edges == key.3) {
                break Some(key);
            }
        };
        let Some(key) = next else { break };
        found.push(path_of(g, src, key.3, c.metric));
    }
    found.sort_by_key(Path::sort_key);
    found
        .into_iter()
        .filter(|p| c.max_latency_us.is_none_or(|b| p.latency_us <= b))
        .take(k)
        .collect()
}
