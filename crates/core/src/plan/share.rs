//! Shared transport (automated steering by color): every service between the
//! same two PEs under one color and the same transport constraints rides one
//! SR-TE policy. The policy reserves the sum of its services' bandwidth and
//! lives while one of them uses it. A change of one service's share is a
//! [`ShareChange`]: planned here (in place where the path has room, else onto
//! a path that has), held at stage, applied at commit.

use super::error::{precondition, PlanError};
use super::policy::{self, intent_of, place_with, Placement};
use super::records::PolicyRecord;
use super::Fabric;
use crate::pathcomp::{Constraints, IgpSpf, Path, TeGraph};

/// Slack for floating-point sums of reservations, as path computation uses.
const EPSILON: f64 = 1e-9;

/// One service's share of a shared policy going from `before` to `after`
/// Gbps (0 = joining, resp. leaving).
#[derive(Debug, Clone)]
pub struct ShareChange {
    pub policy: String,
    pub service: String,
    pub before: f64,
    pub after: f64,
    /// The policy's total before and after the change.
    pub total_before: f64,
    pub total_after: f64,
    /// A new path when the current one lacks room for the growth
    /// (make-before-break: programmed as one replacing Set on the headend).
    pub moved: Option<Placement>,
}

impl ShareChange {
    /// The policy's growth in Gbps (negative when it shrinks).
    pub fn delta(&self) -> f64 {
        self.after - self.before
    }
}

/// Whether a service asking `transport` (bandwidth aside) may ride `p`.
pub fn compatible(p: &PolicyRecord, transport: &Constraints, max_sid_depth: usize) -> bool {
    let strip = |c: &Constraints| Constraints {
        bandwidth_gbps: 0.0,
        ..c.clone()
    };
    p.owner.is_some()
        && p.disjoint.is_none()
        && p.max_sid_depth == max_sid_depth
        && strip(&p.constraints) == strip(transport)
}

/// Whether every hop of `path` has `extra` Gbps free on `graph`.
pub fn has_room(graph: &TeGraph, path: &Path, extra: f64) -> bool {
    extra <= 0.0
        || path.edges.iter().all(|&e| {
            graph
                .edges
                .get(e)
                .is_some_and(|x| x.capacity_gbps - x.reserved_gbps + EPSILON >= extra)
        })
}

/// Plans `service`'s share of `p` going to `after` Gbps, on `graph` (the
/// fabric's, or a scratch one carrying a batch's earlier reservations).
/// Grows in place where every hop has room, else re-places the policy for
/// its new total (its own reservation not counted); shrinks in place.
pub fn plan_change(
    fabric: &Fabric,
    graph: &TeGraph,
    spf: &mut IgpSpf<'_>,
    p: &PolicyRecord,
    service: &str,
    after: f64,
) -> Result<ShareChange, PlanError> {
    let before = p
        .shares
        .iter()
        .find(|(s, _)| s == service)
        .map_or(0.0, |(_, g)| *g);
    let total_before = p.constraints.bandwidth_gbps;
    let total_after = (total_before - before + after).max(0.0);
    let delta = after - before;
    let moved = if has_room(graph, &p.path, delta) || p.stranded.is_some() && delta <= 0.0 {
        None
    } else {
        let mut g = graph.clone();
        policy::release(&mut g, &p.path, total_before);
        let mut intent = intent_of(p);
        intent.constraints.bandwidth_gbps = total_after;
        let what = format!(
            "shared transport {} ({} → {}, color {}) cannot grow from {total_before} to {total_after} Gbps",
            p.id, p.headend, p.endpoint, p.color
        );
        Some(place_with(fabric, &g, spf, &intent, &what)?)
    };
    Ok(ShareChange {
        policy: p.id.clone(),
        service: service.to_string(),
        before,
        after,
        total_before,
        total_after,
        moved,
    })
}

/// Refuses to change a policy another request is changing.
pub fn check_free(fabric: &Fabric, p: &PolicyRecord) -> Result<(), PlanError> {
    if fabric.in_flight(&p.id) {
        return Err(PlanError::Aborted(format!(
            "shared transport {} is being changed by another request; read it again and retry",
            p.id
        )));
    }
    Ok(())
}

/// Records `scratch` reservations of a planned change, so a batch's later
/// placements count it.
pub fn reserve_on(graph: &mut TeGraph, p: &PolicyRecord, c: &ShareChange) {
    match &c.moved {
        Some(m) => policy::reserve(graph, &m.path, c.total_after),
        None if c.delta() > 0.0 => policy::reserve(graph, &p.path, c.delta()),
        None => {}
    }
}

impl Fabric {
    /// Holds what a planned change needs until it commits: the growth on
    /// the current path, or the whole new total on the new one (both paths
    /// stay reserved while the move is made).
    pub fn hold_share(&mut self, c: &ShareChange) {
        let Some(path) = self.policies.get(&c.policy).map(|p| p.path.clone()) else {
            return;
        };
        match &c.moved {
            Some(m) => policy::reserve(&mut self.graph, &m.path, c.total_after),
            None if c.delta() > 0.0 => policy::reserve(&mut self.graph, &path, c.delta()),
            None => {}
        }
    }

    /// Gives back what [`Fabric::hold_share`] held.
    pub fn release_share(&mut self, c: &ShareChange) {
        let Some(path) = self.policies.get(&c.policy).map(|p| p.path.clone()) else {
            return;
        };
        match &c.moved {
            Some(m) => policy::release(&mut self.graph, &m.path, c.total_after),
            None if c.delta() > 0.0 => policy::release(&mut self.graph, &path, c.delta()),
            None => {}
        }
    }

    /// The policy as it stands after `c` (not recorded), for the journal
    /// and the events; `None` if it is gone.
    pub fn shared_after(&self, c: &ShareChange, revision: u64) -> Option<PolicyRecord> {
        let mut p = self.policies.get(&c.policy)?.clone();
        apply(&mut p, c, revision);
        Some(p)
    }

    /// Applies a held change: the hold becomes the policy's own reservation.
    /// A share going to 0 leaves the policy (a service leaving the last
    /// share is a policy removal instead, planned by the caller).
    pub fn commit_share(&mut self, c: ShareChange, revision: u64) {
        self.release_share(&c);
        let Some(mut p) = self.remove_policy(&c.policy) else {
            return;
        };
        apply(&mut p, &c, revision);
        self.insert_policy(p);
    }
}

fn apply(p: &mut PolicyRecord, c: &ShareChange, revision: u64) {
    match p.shares.iter_mut().find(|(s, _)| *s == c.service) {
        Some(share) if c.after > 0.0 => share.1 = c.after,
        Some(_) => p.shares.retain(|(s, _)| *s != c.service),
        None => p.shares.push((c.service.clone(), c.after)),
    }
    let total: f64 = p.shares.iter().map(|(_, g)| g).sum();
    p.constraints.bandwidth_gbps = total;
    p.spec.constraints.bandwidth_gbps = total;
    p.owner = p.shares.first().map(|(s, _)| s.clone());
    if let Some(m) = &c.moved {
        p.path = m.path.clone();
        p.segments = m.segments.clone();
        p.discriminator += 1;
        p.stranded = None;
    }
    p.revision = revision;
}

/// Why a service cannot ride the policy already steering its color.
pub fn incompatible(p: &PolicyRecord, field: &str) -> PlanError {
    match &p.owner {
        None => precondition(format!(
            "{field}: {} already has a color {} policy to {} ({}), not a service's transport; pick another transport color",
            p.headend, p.color, p.endpoint, p.id
        )),
        Some(_) => precondition(format!(
            "{field}: {} already carries color {} to {} on shared transport {} with other constraints ({}); ask for the same transport constraints or pick another color",
            p.headend, p.color, p.endpoint, p.id, describe(&p.constraints)
        )),
    }
}

fn describe(c: &Constraints) -> String {
    let mut parts = vec![format!("metric {:?}", c.metric)];
    if let Some(l) = c.max_latency_us {
        parts.push(format!("max latency {l} µs"));
    }
    for (name, set) in [
        ("include-any", &c.include_any),
        ("include-all", &c.include_all),
        ("exclude-any", &c.exclude_any),
        ("exclude nodes", &c.exclude_nodes),
        ("exclude links", &c.exclude_links),
    ] {
        if !set.is_empty() {
            parts.push(format!("{name} {set:?}"));
        }
    }
    if !c.exclude_srlgs.is_empty() {
        parts.push(format!("exclude SRLGs {:?}", c.exclude_srlgs));
    }
    parts.join(", ")
}
