//! EVPN services (MEF E-Line / E-LAN): identifiers from the pools, a route
//! distinguisher per PE, and an SR-TE transport policy per ordered pair of
//! PEs, each placed so the service's own reservations count against each
//! other — or a refusal naming why.

use std::collections::{BTreeMap, BTreeSet};

use super::error::{not_found, precondition, quote, PlanError};
use super::policy::{place_with, reserve, Placement, PolicyPlan};
use super::records::{PolicyRecord, ServiceRecord};
use super::share::{self, ShareChange};
use super::validate::{self, PolicyIntent};
use super::{Fabric, Kind};
use crate::intent::{ConstraintsSpec, PolicySpec, ServiceSpec};
use crate::pathcomp::IgpSpf;

/// One transport policy of a planned service.
pub struct Transport {
    pub name: String,
    pub intent: PolicyIntent,
    pub placement: Placement,
    pub sequence_id: u32,
}

/// A service ready to be held: identifiers chosen, transports placed.
pub struct ServicePlan {
    pub evi: u32,
    pub vni: u32,
    pub route_target: String,
    /// PE → route distinguisher.
    pub route_distinguishers: BTreeMap<String, String>,
    /// PE → (interface, VLAN) attachments.
    pub attachments: BTreeMap<String, Vec<(String, u32)>>,
    /// New policies, one per ordered PE pair no compatible policy serves.
    pub transports: Vec<Transport>,
    /// Shared policies the service joins (its bandwidth added to theirs).
    pub joins: Vec<ShareChange>,
}

impl ServicePlan {
    /// The PEs the service is attached to.
    pub fn pes(&self) -> impl Iterator<Item = &String> {
        self.attachments.keys()
    }
}

/// Plans a new service on the fabric as it is.
pub fn plan_create(fabric: &Fabric, spec: &ServiceSpec) -> Result<ServicePlan, PlanError> {
    let si = validate::service(fabric, spec)?;
    if let Some(id) = fabric.name_taken(Kind::Service, &spec.name) {
        return Err(PlanError::AlreadyExists(format!(
            "spec.name: service {} already exists ({id})",
            quote(&spec.name)
        )));
    }
    let evi = match si.evi {
        Some(e) => e,
        None => fabric.evis.peek().map_err(precondition)?,
    };
    let vni = match si.vni {
        Some(v) => v,
        None => fabric.vnis.peek().map_err(precondition)?,
    };
    let route_target = si
        .route_target
        .clone()
        .unwrap_or_else(|| format!("65000:{evi}"));
    let mut rds = BTreeMap::new();
    for pe in si.attachments.keys() {
        let rid = fabric
            .topology
            .node(pe)
            .and_then(|n| n.router_id)
            .map(|r| r.to_string())
            .unwrap_or_default();
        rds.insert(pe.clone(), format!("{rid}:{evi}"));
    }
    // Only bandwidth needs a scratch graph (the service's own transports
    // reserve against each other); without it the live graph serves.
    let mut scratch = (si.transport.bandwidth_gbps > 0.0).then(|| fabric.graph.clone());
    let mut spf = IgpSpf::new(&fabric.graph);
    let mut transports = Vec::new();
    let mut joins = Vec::new();
    // Rule numbers handed to this service's transports, per headend.
    let mut numbered: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    let pes: Vec<&String> = si.attachments.keys().collect();
    for a in &pes {
        for b in &pes {
            if a == b {
                continue;
            }
            let endpoint = fabric
                .topology
                .node(b)
                .ok_or_else(|| not_found("spec.attachments", format!("node {}", quote(b))))?;
            let pi = PolicyIntent {
                headend: (*a).clone(),
                endpoint: (*b).clone(),
                endpoint_address: validate::endpoint_address(endpoint, "spec.attachments")?,
                color: si.color,
                constraints: si.transport.clone(),
                disjoint: None,
                max_sid_depth: si.max_sid_depth,
            };
            // Automated steering: a policy of this color to that PE already
            // carries services; this one rides it if it asks the same.
            if let Some(p) = fabric.steered_by(&pi.headend, pi.color, &pi.endpoint) {
                if !share::compatible(p, &pi.constraints, pi.max_sid_depth) {
                    return Err(share::incompatible(p, "spec.transport"));
                }
                share::check_free(fabric, p)?;
                let change = share::plan_change(
                    fabric,
                    scratch.as_ref().unwrap_or(&fabric.graph),
                    &mut spf,
                    p,
                    "",
                    si.transport.bandwidth_gbps,
                )?;
                if let Some(g) = scratch.as_mut() {
                    share::reserve_on(g, p, &change);
                }
                joins.push(change);
                continue;
            }
            let placement = place_with(
                fabric,
                scratch.as_ref().unwrap_or(&fabric.graph),
                &mut spf,
                &pi,
                &format!("no transport path {a} → {b}"),
            )?;
            if let Some(g) = scratch.as_mut() {
                reserve(g, &placement.path, pi.constraints.bandwidth_gbps);
            }
            let taken = numbered.entry((*a).clone()).or_default();
            let sequence_id = fabric.free_sequence(a, taken)?;
            taken.insert(sequence_id);
            transports.push(Transport {
                name: format!("{}-{a}-{b}", spec.name),
                intent: pi,
                placement,
                sequence_id,
            });
        }
    }
    Ok(ServicePlan {
        evi,
        vni,
        route_target,
        route_distinguishers: rds,
        attachments: si.attachments,
        transports,
        joins,
    })
}

impl Transport {
    /// The transport's policy record, owned by `service`, as `id` at
    /// `revision`; its spec states what it really holds (the service's
    /// bandwidth under the service's transport constraints).
    pub fn into_record(
        self,
        id: String,
        service: &str,
        spec: &ServiceSpec,
        revision: u64,
    ) -> PolicyRecord {
        let spec = PolicySpec {
            name: self.name,
            headend: self.intent.headend.clone(),
            endpoint: self.intent.endpoint.clone(),
            color: self.intent.color,
            constraints: ConstraintsSpec {
                bandwidth_gbps: spec.bandwidth_gbps,
                ..spec.transport.clone()
            },
        };
        let planned = PolicyPlan {
            intent: self.intent,
            placement: self.placement,
            sequence_id: self.sequence_id,
        };
        let mut record = planned.into_record(id, spec, Some(service.to_string()), revision);
        record.shares = vec![(service.to_string(), record.constraints.bandwidth_gbps)];
        record
    }
}

/// Checks that service `id` may be deleted at `revision` (0 = any).
pub fn check_delete<'a>(
    fabric: &'a Fabric,
    id: &str,
    revision: u64,
) -> Result<&'a ServiceRecord, PlanError> {
    let s = fabric
        .services
        .get(id)
        .filter(|s| !fabric.pending.contains(&s.id))
        .ok_or_else(|| not_found("id", format!("service {}", quote(id))))?;
    if revision != 0 && revision != s.revision {
        return Err(PlanError::Aborted(format!(
            "service {id} is at revision {}, not {revision}",
            s.revision
        )));
    }
    Ok(s)
}
