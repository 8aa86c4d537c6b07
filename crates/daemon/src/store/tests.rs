use super::*;
use crate::proto::strata::store::v1::{PolicyRecord, ServiceRecord};
use crate::proto::strata::v1 as api;

fn policy(id: &str, revision: u64, name: &str) -> Entry {
    Entry {
        next_id: revision,
        op: Some(Op::Policy(PolicyRecord {
            policy: Some(api::Policy {
                id: id.into(),
                revision,
                spec: Some(api::PolicySpec {
                    name: name.into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        })),
    }
}

fn service(id: &str, revision: u64) -> Entry {
    Entry {
        next_id: revision,
        op: Some(Op::Service(ServiceRecord {
            service: Some(api::Service {
                id: id.into(),
                revision,
                evi: 1000 + revision as u32,
                ..Default::default()
            }),
            ..Default::default()
        })),
    }
}

fn removed(kind: Kind, id: &str, revision: u64) -> Entry {
    Entry {
        next_id: revision,
        op: Some(Op::Removed(Removed {
            kind: kind as i32,
            id: id.into(),
            revision,
        })),
    }
}

fn ids(r: &Replayed) -> Vec<String> {
    r.entries
        .iter()
        .map(|e| match &e.op {
            Some(Op::Policy(p)) => p.policy.as_ref().unwrap().id.clone(),
            Some(Op::Service(s)) => s.service.as_ref().unwrap().id.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn committed_entries_survive_a_reopen_in_first_written_order() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, replayed) = Store::open(dir.path()).unwrap();
        assert!(replayed.entries.is_empty());
        block_on(async {
            store.commit(&[policy("pol-1", 1, "a")]).await.unwrap();
            store
                .commit(&[policy("pol-2", 2, "b"), service("svc-3", 3)])
                .await
                .unwrap();
            // A later value of pol-1 keeps its place in the order.
            store.commit(&[policy("pol-1", 4, "a2")]).await.unwrap();
            store
                .commit(&[removed(Kind::Policy, "pol-2", 5)])
                .await
                .unwrap();
        });
    }
    let (_store, replayed) = Store::open(dir.path()).unwrap();
    assert_eq!(ids(&replayed), ["pol-1", "svc-3"]);
    let Some(Op::Policy(p)) = &replayed.entries[0].op else {
        panic!()
    };
    assert_eq!(p.policy.as_ref().unwrap().spec.as_ref().unwrap().name, "a2");
    assert_eq!(replayed.revision, 5, "a removal's revision still counts");
    assert_eq!(replayed.next_id, 5);
    assert_eq!(replayed.recovery.problem, None);
    assert_eq!(replayed.recovery.frames, 5);
}

#[test]
fn a_second_process_cannot_open_the_same_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, _) = Store::open(dir.path()).unwrap();
    assert!(matches!(
        Store::open(dir.path()),
        Err(StoreError::Locked(_))
    ));
}

#[test]
fn a_corrupt_tail_is_reported_saved_and_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, _) = Store::open(dir.path()).unwrap();
        block_on(async {
            for i in 1..=3 {
                store
                    .commit(&[service(&format!("svc-{i}"), i)])
                    .await
                    .unwrap();
            }
        });
    }
    let path = dir.path().join(JOURNAL);
    let good = std::fs::read(&path).unwrap();
    // A torn write: half of a fourth frame.
    let mut torn = good.clone();
    let mut frame = Vec::new();
    frame::encode(&service("svc-4", 4).encode_to_vec(), &mut frame);
    torn.extend_from_slice(&frame[..frame.len() / 2]);
    std::fs::write(&path, &torn).unwrap();
    {
        let (store, replayed) = Store::open(dir.path()).unwrap();
        assert_eq!(ids(&replayed), ["svc-1", "svc-2", "svc-3"]);
        let r = &replayed.recovery;
        assert!(r.problem.as_ref().unwrap().contains("torn frame"), "{r:?}");
        assert_eq!(r.valid_bytes, good.len() as u64);
        assert_eq!(r.discarded_bytes, (frame.len() / 2) as u64);
        let saved = std::fs::read(r.saved_tail.as_ref().unwrap()).unwrap();
        assert_eq!(saved, frame[..frame.len() / 2]);
        // Writing goes on from the end of the valid prefix.
        block_on(store.commit(&[service("svc-5", 5)])).unwrap();
    }
    let (_store, replayed) = Store::open(dir.path()).unwrap();
    assert_eq!(ids(&replayed), ["svc-1", "svc-2", "svc-3", "svc-5"]);
    assert_eq!(replayed.recovery.problem, None);

    // A flipped bit in the middle keeps the frames before it.
    drop(_store);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = good.len() - 3;
    bytes[mid] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let (_store, replayed) = Store::open(dir.path()).unwrap();
    assert_eq!(ids(&replayed), ["svc-1", "svc-2"]);
    assert!(replayed
        .recovery
        .problem
        .as_ref()
        .unwrap()
        .contains("checksum"));
}

#[test]
fn queued_records_reach_disk_by_the_next_commit_and_compaction_keeps_live_values() {
    let dir = tempfile::tempdir().unwrap();
    let big = "x".repeat(4096);
    {
        let (store, _) = Store::open(dir.path()).unwrap();
        // Rewrites of a few keys: far more bytes than live values, so the
        // writer compacts along the way.
        for i in 1..=3000u64 {
            store
                .record(&[policy(&format!("pol-{}", i % 3), i, &big)])
                .unwrap();
        }
        block_on(store.commit(&[removed(Kind::Policy, "pol-0", 3001)])).unwrap();
    }
    let size = std::fs::metadata(dir.path().join(JOURNAL)).unwrap().len();
    assert!(
        size < 3000 * 4096 / 2,
        "journal was not compacted: {size} bytes"
    );
    let (_store, replayed) = Store::open(dir.path()).unwrap();
    assert_eq!(ids(&replayed), ["pol-1", "pol-2"]);
    assert_eq!(replayed.revision, 3001);
    assert_eq!(replayed.next_id, 3001);
    for e in &replayed.entries {
        let Some(Op::Policy(p)) = &e.op else { panic!() };
        let p = p.policy.as_ref().unwrap();
        // The last value written for each key.
        assert!(p.revision >= 2998, "{} at {}", p.id, p.revision);
    }
}

#[test]
fn close_flushes_what_was_queued() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, _) = Store::open(dir.path()).unwrap();
        store.record(&[service("svc-1", 1)]).unwrap();
        store.close();
        assert!(matches!(
            store.record(&[service("svc-2", 2)]),
            Err(StoreError::Closed)
        ));
    }
    let (_store, replayed) = Store::open(dir.path()).unwrap();
    assert_eq!(ids(&replayed), ["svc-1"]);
}
