//! Maintenance drains: the operator takes a link or node out of service.
//! The drain is made durable first (so a refused disk changes nothing), then
//! put in force under the lock (its links pruned: new placements avoid them
//! from that moment), then everything on its links is moved off by the
//! closed loop's reroute, link by link, make-before-break — the one mover.
//! Undrain lifts it and restores what it displaced the way a recovered link
//! does. Each is announced as an event (`Object::Drain`).

use super::error::{not_found, precondition, quote, ApiError};
use super::{Controller, Fabric};
use crate::object::{Change, DrainEvent, Object};
use crate::plan::drain::{self, Drain, TargetKind};
use crate::plan::reroute::LinkCondition;
use crate::proto::strata::store::v1 as store;
use store::entry::Op;

/// At most this long a reason, in bytes.
pub const MAX_REASON: usize = 256;

/// How long a drain waits for requests in flight on its links to finish
/// (a create's Sets and fsync), and how often it looks.
const IN_FLIGHT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
const IN_FLIGHT_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// What a drain did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DrainReport {
    pub drain: Option<Drain>,
    pub moved: Vec<String>,
    /// No feasible path without the drained links: kept where they are.
    pub unmoved: Vec<String>,
    /// The headend refused the move.
    pub failed: Vec<String>,
}

/// What an undrain did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UndrainReport {
    pub drain: Option<Drain>,
    pub links_back: Vec<String>,
    pub restored: Vec<String>,
}

fn kind_of(s: &str) -> TargetKind {
    if s == "node" {
        TargetKind::Node
    } else {
        TargetKind::Link
    }
}

fn event(d: &Drain, moved: Vec<String>, unmoved: Vec<String>) -> impl FnOnce(u64) -> Object {
    let e = DrainEvent {
        target: d.target.clone(),
        kind: d.kind.as_str().into(),
        links: d.links.clone(),
        reason: d.reason.clone(),
        moved,
        unmoved,
    };
    move |_| Object::Drain(e)
}

pub(super) fn drain_entry(fabric: &Fabric, d: &Drain) -> store::Entry {
    store::Entry {
        next_id: fabric.next_id,
        op: Some(Op::Drain(store::DrainRecord {
            target: d.target.clone(),
            kind: d.kind.as_str().into(),
            links: d.links.clone(),
            reason: d.reason.clone(),
            revision: d.revision,
        })),
    }
}

/// A drain from the journal, put back in force on start-up: its links
/// pruned (the policies it moved were journaled on their new paths). Links
/// the topology no longer has are dropped.
pub(super) fn restore_drain(fabric: &mut Fabric, d: &store::DrainRecord) {
    let links: Vec<String> = d
        .links
        .iter()
        .filter(|l| fabric.topology.link(l).is_some())
        .cloned()
        .collect();
    drain::apply(
        fabric,
        Drain {
            target: d.target.clone(),
            kind: kind_of(&d.kind),
            links,
            reason: d.reason.clone(),
            revision: d.revision,
        },
    );
}

impl Controller {
    /// Drains in force, by target.
    pub fn drains(&self) -> Vec<Drain> {
        self.read().drains.values().cloned().collect()
    }

    async fn durable(&self, entries: &[store::Entry]) -> Result<(), ApiError> {
        match &self.store {
            None => Ok(()),
            Some(s) => s.commit(entries).await.map_err(|e| {
                ApiError::Unavailable(format!(
                    "the change could not be made durable, nothing was changed: {e}"
                ))
            }),
        }
    }

    /// Drains `target` (a link, a fiber or a node): everything on it moves
    /// off make-before-break; what cannot move keeps its path and is
    /// reported. Draining what is already drained is refused
    /// (ALREADY_EXISTS), as is a target that takes out no packet link.
    pub async fn drain(&self, target: &str, reason: &str) -> Result<DrainReport, ApiError> {
        if target.is_empty() {
            return Err(super::error::invalid("target", "must name a link or node"));
        }
        if reason.len() > MAX_REASON {
            return Err(super::error::invalid(
                "reason",
                format!("at most {MAX_REASON} bytes, got {}", reason.len()),
            ));
        }
        // One drain, undrain or reroute at a time: none moves a policy
        // another is moving.
        let _turn = self.reroutes.lock().await;
        let mut d = {
            let fabric = self.read();
            if fabric.drains.contains_key(target) {
                return Err(crate::plan::error::PlanError::AlreadyExists(format!(
                    "target: {} is already drained",
                    quote(target)
                ))
                .into());
            }
            let d = drain::resolve(&fabric, target, "target")?;
            if d.links.is_empty() {
                return Err(precondition(format!(
                    "{} carries no packet link: nothing to drain",
                    quote(target)
                )));
            }
            d
        };
        d.reason = if reason.is_empty() {
            format!("maintenance on {target}")
        } else {
            reason.to_string()
        };
        let ticket = self.events.reserve();
        d.revision = ticket.revision();
        let entry = drain_entry(&self.read(), &d);
        self.durable(&[entry]).await?;
        let users = {
            let mut fabric = self.write();
            drain::apply(&mut fabric, d.clone())
        };
        ticket.publish(
            Change::Created,
            &format!("draining {target}: {}", d.reason),
            event(&d, Vec::new(), Vec::new())(0),
        );
        let mut report = DrainReport {
            drain: Some(d.clone()),
            ..Default::default()
        };
        let why = format!("drained: {} ({})", target, d.reason);
        let links: Vec<String> = users.into_iter().map(|(l, _)| l).collect();
        // Policies being created or changed as the drain starts were planned
        // before it and may land on its links; they are moved once their
        // request is done, so the drain ends with nothing left behind but
        // what cannot move.
        let deadline = std::time::Instant::now() + IN_FLIGHT_WAIT;
        loop {
            let mut waiting = false;
            for link in &links {
                // The users of this link now: earlier links' moves already
                // avoid every drained link.
                let ids: Vec<String> = {
                    let fabric = self.read();
                    let mut ids = fabric.policies_using(link);
                    waiting |= ids.iter().any(|id| fabric.in_flight(id));
                    ids.retain(|id| {
                        !fabric.in_flight(id)
                            && !report.unmoved.contains(id)
                            && !report.failed.contains(id)
                    });
                    ids
                };
                if ids.is_empty() {
                    continue;
                }
                let r = self
                    .replace_policies(&ids, link, &LinkCondition::Down, &why)
                    .await;
                report
                    .moved
                    .extend(r.rerouted.into_iter().map(|m| m.policy));
                report.unmoved.extend(r.stranded);
                report.failed.extend(r.failed.into_iter().map(|(id, _)| id));
            }
            if !waiting || std::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(IN_FLIGHT_POLL).await;
        }
        for v in [&mut report.moved, &mut report.unmoved, &mut report.failed] {
            v.sort();
            v.dedup();
        }
        // Moved off one link, stranded on the next: it did not get off.
        let stuck: Vec<String> = report
            .unmoved
            .iter()
            .chain(&report.failed)
            .cloned()
            .collect();
        report.moved.retain(|id| !stuck.contains(id));
        self.events.publish(
            Change::Updated,
            &format!(
                "drained {target}: {} moved, {} could not move",
                report.moved.len(),
                report.unmoved.len() + report.failed.len()
            ),
            event(&d, report.moved.clone(), stuck),
        );
        Ok(report)
    }

    /// Lifts the drain of `target`: its links are back in service (unless
    /// another drain or telemetry holds them) and the policies it displaced
    /// return as after a recovery.
    pub async fn undrain(&self, target: &str) -> Result<UndrainReport, ApiError> {
        let (d, back) = {
            let _turn = self.reroutes.lock().await;
            if !self.read().drains.contains_key(target) {
                return Err(not_found("target", format!("drain of {}", quote(target))));
            }
            let ticket = self.events.reserve();
            let entry = {
                let fabric = self.read();
                store::Entry {
                    next_id: fabric.next_id,
                    op: Some(Op::Removed(store::Removed {
                        kind: store::Kind::Drain as i32,
                        id: target.to_string(),
                        revision: ticket.revision(),
                    })),
                }
            };
            self.durable(&[entry]).await?;
            let lifted = drain::lift(&mut self.write(), target);
            let Some((d, back)) = lifted else {
                return Err(not_found("target", format!("drain of {}", quote(target))));
            };
            ticket.publish(
                Change::Deleted,
                &format!("undrained {target}"),
                event(&d, Vec::new(), Vec::new())(0),
            );
            (d, back)
        };
        let mut report = UndrainReport {
            drain: Some(d),
            links_back: back.clone(),
            ..Default::default()
        };
        for link in back {
            let r = self
                .link_condition(
                    &link,
                    LinkCondition::Nominal,
                    &format!("restored: {target} undrained"),
                )
                .await;
            report
                .restored
                .extend(r.rerouted.into_iter().map(|m| m.policy));
        }
        report.restored.sort();
        report.restored.dedup();
        Ok(report)
    }
}
