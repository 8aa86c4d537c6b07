//! Repair paths: per placed policy and per link it rides, the placement the
//! reroute would compute if that link failed (the best path avoiding it
//! under the policy's constraints, with its SID list), computed ahead of the
//! failure so a breach becomes a lookup.
//!
//! Shared: policies with the same headend, endpoint and constraints share one
//! entry per link. Bounded: at most `max_paths` stored paths. Fresh by
//! construction rather than by notification: an entry remembers the TE
//! graph's version it was computed at, and is used only if every edge
//! changed since (the graph's change log) cannot have changed the answer —
//! an edge off the path got no better, an edge on it did not change, the IGP
//! view and the SRLG/group sets did not change. Anything else is a miss and
//! the reroute computes, so with or without this cache it gives the same
//! answers. `refresh` recomputes only missing and stale entries.
//!
//! Covered: policies with no bandwidth and no disjointness constraint (their
//! re-placement depends on the graph alone, not on their own reservation or
//! a partner's path). Others always compute.

use std::collections::{HashMap, HashSet};

use super::policy::{self, REPLAN_WHAT};
use super::records::PolicyRecord;
use super::Fabric;
use crate::pathcomp::{
    cspf, Constraints, EdgeId, EdgeState, IgpSpf, Metric, NodeId, Path, Segment, TeGraph,
};

/// Who shares an entry: the same request on the same endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    src: NodeId,
    dst: NodeId,
    /// `Constraints` holds a float: its `Debug` spelling is the identity.
    constraints: String,
    max_sid_depth: usize,
}

#[derive(Debug, Clone)]
struct Placed {
    version: u64,
    /// `None`: no path avoiding the link (the reroute computes, to say why).
    found: Option<(Path, Vec<Segment>)>,
}

/// The best path with no link avoided and no SID-depth limit: its cost is a
/// lower bound on every path, which decides when a slowed link's repair path
/// is certainly the best.
#[derive(Debug, Clone)]
struct Best {
    version: u64,
    edges: Vec<EdgeId>,
    cost: u64,
}

#[derive(Debug, Clone, Default)]
struct Entry {
    best: Option<Best>,
    avoiding: HashMap<String, Placed>,
}

#[derive(Debug, Clone)]
pub struct RepairCache {
    entries: HashMap<Key, Entry>,
    /// Paths held now, and at most.
    paths: usize,
    pub max_paths: usize,
}

/// Enough for 10,000 policies riding ~20 links each, each path its own.
pub const DEFAULT_MAX_PATHS: usize = 250_000;

impl Default for RepairCache {
    fn default() -> Self {
        RepairCache {
            entries: HashMap::new(),
            paths: 0,
            max_paths: DEFAULT_MAX_PATHS,
        }
    }
}

/// What one `refresh` computed, to be put in with `RepairCache::absorb`
/// (computed under a read of the fabric, absorbed under a write).
#[derive(Debug, Default)]
pub struct Refresh {
    best: Vec<(Key, Best)>,
    avoiding: Vec<(Key, String, Placed)>,
    /// Every entry needed is present and fresh.
    pub complete: bool,
    /// Keys some eligible policy still uses (only when the walk finished).
    used: Option<HashSet<Key>>,
}

impl Refresh {
    pub fn computed(&self) -> usize {
        self.best.len() + self.avoiding.len()
    }
}

fn eligible(p: &PolicyRecord) -> bool {
    p.disjoint.is_none() && p.constraints.bandwidth_gbps == 0.0
}

fn key_of(g: &TeGraph, p: &PolicyRecord) -> Option<Key> {
    Some(Key {
        src: g.node_id(&p.headend)?,
        dst: g.node_id(&p.endpoint)?,
        constraints: format!("{:?}", p.constraints),
        max_sid_depth: p.max_sid_depth,
    })
}

fn cost_of(s: &EdgeState, m: Metric) -> u64 {
    match m {
        Metric::Latency => u64::from(s.latency_us),
        Metric::Te => u64::from(s.te_metric),
        Metric::Igp => u64::from(s.igp_metric.max(1)),
        Metric::Hops => 1,
    }
}

/// Usable as far as changing attributes go (static exclusions are left out:
/// an excluded edge is unusable at both times, and treating it as usable
/// only makes the check more cautious).
fn open(s: &EdgeState, c: &Constraints) -> bool {
    s.up && !s.pruned && s.slack_gbps >= c.bandwidth_gbps
}

/// Each changed edge's state at version `v` (its first record after `v`),
/// or `None` if the log does not reach back.
fn then_states(g: &TeGraph, v: u64) -> Option<HashMap<EdgeId, EdgeState>> {
    let mut then = HashMap::new();
    for (e, s) in g.changes_since(v)? {
        then.entry(e).or_insert(s);
    }
    Some(then)
}

/// Whether the best path computed at `v` (edges `on`) is still the best:
/// no edge changed since `v` can have changed the answer. Edges in `skip`
/// (the avoided link) are not looked at.
fn fresh(g: &TeGraph, v: u64, on: &[EdgeId], c: &Constraints, skip: &[EdgeId]) -> bool {
    let Some(then) = then_states(g, v) else {
        return false;
    };
    then.iter().all(|(&e, was)| {
        if skip.contains(&e) {
            return true;
        }
        let Some(now) = g.edges.get(e).map(EdgeState::of) else {
            return false;
        };
        if now == *was {
            return true;
        }
        // SID lists and the SID-depth fit follow the IGP view
        if now.up != was.up || now.igp_metric != was.igp_metric || now.sets != was.sets {
            return false;
        }
        let (cn, cw) = (cost_of(&now, c.metric), cost_of(was, c.metric));
        if on.contains(&e) {
            open(&now, c) && cn == cw && now.latency_us == was.latency_us
        } else {
            // no better than it was: not newly usable, not cheaper, not faster
            !open(&now, c) || (open(was, c) && cn >= cw && now.latency_us >= was.latency_us)
        }
    })
}

impl RepairCache {
    pub fn paths(&self) -> usize {
        self.paths
    }

    /// Stored edge ids and SIDs, roughly: what the cache costs in memory.
    pub fn approx_bytes(&self) -> usize {
        self.entries
            .values()
            .map(|e| {
                e.best.as_ref().map_or(0, |b| b.edges.len() * 8 + 48)
                    + e.avoiding
                        .iter()
                        .map(|(l, p)| {
                            l.len()
                                + 64
                                + p.found.as_ref().map_or(0, |(path, segs)| {
                                    path.edges.len() * 16 + segs.len() * 16 + 64
                                })
                        })
                        .sum::<usize>()
            })
            .sum()
    }

    /// The re-placement of `p` with `link` degraded as the fabric's graph
    /// now has it, if this cache knows it for certain: `link` pruned (any
    /// entry avoiding it that is still fresh), or slowed on a latency-metric
    /// policy (the repair path is cheaper than the best path before the
    /// slowdown plus the slowdown, so no path over the link can beat it).
    pub fn lookup(
        &self,
        fabric: &Fabric,
        p: &PolicyRecord,
        link: &str,
    ) -> Option<(Path, Vec<Segment>)> {
        if !eligible(p) {
            return None;
        }
        let g = &fabric.graph;
        let entry = self.entries.get(&key_of(g, p)?)?;
        let placed = entry.avoiding.get(link)?;
        let (path, segments) = placed.found.as_ref()?;
        let skip: Vec<EdgeId> = g.edges_of_link(link).collect();
        if !fresh(g, placed.version, &path.edges, &p.constraints, &skip) {
            return None;
        }
        let pruned = skip
            .iter()
            .all(|&e| g.edges.get(e).is_some_and(|x| x.pruned || !x.up));
        if pruned || self.beats_any_over(g, entry.best.as_ref()?, p, path, &skip) {
            return Some((path.clone(), segments.clone()));
        }
        None
    }

    /// Whether `repair` (avoiding the link of edges `link`) is strictly
    /// cheaper than every path over the link now. `best` was the best path
    /// at its version; since then only the link's edges may have changed
    /// (checked), each at least `delta` dearer.
    fn beats_any_over(
        &self,
        g: &TeGraph,
        best: &Best,
        p: &PolicyRecord,
        repair: &Path,
        link: &[EdgeId],
    ) -> bool {
        let c = &p.constraints;
        if !fresh(g, best.version, &best.edges, c, link) {
            return false;
        }
        let Some(then) = then_states(g, best.version) else {
            return false;
        };
        let mut delta = u64::MAX;
        for &e in link {
            let Some(now) = g.edges.get(e).map(EdgeState::of) else {
                return false;
            };
            if !open(&now, c) {
                continue; // no path over this direction at all
            }
            let was = then.get(&e).copied().unwrap_or(now);
            if now.up != was.up || now.igp_metric != was.igp_metric || now.sets != was.sets {
                return false;
            }
            let (cn, cw) = (cost_of(&now, c.metric), cost_of(&was, c.metric));
            if !open(&was, c) || cn < cw || now.latency_us < was.latency_us {
                return false;
            }
            delta = delta.min(cn - cw);
        }
        repair.cost < best.cost.saturating_add(delta)
    }

    /// Computes up to `budget` missing or stale entries for the placed
    /// policies (those not in flight). Pure: reads the fabric only.
    pub fn refresh(&self, fabric: &Fabric, budget: usize) -> Refresh {
        let g = &fabric.graph;
        let mut spf = IgpSpf::new(g);
        let mut out = Refresh::default();
        let mut used = HashSet::new();
        let mut planned: HashSet<(Key, Option<String>)> = HashSet::new();
        let mut room = self.max_paths.saturating_sub(self.paths);
        for p in fabric.policies.values() {
            if !eligible(p) || fabric.in_flight(&p.id) {
                continue;
            }
            let Some(key) = key_of(g, p) else { continue };
            used.insert(key.clone());
            let entry = self.entries.get(&key);
            let mut wanted: Vec<Option<String>> = vec![None];
            wanted.extend(p.path.links(g).into_iter().map(Some));
            for link in wanted {
                let have = entry.and_then(|e| match &link {
                    None => e
                        .best
                        .as_ref()
                        .map(|b| (b.version, b.edges.as_slice(), vec![])),
                    Some(l) => e.avoiding.get(l).map(|pl| {
                        let edges = pl.found.as_ref().map_or(&[][..], |f| f.0.edges.as_slice());
                        (pl.version, edges, g.edges_of_link(l).collect())
                    }),
                });
                if let Some((v, edges, skip)) = have {
                    if fresh(g, v, edges, &p.constraints, &skip) {
                        continue;
                    }
                }
                if !planned.insert((key.clone(), link.clone())) {
                    continue;
                }
                if out.computed() >= budget || room == 0 {
                    return out;
                }
                room -= 1;
                let version = g.version();
                match link {
                    None => {
                        let c = Constraints {
                            max_sid_depth: None,
                            ..p.constraints.clone()
                        };
                        if let Ok(path) = cspf(g, key.src, key.dst, &c) {
                            out.best.push((
                                key.clone(),
                                Best {
                                    version,
                                    cost: path.cost,
                                    edges: path.edges,
                                },
                            ));
                        }
                    }
                    Some(l) => {
                        let mut intent = policy::intent_of(p);
                        intent.constraints.exclude_links.insert(l.clone());
                        let found = policy::place_on(g, &mut spf, &intent, REPLAN_WHAT, &|_| None)
                            .ok()
                            .map(|pl| (pl.path, pl.segments));
                        out.avoiding
                            .push((key.clone(), l, Placed { version, found }));
                    }
                }
            }
        }
        out.complete = true;
        out.used = Some(used);
        out
    }

    /// Puts a refresh's results in; after a complete one, forgets entries no
    /// policy uses any more.
    pub fn absorb(&mut self, r: Refresh) {
        for (k, b) in r.best {
            self.entries.entry(k).or_default().best = Some(b);
        }
        for (k, l, placed) in r.avoiding {
            let e = self.entries.entry(k).or_default();
            if e.avoiding.insert(l, placed).is_none() {
                self.paths += 1;
            }
        }
        if let Some(used) = r.used {
            self.entries.retain(|k, _| used.contains(k));
            self.paths = self.entries.values().map(|e| e.avoiding.len()).sum();
        }
    }

    /// Refreshes until complete (tests, benches, and a controller with time
    /// to spare).
    pub fn refresh_all(fabric: &mut Fabric) {
        loop {
            let r = fabric.repairs.refresh(fabric, usize::MAX);
            let complete = r.complete;
            fabric.repairs.absorb(r);
            if complete {
                return;
            }
            if fabric.repairs.paths >= fabric.repairs.max_paths {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
