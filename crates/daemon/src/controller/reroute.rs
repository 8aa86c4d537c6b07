//! The closed loop's actuator: a link's health changed, so re-place only the
//! policies that ride it (or that it displaced), make-before-break.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::join_all;
use tracing::Instrument;

use super::persist::JournalEntries;
use super::programmer::send;
use super::{Controller, Fabric};
use crate::object::{Change, Revisioned};
use crate::plan::reroute::{self, Outcome};
use crate::render::{DeviceEdit, SrtePolicy};

pub use crate::plan::reroute::LinkCondition;

#[derive(Debug, Clone, PartialEq)]
pub struct Reroute {
    pub policy: String,
    pub headend: String,
    pub from_links: Vec<String>,
    pub to_links: Vec<String>,
    pub labels: Vec<u32>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RerouteReport {
    pub considered: usize,
    pub rerouted: Vec<Reroute>,
    /// Policies with no better (or no) path; they keep their current one.
    pub unchanged: usize,
    /// Policies with no feasible path at all (reported down).
    pub stranded: Vec<String>,
    pub failed: Vec<(String, String)>,
}

/// A planned move and the headend edit that makes it.
struct Move {
    planned: reroute::Move,
    /// The rule replaced with only the new segment list.
    edit: DeviceEdit,
}

impl Controller {
    /// Applies a link condition and re-places the affected policies.
    pub async fn link_condition(
        &self,
        link: &str,
        condition: LinkCondition,
        reason: &str,
    ) -> RerouteReport {
        let _turn = self.reroutes.lock().await;
        let affected = {
            let mut inner = self.write();
            reroute::apply(&mut inner, link, &condition)
        };
        let report = self
            .replace_policies(&affected, link, &condition, reason)
            .await;
        // Off the critical path: the next breach finds its repair paths.
        Controller::spawn_repairs(self.me.clone());
        report
    }

    pub(super) async fn replace_policies(
        &self,
        ids: &[String],
        link: &str,
        condition: &LinkCondition,
        reason: &str,
    ) -> RerouteReport {
        let mut report = RerouteReport {
            considered: ids.len(),
            ..Default::default()
        };
        let t0 = std::time::Instant::now();
        // Policies left without any feasible path (they keep the old one and
        // are reported down), and ones whose link came back under them.
        let mut stranded: Vec<(String, String)> = Vec::new();
        let mut recovered: Vec<String> = Vec::new();
        let compute = tracing::info_span!(
            "compute",
            link,
            policies = ids.len() as i64,
            moves = tracing::field::Empty
        );
        let (mut moves, others): (Vec<Move>, Vec<Outcome>) = compute.in_scope(|| {
            let inner = self.read();
            let mut moves = Vec::new();
            let mut others = Vec::new();
            for o in reroute::plan_all(&inner, ids, condition) {
                match o {
                    // Rendered under the same read as the plan, from the same records.
                    Outcome::Move(planned) => {
                        let edit = self.reroute_edit(&inner, &planned);
                        moves.push(Move { planned, edit });
                    }
                    other => others.push(other),
                }
            }
            (moves, others)
        });
        for outcome in others {
            match outcome {
                // Moves were split off with their edits above.
                Outcome::Move(_) => {}
                Outcome::Same { recovered: r } => {
                    report.unchanged += 1;
                    recovered.extend(r);
                }
                Outcome::NoPath(s) => {
                    report.unchanged += 1;
                    stranded.extend(s);
                }
            }
        }
        compute.record("moves", moves.len() as i64);
        drop(compute);
        self.mark_stranded(link, &stranded, &recovered);
        report.stranded = stranded.into_iter().map(|(id, _)| id).collect();
        if moves.is_empty() {
            return report;
        }
        // Make before break, per headend in parallel: one Set replaces each
        // moved rule with only its new segment list, so the new list is in and
        // the old one out in the same commit.
        let mut by_headend: BTreeMap<String, (Vec<String>, DeviceEdit)> = BTreeMap::new();
        for m in &mut moves {
            let (ids, edit) = by_headend.entry(m.planned.headend.clone()).or_default();
            ids.push(m.planned.id.clone());
            edit.extend(std::mem::take(&mut m.edit));
        }
        // Until the moves are committed, reconciliation leaves the headends be.
        let _writing = self.writes.writing(by_headend.keys().map(String::as_str));
        let t1 = t0.elapsed();
        let program = tracing::info_span!(
            "program",
            link,
            headends = by_headend.len() as i64,
            moves = moves.len() as i64
        );
        let programmer = self.programmer.clone();
        let results = join_all(by_headend.into_iter().map(|(headend, (ids, edit))| {
            let programmer = programmer.clone();
            // Created here, outside `program`'s scope, so its parent is named.
            let set = tracing::info_span!(
                parent: &program,
                "set",
                headend = headend.as_str(),
                policies = ids.len() as i64
            );
            async move {
                let r = send(programmer.as_ref(), &headend, &edit)
                    .await
                    .map_err(|e| e.to_string());
                (ids, r)
            }
            .instrument(set)
        }))
        .instrument(program.clone())
        .await;
        drop(program);
        let t2 = t0.elapsed();
        tracing::debug!(link, moves = moves.len(), plan = ?t1, program = ?(t2 - t1), "reroute programmed");
        let mut ok: BTreeSet<String> = BTreeSet::new();
        for (ids, r) in results {
            match r {
                Ok(()) => ok.extend(ids),
                Err(e) => report
                    .failed
                    .extend(ids.into_iter().map(|id| (id, e.clone()))),
            }
        }
        let mut inner = self.write();
        let mut journal = Vec::new();
        for m in moves.into_iter().filter(|m| ok.contains(&m.planned.id)) {
            let id = m.planned.id.clone();
            let Some(from_links) = reroute::commit_move(&mut inner, m.planned, link, condition)
            else {
                continue;
            };
            let Some(view) = inner.policies.get(&id).map(|r| r.view(&inner.graph)) else {
                continue;
            };
            let revision = self
                .events
                .publish(Change::Updated, reason, |rev| view.clone().at(rev));
            let Some(record) = inner.policies.get_mut(&id) else {
                continue;
            };
            record.revision = revision;
            report.rerouted.push(Reroute {
                policy: id.clone(),
                headend: record.headend.clone(),
                from_links,
                to_links: view.path.links,
                labels: record.labels(),
            });
            if let Some(record) = inner.policies.get(&id) {
                journal.push(inner.policy_entry(record));
            }
        }
        drop(inner);
        self.record(&journal);
        report
    }
}

impl Controller {
    /// The headend edit moving a policy: its rule replaced with only the new
    /// segment list (make-before-break inside one Set).
    fn reroute_edit(&self, fabric: &Fabric, m: &reroute::Move) -> DeviceEdit {
        let Some(p) = fabric.policies.get(&m.id) else {
            return DeviceEdit::default();
        };
        let labels = crate::plan::records::labels(&m.segments);
        self.dialect(&p.headend).reroute(&SrtePolicy {
            name: &p.spec.name,
            sequence_id: p.sequence_id,
            endpoint: &p.endpoint_address,
            color: p.color,
            labels: &labels,
            discriminator: m.discriminator,
        })
    }
}

impl Controller {
    /// Flags policies that have nowhere to go (state DOWN, with why) and clears
    /// the flag once their link is back, publishing each change.
    fn mark_stranded(&self, link: &str, stranded: &[(String, String)], recovered: &[String]) {
        if stranded.is_empty() && recovered.is_empty() {
            return;
        }
        let mut inner = self.write();
        let mut journal = Vec::new();
        for (id, why) in stranded {
            let reason =
                format!("policy {id} has no feasible path while {link} is degraded: {why}");
            if !reroute::mark(&mut inner, id, link, Some(reason.clone())) {
                continue;
            }
            let Some(shown) = inner.policies.get(id).map(|p| p.view(&inner.graph)) else {
                continue;
            };
            let rev = self
                .events
                .publish(Change::Updated, &reason, |rev| shown.at(rev));
            if let Some(p) = inner.policies.get_mut(id) {
                p.revision = rev;
            }
            if let Some(p) = inner.policies.get(id) {
                journal.push(inner.policy_entry(p));
            }
        }
        for id in recovered {
            if !reroute::mark(&mut inner, id, link, None) {
                continue;
            }
            let Some(shown) = inner.policies.get(id).map(|p| p.view(&inner.graph)) else {
                continue;
            };
            let reason = format!("policy {id} is up again: {link} recovered");
            let rev = self
                .events
                .publish(Change::Updated, &reason, |rev| shown.at(rev));
            if let Some(p) = inner.policies.get_mut(id) {
                p.revision = rev;
            }
            if let Some(p) = inner.policies.get(id) {
                journal.push(inner.policy_entry(p));
            }
        }
        drop(inner);
        self.record(&journal);
    }
}
