//! Routing, mode and wavelength assignment for a coherent channel: k
//! shortest routes by fiber length, the best mode that closes on one of
//! them under a full band (physical-layer model, `feasibility.rs`), and a
//! channel free end to end (first fit).

use std::collections::{BTreeSet, HashMap};

use super::feasibility::{self, RouteFiber};
use super::grid::{channel_frequency_mhz, Spectrum, CHANNEL_COUNT};
use super::modes::{Mode, ModeId};
use super::plant::FiberPlant;
use crate::model::{Layer, Role, Topology};
use crate::pathcomp::graph::{EdgeId, NodeId};
use crate::pathcomp::search::{Topo, Weights};
use crate::pathcomp::yen::yen;

#[derive(Debug, Clone, PartialEq)]
struct Fiber {
    name: String,
    a: NodeId,
    b: NodeId,
    plant: FiberPlant,
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
                    plant: l
                        .plant
                        .clone()
                        .unwrap_or_else(|| FiberPlant::defaults(l.length_km)),
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

    /// The physical plant of `link` (`None` for an unknown fiber).
    pub fn plant(&self, link: &str) -> Option<&FiberPlant> {
        self.fibers
            .iter()
            .find(|f| f.name == link)
            .map(|f| &f.plant)
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
    /// The mode the route closes in.
    pub mode: ModeId,
    /// GSNR of the worst position of a full band (the planning loading),
    /// rounded to 0.01 dB.
    pub osnr_db: f64,
    pub required_osnr_db: f64,
    /// The margin asked for.
    pub margin_db: f64,
    /// What is left over it at full load: GSNR − (required + penalties +
    /// margin), rounded to 0.01 dB.
    pub planned_margin_db: f64,
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
    #[error("no channel is free on every fiber of any of the {routes_tried} feasible routes tried: {reason}")]
    NoSpectrum { routes_tried: usize, reason: String },
    #[error("on the shortest route ({length_km:.1} km) {reason}")]
    Infeasible { length_km: f64, reason: String },
}

/// What a wavelength asks of the planner.
pub struct Ask<'a> {
    /// Modes to try, best first: one for an explicit mode, else every mode
    /// both transponders offer (`modes::ranked`).
    pub modes: &'a [&'static Mode],
    /// Modes a refusal may suggest instead (what both transponders offer).
    pub hints: &'a [&'static Mode],
    /// The transceiver's output power, as programmed.
    pub tx_power_dbm: f64,
    pub margin_db: f64,
    /// Routes to consider, shortest first.
    pub k: usize,
    pub exclude_fibers: &'a BTreeSet<String>,
}

/// Plans a channel from `a` to `b`: up to `k` loopless routes shortest first
/// (Yen on fiber length, skipping down fibers and `exclude_fibers`); modes
/// are tried best first and, for each, routes shortest first: the first
/// (mode, route) that closes at full load (`feasibility::planned`) and has
/// a channel free on every fiber takes the lowest such channel. A higher
/// rate on a longer route beats a lower rate on the shortest one. When
/// nothing closes, the error explains the shortest route's verdict for the
/// most robust mode tried and names a hint mode that would fit, if any.
pub fn plan_wavelength(
    g: &FiberGraph,
    spectrum: &Spectrum,
    a: &str,
    b: &str,
    ask: &Ask,
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
            f.up && !ask.exclude_fibers.contains(&f.name)
        })
        .collect();
    // whole metres keep the order exact and deterministic
    let meters = |f: &Fiber| (f.plant.length_km().max(0.0) * 1000.0).round() as u64;
    let w = Weights {
        cost: (0..g.edge_count()).map(|e| meters(g.fiber_of(e))).collect(),
        lat: vec![0; g.edge_count()],
    };
    let k = ask.k.max(1);
    let routes = yen(g, &w, &ok, ai, bi, None, false, k);
    if routes.is_empty() {
        let down = g.fibers.iter().filter(|f| !f.up).count();
        let excluded = g
            .fibers
            .iter()
            .filter(|f| f.up && ask.exclude_fibers.contains(&f.name))
            .count();
        return Err(no_route(format!(
            "{down} fibers down and {excluded} excluded; nothing joins the ends"
        )));
    }
    let lit: Vec<Vec<Vec<(usize, ModeId)>>> = routes
        .iter()
        .map(|r| {
            r.iter()
                .map(|&e| spectrum.carriers(&g.fiber_of(e).name))
                .collect()
        })
        .collect();
    let route_fibers = |i: usize| -> Vec<RouteFiber> {
        routes[i]
            .iter()
            .zip(&lit[i])
            .map(|(&e, l)| RouteFiber::new(&g.fiber_of(e).plant, l))
            .collect()
    };
    let judge_on = |i: usize, m: &'static Mode| {
        feasibility::planned(&route_fibers(i), m, ask.tx_power_dbm, ask.margin_db)
    };
    let mut feasible = 0;
    for &m in ask.modes {
        for (i, route) in routes.iter().enumerate() {
            let v = judge_on(i, m);
            if !v.feasible() {
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
                length_km: v.budget.length_km,
                mode: m.id,
                osnr_db: round2(v.budget.gsnr_db()),
                required_osnr_db: m.required_osnr_db,
                margin_db: ask.margin_db,
                planned_margin_db: round2(v.osnr_margin_db),
            });
        }
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
    let length_km = route_fibers(0).iter().map(|f| f.plant.length_km()).sum();
    let Some(&last) = ask.modes.last() else {
        return Err(RwaError::Infeasible {
            length_km,
            reason: "no operational mode is offered by both transponders".into(),
        });
    };
    let mut reason = if ask.modes.len() > 1 {
        format!(
            "none of the {} modes both transponders offer closes; the most robust, {}",
            ask.modes.len(),
            judge_on(0, last).explain()
        )
    } else {
        judge_on(0, last).explain()
    };
    if let Some(hint) = ask
        .hints
        .iter()
        .filter(|h| !ask.modes.iter().any(|m| m.id == h.id))
        .find(|h| judge_on(0, h).feasible())
    {
        reason.push_str(&format!("; {} would fit", hint.name));
    }
    Err(RwaError::Infeasible { length_km, reason })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
