//! What-if failure analysis: what failing some links, fibers, SRLGs or nodes
//! would do to every policy, service and wavelength — computed on a scratch
//! copy, so nothing the controller holds changes and no device is touched.
//!
//! The answer is meant to equal what the controller would do if the same
//! elements really failed, so the simulation follows the reroute path
//! (`controller/reroute.rs` via the closed loop) step for step: the failed
//! packet links go down one at a time in topology order (the order the closed
//! loop walks a fiber's riders), and at each step the policies then using that
//! link — not being created or changed right now — are re-placed with the same
//! planner (`policy::replan`'s view: the graph as it stands, without the
//! policy's own reservation), all against the graph of that step, in id order.
//! A move then gives back the old path's bandwidth and takes the new one's; a
//! policy with nowhere to go keeps its path and reservation and is stranded.
//!
//! Wavelengths are not re-planned on a failure (the controller has no optical
//! restoration): one whose fibers or nodes fail is stranded, and so is the
//! packet link it carries.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::error::{not_found, quote, PlanError};
use super::policy::{self, REPLAN_WHAT};
use super::records::{PolicyRecord, ServiceRecord, WavelengthRecord};
use super::validate::{at_most, limits};
use super::Fabric;
use crate::model::{Layer, Topology};
use crate::pathcomp::{EdgeId, IgpSpf, IgpTrees, Path, Segment, TeGraph};

/// The elements to fail together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failure {
    /// Packet links.
    pub links: Vec<String>,
    /// Fiber (or optical) links: what rides them goes down with them.
    pub fibers: Vec<String>,
    /// Every link carrying one of these SRLGs.
    pub srlgs: Vec<u32>,
    /// Every link at these nodes.
    pub nodes: Vec<String>,
}

/// One element, as the survivability report fails them one at a time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Element {
    Srlg(u32),
    Node(String),
    Link(String),
    Fiber(String),
}

impl Element {
    pub fn failure(&self) -> Failure {
        let mut f = Failure::default();
        match self {
            Element::Srlg(s) => f.srlgs.push(*s),
            Element::Node(n) => f.nodes.push(n.clone()),
            Element::Link(l) => f.links.push(l.clone()),
            Element::Fiber(l) => f.fibers.push(l.clone()),
        }
        f
    }
}

impl std::fmt::Display for Element {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Element::Srlg(s) => write!(f, "srlg {s}"),
            Element::Node(n) => write!(f, "node {n}"),
            Element::Link(l) => write!(f, "link {l}"),
            Element::Fiber(l) => write!(f, "fiber {l}"),
        }
    }
}

/// Where a policy ends up.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Re-placed on a new path.
    Moved {
        links: Vec<String>,
        nodes: Vec<String>,
        latency_us: u64,
        labels: Vec<u32>,
    },
    /// No feasible path: it keeps its old one and is reported down.
    Stranded { reason: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct PolicyImpact {
    pub id: String,
    pub name: String,
    /// The service whose transport this is.
    pub owner: Option<String>,
    /// Every service riding it (a shared transport carries several).
    pub riders: Vec<String>,
    pub old_links: Vec<String>,
    pub old_latency_us: u64,
    pub outcome: Outcome,
    /// The policy's latency bound, if it has one.
    pub max_latency_us: Option<u64>,
}

impl PolicyImpact {
    pub fn stranded(&self) -> bool {
        matches!(self.outcome, Outcome::Stranded { .. })
    }

    pub fn new_latency_us(&self) -> Option<u64> {
        match self.outcome {
            Outcome::Moved { latency_us, .. } => Some(latency_us),
            Outcome::Stranded { .. } => None,
        }
    }

    /// New latency minus old (`None` when stranded).
    pub fn latency_change_us(&self) -> Option<i64> {
        self.new_latency_us()
            .map(|n| n as i64 - self.old_latency_us as i64)
    }

    /// Still carried within its latency bound (a policy without one only
    /// needs a path).
    pub fn meets_sla(&self) -> bool {
        match (self.new_latency_us(), self.max_latency_us) {
            (None, _) => false,
            (Some(l), Some(bound)) => l <= bound,
            (Some(_), None) => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceImpact {
    pub id: String,
    pub name: String,
    /// Its transports that the failure moves or strands.
    pub affected: Vec<String>,
    pub stranded: Vec<String>,
    /// Transports carried, but over their latency bound.
    pub over_bound: Vec<String>,
}

impl ServiceImpact {
    pub fn meets_sla(&self) -> bool {
        self.stranded.is_empty() && self.over_bound.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WavelengthImpact {
    pub id: String,
    pub name: String,
    /// Why it is lost (which failed fiber or node it uses). Wavelengths are
    /// not re-planned: it stays down until the element is back.
    pub reason: String,
    /// The packet link it carries, which goes down with it.
    pub carries_link: String,
}

/// One direction of a link reserved beyond its capacity once the affected
/// policies have moved.
#[derive(Debug, Clone, PartialEq)]
pub struct Shortfall {
    pub link: String,
    pub from: String,
    pub to: String,
    pub capacity_gbps: f64,
    pub reserved_before_gbps: f64,
    pub reserved_after_gbps: f64,
}

impl Shortfall {
    pub fn short_gbps(&self) -> f64 {
        self.reserved_after_gbps - self.capacity_gbps
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WhatIfReport {
    /// Packet links down, in the order they were failed.
    pub failed_links: Vec<String>,
    /// Fiber and optical links down.
    pub failed_fibers: Vec<String>,
    /// Every policy moved or stranded, by id.
    pub policies: Vec<PolicyImpact>,
    pub services: Vec<ServiceImpact>,
    pub wavelengths: Vec<WavelengthImpact>,
    pub shortfalls: Vec<Shortfall>,
    /// Policies on a failed link that a request is creating or changing
    /// right now: the reroute would leave them to that request, and so does
    /// the what-if.
    pub skipped_in_flight: Vec<String>,
}

/// What one element's failure would break, for the N-1 table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub failed_links: usize,
    pub affected_policies: usize,
    pub moved_policies: usize,
    pub stranded_policies: Vec<String>,
    /// Carried, but over their latency bound.
    pub over_bound_policies: Vec<String>,
    /// Services with a transport stranded or over its bound.
    pub broken_services: Vec<String>,
    pub stranded_wavelengths: Vec<String>,
    /// Links (one per direction short) reserved beyond capacity.
    pub shortfall_links: Vec<String>,
    pub worst_shortfall_gbps: f64,
}

impl Summary {
    /// Nothing stranded, every SLA met, no link short.
    pub fn survives(&self) -> bool {
        self.stranded_policies.is_empty()
            && self.over_bound_policies.is_empty()
            && self.broken_services.is_empty()
            && self.stranded_wavelengths.is_empty()
            && self.shortfall_links.is_empty()
    }
}

impl WhatIfReport {
    pub fn summary(&self) -> Summary {
        Summary {
            failed_links: self.failed_links.len(),
            affected_policies: self.policies.len(),
            moved_policies: self.policies.iter().filter(|p| !p.stranded()).count(),
            stranded_policies: self
                .policies
                .iter()
                .filter(|p| p.stranded())
                .map(|p| p.id.clone())
                .collect(),
            over_bound_policies: self
                .policies
                .iter()
                .filter(|p| !p.stranded() && !p.meets_sla())
                .map(|p| p.id.clone())
                .collect(),
            broken_services: self
                .services
                .iter()
                .filter(|s| !s.meets_sla())
                .map(|s| s.id.clone())
                .collect(),
            stranded_wavelengths: self.wavelengths.iter().map(|w| w.id.clone()).collect(),
            shortfall_links: self
                .shortfalls
                .iter()
                .map(|s| format!("{} {}→{}", s.link, s.from, s.to))
                .collect(),
            worst_shortfall_gbps: self
                .shortfalls
                .iter()
                .map(Shortfall::short_gbps)
                .fold(0.0, f64::max),
        }
    }
}

/// A failure resolved to what goes down.
#[derive(Debug, Clone, Default)]
struct Expanded {
    /// Packet links, in topology order.
    packet: Vec<String>,
    /// Fiber and optical links, in topology order.
    lower: Vec<String>,
    /// Stranded wavelengths, by id.
    wavelengths: Vec<WavelengthImpact>,
}

/// The parts of the fabric a what-if reads, cloned so it can run without the
/// controller's lock (take it under the read lock, run it after).
pub struct View {
    topology: Topology,
    graph: TeGraph,
    policies: BTreeMap<String, PolicyRecord>,
    services: BTreeMap<String, ServiceRecord>,
    wavelengths: BTreeMap<String, WavelengthRecord>,
    /// Link → policies using it that a reroute may move (not in flight).
    users: HashMap<String, BTreeSet<String>>,
    in_flight: BTreeMap<String, BTreeSet<String>>,
}

/// Checks that every name in `failure` exists, naming the first that does
/// not by its field (`fail_fibers[2]`), and that no list is over-long.
pub fn check(fabric: &Fabric, failure: &Failure) -> Result<(), PlanError> {
    check_on(&fabric.topology, &fabric.graph, failure)
}

fn check_on(t: &Topology, g: &TeGraph, failure: &Failure) -> Result<(), PlanError> {
    at_most(&failure.links, limits::EXCLUSIONS, "fail_links")?;
    at_most(&failure.fibers, limits::EXCLUSIONS, "fail_fibers")?;
    at_most(&failure.srlgs, limits::EXCLUSIONS, "fail_srlgs")?;
    at_most(&failure.nodes, limits::EXCLUSIONS, "fail_nodes")?;
    for (i, l) in failure.links.iter().enumerate() {
        if !t
            .links
            .iter()
            .any(|x| &x.name == l && x.layer == Layer::Packet)
        {
            return Err(not_found(
                format!("fail_links[{i}]"),
                format!("packet link {}", quote(l)),
            ));
        }
    }
    for (i, l) in failure.fibers.iter().enumerate() {
        if !t
            .links
            .iter()
            .any(|x| &x.name == l && x.layer != Layer::Packet)
        {
            return Err(not_found(
                format!("fail_fibers[{i}]"),
                format!("fiber {}", quote(l)),
            ));
        }
    }
    for (i, s) in failure.srlgs.iter().enumerate() {
        let carried = t.links.iter().any(|l| l.srlgs.contains(s))
            || g.edges.iter().any(|e| e.srlgs.contains(s));
        if !carried {
            return Err(not_found(
                format!("fail_srlgs[{i}]"),
                format!("SRLG {s} (no link carries it)"),
            ));
        }
    }
    for (i, n) in failure.nodes.iter().enumerate() {
        if t.node(n).is_none() {
            return Err(not_found(
                format!("fail_nodes[{i}]"),
                format!("node {}", quote(n)),
            ));
        }
    }
    Ok(())
}

/// What failing `failure` would do, on a scratch copy of `fabric`.
pub fn what_if(fabric: &Fabric, failure: &Failure) -> Result<WhatIfReport, PlanError> {
    View::for_failure(fabric, failure)?.what_if(failure)
}

/// Every SRLG's and every node's failure, one at a time: what each would
/// strand or break. `progress(done, total)` is called after each.
pub fn survivability(
    fabric: &Fabric,
    progress: impl FnMut(usize, usize),
) -> Vec<(Element, Summary)> {
    let view = View::all(fabric);
    let elements = view.elements();
    view.survivability(&elements, progress)
}

impl View {
    /// Everything a what-if over any elements may read (for survivability).
    pub fn all(fabric: &Fabric) -> View {
        View::take(fabric, None)
    }

    /// Only what failing `failure` can touch: the policies on the links it
    /// takes down (a policy moved from one failed link onto another was on
    /// the first), the policies they are disjoint from, their services.
    pub fn for_failure(fabric: &Fabric, failure: &Failure) -> Result<View, PlanError> {
        check(fabric, failure)?;
        let links = expand(
            &fabric.topology,
            &fabric.graph,
            &fabric.wavelengths,
            failure,
        )
        .packet;
        Ok(View::take(fabric, Some(&links)))
    }

    fn take(fabric: &Fabric, links: Option<&[String]>) -> View {
        let mut users: HashMap<String, BTreeSet<String>> = HashMap::new();
        let mut in_flight: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let index = fabric.link_index();
        let scoped: Vec<&String> = match links {
            Some(ls) => ls.iter().collect(),
            None => index.keys().collect(),
        };
        for link in scoped {
            let Some(ids) = index.get(link) else { continue };
            let (busy, free): (BTreeSet<String>, BTreeSet<String>) =
                ids.iter().cloned().partition(|id| fabric.in_flight(id));
            if !busy.is_empty() {
                in_flight.insert(link.clone(), busy);
            }
            if !free.is_empty() {
                users.insert(link.clone(), free);
            }
        }
        let policies: BTreeMap<String, PolicyRecord> = match links {
            None => fabric.policies.clone(),
            Some(_) => {
                let mut ids: BTreeSet<&String> = users.values().flatten().collect();
                let partners: Vec<&String> = ids
                    .iter()
                    .filter_map(|id| fabric.policies.get(*id))
                    .filter_map(|p| p.disjoint.as_ref().map(|(d, _)| d))
                    .collect();
                ids.extend(partners);
                ids.into_iter()
                    .filter_map(|id| fabric.policies.get(id).map(|p| (id.clone(), p.clone())))
                    .collect()
            }
        };
        let services = match links {
            None => fabric.services.clone(),
            Some(_) => policies
                .values()
                .flat_map(|p| p.owner.iter().chain(p.shares.iter().map(|(s, _)| s)))
                .filter_map(|s| fabric.services.get(s).map(|r| (s.clone(), r.clone())))
                .collect(),
        };
        View {
            topology: fabric.topology.clone(),
            graph: fabric.graph.clone(),
            policies,
            services,
            wavelengths: fabric.wavelengths.clone(),
            users,
            in_flight,
        }
    }

    /// The single failures a survivability report walks: every SRLG some
    /// link carries, then every node, in order.
    pub fn elements(&self) -> Vec<Element> {
        let mut srlgs: BTreeSet<u32> = BTreeSet::new();
        for l in &self.topology.links {
            srlgs.extend(&l.srlgs);
        }
        for e in &self.graph.edges {
            srlgs.extend(&e.srlgs);
        }
        srlgs
            .into_iter()
            .map(Element::Srlg)
            .chain(
                self.topology
                    .nodes
                    .iter()
                    .map(|n| Element::Node(n.name.clone())),
            )
            .collect()
    }

    pub fn check(&self, failure: &Failure) -> Result<(), PlanError> {
        check_on(&self.topology, &self.graph, failure)
    }

    pub fn what_if(&self, failure: &Failure) -> Result<WhatIfReport, PlanError> {
        self.what_if_with(failure, &mut IgpTrees::default())
    }

    /// As `what_if`, starting from IGP trees an earlier what-if kept (used
    /// only if the IGP view is the same) and leaving this run's in `trees`:
    /// building them afresh for every what-if was a large part of its time.
    pub fn what_if_with(
        &self,
        failure: &Failure,
        trees: &mut IgpTrees,
    ) -> Result<WhatIfReport, PlanError> {
        self.check(failure)?;
        let mut scratch = Scratch::new(self.graph.clone());
        let mut spf = IgpSpf::resume(&self.graph, std::mem::take(trees));
        let report = self.run(&mut scratch, &mut spf, failure);
        *trees = spf.keep();
        Ok(report)
    }

    /// Fails each of `elements` alone, reusing one scratch graph (put back
    /// after each) and one set of IGP trees: a failure only prunes edges and
    /// moves reservations, and neither changes what the IGP computes.
    pub fn survivability(
        &self,
        elements: &[Element],
        mut progress: impl FnMut(usize, usize),
    ) -> Vec<(Element, Summary)> {
        self.survivability_while(elements, |done, total| {
            progress(done, total);
            true
        })
    }

    /// As `survivability`, stopping early (with the rows finished so far, in
    /// element order) once `progress` returns false: a caller that went away
    /// stops the work. Runs on every core the machine offers.
    pub fn survivability_while(
        &self,
        elements: &[Element],
        progress: impl FnMut(usize, usize) -> bool,
    ) -> Vec<(Element, Summary)> {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.survivability_on(elements, workers, progress)
    }

    /// The survivability run on `workers` threads. The elements are
    /// independent (each run starts from the view and puts its scratch graph
    /// back), so each thread keeps its own scratch graph and IGP trees and
    /// takes the next element from a shared counter; `progress` is called on
    /// the caller's thread as results arrive, and the rows come back in
    /// element order whatever the threads' timing — the table equals the
    /// single-threaded one.
    pub fn survivability_on(
        &self,
        elements: &[Element],
        workers: usize,
        mut progress: impl FnMut(usize, usize) -> bool,
    ) -> Vec<(Element, Summary)> {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let total = elements.len();
        let workers = workers.clamp(1, total.max(1));
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let mut slots: Vec<Option<Summary>> = (0..total).map(|_| None).collect();
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::channel::<(usize, Summary)>();
            for _ in 0..workers {
                let (tx, next, stop) = (tx.clone(), &next, &stop);
                scope.spawn(move || {
                    let mut scratch = Scratch::new(self.graph.clone());
                    let mut spf = IgpSpf::new(&self.graph);
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(e) = elements.get(i) else { break };
                        let report = self.run(&mut scratch, &mut spf, &e.failure());
                        scratch.undo();
                        if tx.send((i, report.summary())).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut done = 0;
            for (i, summary) in rx {
                slots[i] = Some(summary);
                done += 1;
                if !progress(done, total) {
                    stop.store(true, Ordering::Relaxed);
                    break;
                }
            }
        });
        elements
            .iter()
            .zip(slots)
            .filter_map(|(e, s)| s.map(|s| (e.clone(), s)))
            .collect()
    }

    fn run(&self, scratch: &mut Scratch, spf: &mut IgpSpf<'_>, failure: &Failure) -> WhatIfReport {
        let ex = expand(&self.topology, &self.graph, &self.wavelengths, failure);
        let mut sim = Sim {
            view: self,
            paths: HashMap::new(),
            added: HashMap::new(),
            stranded: BTreeMap::new(),
            touched: BTreeSet::new(),
        };
        let mut skipped = BTreeSet::new();
        for link in &ex.packet {
            for e in self.graph.edges_of_link(link) {
                scratch.set_pruned(e);
            }
            if let Some(busy) = self.in_flight.get(link) {
                skipped.extend(busy.iter().cloned());
            }
            let ids = sim.users(link);
            sim.step(scratch, spf, &ids);
        }
        self.report(scratch, sim, ex, skipped)
    }

    fn report(
        &self,
        scratch: &Scratch,
        sim: Sim<'_>,
        ex: Expanded,
        skipped: BTreeSet<String>,
    ) -> WhatIfReport {
        let g = &scratch.graph;
        let mut policies = Vec::new();
        for id in &sim.touched {
            let Some(p) = self.policies.get(id) else {
                continue;
            };
            let outcome = match sim.stranded.get(id) {
                Some(reason) => Outcome::Stranded {
                    reason: reason.clone(),
                },
                None => match sim.paths.get(id) {
                    Some((path, segments)) => Outcome::Moved {
                        links: path.links(g),
                        nodes: path.node_names(g),
                        latency_us: path.latency_us,
                        labels: super::records::labels(segments),
                    },
                    None => continue,
                },
            };
            policies.push(PolicyImpact {
                id: id.clone(),
                name: p.spec.name.clone(),
                owner: p.owner.clone(),
                riders: if p.shares.is_empty() {
                    p.owner.iter().cloned().collect()
                } else {
                    p.shares.iter().map(|(s, _)| s.clone()).collect()
                },
                old_links: p.path.links(g),
                old_latency_us: p.path.latency_us,
                outcome,
                max_latency_us: p.constraints.max_latency_us,
            });
        }
        let mut by_service: BTreeMap<&String, Vec<&PolicyImpact>> = BTreeMap::new();
        for p in &policies {
            for rider in &p.riders {
                by_service.entry(rider).or_default().push(p);
            }
        }
        let services = by_service
            .into_iter()
            .map(|(id, ps)| ServiceImpact {
                id: id.clone(),
                name: self
                    .services
                    .get(id)
                    .map(|s| s.spec.name.clone())
                    .unwrap_or_default(),
                affected: ps.iter().map(|p| p.id.clone()).collect(),
                stranded: ps
                    .iter()
                    .filter(|p| p.stranded())
                    .map(|p| p.id.clone())
                    .collect(),
                over_bound: ps
                    .iter()
                    .filter(|p| !p.stranded() && !p.meets_sla())
                    .map(|p| p.id.clone())
                    .collect(),
            })
            .collect();
        let shortfalls = scratch
            .first_seen
            .iter()
            .filter_map(|(&e, &(_, before))| {
                let edge = g.edges.get(e)?;
                let over = !edge.pruned
                    && edge.reserved_gbps > edge.capacity_gbps + 1e-9
                    && edge.reserved_gbps > before + 1e-9;
                over.then(|| Shortfall {
                    link: edge.link.clone(),
                    from: name_of(g, edge.from),
                    to: name_of(g, edge.to),
                    capacity_gbps: edge.capacity_gbps,
                    reserved_before_gbps: before,
                    reserved_after_gbps: edge.reserved_gbps,
                })
            })
            .collect();
        WhatIfReport {
            failed_links: ex.packet,
            failed_fibers: ex.lower,
            policies,
            services,
            wavelengths: ex.wavelengths,
            shortfalls,
            skipped_in_flight: skipped.into_iter().collect(),
        }
    }
}

fn name_of(g: &TeGraph, n: usize) -> String {
    g.nodes.get(n).map(|n| n.name.clone()).unwrap_or_default()
}

/// Resolves a failure to the links and wavelengths it takes down.
fn expand(
    t: &Topology,
    g: &TeGraph,
    wavelengths: &BTreeMap<String, WavelengthRecord>,
    failure: &Failure,
) -> Expanded {
    let mut down: BTreeSet<usize> = BTreeSet::new();
    let nodes: BTreeSet<&str> = failure.nodes.iter().map(String::as_str).collect();
    let srlgs: BTreeSet<u32> = failure.srlgs.iter().copied().collect();
    let named: BTreeSet<&str> = failure
        .links
        .iter()
        .chain(&failure.fibers)
        .map(String::as_str)
        .collect();
    for (i, l) in t.links.iter().enumerate() {
        // A packet link's SRLGs in the graph include those of the fibers
        // under it and of the wavelength carrying it.
        let srlg_hit = l.srlgs.iter().any(|s| srlgs.contains(s))
            || (l.layer == Layer::Packet
                && g.edges_of_link(&l.name)
                    .any(|e| g.edges[e].srlgs.iter().any(|s| srlgs.contains(s))));
        if named.contains(l.name.as_str())
            || srlg_hit
            || nodes.contains(l.a.node.as_str())
            || nodes.contains(l.b.node.as_str())
        {
            down.insert(i);
        }
    }
    // Wavelengths over a failed fiber or through a failed node are lost, and
    // with them the packet link each carries.
    let by_name: HashMap<&str, usize> = t
        .links
        .iter()
        .enumerate()
        .map(|(i, l)| (l.name.as_str(), i))
        .collect();
    let mut lost = Vec::new();
    for w in wavelengths.values() {
        let fiber = w
            .plan
            .fibers
            .iter()
            .find(|f| by_name.get(f.as_str()).is_some_and(|i| down.contains(i)));
        let node = w
            .plan
            .nodes
            .iter()
            .chain([&w.spec.a, &w.spec.b])
            .find(|n| nodes.contains(n.as_str()));
        let reason = match (fiber, node) {
            (Some(f), _) => format!("its fiber {f} fails"),
            (None, Some(n)) => format!("node {n} on its path fails"),
            (None, None) => continue,
        };
        if let Some(&i) = by_name.get(w.spec.carries_link.as_str()) {
            down.insert(i);
        }
        lost.push(WavelengthImpact {
            id: w.id.clone(),
            name: w.spec.name.clone(),
            reason: format!("{reason}; wavelengths are not re-planned on a failure"),
            carries_link: w.spec.carries_link.clone(),
        });
    }
    // What rides a failed link fails with it, up the stack (packet over
    // optical over fiber): repeat until nothing new falls.
    loop {
        let before = down.len();
        for (i, l) in t.links.iter().enumerate() {
            if !down.contains(&i)
                && l.rides
                    .iter()
                    .any(|r| by_name.get(r.as_str()).is_some_and(|j| down.contains(j)))
            {
                down.insert(i);
            }
        }
        if down.len() == before {
            break;
        }
    }
    let mut ex = Expanded {
        wavelengths: lost,
        ..Default::default()
    };
    for i in down {
        let l = &t.links[i];
        if l.layer == Layer::Packet {
            ex.packet.push(l.name.clone());
        } else {
            ex.lower.push(l.name.clone());
        }
    }
    ex
}

/// The scratch graph and how to put it back.
struct Scratch {
    graph: TeGraph,
    /// Edge → (pruned, reserved) before this run first changed it.
    first_seen: BTreeMap<EdgeId, (bool, f64)>,
}

impl Scratch {
    fn new(graph: TeGraph) -> Self {
        Scratch {
            graph,
            first_seen: BTreeMap::new(),
        }
    }

    fn remember(&mut self, e: EdgeId) {
        if let Some(edge) = self.graph.edges.get(e) {
            self.first_seen
                .entry(e)
                .or_insert((edge.pruned, edge.reserved_gbps));
        }
    }

    fn set_pruned(&mut self, e: EdgeId) {
        self.remember(e);
        self.graph.update_edge(e, |edge| edge.pruned = true);
    }

    fn release(&mut self, path: &Path, gbps: f64) {
        for &e in &path.edges {
            self.remember(e);
        }
        policy::release(&mut self.graph, path, gbps);
    }

    fn reserve(&mut self, path: &Path, gbps: f64) {
        for &e in &path.edges {
            self.remember(e);
        }
        policy::reserve(&mut self.graph, path, gbps);
    }

    /// Back to the graph the run started from.
    fn undo(&mut self) {
        for (e, (pruned, reserved)) in std::mem::take(&mut self.first_seen) {
            self.graph.update_edge(e, |edge| {
                edge.pruned = pruned;
                edge.reserved_gbps = reserved;
            });
        }
    }
}

/// One run's state on top of the view: where moved policies are now.
struct Sim<'v> {
    view: &'v View,
    /// Policy → its path and SID list after a move.
    paths: HashMap<String, (Path, Vec<Segment>)>,
    /// Link → policies moved onto it.
    added: HashMap<String, BTreeSet<String>>,
    /// Policy → why it has nowhere to go.
    stranded: BTreeMap<String, String>,
    /// Every policy re-placed at some step.
    touched: BTreeSet<String>,
}

enum Step {
    Move(String, Path, Vec<Segment>),
    Same,
    NoPath(String, String),
}

impl Sim<'_> {
    fn path_of(&self, id: &str) -> Option<Path> {
        self.paths
            .get(id)
            .map(|(p, _)| p.clone())
            .or_else(|| self.view.policies.get(id).map(|p| p.path.clone()))
    }

    /// Policies whose path (as moved so far) uses `link`, in id order — the
    /// fabric's `policies_using` at this step.
    fn users(&self, link: &str) -> Vec<String> {
        let g = &self.view.graph;
        let on = |id: &String| match self.paths.get(id) {
            Some((p, _)) => p.edges.iter().any(|&e| g.edges[e].link == link),
            None => true,
        };
        let mut ids: BTreeSet<String> = self
            .view
            .users
            .get(link)
            .into_iter()
            .flatten()
            .filter(|id| on(id))
            .cloned()
            .collect();
        if let Some(a) = self.added.get(link) {
            ids.extend(a.iter().filter(|id| on(id)).cloned());
        }
        ids.into_iter().collect()
    }

    /// One link down: every policy on it re-placed against the same graph,
    /// then the moves applied (the reroute commits them together).
    fn step(&mut self, scratch: &mut Scratch, spf: &mut IgpSpf<'_>, ids: &[String]) {
        let mut outcomes = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(p) = self.view.policies.get(id) else {
                continue;
            };
            let Some(current) = self.path_of(id) else {
                continue;
            };
            self.touched.insert(id.clone());
            let gbps = p.constraints.bandwidth_gbps;
            // The policy's own view: the graph without its reservation. Put
            // back exactly, not by adding again (floating point).
            let saved: Vec<(EdgeId, f64)> = current
                .edges
                .iter()
                .filter_map(|&e| scratch.graph.edges.get(e).map(|x| (e, x.reserved_gbps)))
                .collect();
            if gbps > 0.0 {
                policy::release(&mut scratch.graph, &current, gbps);
            }
            let placed = policy::place_on(
                &scratch.graph,
                spf,
                &policy::intent_of(p),
                REPLAN_WHAT,
                &|other| self.path_of(other),
            );
            if gbps > 0.0 {
                for (e, r) in saved {
                    scratch.graph.update_edge(e, |edge| edge.reserved_gbps = r);
                }
            }
            outcomes.push(match placed {
                Ok(pl) if pl.path.edges != current.edges => {
                    Step::Move(id.clone(), pl.path, pl.segments)
                }
                Ok(_) => Step::Same,
                Err(why) => Step::NoPath(id.clone(), why.to_string()),
            });
        }
        for o in outcomes {
            match o {
                Step::Move(id, path, segments) => {
                    let gbps = self
                        .view
                        .policies
                        .get(&id)
                        .map_or(0.0, |p| p.constraints.bandwidth_gbps);
                    if let Some(old) = self.path_of(&id) {
                        if gbps > 0.0 {
                            scratch.release(&old, gbps);
                        }
                    }
                    if gbps > 0.0 {
                        scratch.reserve(&path, gbps);
                    }
                    for link in path.links(&self.view.graph) {
                        self.added.entry(link).or_default().insert(id.clone());
                    }
                    self.stranded.remove(&id);
                    self.paths.insert(id, (path, segments));
                }
                Step::Same => {}
                Step::NoPath(id, why) => {
                    self.stranded.insert(id, why);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
