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
