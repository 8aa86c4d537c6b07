//! Transceiver operational modes as data: what each needs from the line.
//! The figures and where they come from are tabulated in `docs/optical.md`.

/// An operational mode's id, as programmed on the transponder
/// (openconfig-terminal-device `operational-mode`).
pub type ModeId = u16;

/// An impairment's OSNR penalty as a piecewise-linear curve through
/// `(value, penalty_db)` points in increasing value order. Past the last
/// point the mode does not work at all (GNPy treats its penalty tables the
/// same way: infinite outside the given interval).
pub type PenaltyCurve = &'static [(f64, f64)];

#[derive(Debug, Clone, PartialEq)]
pub struct Mode {
    pub id: ModeId,
    pub name: &'static str,
    /// Line rate of the client payload.
    pub rate_gbps: u32,
    pub baud_gbd: f64,
    /// Back-to-back OSNR (dB in 0.1 nm) at the FEC threshold.
    pub required_osnr_db: f64,
    /// Transmitter in-band OSNR (dB in 0.1 nm): the noise the laser and
    /// modulator add before the line does.
    pub tx_osnr_db: f64,
    /// Accumulated chromatic dispersion the receiver's DSP undoes, ps/nm.
    pub cd_tolerance_ps_nm: f64,
    /// Penalty rising to `cd_penalty_db` at the tolerance.
    pub cd_penalty_db: f64,
    /// Mean DGD (PMD) tolerance, ps, with `pmd_penalty_db` at it.
    pub pmd_tolerance_ps: f64,
    pub pmd_penalty_db: f64,
    /// OSNR penalty against link PDL, dB → dB.
    pub pdl_penalty: PenaltyCurve,
    /// The reach the specification was written for (informative).
    pub reach_class: &'static str,
}

/// 400ZR then OpenZR+ at 400/300/200/100G. Ids 1–4 keep the meaning they
/// always had in Strata's API; 5 is new.
pub const MODES: &[Mode] = &[
    Mode {
        id: 1,
        name: "400ZR",
        rate_gbps: 400,
        baud_gbd: 59.84375,
        required_osnr_db: 26.0,
        tx_osnr_db: 34.0,
        cd_tolerance_ps_nm: 2_400.0,
        cd_penalty_db: 0.5,
        pmd_tolerance_ps: 10.0,
        pmd_penalty_db: 0.5,
        pdl_penalty: &[(0.0, 0.0), (2.5, 0.8)],
        reach_class: "amplified DCI, up to 120 km",
    },
    Mode {
        id: 2,
        name: "OpenZR+ 400G",
        rate_gbps: 400,
        baud_gbd: 60.138_546_798,
        required_osnr_db: 24.0,
        tx_osnr_db: 34.0,
        cd_tolerance_ps_nm: 20_000.0,
        cd_penalty_db: 0.5,
        pmd_tolerance_ps: 20.0,
        pmd_penalty_db: 0.5,
        pdl_penalty: &[(0.0, 0.0), (1.5, 0.0), (3.0, 1.3), (3.5, 1.8)],
        reach_class: "regional, amplified multi-span",
    },
    Mode {
        id: 3,
        name: "OpenZR+ 300G",
        rate_gbps: 300,
        baud_gbd: 60.138_546_798,
        required_osnr_db: 21.0,
        tx_osnr_db: 34.0,
        cd_tolerance_ps_nm: 40_000.0,
        cd_penalty_db: 0.5,
        pmd_tolerance_ps: 25.0,
        pmd_penalty_db: 0.5,
        pdl_penalty: &[(0.0, 0.0), (1.5, 0.0), (3.0, 1.3), (3.5, 1.8)],
        reach_class: "regional to long haul",
    },
    Mode {
        id: 4,
        name: "OpenZR+ 200G",
        rate_gbps: 200,
        baud_gbd: 60.138_546_798,
        required_osnr_db: 16.0,
        tx_osnr_db: 34.0,
        cd_tolerance_ps_nm: 50_000.0,
        cd_penalty_db: 0.5,
        pmd_tolerance_ps: 25.0,
        pmd_penalty_db: 0.5,
        pdl_penalty: &[(0.0, 0.0), (1.5, 0.0), (3.0, 1.3), (3.5, 1.8)],
        reach_class: "long haul",
    },
    Mode {
        id: 5,
        name: "OpenZR+ 100G",
        rate_gbps: 100,
        baud_gbd: 30.069_273_399,
        required_osnr_db: 12.5,
        tx_osnr_db: 34.0,
        cd_tolerance_ps_nm: 100_000.0,
        cd_penalty_db: 0.5,
        pmd_tolerance_ps: 30.0,
        pmd_penalty_db: 0.5,
        pdl_penalty: &[(0.0, 0.0), (1.5, 0.0), (3.0, 1.3), (3.5, 1.8)],
        reach_class: "long haul",
    },
];

pub fn mode(id: ModeId) -> Option<&'static Mode> {
    MODES.iter().find(|m| m.id == id)
}

/// Every mode id, in table order: what a transponder supports when its
/// device has not told us (the simulators' default set).
pub fn all_mode_ids() -> Vec<ModeId> {
    MODES.iter().map(|m| m.id).collect()
}

/// `ids` as modes, best first: highest rate, then table order (400ZR before
/// OpenZR+ 400G: same rate, the simpler FEC and lower power). Unknown ids are
/// skipped.
pub fn ranked(ids: &[ModeId]) -> Vec<&'static Mode> {
    let mut modes: Vec<(usize, &'static Mode)> = MODES
        .iter()
        .enumerate()
        .filter(|(_, m)| ids.contains(&m.id))
        .collect();
    modes.sort_by_key(|&(i, m)| (std::cmp::Reverse(m.rate_gbps), i));
    modes.into_iter().map(|(_, m)| m).collect()
}

/// The penalty `curve` gives at `value`: linear between points, `None` past
/// the last one (the mode cannot close the link). Values below the first
/// point take its penalty.
pub fn penalty_at(curve: PenaltyCurve, value: f64) -> Option<f64> {
    let (&(x0, y0), rest) = curve.split_first()?;
    if value <= x0 {
        return Some(y0);
    }
    let mut prev = (x0, y0);
    for &(x, y) in rest {
        if value <= x {
            let t = if x > prev.0 {
                (value - prev.0) / (x - prev.0)
            } else {
                1.0
            };
            return Some(prev.1 + t * (y - prev.1));
        }
        prev = (x, y);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_rank_by_rate_then_table_order() {
        let names: Vec<&str> = ranked(&[5, 2, 1, 4, 3]).iter().map(|m| m.name).collect();
        assert_eq!(
            names,
            [
                "400ZR",
                "OpenZR+ 400G",
                "OpenZR+ 300G",
                "OpenZR+ 200G",
                "OpenZR+ 100G"
            ]
        );
        assert_eq!(ranked(&[4, 99, 2]).len(), 2);
        assert!(ranked(&[]).is_empty());
    }

    #[test]
    fn a_more_robust_mode_tolerates_more_of_everything() {
        // down the OpenZR+ ladder each step trades rate for tolerance
        let zrp: Vec<&Mode> = MODES.iter().filter(|m| m.id >= 2).collect();
        for w in zrp.windows(2) {
            assert!(w[0].rate_gbps > w[1].rate_gbps);
            assert!(w[0].required_osnr_db > w[1].required_osnr_db);
            assert!(w[0].cd_tolerance_ps_nm < w[1].cd_tolerance_ps_nm);
            assert!(w[0].pmd_tolerance_ps <= w[1].pmd_tolerance_ps);
        }
        let zr = mode(1).unwrap();
        assert!(zr.cd_tolerance_ps_nm < zrp[0].cd_tolerance_ps_nm / 5.0);
    }

    #[test]
    fn penalty_curves_interpolate_and_end() {
        let c: PenaltyCurve = &[(0.0, 0.0), (1.5, 0.0), (3.0, 1.3), (3.5, 1.8)];
        assert_eq!(penalty_at(c, -1.0), Some(0.0));
        assert_eq!(penalty_at(c, 1.0), Some(0.0));
        assert!((penalty_at(c, 2.25).unwrap() - 0.65).abs() < 1e-12);
        assert!((penalty_at(c, 3.5).unwrap() - 1.8).abs() < 1e-12);
        assert_eq!(penalty_at(c, 3.6), None);
        assert_eq!(penalty_at(&[], 0.0), None);
    }
}
