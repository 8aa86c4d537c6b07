//! The physical layer of one channel over a chain of amplified fibers: ASE,
//! nonlinear interference by the closed-form GN model, transmitter noise,
//! chromatic dispersion, PMD and PDL, and the verdict a mode gives on them.
//! Pure functions of the plant, the channel loading and the mode. The
//! equations, constants and their sources are in `docs/optical.md`.
//!
//! Noise is carried as noise-to-signal ratios (NSR, linear) in the channel's
//! own symbol-rate bandwidth, which is what adds across spans and sources
//! (incoherent accumulation); it becomes a 0.1 nm OSNR only at the end, to
//! compare with the modes' requirements, which are quoted in 0.1 nm.

use std::f64::consts::PI;

use super::grid::{channel_frequency_mhz, CHANNEL_COUNT};
use super::modes::{penalty_at, Mode};
use super::plant::FiberPlant;

pub const PLANCK_J_S: f64 = 6.626_070_15e-34;
pub const LIGHT_M_S: f64 = 299_792_458.0;
/// 0.1 nm at 1550 nm, the OSNR reference bandwidth.
pub const REF_BANDWIDTH_HZ: f64 = 12.5e9;
/// Nonlinear index of silica (GNPy's fiber default).
pub const N2_M2_PER_W: f64 = 2.6e-20;
/// Where the fiber's dispersion and effective area are specified.
pub const REF_WAVELENGTH_M: f64 = 1550e-9;
/// GN-model weights for dual-polarization signals: self-channel (SPM) and
/// cross-channel (XPM) interference (Poggiolini 2012, eq. 120).
const SPM_WEIGHT: f64 = 16.0 / 27.0;
const XPM_WEIGHT: f64 = 32.0 / 27.0;

pub fn dbm_to_w(dbm: f64) -> f64 {
    1e-3 * 10f64.powf(dbm / 10.0)
}

fn db(x: f64) -> f64 {
    10.0 * x.log10()
}

/// One lit channel on a fiber: centre, symbol rate, launch power.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Carrier {
    pub frequency_hz: f64,
    pub baud_hz: f64,
    pub power_w: f64,
}

impl Carrier {
    /// A carrier of `mode` on grid channel `ch` at `power_dbm`.
    pub fn on_grid(ch: usize, mode: &Mode, power_dbm: f64) -> Self {
        Carrier {
            frequency_hz: channel_frequency_mhz(ch) as f64 * 1e6,
            baud_hz: mode.baud_gbd * 1e9,
            power_w: dbm_to_w(power_dbm),
        }
    }
}

/// The fiber's constants in SI units, derived once per fiber.
struct FiberSi {
    /// Power attenuation, 1/m (nepers).
    alpha: f64,
    /// |β2|, s²/m: λ²·D/(2πc) at the reference wavelength; with a constant D
    /// per unit frequency² (GNPy's convention) it is the same on every channel.
    beta2: f64,
    /// γ per Hz of carrier frequency: γ(f) = 2π·n2·f/(c·Aeff).
    gamma_per_hz: f64,
}

impl FiberSi {
    fn of(p: &FiberPlant) -> Self {
        let d_s_per_m2 = p.dispersion_ps_nm_km * 1e-6;
        FiberSi {
            alpha: p.loss_db_per_km / (10.0 * std::f64::consts::E.log10()) / 1e3,
            beta2: REF_WAVELENGTH_M.powi(2) * d_s_per_m2.abs() / (2.0 * PI * LIGHT_M_S),
            gamma_per_hz: 2.0 * PI * N2_M2_PER_W
                / (LIGHT_M_S * p.effective_area_um2.max(1e-3) * 1e-12),
        }
    }
}

/// Loss of one span: fiber plus connectors plus the end-of-life allowance.
pub fn span_loss_db(p: &FiberPlant, span_km: f64) -> f64 {
    span_km.max(0.0) * p.loss_db_per_km + p.connector_loss_db + p.eol_margin_db
}

/// ASE NSR the amplifier closing a span adds to `cut`:
/// h·f·B·NF / P_in with P_in = P_launch − L_span (noise referred to the
/// amplifier input, as GNPy does; gain = span loss).
pub fn span_ase_nsr(p: &FiberPlant, span_km: f64, cut: &Carrier) -> f64 {
    let p_in = cut.power_w * 10f64.powf(-span_loss_db(p, span_km) / 10.0);
    PLANCK_J_S * cut.frequency_hz * cut.baud_hz * 10f64.powf(p.amp_noise_figure_db / 10.0) / p_in
}

/// NLI NSR one span adds to `cut` from every carrier of `comb` (the cut
/// itself included, as SPM), by the closed-form GN model per channel pair
/// (Poggiolini 2012 eqs. 120/123):
///
/// η_ij = γ²·w_ij·ψ_ij / B_j², NSR_i = Σ_j η_ij·P_j²,
/// ψ_ij = L_eff²/(2π|β2|L_a) · ½[asinh(π²L_a|β2|B_i(Δf+B_j/2)) −
///        asinh(π²L_a|β2|B_i(Δf−B_j/2))],
///
/// L_eff = (1−e^(−αL))/α, L_a = 1/α, w = 16/27 for i = j else 32/27.
pub fn span_nli_nsr(p: &FiberPlant, span_km: f64, comb: &[Carrier], cut: &Carrier) -> f64 {
    let si = FiberSi::of(p);
    span_nli_nsr_si(&si, span_km, comb, cut)
}

fn span_nli_nsr_si(si: &FiberSi, span_km: f64, comb: &[Carrier], cut: &Carrier) -> f64 {
    let length = span_km.max(0.0) * 1e3;
    if length == 0.0 || si.alpha <= 0.0 || si.beta2 <= 0.0 {
        return 0.0;
    }
    let l_eff = (1.0 - (-si.alpha * length).exp()) / si.alpha;
    let l_a = 1.0 / si.alpha;
    let gamma = si.gamma_per_hz * cut.frequency_hz;
    let scale = l_eff * l_eff / (2.0 * PI * si.beta2 * l_a);
    let a = PI * PI * l_a * si.beta2 * cut.baud_hz;
    comb.iter()
        .map(|pump| {
            let df = pump.frequency_hz - cut.frequency_hz;
            let same = df.abs() < 1.0;
            let w = if same { SPM_WEIGHT } else { XPM_WEIGHT };
            let psi = scale
                * 0.5
                * ((a * (df + pump.baud_hz / 2.0)).asinh()
                    - (a * (df - pump.baud_hz / 2.0)).asinh());
            gamma * gamma * w * psi * pump.power_w * pump.power_w / (pump.baud_hz * pump.baud_hz)
        })
        .sum()
}

/// What a channel accumulates end to end.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Budget {
    /// NSRs in the channel's bandwidth.
    pub ase_nsr: f64,
    pub nli_nsr: f64,
    pub tx_nsr: f64,
    pub baud_hz: f64,
    pub cd_ps_nm: f64,
    /// Mean DGD, root-sum-square over fibers.
    pub pmd_ps: f64,
    /// Root-sum-square of the fibers' PDL.
    pub pdl_db: f64,
    pub length_km: f64,
}

impl Budget {
    fn osnr_01nm_of(&self, nsr: f64) -> f64 {
        if nsr <= 0.0 {
            return f64::INFINITY;
        }
        db(self.baud_hz / REF_BANDWIDTH_HZ) - db(nsr)
    }

    /// Generalized SNR (ASE + NLI + transmitter), in 0.1 nm.
    pub fn gsnr_db(&self) -> f64 {
        self.osnr_01nm_of(self.ase_nsr + self.nli_nsr + self.tx_nsr)
    }
    pub fn ase_osnr_db(&self) -> f64 {
        self.osnr_01nm_of(self.ase_nsr)
    }
    pub fn nli_osnr_db(&self) -> f64 {
        self.osnr_01nm_of(self.nli_nsr)
    }
}

/// One fiber of a route with the carriers lit on it. The channel under test
/// must be one of `comb` (its SPM is part of its NLI).
pub struct Hop<'a> {
    pub plant: &'a FiberPlant,
    pub comb: &'a [Carrier],
}

/// The budget of `cut` (launched at `tx_power_dbm` by the transceiver, with
/// `mode`'s transmitter OSNR) over `hops`. The first fiber's line amplifier
/// boosts the transceiver's output to the line launch power, adding
/// h·f·B·NF/P_tx; every span then adds its ASE and its NLI.
pub fn channel_budget(
    hops: &[Hop],
    cut_frequency_hz: f64,
    mode: &Mode,
    tx_power_dbm: f64,
) -> Budget {
    let mut b = Budget {
        baud_hz: mode.baud_gbd * 1e9,
        tx_nsr: 10f64.powf(-mode.tx_osnr_db / 10.0) * mode.baud_gbd * 1e9 / REF_BANDWIDTH_HZ,
        ..Budget::default()
    };
    if let Some(first) = hops.first() {
        let booster_in = dbm_to_w(tx_power_dbm);
        b.ase_nsr += PLANCK_J_S
            * cut_frequency_hz
            * b.baud_hz
            * 10f64.powf(first.plant.amp_noise_figure_db / 10.0)
            / booster_in;
    }
    let mut pmd2 = 0.0;
    let mut pdl2 = 0.0;
    for hop in hops {
        let si = FiberSi::of(hop.plant);
        let cut = Carrier {
            frequency_hz: cut_frequency_hz,
            baud_hz: b.baud_hz,
            power_w: dbm_to_w(hop.plant.launch_dbm),
        };
        let per_length: Vec<(f64, f64, f64)> = distinct_spans(&hop.plant.spans_km)
            .into_iter()
            .map(|(span_km, _)| {
                (
                    span_km,
                    span_ase_nsr(hop.plant, span_km, &cut),
                    span_nli_nsr_si(&si, span_km, hop.comb, &cut),
                )
            })
            .collect();
        for &span_km in &hop.plant.spans_km {
            let Some(&(_, ase, nli)) = per_length
                .iter()
                .find(|(len, _, _)| (len - span_km).abs() < 1e-9)
            else {
                continue;
            };
            // Amplifiers hold the total per-channel power (signal + line
            // noise, as AGC EDFAs and GNPy do), so the signal entering each
            // span is 1/(1 + NSR so far) of the launch power and the span's
            // noise weighs that much more against it.
            let held = 1.0 + b.ase_nsr + b.nli_nsr;
            b.ase_nsr += ase * held;
            b.nli_nsr += nli * held;
        }
        let len = hop.plant.length_km();
        b.length_km += len;
        b.cd_ps_nm += hop.plant.dispersion_ps_nm_km * len;
        pmd2 += (hop.plant.pmd_ps_per_sqrt_km * len.max(0.0).sqrt()).powi(2);
        pdl2 += hop.plant.pdl_db.powi(2);
    }
    b.pmd_ps = pmd2.sqrt();
    b.pdl_db = pdl2.sqrt();
    b
}

/// Equal spans computed once: a default plan is N identical spans (the
/// count is informative; spans are still walked in order).
fn distinct_spans(spans: &[f64]) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for &s in spans {
        match out.iter_mut().find(|(len, _)| (len - s).abs() < 1e-9) {
            Some((_, n)) => *n += 1.0,
            None => out.push((s, 1.0)),
        }
    }
    out
}

/// The carriers on one fiber when every grid channel is lit: channels in
/// `lit` with their own mode, every other one with `fill`, all at the
/// fiber's launch power. The loading a planner has to expect.
pub fn full_band(lit: &[(usize, &Mode)], fill: &Mode, launch_dbm: f64) -> Vec<Carrier> {
    (0..CHANNEL_COUNT)
        .map(|ch| {
            let m = lit.iter().find(|(c, _)| *c == ch).map_or(fill, |(_, m)| *m);
            Carrier::on_grid(ch, m, launch_dbm)
        })
        .collect()
}

/// What limits a channel, with the numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Limit {
    Cd { cd_ps_nm: f64, tolerance_ps_nm: f64 },
    Pmd { pmd_ps: f64, tolerance_ps: f64 },
    Pdl { pdl_db: f64, max_db: f64 },
    Osnr { gsnr_db: f64, needed_db: f64 },
}

/// A mode's verdict on a budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub mode: &'static Mode,
    pub budget: Budget,
    /// CD + PMD + PDL penalties (dB), infinite past a tolerance.
    pub penalty_db: f64,
    /// The system (end-of-life) margin asked for.
    pub margin_db: f64,
    /// GSNR − (required OSNR + penalties + margin); ≥ 0 when feasible.
    pub osnr_margin_db: f64,
    /// `None` when the mode closes the link.
    pub limit: Option<Limit>,
}

impl Verdict {
    pub fn feasible(&self) -> bool {
        self.limit.is_none()
    }

    /// One sentence naming the limiting factor and its numbers.
    pub fn explain(&self) -> String {
        let m = self.mode.name;
        match &self.limit {
            None => format!(
                "{m} closes at GSNR {:.2} dB with {:.2} dB to spare",
                self.budget.gsnr_db(),
                self.osnr_margin_db
            ),
            Some(Limit::Cd {
                cd_ps_nm,
                tolerance_ps_nm,
            }) => format!(
                "CD {} ps/nm exceeds {m}'s {} ps/nm",
                thousands(*cd_ps_nm),
                thousands(*tolerance_ps_nm)
            ),
            Some(Limit::Pmd {
                pmd_ps,
                tolerance_ps,
            }) => format!("PMD {pmd_ps:.1} ps exceeds {m}'s {tolerance_ps:.1} ps"),
            Some(Limit::Pdl { pdl_db, max_db }) => {
                format!("PDL {pdl_db:.1} dB exceeds the {max_db:.1} dB {m} tolerates")
            }
            Some(Limit::Osnr { gsnr_db, needed_db }) => format!(
                "GSNR {gsnr_db:.2} dB (ASE {:.2}, NLI {:.2}) is below the {needed_db:.2} dB {m} needs \
                 ({:.2} required + {:.2} penalties + {:.2} margin)",
                self.budget.ase_osnr_db(),
                self.budget.nli_osnr_db(),
                self.mode.required_osnr_db,
                self.penalty_db,
                self.margin_db
            ),
        }
    }
}

/// Judges `budget` against `mode` with `margin_db` of system margin. Hard
/// limits first (CD, PMD, PDL past their tolerance), then OSNR:
/// GSNR ≥ required + penalties + margin. Penalties are linear up to the
/// mode's figure at its tolerance (the specs state "≤ x dB at y").
pub fn judge(mode: &'static Mode, budget: Budget, margin_db: f64) -> Verdict {
    let cd = budget.cd_ps_nm.abs();
    let cd_pen = (cd <= mode.cd_tolerance_ps_nm)
        .then(|| mode.cd_penalty_db * cd / mode.cd_tolerance_ps_nm.max(f64::MIN_POSITIVE));
    let pmd_pen = (budget.pmd_ps <= mode.pmd_tolerance_ps).then(|| {
        mode.pmd_penalty_db * budget.pmd_ps / mode.pmd_tolerance_ps.max(f64::MIN_POSITIVE)
    });
    let pdl_pen = penalty_at(mode.pdl_penalty, budget.pdl_db);
    let penalty_db = match (cd_pen, pmd_pen, pdl_pen) {
        (Some(a), Some(b), Some(c)) => a + b + c,
        _ => f64::INFINITY,
    };
    let gsnr = budget.gsnr_db();
    let needed = mode.required_osnr_db + penalty_db + margin_db;
    let limit = if cd_pen.is_none() {
        Some(Limit::Cd {
            cd_ps_nm: cd,
            tolerance_ps_nm: mode.cd_tolerance_ps_nm,
        })
    } else if pmd_pen.is_none() {
        Some(Limit::Pmd {
            pmd_ps: budget.pmd_ps,
            tolerance_ps: mode.pmd_tolerance_ps,
        })
    } else if pdl_pen.is_none() {
        Some(Limit::Pdl {
            pdl_db: budget.pdl_db,
            max_db: mode.pdl_penalty.last().map_or(0.0, |p| p.0),
        })
    } else if gsnr < needed {
        Some(Limit::Osnr {
            gsnr_db: gsnr,
            needed_db: needed,
        })
    } else {
        None
    };
    Verdict {
        mode,
        budget,
        penalty_db,
        margin_db,
        osnr_margin_db: gsnr - needed,
        limit,
    }
}

/// 7674.2 → "7,674".
pub fn thousands(x: f64) -> String {
    let n = x.round().abs() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if x < -0.5 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::modes::mode;
    use super::super::plant::FiberPlant;
    use super::*;

    fn zr() -> &'static Mode {
        mode(1).unwrap()
    }

    #[test]
    fn ase_of_one_span_is_the_textbook_58_plus_p_minus_nf_minus_loss() {
        // 80 km at 0.22 dB/km, NF 5.5, 0 dBm: 58 − 5.5 − 17.6 = 34.9 dB; the
        // "58" is −10·log10(h·f·12.5 GHz / 1 mW) = 57.96 dB at 193.1 THz
        let p = FiberPlant::defaults(80.0);
        let cut = Carrier::on_grid(24, zr(), 0.0);
        let nsr = span_ase_nsr(&p, 80.0, &cut);
        let osnr = db(cut.baud_hz / REF_BANDWIDTH_HZ) - db(nsr);
        let hf = PLANCK_J_S * 193.1e12 * REF_BANDWIDTH_HZ / 1e-3;
        assert!((osnr - (-db(hf) - 5.5 - 17.6)).abs() < 1e-9, "{osnr}");
        assert!((osnr - 34.86).abs() < 0.01, "{osnr}");
        // connectors and ageing count as span loss, dB for dB
        let mut aged = p.clone();
        aged.connector_loss_db = 0.5;
        aged.eol_margin_db = 1.5;
        let worse = db(cut.baud_hz / REF_BANDWIDTH_HZ) - db(span_ase_nsr(&aged, 80.0, &cut));
        assert!((osnr - worse - 2.0).abs() < 1e-9);
    }

    #[test]
    fn nli_grows_with_the_cube_of_power_and_with_neighbours() {
        let p = FiberPlant::defaults(80.0);
        let alone = [Carrier::on_grid(32, zr(), 0.0)];
        let spm = span_nli_nsr(&p, 80.0, &alone, &alone[0]);
        assert!(spm > 0.0);
        // NSR ∝ P² (NLI ∝ P³): +3 dB launch is +6 dB NSR
        let hot = [Carrier::on_grid(32, zr(), 3.0)];
        let ratio = db(span_nli_nsr(&p, 80.0, &hot, &hot[0]) / spm);
        assert!((ratio - 6.0).abs() < 0.01, "{ratio}");
        let band = full_band(&[], zr(), 0.0);
        let full = span_nli_nsr(&p, 80.0, &band, &band[32]);
        assert!(full > 3.0 * spm, "{full} vs {spm}");
        // the centre of a full band is hit harder than its edge
        let edge = span_nli_nsr(&p, 80.0, &band, &band[0]);
        assert!(full > edge && edge > spm);
    }

    #[test]
    fn nli_of_a_full_band_on_an_80_km_span_is_tens_of_db_below_the_signal() {
        // Sanity band for 65 × 60 GBd at 0 dBm, 80 km SSMF: NLI OSNR lands in
        // the high 30s, so for one span it costs a few tenths of a dB against
        // 34.9 dB of ASE; the GNPy oracle test pins it to GNPy's number.
        let p = FiberPlant::defaults(80.0);
        let band = full_band(&[], zr(), 0.0);
        let hops = [Hop {
            plant: &p,
            comb: &band,
        }];
        let b = channel_budget(&hops, band[32].frequency_hz, zr(), 0.0);
        let nli = b.nli_osnr_db();
        assert!((33.0..42.0).contains(&nli), "{nli}");
        assert!(b.gsnr_db() < b.ase_osnr_db());
        assert!((b.cd_ps_nm - 1336.0).abs() < 1e-6);
    }

    #[test]
    fn spans_add_incoherently_and_equal_spans_are_counted_once() {
        let p1 = FiberPlant::defaults(80.0);
        let p4 = FiberPlant::defaults(320.0);
        assert_eq!(p4.spans_km, vec![80.0; 4]);
        let band = full_band(&[], zr(), 0.0);
        let f = band[10].frequency_hz;
        let one = channel_budget(
            &[Hop {
                plant: &p1,
                comb: &band,
            }],
            f,
            zr(),
            0.0,
        );
        let four = channel_budget(
            &[Hop {
                plant: &p4,
                comb: &band,
            }],
            f,
            zr(),
            0.0,
        );
        let booster = PLANCK_J_S * f * one.baud_hz * 10f64.powf(0.55) / 1e-3;
        // four times the noise, and a little more: each span's noise weighs
        // against the signal share of the power the amplifiers hold, which
        // shrinks as noise accumulates (1 + NSR so far)
        let ase4 = (four.ase_nsr - booster) / (one.ase_nsr - booster);
        let nli4 = four.nli_nsr / one.nli_nsr;
        assert!(ase4 > 4.0 && ase4 < 4.02, "{ase4}");
        assert!(nli4 > 4.0 && nli4 < 4.02, "{nli4}");
        // the same four spans as four fibers
        let hops: Vec<Hop> = (0..4)
            .map(|_| Hop {
                plant: &p1,
                comb: &band,
            })
            .collect();
        let split = channel_budget(&hops, f, zr(), 0.0);
        assert!((split.nli_nsr - four.nli_nsr).abs() / four.nli_nsr < 1e-12);
        assert!((split.ase_nsr - four.ase_nsr).abs() / four.ase_nsr < 1e-12);
        assert!((split.pmd_ps - four.pmd_ps).abs() < 1e-9);
    }

    #[test]
    fn the_transmitter_and_the_booster_cap_a_short_link() {
        // 1 km: the line adds almost nothing, so GSNR is the transmitter's
        // 34 dB combined with the booster's 58 − 10 − 5.5 ≈ 42.5 dB
        let p = FiberPlant::defaults(1.0);
        let band = [Carrier::on_grid(0, zr(), 0.0)];
        let b = channel_budget(
            &[Hop {
                plant: &p,
                comb: &band,
            }],
            band[0].frequency_hz,
            zr(),
            -10.0,
        );
        // plus the 1 km span's own ASE, 58 − 5.5 − 0.22 dB
        let want = -db(10f64.powf(-3.4) + 10f64.powf(-4.246) + 10f64.powf(-5.228));
        assert!(
            (b.gsnr_db() - want).abs() < 0.05,
            "{} vs {want}",
            b.gsnr_db()
        );
        // a hotter transceiver leaves less booster noise
        let hot = channel_budget(
            &[Hop {
                plant: &p,
                comb: &band,
            }],
            band[0].frequency_hz,
            zr(),
            0.0,
        );
        assert!(hot.gsnr_db() > b.gsnr_db());
    }

    #[test]
    fn verdicts_name_cd_first_then_osnr_with_numbers() {
        let zrp = mode(2).unwrap();
        let p = FiberPlant::defaults(459.5);
        let band = full_band(&[], zr(), 0.0);
        let hops = [Hop {
            plant: &p,
            comb: &band,
        }];
        let b = channel_budget(&hops, band[32].frequency_hz, zr(), -10.0);
        let v = judge(zr(), b, 1.0);
        assert!(!v.feasible());
        assert_eq!(
            v.explain(),
            "CD 7,674 ps/nm exceeds 400ZR's 2,400 ps/nm",
            "{v:?}"
        );
        let bz = channel_budget(&hops, band[32].frequency_hz, zrp, -10.0);
        let vz = judge(zrp, bz, 1.0);
        assert!(vz.feasible(), "{}", vz.explain());
        // penalty: 7,674/20,000 of 0.5 dB CD plus PMD 0.04·√459.5/20 of 0.5 dB
        let want = 0.5 * 7673.65 / 20000.0 + 0.5 * 0.04 * 459.5f64.sqrt() / 20.0;
        assert!((vz.penalty_db - want).abs() < 1e-3, "{}", vz.penalty_db);
        assert!((vz.osnr_margin_db - (bz.gsnr_db() - 24.0 - want - 1.0)).abs() < 1e-3);
        // too much margin asked: OSNR becomes the limit, with its numbers
        let tight = judge(zrp, bz, 10.0);
        let msg = tight.explain();
        assert!(matches!(tight.limit, Some(Limit::Osnr { .. })), "{msg}");
        assert!(
            msg.contains(&format!("{:.2}", bz.gsnr_db())) && msg.contains("24.00"),
            "{msg}"
        );
    }

    #[test]
    fn pmd_and_pdl_limits_apply_where_the_mode_defines_them() {
        let zrp = mode(2).unwrap();
        let mut p = FiberPlant::defaults(400.0);
        p.pdl_db = 3.0;
        let band = full_band(&[], zrp, 0.0);
        let hops = [Hop {
            plant: &p,
            comb: &band,
        }];
        let v = judge(
            zrp,
            channel_budget(&hops, band[5].frequency_hz, zrp, -10.0),
            0.0,
        );
        assert!(v.penalty_db > 1.3 && v.penalty_db < 1.5, "{}", v.penalty_db);
        p.pdl_db = 4.0;
        let hops = [Hop {
            plant: &p,
            comb: &band,
        }];
        let v = judge(
            zrp,
            channel_budget(&hops, band[5].frequency_hz, zrp, -10.0),
            0.0,
        );
        assert!(
            matches!(v.limit, Some(Limit::Pdl { .. })),
            "{}",
            v.explain()
        );
        p.pdl_db = 0.0;
        p.pmd_ps_per_sqrt_km = 2.0; // an old, bad cable: 40 ps over 400 km
        let hops = [Hop {
            plant: &p,
            comb: &band,
        }];
        let v = judge(
            zrp,
            channel_budget(&hops, band[5].frequency_hz, zrp, -10.0),
            0.0,
        );
        assert_eq!(v.explain(), "PMD 40.0 ps exceeds OpenZR+ 400G's 20.0 ps");
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(7674.2), "7,674");
        assert_eq!(thousands(2400.0), "2,400");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }
}
