//! Coherent wavelengths: a fiber route, the fastest mode both transponders
//! offer that closes it on the physical-layer model, a channel free on every
//! span, the transponder ports at each end, and the existing wavelengths it
//! must not push below their margins — or a refusal naming why.

use std::collections::BTreeSet;

use super::error::{not_found, precondition, quote, PlanError};
use super::records::{Live, WavelengthRecord};
use super::validate::{self, WavelengthIntent};
use super::{Fabric, Kind};
use crate::intent::WavelengthSpec;
use crate::model::Topology;
use crate::pathcomp::optical::{self, ModeId, WavelengthPlan};
use crate::render::openconfig::optical as oc_optical;

/// The interface `node` uses on `link`.
fn port_on(topology: &Topology, link: &str, node: &str) -> Option<String> {
    let l = topology.link(link)?;
    if l.a.node == node {
        Some(l.a.interface.clone())
    } else if l.b.node == node {
        Some(l.b.interface.clone())
    } else {
        None
    }
}

/// Client logical channel index for a line port: stable, one per port.
pub fn logical_channel(topology: &Topology, node: &str, port: &str) -> u32 {
    let pos = topology
        .node(node)
        .and_then(|n| n.interfaces.iter().position(|i| i == port))
        .unwrap_or(0);
    oc_optical::client_channel(pos)
}

fn srlgs_of(topology: &Topology, fibers: &[String]) -> BTreeSet<u32> {
    fibers
        .iter()
        .filter_map(|f| topology.link(f))
        .flat_map(|l| l.srlgs.iter().copied())
        .collect()
}

/// Routes `wi` in its explicit mode, or in the best of `offered` (every
/// mode when the transponders have not been read yet) that closes.
pub fn route(
    fabric: &Fabric,
    wi: &WavelengthIntent,
    offered: Option<&[ModeId]>,
) -> Result<(WavelengthPlan, String, String), PlanError> {
    let offered = optical::ranked(&offered.map_or_else(optical::all_mode_ids, <[ModeId]>::to_vec));
    let explicit: Vec<&'static optical::Mode> = wi.mode.into_iter().collect();
    let modes = if explicit.is_empty() {
        &offered
    } else {
        &explicit
    };
    let mut exclude = wi.exclude_fibers.clone();
    for _ in 0..8 {
        let ask = optical::Ask {
            modes,
            hints: &offered,
            tx_power_dbm: wi.power_dbm,
            margin_db: wi.margin_db,
            k: 8,
            exclude_fibers: &exclude,
        };
        let plan = optical::plan_wavelength(&fabric.fibers, &fabric.spectrum, &wi.a, &wi.b, &ask)
            .map_err(|e| {
            precondition(format!("no feasible wavelength {} → {}: {e}", wi.a, wi.b))
        })?;
        let (Some(first), Some(last)) = (plan.fibers.first(), plan.fibers.last()) else {
            return Err(precondition("the planned route has no fibers"));
        };
        let a_port = port_on(&fabric.topology, first, &wi.a)
            .ok_or_else(|| precondition(format!("fiber {first} does not end on {}", wi.a)))?;
        let b_port = port_on(&fabric.topology, last, &wi.b)
            .ok_or_else(|| precondition(format!("fiber {last} does not end on {}", wi.b)))?;
        let busy_a = fabric.ports.get(&(wi.a.clone(), a_port.clone()));
        let busy_b = fabric.ports.get(&(wi.b.clone(), b_port.clone()));
        if busy_a.is_some() || busy_b.is_some() {
            if busy_a.is_some() {
                exclude.insert(first.clone());
            }
            if busy_b.is_some() {
                exclude.insert(last.clone());
            }
            continue;
        }
        let mut plan = plan;
        if let Some(ch) = wi.channel {
            if let Some(f) = plan.fibers.iter().find(|f| !fabric.spectrum.is_free(f, ch)) {
                return Err(precondition(format!(
                    "spec.frequency_mhz: channel {} MHz is already lit on fiber {f}",
                    optical::channel_frequency_mhz(ch)
                )));
            }
            plan.channel = ch;
            plan.frequency_mhz = optical::channel_frequency_mhz(ch);
        }
        return Ok((plan, a_port, b_port));
    }
    Err(precondition(format!(
        "every transponder port toward a route between {} and {} already carries a wavelength",
        wi.a, wi.b
    )))
}

/// A wavelength ready to be held: routed, tuned, its ports chosen.
#[derive(Debug)]
pub struct WavelengthPlanned {
    pub intent: WavelengthIntent,
    pub plan: WavelengthPlan,
    pub a_port: String,
    pub b_port: String,
}

/// Plans a new wavelength among the modes both ends `offered`, and checks
/// lighting it leaves every neighbour its margin.
pub fn plan_create(
    fabric: &Fabric,
    spec: &WavelengthSpec,
    offered: &[ModeId],
) -> Result<WavelengthPlanned, PlanError> {
    let wi = validate::wavelength(fabric, spec)?;
    if let Some(id) = fabric.name_taken(Kind::Wavelength, &spec.name) {
        return Err(PlanError::AlreadyExists(format!(
            "spec.name: wavelength {} already exists ({id})",
            quote(&spec.name)
        )));
    }
    let (plan, a_port, b_port) = route(fabric, &wi, Some(offered))?;
    fabric
        .protect((&plan.fibers, plan.channel, plan.mode), "")
        .map_err(|e| {
            precondition(format!(
                "wavelength {} on {} in {}: {e}",
                quote(&spec.name),
                plan.fibers.join(", "),
                optical::mode(plan.mode).map_or("?", |m| m.name)
            ))
        })?;
    Ok(WavelengthPlanned {
        intent: wi,
        plan,
        a_port,
        b_port,
    })
}

impl WavelengthPlanned {
    /// The client logical channel at each end.
    pub fn logical_channels(&self, fabric: &Fabric) -> (u32, u32) {
        (
            logical_channel(&fabric.topology, &self.intent.a, &self.a_port),
            logical_channel(&fabric.topology, &self.intent.b, &self.b_port),
        )
    }

    /// The record of the planned wavelength, as `id` at `revision`, with its
    /// live margin under what is lit now.
    pub fn into_record(
        self,
        fabric: &Fabric,
        id: String,
        spec: WavelengthSpec,
        revision: u64,
    ) -> WavelengthRecord {
        let (a_logical, b_logical) = self.logical_channels(fabric);
        // SRLGs the carried packet link does not have yet (it may have them
        // from its own fibers or another wavelength).
        let mut carried = BTreeSet::new();
        if let Some(link) = &self.intent.carries_link {
            for s in srlgs_of(&fabric.topology, &self.plan.fibers) {
                if fabric
                    .graph
                    .edges_of_link(link)
                    .any(|e| !fabric.graph.edges[e].srlgs.contains(&s))
                {
                    carried.insert(s);
                }
            }
        }
        let mode = self.plan.mode;
        let mut record = WavelengthRecord {
            id,
            spec,
            plan: self.plan,
            mode,
            power_dbm: self.intent.power_dbm,
            a_port: self.a_port,
            b_port: self.b_port,
            a_logical,
            b_logical,
            carried_srlgs: carried,
            revision,
            live: Default::default(),
            measured_osnr_db: None,
            below_prediction: false,
        };
        record.live = Live::of(fabric.live_verdict(&record, None).as_ref());
        record
    }
}

/// Checks that wavelength `id` may be deleted at `revision` (0 = any).
pub fn check_delete<'a>(
    fabric: &'a Fabric,
    id: &str,
    revision: u64,
) -> Result<&'a WavelengthRecord, PlanError> {
    let w = fabric
        .wavelengths
        .get(id)
        .filter(|w| !fabric.pending.contains(&w.id))
        .ok_or_else(|| not_found("id", format!("wavelength {}", quote(id))))?;
    if revision != 0 && revision != w.revision {
        return Err(PlanError::Aborted(format!(
            "wavelength {id} is at revision {}, not {revision}",
            w.revision
        )));
    }
    Ok(w)
}
