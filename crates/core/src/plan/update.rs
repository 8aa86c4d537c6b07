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
