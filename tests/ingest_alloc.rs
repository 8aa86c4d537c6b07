//! The ingest hot path allocates per notification, never per sample: once a
//! device's paths are known, a notification costs at most one allocation (the
//! batch of readings for the closed loop), however many updates it carries.
//! Counted with a counting allocator (this test binary only), so a change that
//! brings back a String per sample fails here rather than in a benchmark.
//! Built without `--features alloc-count`, whose counting allocator would be a
//! second global allocator in this binary.
#![cfg(not(feature = "alloc-count"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::Ipv4Addr;

use strata::gnmi::parse_path;
use strata::proto::gnmi::{typed_value::Value as V, Notification, TypedValue, Update};
use strata::telemetry::Ingest;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made on this thread while `f` runs.
fn allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

const INSTANCE: &str = "/network-instances/network-instance[name=DEFAULT]/protocols/protocol[identifier=ISIS][name=default]/isis/levels/level[level-number=2]/link-state-database/lsp[lsp-id=0102.5500.0001.00-00]/tlvs/tlv[type=EXTENDED_IS_REACHABILITY]/extended-is-reachability/neighbors/neighbor[system-id=0102.5500.0002]/instances/instance[id=1]";

fn upd(p: &str, v: V) -> Update {
    Update {
        path: Some(parse_path(p).unwrap()),
        val: Some(TypedValue { value: Some(v) }),
        ..Default::default()
    }
}

/// One IS-IS instance's batch, as a router streams its own LSP: link-id,
/// delay and loss (two readings) plus 47 other sub-TLV leaves, all under the
/// instance as prefix.
fn port_batch(ts: i64) -> Notification {
    let mut update = vec![
        upd(
            "subtlvs/subtlv[type=IS_REACHABILITY_LINK_ID]/link-id/state/local",
            V::UintVal(1001),
        ),
        upd(
            "subtlvs/subtlv[type=IS_REACHABILITY_LINK_DELAY]/link-delay/state/delay",
            V::UintVal(300),
        ),
        upd(
            "subtlvs/subtlv[type=IS_REACHABILITY_LINK_LOSS]/link-loss/state/link-loss",
            V::UintVal(0),
        ),
    ];
    update.extend((0..47).map(|i| {
        upd(
            &format!("subtlvs/subtlv[type=IS_REACHABILITY_MIN_MAX_LINK_DELAY]/min-max-link-delay/state/c{i}"),
            V::UintVal(i),
        )
    }));
    Notification {
        timestamp: ts,
        prefix: Some(parse_path(INSTANCE).unwrap()),
        update,
        ..Default::default()
    }
}

/// The router's interface et-0/0/1 is ifindex 1001.
fn router(feed: Option<tokio::sync::mpsc::Sender<Vec<strata::telemetry::PortReading>>>) -> Ingest {
    let ingest = Ingest::default();
    if let Some(tx) = feed {
        ingest.feed_batches(tx);
    }
    ingest.start_session("pe1", Some(Ipv4Addr::new(10, 255, 0, 1)));
    let ifindex = Notification {
        timestamp: 0,
        prefix: Some(parse_path("/interfaces/interface[name=et-0/0/1]").unwrap()),
        update: vec![upd("state/ifindex", V::UintVal(1001))],
        ..Default::default()
    };
    ingest.on_notification("pe1", &ifindex);
    ingest
}

#[test]
fn known_paths_cost_one_allocation_per_notification_not_per_sample() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let ingest = router(Some(tx));
    ingest.on_notification("pe1", &port_batch(1));
    let batches: Vec<_> = (2..12).map(port_batch).collect();
    let cost = allocations(|| {
        for n in &batches {
            ingest.on_notification("pe1", n);
        }
    });
    assert_eq!(ingest.samples(), 1 + 11 * 50);
    assert!(
        cost <= batches.len() as u64,
        "{cost} allocations for {} notifications of 50 samples",
        batches.len()
    );
    let mut readings = 0;
    while let Ok(b) = rx.try_recv() {
        readings += b.len();
    }
    assert_eq!(readings, 11 * 2);
}

#[test]
fn without_a_closed_loop_known_paths_allocate_nothing() {
    let ingest = router(None);
    ingest.on_notification("pe1", &port_batch(1));
    let n = port_batch(2);
    assert_eq!(allocations(|| ingest.on_notification("pe1", &n)), 0);
    assert_eq!(
        ingest
            .latest(
                "pe1",
                &format!(
                    "{INSTANCE}/subtlvs/subtlv[type=IS_REACHABILITY_MIN_MAX_LINK_DELAY]/min-max-link-delay/state/c7"
                )
            )
            .map(|s| (s.value, s.timestamp_ns)),
        Some((7.0, 2))
    );
}
