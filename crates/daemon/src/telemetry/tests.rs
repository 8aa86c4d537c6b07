//! Behaviour of the ingest hot path: prefixes, ordering, batching, interning.

use std::sync::Arc;

use super::health::Reading;
use super::*;
use crate::gnmi::parse_path;
use crate::proto::gnmi::{typed_value::Value as V, Update};

fn upd(path: &str, v: V) -> Update {
    Update {
        path: Some(parse_path(path).unwrap()),
        val: Some(TypedValue { value: Some(v) }),
        ..Default::default()
    }
}

/// A router's batch for one interface: the entry as prefix, leaves relative.
fn port_batch(port: &str, ts: i64, delay: u64) -> Notification {
    Notification {
        timestamp: ts,
        prefix: Some(parse_path(&format!("/interfaces/interface[name={port}]")).unwrap()),
        update: vec![
            upd("link-performance/state/one-way-delay", V::UintVal(delay)),
            upd("link-performance/state/loss-percent", V::DoubleVal(0.0)),
            upd("state/counters/in-octets", V::UintVal(42)),
            upd("state/oper-status", V::StringVal("UP".into())),
        ],
        ..Default::default()
    }
}

#[test]
fn prefixed_updates_are_stored_and_classified_as_full_paths() {
    let ingest = Ingest::default();
    let (tx, mut rx) = mpsc::channel(8);
    ingest.feed_batches(tx);
    ingest.on_notification("pe1", &port_batch("et-0/0/1", 10, 300));
    let delay = "/interfaces/interface[name=et-0/0/1]/link-performance/state/one-way-delay";
    assert_eq!(
        ingest.latest("pe1", delay),
        Some(Sample {
            value: 300.0,
            timestamp_ns: 10
        })
    );
    assert_eq!(
        ingest
            .latest(
                "pe1",
                "/interfaces/interface[name=et-0/0/1]/state/counters/in-octets"
            )
            .map(|s| s.value),
        Some(42.0)
    );
    // Strings count as samples but are not numbers to keep.
    assert_eq!(ingest.samples(), 4);
    assert_eq!(
        ingest.latest(
            "pe1",
            "/interfaces/interface[name=et-0/0/1]/state/oper-status"
        ),
        None
    );
    let batch = rx.try_recv().expect("one batch for the notification");
    let got: Vec<_> = batch
        .iter()
        .map(|r| (&*r.device, &*r.port, r.reading))
        .collect();
    assert_eq!(
        got,
        vec![
            ("pe1", "et-0/0/1", Reading::DelayUs(300.0)),
            ("pe1", "et-0/0/1", Reading::LossPercent(0.0)),
            ("pe1", "et-0/0/1", Reading::Up(true)),
        ]
    );
    assert!(rx.try_recv().is_err(), "one batch per notification");
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
    let ingest = Ingest::default();
    let (tx, mut rx) = mpsc::channel(8);
    ingest.feed_batches(tx);
    ingest.on_notification("pe1", &port_batch("et-1", 200, 300));
    ingest.on_notification("pe1", &port_batch("et-1", 100, 9_999));
    let delay = "/interfaces/interface[name=et-1]/link-performance/state/one-way-delay";
    assert_eq!(ingest.latest("pe1", delay).map(|s| s.value), Some(300.0));
    assert_eq!(ingest.stale(), 4);
    assert_eq!(ingest.samples(), 4);
    assert!(rx.try_recv().is_ok());
    assert!(rx.try_recv().is_err(), "nothing stale reaches the loop");
    // The same timestamp again is not out of order.
    ingest.on_notification("pe1", &port_batch("et-1", 200, 310));
    assert_eq!(ingest.latest("pe1", delay).map(|s| s.value), Some(310.0));
    assert_eq!(ingest.stale(), 4);
    // Another device keeps its own order.
    ingest.on_notification("pe2", &port_batch("et-1", 100, 500));
    assert_eq!(ingest.latest("pe2", delay).map(|s| s.value), Some(500.0));
}

#[test]
fn a_full_batch_queue_refuses_the_whole_batch_and_counts_each_reading() {
    let ingest = Ingest::default();
    let (tx, mut rx) = mpsc::channel(1);
    ingest.feed_batches(tx);
    ingest.on_notification("pe1", &port_batch("et-1", 1, 300));
    ingest.on_notification("pe1", &port_batch("et-1", 2, 301));
    assert_eq!(ingest.rejected(), 3);
    let first = rx.try_recv().unwrap();
    assert_eq!(first[0].reading, Reading::DelayUs(300.0));
}

#[test]
fn bad_values_are_refused_but_good_ones_of_the_same_notification_go_through() {
    let ingest = Ingest::default();
    let (tx, mut rx) = mpsc::channel(8);
    ingest.feed_batches(tx);
    let mut n = port_batch("et-1", 1, 300);
    n.update[1] = upd(
        "link-performance/state/loss-percent",
        V::DoubleVal(f64::NAN),
    );
    n.update.push(Update::default());
    ingest.on_notification("pe1", &n);
    assert_eq!((ingest.rejected(), ingest.dropped()), (1, 1));
    let batch = rx.try_recv().unwrap();
    assert_eq!(batch.len(), 2);
}

#[test]
fn ports_and_devices_are_interned_across_notifications() {
    let ingest = Ingest::default();
    let (tx, mut rx) = mpsc::channel(8);
    ingest.feed_batches(tx);
    ingest.on_notification("pe1", &port_batch("et-1", 1, 300));
    ingest.on_notification("pe1", &port_batch("et-1", 2, 300));
    let (a, b) = (rx.try_recv().unwrap(), rx.try_recv().unwrap());
    assert!(Arc::ptr_eq(&a[0].port, &b[0].port));
    assert!(Arc::ptr_eq(&a[0].device, &b[2].device));
    assert!(Arc::ptr_eq(&ingest.device("pe1"), &ingest.device("pe1")));
}

#[test]
fn the_classifier_joins_prefix_and_path_at_any_split() {
    let full =
        parse_path("/components/component[name=och-1]/optical-channel/state/osnr/instant").unwrap();
    for split in 0..=full.elem.len() {
        let (prefix, path) = full.elem.split_at(split);
        assert_eq!(
            classify(prefix, path),
            Some((Leaf::Osnr, "och-1")),
            "split {split}"
        );
    }
    let counters = parse_path("/interfaces/interface[name=x]/state/counters/in-octets").unwrap();
    assert_eq!(classify(&[], &counters.elem), None);
    let nameless = parse_path("/interfaces/interface/state/oper-status").unwrap();
    assert_eq!(classify(&[], &nameless.elem), None);
}
