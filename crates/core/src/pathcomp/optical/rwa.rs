//! Routing and wavelength assignment for a 400ZR channel: k shortest routes
//! by fiber length, the first whose OSNR estimate clears the mode's
//! requirement plus margin and has a channel free end to end (first fit).

use std::collections::{BTreeSet, HashMap};

use super::grid::{channel_frequency_mhz, Spectrum, CHANNEL_COUNT};
use super::modes::Mode;
use super::osnr::estimated_osnr_db;
use crate::model::{Layer, Role, Topology};
use crate::pathcomp::graph::{EdgeId, NodeId};
use crate::pathcomp::search::{Topo, Weights};
use crate::pathcomp::yen::yen;

#[derive(Debug, Clone, PartialEq)]
struct Fiber {
    name: String,
    a: NodeId,
    b: NodeId,
    length_km: f64,
    up: bool,
    srlgs: BTreeSet<u32>,
}

/// Optical nodes and the fibers between them. Fibers are undirected; for the
/// shared search code fiber i is the directed edges 2i (a→b) and 2i+1 (b→a).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FiberGraph {
    nodes: Vec<String>,
    index: HashMap<String, NodeId>,
    fibers: Vec<Fiber>,
    out: Vec<Vec<EdgeId>>,
    inn: Vec<Vec<EdgeId>>,
}

impl FiberGraph {
    /// Optical-role nodes and the fiber-layer links between them.
    pub fn from_topology(t: &Topology) -> Self {
        let nodes: Vec<String> = t
            .nodes
            .iter()
            .filter(|n| n.role == Role::Optical)
            .map(|n| n.name.clone())
            .collect();
        let index: HashMap<String, NodeId> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let fibers: Vec<Fiber> = t
            .links
            .iter()
            .filter(|l| l.layer == Layer::Fiber)
            .filter_map(|l| {
                Some(Fiber {
                    name: l.name.clone(),
                    a: *index.get(&l.a.node)?,
                    b: *index.get(&l.b.node)?,
                    length_km: l.length_km,
                    up: true,
                    srlgs: l.srlgs.clone(),
                })
            })
            .collect();
        let mut out = vec![Vec::new(); nodes.len()];
        let mut inn = vec![Vec::new(); nodes.len()];
        for (i, f) in fibers.iter().enumerate() {
            for (e, from, to) in [(2 * i, f.a, f.b), (2 * i + 1, f.b, f.a)] {
                out[from].push(e);
                inn[to].push(e);
            }
        }
        FiberGraph {
            nodes,
            index,
            fibers,
            out,
            inn,
        }
    }

    pub fn set_fiber_up(&mut self, link: &str, up: bool) {
        for f in self.fibers.iter_mut().filter(|f| f.name == link) {
            f.up = up;
        }
    }

    /// Whether `link` is up (`None` for an unknown fiber).
    pub fn fiber_up(&self, link: &str) -> Option<bool> {
        self.fibers.iter().find(|f| f.name == link).map(|f| f.up)
    }

    /// The SRLGs of `link` (empty for an unknown fiber).
    pub fn fiber_srlgs(&self, link: &str) -> BTreeSet<u32> {
        self.fibers
            .iter()
            .find(|f| f.name == link)
            .map(|f| f.srlgs.clone())
            .unwrap_or_default()
    }

    fn fiber_of(&self, e: EdgeId) -> &Fiber {
        &self.fibers[e / 2]
    }
}

impl Topo for FiberGraph {
    fn node_count(&self) -> usize {
        self.nodes.len()
    }
    fn edge_count(&self) -> usize {
        2 * self.fibers.len()
    }
    fn out_edges(&self, n: NodeId) -> &[EdgeId] {
        self.out.get(n).map(Vec::as_slice).unwrap_or(&[])
    }
    fn in_edges(&self, n: NodeId) -> &[EdgeId] {
        self.inn.get(n).map(Vec::as_slice).unwrap_or(&[])
    }
    fn tail(&self, e: EdgeId) -> NodeId {
        let f = self.fiber_of(e);
        if e.is_multiple_of(2) {
            f.a
        } else {
            f.b
        }
    }
    fn head(&self, e: EdgeId) -> NodeId {
        let f = self.fiber_of(e);
        if e.is_multiple_of(2) {
            f.b
        } else {
            f.a
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WavelengthPlan {
    /// Fibers in order from `a` to `b`.
    pub fibers: Vec<String>,
    /// Optical nodes in order, `a` first.
    pub nodes: Vec<String>,
    pub channel: usize,
    pub frequency_mhz: u64,
    pub length_km: f64,
    /// Estimated OSNR, rounded to 0.01 dB.
    pub osnr_db: f64,
    pub required_osnr_db: f64,
    pub margin_db: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RwaError {
    #[error("unknown optical node {0:?}")]
    UnknownNode(String),
    #[error("no fiber route from {from} to {to}: {reason}")]
    NoRoute {
        from: String,
        to: String,
        reason: String,
    },
    #[error("no channel is free on every fiber of any of the {routes_tried} OSNR-feasible routes tried: {reason}")]
    NoSpectrum { routes_tried: usize, reason: String },
    #[error("the best route ({length_km:.1} km) has an estimated OSNR of {best_osnr_db:.2} dB, below the required {required_osnr_db:.2} dB plus {margin_db:.2} dB margin")]
    Infeasible {
        best_osnr_db: f64,
        required_osnr_db: f64,
        margin_db: f64,
        length_km: f64,
    },
}

/// Plans a channel from `a` to `b` in `mode`: up to `k` loopless routes
/// shortest first (Yen on fiber length, skipping down fibers and
/// `exclude_fibers`); routes whose OSNR estimate is below the requirement
/// plus `margin_db` are skipped (the best of them is reported if nothing is
/// feasible); on the first feasible route with a channel free on every fiber,
/// the lowest such channel is taken. Feasible routes with no common free
/// channel make `NoSpectrum`.
#[allow(clippy::too_many_arguments)]
pub fn plan_wavelength(
    g: &FiberGraph,
    spectrum: &Spectrum,
    a: &str,
    b: &str,
    mode: &Mode,
    margin_db: f64,
    k: usize,
    exclude_fibers: &BTreeSet<String>,
) -> Result<WavelengthPlan, RwaError> {
    let ai = *g
        .index
        .get(a)
        .ok_or_else(|| RwaError::UnknownNode(a.to_string()))?;
    let bi = *g
        .index
        .get(b)
        .ok_or_else(|| RwaError::UnknownNode(b.to_string()))?;
    let no_route = |reason: String| RwaError::NoRoute {
        from: a.to_string(),
        to: b.to_string(),
        reason,
    };
    if ai == bi {
        return Err(no_route("both ends are the same node".into()));
    }
    let ok: Vec<bool> = (0..g.edge_count())
        .map(|e| {
            let f = g.fiber_of(e);
            f.up && !exclude_fibers.contains(&f.name)
        })
        .collect();
    // whole metres keep the order exact and deterministic
    let meters = |f: &Fiber| (f.length_km.max(0.0) * 1000.0).round() as u64;
    let w = Weights {
        cost: (0..g.edge_count()).map(|e| meters(g.fiber_of(e))).collect(),
        lat: vec![0; g.edge_count()],
    };
    let routes = yen(g, &w, &ok, ai, bi, None, false, k.max(1));
    if routes.is_empty() {
        let down = g.fibers.iter().filter(|f| !f.up).count();
        let excluded = g
            .fibers
            .iter()
            .filter(|f| f.up && exclude_fibers.contains(&f.name))
            .count();
        return Err(no_route(format!(
            "{down} fibers down and {excluded} excluded; nothing joins the ends"
        )));
    }
    let mut best: Option<(f64, f64)> = None;
    let mut feasible = 0;
    for route in &routes {
        let lengths: Vec<f64> = route.iter().map(|&e| g.fiber_of(e).length_km).collect();
        let osnr = estimated_osnr_db(&lengths);
        let length_km: f64 = lengths.iter().sum();
        if best.is_none_or(|(o, _)| osnr > o) {
            best = Some((osnr, length_km));
        }
        if osnr < mode.required_osnr_db + margin_db {
            continue;
        }
        feasible += 1;
        let fibers: Vec<String> = route.iter().map(|&e| g.fiber_of(e).name.clone()).collect();
        let Some(channel) = spectrum.first_fit(&fibers) else {
            continue;
        };
        let mut nodes = vec![g.nodes[ai].clone()];
        nodes.extend(route.iter().map(|&e| g.nodes[g.head(e)].clone()));
        return Ok(WavelengthPlan {
            fibers,
            nodes,
            channel,
            frequency_mhz: channel_frequency_mhz(channel),
            length_km,
            osnr_db: (osnr * 100.0).round() / 100.0,
            required_osnr_db: mode.required_osnr_db,
            margin_db,
        });
    }
    if feasible > 0 {
        return Err(RwaError::NoSpectrum {
            routes_tried: feasible,
            reason: format!(
                "on each, every one of the {CHANNEL_COUNT} channels is lit on at least one of \
                 its fibers ({} routes considered, k = {k})",
                routes.len()
            ),
        });
    }
    let (best_osnr_db, length_km) = best.unwrap_or((f64::NEG_INFINITY, 0.0));
    Err(RwaError::Infeasible {
        best_osnr_db,
        required_osnr_db: mode.required_osnr_db,
        margin_db,
        length_km,
    })
}
