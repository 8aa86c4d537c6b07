//! What a simulated link measures, as plain functions of its attributes and
//! injected faults: packet delay/loss, and the optical channel's OSNR, BER, Q,
//! chromatic dispersion and powers. Deterministic for a given tick, so lab
//! runs and tests are repeatable.

/// Faults injected on a link (any layer).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LinkFault {
    pub extra_delay_us: u32,
    pub loss_percent: f64,
    pub cut: bool,
    pub osnr_penalty_db: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacketReading {
    pub up: bool,
    pub one_way_delay_us: u32,
    pub min_delay_us: u32,
    pub max_delay_us: u32,
    pub delay_variation_us: u32,
    pub loss_percent: f64,
}

/// A cheap deterministic hash → [0, 1) for jitter.
fn unit_noise(seed: u64, tick: u64) -> f64 {
    let mut x = seed ^ tick.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

pub fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Delay and loss a router measures on a packet link: propagation plus injected
/// delay, with a little queueing jitter (≤ 1% + 2 µs); a cut below means 100 % loss.
pub fn packet_reading(
    base_latency_us: u32,
    fault: &LinkFault,
    underlay_cut: bool,
    seed: u64,
    tick: u64,
) -> PacketReading {
    if fault.cut || underlay_cut {
        return PacketReading {
            up: false,
            one_way_delay_us: 0,
            min_delay_us: 0,
            max_delay_us: 0,
            delay_variation_us: 0,
            loss_percent: 100.0,
        };
    }
    let floor = base_latency_us.saturating_add(fault.extra_delay_us);
    let span = (f64::from(floor) * 0.01 + 2.0).round() as u32;
    let jitter = (unit_noise(seed, tick) * f64::from(span)).round() as u32;
    PacketReading {
        up: true,
        one_way_delay_us: floor + jitter,
        min_delay_us: floor,
        max_delay_us: floor + span,
        delay_variation_us: jitter,
        loss_percent: fault.loss_percent.clamp(0.0, 100.0),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpticalReading {
    pub up: bool,
    pub osnr_db: f64,
    pub pre_fec_ber: f64,
    pub q_db: f64,
    pub chromatic_dispersion_ps_nm: f64,
    pub input_power_dbm: f64,
    pub output_power_dbm: f64,
}

pub const SPAN_KM: f64 = 80.0;
pub const FIBER_LOSS_DB_PER_KM: f64 = 0.22;
pub const AMP_NOISE_FIGURE_DB: f64 = 5.5;
pub const DISPERSION_PS_NM_KM: f64 = 17.0;
/// Per-channel launch power into the amplified line.
pub const LINE_LAUNCH_DBM: f64 = 0.0;

/// Amplified spans needed for a fiber of this length.
pub fn span_count(length_km: f64) -> u32 {
    (length_km / SPAN_KM).ceil().max(1.0) as u32
}

/// The textbook ASE-limited OSNR (0.1 nm reference bandwidth) of a chain of
/// identical amplified spans: 58 + P_ch − NF − L_span − 10·log10(N).
pub fn estimated_osnr_db(length_km: f64) -> f64 {
    let n = span_count(length_km);
    let span_loss = (length_km / f64::from(n)) * FIBER_LOSS_DB_PER_KM;
    58.0 + LINE_LAUNCH_DBM - AMP_NOISE_FIGURE_DB - span_loss - 10.0 * f64::from(n).log10()
}

/// erfc by the Abramowitz–Stegun 7.1.26 approximation (|ε| < 1.5e-7).
fn erfc(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let r = poly * (-x * x).exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Pre-FEC BER of DP-16QAM at ~60 GBd given OSNR in 0.1 nm.
pub fn ber_16qam(osnr_db: f64) -> f64 {
    let snr = 10f64.powf(osnr_db / 10.0) * 12.5 / 60.0;
    (0.375 * erfc((snr / 10.0).sqrt())).clamp(1e-15, 0.5)
}

/// Q-factor (dB) equivalent of a BER: Q = √2·erfc⁻¹(2·BER), solved by bisection.
pub fn q_db_from_ber(ber: f64) -> f64 {
    let target = (2.0 * ber).clamp(1e-30, 1.0);
    let (mut lo, mut hi) = (0.0f64, 10.0f64);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if erfc(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let q = (2f64).sqrt() * 0.5 * (lo + hi);
    if q <= 0.0 {
        0.0
    } else {
        20.0 * q.log10()
    }
}

/// What a transponder on a fiber of `length_km` sees when its channel is
/// provisioned at both ends (`provisioned`) and the fiber is intact.
pub fn optical_reading(
    length_km: f64,
    target_power_dbm: f64,
    fault: &LinkFault,
    provisioned: bool,
    seed: u64,
    tick: u64,
) -> OpticalReading {
    let cd = DISPERSION_PS_NM_KM * length_km;
    if fault.cut || !provisioned {
        return OpticalReading {
            up: false,
            osnr_db: 0.0,
            pre_fec_ber: 0.5,
            q_db: 0.0,
            chromatic_dispersion_ps_nm: 0.0,
            input_power_dbm: -40.0,
            output_power_dbm: if provisioned { target_power_dbm } else { -40.0 },
        };
    }
    let wobble = (unit_noise(seed, tick) - 0.5) * 0.2;
    let osnr = (estimated_osnr_db(length_km) - fault.osnr_penalty_db + wobble).max(0.0);
    let ber = ber_16qam(osnr);
    OpticalReading {
        up: true,
        osnr_db: round_to(osnr, 2),
        pre_fec_ber: ber,
        q_db: round_to(q_db_from_ber(ber), 2),
        chromatic_dispersion_ps_nm: round_to(cd, 1),
        // the far-end amplifier chain delivers ~-10 dBm per channel to the receiver
        input_power_dbm: round_to(-10.0 + wobble, 2),
        output_power_dbm: target_power_dbm,
    }
}

pub fn round_to(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The simulated OSNR of one fiber is the ASE term of the controller's
    /// physical-layer model on the same default spans (the simulators leave
    /// out NLI and the transmitter, so a live reading sits above the
    /// planner's GSNR, as a real line's OSNR monitor reads above the GSNR).
    #[test]
    fn osnr_of_one_fiber_is_the_models_ase_term() {
        use strata_core::pathcomp::optical::{mode, span_ase_nsr, Carrier, FiberPlant};
        let zr = mode(1).expect("400ZR");
        for len in [
            0.0, 1.0, 60.0, 80.0, 80.5, 160.0, 296.3, 400.0, 1143.4, 3000.0,
        ] {
            let p = FiberPlant::defaults(len);
            let cut = Carrier::on_grid(24, zr, p.launch_dbm);
            let nsr: f64 = p.spans_km.iter().map(|&s| span_ase_nsr(&p, s, &cut)).sum();
            let model = 10.0 * (cut.baud_hz / 12.5e9).log10() - 10.0 * nsr.log10();
            let simulated = estimated_osnr_db(len);
            // the textbook's "58" is 57.96 dB at 193.1 THz
            assert!(
                (model - simulated).abs() < 0.06,
                "{len}: {model} vs {simulated}"
            );
        }
    }

    #[test]
    fn delay_is_propagation_plus_fault_with_bounded_jitter() {
        let f = LinkFault {
            extra_delay_us: 500,
            ..Default::default()
        };
        for tick in 0..100 {
            let r = packet_reading(1000, &f, false, 7, tick);
            assert!(r.up);
            assert!(
                r.one_way_delay_us >= 1500 && r.one_way_delay_us <= 1500 + 17,
                "{r:?}"
            );
            assert_eq!(r.loss_percent, 0.0);
        }
        assert_eq!(
            packet_reading(1000, &f, false, 7, 3),
            packet_reading(1000, &f, false, 7, 3)
        );
    }

    #[test]
    fn cut_underlay_means_total_loss() {
        let r = packet_reading(1000, &LinkFault::default(), true, 1, 1);
        assert!(!r.up);
        assert_eq!(r.loss_percent, 100.0);
    }

    #[test]
    fn osnr_falls_with_distance_and_ber_rises() {
        let short = estimated_osnr_db(80.0);
        let long = estimated_osnr_db(1200.0);
        assert!(short > long + 10.0, "{short} vs {long}");
        // 80 km: 58 - 5.5 - 17.6 - 0 = 34.9 dB
        assert!((short - 34.9).abs() < 1e-9);
        assert!(ber_16qam(long) > ber_16qam(short));
        assert!(q_db_from_ber(1e-3) > q_db_from_ber(1e-2));
        // Q for BER 1e-3 is about 9.8 dB
        assert!(
            (q_db_from_ber(1e-3) - 9.8).abs() < 0.1,
            "{}",
            q_db_from_ber(1e-3)
        );
    }

    #[test]
    fn osnr_penalty_and_cut_apply() {
        let f = LinkFault {
            osnr_penalty_db: 6.0,
            ..Default::default()
        };
        let base = optical_reading(400.0, -8.0, &LinkFault::default(), true, 1, 1);
        let hit = optical_reading(400.0, -8.0, &f, true, 1, 1);
        assert!((base.osnr_db - hit.osnr_db - 6.0).abs() < 0.05);
        let cut = optical_reading(
            400.0,
            -8.0,
            &LinkFault {
                cut: true,
                ..Default::default()
            },
            true,
            1,
            1,
        );
        assert!(!cut.up);
        assert_eq!(cut.input_power_dbm, -40.0);
    }
}
