//! Link health from telemetry: smoothing, thresholds with hysteresis, a
//! hold-down before a recovered link is trusted again, and silence detection.
//! Pure: time is passed in, so the closed loop replays deterministically.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::model::Layer;

/// Thresholds and timers; every field has a sane default.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthConfig {
    /// EWMA weight of a new delay/loss sample (0..1].
    pub ewma_alpha: f64,
    /// Breach when smoothed delay exceeds nominal by this many µs…
    pub delay_excess_us: f64,
    /// …or by this factor of nominal (whichever is larger).
    pub delay_excess_factor: f64,
    /// Breach when smoothed loss exceeds this (%).
    pub loss_percent: f64,
    /// Breach when OSNR falls below this (dB).
    pub osnr_min_db: f64,
    /// A breached metric must fall this fraction below its threshold to clear.
    pub hysteresis: f64,
    /// A recovered link must stay healthy this long before traffic returns.
    pub hold_down: Duration,
    /// A link with no sample for this long is suspect (treated as breached).
    pub silence_timeout: Duration,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            ewma_alpha: 0.5,
            delay_excess_us: 500.0,
            delay_excess_factor: 0.25,
            loss_percent: 1.0,
            osnr_min_db: 18.0,
            hysteresis: 0.2,
            hold_down: Duration::from_secs(5),
            silence_timeout: Duration::from_secs(5),
        }
    }
}

/// Some of the thresholds of a [`HealthConfig`], for one link or one class
/// of links (a config file's `[closed_loop.links."NAME"]` and
/// `[closed_loop.classes.LAYER]`): the fields left `None` keep the value
/// underneath.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthOverride {
    pub ewma_alpha: Option<f64>,
    pub delay_excess_us: Option<f64>,
    pub delay_excess_factor: Option<f64>,
    pub loss_percent: Option<f64>,
    pub osnr_min_db: Option<f64>,
    pub hysteresis: Option<f64>,
    pub hold_down: Option<Duration>,
    pub silence_timeout: Option<Duration>,
}

impl HealthOverride {
    /// `base` with this override's fields in place of its own.
    pub fn apply(&self, base: &HealthConfig) -> HealthConfig {
        HealthConfig {
            ewma_alpha: self.ewma_alpha.unwrap_or(base.ewma_alpha),
            delay_excess_us: self.delay_excess_us.unwrap_or(base.delay_excess_us),
            delay_excess_factor: self.delay_excess_factor.unwrap_or(base.delay_excess_factor),
            loss_percent: self.loss_percent.unwrap_or(base.loss_percent),
            osnr_min_db: self.osnr_min_db.unwrap_or(base.osnr_min_db),
            hysteresis: self.hysteresis.unwrap_or(base.hysteresis),
            hold_down: self.hold_down.unwrap_or(base.hold_down),
            silence_timeout: self.silence_timeout.unwrap_or(base.silence_timeout),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == HealthOverride::default()
    }
}

/// The closed loop's thresholds for a whole fabric: global values, then per
/// link class (the link's layer: `packet`, `optical`, `fiber`), then per
/// link, each more specific level overriding the one before field by field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthPolicy {
    pub global: HealthConfig,
    /// Layer name → override.
    pub classes: BTreeMap<String, HealthOverride>,
    /// Link name → override.
    pub links: BTreeMap<String, HealthOverride>,
    /// How far (dB) a transponder's OSNR may read below its wavelength's
    /// predicted GSNR before the wavelength is flagged; `None` keeps the
    /// controller's default (`[closed_loop] osnr_below_prediction_db`).
    pub osnr_below_prediction_db: Option<f64>,
}

impl From<HealthConfig> for HealthPolicy {
    fn from(global: HealthConfig) -> Self {
        HealthPolicy {
            global,
            ..Default::default()
        }
    }
}

/// The class name of links on `layer` in `[closed_loop.classes]`.
pub fn class_of(layer: Layer) -> &'static str {
    match layer {
        Layer::Packet => "packet",
        Layer::Optical => "optical",
        Layer::Fiber => "fiber",
    }
}

/// Every class `[closed_loop.classes]` may name.
pub const CLASSES: [&str; 3] = ["packet", "optical", "fiber"];

impl HealthPolicy {
    /// The thresholds `link` (of class `class`) is judged by.
    pub fn for_link(&self, link: &str, class: &str) -> HealthConfig {
        let mut c = self.global.clone();
        if let Some(o) = self.classes.get(class) {
            c = o.apply(&c);
        }
        if let Some(o) = self.links.get(link) {
            c = o.apply(&c);
        }
        c
    }

    /// Link overrides must name links of `topology`: a misspelt name would
    /// otherwise silently leave that link on the global thresholds.
    pub fn check_links(&self, topology: &crate::model::Topology) -> Result<(), String> {
        let mut unknown = Vec::new();
        for name in self.links.keys() {
            if topology.link(name).is_none() {
                let names = topology.links.iter().map(|l| l.name.as_str());
                unknown.push(match crate::config::suggest(name, names) {
                    Some(s) => format!("{name:?} (did you mean {s:?}?)"),
                    None => format!("{name:?}"),
                });
            }
        }
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "closed_loop.links: no such link in fabric {:?}: {}",
                topology.name,
                unknown.join(", ")
            ))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    DelayUs,
    LossPercent,
    OsnrDb,
    Down,
    Silent,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::DelayUs => "delay_us",
            Metric::LossPercent => "loss_percent",
            Metric::OsnrDb => "osnr_db",
            Metric::Down => "down",
            Metric::Silent => "silent",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum State {
    Healthy,
    /// Breached since `since_ns`, by `metric` (the first that crossed).
    Degraded {
        metric: Metric,
        since_ns: u64,
    },
    /// All metrics are back; healthy again once `hold_down` passes from `since_ns`.
    Recovering {
        since_ns: u64,
    },
}

/// What changed, for the controller to act on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transition {
    Breached {
        metric: Metric,
        value: f64,
        threshold: f64,
    },
    /// Values are back but not yet trusted (no action).
    Recovering,
    /// Trusted again after the hold-down: restore traffic.
    Restored,
    /// Relapsed during the hold-down (already off the link: no action).
    Relapsed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LinkHealth {
    pub nominal_delay_us: f64,
    pub delay_us: Option<f64>,
    pub loss_percent: Option<f64>,
    pub osnr_db: Option<f64>,
    pub up: bool,
    pub last_sample_ns: Option<u64>,
    pub state: State,
}

/// One measurement of a link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    DelayUs(f64),
    LossPercent(f64),
    OsnrDb(f64),
    Up(bool),
}

impl LinkHealth {
    pub fn new(nominal_delay_us: f64) -> Self {
        LinkHealth {
            nominal_delay_us,
            delay_us: None,
            loss_percent: None,
            osnr_db: None,
            up: true,
            last_sample_ns: None,
            state: State::Healthy,
        }
    }

    pub fn delay_threshold(&self, c: &HealthConfig) -> f64 {
        self.nominal_delay_us
            + c.delay_excess_us
                .max(self.nominal_delay_us * c.delay_excess_factor)
    }

    fn smooth(prev: Option<f64>, x: f64, alpha: f64) -> f64 {
        match prev {
            Some(p) => p + alpha * (x - p),
            None => x,
        }
    }

    /// Takes a reading at `now_ns`; returns a transition if one happened.
    pub fn observe(
        &mut self,
        reading: Reading,
        now_ns: u64,
        c: &HealthConfig,
    ) -> Option<Transition> {
        self.last_sample_ns = Some(now_ns);
        match reading {
            Reading::DelayUs(x) => {
                self.delay_us = Some(Self::smooth(self.delay_us, x, c.ewma_alpha))
            }
            Reading::LossPercent(x) => {
                self.loss_percent = Some(Self::smooth(self.loss_percent, x, c.ewma_alpha))
            }
            Reading::OsnrDb(x) => self.osnr_db = Some(x),
            Reading::Up(up) => self.up = up,
        }
        self.evaluate(now_ns, c)
    }

    /// Re-evaluates without a new reading (timers: hold-down, silence).
    pub fn tick(&mut self, now_ns: u64, c: &HealthConfig) -> Option<Transition> {
        self.evaluate(now_ns, c)
    }

    /// The first breached metric, judged against `scale` × threshold
    /// (scale < 1 applies hysteresis when deciding to clear).
    fn breach(&self, now_ns: u64, c: &HealthConfig, clearing: bool) -> Option<(Metric, f64, f64)> {
        if !self.up {
            return Some((Metric::Down, 0.0, 0.0));
        }
        if let Some(last) = self.last_sample_ns {
            let silent_ns = now_ns.saturating_sub(last);
            if silent_ns > c.silence_timeout.as_nanos() as u64 {
                return Some((
                    Metric::Silent,
                    silent_ns as f64 / 1e6,
                    c.silence_timeout.as_millis() as f64,
                ));
            }
        }
        let h = if clearing { c.hysteresis } else { 0.0 };
        if let Some(d) = self.delay_us {
            let t = self.delay_threshold(c);
            // hysteresis on the excess over nominal, not on the whole delay
            let t_eff = self.nominal_delay_us + (t - self.nominal_delay_us) * (1.0 - h);
            if d > t_eff {
                return Some((Metric::DelayUs, d, t));
            }
        }
        if let Some(l) = self.loss_percent {
            if l > c.loss_percent * (1.0 - h) {
                return Some((Metric::LossPercent, l, c.loss_percent));
            }
        }
        if let Some(o) = self.osnr_db {
            if o < c.osnr_min_db + if clearing { c.hysteresis } else { 0.0 } {
                return Some((Metric::OsnrDb, o, c.osnr_min_db));
            }
        }
        None
    }

    fn evaluate(&mut self, now_ns: u64, c: &HealthConfig) -> Option<Transition> {
        match self.state {
            State::Healthy => {
                let (metric, value, threshold) = self.breach(now_ns, c, false)?;
                self.state = State::Degraded {
                    metric,
                    since_ns: now_ns,
                };
                Some(Transition::Breached {
                    metric,
                    value,
                    threshold,
                })
            }
            State::Degraded { .. } => {
                if self.breach(now_ns, c, true).is_some() {
                    return None;
                }
                self.state = State::Recovering { since_ns: now_ns };
                Some(Transition::Recovering)
            }
            State::Recovering { since_ns } => {
                if let Some((metric, _, _)) = self.breach(now_ns, c, true) {
                    self.state = State::Degraded {
                        metric,
                        since_ns: now_ns,
                    };
                    return Some(Transition::Relapsed);
                }
                if now_ns.saturating_sub(since_ns) >= c.hold_down.as_nanos() as u64 {
                    self.state = State::Healthy;
                    return Some(Transition::Restored);
                }
                None
            }
        }
    }

    pub fn is_degraded(&self) -> bool {
        !matches!(self.state, State::Healthy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn cfg() -> HealthConfig {
        HealthConfig {
            ewma_alpha: 1.0,
            hold_down: Duration::from_millis(1000),
            silence_timeout: Duration::from_millis(3000),
            ..Default::default()
        }
    }

    #[test]
    fn delay_breach_needs_hysteresis_then_hold_down_to_restore() {
        let c = cfg();
        let mut h = LinkHealth::new(1000.0); // threshold = 1000 + max(500, 250) = 1500
        assert_eq!(h.observe(Reading::DelayUs(1200.0), 0, &c), None);
        let t = h.observe(Reading::DelayUs(2000.0), 10 * MS, &c);
        assert!(
            matches!(
                t,
                Some(Transition::Breached {
                    metric: Metric::DelayUs,
                    ..
                })
            ),
            "{t:?}"
        );
        // 1450 is under the threshold but not under it by the hysteresis (1400)
        assert_eq!(h.observe(Reading::DelayUs(1450.0), 20 * MS, &c), None);
        assert_eq!(
            h.observe(Reading::DelayUs(1100.0), 30 * MS, &c),
            Some(Transition::Recovering)
        );
        assert_eq!(h.tick(500 * MS, &c), None);
        assert_eq!(h.tick(1030 * MS, &c), Some(Transition::Restored));
        assert_eq!(h.state, State::Healthy);
    }

    #[test]
    fn a_flapping_link_does_not_restore_until_it_holds() {
        let c = cfg();
        let mut h = LinkHealth::new(1000.0);
        let mut restores = 0;
        let mut breaches = 0;
        // bad/good every 200 ms for 5 s: never good for a whole hold-down
        for i in 0..25u64 {
            let d = if i % 2 == 0 { 3000.0 } else { 1000.0 };
            match h.observe(Reading::DelayUs(d), i * 200 * MS, &c) {
                Some(Transition::Restored) => restores += 1,
                Some(Transition::Breached { .. }) => breaches += 1,
                _ => {}
            }
        }
        assert_eq!((breaches, restores), (1, 0));
    }

    #[test]
    fn loss_down_and_silence_breach() {
        let c = cfg();
        let mut h = LinkHealth::new(100.0);
        assert!(matches!(
            h.observe(Reading::LossPercent(5.0), 0, &c),
            Some(Transition::Breached {
                metric: Metric::LossPercent,
                ..
            })
        ));
        let mut h = LinkHealth::new(100.0);
        assert!(matches!(
            h.observe(Reading::Up(false), 0, &c),
            Some(Transition::Breached {
                metric: Metric::Down,
                ..
            })
        ));
        let mut h = LinkHealth::new(100.0);
        h.observe(Reading::DelayUs(100.0), 0, &c);
        assert_eq!(h.tick(2000 * MS, &c), None);
        assert!(matches!(
            h.tick(4000 * MS, &c),
            Some(Transition::Breached {
                metric: Metric::Silent,
                ..
            })
        ));
        assert_eq!(
            h.observe(Reading::DelayUs(100.0), 4100 * MS, &c),
            Some(Transition::Recovering)
        );
    }

    #[test]
    fn osnr_below_minimum_breaches() {
        let c = cfg();
        let mut h = LinkHealth::new(100.0);
        assert_eq!(h.observe(Reading::OsnrDb(25.0), 0, &c), None);
        assert!(matches!(
            h.observe(Reading::OsnrDb(12.0), MS, &c),
            Some(Transition::Breached {
                metric: Metric::OsnrDb,
                ..
            })
        ));
    }

    #[test]
    fn a_link_override_beats_its_class_which_beats_the_global_values() {
        let mut p = HealthPolicy::from(cfg());
        p.classes.insert(
            "optical".into(),
            HealthOverride {
                osnr_min_db: Some(22.0),
                hysteresis: Some(0.5),
                ..Default::default()
            },
        );
        p.links.insert(
            "ot1-ot2".into(),
            HealthOverride {
                osnr_min_db: Some(15.0),
                ..Default::default()
            },
        );
        let global = p.for_link("pe1-pe2", "packet");
        assert_eq!(global, cfg());
        let class = p.for_link("ot3-ot4", "optical");
        assert_eq!((class.osnr_min_db, class.hysteresis), (22.0, 0.5));
        let link = p.for_link("ot1-ot2", "optical");
        assert_eq!(
            (link.osnr_min_db, link.hysteresis, link.hold_down),
            (15.0, 0.5, cfg().hold_down),
            "the link's own value, then its class's, then the global one"
        );
        // The same OSNR breaches under the class threshold, not the link's.
        let mut by_class = LinkHealth::new(100.0);
        assert!(by_class.observe(Reading::OsnrDb(20.0), 0, &class).is_some());
        let mut by_link = LinkHealth::new(100.0);
        assert_eq!(by_link.observe(Reading::OsnrDb(20.0), 0, &link), None);
    }
}
