//! Changes to live services through the one pipeline: planned against the
//! caller's revision (`plan::update`), held under the lock, programmed (a
//! transport that must move is one replacing Set on its headend, undone by
//! its old segment list), journaled, then committed — or all given back.

use super::error::{not_found, quote, ApiError};
use super::persist::JournalEntries;
use super::pipeline::Staged;
use super::programmer::Plan;
use super::{Controller, Fabric};
use crate::object::{self, Change, Revisioned};
use crate::plan::update::{self, BandwidthChange};

impl Controller {
    /// Service `id`, read at `revision`, to `gbps` on each transport.
    pub async fn update_service_bandwidth(
        &self,
        id: &str,
        revision: u64,
        gbps: f64,
    ) -> Result<object::Service, ApiError> {
        let staged = self.stage_service_bandwidth(id, revision, gbps)?;
        self.execute(staged).await
    }

    fn stage_service_bandwidth(
        &self,
        id: &str,
        revision: u64,
        gbps: f64,
    ) -> Result<Staged<'_, object::Service>, ApiError> {
        let mut inner = self.write();
        let change = update::plan_bandwidth(&inner, id, revision, gbps)?;
        let mut plan = Plan::default();
        for c in &change.changes {
            if let (Some(m), Some(p)) = (&c.moved, inner.policies.get(&c.policy)) {
                let d = self.dialect(&p.headend);
                plan.add(
                    &p.headend,
                    p.move_to(d, &m.segments, p.discriminator + 1),
                    p.move_back(d),
                );
            }
        }
        // Claimed for the request: planning refused anything in flight, and
        // nothing released the lock since.
        let mut claimed = vec![id.to_string()];
        inner.claim("service", id)?;
        for c in &change.changes {
            if let Err(e) = inner.claim("policy", &c.policy) {
                for x in &claimed {
                    inner.unclaim(x);
                }
                return Err(e.into());
            }
            claimed.push(c.policy.clone());
        }
        let tickets: Vec<_> = change
            .changes
            .iter()
            .map(|_| self.events.reserve())
            .collect();
        let ticket = self.events.reserve();
        let mut entries = Vec::new();
        for (c, t) in change.changes.iter().zip(&tickets) {
            if let Some(after) = inner.shared_after(c, t.revision()) {
                entries.push(inner.policy_entry(&after));
            }
        }
        if let Some(after) = inner.service_after(&change, ticket.revision()) {
            entries.push(inner.service_entry(&after));
        }
        inner.hold_bandwidth(&change);
        drop(inner);
        let held = change.clone();
        let revert_claims = claimed.clone();
        Ok(Staged {
            plan,
            entries,
            commit: Box::new(move |inner: &mut Fabric| {
                for c in &claimed {
                    inner.unclaim(c);
                }
                commit(inner, change, tickets, ticket)
            }),
            revert: Box::new(move |inner: &mut Fabric| {
                inner.release_bandwidth(&held);
                for c in &revert_claims {
                    inner.unclaim(c);
                }
            }),
        })
    }
}

fn commit(
    inner: &mut Fabric,
    change: BandwidthChange,
    tickets: Vec<super::events::Ticket<'_>>,
    ticket: super::events::Ticket<'_>,
) -> Result<object::Service, ApiError> {
    let id = change.service.clone();
    let gbps = change.bandwidth_gbps;
    let moved: Vec<(String, bool)> = change
        .changes
        .iter()
        .map(|c| (c.policy.clone(), c.moved.is_some()))
        .collect();
    let revisions: Vec<u64> = tickets.iter().map(|t| t.revision()).collect();
    inner.commit_bandwidth(change, &revisions, ticket.revision());
    for ((pid, moved), t) in moved.into_iter().zip(tickets) {
        if let Some(p) = inner.policies.get(&pid) {
            let view = p.view(&inner.graph);
            let how = if moved {
                "moved make-before-break to a path with room"
            } else {
                "in place"
            };
            t.publish(
                Change::Updated,
                &format!(
                    "service {id} now {gbps} Gbps: {} Gbps reserved, {how}",
                    p.constraints.bandwidth_gbps
                ),
                view.at(p.revision),
            );
        }
    }
    let out = inner
        .services
        .get(&id)
        .map(|s| s.view())
        .ok_or_else(|| not_found("id", format!("service {}", quote(&id))))?;
    let revision = out.revision;
    ticket.publish(
        Change::Updated,
        &format!("bandwidth now {gbps} Gbps"),
        out.clone().at(revision),
    );
    Ok(out)
}

impl Controller {
    /// Standalone policy `id`, read at `revision`, under new constraints.
    pub async fn update_policy_constraints(
        &self,
        id: &str,
        revision: u64,
        constraints: crate::intent::ConstraintsSpec,
    ) -> Result<object::Policy, ApiError> {
        let staged = self.stage_policy_update(id, revision, &constraints)?;
        self.execute(staged).await
    }

    fn stage_policy_update(
        &self,
        id: &str,
        revision: u64,
        constraints: &crate::intent::ConstraintsSpec,
    ) -> Result<Staged<'_, object::Policy>, ApiError> {
        let mut inner = self.write();
        let change = update::plan_policy(&inner, id, revision, constraints)?;
        let mut plan = Plan::default();
        if let (Some(m), Some(p)) = (&change.moved, inner.policies.get(id)) {
            let d = self.dialect(&p.headend);
            plan.add(
                &p.headend,
                p.move_to(d, &m.segments, p.discriminator + 1),
                p.move_back(d),
            );
        }
        inner.claim("policy", id)?;
        let ticket = self.events.reserve();
        let entries: Vec<_> = inner
            .policy_after(&change, ticket.revision())
            .map(|after| inner.policy_entry(&after))
            .into_iter()
            .collect();
        inner.hold_policy_change(&change, true);
        drop(inner);
        let held = change.clone();
        let (commit_id, revert_id) = (id.to_string(), id.to_string());
        Ok(Staged {
            plan,
            entries,
            commit: Box::new(move |inner: &mut Fabric| {
                inner.unclaim(&commit_id);
                let moved = change.moved.is_some();
                let gbps = change.total_after;
                inner.commit_policy_change(change, ticket.revision());
                let out = inner
                    .policies
                    .get(&commit_id)
                    .map(|p| p.view(&inner.graph))
                    .ok_or_else(|| not_found("id", format!("policy {}", quote(&commit_id))))?;
                let how = if moved {
                    "moved make-before-break"
                } else {
                    "in place"
                };
                let revision = out.revision;
                ticket.publish(
                    Change::Updated,
                    &format!("constraints changed ({gbps} Gbps reserved), {how}"),
                    out.clone().at(revision),
                );
                Ok(out)
            }),
            revert: Box::new(move |inner: &mut Fabric| {
                inner.hold_policy_change(&held, false);
                inner.unclaim(&revert_id);
            }),
        })
    }
}
