//! A fiber link's `optical:` attributes: checked one by one against ranges a
//! real plant can have (so a typo like a loss of 2.2 dB/km is caught, not
//! planned on), with the defaults of `FiberPlant::defaults` for what is left
//! out. The span plan is either listed or derived from an amplifier spacing.

use super::error::Sink;
use super::file::OpticalFile;
use crate::pathcomp::optical::FiberPlant;

/// How far listed spans may add up away from the link's `length_km`.
const SPAN_SUM_TOLERANCE_KM: f64 = 0.1;

/// The plant of a fiber link of `length_km`, or `None` after reporting what
/// is wrong under `{link_path}.optical`.
pub(super) fn plant(
    o: &OpticalFile,
    length_km: f64,
    link_path: &str,
    sink: &mut Sink,
) -> Option<FiberPlant> {
    let base = format!("{link_path}.optical");
    let before = sink.error_count();
    let mut p = FiberPlant::defaults(length_km);
    if let Some(t) = o.fiber_type {
        p.fiber_type = t;
        p.dispersion_ps_nm_km = t.dispersion_ps_nm_km();
        p.effective_area_um2 = t.effective_area_um2();
    }
    let mut set =
        |key: &str, value: Option<f64>, (lo, hi): (f64, f64), unit: &str, out: &mut f64| {
            if let Some(v) = value {
                if v.is_finite() && (lo..=hi).contains(&v) {
                    *out = v;
                } else {
                    sink.error(
                        format!("{base}.{key}"),
                        format!("must be within {lo}..={hi} {unit}, got {v}"),
                    );
                }
            }
        };
    // Ranges: what deployed fiber and EDFAs span, with room on both sides.
    set(
        "loss_db_per_km",
        o.loss_db_per_km,
        (0.1, 0.5),
        "dB/km",
        &mut p.loss_db_per_km,
    );
    set(
        "dispersion_ps_nm_km",
        o.dispersion_ps_nm_km,
        (0.0, 25.0),
        "ps/nm/km",
        &mut p.dispersion_ps_nm_km,
    );
    set(
        "pmd_ps_per_sqrt_km",
        o.pmd_ps_per_sqrt_km,
        (0.0, 5.0),
        "ps/√km",
        &mut p.pmd_ps_per_sqrt_km,
    );
    set(
        "amp_noise_figure_db",
        o.amp_noise_figure_db,
        (3.0, 12.0),
        "dB",
        &mut p.amp_noise_figure_db,
    );
    set(
        "launch_dbm",
        o.launch_dbm,
        (-10.0, 6.0),
        "dBm per channel",
        &mut p.launch_dbm,
    );
    set(
        "connector_loss_db",
        o.connector_loss_db,
        (0.0, 5.0),
        "dB per span",
        &mut p.connector_loss_db,
    );
    set(
        "eol_margin_db",
        o.eol_margin_db,
        (0.0, 10.0),
        "dB per span",
        &mut p.eol_margin_db,
    );
    set("pdl_db", o.pdl_db, (0.0, 10.0), "dB", &mut p.pdl_db);
    match (&o.spans_km, o.amplifier_spacing_km) {
        (Some(_), Some(_)) => sink.error(
            format!("{base}.amplifier_spacing_km"),
            "give either spans_km or amplifier_spacing_km, not both",
        ),
        (Some(spans), None) => {
            if spans.is_empty() {
                sink.error(format!("{base}.spans_km"), "must list at least one span");
            }
            for (i, s) in spans.iter().enumerate() {
                if !(s.is_finite() && *s > 0.0 && *s <= 200.0) {
                    sink.error(
                        format!("{base}.spans_km[{i}]"),
                        format!("must be within 0..=200 km (an amplified span), got {s}"),
                    );
                }
            }
            let sum: f64 = spans.iter().sum();
            if !spans.is_empty() && (sum - length_km).abs() > SPAN_SUM_TOLERANCE_KM {
                sink.error(
                    format!("{base}.spans_km"),
                    format!("spans add up to {sum} km, not the link's length_km {length_km}"),
                );
            }
            p.spans_km = spans.clone();
        }
        (None, Some(spacing)) => {
            if spacing.is_finite() && spacing > 0.0 && spacing <= 200.0 {
                let n = (length_km / spacing).ceil().max(1.0);
                // `as` saturates; n ≤ length/spacing + 1 and both are bounded
                p.spans_km = vec![length_km / n; n as usize];
            } else {
                sink.error(
                    format!("{base}.amplifier_spacing_km"),
                    format!("must be within 0..=200 km, got {spacing}"),
                );
            }
        }
        (None, None) => {}
    }
    (sink.error_count() == before).then_some(p)
}
