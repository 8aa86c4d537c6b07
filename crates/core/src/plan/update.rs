//! Changes to a live service, checked against the revision its caller read:
//! a bandwidth change is a [`ShareChange`] on each of its transports — grown
//! in place where the path has room, else moved make-before-break onto a
//! path that has; shrunk in place. Nothing is changed here: the pipeline
//! holds, programs, journals and commits the plan, or gives it all back.

use super::error::{invalid, not_found, quote, PlanError};
use super::records::ServiceRecord;
use super::share::{self, ShareChange};
use super::validate::finite_non_negative;
use super::Fabric;
use crate::pathcomp::IgpSpf;

/// A planned bandwidth change of one service.
#[derive(Debug, Clone)]
pub struct BandwidthChange {
    pub service: String,
    pub bandwidth_gbps: f64,
    /// One per transport policy of the service.
    pub changes: Vec<ShareChange>,
}

/// The service `id` if the caller's `revision` is its current one and no
/// other request is changing it.
pub fn current<'a>(
    fabric: &'a Fabric,
    id: &str,
    revision: u64,
) -> Result<&'a ServiceRecord, PlanError> {
    if revision == 0 {
        return Err(invalid(
            "revision",
            "required: the revision of the service as you read it",
        ));
    }
    let s = fabric
        .services
        .get(id)
        .filter(|s| !fabric.pending.contains(&s.id))
        .ok_or_else(|| not_found("id", format!("service {}", quote(id))))?;
    if fabric.busy.contains(id) {
        return Err(PlanError::Aborted(format!(
            "service {id} is being changed by another request; read it again and retry"
        )));
    }
    if s.revision != revision {
        return Err(PlanError::Aborted(format!(
            "service {id} is at revision {}, not {revision}; read it again and retry",
            s.revision
        )));
    }
    Ok(s)
}

/// Plans service `id` (at `revision`) going to `gbps` on every transport.
pub fn plan_bandwidth(
    fabric: &Fabric,
    id: &str,
    revision: u64,
    gbps: f64,
) -> Result<BandwidthChange, PlanError> {
    let gbps = finite_non_negative(gbps, "bandwidth_gbps", 100_000.0)?;
    let s = current(fabric, id, revision)?;
    // The service's transports reserve against each other (an E-LAN's
    // mesh shares links), so each is planned on what the earlier ones took.
    let mut scratch = fabric.graph.clone();
    let mut spf = IgpSpf::new(&fabric.graph);
    let mut changes = Vec::new();
    for pid in &s.policies {
        let Some(p) = fabric.policies.get(pid) else {
            continue;
        };
        share::check_free(fabric, p)?;
        let c = share::plan_change(fabric, &scratch, &mut spf, p, id, gbps)?;
        share::reserve_on(&mut scratch, p, &c);
        changes.push(c);
    }
    Ok(BandwidthChange {
        service: id.to_string(),
        bandwidth_gbps: gbps,
        changes,
    })
}

impl Fabric {
    /// Holds what a planned bandwidth change needs until it commits.
    pub fn hold_bandwidth(&mut self, c: &BandwidthChange) {
        for x in &c.changes {
            self.hold_share(x);
        }
    }

    /// Gives back what [`Fabric::hold_bandwidth`] held.
    pub fn release_bandwidth(&mut self, c: &BandwidthChange) {
        for x in &c.changes {
            self.release_share(x);
        }
    }

    /// The service as it stands after `c` (not recorded), at `revision`.
    pub fn service_after(&self, c: &BandwidthChange, revision: u64) -> Option<ServiceRecord> {
        let mut s = self.services.get(&c.service)?.clone();
        s.spec.bandwidth_gbps = c.bandwidth_gbps;
        s.revision = revision;
        Some(s)
    }

    /// Applies a held change: each transport at its revision (in the order
    /// of `c.changes`), then the service at `revision`.
    pub fn commit_bandwidth(
        &mut self,
        c: BandwidthChange,
        policy_revisions: &[u64],
        revision: u64,
    ) {
        if let Some(s) = self.service_after(&c, revision) {
            self.services.insert(s.id.clone(), s);
        }
        for (x, rev) in c.changes.into_iter().zip(policy_revisions) {
            self.commit_share(x, *rev);
        }
    }
}

/// A planned change of a standalone policy's constraints (bandwidth
/// included).
#[derive(Debug, Clone)]
pub struct PolicyChange {
    pub policy: String,
    pub spec: crate::intent::ConstraintsSpec,
    pub constraints: crate::pathcomp::Constraints,
    pub disjoint: Option<(String, crate::pathcomp::Disjointness)>,
    pub max_sid_depth: usize,
    pub total_before: f64,
    pub total_after: f64,
    /// A new path, when the current one no longer fits (or has no room).
    pub moved: Option<super::policy::Placement>,
}

/// Plans policy `id` (at `revision`) under new constraints `spec`: in place
/// when only the bandwidth changes and every hop has room for it (or it
/// shrinks), else re-placed with its own reservation not counted, which
/// moves it only if the best path under the new constraints differs.
pub fn plan_policy(
    fabric: &Fabric,
    id: &str,
    revision: u64,
    spec: &crate::intent::ConstraintsSpec,
) -> Result<PolicyChange, PlanError> {
    use super::policy::{self as pol, Placement};
    if revision == 0 {
        return Err(invalid(
            "revision",
            "required: the revision of the policy as you read it",
        ));
    }
    let (constraints, disjoint, max_sid_depth) =
        super::validate::constraints(fabric, spec, "constraints")?;
    let p = fabric
        .policies
        .get(id)
        .filter(|p| !fabric.pending.contains(&p.id))
        .ok_or_else(|| not_found("id", format!("policy {}", quote(id))))?;
    if let Some(owner) = &p.owner {
        return Err(super::error::precondition(format!(
            "policy {id} is transport of service {owner}; update the service instead"
        )));
    }
    if fabric.busy.contains(id) {
        return Err(PlanError::Aborted(format!(
            "policy {id} is being changed by another request; read it again and retry"
        )));
    }
    if p.revision != revision {
        return Err(PlanError::Aborted(format!(
            "policy {id} is at revision {}, not {revision}; read it again and retry",
            p.revision
        )));
    }
    if disjoint.as_ref().is_some_and(|(d, _)| d == id) {
        return Err(invalid(
            "constraints.disjoint_from",
            "a policy cannot be disjoint from itself",
        ));
    }
    let total_before = p.constraints.bandwidth_gbps;
    let total_after = constraints.bandwidth_gbps;
    let strip = |c: &crate::pathcomp::Constraints| crate::pathcomp::Constraints {
        bandwidth_gbps: 0.0,
        ..c.clone()
    };
    let same_path_rules = strip(&constraints) == strip(&p.constraints)
        && disjoint == p.disjoint
        && max_sid_depth == p.max_sid_depth;
    let moved =
        if same_path_rules && share::has_room(&fabric.graph, &p.path, total_after - total_before) {
            None
        } else {
            let mut g = fabric.graph.clone();
            pol::release(&mut g, &p.path, total_before);
            let mut intent = pol::intent_of(p);
            intent.constraints = constraints.clone();
            intent.disjoint = disjoint.clone();
            intent.max_sid_depth = max_sid_depth;
            let what = format!("no path for policy {id} under the new constraints");
            let placed: Placement = pol::place(fabric, &g, &intent, &what)?;
            (placed.path.edges != p.path.edges).then_some(placed)
        };
    if moved.is_some() {
        if let Some(dep) = fabric
            .policies
            .values()
            .find(|o| o.disjoint.as_ref().is_some_and(|(d, _)| d == id))
        {
            return Err(super::error::precondition(format!(
                "policy {} is placed disjoint from {id}, which would have to move; change it first",
                dep.id
            )));
        }
    }
    Ok(PolicyChange {
        policy: id.to_string(),
        spec: spec.clone(),
        constraints,
        disjoint,
        max_sid_depth,
        total_before,
        total_after,
        moved,
    })
}

impl Fabric {
    /// Holds a policy change's new bandwidth until it commits (the whole
    /// total on a new path; the growth on the current one).
    pub fn hold_policy_change(&mut self, c: &PolicyChange, hold: bool) {
        let Some(path) = self.policies.get(&c.policy).map(|p| p.path.clone()) else {
            return;
        };
        let (on, gbps) = match &c.moved {
            Some(m) => (m.path.clone(), c.total_after),
            None => (path, c.total_after - c.total_before),
        };
        if gbps > 0.0 {
            if hold {
                super::policy::reserve(&mut self.graph, &on, gbps);
            } else {
                super::policy::release(&mut self.graph, &on, gbps);
            }
        }
    }

    /// The policy as it stands after `c` (not recorded), at `revision`.
    pub fn policy_after(&self, c: &PolicyChange, revision: u64) -> Option<super::PolicyRecord> {
        let mut p = self.policies.get(&c.policy)?.clone();
        p.spec.constraints = c.spec.clone();
        p.constraints = c.constraints.clone();
        p.disjoint = c.disjoint.clone();
        p.max_sid_depth = c.max_sid_depth;
        if let Some(m) = &c.moved {
            p.path = m.path.clone();
            p.segments = m.segments.clone();
            p.discriminator += 1;
            p.stranded = None;
            p.displaced_by.clear();
        }
        p.revision = revision;
        Some(p)
    }

    /// Applies a held policy change: the hold becomes its reservation.
    pub fn commit_policy_change(&mut self, c: PolicyChange, revision: u64) {
        self.hold_policy_change(&c, false);
        let Some(after) = self.policy_after(&c, revision) else {
            return;
        };
        self.remove_policy(&c.policy);
        self.insert_policy(after);
    }
}
