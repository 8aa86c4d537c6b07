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
//! answers. `refresh` recomputes only missing and stale entries; the answer
//! each replaced is kept beside it, fresh again once a degraded link is back.
//!
//! Covered: policies with no bandwidth and no disjointness constraint (their
//! re-placement depends on the graph alone, not on their own reservation or
//! a partner's path). Others always compute.

use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::policy::{self, REPLAN_WHAT};
use super::records::PolicyRecord;
use super::validate::PolicyIntent;
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
    /// Shared with the answer it replaced when they are the same path.
    found: Option<Arc<(Path, Vec<Segment>)>>,
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

/// The latest answer and the one before it. A degraded link makes the
/// answers around it stale and the refresh replaces them; when the link
/// recovers, the graph is back to what the earlier answers saw, so they are
/// fresh again and a flapping link costs no computation.
#[derive(Debug, Clone)]
struct Two<T> {
    now: T,
    then: Option<T>,
}

impl<T> Two<T> {
    fn new(now: T) -> Self {
        Two { now, then: None }
    }
    /// Returns how many more answers are held (0 or 1).
    fn push(&mut self, newer: T) -> usize {
        let added = usize::from(self.then.is_none());
        self.then = Some(std::mem::replace(&mut self.now, newer));
        added
    }
    fn iter(&self) -> impl Iterator<Item = &T> {
        std::iter::once(&self.now).chain(self.then.as_ref())
    }
    fn len(&self) -> usize {
        1 + usize::from(self.then.is_some())
    }
}

#[derive(Debug, Clone, Default)]
struct Entry {
    best: Option<Two<Best>>,
    avoiding: HashMap<String, Two<Placed>>,
}

/// How often a reroute found its answer here, and why not: what the
/// benches report.
#[derive(Debug, Default)]
pub struct Lookups {
    hits: AtomicU64,
    /// No entry for the policy and link (not refreshed yet, or not covered).
    missing: AtomicU64,
    /// An entry, but the graph changed since in a way that may matter (or a
    /// stored "no path", which the reroute computes to say why).
    stale: AtomicU64,
    /// Fresh, but the link is only slower: the repair path may not be the
    /// best any more.
    uncertain: AtomicU64,
}

/// `Lookups` read at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LookupCounts {
    pub hits: u64,
    pub missing: u64,
    pub stale: u64,
    pub uncertain: u64,
}

impl LookupCounts {
    pub fn since(self, earlier: LookupCounts) -> LookupCounts {
        LookupCounts {
            hits: self.hits.saturating_sub(earlier.hits),
            missing: self.missing.saturating_sub(earlier.missing),
            stale: self.stale.saturating_sub(earlier.stale),
            uncertain: self.uncertain.saturating_sub(earlier.uncertain),
        }
    }
    pub fn total(&self) -> u64 {
        self.hits + self.missing + self.stale + self.uncertain
    }
}

#[derive(Debug, Clone, Copy)]
enum Miss {
    Missing,
    Stale,
    Uncertain,
}

impl Lookups {
    pub fn counts(&self) -> LookupCounts {
        LookupCounts {
            hits: self.hits.load(Ordering::Relaxed),
            missing: self.missing.load(Ordering::Relaxed),
            stale: self.stale.load(Ordering::Relaxed),
            uncertain: self.uncertain.load(Ordering::Relaxed),
        }
    }
}

impl Clone for Lookups {
    fn clone(&self) -> Self {
        Lookups::default()
    }
}

#[derive(Debug, Clone)]
pub struct RepairCache {
    entries: HashMap<Key, Entry>,
    /// Paths held now, and at most.
    paths: usize,
    pub max_paths: usize,
    /// Policies placed or moved since the last pass took them.
    /// (each with the number of its latest touch: one touched again while
    /// a pass ran stays dirty after it).
    dirty: HashMap<String, u64>,
    touches: u64,
    /// The graph's version when the last complete pass started.
    scanned: Option<u64>,
    pub lookups: Lookups,
}

/// Beyond this many touched policies a pass walks them all.
const MAX_DIRTY: usize = 100_000;

/// Enough for 10,000 policies riding ~20 links each, each path its own.
pub const DEFAULT_MAX_PATHS: usize = 250_000;

impl Default for RepairCache {
    fn default() -> Self {
        RepairCache {
            entries: HashMap::new(),
            paths: 0,
            max_paths: DEFAULT_MAX_PATHS,
            dirty: HashMap::new(),
            touches: 0,
            scanned: None,
            lookups: Lookups::default(),
        }
    }
}

/// What one `refresh` computed, to be put in with `RepairCache::absorb`
/// (computed under a read of the fabric, absorbed under a write).
#[derive(Debug, Default)]
pub struct Refresh {
    best: Vec<(Key, Best)>,
    avoiding: Vec<(Key, String, Placed)>,
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

/// The edges whose state now differs from their state at a version, each
/// with both states, one log walk per version asked about (a refresh asks
/// about a few versions for thousands of entries). An edge that changed and
/// changed back is not in it: a degraded link that recovered leaves every
/// entry fresh.
pub struct Changes<'g> {
    g: &'g TeGraph,
    memo: HashMap<u64, Option<Rc<Vec<Changed>>>>,
}

#[derive(Debug, Clone, Copy)]
struct Changed {
    edge: EdgeId,
    was: EdgeState,
    now: EdgeState,
}

impl<'g> Changes<'g> {
    pub fn new(g: &'g TeGraph) -> Self {
        Changes {
            g,
            memo: HashMap::new(),
        }
    }

    /// Sorted by edge; `None` if the log does not reach back to `v`.
    fn since(&mut self, v: u64) -> Option<Rc<Vec<Changed>>> {
        let g = self.g;
        self.memo
            .entry(v)
            .or_insert_with(|| {
                let mut first: HashMap<EdgeId, EdgeState> = HashMap::new();
                for (e, s) in g.changes_since(v)? {
                    first.entry(e).or_insert(s);
                }
                let mut changed: Vec<Changed> = first
                    .into_iter()
                    .filter_map(|(edge, was)| {
                        let now = g.edges.get(edge).map(EdgeState::of)?;
                        (now != was).then_some(Changed { edge, was, now })
                    })
                    .collect();
                changed.sort_by_key(|c| c.edge);
                Some(Rc::new(changed))
            })
            .clone()
    }

    /// Whether the best path computed at `v` (edges `on`) is still the
    /// best: no edge changed since `v` can have changed the answer. Edges in
    /// `skip` (the avoided link) are not looked at.
    fn fresh(&mut self, v: u64, on: &[EdgeId], c: &Constraints, skip: &[EdgeId]) -> bool {
        let Some(changed) = self.since(v) else {
            return false;
        };
        changed.iter().all(|ch| {
            let (e, was, now) = (ch.edge, &ch.was, &ch.now);
            if skip.contains(&e) {
                return true;
            }
            // SID lists and the SID-depth fit follow the IGP view
            if now.up != was.up || now.igp_metric != was.igp_metric || now.sets != was.sets {
                return false;
            }
            let (cn, cw) = (cost_of(now, c.metric), cost_of(was, c.metric));
            if on.contains(&e) {
                open(now, c) && cn == cw && now.latency_us == was.latency_us
            } else {
                // no better than it was: not newly usable, not cheaper, not faster
                !open(now, c) || (open(was, c) && cn >= cw && now.latency_us >= was.latency_us)
            }
        })
    }

    /// Whether nothing but reservations changed since `v`: repair paths
    /// (of policies holding no bandwidth) cannot have gone stale.
    fn only_reservations_since(&mut self, v: u64) -> bool {
        self.since(v).is_some_and(|changed| {
            changed.iter().all(|c| {
                EdgeState {
                    slack_gbps: c.now.slack_gbps,
                    ..c.was
                } == c.now
            })
        })
    }
}

/// One piece of work a scan found: an entry missing or stale.
#[derive(Debug, Clone)]
pub struct Work {
    key: Key,
    /// `None`: the best path (no link avoided, no SID-depth limit).
    link: Option<String>,
    intent: PolicyIntent,
}

/// A walk over the placed policies in chunks (each under its own read of
/// the fabric), resuming at `next`, the first policy not yet looked at.
#[derive(Debug, Default)]
pub struct Pass {
    next: Option<String>,
    done: bool,
    /// Only the policies touched since the last complete pass: nothing but
    /// reservations changed in the graph since it started.
    incremental: Option<bool>,
    /// The graph's version when this pass started.
    version: u64,
    planned: HashSet<(Key, Option<String>)>,
    used: HashSet<Key>,
    /// Skipped because in flight: looked at again by the next pass.
    skipped: Vec<String>,
    /// The dirty ids this pass took (an incremental pass walks only these).
    taken: Vec<(String, u64)>,
}

impl Pass {
    pub fn done(&self) -> bool {
        self.done
    }
}

impl RepairCache {
    pub fn paths(&self) -> usize {
        self.paths
    }

    /// Marks a policy's entries to be looked at by the next pass (it was
    /// placed or moved).
    pub fn touch(&mut self, id: &str) {
        if self.dirty.len() < MAX_DIRTY {
            self.touches += 1;
            self.dirty.insert(id.to_string(), self.touches);
        } else {
            // too many to track: the next pass walks everything
            self.dirty.clear();
            self.scanned = None;
        }
    }

    /// Stored edge ids and SIDs, roughly: what the cache costs in memory.
    pub fn approx_bytes(&self) -> usize {
        self.entries
            .values()
            .map(|e| {
                e.best
                    .iter()
                    .flat_map(Two::iter)
                    .map(|b| b.edges.len() * 8 + 48)
                    .sum::<usize>()
                    + e.avoiding
                        .iter()
                        .map(|(l, two)| {
                            let shared = matches!(
                                (&two.now.found, two.then.as_ref().map(|t| &t.found)),
                                (Some(a), Some(Some(b))) if Arc::ptr_eq(a, b)
                            );
                            l.len()
                                + 64
                                + two
                                    .iter()
                                    .take(if shared { 1 } else { 2 })
                                    .map(|p| {
                                        p.found.as_deref().map_or(24, |(path, segs)| {
                                            path.edges.len() * 16 + segs.len() * 16 + 64
                                        })
                                    })
                                    .sum::<usize>()
                                + if shared { 24 } else { 0 }
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
        changes: &mut Changes<'_>,
        p: &PolicyRecord,
        link: &str,
    ) -> Option<(Path, Vec<Segment>)> {
        let found = self.known(fabric, changes, p, link);
        let counter = match found {
            Ok(_) => &self.lookups.hits,
            Err(Miss::Missing) => &self.lookups.missing,
            Err(Miss::Stale) => &self.lookups.stale,
            Err(Miss::Uncertain) => &self.lookups.uncertain,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found.ok()
    }

    fn known(
        &self,
        fabric: &Fabric,
        changes: &mut Changes<'_>,
        p: &PolicyRecord,
        link: &str,
    ) -> Result<(Path, Vec<Segment>), Miss> {
        let g = &fabric.graph;
        let entry = key_of(g, p)
            .filter(|_| eligible(p))
            .and_then(|k| self.entries.get(&k))
            .ok_or(Miss::Missing)?;
        let two = entry.avoiding.get(link).ok_or(Miss::Missing)?;
        let skip: Vec<EdgeId> = g.edges_of_link(link).collect();
        let (path, segments) = two
            .iter()
            .find_map(|placed| {
                let (path, segments) = placed.found.as_deref()?;
                changes
                    .fresh(placed.version, &path.edges, &p.constraints, &skip)
                    .then_some((path, segments))
            })
            .ok_or(Miss::Stale)?;
        let pruned = skip
            .iter()
            .all(|&e| g.edges.get(e).is_some_and(|x| x.pruned || !x.up));
        let certain = pruned
            || entry
                .best
                .iter()
                .flat_map(Two::iter)
                .any(|best| Self::beats_any_over(g, changes, best, p, path, &skip));
        if certain {
            Ok((path.clone(), segments.clone()))
        } else {
            Err(Miss::Uncertain)
        }
    }

    /// Whether `repair` (avoiding the link of edges `link`) is strictly
    /// cheaper than every path over the link now. `best` was the best path
    /// at its version; since then only the link's edges may have changed
    /// (checked), each at least `delta` dearer.
    fn beats_any_over(
        g: &TeGraph,
        changes: &mut Changes<'_>,
        best: &Best,
        p: &PolicyRecord,
        repair: &Path,
        link: &[EdgeId],
    ) -> bool {
        let c = &p.constraints;
        if !changes.fresh(best.version, &best.edges, c, link) {
            return false;
        }
        let Some(then) = changes.since(best.version) else {
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
            let was = then
                .binary_search_by_key(&e, |c| c.edge)
                .map_or(now, |i| then[i].was);
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

    /// Walks up to `budget` policies from where `pass` stopped and returns
    /// the entries among theirs that are missing or stale (at most what the
    /// cache has room for). Pure and cheap: no path is computed here, so a
    /// caller can scan under a read of the fabric and compute on a copy of
    /// the graph with no lock held.
    pub fn scan(&self, fabric: &Fabric, pass: &mut Pass, budget: usize) -> Vec<Work> {
        let g = &fabric.graph;
        let mut changes = Changes::new(g);
        let incremental = *pass.incremental.get_or_insert_with(|| {
            pass.version = g.version();
            pass.taken = self.dirty.iter().map(|(id, n)| (id.clone(), *n)).collect();
            pass.taken.sort();
            self.scanned
                .is_some_and(|v| changes.only_reservations_since(v))
        });
        let mut room = self
            .max_paths
            .saturating_sub(self.paths + pass.planned.len());
        let mut work = Vec::new();
        let mut walked = 0;
        let mut visit = |p: &PolicyRecord, pass: &mut Pass, work: &mut Vec<Work>| {
            if !eligible(p) {
                return;
            }
            if fabric.in_flight(&p.id) {
                pass.skipped.push(p.id.clone());
                return;
            }
            let Some(key) = key_of(g, p) else { return };
            pass.used.insert(key.clone());
            let entry = self.entries.get(&key);
            let mut wanted: Vec<Option<String>> = vec![None];
            wanted.extend(p.path.links(g).into_iter().map(Some));
            for link in wanted {
                let fresh = entry.is_some_and(|e| match &link {
                    None => e
                        .best
                        .iter()
                        .flat_map(Two::iter)
                        .any(|b| changes.fresh(b.version, &b.edges, &p.constraints, &[])),
                    Some(l) => e.avoiding.get(l).is_some_and(|two| {
                        let skip: Vec<EdgeId> = g.edges_of_link(l).collect();
                        two.iter().any(|pl| {
                            let edges = pl.found.as_ref().map_or(&[][..], |f| f.0.edges.as_slice());
                            changes.fresh(pl.version, edges, &p.constraints, &skip)
                        })
                    }),
                });
                if fresh {
                    continue;
                }
                if room == 0 || !pass.planned.insert((key.clone(), link.clone())) {
                    continue;
                }
                room -= 1;
                work.push(Work {
                    key: key.clone(),
                    link,
                    intent: policy::intent_of(p),
                });
            }
        };
        if incremental {
            // `taken` is sorted: resume after the last id walked
            let start = match pass.next.take() {
                Some(next) => pass.taken.partition_point(|(id, _)| *id < next),
                None => 0,
            };
            for i in start..pass.taken.len() {
                let id = pass.taken[i].0.clone();
                if walked == budget {
                    pass.next = Some(id);
                    return work;
                }
                walked += 1;
                if let Some(p) = fabric.policies.get(&id) {
                    visit(p, pass, &mut work);
                }
            }
        } else {
            let range = match pass.next.take() {
                Some(next) => fabric
                    .policies
                    .range::<String, _>((Bound::Included(next), Bound::Unbounded)),
                None => fabric.policies.range::<String, _>(..),
            };
            for (id, p) in range {
                if walked == budget {
                    pass.next = Some(id.clone());
                    return work;
                }
                walked += 1;
                visit(p, pass, &mut work);
            }
        }
        pass.done = true;
        work
    }

    /// Ends a pass whose work was computed and absorbed: a complete walk
    /// over every policy forgets entries no policy uses any more.
    pub fn finish(&mut self, pass: Pass) {
        for (id, n) in &pass.taken {
            if self.dirty.get(id) == Some(n) {
                self.dirty.remove(id);
            }
        }
        for id in &pass.skipped {
            self.touch(id);
        }
        if !pass.done {
            return;
        }
        if pass.incremental == Some(false) {
            let used = pass.used;
            self.entries.retain(|k, _| used.contains(k));
            self.paths = self
                .entries
                .values()
                .flat_map(|e| e.avoiding.values())
                .map(Two::len)
                .sum();
        }
        self.scanned = Some(pass.version);
    }

    /// Puts computed entries in.
    pub fn absorb(&mut self, r: Refresh) {
        for (k, b) in r.best {
            let e = self.entries.entry(k).or_default();
            match &mut e.best {
                Some(two) => {
                    two.push(b);
                }
                None => e.best = Some(Two::new(b)),
            }
        }
        for (k, l, placed) in r.avoiding {
            let e = self.entries.entry(k).or_default();
            match e.avoiding.get_mut(&l) {
                Some(two) => {
                    let mut placed = placed;
                    // the same path again (a conservative staleness check,
                    // or a recovery): one copy for both answers
                    if placed.found == two.now.found {
                        placed.found = two.now.found.clone();
                    }
                    self.paths += two.push(placed);
                }
                None => {
                    e.avoiding.insert(l, Two::new(placed));
                    self.paths += 1;
                }
            }
        }
    }

    /// One pass over every policy, computing what is missing or stale on
    /// the fabric's own graph, up to `budget` computations (tests, and what
    /// a controller's background refresh does in pieces).
    pub fn refresh(&self, fabric: &Fabric, budget: usize) -> Refresh {
        let mut pass = Pass {
            incremental: Some(false),
            version: fabric.graph.version(),
            ..Default::default()
        };
        let mut work = self.scan(fabric, &mut pass, usize::MAX);
        work.truncate(budget);
        compute(&fabric.graph, &mut IgpSpf::new(&fabric.graph), &work)
    }

    /// Refreshes until complete (tests, benches, and a controller with time
    /// to spare).
    pub fn refresh_all(fabric: &mut Fabric) {
        let mut pass = Pass::default();
        let work = fabric.repairs.scan(fabric, &mut pass, usize::MAX);
        let r = compute(&fabric.graph, &mut IgpSpf::new(&fabric.graph), &work);
        fabric.repairs.absorb(r);
        fabric.repairs.finish(pass);
    }
}

/// Computes the entries `work` asks for on `g` (the fabric's graph or a
/// copy of it: each entry is stamped with `g`'s version, and a copy keeps
/// the version of what it copied). Pure.
pub fn compute(g: &TeGraph, spf: &mut IgpSpf<'_>, work: &[Work]) -> Refresh {
    let version = g.version();
    let mut out = Refresh::default();
    for w in work {
        match &w.link {
            None => {
                let c = Constraints {
                    max_sid_depth: None,
                    ..w.intent.constraints.clone()
                };
                if let Ok(path) = cspf(g, w.key.src, w.key.dst, &c) {
                    out.best.push((
                        w.key.clone(),
                        Best {
                            version,
                            cost: path.cost,
                            edges: path.edges,
                        },
                    ));
                }
            }
            Some(l) => {
                let mut intent = w.intent.clone();
                intent.constraints.exclude_links.insert(l.clone());
                let found = policy::place_on(g, spf, &intent, REPLAN_WHAT, &|_| None)
                    .ok()
                    .map(|pl| Arc::new((pl.path, pl.segments)));
                out.avoiding
                    .push((w.key.clone(), l.clone(), Placed { version, found }));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
