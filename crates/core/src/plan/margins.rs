//! Live OSNR margins of lit wavelengths. Every wavelength on a fiber adds
//! nonlinear interference to every other one there, so lighting one can
//! push a neighbour below its margin: a new wavelength is refused if it
//! would, and margins are recomputed (and reported) when neighbours change.
//! Pure computation on `Fabric`, run under the state lock; no I/O.

use super::records::{Live, WavelengthRecord};
use super::Fabric;
use crate::pathcomp::optical::{self, ModeId, RouteFiber, Verdict};

/// A carrier not yet in the spectrum: (fibers, channel, mode).
pub type Extra<'a> = (&'a [String], usize, ModeId);

/// Margins move by NLI increments; smaller changes are not news.
const REPORTED_CHANGE_DB: f64 = 0.01;

impl Fabric {
    /// The verdict on `w` under the carriers lit on its fibers now, plus
    /// `extra` if given. `None` if its mode or a fiber is unknown (a
    /// journal from another topology): such a wavelength has no prediction.
    pub fn live_verdict(&self, w: &WavelengthRecord, extra: Option<Extra>) -> Option<Verdict> {
        let mode = optical::mode(w.mode)?;
        let mut lit: Vec<Vec<(usize, ModeId)>> = w
            .plan
            .fibers
            .iter()
            .map(|f| self.spectrum.carriers(f))
            .collect();
        if let Some((fibers, ch, m)) = extra {
            for (f, l) in w.plan.fibers.iter().zip(lit.iter_mut()) {
                if fibers.contains(f) && !l.iter().any(|(c, _)| *c == ch) {
                    l.push((ch, m));
                }
            }
        }
        let route = w
            .plan
            .fibers
            .iter()
            .zip(&lit)
            .map(|(f, l)| Some(RouteFiber::new(self.fibers.plant(f)?, l)))
            .collect::<Option<Vec<_>>>()?;
        Some(optical::live(
            &route,
            w.plan.channel,
            mode,
            w.power_dbm,
            w.plan.margin_db,
        ))
    }

    /// Wavelengths (other than `except`) sharing a fiber with `fibers`.
    fn neighbours<'s>(
        &'s self,
        fibers: &'s [String],
        except: &'s str,
    ) -> impl Iterator<Item = &'s WavelengthRecord> + 's {
        self.wavelengths
            .values()
            .filter(move |w| w.id != except && w.plan.fibers.iter().any(|f| fibers.contains(f)))
    }

    /// Refuses a new carrier that would push a wavelength already there
    /// below its margin (one already below it may not be made worse). The
    /// message names the wavelength and the numbers.
    pub fn protect(&self, new: Extra, new_id: &str) -> Result<(), String> {
        for w in self.neighbours(new.0, new_id) {
            let (Some(before), Some(after)) =
                (self.live_verdict(w, None), self.live_verdict(w, Some(new)))
            else {
                continue;
            };
            if after.osnr_margin_db < 0.0 && after.osnr_margin_db < before.osnr_margin_db - 1e-9 {
                return Err(format!(
                    "lighting it would push wavelength {} ({}) below its {:.2} dB margin: \
                     its OSNR margin would fall from {:.2} to {:.2} dB (GSNR {:.2} → {:.2} dB)",
                    w.spec.name,
                    w.id,
                    w.plan.margin_db,
                    before.osnr_margin_db,
                    after.osnr_margin_db,
                    before.budget.gsnr_db(),
                    after.budget.gsnr_db()
                ));
            }
        }
        Ok(())
    }

    /// Recomputes the live margin of `id` and of every wavelength sharing a
    /// fiber with `fibers`; returns the ids whose margin moved (other than
    /// `id`, whose own event reports it).
    pub fn refresh_margins(&mut self, fibers: &[String], id: &str) -> Vec<String> {
        let mut ids: Vec<String> = self.neighbours(fibers, id).map(|w| w.id.clone()).collect();
        if self.wavelengths.contains_key(id) {
            ids.push(id.to_string());
        }
        let mut moved = Vec::new();
        for wid in ids {
            let Some(live) = self
                .wavelengths
                .get(&wid)
                .map(|w| Live::of(self.live_verdict(w, None).as_ref()))
            else {
                continue;
            };
            if let Some(w) = self.wavelengths.get_mut(&wid) {
                let changed = (w.live.margin_db - live.margin_db).abs() >= REPORTED_CHANGE_DB
                    || w.live.limit != live.limit;
                w.live = live;
                if changed && wid != id {
                    moved.push(wid);
                }
            }
        }
        moved
    }

    /// Every wavelength's live margin, after a journal replay.
    pub fn refresh_all_margins(&mut self) {
        let ids: Vec<String> = self.wavelengths.keys().cloned().collect();
        for id in ids {
            let live = self
                .wavelengths
                .get(&id)
                .map(|w| Live::of(self.live_verdict(w, None).as_ref()));
            if let (Some(live), Some(w)) = (live, self.wavelengths.get_mut(&id)) {
                w.live = live;
            }
        }
    }
}
