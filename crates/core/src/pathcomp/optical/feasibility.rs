//! Whether a mode closes a route, under two loadings: the one a planner has
//! to expect (every fiber full, so a channel accepted today still closes
//! when the band fills) and the one actually lit (what a wavelength sees now,
//! and what protects existing wavelengths from a new one).

use super::grid::{channel_frequency_mhz, CHANNEL_COUNT};
use super::modes::{mode, Mode, ModeId};
use super::physics::{channel_budget, full_band, judge, Budget, Carrier, Hop, Verdict};
use super::plant::FiberPlant;

/// One fiber of a route and the channels lit on it, with their modes.
#[derive(Debug, Clone)]
pub struct RouteFiber<'a> {
    pub plant: &'a FiberPlant,
    pub lit: Vec<(usize, &'static Mode)>,
}

impl<'a> RouteFiber<'a> {
    /// `lit` as (channel, mode id) pairs. Ids not in `MODES` are dropped:
    /// creates only accept table modes, so only a journal from another build
    /// could hold one, and a carrier of unknown baud cannot be modelled.
    pub fn new(plant: &'a FiberPlant, lit: &[(usize, ModeId)]) -> Self {
        RouteFiber {
            plant,
            lit: lit
                .iter()
                .filter_map(|&(c, id)| Some((c, mode(id)?)))
                .collect(),
        }
    }
}

/// Each fiber of the route under its carrier comb.
fn hops<'a>(route: &[RouteFiber<'a>], combs: &'a [Vec<Carrier>]) -> Vec<Hop<'a>> {
    route
        .iter()
        .zip(combs)
        .map(|(f, comb)| Hop {
            plant: f.plant,
            comb,
        })
        .collect()
}

/// CD, PMD and PDL over the route: cheap, and enough for a verdict when one
/// of them is past the mode's tolerance (then GSNR does not matter).
fn hard_budget(route: &[RouteFiber], m: &Mode) -> Budget {
    let hops: Vec<Hop> = route
        .iter()
        .map(|f| Hop {
            plant: f.plant,
            comb: &[],
        })
        .collect();
    let mut b = channel_budget(&hops, 0.0, m, 0.0);
    // no carriers were given, so this is not a noise figure: forget it
    b.ase_nsr = 0.0;
    b.nli_nsr = 0.0;
    b
}

fn hard_limit_verdict(route: &[RouteFiber], m: &'static Mode, margin_db: f64) -> Option<Verdict> {
    let v = judge(m, hard_budget(route, m), margin_db);
    v.penalty_db.is_infinite().then_some(v)
}

/// `m` on `route` when every fiber's band is full: its lit channels in their
/// own modes, every free one in `m`, all at the fiber's launch power. The
/// verdict is that of the worst position a channel of `m` could take (the
/// positions free on every fiber; all of them if none is), so it holds
/// whichever channel is assigned and however the band fills.
pub fn planned(
    route: &[RouteFiber],
    m: &'static Mode,
    tx_power_dbm: f64,
    margin_db: f64,
) -> Verdict {
    if let Some(v) = hard_limit_verdict(route, m, margin_db) {
        return v;
    }
    let combs: Vec<Vec<Carrier>> = route
        .iter()
        .map(|f| full_band(&f.lit, m, f.plant.launch_dbm))
        .collect();
    let hops = hops(route, &combs);
    let free: Vec<usize> = (0..CHANNEL_COUNT)
        .filter(|ch| route.iter().all(|f| f.lit.iter().all(|(c, _)| c != ch)))
        .collect();
    let positions = if free.is_empty() {
        (0..CHANNEL_COUNT).collect()
    } else {
        free
    };
    positions
        .into_iter()
        .map(|ch| {
            let f = channel_frequency_mhz(ch) as f64 * 1e6;
            channel_budget(&hops, f, m, tx_power_dbm)
        })
        .min_by(|x, y| x.gsnr_db().total_cmp(&y.gsnr_db()))
        .map_or_else(
            || judge(m, hard_budget(route, m), margin_db),
            |b| judge(m, b, margin_db),
        )
}

/// Channel `ch` in `m` on `route` under exactly the carriers lit on each
/// fiber (which should include `ch` itself; it is added where missing).
pub fn live(
    route: &[RouteFiber],
    ch: usize,
    m: &'static Mode,
    tx_power_dbm: f64,
    margin_db: f64,
) -> Verdict {
    if let Some(v) = hard_limit_verdict(route, m, margin_db) {
        return v;
    }
    let combs: Vec<Vec<Carrier>> = route
        .iter()
        .map(|f| {
            let mut comb: Vec<Carrier> = f
                .lit
                .iter()
                .filter(|(c, _)| *c != ch)
                .map(|&(c, cm)| Carrier::on_grid(c, cm, f.plant.launch_dbm))
                .collect();
            comb.push(Carrier::on_grid(ch, m, f.plant.launch_dbm));
            comb
        })
        .collect();
    let hops = hops(route, &combs);
    let f = channel_frequency_mhz(ch) as f64 * 1e6;
    judge(m, channel_budget(&hops, f, m, tx_power_dbm), margin_db)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pathcomp::optical::Limit;

    fn zr() -> &'static Mode {
        mode(1).unwrap()
    }
    fn zrp() -> &'static Mode {
        mode(2).unwrap()
    }

    #[test]
    fn the_planned_verdict_is_the_worst_position_of_a_full_band() {
        let p = FiberPlant::defaults(400.0);
        let route = [RouteFiber::new(&p, &[])];
        let v = planned(&route, zrp(), -10.0, 1.0);
        assert!(v.feasible(), "{}", v.explain());
        // every single position of the full band is at least as good
        let band = full_band(&[], zrp(), 0.0);
        let hops = [Hop {
            plant: &p,
            comb: &band,
        }];
        let each: Vec<f64> = band
            .iter()
            .map(|c| channel_budget(&hops, c.frequency_hz, zrp(), -10.0).gsnr_db())
            .collect();
        let worst = each.iter().copied().fold(f64::INFINITY, f64::min);
        assert!((v.budget.gsnr_db() - worst).abs() < 1e-9);
        // and a full band costs more than the channel alone
        let alone = live(&route, 0, zrp(), -10.0, 1.0);
        assert!(alone.budget.gsnr_db() > v.budget.gsnr_db() + 0.3);
    }

    #[test]
    fn cd_fails_400zr_without_computing_noise_and_explains_itself() {
        let p = FiberPlant::defaults(459.5);
        let route = [RouteFiber::new(&p, &[])];
        let v = planned(&route, zr(), -10.0, 1.0);
        assert_eq!(v.explain(), "CD 7,674 ps/nm exceeds 400ZR's 2,400 ps/nm");
        assert!(matches!(v.limit, Some(Limit::Cd { .. })));
    }

    #[test]
    fn a_neighbour_lit_beside_a_channel_lowers_its_live_gsnr() {
        let p = FiberPlant::defaults(800.0);
        let alone = [RouteFiber::new(&p, &[(10, 2)])];
        let crowded = [RouteFiber::new(&p, &[(9, 2), (10, 2), (11, 2)])];
        let a = live(&alone, 10, zrp(), -10.0, 1.0);
        let c = live(&crowded, 10, zrp(), -10.0, 1.0);
        assert!(c.budget.nli_nsr > 1.2 * a.budget.nli_nsr);
        assert!(c.osnr_margin_db < a.osnr_margin_db);
        // the ASE barely cares who else is lit (only through the power the
        // amplifiers hold: signal plus noise)
        let d = (c.budget.ase_nsr - a.budget.ase_nsr) / a.budget.ase_nsr;
        assert!((0.0..1e-3).contains(&d), "{d}");
        // `live` adds the channel under test when it is missing
        let missing = live(&[RouteFiber::new(&p, &[])], 10, zrp(), -10.0, 1.0);
        assert_eq!(missing.budget, a.budget);
    }

    #[test]
    fn lit_channels_in_a_denser_mode_hurt_more_than_the_fill() {
        // 100G at half the baud and the same power has twice the PSD
        let p = FiberPlant::defaults(1200.0);
        let route_plain = [RouteFiber::new(&p, &[])];
        let lit: Vec<(usize, ModeId)> = (0..CHANNEL_COUNT).step_by(2).map(|c| (c, 5)).collect();
        let route_dense = [RouteFiber::new(&p, &lit)];
        let m = mode(4).unwrap();
        let plain = planned(&route_plain, m, -10.0, 1.0);
        let dense = planned(&route_dense, m, -10.0, 1.0);
        assert!(dense.budget.nli_nsr > plain.budget.nli_nsr);
    }
}
