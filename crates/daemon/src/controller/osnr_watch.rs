//! Model against reality: a transponder's OSNR reading is compared with the
//! GSNR the model predicts for its wavelength under the current loading.
//! Reading more than the alarm threshold below the prediction flags the
//! wavelength (one updated event); it clears, with another event, once the
//! reading is back within the threshold less a hysteresis, so a reading
//! hovering at the threshold does not flap. Readings only ever sit above a
//! GSNR prediction on a healthy line (an OSNR monitor does not see NLI or
//! the transmitter's noise), so a shortfall means the plant is worse than
//! the topology says: a dirty connector, a bad splice, an amplifier gone.

use std::sync::atomic::Ordering;

use super::Controller;
use crate::object::{Change, Revisioned};

/// How far below the prediction a reading may sit before it is news.
pub const DEFAULT_OSNR_ALARM_DB: f64 = 2.0;
/// How far back above that it must come to clear.
pub const OSNR_ALARM_HYSTERESIS_DB: f64 = 0.5;
/// Smaller moves of the reading are not stored (each store takes the lock).
const READING_STEP_DB: f64 = 0.05;

impl Controller {
    /// The alarm threshold: readings this far below the prediction flag.
    pub fn set_osnr_alarm_db(&self, db: f64) {
        if db.is_finite() && db > 0.0 {
            self.osnr_alarm_db.store(db.to_bits(), Ordering::Relaxed);
        }
    }

    pub fn osnr_alarm_db(&self) -> f64 {
        f64::from_bits(self.osnr_alarm_db.load(Ordering::Relaxed))
    }

    /// An OSNR reading from the line interface `port` of transponder
    /// `device`. Returns whether the wavelength there changed state.
    pub fn observe_wavelength_osnr(&self, device: &str, port: &str, osnr_db: f64) -> bool {
        let alarm = self.osnr_alarm_db();
        let key = (device.to_string(), port.to_string());
        let judge = |gsnr: f64, below: bool| {
            let shortfall = gsnr - osnr_db;
            if below {
                shortfall > alarm - OSNR_ALARM_HYSTERESIS_DB
            } else {
                shortfall > alarm
            }
        };
        {
            let inner = self.read();
            let Some(w) = inner
                .ports
                .get(&key)
                .and_then(|id| inner.wavelengths.get(id))
                .filter(|w| !inner.pending.contains(&w.id))
            else {
                return false;
            };
            let same_state = judge(w.live.gsnr_db, w.below_prediction) == w.below_prediction;
            let same_reading = w
                .measured_osnr_db
                .is_some_and(|m| (m - osnr_db).abs() < READING_STEP_DB);
            if same_state && same_reading {
                return false;
            }
        }
        let mut inner = self.write();
        let Some(id) = inner.ports.get(&key).cloned() else {
            return false;
        };
        if inner.pending.contains(&id) {
            return false;
        }
        let Some(w) = inner.wavelengths.get_mut(&id) else {
            return false;
        };
        w.measured_osnr_db = Some((osnr_db * 100.0).round() / 100.0);
        let below = judge(w.live.gsnr_db, w.below_prediction);
        if below == w.below_prediction {
            return false;
        }
        w.below_prediction = below;
        let view = w.view();
        let why = if below {
            format!(
                "measured OSNR {osnr_db:.2} dB at {device} {port} is {:.2} dB below the predicted \
                 GSNR {:.2} dB (alarm at {alarm:.2} dB): the plant is worse than modelled",
                w.live.gsnr_db - osnr_db,
                w.live.gsnr_db
            )
        } else {
            format!(
                "measured OSNR {osnr_db:.2} dB at {device} {port} is back within {alarm:.2} dB of \
                 the predicted GSNR {:.2} dB",
                w.live.gsnr_db
            )
        };
        drop(inner);
        self.events
            .publish(Change::Updated, &why, |rev| view.at(rev));
        true
    }
}
