//! SR-TE policies: place (CSPF or disjoint), compress to a SID list, program
//! the headend, reserve bandwidth.

use super::error::{not_found, quote, ApiError};
use super::persist::JournalEntries;
use super::pipeline::Staged;
use super::programmer::Plan;
use super::{Controller, Fabric, Kind};
use crate::intent::PolicySpec;
use crate::object::{self, Change, Revisioned};
use crate::plan::policy;
use crate::render::Need;

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
        let planned = policy::plan_create(&inner, &spec)?;
        self.check_models(&planned.intent.headend, Need::SrtePolicy, "an SR-TE policy")?;
        let ticket = self.events.reserve();
        let id = inner.new_id("pol");
        let record = planned.into_record(id.clone(), spec, None, ticket.revision());
        let mut plan = Plan::default();
        let d = self.dialect(&record.headend);
        plan.add(&record.headend, record.config(d), record.removal(d));
        inner.remember(Kind::Policy, request_id, fingerprint, &id);
        let entries = vec![inner.policy_entry(&record)];
        inner.hold_policy(record);
        let (commit_id, revert_id) = (id.clone(), id);
        Ok(Staged {
            plan,
            entries,
            commit: Box::new(move |inner: &mut Fabric| {
                inner.reveal([&commit_id]);
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
            revert: Box::new(move |inner: &mut Fabric| {
                inner.release_held(Kind::Policy, &revert_id);
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
                && (owner.is_empty()
                    || p.owner.as_deref() == Some(owner)
                    || p.shares.iter().any(|(s, _)| s == owner))
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
        let p = policy::check_delete(&inner, id, revision)?;
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
            commit: Box::new(move |inner: &mut Fabric| {
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
            revert: Box::new(move |inner: &mut Fabric| inner.unclaim(&revert_id)),
        })
    }
}
