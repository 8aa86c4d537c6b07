//! 400ZR wavelengths: route over fiber, one channel free on every span
//! (spectrum continuity), OSNR feasibility, both transponders tuned alike.

use std::collections::{BTreeSet, HashMap};

use super::error::{not_found, precondition, quote, ApiError};
use super::intent;
use super::persist::JournalEntries;
use super::pipeline::Staged;
use super::programmer::Plan;
use super::{Controller, Fabric, Kind};
use crate::intent::WavelengthSpec;
use crate::model::Topology;
use crate::object::{self, Change, Revisioned};
use crate::pathcomp::optical::{self, WavelengthPlan};
use crate::plan::WavelengthRecord;
use crate::render::openconfig::optical as oc_optical;
use crate::render::{LinePort, Need, WavelengthEnd};

/// Discovered line ports by (node, interface).
type Lines = HashMap<(String, String), LinePort>;

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
fn logical_channel(topology: &Topology, node: &str, port: &str) -> u32 {
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

impl Controller {
    pub async fn create_wavelength_intent(
        &self,
        req: super::Request<WavelengthSpec>,
    ) -> Result<object::Wavelength, ApiError> {
        super::intent::request_id(&req.request_id)?;
        if let Some(w) = self.replay(
            Kind::Wavelength,
            &req.request_id,
            &req.fingerprint,
            |i, id| i.wavelengths.get(id).map(|w| w.view()),
        )? {
            return Ok(w);
        }
        let lines = self.discover_ends(&req.spec).await?;
        let staged =
            self.stage_wavelength_create(req.spec, &req.request_id, req.fingerprint, &lines)?;
        self.execute(staged).await
    }

    /// Reads, from both transponders the wavelength would use, the components
    /// behind their line ports, and checks they can take the mode. Done
    /// before staging: no lock is held across device I/O.
    async fn discover_ends(&self, spec: &WavelengthSpec) -> Result<Lines, ApiError> {
        let (ends, mode) = {
            let inner = self.read();
            let wi = intent::wavelength(&inner, spec)?;
            let (_, a_port, b_port) = route(&inner, &wi)?;
            ([(wi.a.clone(), a_port), (wi.b.clone(), b_port)], wi.mode.id)
        };
        let mut lines = Lines::new();
        for (node, port) in ends {
            self.check_models(&node, Need::Wavelength, "a 400ZR wavelength")?;
            let line = self.line_port(&node, &port).await?;
            if !line.modes.is_empty() && !line.modes.contains(&mode) {
                return Err(precondition(format!(
                    "device {node} does not offer operational mode {mode} (it has {:?})",
                    line.modes
                )));
            }
            lines.insert((node, port), line);
        }
        Ok(lines)
    }

    /// Routes and tunes the wavelength on paper, and holds its channel,
    /// transponder ports and carried SRLGs, invisible until committed.
    fn stage_wavelength_create(
        &self,
        spec: WavelengthSpec,
        request_id: &str,
        fingerprint: Vec<u8>,
        lines: &Lines,
    ) -> Result<Staged<'_, object::Wavelength>, ApiError> {
        let mut inner = self.write();
        let (wi, plan, a_port, b_port, device_plan) = {
            let inner = &*inner;
            let wi = intent::wavelength(inner, &spec)?;
            if let Some(id) = inner.name_taken(Kind::Wavelength, &spec.name) {
                return Err(ApiError::AlreadyExists(format!(
                    "spec.name: wavelength {} already exists ({id})",
                    quote(&spec.name)
                )));
            }
            let (plan, a_port, b_port) = route(inner, &wi)?;
            let mut device_plan = Plan::default();
            for (node, port) in [(&wi.a, &a_port), (&wi.b, &b_port)] {
                let line = lines.get(&(node.clone(), port.clone())).ok_or_else(|| {
                    ApiError::Aborted(format!(
                        "the route moved to {node} {port} while the transponders were read; retry"
                    ))
                })?;
                let lc = logical_channel(&inner.topology, node, port);
                let d = self.dialect(node);
                device_plan.add(
                    node,
                    d.wavelength(&WavelengthEnd {
                        wavelength: &spec.name,
                        line,
                        client_channel: lc,
                        frequency_mhz: plan.frequency_mhz,
                        target_power_dbm: wi.power_dbm,
                        operational_mode: wi.mode.id,
                    }),
                    // Undo = drop the logical channels and untune.
                    d.wavelength_removal(line, lc),
                );
            }
            (wi, plan, a_port, b_port, device_plan)
        };
        let ticket = self.events.reserve();
        let id = inner.new_id("wl");
        let mut carried = BTreeSet::new();
        if let Some(link) = &wi.carries_link {
            for s in srlgs_of(&inner.topology, &plan.fibers) {
                if inner
                    .graph
                    .edges_of_link(link)
                    .any(|e| !inner.graph.edges[e].srlgs.contains(&s))
                {
                    carried.insert(s);
                }
            }
        }
        let a_lc = logical_channel(&inner.topology, &wi.a, &a_port);
        let b_lc = logical_channel(&inner.topology, &wi.b, &b_port);
        let record = WavelengthRecord {
            id: id.clone(),
            spec,
            plan,
            mode: wi.mode.id,
            power_dbm: wi.power_dbm,
            a_port,
            b_port,
            a_logical: a_lc,
            b_logical: b_lc,
            carried_srlgs: carried,
            revision: ticket.revision(),
        };
        inner.remember(Kind::Wavelength, request_id, fingerprint, &id);
        let entries = vec![inner.wavelength_entry(&record)];
        inner.hold_wavelength(record);
        let (commit_id, revert_id) = (id.clone(), id);
        Ok(Staged {
            plan: device_plan,
            entries,
            commit: Box::new(move |inner: &mut Fabric| {
                inner.reveal([&commit_id]);
                let out = inner
                    .wavelengths
                    .get(&commit_id)
                    .map(WavelengthRecord::view)
                    .ok_or_else(|| not_found("id", format!("wavelength {}", quote(&commit_id))))?;
                ticket.publish(
                    Change::Created,
                    "wavelength created",
                    out.clone().at(out.revision),
                );
                Ok(out)
            }),
            revert: Box::new(move |inner: &mut Fabric| {
                inner.release_held(Kind::Wavelength, &revert_id);
            }),
        })
    }

    pub fn wavelength(&self, id: &str) -> Result<object::Wavelength, ApiError> {
        let inner = self.read();
        inner
            .wavelengths
            .get(id)
            .filter(|w| !inner.pending.contains(&w.id))
            .map(WavelengthRecord::view)
            .ok_or_else(|| not_found("id", format!("wavelength {}", quote(id))))
    }

    pub fn wavelengths(&self) -> Vec<object::Wavelength> {
        self.wavelengths_page(None, usize::MAX).0
    }

    /// One page of `wavelengths`: at most `limit` with ids after `after`, in
    /// id order, and whether more follow.
    pub fn wavelengths_page(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> (Vec<object::Wavelength>, bool) {
        let inner = self.read();
        let (page, more) = super::keyset_page(&inner.wavelengths, after, limit, |w| {
            !inner.pending.contains(&w.id)
        });
        (page.into_iter().map(WavelengthRecord::view).collect(), more)
    }

    pub async fn delete_wavelength(&self, id: &str, revision: u64) -> Result<u64, ApiError> {
        let ends: Vec<(String, String)> = {
            let inner = self.read();
            let w = inner
                .wavelengths
                .get(id)
                .ok_or_else(|| not_found("id", format!("wavelength {}", quote(id))))?;
            w.ends()
                .iter()
                .map(|(node, port, _)| ((*node).clone(), (*port).clone()))
                .collect()
        };
        let mut lines = Lines::new();
        for (node, port) in ends {
            let line = self.line_port(&node, &port).await?;
            lines.insert((node, port), line);
        }
        let staged = self.stage_wavelength_delete(id, revision, &lines)?;
        self.execute(staged).await
    }

    /// Checks the delete and claims the wavelength; it stays lit on paper
    /// until both transponders are untuned.
    fn stage_wavelength_delete(
        &self,
        id: &str,
        revision: u64,
        lines: &Lines,
    ) -> Result<Staged<'_, u64>, ApiError> {
        let mut inner = self.write();
        let w = inner
            .wavelengths
            .get(id)
            .filter(|w| !inner.pending.contains(&w.id))
            .ok_or_else(|| not_found("id", format!("wavelength {}", quote(id))))?;
        if revision != 0 && revision != w.revision {
            return Err(ApiError::Aborted(format!(
                "wavelength {id} is at revision {}, not {revision}",
                w.revision
            )));
        }
        let mut device_plan = Plan::default();
        for (node, port, lc) in w.ends() {
            let line = lines
                .get(&(node.clone(), port.clone()))
                .ok_or_else(|| ApiError::Aborted(format!("{node} {port} was not read; retry")))?;
            let d = self.dialect(node);
            device_plan.add(
                node,
                d.wavelength_removal(line, lc),
                w.channel_config(d, line, lc),
            );
        }
        inner.claim("wavelength", id)?;
        let ticket = self.events.reserve();
        let entries = vec![inner.removed_entry(Kind::Wavelength, id, ticket.revision())];
        let (commit_id, revert_id) = (id.to_string(), id.to_string());
        Ok(Staged {
            plan: device_plan,
            entries,
            commit: Box::new(move |inner: &mut Fabric| {
                inner.unclaim(&commit_id);
                let Some(record) = inner.remove_wavelength(&commit_id) else {
                    return Err(not_found("id", format!("wavelength {}", quote(&commit_id))));
                };
                let revision = ticket.revision();
                ticket.publish(
                    Change::Deleted,
                    "wavelength deleted",
                    record.view().at(revision),
                );
                Ok(revision)
            }),
            revert: Box::new(move |inner: &mut Fabric| inner.unclaim(&revert_id)),
        })
    }
}

fn route(
    inner: &Fabric,
    wi: &intent::WavelengthIntent,
) -> Result<(WavelengthPlan, String, String), ApiError> {
    let mut exclude = wi.exclude_fibers.clone();
    for _ in 0..8 {
        let plan = optical::plan_wavelength(
            &inner.fibers,
            &inner.spectrum,
            &wi.a,
            &wi.b,
            &wi.mode,
            wi.margin_db,
            8,
            &exclude,
        )
        .map_err(|e| precondition(format!("no feasible wavelength {} → {}: {e}", wi.a, wi.b)))?;
        let (Some(first), Some(last)) = (plan.fibers.first(), plan.fibers.last()) else {
            return Err(precondition("the planned route has no fibers"));
        };
        let a_port = port_on(&inner.topology, first, &wi.a)
            .ok_or_else(|| precondition(format!("fiber {first} does not end on {}", wi.a)))?;
        let b_port = port_on(&inner.topology, last, &wi.b)
            .ok_or_else(|| precondition(format!("fiber {last} does not end on {}", wi.b)))?;
        let busy_a = inner.ports.get(&(wi.a.clone(), a_port.clone()));
        let busy_b = inner.ports.get(&(wi.b.clone(), b_port.clone()));
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
            if let Some(f) = plan.fibers.iter().find(|f| !inner.spectrum.is_free(f, ch)) {
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
