//! Behaviour of the ingest hot path: prefixes, ordering, batching, interning,
//! and the OpenConfig contract of docs/openconfig.md ("Telemetry the closed
//! loop reads"): IS-IS RFC 8570 sub-TLVs tied to interfaces by link-id and
//! ifindex, interface oper-status, optical-channel state.

use std::net::Ipv4Addr;
use std::sync::Arc;

use super::health::Reading;
use super::openconfig::{self, InstanceKey};
use super::*;
use crate::gnmi::parse_path;
use crate::proto::gnmi::{typed_value::Value as V, Decimal64, Update};

const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 255, 0, 1);
const NEIGHBOR: &str = "0102.5500.0002";
const LSDB: &str = "/network-instances/network-instance[name=DEFAULT]/protocols/protocol[identifier=ISIS][name=default]/isis/levels/level[level-number=2]/link-state-database";

fn upd(path: &str, v: V) -> Update {
    Update {
        path: Some(parse_path(path).unwrap()),
        val: Some(TypedValue { value: Some(v) }),
        ..Default::default()
    }
}

fn note(ts: i64, prefix: Option<&str>, update: Vec<Update>) -> Notification {
    Notification {
        timestamp: ts,
        prefix: prefix.map(|p| parse_path(p).unwrap()),
        update,
        ..Default::default()
    }
}

/// The own LSP's instance `id` towards `NEIGHBOR`.
fn instance(id: u64) -> String {
    instance_of("0102.5500.0001.00-00", NEIGHBOR, id)
}

fn instance_of(lsp: &str, neighbor: &str, id: u64) -> String {
    format!(
        "{LSDB}/lsp[lsp-id={lsp}]/tlvs/tlv[type=EXTENDED_IS_REACHABILITY]/extended-is-reachability/neighbors/neighbor[system-id={neighbor}]/instances/instance[id={id}]"
    )
}

/// A sub-TLV leaf relative to an instance, the type key module-prefixed or not.
fn subtlv(ty: &str, prefixed: bool, leaf: &str) -> String {
    let m = if prefixed {
        "openconfig-isis-lsdb-types:"
    } else {
        ""
    };
    format!("subtlvs/subtlv[type={m}{ty}]/{leaf}")
}

fn link_id(local: u64) -> Update {
    upd(
        &subtlv("IS_REACHABILITY_LINK_ID", true, "link-id/state/local"),
        V::UintVal(local),
    )
}

fn delay(v: V) -> Update {
    upd(
        &subtlv("IS_REACHABILITY_LINK_DELAY", true, "link-delay/state/delay"),
        v,
    )
}

fn loss(v: V) -> Update {
    upd(
        &subtlv(
            "IS_REACHABILITY_LINK_LOSS",
            false,
            "link-loss/state/link-loss",
        ),
        v,
    )
}

/// An interface's ON_CHANGE leaves: ifindex and oper-status.
fn interface(ts: i64, port: &str, ifindex: u64, oper: &str) -> Notification {
    note(
        ts,
        Some(&format!("/interfaces/interface[name={port}]")),
        vec![
            upd("state/ifindex", V::UintVal(ifindex)),
            upd("state/oper-status", V::StringVal(oper.into())),
        ],
    )
}

/// A router's sample of one IS-IS instance, as in pe-state.json: the entry
/// as prefix, the sub-TLV leaves relative.
fn isis_batch(ts: i64, id: u64, local: u64, delay_us: u64) -> Notification {
    note(
        ts,
        Some(&instance(id)),
        vec![
            link_id(local),
            upd(
                &subtlv("IS_REACHABILITY_LINK_ID", true, "link-id/state/remote"),
                V::UintVal(local),
            ),
            delay(V::UintVal(delay_us)),
            upd(
                &subtlv(
                    "IS_REACHABILITY_MIN_MAX_LINK_DELAY",
                    true,
                    "min-max-link-delay/state/min-delay",
                ),
                V::UintVal(delay_us - 12),
            ),
            upd(
                &subtlv(
                    "IS_REACHABILITY_LINK_DELAY_VARIATION",
                    true,
                    "link-delay-variation/state/delay",
                ),
                V::UintVal(9),
            ),
            loss(V::UintVal(0)),
        ],
    )
}

/// An ingest feeding batches, with pe1's router id known and et-0/0/1 at
/// ifindex 1001.
fn router() -> (Ingest, mpsc::Receiver<Vec<PortReading>>) {
    let ingest = Ingest::default();
    let (tx, rx) = mpsc::channel(64);
    ingest.feed_batches(tx);
    ingest.start_session("pe1", Some(ROUTER));
    ingest.on_notification("pe1", &interface(1, "et-0/0/1", 1001, "UP"));
    (ingest, rx)
}

fn got(batch: &[PortReading]) -> Vec<(&str, Reading, i64)> {
    batch
        .iter()
        .map(|r| (&*r.port, r.reading, r.timestamp_ns))
        .collect()
}

fn drain(rx: &mut mpsc::Receiver<Vec<PortReading>>) -> Vec<(String, Reading, i64)> {
    let mut out = Vec::new();
    while let Ok(b) = rx.try_recv() {
        out.extend(
            b.iter()
                .map(|r| (r.port.to_string(), r.reading, r.timestamp_ns)),
        );
    }
    out
}

#[test]
fn system_id_is_the_router_id_in_bcd() {
    assert_eq!(openconfig::system_id(ROUTER), "0102.5500.0001");
    assert_eq!(openconfig::own_lsp_id(ROUTER), "0102.5500.0001.00-00");
    assert_eq!(openconfig::system_id_value(ROUTER), 0x0102_5500_0001);
    let other = Ipv4Addr::new(192, 168, 7, 254);
    assert_eq!(openconfig::system_id(other), "1921.6800.7254");
    assert_eq!(
        openconfig::parse_system_id(&openconfig::system_id(other)),
        Some(openconfig::system_id_value(other))
    );
    assert_eq!(
        openconfig::parse_system_id("0102.5500.000a"),
        openconfig::parse_system_id("0102.5500.000A")
    );
    for bad in ["0102.5500.001", "0102-5500-0001", "0102.5500.000g", ""] {
        assert_eq!(openconfig::parse_system_id(bad), None, "{bad}");
    }
    assert!(openconfig::isis_subtlvs_path(ROUTER)
        .contains("/lsp[lsp-id=0102.5500.0001.00-00]/tlvs/tlv[type=EXTENDED_IS_REACHABILITY]/"));
    assert!(parse_path(&openconfig::isis_subtlvs_path(ROUTER)).is_ok());
}

#[test]
fn isis_delay_and_loss_reach_the_loop_as_readings_of_the_link_id_interface() {
    let (ingest, mut rx) = router();
    assert_eq!(
        got(&rx.try_recv().unwrap()),
        vec![("et-0/0/1", Reading::Up(true), 1)]
    );
    ingest.on_notification("pe1", &isis_batch(10, 1001, 1001, 612));
    let batch = rx.try_recv().expect("one batch for the notification");
    assert_eq!(
        got(&batch),
        vec![
            ("et-0/0/1", Reading::DelayUs(612.0), 10),
            ("et-0/0/1", Reading::LossPercent(0.0), 10),
        ]
    );
    assert!(rx.try_recv().is_err(), "one batch per notification");
    // Every leaf is kept by its full path; min/max and variation are not
    // readings but are there to read.
    let i = instance(1001);
    for (leaf, v) in [
        ("link-delay/state/delay", 612.0),
        ("min-max-link-delay/state/min-delay", 600.0),
        ("link-delay-variation/state/delay", 9.0),
    ] {
        let ty = match leaf.split('/').next().unwrap() {
            "link-delay" => "IS_REACHABILITY_LINK_DELAY",
            "min-max-link-delay" => "IS_REACHABILITY_MIN_MAX_LINK_DELAY",
            _ => "IS_REACHABILITY_LINK_DELAY_VARIATION",
        };
        let path = format!(
            "{}/{}",
            crate::gnmi::format_path(&parse_path(&i).unwrap()),
            subtlv(ty, true, leaf)
        );
        assert_eq!(
            ingest.latest("pe1", &path).map(|s| s.value),
            Some(v),
            "{path}"
        );
    }
    let r = ingest.link_readings("pe1", "et-0/0/1").unwrap();
    assert_eq!(r.delay_us.map(|s| s.value), Some(612.0));
    assert_eq!(r.loss_percent.map(|s| s.value), Some(0.0));
    assert_eq!(r.up, Some((true, 1)));
    assert_eq!(
        ingest.port_of_ifindex("pe1", 1001).as_deref(),
        Some("et-0/0/1")
    );
}

#[test]
fn link_loss_is_in_units_of_0_000003_percent() {
    let (ingest, mut rx) = router();
    drain(&mut rx);
    let n = note(
        5,
        Some(&instance(1)),
        vec![link_id(1001), loss(V::UintVal(333_333))],
    );
    ingest.on_notification("pe1", &n);
    let r = drain(&mut rx);
    let Reading::LossPercent(p) = r[0].1 else {
        panic!("{r:?}")
    };
    assert!((p - 0.999_999).abs() < 1e-9, "{p}");
    // The 24-bit field's largest value is 50.331645 %; more is garbage.
    let n = note(
        6,
        Some(&instance(1)),
        vec![loss(V::UintVal(16_777_215)), loss(V::UintVal(16_777_216))],
    );
    let before = ingest.rejected();
    ingest.on_notification("pe1", &n);
    let r = drain(&mut rx);
    assert_eq!(r.len(), 1);
    let Reading::LossPercent(p) = r[0].1 else {
        panic!("{r:?}")
    };
    assert!((p - 50.331_645).abs() < 1e-6, "{p}");
    assert_eq!(ingest.rejected() - before, 1);
}

#[test]
fn identities_are_accepted_with_or_without_their_module() {
    let variants = [
        ("ISIS", "EXTENDED_IS_REACHABILITY", false),
        (
            "openconfig-policy-types:ISIS",
            "openconfig-isis-lsdb-types:EXTENDED_IS_REACHABILITY",
            true,
        ),
    ];
    for (proto, tlv, prefixed) in variants {
        let path = format!(
            "/network-instances/network-instance[name=DEFAULT]/protocols/protocol[identifier={proto}][name=default]/isis/levels/level[level-number=2]/link-state-database/lsp[lsp-id=0102.5500.0001.00-00]/tlvs/tlv[type={tlv}]/openconfig-isis:extended-is-reachability/neighbors/neighbor[system-id={NEIGHBOR}]/instances/instance[id=7]/{}",
            subtlv("IS_REACHABILITY_LINK_DELAY", prefixed, "link-delay/state/delay")
        );
        let p = parse_path(&path).unwrap();
        let own = openconfig::Own::Is(openconfig::system_id_value(ROUTER));
        assert_eq!(
            openconfig::classify(&[], &p.elem, own),
            Some((
                openconfig::Leaf::Delay,
                openconfig::Site::Instance(InstanceKey {
                    neighbor: 0x0102_5500_0002,
                    id: 7
                })
            )),
            "{path}"
        );
    }
    // A sub-TLV entry whose type contradicts its container is not guessed at.
    let wrong = format!(
        "{}/{}",
        instance(7),
        subtlv("IS_REACHABILITY_LINK_LOSS", true, "link-delay/state/delay")
    );
    let own = openconfig::Own::Is(openconfig::system_id_value(ROUTER));
    assert_eq!(
        openconfig::classify(&[], &parse_path(&wrong).unwrap().elem, own),
        None
    );
    // Oper-status as JSON text, and a DOWN that is a link-down.
    let (ingest, mut rx) = router();
    drain(&mut rx);
    ingest.on_notification(
        "pe1",
        &note(
            2,
            Some("/interfaces/interface[name=et-0/0/1]"),
            vec![upd(
                "state/oper-status",
                V::JsonIetfVal(b"\"DOWN\"".to_vec()),
            )],
        ),
    );
    assert_eq!(
        drain(&mut rx),
        vec![("et-0/0/1".into(), Reading::Up(false), 2)]
    );
}

#[test]
fn numbers_arrive_as_strings_doubles_decimals_or_json() {
    #[allow(deprecated)]
    let decimal = |digits, precision| V::DecimalVal(Decimal64 { digits, precision });
    let encodings = [
        V::StringVal("31.5".into()),
        V::DoubleVal(31.5),
        decimal(315, 1),
        V::JsonIetfVal(b"\"31.5\"".to_vec()),
        V::JsonVal(b"31.5".to_vec()),
    ];
    let ingest = Ingest::default();
    let (tx, mut rx) = mpsc::channel(64);
    ingest.feed_batches(tx);
    for (i, v) in encodings.into_iter().enumerate() {
        let n = note(
            i as i64,
            Some("/components/component[name=och-line-1]"),
            vec![
                upd(
                    "openconfig-terminal-device:optical-channel/state/osnr/instant",
                    v.clone(),
                ),
                upd("optical-channel/state/q-value/instant", v),
            ],
        );
        ingest.on_notification("ot1", &n);
        assert_eq!(
            got(&rx.try_recv().unwrap()),
            vec![("och-line-1", Reading::OsnrDb(31.5), i as i64)],
            "encoding {i}"
        );
        assert_eq!(
            ingest
                .latest(
                    "ot1",
                    "/components/component[name=och-line-1]/optical-channel/state/q-value/instant"
                )
                .map(|s| s.value),
            Some(31.5)
        );
    }
    // Delay and link-id: integers in any of those forms.
    let (ingest, mut rx) = router();
    drain(&mut rx);
    let n = note(
        3,
        Some(&instance(2)),
        vec![
            upd(
                &subtlv("IS_REACHABILITY_LINK_ID", false, "link-id/state/local"),
                V::StringVal("1001".into()),
            ),
            delay(V::JsonIetfVal(b"612".to_vec())),
            delay(decimal(6130, 1)),
            delay(V::StringVal("614".into())),
        ],
    );
    ingest.on_notification("pe1", &n);
    let delays: Vec<_> = drain(&mut rx).into_iter().map(|r| r.1).collect();
    assert_eq!(delays, [612.0, 613.0, 614.0].map(Reading::DelayUs).to_vec());
}

#[test]
fn a_delay_before_its_link_id_waits_for_it_in_the_same_or_a_later_notification() {
    let (ingest, mut rx) = router();
    drain(&mut rx);
    // Same notification, link-id after the delay.
    let n = note(
        5,
        Some(&instance(3)),
        vec![delay(V::UintVal(700)), link_id(1001)],
    );
    ingest.on_notification("pe1", &n);
    assert_eq!(
        drain(&mut rx),
        vec![("et-0/0/1".into(), Reading::DelayUs(700.0), 5)]
    );
    // A later notification: the sample waits (newest value per measure).
    ingest.on_notification(
        "pe1",
        &note(6, Some(&instance(4)), vec![delay(V::UintVal(800))]),
    );
    ingest.on_notification(
        "pe1",
        &note(
            7,
            Some(&instance(4)),
            vec![delay(V::UintVal(810)), loss(V::UintVal(0))],
        ),
    );
    assert!(
        drain(&mut rx).is_empty(),
        "no link known: nothing attributed"
    );
    ingest.on_notification("pe1", &note(8, Some(&instance(4)), vec![link_id(1001)]));
    assert_eq!(
        drain(&mut rx),
        vec![
            ("et-0/0/1".into(), Reading::DelayUs(810.0), 7),
            ("et-0/0/1".into(), Reading::LossPercent(0.0), 7),
        ]
    );
    // Delivered once.
    ingest.on_notification("pe1", &note(9, Some(&instance(4)), vec![link_id(1001)]));
    assert!(drain(&mut rx).is_empty());
}

#[test]
fn a_link_id_naming_an_unknown_ifindex_waits_for_the_interface() {
    let (ingest, mut rx) = router();
    drain(&mut rx);
    ingest.on_notification("pe1", &isis_batch(5, 9, 1002, 450));
    assert!(drain(&mut rx).is_empty());
    ingest.on_notification("pe1", &interface(6, "et-0/0/2", 1002, "UP"));
    // Waiting readings follow the notification that released them (the loop
    // judges a batch at one instant, so order within it does not matter).
    let mut r = drain(&mut rx);
    r.sort_by_key(|r| r.2);
    assert_eq!(
        r,
        vec![
            ("et-0/0/2".into(), Reading::DelayUs(450.0), 5),
            ("et-0/0/2".into(), Reading::LossPercent(0.0), 5),
            ("et-0/0/2".into(), Reading::Up(true), 6),
        ]
    );
}

#[test]
fn only_the_routers_own_lsp_counts_and_only_once_its_id_is_known() {
    let (ingest, mut rx) = router();
    drain(&mut rx);
    // The neighbor's LSP describes the neighbor's links: its ifindex 1001 is
    // not ours.
    let theirs = note(
        5,
        Some(&instance_of("0102.5500.0002.00-00", "0102.5500.0001", 1)),
        vec![link_id(1001), delay(V::UintVal(999))],
    );
    ingest.on_notification("pe1", &theirs);
    // A pseudonode or another fragment is not the LSP of the contract.
    let pseudo = note(
        5,
        Some(&instance_of("0102.5500.0001.01-00", NEIGHBOR, 1)),
        vec![link_id(1001), delay(V::UintVal(999))],
    );
    ingest.on_notification("pe1", &pseudo);
    assert!(drain(&mut rx).is_empty());
    // A device whose router id is unknown attributes nothing.
    let ingest = Ingest::default();
    let (tx, mut rx) = mpsc::channel(8);
    ingest.feed_batches(tx);
    ingest.on_notification("pe9", &interface(1, "et-0/0/1", 1001, "UP"));
    ingest.on_notification("pe9", &isis_batch(2, 1, 1001, 612));
    assert_eq!(
        drain(&mut rx),
        vec![("et-0/0/1".into(), Reading::Up(true), 1)]
    );
}

#[test]
fn an_ifindex_that_moves_to_another_interface_moves_its_readings() {
    let (ingest, mut rx) = router();
    ingest.on_notification("pe1", &isis_batch(5, 1, 1001, 600));
    ingest.on_notification("pe1", &interface(6, "et-0/0/9", 1001, "UP"));
    ingest.on_notification("pe1", &isis_batch(7, 1, 1001, 601));
    let ports: Vec<_> = drain(&mut rx)
        .into_iter()
        .filter(|r| matches!(r.1, Reading::DelayUs(_)))
        .map(|r| r.0)
        .collect();
    assert_eq!(ports, ["et-0/0/1", "et-0/0/9"]);
    assert_eq!(
        ingest.port_of_ifindex("pe1", 1001).as_deref(),
        Some("et-0/0/9")
    );
}

#[test]
fn a_new_session_forgets_the_numbering_of_the_last() {
    let (ingest, mut rx) = router();
    ingest.on_notification("pe1", &isis_batch(5, 1, 1001, 600));
    drain(&mut rx);
    ingest.start_session("pe1", Some(ROUTER));
    ingest.on_notification("pe1", &isis_batch(6, 1, 1001, 601));
    assert!(drain(&mut rx).is_empty(), "ifindex 1001 not yet re-learnt");
    ingest.on_notification("pe1", &interface(7, "et-0/0/1", 1001, "UP"));
    assert_eq!(drain(&mut rx).len(), 3);
}

#[test]
fn deleted_instances_and_interfaces_are_forgotten_with_their_paths() {
    let (ingest, mut rx) = router();
    ingest.on_notification("pe1", &isis_batch(5, 1, 1001, 600));
    drain(&mut rx);
    let delay_path = format!(
        "{}/{}",
        crate::gnmi::format_path(&parse_path(&instance(1)).unwrap()),
        subtlv("IS_REACHABILITY_LINK_DELAY", true, "link-delay/state/delay")
    );
    assert!(ingest.latest("pe1", &delay_path).is_some());
    let mut del = note(6, None, vec![]);
    del.delete = vec![parse_path(&instance(1)).unwrap()];
    ingest.on_notification("pe1", &del);
    assert_eq!(ingest.latest("pe1", &delay_path), None);
    // The instance id comes back without a link-id: not attributed to the
    // link it had before.
    ingest.on_notification(
        "pe1",
        &note(7, Some(&instance(1)), vec![delay(V::UintVal(650))]),
    );
    assert!(drain(&mut rx).is_empty());
    // A deleted interface no longer names its ifindex.
    let mut del = note(8, Some("/interfaces"), vec![]);
    del.delete = vec![parse_path("interface[name=et-0/0/1]").unwrap()];
    ingest.on_notification("pe1", &del);
    assert_eq!(ingest.port_of_ifindex("pe1", 1001), None);
    // A link-id sub-TLV withdrawn: the instance waits again.
    ingest.on_notification("pe1", &interface(9, "et-0/0/1", 1001, "UP"));
    ingest.on_notification("pe1", &isis_batch(10, 2, 1001, 600));
    drain(&mut rx);
    let mut del = note(11, Some(&instance(2)), vec![delay(V::UintVal(601))]);
    del.delete = vec![parse_path(&subtlv("IS_REACHABILITY_LINK_ID", false, "")).unwrap()];
    ingest.on_notification("pe1", &del);
    assert!(drain(&mut rx).is_empty());
}

#[test]
fn instances_are_bounded_by_the_interface_count() {
    let (ingest, mut rx) = router();
    let total = links::MIN_INSTANCES + 50;
    for id in 0..total as u64 {
        ingest.on_notification(
            "pe1",
            &note(
                id as i64 + 2,
                Some(&instance(id)),
                vec![delay(V::UintVal(1))],
            ),
        );
    }
    let d = ingest.device("pe1");
    let kept = d.lock().links.instances();
    assert_eq!(kept, links::MIN_INSTANCES);
    assert_eq!(d.lock().links.interfaces(), 1);
    // The oldest went, with their paths.
    let oldest = format!(
        "{}/{}",
        crate::gnmi::format_path(&parse_path(&instance(0)).unwrap()),
        subtlv("IS_REACHABILITY_LINK_DELAY", true, "link-delay/state/delay")
    );
    assert_eq!(ingest.latest("pe1", &oldest), None);
    // The newest still get their link when it comes.
    let last = total as u64 - 1;
    ingest.on_notification(
        "pe1",
        &note(10_000, Some(&instance(last)), vec![link_id(1001)]),
    );
    assert!(drain(&mut rx).iter().any(|r| r.1 == Reading::DelayUs(1.0)));
}

#[test]
fn a_root_or_target_only_prefix_adds_nothing_to_the_path() {
    let ingest = Ingest::default();
    let n = Notification {
        timestamp: 1,
        prefix: Some(Path {
            target: "pe1".into(),
            ..Default::default()
        }),
        update: vec![upd(
            "/interfaces/interface[name=x]/state/counters/in-octets",
            V::UintVal(7),
        )],
        ..Default::default()
    };
    ingest.on_notification("pe1", &n);
    assert_eq!(
        ingest
            .latest(
                "pe1",
                "/interfaces/interface[name=x]/state/counters/in-octets"
            )
            .map(|s| s.value),
        Some(7.0)
    );
}

#[test]
fn older_samples_are_counted_stale_and_change_nothing() {
    let (ingest, mut rx) = router();
    drain(&mut rx);
    ingest.on_notification("pe1", &isis_batch(200, 1, 1001, 300));
    ingest.on_notification("pe1", &isis_batch(100, 1, 1001, 9_999));
    let delay_path = format!(
        "{}/{}",
        crate::gnmi::format_path(&parse_path(&instance(1)).unwrap()),
        subtlv("IS_REACHABILITY_LINK_DELAY", true, "link-delay/state/delay")
    );
    assert_eq!(
        ingest.latest("pe1", &delay_path).map(|s| s.value),
        Some(300.0)
    );
    assert_eq!(ingest.stale(), 6);
    assert!(rx.try_recv().is_ok());
    assert!(rx.try_recv().is_err(), "nothing stale reaches the loop");
    // The same timestamp again is not out of order.
    ingest.on_notification("pe1", &isis_batch(200, 1, 1001, 310));
    assert_eq!(
        ingest.latest("pe1", &delay_path).map(|s| s.value),
        Some(310.0)
    );
    assert_eq!(ingest.stale(), 6);
}

#[test]
fn a_full_batch_queue_refuses_the_whole_batch_and_counts_each_reading() {
    let ingest = Ingest::default();
    let (tx, mut rx) = mpsc::channel(1);
    ingest.feed_batches(tx);
    ingest.start_session("pe1", Some(ROUTER));
    ingest.on_notification("pe1", &interface(1, "et-0/0/1", 1001, "UP"));
    ingest.on_notification("pe1", &isis_batch(2, 1, 1001, 300));
    assert_eq!(ingest.rejected(), 2);
    let first = rx.try_recv().unwrap();
    assert_eq!(first[0].reading, Reading::Up(true));
}

#[test]
fn bad_values_are_refused_but_good_ones_of_the_same_notification_go_through() {
    let (ingest, mut rx) = router();
    drain(&mut rx);
    let mut n = isis_batch(2, 1, 1001, 300);
    n.update.push(loss(V::DoubleVal(f64::NAN)));
    n.update.push(delay(V::IntVal(-5)));
    n.update.push(delay(V::StringVal("soon".into())));
    n.update.push(Update::default());
    ingest.on_notification("pe1", &n);
    assert_eq!((ingest.rejected(), ingest.dropped()), (3, 1));
    assert_eq!(rx.try_recv().unwrap().len(), 2);
}

#[test]
fn ports_and_devices_are_interned_across_notifications() {
    let (ingest, mut rx) = router();
    let up = rx.try_recv().unwrap();
    ingest.on_notification("pe1", &isis_batch(2, 1, 1001, 300));
    ingest.on_notification("pe1", &isis_batch(3, 1, 1001, 300));
    let (a, b) = (rx.try_recv().unwrap(), rx.try_recv().unwrap());
    assert!(Arc::ptr_eq(&a[0].port, &b[0].port));
    assert!(Arc::ptr_eq(&up[0].port, &b[1].port));
    assert!(Arc::ptr_eq(&a[0].device, &b[1].device));
    assert!(Arc::ptr_eq(&ingest.device("pe1"), &ingest.device("pe1")));
}

#[test]
fn the_classifier_joins_prefix_and_path_at_any_split() {
    let own = openconfig::Own::Is(openconfig::system_id_value(ROUTER));
    let osnr = parse_path(
        "/components/component[name=och-1]/openconfig-terminal-device:optical-channel/state/osnr/instant",
    )
    .unwrap();
    let isis = parse_path(&format!(
        "{}/{}",
        instance(5),
        subtlv("IS_REACHABILITY_LINK_ID", true, "link-id/state/local")
    ))
    .unwrap();
    let key = InstanceKey {
        neighbor: 0x0102_5500_0002,
        id: 5,
    };
    for (full, want) in [
        (
            &osnr,
            (openconfig::Leaf::Osnr, openconfig::Site::Port("och-1")),
        ),
        (
            &isis,
            (openconfig::Leaf::LinkId, openconfig::Site::Instance(key)),
        ),
    ] {
        for split in 0..=full.elem.len() {
            let (prefix, path) = full.elem.split_at(split);
            assert_eq!(
                openconfig::classify(prefix, path, own),
                Some(want),
                "split {split}"
            );
        }
    }
    let counters = parse_path("/interfaces/interface[name=x]/state/counters/in-octets").unwrap();
    assert_eq!(openconfig::classify(&[], &counters.elem, own), None);
    let nameless = parse_path("/interfaces/interface/state/oper-status").unwrap();
    assert_eq!(openconfig::classify(&[], &nameless.elem, own), None);
}

#[test]
fn the_stateless_classifier_judges_any_leaf_of_the_contract() {
    let tv = |v: V| TypedValue { value: Some(v) };
    let d = parse_path(&format!(
        "{}/{}",
        instance_of("0102.5500.0009.00-00", NEIGHBOR, 1),
        subtlv(
            "IS_REACHABILITY_LINK_DELAY",
            false,
            "link-delay/state/delay"
        )
    ))
    .unwrap();
    assert_eq!(
        reading(&d, &tv(V::UintVal(300))),
        Some(Ok(Reading::DelayUs(300.0)))
    );
    assert!(matches!(reading(&d, &tv(V::IntVal(-1))), Some(Err(_))));
    let ifindex = parse_path("/interfaces/interface[name=x]/state/ifindex").unwrap();
    assert_eq!(reading(&ifindex, &tv(V::UintVal(1))), None);
}

#[test]
fn a_router_is_asked_for_its_own_lsp_and_its_ifindexes() {
    use crate::model::Role;
    use crate::render::openconfig::telemetry::subscriptions as telemetry_paths;
    let (sampled, on_change) = telemetry_paths(Role::Packet, Some(ROUTER));
    assert_eq!(sampled[0], openconfig::isis_subtlvs_path(ROUTER));
    assert!(on_change.contains(&"/interfaces/interface/state/ifindex".to_string()));
    assert!(on_change.contains(&"/interfaces/interface/state/oper-status".to_string()));
    let every = sampled.iter().chain(&on_change);
    assert!(every.clone().all(|p| parse_path(p).is_ok()));
    assert!(every.clone().all(|p| !p.contains("link-performance")));
    let (sampled, _) = telemetry_paths(Role::Packet, None);
    assert!(sampled.iter().all(|p| !p.contains("isis")));
    // What the subscription names is what the classifier takes.
    let own = openconfig::Own::Is(openconfig::system_id_value(ROUTER));
    let leaf = parse_path(&format!(
        "{}/link-delay/state/delay",
        openconfig::isis_subtlvs_path(ROUTER)
            .replace("[system-id=*]", &format!("[system-id={NEIGHBOR}]"))
            .replace("[id=*]", "[id=3]")
            .replace("[type=*]", "[type=IS_REACHABILITY_LINK_DELAY]")
    ))
    .unwrap();
    assert!(matches!(
        openconfig::classify(&[], &leaf.elem, own),
        Some((openconfig::Leaf::Delay, _))
    ));
}
