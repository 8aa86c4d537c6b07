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
    s.occupy(&ab, 0, 1);
    s.occupy(&ab, 64, 2);
    s.occupy(&both, 1, 5);
    assert!(!s.is_free("ab", 0) && !s.is_free("ab", 64) && !s.is_free("bc", 1));
    assert!(s.is_free("bc", 0));
    assert_eq!(s.lit("ab"), 3);
    assert_eq!(s.carriers("ab"), [(0, 1), (1, 5), (64, 2)]);
    assert_eq!(s.carriers("bc"), [(1, 5)]);
    assert_eq!(s.first_fit(&both), Some(2));
    s.release(&ab, 0);
    assert_eq!(s.carriers("ab"), [(1, 5), (64, 2)]);
    assert_eq!(s.first_fit(&both), Some(0));
    for ch in 0..CHANNEL_COUNT {
        s.occupy(&["bc".to_string()], ch, 1);
    }
    assert_eq!(s.first_fit(&both), None);
    assert_eq!(s.first_fit(&ab), Some(0));
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
        plant: None,
    }
}

/// a —50— b —50— c, a —200— c (past 400ZR's CD tolerance), c —3000— d
/// (long haul: only the slower OpenZR+ modes).
fn line() -> FiberGraph {
    FiberGraph::from_topology(&Topology {
        name: "t".into(),
        nodes: ["a", "b", "c", "d"]
            .iter()
            .enumerate()
            .map(|(i, n)| node(n, i as u16))
            .collect(),
        links: vec![
            fiber("ab", "a", "b", 50.0, 1),
            fiber("bc", "b", "c", 50.0, 2),
            fiber("ac", "a", "c", 200.0, 3),
            fiber("cd", "c", "d", 3000.0, 4),
        ],
    })
}

fn none() -> BTreeSet<String> {
    BTreeSet::new()
}

fn ask<'a>(
    modes: &'a [&'static Mode],
    margin_db: f64,
    k: usize,
    exclude: &'a BTreeSet<String>,
) -> Ask<'a> {
    Ask {
        modes,
        hints: &[],
        tx_power_dbm: -10.0,
        margin_db,
        k,
        exclude_fibers: exclude,
    }
}

fn zr() -> &'static Mode {
    mode(1).unwrap()
}
fn zrp() -> &'static Mode {
    mode(2).unwrap()
}

#[test]
fn first_fit_takes_the_lowest_channel_free_on_every_fiber() {
    let g = line();
    let (none, zr) = (none(), [zr()]);
    let mut s = Spectrum::default();
    let p = plan_wavelength(&g, &s, "a", "c", &ask(&zr, 1.0, 3, &none)).unwrap();
    assert_eq!(p.fibers, ["ab", "bc"]);
    assert_eq!(p.nodes, ["a", "b", "c"]);
    assert_eq!((p.channel, p.frequency_mhz), (0, 191_300_000));
    assert!((p.length_km - 100.0).abs() < 1e-9);
    assert_eq!((p.mode, p.required_osnr_db), (1, 26.0));
    // the planned GSNR is the model's full-band worst case for the route
    let (pab, pbc) = (g.plant("ab").unwrap(), g.plant("bc").unwrap());
    let want = planned(
        &[RouteFiber::new(pab, &[]), RouteFiber::new(pbc, &[])],
        zr[0],
        -10.0,
        1.0,
    );
    assert!((p.osnr_db - want.budget.gsnr_db()).abs() < 0.006);
    assert!((p.planned_margin_db - want.osnr_margin_db).abs() < 0.006);
    assert!(p.planned_margin_db > 0.0);
    // channels 0-1 lit on ab, 2 on bc: 3 is the first free on both
    s.occupy(&["ab".to_string()], 0, 1);
    s.occupy(&["ab".to_string()], 1, 1);
    s.occupy(&["bc".to_string()], 2, 1);
    let p = plan_wavelength(&g, &s, "a", "c", &ask(&zr, 1.0, 3, &none)).unwrap();
    assert_eq!((p.fibers.len(), p.channel), (2, 3));
    assert_eq!(p.frequency_mhz, channel_frequency_mhz(3));
    // the reverse direction walks the same fibers backwards
    let back = plan_wavelength(&g, &s, "c", "a", &ask(&zr, 1.0, 3, &none)).unwrap();
    assert_eq!(
        (back.fibers, back.channel),
        (vec!["bc".to_string(), "ab".into()], 3)
    );
}

#[test]
fn a_full_route_moves_to_the_next_and_then_runs_out_of_spectrum() {
    let g = line();
    let (none, zrp) = (none(), [zrp()]);
    let mut s = Spectrum::default();
    for ch in 0..CHANNEL_COUNT {
        s.occupy(&["bc".to_string()], ch, 2);
    }
    let p = plan_wavelength(&g, &s, "a", "c", &ask(&zrp, 1.0, 3, &none)).unwrap();
    assert_eq!((p.fibers.clone(), p.channel), (vec!["ac".to_string()], 0));
    // k = 1 only tries the shortest route, which is full
    match plan_wavelength(&g, &s, "a", "c", &ask(&zrp, 1.0, 1, &none)) {
        Err(RwaError::NoSpectrum { routes_tried, .. }) => assert_eq!(routes_tried, 1),
        other => panic!("{other:?}"),
    }
    for ch in 0..CHANNEL_COUNT {
        s.occupy(&["ac".to_string()], ch, 2);
    }
    match plan_wavelength(&g, &s, "a", "c", &ask(&zrp, 1.0, 3, &none)) {
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
    let zrp = [zrp()];
    let s = Spectrum::default();
    let excl: BTreeSet<String> = ["ab".to_string()].into_iter().collect();
    let p = plan_wavelength(&g, &s, "a", "c", &ask(&zrp, 0.0, 3, &excl)).unwrap();
    assert_eq!(p.fibers, ["ac"]);
    g.set_fiber_up("ac", false);
    assert_eq!(g.fiber_up("ac"), Some(false));
    assert_eq!(g.fiber_srlgs("ac"), [3].into_iter().collect());
    match plan_wavelength(&g, &s, "a", "c", &ask(&zrp, 0.0, 3, &excl)) {
        Err(e @ RwaError::NoRoute { .. }) => assert!(e.to_string().contains("1 fibers down")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        plan_wavelength(&g, &s, "a", "zz", &ask(&zrp, 0.0, 3, &excl)),
        Err(RwaError::UnknownNode(n)) if n == "zz"
    ));
    assert!(matches!(
        plan_wavelength(&g, &s, "a", "a", &ask(&zrp, 0.0, 3, &excl)),
        Err(RwaError::NoRoute { .. })
    ));
}

#[test]
fn an_explicit_mode_past_its_cd_tolerance_is_refused_with_a_hint() {
    let g = line();
    let s = Spectrum::default();
    let none = none();
    let offered = ranked(&all_mode_ids());
    let excl: BTreeSet<String> = ["ab".to_string()].into_iter().collect();
    let mut a = ask(&[], 1.0, 3, &excl);
    let zr = [zr()];
    a.modes = &zr;
    a.hints = &offered;
    match plan_wavelength(&g, &s, "a", "c", &a) {
        Err(e @ RwaError::Infeasible { .. }) => assert_eq!(
            e.to_string(),
            "on the shortest route (200.0 km) CD 3,340 ps/nm exceeds 400ZR's 2,400 ps/nm; \
             OpenZR+ 400G would fit"
        ),
        other => panic!("{other:?}"),
    }
    // picking among everything offered takes the best that closes
    a.modes = &offered;
    let p = plan_wavelength(&g, &s, "a", "c", &a).unwrap();
    assert_eq!((p.mode, p.fibers.clone()), (2, vec!["ac".to_string()]));
    // with ab usable, 400ZR closes the 100 km route and wins on rate+order
    a.exclude_fibers = &none;
    let p = plan_wavelength(&g, &s, "a", "c", &a).unwrap();
    assert_eq!((p.mode, p.fibers.len()), (1, 2));
}

#[test]
fn a_long_haul_route_gets_the_fastest_mode_that_closes_it() {
    let g = line();
    let s = Spectrum::default();
    let none = none();
    let offered = ranked(&all_mode_ids());
    let mut a = ask(&offered, 1.5, 4, &none);
    a.hints = &offered;
    let p = plan_wavelength(&g, &s, "a", "d", &a).unwrap();
    assert_eq!(p.fibers, ["ab", "bc", "cd"]);
    // the pick is the first mode, best first, that closes on its own
    let alone: Vec<bool> = offered
        .iter()
        .map(|m| plan_wavelength(&g, &s, "a", "d", &ask(&[*m], 1.5, 4, &none)).is_ok())
        .collect();
    let first = alone.iter().position(|&ok| ok).unwrap();
    assert_eq!(p.mode, offered[first].id, "{alone:?}");
    assert!(offered[first].rate_gbps < 400, "{p:?}");
    assert!(p.osnr_db >= p.required_osnr_db + 1.5);
    for m in &offered[..first] {
        let only = [*m];
        let mut a = ask(&only, 1.5, 4, &none);
        a.hints = &offered;
        match plan_wavelength(&g, &s, "a", "d", &a) {
            Err(e @ RwaError::Infeasible { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with("on the shortest route (3100.0 km) "),
                    "{msg}"
                );
                let hint = format!("; {} would fit", offered[first].name);
                assert!(msg.ends_with(&hint), "{msg}");
            }
            other => panic!("{other:?}"),
        }
    }
    // nothing offered closes: the most robust mode's verdict is reported
    let fast = ranked(&[1, 2]);
    match plan_wavelength(&g, &s, "a", "d", &ask(&fast, 1.5, 4, &none)) {
        Err(e @ RwaError::Infeasible { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.ends_with(
                    "none of the 2 modes both transponders offer closes; the most robust, \
                     CD 51,770 ps/nm exceeds OpenZR+ 400G's 20,000 ps/nm"
                ),
                "{msg}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn fiber_attributes_from_the_topology_reach_the_planner() {
    let mut t = Topology {
        name: "t".into(),
        nodes: vec![node("a", 0), node("b", 1)],
        links: vec![fiber("ab", "a", "b", 100.0, 1)],
    };
    let g = FiberGraph::from_topology(&t);
    assert_eq!(g.plant("ab"), Some(&FiberPlant::defaults(100.0)));
    let mut p = FiberPlant::defaults(100.0);
    p.spans_km = vec![60.0, 40.0];
    p.eol_margin_db = 3.0;
    t.links[0].plant = Some(p.clone());
    let g2 = FiberGraph::from_topology(&t);
    assert_eq!(g2.plant("ab"), Some(&p));
    let (s, none, zr) = (Spectrum::default(), none(), [zr()]);
    let plain = plan_wavelength(&g, &s, "a", "b", &ask(&zr, 0.0, 1, &none)).unwrap();
    let aged = plan_wavelength(&g2, &s, "a", "b", &ask(&zr, 0.0, 1, &none)).unwrap();
    assert!(aged.osnr_db < plain.osnr_db - 0.5, "{aged:?} vs {plain:?}");
}
