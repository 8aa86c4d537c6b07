//! SR-TE policies: checked, placed (CSPF or disjoint from another policy),
//! compressed to a SID list and given a rule number on the headend — or
//! refused, naming why. Deletes are checked the same way.

use super::error::{not_found, precondition, quote, PlanError};
use super::records::PolicyRecord;
use super::validate::{self, PolicyIntent};
use super::{Fabric, Kind};
use crate::intent::PolicySpec;
use crate::pathcomp::{self, IgpSpf, Path, PathError, Segment, TeGraph};

/// Where a policy goes and how it is spelled on the headend.
#[derive(Debug, Clone)]
pub struct Placement {
    pub path: Path,
    pub segments: Vec<Segment>,
}

pub fn path_error(what: &str, e: PathError) -> PlanError {
    precondition(format!("{what}: {e}"))
}

/// Computes a policy's path on `graph` (which carries current reservations).
pub fn place(
    fabric: &Fabric,
    graph: &TeGraph,
    intent: &PolicyIntent,
    what: &str,
) -> Result<Placement, PlanError> {
    place_with(fabric, graph, &mut IgpSpf::new(&fabric.graph), intent, what)
}

/// As `place`, sharing IGP trees across a batch (`spf` over `fabric.graph`,
/// whose IGP view any scratch `graph` shares).
pub fn place_with(
    fabric: &Fabric,
    graph: &TeGraph,
    spf: &mut IgpSpf<'_>,
    intent: &PolicyIntent,
    what: &str,
) -> Result<Placement, PlanError> {
    place_on(graph, spf, intent, what, &|id| {
        fabric.policies.get(id).map(|p| p.path.clone())
    })
}

/// As `place_with`, with the path of the policy a placement must be disjoint
/// from given by `path_of`: a what-if's scratch view, where that policy may
/// already have moved, looks it up in the view rather than the fabric.
pub fn place_on(
    graph: &TeGraph,
    spf: &mut IgpSpf<'_>,
    intent: &PolicyIntent,
    what: &str,
    path_of: &dyn Fn(&str) -> Option<Path>,
) -> Result<Placement, PlanError> {
    let src = graph.node_id(&intent.headend).ok_or_else(|| {
        precondition(format!(
            "{what}: headend {} is not in the packet graph",
            intent.headend
        ))
    })?;
    let dst = graph.node_id(&intent.endpoint).ok_or_else(|| {
        precondition(format!(
            "{what}: endpoint {} is not in the packet graph",
            intent.endpoint
        ))
    })?;
    let path = match &intent.disjoint {
        Some((other, kind)) => {
            let other = path_of(other).ok_or_else(|| {
                not_found(
                    "spec.constraints.disjoint_from",
                    format!("policy {}", quote(other)),
                )
            })?;
            pathcomp::disjoint_from(graph, src, dst, &intent.constraints, &other, *kind)
        }
        None => pathcomp::cspf_with(graph, spf, src, dst, &intent.constraints),
    }
    .map_err(|e| path_error(what, e))?;
    let segments = pathcomp::compress_with(spf, &path, Some(intent.max_sid_depth))
        .map_err(|e| path_error(what, e))?;
    Ok(Placement { path, segments })
}

pub fn reserve(graph: &mut TeGraph, path: &Path, gbps: f64) {
    if gbps > 0.0 {
        for &e in &path.edges {
            graph.update_edge(e, |edge| edge.reserved_gbps += gbps);
        }
    }
}

pub fn release(graph: &mut TeGraph, path: &Path, gbps: f64) {
    if gbps > 0.0 {
        for &e in &path.edges {
            graph.update_edge(e, |edge| {
                edge.reserved_gbps = (edge.reserved_gbps - gbps).max(0.0);
            });
        }
    }
}

/// The policy's best path now, not counting its own reservation.
pub fn replan(
    fabric: &Fabric,
    spf: &mut crate::pathcomp::IgpSpf<'_>,
    p: &PolicyRecord,
) -> Result<(Path, Vec<Segment>), PlanError> {
    // Only a policy holding bandwidth needs a view without its own reservation.
    let owned;
    let graph = if p.constraints.bandwidth_gbps > 0.0 {
        let mut g = fabric.graph.clone();
        release(&mut g, &p.path, p.constraints.bandwidth_gbps);
        owned = g;
        &owned
    } else {
        &fabric.graph
    };
    let intent = intent_of(p);
    place_with(fabric, graph, spf, &intent, REPLAN_WHAT).map(|pl| (pl.path, pl.segments))
}

/// What a placed policy asks of its path, as its create was checked.
pub fn intent_of(p: &PolicyRecord) -> PolicyIntent {
    PolicyIntent {
        headend: p.headend.clone(),
        endpoint: p.endpoint.clone(),
        endpoint_address: p.endpoint_address.clone(),
        color: p.color,
        constraints: p.constraints.clone(),
        disjoint: p.disjoint.clone(),
        max_sid_depth: p.max_sid_depth,
    }
}

/// The reason a re-placement gives when a policy has nowhere to go (the
/// reroute and the what-if say the same).
pub const REPLAN_WHAT: &str = "no path avoiding the degraded link";

/// A policy ready to be held: checked, placed, numbered.
#[derive(Debug)]
pub struct PolicyPlan {
    pub intent: PolicyIntent,
    pub placement: Placement,
    pub sequence_id: u32,
}

/// Plans a new policy on the fabric as it is (current reservations count).
pub fn plan_create(fabric: &Fabric, spec: &PolicySpec) -> Result<PolicyPlan, PlanError> {
    let intent = validate::policy(fabric, spec)?;
    if let Some(id) = fabric.name_taken(Kind::Policy, &spec.name) {
        return Err(PlanError::AlreadyExists(format!(
            "spec.name: policy {} already exists ({id})",
            quote(&spec.name)
        )));
    }
    if let Some(p) = fabric.steered_by(&intent.headend, intent.color, &intent.endpoint) {
        return Err(PlanError::AlreadyExists(format!(
            "spec: {} already has a color {} policy to {} ({})",
            intent.headend, intent.color, intent.endpoint, p.id
        )));
    }
    let placement = place(fabric, &fabric.graph, &intent, "no path for the policy")?;
    let sequence_id = fabric.free_sequence(&intent.headend, &Default::default())?;
    Ok(PolicyPlan {
        intent,
        placement,
        sequence_id,
    })
}

impl PolicyPlan {
    /// The record of the planned policy, as `id` at `revision`.
    pub fn into_record(
        self,
        id: String,
        spec: PolicySpec,
        owner: Option<String>,
        revision: u64,
    ) -> PolicyRecord {
        let PolicyPlan {
            intent,
            placement,
            sequence_id,
        } = self;
        PolicyRecord {
            id,
            spec,
            owner,
            headend: intent.headend,
            endpoint: intent.endpoint,
            endpoint_address: intent.endpoint_address,
            color: intent.color,
            constraints: intent.constraints,
            disjoint: intent.disjoint,
            max_sid_depth: intent.max_sid_depth,
            path: placement.path,
            segments: placement.segments,
            revision,
            discriminator: 1,
            sequence_id,
            displaced_by: Default::default(),
            stranded: None,
            shares: Vec::new(),
        }
    }
}

/// Checks that policy `id` may be deleted at `revision` (0 = any): it is
/// visible, not a service's transport, current, and no policy is placed
/// disjoint from it.
pub fn check_delete<'a>(
    fabric: &'a Fabric,
    id: &str,
    revision: u64,
) -> Result<&'a PolicyRecord, PlanError> {
    let p = fabric
        .policies
        .get(id)
        .filter(|p| !fabric.pending.contains(&p.id))
        .ok_or_else(|| not_found("id", format!("policy {}", quote(id))))?;
    if let Some(owner) = &p.owner {
        return Err(precondition(format!(
            "policy {id} is transport of service {owner}; delete the service instead"
        )));
    }
    if revision != 0 && revision != p.revision {
        return Err(PlanError::Aborted(format!(
            "policy {id} is at revision {}, not {revision}",
            p.revision
        )));
    }
    if let Some(dep) = fabric
        .policies
        .values()
        .find(|o| o.disjoint.as_ref().is_some_and(|(d, _)| d == id))
    {
        return Err(precondition(format!(
            "policy {} is placed disjoint from {id}; delete it first",
            dep.id
        )));
    }
    Ok(p)
}
