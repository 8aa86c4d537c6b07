//! Intents to and from the journal: what a record looks like on disk, how a
//! change is made durable before anyone sees it, and how start-up rebuilds the
//! in-memory state (pools, spectrum, reservations, indexes) from the replay.

use std::collections::BTreeSet;

use super::error::ApiError;
use super::intent;
use super::programmer::{revert, Plan};
use super::{Controller, Fabric, Kind};
use crate::pathcomp::optical::WavelengthPlan;
use crate::pathcomp::{Path, Segment, TeGraph};
use crate::plan::{PolicyRecord, ServiceRecord, WavelengthRecord};
use crate::proto::strata::store::v1 as store;
use crate::store::{schema, Replayed};
use store::entry::Op;

fn stored(kind: Kind) -> store::Kind {
    match kind {
        Kind::Policy => store::Kind::Policy,
        Kind::Service => store::Kind::Service,
        Kind::Wavelength => store::Kind::Wavelength,
    }
}

/// The journal entry of each kind of record, as it stands in the fabric
/// (with its origin and the id counter).
pub(super) trait JournalEntries {
    fn policy_entry(&self, r: &PolicyRecord) -> store::Entry;
    fn service_entry(&self, r: &ServiceRecord) -> store::Entry;
    fn wavelength_entry(&self, r: &WavelengthRecord) -> store::Entry;
    fn removed_entry(&self, kind: Kind, id: &str, revision: u64) -> store::Entry;
}

fn origin(fabric: &Fabric, id: &str) -> Option<store::Origin> {
    fabric
        .origins
        .get(id)
        .map(|(request_id, fingerprint)| store::Origin {
            request_id: request_id.clone(),
            fingerprint: fingerprint.clone(),
        })
}

impl JournalEntries for Fabric {
    fn policy_entry(&self, r: &PolicyRecord) -> store::Entry {
        store::Entry {
            next_id: self.next_id,
            op: Some(Op::Policy(store::PolicyRecord {
                policy: Some(schema::policy(&r.view(&self.graph))),
                discriminator: r.discriminator,
                sequence_id: r.sequence_id,
                displaced_by: r.displaced_by.iter().cloned().collect(),
                stranded: r.stranded.clone().unwrap_or_default(),
                origin: origin(self, &r.id),
            })),
        }
    }

    fn service_entry(&self, r: &ServiceRecord) -> store::Entry {
        store::Entry {
            next_id: self.next_id,
            op: Some(Op::Service(store::ServiceRecord {
                service: Some(schema::service(&r.view())),
                attachments: r
                    .attachments
                    .iter()
                    .flat_map(|(node, atts)| {
                        atts.iter().map(|(interface, vlan)| store::Attachment {
                            node: node.clone(),
                            interface: interface.clone(),
                            vlan: *vlan,
                        })
                    })
                    .collect(),
                origin: origin(self, &r.id),
            })),
        }
    }

    fn wavelength_entry(&self, r: &WavelengthRecord) -> store::Entry {
        store::Entry {
            next_id: self.next_id,
            op: Some(Op::Wavelength(store::WavelengthRecord {
                wavelength: Some(schema::wavelength(&r.view())),
                mode: r.mode as u32,
                power_dbm: r.power_dbm,
                a_logical: r.a_logical,
                b_logical: r.b_logical,
                carried_srlgs: r.carried_srlgs.iter().copied().collect(),
                margin_db: r.plan.margin_db,
                origin: origin(self, &r.id),
            })),
        }
    }

    fn removed_entry(&self, kind: Kind, id: &str, revision: u64) -> store::Entry {
        store::Entry {
            next_id: self.next_id,
            op: Some(Op::Removed(store::Removed {
                kind: stored(kind) as i32,
                id: id.to_string(),
                revision,
            })),
        }
    }
}

impl Controller {
    /// The journal's fsyncs and entries so far (`None` without a journal).
    pub fn journal_stats(&self) -> Option<(u64, u64)> {
        use std::sync::atomic::Ordering::Relaxed;
        self.store.as_ref().map(|s| {
            let st = s.stats();
            (st.syncs.load(Relaxed), st.entries.load(Relaxed))
        })
    }

    /// Makes `entries` durable. If the disk refuses, the device changes in
    /// `plan` are taken back, so a failed request leaves nothing behind.
    pub(super) async fn persist_or_revert(
        &self,
        entries: &[store::Entry],
        plan: &Plan,
    ) -> Result<(), ApiError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        match store.commit(entries).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let stuck = revert(self.programmer.as_ref(), plan).await;
                let mut msg =
                    format!("the change could not be made durable, nothing was changed: {e}");
                if !stuck.is_empty() {
                    msg.push_str(&format!(
                        " (putting back {stuck:?} also failed; reconciliation will repair them)"
                    ));
                }
                Err(ApiError::Unavailable(msg))
            }
        }
    }

    /// Journals state the controller changed on its own (reroutes): nobody
    /// waits on it, and it reaches disk in order with the next commit.
    pub(super) fn record(&self, entries: &[store::Entry]) {
        if let Some(store) = &self.store {
            if let Err(e) = store.record(entries) {
                tracing::error!(error = %e, "journal refused a reroute record");
            }
        }
    }

    /// Rebuilds intents from a journal replay: records, identifier pools,
    /// spectrum, bandwidth reservations, link index, retry memory, and the id
    /// and revision counters. Fails, naming the object, if a record no longer
    /// fits the topology — starting without it would silently lose an intent.
    pub fn restore(&self, replayed: &Replayed) -> Result<usize, String> {
        let mut inner = self.write();
        replay_into(&mut inner, replayed)?;
        // Policies from journals older than rule numbers get theirs now, after
        // every numbered one holds its own, and the numbers are journaled so
        // the next start gives the same ones.
        let unnumbered: Vec<String> = inner
            .policies
            .values()
            .filter(|p| p.sequence_id == 0)
            .map(|p| p.id.clone())
            .collect();
        let mut journal = Vec::new();
        for id in unnumbered {
            let Some(mut record) = inner.remove_policy(&id) else {
                continue;
            };
            record.sequence_id = inner
                .free_sequence(&record.headend, &Default::default())
                .map_err(|e| format!("policy {id}: {e}"))?;
            tracing::info!(policy = %id, sequence_id = record.sequence_id, "policy numbered on load");
            journal.push(inner.policy_entry(&record));
            inner.insert_policy(record);
        }
        drop(inner);
        self.record(&journal);
        self.events.resume_after(replayed.revision);
        Ok(replayed.entries.len())
    }
}

impl Controller {
    /// A replica follower's catch-up: rebuilds the whole fabric from what
    /// the store holds now (the same replay as start-up, on a fresh fabric
    /// built off the lock, runtime topology included), swaps it in under the
    /// write lock, and announces what changed to watchers. Nothing is programmed or journaled: the
    /// leader did both. Fails, changing nothing, if the replay does.
    pub fn reload(&self, replayed: &Replayed) -> Result<usize, String> {
        // From the topology this turn started with, as start-up does: the
        // runtime nodes and links the store holds are laid over it again
        // (their removals are kept as tombstones, so none comes back).
        let mut fresh = Fabric::new(self.base_topology.clone(), self.pools);
        replay_into(&mut fresh, replayed)?;
        // Compared under the read lock, swapped under a brief write lock:
        // the mirror is the only writer of a follower's fabric.
        let mut changes = {
            let old = self.read();
            super::topology::replicated(&old, &fresh)
        };
        changes.extend(changes_between(&self.read(), &fresh));
        let old = std::mem::replace(&mut *self.write(), fresh);
        drop(old);
        for (change, object) in changes {
            self.events.publish(change, "replicated", |_| object);
        }
        Ok(replayed.entries.len())
    }
}

/// What watchers of a follower must hear: every record created, changed
/// (a new revision) or gone between two fabrics.
fn changes_between(
    old: &Fabric,
    new: &Fabric,
) -> Vec<(crate::object::Change, crate::object::Object)> {
    use crate::object::{Change, Object};
    let mut out = Vec::new();
    for (id, r) in &new.policies {
        match old.policies.get(id) {
            None => out.push((Change::Created, Object::Policy(r.view(&new.graph)))),
            Some(o) if o.revision != r.revision => {
                out.push((Change::Updated, Object::Policy(r.view(&new.graph))))
            }
            Some(_) => {}
        }
    }
    for (id, r) in &old.policies {
        if !new.policies.contains_key(id) {
            out.push((Change::Deleted, Object::Policy(r.view(&old.graph))));
        }
    }
    for (id, r) in &new.services {
        match old.services.get(id) {
            None => out.push((Change::Created, Object::Service(r.view()))),
            Some(o) if o.revision != r.revision => {
                out.push((Change::Updated, Object::Service(r.view())))
            }
            Some(_) => {}
        }
    }
    for (id, r) in &old.services {
        if !new.services.contains_key(id) {
            out.push((Change::Deleted, Object::Service(r.view())));
        }
    }
    for (id, r) in &new.wavelengths {
        match old.wavelengths.get(id) {
            None => out.push((Change::Created, Object::Wavelength(r.view()))),
            Some(o) if o.revision != r.revision => {
                out.push((Change::Updated, Object::Wavelength(r.view())))
            }
            Some(_) => {}
        }
    }
    for (id, r) in &old.wavelengths {
        if !new.wavelengths.contains_key(id) {
            out.push((Change::Deleted, Object::Wavelength(r.view())));
        }
    }
    out
}

/// The replay itself: every entry into `inner`, then the counters.
fn replay_into(inner: &mut Fabric, replayed: &Replayed) -> Result<(), String> {
    super::topology::restore_topology(inner, &replayed.entries);
    for entry in &replayed.entries {
        match &entry.op {
            Some(Op::Policy(p)) => restore_policy(inner, p)?,
            Some(Op::Service(s)) => restore_service(inner, s)?,
            Some(Op::Wavelength(w)) => restore_wavelength(inner, w)?,
            Some(Op::Drain(d)) => super::drain::restore_drain(inner, d),
            Some(Op::Removed(_) | Op::TopologyNode(_) | Op::TopologyLink(_)) | None => {}
        }
    }
    inner.next_id = inner.next_id.max(replayed.next_id);
    inner.refresh_all_margins();
    Ok(())
}

fn remember_origin(inner: &mut Fabric, kind: Kind, id: &str, origin: &Option<store::Origin>) {
    if let Some(o) = origin.as_ref().filter(|o| !o.request_id.is_empty()) {
        inner.remember(kind, &o.request_id, o.fingerprint.clone(), id);
    }
}

fn path_of(g: &TeGraph, cp: &store::Path, id: &str) -> Result<(Path, Vec<Segment>), String> {
    let fail = |what: String| format!("policy {id}: stored path {what} is not in the topology");
    let nodes = cp
        .nodes
        .iter()
        .map(|n| g.node_id(n).ok_or_else(|| fail(format!("node {n}"))))
        .collect::<Result<Vec<_>, _>>()?;
    if nodes.len() != cp.links.len() + 1 {
        return Err(fail("shape".into()));
    }
    let mut edges = Vec::with_capacity(cp.links.len());
    for (i, link) in cp.links.iter().enumerate() {
        let e = g
            .edges_of_link(link)
            .find(|&e| g.edges[e].from == nodes[i] && g.edges[e].to == nodes[i + 1])
            .ok_or_else(|| fail(format!("hop {link}")))?;
        edges.push(e);
    }
    let segments = cp
        .segments
        .iter()
        .map(|s| match &s.target {
            Some(store::segment::Target::Node(n)) => Ok(Segment::Node {
                node: g
                    .node_id(n)
                    .ok_or_else(|| fail(format!("segment node {n}")))?,
                label: s.label,
            }),
            Some(store::segment::Target::Adjacency(l)) => Ok(Segment::Adjacency {
                edge: edges
                    .iter()
                    .copied()
                    .find(|&e| &g.edges[e].link == l)
                    .ok_or_else(|| fail(format!("adjacency {l}")))?,
                label: s.label,
            }),
            None => Err(fail("segment without a target".into())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((
        Path {
            edges,
            nodes,
            cost: cp.cost,
            latency_us: cp.latency_us,
        },
        segments,
    ))
}

/// A stored rule number, unless another restored policy on the headend
/// already holds it (then it is numbered afresh after the load).
fn free_or_zero(inner: &Fabric, headend: &str, sequence_id: u32, id: &str) -> u32 {
    let taken = inner
        .sequences
        .get(headend)
        .is_some_and(|s| s.contains(&sequence_id));
    if taken {
        tracing::warn!(policy = %id, sequence_id, headend, "rule number already held; renumbering");
        0
    } else {
        sequence_id
    }
}

fn restore_policy(inner: &mut Fabric, p: &store::PolicyRecord) -> Result<(), String> {
    let policy = p.policy.as_ref().ok_or("policy record without a policy")?;
    let id = &policy.id;
    let spec = policy
        .spec
        .as_ref()
        .ok_or_else(|| format!("policy {id} has no spec"))
        .and_then(|s| schema::policy_spec_of(s).map_err(|e| format!("policy {id}: {e}")))?;
    let intent = intent::policy(inner, &spec).map_err(|e| format!("policy {id}: {e}"))?;
    let cp = policy.path.clone().unwrap_or_default();
    let (path, segments) = path_of(&inner.graph, &cp, id)?;
    let sequence_id = free_or_zero(inner, &intent.headend, p.sequence_id, id);
    let owner = (!policy.owner.is_empty()).then(|| policy.owner.clone());
    // Journals from before shared transport name the one owner only.
    let shares = match (&owner, policy.shares.is_empty()) {
        (Some(o), true) => vec![(o.clone(), intent.constraints.bandwidth_gbps)],
        _ => policy
            .shares
            .iter()
            .map(|s| (s.service.clone(), s.bandwidth_gbps))
            .collect(),
    };
    let record = PolicyRecord {
        id: id.clone(),
        spec,
        owner,
        headend: intent.headend,
        endpoint: intent.endpoint,
        endpoint_address: policy.endpoint_address.clone(),
        color: intent.color,
        constraints: intent.constraints,
        disjoint: intent.disjoint,
        max_sid_depth: intent.max_sid_depth,
        path,
        segments,
        revision: policy.revision,
        discriminator: p.discriminator.max(1),
        sequence_id,
        displaced_by: p.displaced_by.iter().cloned().collect(),
        stranded: (!p.stranded.is_empty()).then(|| p.stranded.clone()),
        shares,
    };
    remember_origin(inner, Kind::Policy, id, &p.origin);
    inner.insert_policy(record);
    Ok(())
}

fn restore_service(inner: &mut Fabric, s: &store::ServiceRecord) -> Result<(), String> {
    let svc = s
        .service
        .as_ref()
        .ok_or("service record without a service")?;
    let id = &svc.id;
    let spec = svc
        .spec
        .as_ref()
        .ok_or_else(|| format!("service {id} has no spec"))
        .and_then(|s| schema::service_spec_of(s).map_err(|e| format!("service {id}: {e}")))?;
    for (pool, v) in [(&inner.evis, svc.evi), (&inner.vnis, svc.vni)] {
        pool.check_free(v)
            .map_err(|e| format!("service {id}: {e}"))?;
    }
    let mut attachments = std::collections::BTreeMap::<String, Vec<(String, u32)>>::new();
    for a in &s.attachments {
        attachments
            .entry(a.node.clone())
            .or_default()
            .push((a.interface.clone(), a.vlan));
    }
    let record = ServiceRecord {
        id: id.clone(),
        spec,
        evi: svc.evi,
        vni: svc.vni,
        route_target: svc.route_target.clone(),
        route_distinguishers: svc.route_distinguishers.clone().into_iter().collect(),
        attachments,
        policies: svc.transport_policies.clone(),
        revision: svc.revision,
    };
    remember_origin(inner, Kind::Service, id, &s.origin);
    inner.insert_service(record);
    Ok(())
}

/// Journals from before the client/OTN pair numbered one logical channel per
/// port as 101 + the port's position; the pair for that port starts at
/// `optical::client_channel(position)`.
fn client_channel(stored: u32) -> u32 {
    use crate::render::openconfig::optical;
    if (101..optical::CHANNEL_BASE).contains(&stored) {
        optical::client_channel((stored - 101) as usize)
    } else {
        stored
    }
}

fn restore_wavelength(inner: &mut Fabric, w: &store::WavelengthRecord) -> Result<(), String> {
    let wl = w
        .wavelength
        .as_ref()
        .ok_or("wavelength record without a wavelength")?;
    let id = &wl.id;
    let spec = wl
        .spec
        .as_ref()
        .map(schema::wavelength_spec_of)
        .ok_or_else(|| format!("wavelength {id} has no spec"))?;
    let channel = wl.channel as usize;
    if let Some(f) = wl
        .fibers
        .iter()
        .find(|f| !inner.spectrum.is_free(f, channel))
    {
        return Err(format!(
            "wavelength {id}: channel {channel} on fiber {f} is already taken"
        ));
    }
    // Journals from before mode selection stored the spec's mode with 0
    // meaning 400ZR; newer ones also keep the mode picked in the view.
    let mode = [wl.operational_mode, w.mode]
        .into_iter()
        .find(|&m| m != 0)
        .map_or(Ok(1), u16::try_from)
        .map_err(|_| format!("wavelength {id}: mode {} is out of range", w.mode))?;
    let record = WavelengthRecord {
        id: id.clone(),
        spec,
        plan: WavelengthPlan {
            fibers: wl.fibers.clone(),
            nodes: wl.nodes.clone(),
            channel,
            frequency_mhz: wl.frequency_mhz,
            length_km: wl.length_km,
            osnr_db: wl.estimated_osnr_db,
            required_osnr_db: wl.required_osnr_db,
            margin_db: w.margin_db,
            mode,
            planned_margin_db: wl.planned_margin_db,
        },
        mode,
        power_dbm: w.power_dbm,
        a_port: wl.a_port.clone(),
        b_port: wl.b_port.clone(),
        a_logical: client_channel(w.a_logical),
        b_logical: client_channel(w.b_logical),
        carried_srlgs: w.carried_srlgs.iter().copied().collect::<BTreeSet<u32>>(),
        revision: wl.revision,
        live: Default::default(),
        measured_osnr_db: None,
        below_prediction: false,
    };
    remember_origin(inner, Kind::Wavelength, id, &w.origin);
    inner.insert_wavelength(record);
    Ok(())
}
