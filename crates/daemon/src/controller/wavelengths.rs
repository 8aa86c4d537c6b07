//! Coherent wavelengths: route over fiber, the fastest mode both
//! transponders offer that closes it (physical-layer model), one channel
//! free on every span (spectrum continuity), existing wavelengths protected
//! from the new one's interference, both transponders tuned alike.

use std::collections::HashMap;

use super::error::{not_found, precondition, quote, ApiError};
use super::events::EventLog;
use super::intent;
use super::persist::JournalEntries;
use super::pipeline::Staged;
use super::programmer::Plan;
use super::{Controller, Fabric, Kind};
use crate::intent::WavelengthSpec;
use crate::object::{self, Change, Revisioned};
use crate::pathcomp::optical::{self, ModeId};
use crate::plan::wavelength;
use crate::plan::WavelengthRecord;
use crate::render::{LinePort, Need, WavelengthEnd};

/// Discovered line ports by (node, interface).
type Lines = HashMap<(String, String), LinePort>;

/// The modes both ends offer; a device that lists none is taken to offer
/// every mode in the table (what it does not refuse).
fn offered_by(lines: &Lines, ends: &[(String, String)]) -> Vec<ModeId> {
    optical::all_mode_ids()
        .into_iter()
        .filter(|m| {
            ends.iter().all(|e| {
                lines
                    .get(e)
                    .is_none_or(|l| l.modes.is_empty() || l.modes.contains(m))
            })
        })
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
        let (lines, offered) = self.discover_ends(&req.spec).await?;
        let staged = self.stage_wavelength_create(
            req.spec,
            &req.request_id,
            req.fingerprint,
            &lines,
            &offered,
        )?;
        self.execute(staged).await
    }

    /// Reads, from both transponders the wavelength would use, the components
    /// behind their line ports and the modes they offer, and checks an
    /// explicit mode is among them. The route is planned again with what
    /// they offer (it may move to other ports; then those are read too).
    /// Done before staging: no lock is held across device I/O.
    async fn discover_ends(&self, spec: &WavelengthSpec) -> Result<(Lines, Vec<ModeId>), ApiError> {
        let mut lines = Lines::new();
        let mut offered: Option<Vec<ModeId>> = None;
        for _ in 0..3 {
            let (ends, explicit) = {
                let inner = self.read();
                let wi = intent::wavelength(&inner, spec)?;
                let (_, a_port, b_port) = wavelength::route(&inner, &wi, offered.as_deref())?;
                (
                    [(wi.a.clone(), a_port), (wi.b.clone(), b_port)],
                    wi.mode.map(|m| m.id),
                )
            };
            let known = ends.iter().all(|e| lines.contains_key(e));
            if known && offered.is_some() {
                return Ok((lines, offered.unwrap_or_default()));
            }
            for (node, port) in &ends {
                if lines.contains_key(&(node.clone(), port.clone())) {
                    continue;
                }
                self.check_models(node, Need::Wavelength, "a coherent wavelength")?;
                let line = self.line_port(node, port).await?;
                if let Some(mode) = explicit {
                    if !line.modes.is_empty() && !line.modes.contains(&mode) {
                        return Err(precondition(format!(
                            "spec.operational_mode: device {node} does not offer operational \
                             mode {mode} (it has {:?})",
                            line.modes
                        )));
                    }
                }
                lines.insert((node.clone(), port.clone()), line);
            }
            offered = Some(offered_by(&lines, &ends));
        }
        Err(super::error::aborted(
            "the route kept moving while the transponders were read; retry",
        ))
    }

    /// Routes and tunes the wavelength on paper, and holds its channel,
    /// transponder ports and carried SRLGs, invisible until committed.
    fn stage_wavelength_create(
        &self,
        spec: WavelengthSpec,
        request_id: &str,
        fingerprint: Vec<u8>,
        lines: &Lines,
        offered: &[ModeId],
    ) -> Result<Staged<'_, object::Wavelength>, ApiError> {
        let mut inner = self.write();
        let planned = wavelength::plan_create(&inner, &spec, offered)?;
        let (a_lc, b_lc) = planned.logical_channels(&inner);
        let mut device_plan = Plan::default();
        for (node, port, lc) in [
            (&planned.intent.a, &planned.a_port, a_lc),
            (&planned.intent.b, &planned.b_port, b_lc),
        ] {
            let line = lines.get(&(node.clone(), port.clone())).ok_or_else(|| {
                super::error::aborted(format!(
                    "the route moved to {node} {port} while the transponders were read; retry"
                ))
            })?;
            let d = self.dialect(node);
            device_plan.add(
                node,
                d.wavelength(&WavelengthEnd {
                    wavelength: &spec.name,
                    line,
                    client_channel: lc,
                    frequency_mhz: planned.plan.frequency_mhz,
                    target_power_dbm: planned.intent.power_dbm,
                    operational_mode: planned.plan.mode,
                }),
                // Undo = drop the logical channels and untune.
                d.wavelength_removal(line, lc),
            );
        }
        let ticket = self.events.reserve();
        let id = inner.new_id("wl");
        let record = planned.into_record(&inner, id.clone(), spec, ticket.revision());
        inner.remember(Kind::Wavelength, request_id, fingerprint, &id);
        let entries = vec![inner.wavelength_entry(&record)];
        inner.hold_wavelength(record);
        let (commit_id, revert_id) = (id.clone(), id);
        let events = &self.events;
        Ok(Staged {
            plan: device_plan,
            entries,
            commit: Box::new(move |inner: &mut Fabric| {
                inner.reveal([&commit_id]);
                let fibers = inner
                    .wavelengths
                    .get(&commit_id)
                    .map(|w| w.plan.fibers.clone())
                    .unwrap_or_default();
                let moved = inner.refresh_margins(&fibers, &commit_id);
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
                let why = format!("OSNR margin changed: wavelength {commit_id} lit beside it");
                publish_margins(inner, events, &moved, &why);
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
        let w = wavelength::check_delete(&inner, id, revision)?;
        let mut device_plan = Plan::default();
        for (node, port, lc) in w.ends() {
            let line = lines.get(&(node.clone(), port.clone())).ok_or_else(|| {
                super::error::aborted(format!("{node} {port} was not read; retry"))
            })?;
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
        let events = &self.events;
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
                let moved = inner.refresh_margins(&record.plan.fibers, &commit_id);
                let why =
                    format!("OSNR margin changed: wavelength {commit_id} went dark beside it");
                publish_margins(inner, events, &moved, &why);
                Ok(revision)
            }),
            revert: Box::new(move |inner: &mut Fabric| inner.unclaim(&revert_id)),
        })
    }
}

/// Updated events for wavelengths whose live margin moved (no revision of
/// theirs changes: the margin is derived from the loading, not intent).
fn publish_margins(inner: &Fabric, events: &EventLog, ids: &[String], why: &str) {
    for id in ids {
        if let Some(w) = inner
            .wavelengths
            .get(id)
            .filter(|w| !inner.pending.contains(&w.id))
        {
            let view = w.view();
            events.publish(Change::Updated, why, |rev| view.at(rev));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(modes: &[ModeId]) -> LinePort {
        LinePort {
            interface: "line-1".into(),
            port: "port-line-1".into(),
            transceiver: "transceiver-line-1".into(),
            optical_channel: "och-line-1".into(),
            modes: modes.to_vec(),
        }
    }

    #[test]
    fn the_modes_offered_are_those_both_ends_advertise() {
        let ends = [
            ("a".to_string(), "line-1".to_string()),
            ("b".to_string(), "line-1".to_string()),
        ];
        let mut lines = Lines::new();
        lines.insert(ends[0].clone(), line(&[1, 2, 3, 4, 5]));
        lines.insert(ends[1].clone(), line(&[2, 4, 9]));
        assert_eq!(offered_by(&lines, &ends), [2, 4]);
        // a device that lists no modes refuses none
        lines.insert(ends[1].clone(), line(&[]));
        assert_eq!(offered_by(&lines, &ends), optical::all_mode_ids());
        // ends that were not read constrain nothing either
        assert_eq!(offered_by(&Lines::new(), &ends), optical::all_mode_ids());
    }
}
