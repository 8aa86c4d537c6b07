use std::collections::BTreeSet;
use std::net::SocketAddr;

use crate::model::{Endpoint, Layer, Link, Node, Role, Topology};

use super::optical::*;

#[test]
fn channel_index_and_frequency_round_trip() {
    assert_eq!(channel_frequency_mhz(0), 191_300_000);
    assert_eq!(channel_frequency_mhz(24), 193_100_000);
    assert_eq!(channel_frequency_mhz(CHANNEL_COUNT - 1), 196_100_000);
    for i in 0..CHANNEL_COUNT {
        assert_eq!(channel_index(channel_frequency_mhz(i)), Some(i));
    }
    for off_grid in [193_150_000, 191_225_000, 196_175_000, 0, u64::MAX] {
        assert_eq!(channel_index(off_grid), None, "{off_grid}");
    }
}

#[test]
fn spectrum_tracks_channels_per_fiber() {
    let mut s = Spectrum::default();
    let ab = vec!["ab".to_string()];
    let both = vec!["ab".to_string(), "bc".to_string()];
    assert!(s.is_free("ab", 64) && !s.is_free("ab", 65));
    s.occupy(&ab, 0);
    s.occupy(&ab, 64);
    s.occupy(&both, 1);
    assert!(!s.is_free("ab", 0) && !s.is_free("ab", 64) && !s.is_free("bc", 1));
    assert!(s.is_free("bc", 0));
    assert_eq!(s.lit("ab"), 3);
    assert_eq!(s.first_fit(&both), Some(2));
    s.release(&ab, 0);
    assert_eq!(s.first_fit(&both), Some(0));
    for ch in 0..CHANNEL_COUNT {
        s.occupy(&["bc".to_string()], ch);
    }
    assert_eq!(s.first_fit(&both), None);
    assert_eq!(s.first_fit(&ab), Some(0));
}

/// The simulators' formula for one fiber, written out again.
fn textbook(len: f64) -> f64 {
    let n = (len / 80.0).ceil().max(1.0);
    58.0 + 0.0 - 5.5 - (len / n) * 0.22 - 10.0 * n.log10()
}

#[test]
fn osnr_of_one_fiber_is_the_textbook_formula() {
    for len in [
        0.0, 1.0, 60.0, 80.0, 80.5, 160.0, 296.3, 400.0, 1143.4, 3000.0,
    ] {
        let ours = estimated_osnr_db(&[len]);
        assert!((ours - textbook(len)).abs() < 1e-9, "{len}: {ours}");
    }
    // 80 km: 58 − 5.5 − 17.6 = 34.9 dB
    assert!((estimated_osnr_db(&[80.0]) - 34.9).abs() < 1e-9);
}

#[test]
fn osnr_noise_adds_linearly_across_fibers() {
    // two identical 80 km fibers: twice the noise of one, 3.01 dB worse
    let one = estimated_osnr_db(&[80.0]);
    let two = estimated_osnr_db(&[80.0, 80.0]);
    assert!((one - two - 10.0 * 2f64.log10()).abs() < 1e-9);
    // equal to one 160 km fiber cut into two 80 km spans
    assert!((two - estimated_osnr_db(&[160.0])).abs() < 1e-9);
    // unequal spans: 58 − 5.5 − 10·log10(10^1.76 + 2·10^(0.22·50/10))
    let want = 52.5 - 10.0 * (10f64.powf(1.76) + 2.0 * 10f64.powf(1.1)).log10();
    assert!((estimated_osnr_db(&[80.0, 100.0]) - want).abs() < 1e-9);
    assert!(estimated_osnr_db(&[500.0]) > estimated_osnr_db(&[500.0, 10.0]));
}

fn node(name: &str, k: u16) -> Node {
    Node {
        name: name.to_string(),
        role: Role::Optical,
        site: None,
        location: None,
        address: SocketAddr::from(([127, 0, 0, 1], 40_000 + k)),
        router_id: None,
        node_sid: None,
        interfaces: Vec::new(),
        access_interfaces: Vec::new(),
    }
}

fn fiber(name: &str, a: &str, b: &str, km: f64, srlg: u32) -> Link {
    let end = |n: &str| Endpoint {
        node: n.to_string(),
        interface: format!("line-{name}"),
    };
    Link {
        name: name.to_string(),
        a: end(a),
        b: end(b),
        layer: Layer::Fiber,
        length_km: km,
        latency_us: 0,
        capacity_gbps: 0.0,
        te_metric: 0,
        igp_metric: 0,
        srlgs: [srlg].into_iter().collect(),
        admin_groups: BTreeSet::new(),
        rides: Vec::new(),
    }
}

/// a —100— b —100— c, a —400— c, c —3000— d (too long for 400ZR).
fn line() -> FiberGraph {
    FiberGraph::from_topology(&Topology {
        name: "t".into(),
        nodes: ["a", "b", "c", "d"]
            .iter()
            .enumerate()
            .map(|(i, n)| node(n, i as u16))
            .collect(),
        links: vec![
            fiber("ab", "a", "b", 100.0, 1),
            fiber("bc", "b", "c", 100.0, 2),
            fiber("ac", "a", "c", 400.0, 3),
            fiber("cd", "c", "d", 3000.0, 4),
        ],
    })
}

fn none() -> BTreeSet<String> {
    BTreeSet::new()
}

#[test]
fn first_fit_takes_the_lowest_channel_free_on_every_fiber() {
    let g = line();
    let zr = &MODES[0];
    let mut s = Spectrum::default();
    let p = plan_wavelength(&g, &s, "a", "c", zr, 1.0, 3, &none()).unwrap();
    assert_eq!(p.fibers, ["ab", "bc"]);
    assert_eq!(p.nodes, ["a", "b", "c"]);
    assert_eq!((p.channel, p.frequency_mhz), (0, 191_300_000));
    assert!((p.length_km - 200.0).abs() < 1e-9);
    assert!((p.osnr_db - estimated_osnr_db(&[100.0, 100.0])).abs() < 0.006);
    assert_eq!(p.required_osnr_db, 26.0);
    // channels 0-1 lit on ab, 2 on bc: 3 is the first free on both
    s.occupy(&["ab".to_string()], 0);
    s.occupy(&["ab".to_string()], 1);
    s.occupy(&["bc".to_string()], 2);
    let p = plan_wavelength(&g, &s, "a", "c", zr, 1.0, 3, &none()).unwrap();
    assert_eq!((p.fibers.len(), p.channel), (2, 3));
    assert_eq!(p.frequency_mhz, channel_frequency_mhz(3));
    // the reverse direction walks the same fibers backwards
    let back = plan_wavelength(&g, &s, "c", "a", zr, 1.0, 3, &none()).unwrap();
    assert_eq!(
        (back.fibers, back.channel),
        (vec!["bc".to_string(), "ab".into()], 3)
    );
}

#[test]
fn a_full_route_moves_to_the_next_and_then_runs_out_of_spectrum() {
    let g = line();
    let zr = &MODES[0];
    let mut s = Spectrum::default();
    for ch in 0..CHANNEL_COUNT {
        s.occupy(&["bc".to_string()], ch);
    }
    let p = plan_wavelength(&g, &s, "a", "c", zr, 1.0, 3, &none()).unwrap();
    assert_eq!((p.fibers.clone(), p.channel), (vec!["ac".to_string()], 0));
    // k = 1 only tries the shortest route, which is full
    match plan_wavelength(&g, &s, "a", "c", zr, 1.0, 1, &none()) {
        Err(RwaError::NoSpectrum { routes_tried, .. }) => assert_eq!(routes_tried, 1),
        other => panic!("{other:?}"),
    }
    for ch in 0..CHANNEL_COUNT {
        s.occupy(&["ac".to_string()], ch);
    }
    match plan_wavelength(&g, &s, "a", "c", zr, 1.0, 3, &none()) {
        Err(
            e @ RwaError::NoSpectrum {
                routes_tried: 2, ..
            },
        ) => {
            assert!(e.to_string().contains("65 channels"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn down_and_excluded_fibers_are_avoided() {
    let mut g = line();
    let zr = &MODES[0];
    let s = Spectrum::default();
    let excl: BTreeSet<String> = ["ab".to_string()].into_iter().collect();
    let p = plan_wavelength(&g, &s, "a", "c", zr, 0.0, 3, &excl).unwrap();
    assert_eq!(p.fibers, ["ac"]);
    g.set_fiber_up("ac", false);
    assert_eq!(g.fiber_up("ac"), Some(false));
    assert_eq!(g.fiber_srlgs("ac"), [3].into_iter().collect());
    match plan_wavelength(&g, &s, "a", "c", zr, 0.0, 3, &excl) {
        Err(e @ RwaError::NoRoute { .. }) => assert!(e.to_string().contains("1 fibers down")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        plan_wavelength(&g, &s, "a", "zz", zr, 0.0, 3, &excl),
        Err(RwaError::UnknownNode(n)) if n == "zz"
    ));
    assert!(matches!(
        plan_wavelength(&g, &s, "a", "a", zr, 0.0, 3, &excl),
        Err(RwaError::NoRoute { .. })
    ));
}

#[test]
fn an_osnr_shortfall_reports_the_best_route_and_the_numbers() {
    let g = line();
    let s = Spectrum::default();
    let zr = &MODES[0];
    match plan_wavelength(&g, &s, "a", "d", zr, 1.5, 4, &none()) {
        Err(
            e @ RwaError::Infeasible {
                best_osnr_db,
                required_osnr_db,
                margin_db,
                length_km,
            },
        ) => {
            // best route: a-b-c-d, 3200 km
            let want = estimated_osnr_db(&[100.0, 100.0, 3000.0]);
            assert!((best_osnr_db - want).abs() < 1e-9, "{best_osnr_db}");
            assert_eq!((required_osnr_db, margin_db), (26.0, 1.5));
            assert!((length_km - 3200.0).abs() < 1e-9);
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("{want:.2}")) && msg.contains("26.00"),
                "{msg}"
            );
            assert!(msg.contains("3200.0 km") && msg.contains("1.50"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    // a more robust mode closes the same route
    let qpsk = mode(4).unwrap();
    let p = plan_wavelength(&g, &s, "a", "d", qpsk, 1.5, 4, &none()).unwrap();
    assert_eq!(p.fibers, ["ab", "bc", "cd"]);
    assert!(p.osnr_db >= 17.0 + 1.5);
}
