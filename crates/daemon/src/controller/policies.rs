//! SR-TE policies: place (CSPF or disjoint), compress to a SID list, program
//! the headend, reserve bandwidth.

use super::error::{not_found, precondition, quote, ApiError};
use super::intent::{self, PolicyIntent};
use super::pipeline::Staged;
use super::programmer::Plan;
use super::records::PolicyRecord;
use super::{Controller, Inner, Kind};
use crate::intent::PolicySpec;
use crate::object::{self, Change, Revisioned};
use crate::pathcomp::{self, IgpSpf, Path, PathError, Segment, TeGraph};
use crate::render::Need;

/// Where a policy goes and how it is spelled on the headend.
pub(super) struct Placement {
    pub path: Path,
    pub segments: Vec<Segment>,
}

pub(super) fn path_error(what: &str, e: PathError) -> ApiError {
    precondition(format!("{what}: {e}"))
}

/// Computes a policy's path on `graph` (which carries current reservations).
pub(super) fn place(
    inner: &Inner,
    graph: &TeGraph,
    intent: &PolicyIntent,
    what: &str,
) -> Result<Placement, ApiError> {
    place_with(inner, graph, &mut IgpSpf::new(&inner.graph), intent, what)
}

/// As `place`, sharing IGP trees across a batch (`spf` over `inner.graph`,
/// whose IGP view any scratch `graph` shares).
pub(super) fn place_with(
    inner: &Inner,
    graph: &TeGraph,
    spf: &mut IgpSpf<'_>,
    intent: &PolicyIntent,
    what: &str,
) -> Result<Placement, ApiError> {
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
            let other = inner.policies.get(other).ok_or_else(|| {
                not_found(
                    "spec.constraints.disjoint_from",
                    format!("policy {}", quote(other)),
                )
            })?;
            pathcomp::disjoint_from(graph, src, dst, &intent.constraints, &other.path, *kind)
        }
        None => pathcomp::cspf_with(graph, spf, src, dst, &intent.constraints),
    }
    .map_err(|e| path_error(what, e))?;
    let segments = pathcomp::compress_with(spf, &path, Some(intent.max_sid_depth))
        .map_err(|e| path_error(what, e))?;
    Ok(Placement { path, segments })
}

pub(super) fn reserve(graph: &mut TeGraph, path: &Path, gbps: f64) {
    if gbps > 0.0 {
        for &e in &path.edges {
            if let Some(edge) = graph.edges.get_mut(e) {
                edge.reserved_gbps += gbps;
            }
        }
    }
}

pub(super) fn release(graph: &mut TeGraph, path: &Path, gbps: f64) {
    if gbps > 0.0 {
        for &e in &path.edges {
            if let Some(edge) = graph.edges.get_mut(e) {
                edge.reserved_gbps = (edge.reserved_gbps - gbps).max(0.0);
            }
        }
    }
}

impl Controller {
    pub async fn create_policy_intent(
        &self,
        req: super::Request<PolicySpec>,
    ) -> Result<object::Policy, ApiError> {
        super::intent::request_id(&req.request_id)?;
        if let Some(p) = self.replay(Kind::Policy, &req.request_id, &req.fingerprint, |i, id| {
            i.policies.get(id).map(|p| p.view(&i.graph))
        })? {
            return Ok(p);
        }
        let staged = self.stage_policy_create(req.spec, &req.request_id, req.fingerprint)?;
        self.execute(staged).await
    }

    /// Plans the policy and holds it (name, steering, bandwidth) invisibly.
    fn stage_policy_create(
        &self,
        spec: PolicySpec,
        request_id: &str,
        fingerprint: Vec<u8>,
    ) -> Result<Staged<'_, object::Policy>, ApiError> {
        let mut inner = self.write();
        let intent = intent::policy(&inner, &spec)?;
        if let Some(id) = inner.name_taken(Kind::Policy, &spec.name) {
            return Err(ApiError::AlreadyExists(format!(
                "spec.name: policy {} already exists ({id})",
                quote(&spec.name)
            )));
        }
        if let Some(p) = inner.steered_by(&intent.headend, intent.color, &intent.endpoint) {
            return Err(ApiError::AlreadyExists(format!(
                "spec: {} already has a color {} policy to {} ({})",
                intent.headend, intent.color, intent.endpoint, p.id
            )));
        }
        self.check_models(&intent.headend, Need::SrtePolicy, "an SR-TE policy")?;
        let placement = place(&inner, &inner.graph, &intent, "no path for the policy")?;
        let sequence_id = inner.free_sequence(&intent.headend, &Default::default())?;
        let ticket = self.events.reserve();
        let id = inner.new_id("pol");
        let record = PolicyRecord {
            id: id.clone(),
            spec,
            owner: None,
            headend: intent.headend,
            endpoint: intent.endpoint,
            endpoint_address: intent.endpoint_address,
            color: intent.color,
            constraints: intent.constraints,
            disjoint: intent.disjoint,
            max_sid_depth: intent.max_sid_depth,
            path: placement.path,
            segments: placement.segments,
            revision: ticket.revision(),
            discriminator: 1,
            sequence_id,
            displaced_by: Default::default(),
            stranded: None,
        };
        let mut plan = Plan::default();
        let d = self.dialect(&record.headend);
        plan.add(&record.headend, record.config(d), record.removal(d));
        Controller::remember(&mut inner, Kind::Policy, request_id, fingerprint, &id);
        let entries = vec![inner.policy_entry(&record)];
        inner.pending.insert(id.clone());
        inner.insert_policy(record);
        let (commit_id, revert_id) = (id.clone(), id);
        Ok(Staged {
            plan,
            entries,
            commit: Box::new(move |inner: &mut Inner| {
                inner.pending.remove(&commit_id);
                let p = inner
                    .policies
                    .get(&commit_id)
                    .ok_or_else(|| not_found("id", format!("policy {}", quote(&commit_id))))?;
                let out = p.view(&inner.graph);
                ticket.publish(
                    Change::Created,
                    "policy created",
                    out.clone().at(out.revision),
                );
                Ok(out)
            }),
            revert: Box::new(move |inner: &mut Inner| {
                inner.pending.remove(&revert_id);
                inner.remove_policy(&revert_id);
                inner.forget_origin(Kind::Policy, &revert_id);
            }),
        })
    }

    pub fn policy(&self, id: &str) -> Result<object::Policy, ApiError> {
        let inner = self.read();
        inner
            .policies
            .get(id)
            .filter(|p| !inner.pending.contains(&p.id))
            .map(|p| p.view(&inner.graph))
            .ok_or_else(|| not_found("id", format!("policy {}", quote(id))))
    }

    pub fn policies(&self, headend: &str, owner: &str) -> Vec<object::Policy> {
        self.policies_page(headend, owner, None, usize::MAX).0
    }

    /// One page of `policies`: at most `limit` with ids after `after`, in id
    /// order, and whether more follow.
    pub fn policies_page(
        &self,
        headend: &str,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> (Vec<object::Policy>, bool) {
        let inner = self.read();
        let (page, more) = super::keyset_page(&inner.policies, after, limit, |p| {
            !inner.pending.contains(&p.id)
                && (headend.is_empty() || p.headend == headend)
                && (owner.is_empty() || p.owner.as_deref() == Some(owner))
        });
        (page.iter().map(|p| p.view(&inner.graph)).collect(), more)
    }

    pub async fn delete_policy(&self, id: &str, revision: u64) -> Result<u64, ApiError> {
        let staged = self.stage_policy_delete(id, revision)?;
        self.execute(staged).await
    }

    /// Checks the delete and claims the policy; it stays in force (and in
    /// reroutes' way) until the headend has let it go.
    fn stage_policy_delete(&self, id: &str, revision: u64) -> Result<Staged<'_, u64>, ApiError> {
        let mut inner = self.write();
        let p = inner
            .policies
            .get(id)
            .filter(|p| !inner.pending.contains(&p.id))
            .ok_or_else(|| not_found("id", format!("policy {}", quote(id))))?;
        if let Some(owner) = &p.owner {
            return Err(precondition(format!(
                "policy {id} is transport of service {owner}; delete the service instead"
            )));
        }
        if revision != 0 && revision != p.revision {
            return Err(ApiError::Aborted(format!(
                "policy {id} is at revision {}, not {revision}",
                p.revision
            )));
        }
        if let Some(dep) = inner
            .policies
            .values()
            .find(|o| o.disjoint.as_ref().is_some_and(|(d, _)| d == id))
        {
            return Err(precondition(format!(
                "policy {} is placed disjoint from {id}; delete it first",
                dep.id
            )));
        }
        let mut plan = Plan::default();
        let d = self.dialect(&p.headend);
        plan.add(&p.headend, p.removal(d), p.config(d));
        inner.claim("policy", id)?;
        let ticket = self.events.reserve();
        let entries = vec![inner.removed_entry(Kind::Policy, id, ticket.revision())];
        let (commit_id, revert_id) = (id.to_string(), id.to_string());
        Ok(Staged {
            plan,
            entries,
            commit: Box::new(move |inner: &mut Inner| {
                inner.unclaim(&commit_id);
                let Some(record) = inner.remove_policy(&commit_id) else {
                    return Err(not_found("id", format!("policy {}", quote(&commit_id))));
                };
                inner.forget_origin(Kind::Policy, &commit_id);
                let revision = ticket.revision();
                ticket.publish(
                    Change::Deleted,
                    "policy deleted",
                    record.view(&inner.graph).at(revision),
                );
                Ok(revision)
            }),
            revert: Box::new(move |inner: &mut Inner| inner.unclaim(&revert_id)),
        })
    }
}
