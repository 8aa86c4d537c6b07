//! 400ZR routing and spectrum assignment over the fiber layer: k-shortest
//! routes by length, an OSNR estimate per route against the mode's
//! requirement, and the lowest channel free on every span (continuity).

use std::collections::{BTreeSet, HashMap};

use crate::model::{Layer, Role, Topology};

/// 75 GHz grid: f = 193.1 THz + n·75 GHz, n ∈ [-24, 40] (191.3–196.1 THz).
pub const CHANNEL_COUNT: usize = 65;
const GRID_ANCHOR_MHZ: i64 = 193_100_000;
const GRID_STEP_MHZ: i64 = 75_000;
const GRID_N_MIN: i64 = -24;

pub fn channel_frequency_mhz(index: usize) -> u64 {
    (GRID_ANCHOR_MHZ + (index as i64 + GRID_N_MIN) * GRID_STEP_MHZ) as u64
}

pub fn channel_index(freq_mhz: u64) -> Option<usize> {
    let off = freq_mhz as i64 - GRID_ANCHOR_MHZ;
    if off % GRID_STEP_MHZ != 0 {
        return None;
    }
    let idx = off / GRID_STEP_MHZ - GRID_N_MIN;
    (0..CHANNEL_COUNT as i64)
        .contains(&idx)
        .then_some(idx as usize)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mode {
    pub id: u16,
    pub name: &'static str,
    /// Required OSNR (dB, 0.1 nm) at the receiver for error-free post-FEC.
    pub required_osnr_db: f64,
}

pub const MODES: &[Mode] = &[
    Mode {
        id: 1,
        name: "400ZR DP-16QAM cFEC",
        required_osnr_db: 26.0,
    },
    Mode {
        id: 2,
        name: "400ZR+ DP-16QAM oFEC",
        required_osnr_db: 24.0,
    },
    Mode {
        id: 3,
        name: "300G DP-8QAM oFEC",
        required_osnr_db: 21.0,
    },
    Mode {
        id: 4,
        name: "200G DP-QPSK oFEC",
        required_osnr_db: 17.0,
    },
];

pub const SPAN_KM: f64 = 80.0;
pub const FIBER_LOSS_DB_PER_KM: f64 = 0.22;
pub const AMP_NOISE_FIGURE_DB: f64 = 5.5;
pub const LAUNCH_DBM: f64 = 0.0;

/// ASE-limited OSNR over a chain of fibers, each cut into ⌈len/80⌉ equal
/// amplified spans; noise adds linearly across every span of every fiber:
/// OSNR = 58 + P − NF − 10·log10(Σ 10^(L_span/10)). For one fiber this is
/// the textbook 58 + P − NF − L_span − 10·log10(N).
pub fn estimated_osnr_db(fiber_lengths_km: &[f64]) -> f64 {
    let noise: f64 = fiber_lengths_km
        .iter()
        .map(|&len| {
            let n = (len / SPAN_KM).ceil().max(1.0);
            let loss = (len / n) * FIBER_LOSS_DB_PER_KM;
            n * 10f64.powf(loss / 10.0)
        })
        .sum();
    58.0 + LAUNCH_DBM - AMP_NOISE_FIGURE_DB - 10.0 * noise.max(1.0).log10()
}

#[derive(Debug, Clone)]
struct Fiber {
    name: String,
    a: usize,
    b: usize,
    length_km: f64,
    up: bool,
}

/// Optical nodes and the fibers between them (undirected).
#[derive(Debug, Clone, Default)]
pub struct FiberGraph {
    nodes: Vec<String>,
    index: HashMap<String, usize>,
    fibers: Vec<Fiber>,
}

impl FiberGraph {
    pub fn from_topology(t: &Topology) -> Self {
        let nodes: Vec<String> = t
            .nodes
            .iter()
            .filter(|n| n.role == Role::Optical)
            .map(|n| n.name.clone())
            .collect();
        let index: HashMap<String, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let fibers = t
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
                })
            })
            .collect();
        FiberGraph {
            nodes,
            index,
            fibers,
        }
    }

    pub fn set_fiber_up(&mut self, link: &str, up: bool) {
        for f in self.fibers.iter_mut().filter(|f| f.name == link) {
            f.up = up;
        }
    }
}

/// Which channels are lit on which fiber.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spectrum {
    used: HashMap<String, [bool; CHANNEL_COUNT]>,
}

impl Spectrum {
    pub fn is_free(&self, fiber: &str, ch: usize) -> bool {
        ch < CHANNEL_COUNT && !self.used.get(fiber).is_some_and(|u| u[ch])
    }

    pub fn occupy(&mut self, fibers: &[String], ch: usize) {
        if ch < CHANNEL_COUNT {
            for f in fibers {
                self.used.entry(f.clone()).or_insert([false; CHANNEL_COUNT])[ch] = true;
            }
        }
    }

    pub fn release(&mut self, fibers: &[String], ch: usize) {
        if ch < CHANNEL_COUNT {
            for f in fibers {
                if let Some(u) = self.used.get_mut(f) {
                    u[ch] = false;
                }
            }
        }
    }

    pub fn lit(&self, fiber: &str) -> usize {
        self.used
            .get(fiber)
            .map(|u| u.iter().filter(|x| **x).count())
            .unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WavelengthPlan {
    pub fibers: Vec<String>,
    pub nodes: Vec<String>,
    pub channel: usize,
    pub frequency_mhz: u64,
    pub length_km: f64,
    pub osnr_db: f64,
    pub required_osnr_db: f64,
    pub margin_db: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RwaError {
    #[error("unknown optical node {0:?}")]
    UnknownNode(String),
    #[error("no fiber route from {from} to {to}")]
    NoRoute { from: String, to: String },
    #[error(
        "no channel is free on every fiber of the {routes_tried} feasible routes tried: {reason}"
    )]
    NoSpectrum { routes_tried: usize, reason: String },
    #[error("estimated OSNR {best_osnr_db:.1} dB over {length_km:.0} km (best route) is below the required {required_osnr_db:.1} dB + {margin_db:.1} dB margin")]
    Infeasible {
        best_osnr_db: f64,
        required_osnr_db: f64,
        margin_db: f64,
        length_km: f64,
    },
}

/// Up to k loopless routes by total length (Yen over the fiber graph).
fn routes(
    g: &FiberGraph,
    a: usize,
    b: usize,
    k: usize,
    exclude: &BTreeSet<String>,
) -> Vec<Vec<usize>> {
    let usable: Vec<bool> = g
        .fibers
        .iter()
        .map(|f| f.up && !exclude.contains(&f.name))
        .collect();
    let shortest =
        |allowed: &[bool], banned_nodes: &BTreeSet<usize>, from: usize| -> Option<Vec<usize>> {
            let n = g.nodes.len();
            let mut dist = vec![f64::INFINITY; n];
            let mut prev: Vec<Option<usize>> = vec![None; n];
            let mut done = vec![false; n];
            dist[from] = 0.0;
            for _ in 0..n {
                let u = (0..n)
                    .filter(|&i| !done[i] && dist[i].is_finite())
                    .min_by(|&x, &y| dist[x].total_cmp(&dist[y]).then(x.cmp(&y)))?;
                done[u] = true;
                if u == b {
                    break;
                }
                for (fi, f) in g.fibers.iter().enumerate() {
                    if !allowed[fi] {
                        continue;
                    }
                    let v = if f.a == u {
                        f.b
                    } else if f.b == u {
                        f.a
                    } else {
                        continue;
                    };
                    if banned_nodes.contains(&v) || done[v] {
                        continue;
                    }
                    let d = dist[u] + f.length_km;
                    if d < dist[v] {
                        dist[v] = d;
                        prev[v] = Some(fi);
                    }
                }
            }
            if !dist[b].is_finite() {
                return None;
            }
            let mut out = Vec::new();
            let mut at = b;
            while at != from {
                let fi = prev[at]?;
                out.push(fi);
                let f = &g.fibers[fi];
                at = if f.a == at { f.b } else { f.a };
            }
            out.reverse();
            Some(out)
        };
    let node_seq = |route: &[usize]| -> Vec<usize> {
        let mut seq = vec![a];
        for &fi in route {
            let f = &g.fibers[fi];
            let last = *seq.last().unwrap_or(&a);
            seq.push(if f.a == last { f.b } else { f.a });
        }
        seq
    };
    let length = |r: &[usize]| -> f64 { r.iter().map(|&f| g.fibers[f].length_km).sum() };
    let Some(first) = shortest(&usable, &BTreeSet::new(), a) else {
        return Vec::new();
    };
    let mut found = vec![first];
    let mut candidates: Vec<Vec<usize>> = Vec::new();
    while found.len() < k {
        let last = found[found.len() - 1].clone();
        let seq = node_seq(&last);
        for i in 0..last.len() {
            let root = &last[..i];
            let mut allowed = usable.clone();
            for p in &found {
                if p.len() > i && p[..i] == *root {
                    allowed[p[i]] = false;
                }
            }
            let banned: BTreeSet<usize> = seq[..i].iter().copied().collect();
            if let Some(spur) = shortest(&allowed, &banned, seq[i]) {
                let mut r = root.to_vec();
                r.extend(spur);
                if !found.contains(&r) && !candidates.contains(&r) {
                    candidates.push(r);
                }
            }
        }
        candidates.sort_by(|x, y| length(x).total_cmp(&length(y)).then(x.cmp(y)));
        if candidates.is_empty() {
            break;
        }
        found.push(candidates.remove(0));
    }
    found
}

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
    let rs = routes(g, ai, bi, k.max(1), exclude_fibers);
    if rs.is_empty() {
        return Err(RwaError::NoRoute {
            from: a.to_string(),
            to: b.to_string(),
        });
    }
    let mut best: Option<(f64, f64)> = None;
    let mut feasible = 0;
    for r in &rs {
        let lengths: Vec<f64> = r.iter().map(|&f| g.fibers[f].length_km).collect();
        let osnr = estimated_osnr_db(&lengths);
        let length_km: f64 = lengths.iter().sum();
        if best.is_none_or(|(o, _)| osnr > o) {
            best = Some((osnr, length_km));
        }
        if osnr < mode.required_osnr_db + margin_db {
            continue;
        }
        feasible += 1;
        let names: Vec<String> = r.iter().map(|&f| g.fibers[f].name.clone()).collect();
        if let Some(ch) =
            (0..CHANNEL_COUNT).find(|&ch| names.iter().all(|f| spectrum.is_free(f, ch)))
        {
            let mut nodes = vec![g.nodes[ai].clone()];
            let mut at = ai;
            for &fi in r {
                let f = &g.fibers[fi];
                at = if f.a == at { f.b } else { f.a };
                nodes.push(g.nodes[at].clone());
            }
            return Ok(WavelengthPlan {
                fibers: names,
                nodes,
                channel: ch,
                frequency_mhz: channel_frequency_mhz(ch),
                length_km,
                osnr_db: (osnr * 100.0).round() / 100.0,
                required_osnr_db: mode.required_osnr_db,
                margin_db,
            });
        }
    }
    if feasible > 0 {
        return Err(RwaError::NoSpectrum {
            routes_tried: feasible,
            reason: "all 65 channels are taken on some fiber of each".into(),
        });
    }
    let (best_osnr_db, length_km) = best.unwrap_or((0.0, 0.0));
    Err(RwaError::Infeasible {
        best_osnr_db,
        required_osnr_db: mode.required_osnr_db,
        margin_db,
        length_km,
    })
}
