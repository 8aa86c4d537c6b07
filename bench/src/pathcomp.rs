//! `strata bench pathcomp`: per-path computation time on generated fabrics
//! (ring + chords, about four links per node, 0.2–3 ms links), against two
//! peers in the same run on the same graph and the same (src, dst) pairs:
//! petgraph's Dijkstra (the floor: no constraints, no tie-breaking, distance
//! only) and networkx (the common oracle, in Python).
//!
//! Every answer is checked against the peers before any figure is printed:
//! a cost mismatch aborts the bench.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use petgraph::algo::dijkstra;
use petgraph::graph::{DiGraph, EdgeReference, NodeIndex};
use petgraph::visit::{EdgeFiltered, EdgeRef};

use super::networkx::{self, Export, NxQuery};
use super::plot::{self, Series};
use super::reroute::generated_fabric;
use super::rng::Rng;
use strata_core::pathcomp::{
    cspf, disjoint_pair, k_shortest, Constraints, Disjointness, NodeId, PathError, TeGraph,
};

/// Paths per k-shortest query.
pub const K: usize = 8;
const SEED: u64 = 7;

pub struct Options {
    pub nodes: Vec<usize>,
    /// (src, dst) pairs for shortest path and CSPF.
    pub queries: usize,
    /// How many of those pairs also run k-shortest and the disjoint pair
    /// (networkx takes seconds per pair there at 10k nodes).
    pub heavy_queries: usize,
    pub networkx: bool,
    pub out_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    Shortest,
    Cspf,
    Ksp,
    Disjoint,
}

impl Query {
    fn name(self) -> &'static str {
        match self {
            Query::Shortest => "shortest",
            Query::Cspf => "cspf",
            Query::Ksp => "k-shortest k=8",
            Query::Disjoint => "disjoint pair",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Strata,
    Petgraph,
    Networkx,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub nodes: usize,
    pub query: Query,
    pub peer: Peer,
    /// What exactly ran, for the table.
    pub how: &'static str,
    /// Per-query wall times, sorted.
    pub samples: Vec<Duration>,
}

impl Row {
    fn new(nodes: usize, query: Query, peer: Peer, how: &'static str, mut s: Vec<Duration>) -> Row {
        s.sort();
        Row {
            nodes,
            query,
            peer,
            how,
            samples: s,
        }
    }
    pub fn p50(&self) -> Duration {
        percentile(&self.samples, 0.50)
    }
    pub fn p99(&self) -> Duration {
        percentile(&self.samples, 0.99)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// One (src, dst) pair and the CSPF constraints put on it: a bound of 1.5×
/// the fastest path's latency, and that path's middle link and first transit
/// node excluded, so the constraints change the answer.
struct Request {
    src: NodeId,
    dst: NodeId,
    link_edges: Vec<usize>,
    link_ends: (NodeId, NodeId),
    exclude_node: NodeId,
    bound_us: u64,
    constraints: Constraints,
}

fn requests(g: &TeGraph, count: usize, seed: u64) -> anyhow::Result<Vec<Request>> {
    let n = g.nodes.len();
    anyhow::ensure!(n >= 3, "need at least 3 nodes");
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let src = rng.index(n);
            let dst = (src + 1 + rng.index(n - 1)) % n;
            let fastest = cspf(g, src, dst, &Constraints::default())?;
            let mid = &g.edges[fastest.edges[fastest.edges.len() / 2]];
            let exclude_node = match fastest.transit().first() {
                Some(&t) => t,
                None => (0..n)
                    .map(|_| rng.index(n))
                    .find(|&x| x != src && x != dst)
                    .unwrap_or((src.max(dst) + 1) % n),
            };
            let bound_us = fastest.latency_us * 3 / 2;
            Ok(Request {
                src,
                dst,
                link_edges: g.edges_of_link(&mid.link).collect(),
                link_ends: (mid.from, mid.to),
                exclude_node,
                bound_us,
                constraints: Constraints {
                    max_latency_us: Some(bound_us),
                    exclude_links: BTreeSet::from([mid.link.clone()]),
                    exclude_nodes: BTreeSet::from([g.nodes[exclude_node].name.clone()]),
                    ..Constraints::default()
                },
            })
        })
        .collect()
}

/// The TE graph as a petgraph graph: same node indices, edge i is edge i,
/// weighted by latency.
fn petgraph_of(g: &TeGraph) -> DiGraph<(), u64> {
    let mut pg = DiGraph::with_capacity(g.nodes.len(), g.edges.len());
    for _ in &g.nodes {
        pg.add_node(());
    }
    for e in &g.edges {
        pg.add_edge(
            NodeIndex::new(e.from),
            NodeIndex::new(e.to),
            u64::from(e.latency_us),
        );
    }
    pg
}

fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let t = Instant::now();
    let out = black_box(f());
    (t.elapsed(), out)
}

/// The CSPF outcome in peer-comparable terms: Ok(cost) or the fastest
/// latency when over the bound, None when unreachable.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Within(u64),
    Over(u64),
    Unreachable,
}

fn outcome(dist: Option<u64>, bound: u64) -> Outcome {
    match dist {
        Some(d) if d <= bound => Outcome::Within(d),
        Some(d) => Outcome::Over(d),
        None => Outcome::Unreachable,
    }
}

struct Measured {
    rows: Vec<Row>,
    /// For the networkx check: per request, Strata's answers.
    shortest: Vec<u64>,
    cspf: Vec<Outcome>,
    ksp: Vec<Vec<u64>>,
    disjoint: Vec<Option<u64>>,
    over_bound: usize,
}

/// Queries per block: each implementation runs a block of queries back to
/// back (its own structures warm, as in a controller computing a batch),
/// then the next implementation runs the same block; blocks alternate, so
/// load on the shared machine hits every implementation alike.
const BLOCK: usize = 10;

/// Strata and petgraph on the same requests, in alternating blocks.
fn measure_rust(g: &TeGraph, reqs: &[Request], heavy: usize) -> anyhow::Result<Measured> {
    let n = g.nodes.len();
    let pg = petgraph_of(g);
    let plain = Constraints::default();
    let (mut t_s, mut t_p, mut t_c, mut t_pc) = (vec![], vec![], vec![], vec![]);
    let mut m = Measured {
        rows: Vec::new(),
        shortest: Vec::new(),
        cspf: Vec::new(),
        ksp: Vec::new(),
        disjoint: Vec::new(),
        over_bound: 0,
    };
    // warm caches and the allocator before anything is timed
    for r in reqs.iter().take(BLOCK) {
        black_box(cspf(g, r.src, r.dst, &r.constraints).ok());
        black_box(dijkstra(&pg, NodeIndex::new(r.src), None, |e| *e.weight()));
    }
    let pg_filtered = |r: &Request| {
        let xn = NodeIndex::new(r.exclude_node);
        let links = &r.link_edges;
        let fg = EdgeFiltered::from_fn(&pg, move |e: EdgeReference<'_, u64>| {
            !links.contains(&e.id().index()) && e.source() != xn && e.target() != xn
        });
        let (s, d) = (NodeIndex::new(r.src), NodeIndex::new(r.dst));
        dijkstra(&fg, s, Some(d), |e| *e.weight()).get(&d).copied()
    };
    let pg_plain = |r: &Request| {
        let (s, d) = (NodeIndex::new(r.src), NodeIndex::new(r.dst));
        dijkstra(&pg, s, Some(d), |e| *e.weight()).get(&d).copied()
    };
    for (b, block) in reqs.chunks(BLOCK).enumerate() {
        let mut plain_paths = Vec::with_capacity(block.len());
        for r in block {
            let (t, p) = timed(|| cspf(g, r.src, r.dst, &plain));
            t_s.push(t);
            plain_paths.push(p?);
        }
        let mut dists = Vec::with_capacity(block.len());
        for r in block {
            let (t, d) = timed(|| pg_plain(r));
            t_p.push(t);
            dists.push(d);
        }
        let mut constrained = Vec::with_capacity(block.len());
        for r in block {
            let (t, p) = timed(|| cspf(g, r.src, r.dst, &r.constraints));
            t_c.push(t);
            constrained.push(p);
        }
        let mut fdists = Vec::with_capacity(block.len());
        for r in block {
            let (t, d) = timed(|| pg_filtered(r));
            t_pc.push(t);
            fdists.push(d);
        }
        for (j, r) in block.iter().enumerate() {
            let i = b * BLOCK + j;
            let path = &plain_paths[j];
            anyhow::ensure!(
                Some(path.cost) == dists[j],
                "query {i} {}→{}: Strata's shortest path costs {} µs, petgraph's distance is {:?}",
                r.src,
                r.dst,
                path.cost,
                dists[j]
            );
            let mine = match &constrained[j] {
                Ok(p) => Outcome::Within(p.cost),
                Err(PathError::LatencyBound { best_us, .. }) => Outcome::Over(*best_us),
                Err(PathError::NoPath { .. }) => Outcome::Unreachable,
                Err(e) => return Err(e.clone().into()),
            };
            let theirs = outcome(fdists[j], r.bound_us);
            anyhow::ensure!(
                mine == theirs,
                "query {i} {}→{}: Strata CSPF says {mine:?}, petgraph on the pruned graph {theirs:?}",
                r.src,
                r.dst
            );
            if matches!(mine, Outcome::Over(_)) {
                m.over_bound += 1;
            }
            m.shortest.push(path.cost);
            m.cspf.push(mine);
        }
    }
    let (mut t_k, mut t_d) = (vec![], vec![]);
    for r in reqs.iter().take(heavy) {
        let (tk, paths) = timed(|| k_shortest(g, r.src, r.dst, &plain, K));
        let (td, pair) = timed(|| disjoint_pair(g, r.src, r.dst, &plain, Disjointness::Link));
        m.ksp.push(paths.iter().map(|p| p.cost).collect());
        m.disjoint.push(pair.ok().map(|(a, b)| a.cost + b.cost));
        t_k.push(tk);
        t_d.push(td);
    }
    use {Peer::*, Query::*};
    m.rows = vec![
        Row::new(n, Shortest, Strata, "strata cspf, no constraints", t_s),
        Row::new(n, Shortest, Petgraph, "petgraph dijkstra (goal)", t_p),
        Row::new(n, Cspf, Strata, "strata cspf lat+bound+excl", t_c),
        Row::new(n, Cspf, Petgraph, "petgraph dijkstra, same excl", t_pc),
        Row::new(n, Ksp, Strata, "strata k_shortest", t_k),
        Row::new(n, Disjoint, Strata, "strata disjoint_pair link", t_d),
    ];
    Ok(m)
}

fn ns(v: u64) -> Duration {
    Duration::from_nanos(v)
}

/// networkx on the same graph and requests; its answers must match Strata's.
fn measure_networkx(
    g: &TeGraph,
    reqs: &[Request],
    heavy: usize,
    m: &Measured,
    python: &std::path::Path,
    script: &std::path::Path,
) -> anyhow::Result<Vec<Row>> {
    let n = g.nodes.len();
    let export = Export {
        nodes: n,
        edges: g
            .edges
            .iter()
            .map(|e| (e.from, e.to, u64::from(e.latency_us)))
            .collect(),
        queries: reqs
            .iter()
            .map(|r| NxQuery {
                src: r.src,
                dst: r.dst,
                exclude_link: r.link_ends,
                exclude_node: r.exclude_node,
                bound_us: r.bound_us,
            })
            .collect(),
        heavy_queries: heavy,
        k: K,
    };
    let nx = networkx::run(python, script, &export)?;
    eprintln!(
        "bench pathcomp: networkx {} on Python {}",
        nx.networkx, nx.python
    );
    anyhow::ensure!(
        nx.shortest.len() == reqs.len() && nx.cspf.len() == reqs.len(),
        "networkx answered {} of {} queries",
        nx.shortest.len(),
        reqs.len()
    );
    for (i, (a, b)) in m.shortest.iter().zip(&nx.shortest).enumerate() {
        anyhow::ensure!(
            Some(*a) == b.cost,
            "query {i}: shortest costs {a} in Strata, {:?} in networkx",
            b.cost
        );
    }
    for (i, (a, b)) in m.cspf.iter().zip(&nx.cspf).enumerate() {
        let theirs = match (b.cost, b.within_bound) {
            (Some(c), true) => Outcome::Within(c),
            (Some(c), false) => Outcome::Over(c),
            (None, _) => Outcome::Unreachable,
        };
        anyhow::ensure!(
            *a == theirs,
            "query {i}: CSPF gives {a:?} in Strata, {theirs:?} in networkx"
        );
    }
    for (i, (a, b)) in m.ksp.iter().zip(&nx.ksp).enumerate() {
        anyhow::ensure!(
            *a == b.costs,
            "query {i}: k-shortest costs {a:?} in Strata, {:?} in networkx",
            b.costs
        );
    }
    for (i, (a, b)) in m.disjoint.iter().zip(&nx.disjoint).enumerate() {
        anyhow::ensure!(
            *a == b.cost,
            "query {i}: disjoint pair total {a:?} in Strata, {:?} in networkx min-cost flow",
            b.cost
        );
    }
    use {Peer::Networkx, Query::*};
    let times = |v: Vec<u64>| v.into_iter().map(ns).collect::<Vec<_>>();
    Ok(vec![
        Row::new(
            n,
            Shortest,
            Networkx,
            "networkx dijkstra_path",
            times(nx.shortest.iter().map(|t| t.ns).collect()),
        ),
        Row::new(
            n,
            Cspf,
            Networkx,
            "networkx dijkstra_path, excl+bound",
            times(nx.cspf.iter().map(|t| t.ns).collect()),
        ),
        Row::new(
            n,
            Ksp,
            Networkx,
            "networkx shortest_simple_paths",
            times(nx.ksp.iter().map(|t| t.ns).collect()),
        ),
        Row::new(
            n,
            Disjoint,
            Networkx,
            "networkx min_cost_flow, 2 units",
            times(nx.disjoint.iter().map(|t| t.ns).collect()),
        ),
    ])
}

/// Strata's time over the peer's, at p50 and p99. CSPF is compared with
/// petgraph's plain Dijkstra: the floor the target is set against.
fn ratio(rows: &[Row], r: &Row, peer: Peer) -> Option<(f64, f64)> {
    if r.peer != Peer::Strata {
        return None;
    }
    let query = match (peer, r.query) {
        (Peer::Petgraph, Query::Cspf) => Query::Shortest,
        (_, q) => q,
    };
    let other = rows
        .iter()
        .find(|o| o.nodes == r.nodes && o.peer == peer && o.query == query)?;
    let f = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-12);
    Some((f(r.p50(), other.p50()), f(r.p99(), other.p99())))
}

fn fmt_ratio(r: Option<(f64, f64)>) -> String {
    match r {
        Some((a, b)) if a < 0.1 => format!("1/{:.0} · 1/{:.0}", 1.0 / a, 1.0 / b),
        Some((a, b)) => format!("{a:.2} · {b:.2}"),
        None => "—".into(),
    }
}

pub fn print_header() {
    println!("\npathcomp: per-path computation time; ratio = Strata time / peer time (p50 · p99)");
    println!(
        "{:<9} {:>6}  {:<15} {:<35} {:>10} {:>10} {:>7}  {:>13}  {:>13}",
        "suite", "nodes", "query", "implementation", "p50", "p99", "n", "×petgraph", "×networkx"
    );
}

pub fn print_rows(rows: &[Row]) {
    for r in rows.iter().filter(|r| !r.samples.is_empty()) {
        println!(
            "{:<9} {:>6}  {:<15} {:<35} {:>10.2?} {:>10.2?} {:>7}  {:>13}  {:>13}",
            "pathcomp",
            r.nodes,
            r.query.name(),
            r.how,
            r.p50(),
            r.p99(),
            r.samples.len(),
            fmt_ratio(ratio(rows, r, Peer::Petgraph)),
            fmt_ratio(ratio(rows, r, Peer::Networkx)),
        );
    }
}

/// Cost against fabric size: p50 solid, p99 dashed, one colour per
/// implementation and query.
pub fn plot_cost_vs_size(rows: &[Row], path: &std::path::Path) -> anyhow::Result<()> {
    let mut kinds: Vec<(Query, Peer, &'static str)> = Vec::new();
    for r in rows.iter().filter(|r| !r.samples.is_empty()) {
        if !kinds.iter().any(|k| (k.0, k.1) == (r.query, r.peer)) {
            kinds.push((r.query, r.peer, r.how));
        }
    }
    let mut series = Vec::new();
    for (color, (q, p, how)) in kinds.into_iter().enumerate() {
        let of = |pick: fn(&Row) -> Duration| {
            rows.iter()
                .filter(|r| (r.query, r.peer) == (q, p) && !r.samples.is_empty())
                .map(|r| (r.nodes as f64, pick(r).as_secs_f64()))
                .collect::<Vec<_>>()
        };
        series.push(Series {
            label: format!("{how} p50"),
            points: of(Row::p50),
            dashed: false,
            color,
        });
        series.push(Series {
            label: format!("{how} p99"),
            points: of(Row::p99),
            dashed: true,
            color,
        });
    }
    plot::log_log_lines(
        path,
        "pathcomp: time per query vs fabric size (p50 solid, p99 dashed)",
        "nodes (≈4 links per node)",
        "time per query",
        &series,
    )
}

/// Runs every size, prints the table as sizes finish, writes the plot.
pub fn run(o: &Options) -> anyhow::Result<Vec<Row>> {
    let nx = if o.networkx {
        match networkx::locate() {
            Ok(found) => Some(found),
            Err(why) => {
                eprintln!("bench pathcomp: skipping the networkx rows: {why}");
                None
            }
        }
    } else {
        eprintln!("bench pathcomp: networkx rows skipped (--skip-networkx)");
        None
    };
    print_header();
    let mut all = Vec::new();
    for &n in &o.nodes {
        eprintln!("bench pathcomp: {n} nodes, generating the fabric …");
        let g = TeGraph::packet_layer(&generated_fabric(n, SEED));
        let reqs = requests(&g, o.queries, SEED ^ n as u64)?;
        let heavy = o.heavy_queries.min(reqs.len());
        eprintln!(
            "bench pathcomp: {n} nodes, {} directed edges; {} queries ({heavy} for k-shortest and disjoint pair) …",
            g.edges.len(),
            reqs.len()
        );
        let m = measure_rust(&g, &reqs, heavy)?;
        let mut rows = m.rows.clone();
        if let Some((python, script)) = &nx {
            eprintln!("bench pathcomp: {n} nodes, networkx …");
            rows.extend(measure_networkx(&g, &reqs, heavy, &m, python, script)?);
        }
        rows.sort_by_key(|r| (r.query as u8, r.peer as u8));
        print_rows(&rows);
        println!(
            "{:<9} {:>6}  (answers agree with every peer; CSPF: {} of {} pairs over the bound once detoured)",
            "", "", m.over_bound, reqs.len()
        );
        all.extend(rows);
    }
    let plot = o.out_dir.join("pathcomp-cost-vs-size.svg");
    plot_cost_vs_size(&all, &plot)?;
    eprintln!("bench pathcomp: wrote {}", plot.display());
    Ok(all)
}
