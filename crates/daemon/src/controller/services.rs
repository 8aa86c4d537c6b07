//! EVPN services (MEF E-Line / E-LAN): identifiers from pools, a MAC-VRF on
//! every PE, and a mesh of SR-TE transport policies between the PEs, owned by
//! the service — all programmed as one unit or not at all.

use super::error::{not_found, quote, ApiError};
use super::persist::JournalEntries;
use super::pipeline::Staged;
use super::programmer::Plan;
use super::{Controller, Fabric, Kind};
use crate::intent::ServiceSpec;
use crate::object::{self, Change, Revisioned};
use crate::plan::service::{self, ServicePlan};
use crate::plan::share;
use crate::plan::ServiceRecord;
use crate::render::EvpnInstance;
use crate::render::Need;

impl Controller {
    pub async fn create_service_intent(
        &self,
        req: super::Request<ServiceSpec>,
    ) -> Result<object::Service, ApiError> {
        // Only planning and holding resources take the state lock; programming
        // the devices and the journal write overlap across requests (so fsyncs
        // and device Sets batch up), while the objects stay invisible.
        super::intent::request_id(&req.request_id)?;
        if let Some(s) =
            self.replay(Kind::Service, &req.request_id, &req.fingerprint, |i, id| {
                i.services.get(id).map(|s| s.view())
            })?
        {
            return Ok(s);
        }
        let staged = self.stage_service_create(req.spec, &req.request_id, req.fingerprint)?;
        self.execute(staged).await
    }

    /// Plans the service — identifiers, RDs, a transport policy per ordered
    /// PE pair — and holds it all, invisible, until devices and disk have it.
    fn stage_service_create(
        &self,
        spec: ServiceSpec,
        request_id: &str,
        fingerprint: Vec<u8>,
    ) -> Result<Staged<'_, object::Service>, ApiError> {
        let mut inner = self.write();
        // Plan everything against a consistent view before touching a device.
        let planned = service::plan_create(&inner, &spec)?;
        let pes: Vec<&String> = planned.pes().collect();
        for pe in &pes {
            self.check_models(pe, Need::Evpn, "an EVPN service")?;
            if pes.len() > 1 {
                self.check_models(pe, Need::SrtePolicy, "the service's SR-TE transport")?;
            }
        }
        let ServicePlan {
            evi,
            vni,
            route_target,
            route_distinguishers,
            attachments,
            transports,
            mut joins,
        } = planned;
        let mut plan = Plan::default();
        for (pe, atts) in &attachments {
            let d = self.dialect(pe);
            plan.add(
                pe,
                d.evpn(&EvpnInstance {
                    service: &spec.name,
                    evi,
                    vni,
                    route_distinguisher: &route_distinguishers[pe],
                    route_target: &route_target,
                    attachments: atts,
                }),
                d.evpn_removal(evi, atts),
            );
        }
        // Ids, revisions, identifiers and bandwidth are held now, under the
        // state lock, so the next request plans around them; the objects stay
        // pending (invisible) until the devices and the journal have them.
        // Shared policies it joins are claimed, so no other request changes
        // them until this one is done (planning refused any in flight).
        for (i, change) in joins.iter().enumerate() {
            if let Err(e) = inner.claim("policy", &change.policy) {
                for c in &joins[..i] {
                    inner.unclaim(&c.policy);
                }
                return Err(e.into());
            }
        }
        let mut tickets = Vec::new();
        let (service_id, policy_ids, entries, join_tickets) = {
            let id = inner.new_id("svc");
            let mut policies = Vec::new();
            for t in transports {
                let pid = inner.new_id("pol");
                let ticket = self.events.reserve();
                policies.push(t.into_record(pid, &id, &spec, ticket.revision()));
                tickets.push(ticket);
            }
            for p in &policies {
                let d = self.dialect(&p.headend);
                plan.add(&p.headend, p.config(d), p.removal(d));
            }
            // Shared policies it joins: a move is programmed (and undone) as
            // one replacing Set; growth in place needs no Set at all.
            let mut join_tickets = Vec::new();
            let mut join_entries = Vec::new();
            for change in &mut joins {
                change.service = id.clone();
                let ticket = self.events.reserve();
                if let (Some(m), Some(p)) = (&change.moved, inner.policies.get(&change.policy)) {
                    let d = self.dialect(&p.headend);
                    plan.add(
                        &p.headend,
                        p.move_to(d, &m.segments, p.discriminator + 1),
                        p.move_back(d),
                    );
                }
                if let Some(after) = inner.shared_after(change, ticket.revision()) {
                    join_entries.push(inner.policy_entry(&after));
                }
                join_tickets.push(ticket);
            }
            let ticket = self.events.reserve();
            let record = ServiceRecord {
                id: id.clone(),
                spec,
                evi,
                vni,
                route_target,
                route_distinguishers,
                attachments,
                policies: policies
                    .iter()
                    .map(|p| p.id.clone())
                    .chain(joins.iter().map(|c| c.policy.clone()))
                    .collect(),
                revision: ticket.revision(),
            };
            tickets.push(ticket);
            inner.remember(Kind::Service, request_id, fingerprint, &id);
            let mut entries: Vec<_> = policies.iter().map(|p| inner.policy_entry(p)).collect();
            entries.extend(join_entries);
            entries.push(inner.service_entry(&record));
            let policy_ids: Vec<String> = policies.iter().map(|p| p.id.clone()).collect();
            for p in policies {
                inner.hold_policy(p);
            }
            for change in &joins {
                inner.hold_share(change);
            }
            inner.hold_service(record);
            (id, policy_ids, entries, join_tickets)
        };
        drop(inner);
        let ids: Vec<String> = policy_ids
            .iter()
            .cloned()
            .chain([service_id.clone()])
            .collect();
        let revert_ids = ids.clone();
        let revert_joins = joins.clone();
        Ok(Staged {
            plan,
            entries,
            commit: Box::new(move |inner: &mut Fabric| {
                inner.reveal(&ids);
                let service_ticket = tickets.pop();
                for (pid, ticket) in policy_ids.iter().zip(tickets) {
                    if let Some(p) = inner.policies.get(pid) {
                        let view = p.view(&inner.graph);
                        ticket.publish(
                            Change::Created,
                            &format!("transport of service {service_id}"),
                            view.at(p.revision),
                        );
                    }
                }
                for (change, ticket) in joins.into_iter().zip(join_tickets) {
                    let pid = change.policy.clone();
                    let moved = change.moved.is_some();
                    inner.unclaim(&pid);
                    inner.commit_share(change, ticket.revision());
                    if let Some(p) = inner.policies.get(&pid) {
                        let view = p.view(&inner.graph);
                        let how = if moved {
                            ", moved to a path with room"
                        } else {
                            ""
                        };
                        ticket.publish(
                            Change::Updated,
                            &format!(
                                "service {service_id} joined shared transport {pid}: {} Gbps reserved{how}",
                                p.constraints.bandwidth_gbps
                            ),
                            view.at(p.revision),
                        );
                    }
                }
                let out = inner
                    .services
                    .get(&service_id)
                    .map(|s| s.view())
                    .ok_or_else(|| not_found("id", format!("service {}", quote(&service_id))))?;
                if let Some(ticket) = service_ticket {
                    let revision = out.revision;
                    ticket.publish(Change::Created, "service created", out.clone().at(revision));
                }
                Ok(out)
            }),
            // Give back everything held; the revisions are dropped unseen.
            revert: Box::new(move |inner: &mut Fabric| {
                for change in &revert_joins {
                    inner.release_share(change);
                    inner.unclaim(&change.policy);
                }
                let Some((service, policies)) = revert_ids.split_last() else {
                    return;
                };
                for pid in policies {
                    inner.release_held(Kind::Policy, pid);
                }
                inner.release_held(Kind::Service, service);
            }),
        })
    }

    pub fn service(&self, id: &str) -> Result<object::Service, ApiError> {
        let inner = self.read();
        inner
            .services
            .get(id)
            .filter(|s| !inner.pending.contains(&s.id))
            .map(ServiceRecord::view)
            .ok_or_else(|| not_found("id", format!("service {}", quote(id))))
    }

    pub fn services(&self) -> Vec<object::Service> {
        self.services_page(None, usize::MAX).0
    }

    /// One page of `services`: at most `limit` with ids after `after`, in id
    /// order, and whether more follow.
    pub fn services_page(&self, after: Option<&str>, limit: usize) -> (Vec<object::Service>, bool) {
        let inner = self.read();
        let (page, more) = super::keyset_page(&inner.services, after, limit, |s| {
            !inner.pending.contains(&s.id)
        });
        (page.into_iter().map(ServiceRecord::view).collect(), more)
    }

    pub async fn delete_service(&self, id: &str, revision: u64) -> Result<u64, ApiError> {
        let staged = self.stage_service_delete(id, revision)?;
        self.execute(staged).await
    }

    /// Checks the delete and claims the service and its transports. A
    /// transport other services still ride only gives back this one's share
    /// (no device is touched for it); the last service takes it away.
    fn stage_service_delete(&self, id: &str, revision: u64) -> Result<Staged<'_, u64>, ApiError> {
        let mut inner = self.write();
        let s = service::check_delete(&inner, id, revision)?;
        let mut plan = Plan::default();
        for pe in s.attachments.keys() {
            let d = self.dialect(pe);
            plan.add(pe, s.removal_on(pe, d), s.config_on(pe, d));
        }
        let mut leaves = Vec::new();
        let mut removed = Vec::new();
        let mut spf = crate::pathcomp::IgpSpf::new(&inner.graph);
        for pid in &s.policies {
            let Some(p) = inner.policies.get(pid) else {
                continue;
            };
            if p.shares.iter().any(|(other, _)| other != id) {
                leaves.push(share::plan_change(
                    &inner,
                    &inner.graph,
                    &mut spf,
                    p,
                    id,
                    0.0,
                )?);
            } else {
                let d = self.dialect(&p.headend);
                plan.add(&p.headend, p.removal(d), p.config(d));
                removed.push(pid.clone());
            }
        }
        drop(spf);
        let policies = s.policies.clone();
        inner.claim("service", id)?;
        let mut claimed = vec![id.to_string()];
        for pid in &policies {
            if let Err(e) = inner.claim("policy", pid) {
                for c in &claimed {
                    inner.unclaim(c);
                }
                return Err(e.into());
            }
            claimed.push(pid.clone());
        }
        let ticket = self.events.reserve();
        let mut entries: Vec<_> = removed
            .iter()
            .map(|pid| inner.removed_entry(Kind::Policy, pid, ticket.revision()))
            .collect();
        let mut leave_tickets = Vec::new();
        for change in &leaves {
            let t = self.events.reserve();
            if let Some(after) = inner.shared_after(change, t.revision()) {
                entries.push(inner.policy_entry(&after));
            }
            leave_tickets.push(t);
        }
        entries.push(inner.removed_entry(Kind::Service, id, ticket.revision()));
        let (commit_id, revert_claims) = (id.to_string(), claimed.clone());
        let events = &self.events;
        Ok(Staged {
            plan,
            entries,
            commit: Box::new(move |inner: &mut Fabric| {
                for c in &claimed {
                    inner.unclaim(c);
                }
                let id = commit_id;
                let Some(record) = inner.remove_service(&id) else {
                    return Err(not_found("id", format!("service {}", quote(&id))));
                };
                for pid in &removed {
                    if let Some(p) = inner.remove_policy(pid) {
                        let view = p.view(&inner.graph);
                        events.publish(Change::Deleted, &format!("service {id} deleted"), |rev| {
                            view.at(rev)
                        });
                    }
                }
                for (change, t) in leaves.into_iter().zip(leave_tickets) {
                    let pid = change.policy.clone();
                    inner.commit_share(change, t.revision());
                    if let Some(p) = inner.policies.get(&pid) {
                        let view = p.view(&inner.graph);
                        t.publish(
                            Change::Updated,
                            &format!(
                                "service {id} left shared transport {pid}: {} Gbps reserved",
                                p.constraints.bandwidth_gbps
                            ),
                            view.at(p.revision),
                        );
                    }
                }
                let revision = ticket.revision();
                ticket.publish(
                    Change::Deleted,
                    "service deleted",
                    record.view().at(revision),
                );
                Ok(revision)
            }),
            revert: Box::new(move |inner: &mut Fabric| {
                for c in &revert_claims {
                    inner.unclaim(c);
                }
            }),
        })
    }
}
