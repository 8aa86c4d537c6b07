use super::*;
use crate::proto::strata::store::v1 as api;
use crate::proto::strata::store::v1::{PolicyRecord, ServiceRecord};

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
fn a_torn_tail_is_reported_saved_and_cut_off() {
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
    // A torn write: part of a fourth frame.
    let mut frame = Vec::new();
    frame::encode(&service("svc-4", 4).encode_to_vec(), &mut frame);
    for cut in [5, frame.len() / 2, frame.len() - 1] {
        let mut torn = good.clone();
        torn.extend_from_slice(&frame[..cut]);
        std::fs::write(&path, &torn).unwrap();
        let (_store, replayed) = Store::open(dir.path()).unwrap();
        assert_eq!(ids(&replayed), ["svc-1", "svc-2", "svc-3"]);
        let r = &replayed.recovery;
        assert!(r.problem.as_ref().unwrap().contains("torn frame"), "{r:?}");
        assert_eq!(r.valid_bytes, good.len() as u64);
        assert_eq!(r.discarded_bytes, cut as u64);
        assert!(r.damage.is_empty() && r.salvage.is_none() && r.deletions_held.is_none());
        let saved = std::fs::read(r.saved_tail.as_ref().unwrap()).unwrap();
        assert_eq!(saved, frame[..cut]);
        assert_eq!(std::fs::read(&path).unwrap(), good, "tail cut off");
    }
    {
        // Writing goes on from the end of the valid prefix.
        let (store, _) = Store::open(dir.path()).unwrap();
        block_on(store.commit(&[service("svc-5", 5)])).unwrap();
    }
    let (_store, replayed) = Store::open(dir.path()).unwrap();
    assert_eq!(ids(&replayed), ["svc-1", "svc-2", "svc-3", "svc-5"]);
    assert_eq!(replayed.recovery.problem, None);
}

/// A journal of `n` services written by the store, and each frame's span.
fn written_journal(dir: &Path, n: u64) -> (Vec<u8>, Vec<(usize, usize)>) {
    {
        let (store, _) = Store::open(dir).unwrap();
        block_on(async {
            for i in 1..=n {
                store
                    .commit(&[service(&format!("svc-{i}"), i)])
                    .await
                    .unwrap();
            }
        });
    }
    let bytes = std::fs::read(dir.join(JOURNAL)).unwrap();
    let spans = spans(&bytes);
    assert_eq!(spans.len() as u64, n);
    (bytes, spans)
}

fn spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let scan = frame::scan(bytes);
    scan.frames
        .iter()
        .map(|f| (f.offset, f.offset + frame::FRAME_HEADER + f.payload.len()))
        .collect()
}

fn svc_ids(range: impl IntoIterator<Item = usize>) -> Vec<String> {
    range.into_iter().map(|i| format!("svc-{i}")).collect()
}

fn refused(dir: &Path) -> (Vec<DamagedRange>, PathBuf, String) {
    match Store::open(dir) {
        Err(e @ StoreError::Damaged { .. }) => {
            let message = e.to_string();
            let StoreError::Damaged {
                ranges, salvage, ..
            } = e
            else {
                unreachable!()
            };
            (ranges, salvage, message)
        }
        Err(e) => panic!("refused for another reason: {e}"),
        Ok((_, r)) => panic!("opened a damaged journal: {:?} {:?}", ids(&r), r.recovery),
    }
}

fn salvage_copies(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(SALVAGE_PREFIX)
        })
        .count()
}

/// Issue #12, first finding: 64 zeroed bytes in the middle of a journal of
/// ten services silently dropped the five intact entries after them.
#[test]
fn sixty_four_zero_bytes_mid_journal_refuse_start_up_then_recover_every_intact_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL);
    let (good, spans) = written_journal(dir.path(), 10);
    let mid = good.len() / 2;
    let mut bad = good.clone();
    bad[mid..mid + 64].fill(0);
    std::fs::write(&path, &bad).unwrap();
    let hit: Vec<usize> = (0..10)
        .filter(|&i| spans[i].0 < mid + 64 && mid < spans[i].1)
        .collect();
    assert!(!hit.is_empty() && *hit.last().unwrap() < 9, "{hit:?}");

    let (ranges, salvage, message) = refused(dir.path());
    let first = spans[hit[0]].0 as u64;
    assert_eq!(ranges[0].start, first, "{ranges:?}");
    assert!(message.contains(&format!("bytes {first}..")), "{message}");
    assert!(
        message.contains(&salvage.display().to_string()),
        "{message}"
    );
    assert!(message.contains("--recover-journal"), "{message}");
    assert_eq!(
        std::fs::read(&salvage).unwrap(),
        bad,
        "salvage is the whole file"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bad,
        "a refused start changes nothing"
    );
    // Refused again: the same copy, not another one.
    assert_eq!(refused(dir.path()).1, salvage);
    assert_eq!(salvage_copies(dir.path()), 1);

    {
        let (store, replayed) = Store::open_with(dir.path(), DamagePolicy::Recover).unwrap();
        let kept: Vec<usize> = (1..=10).filter(|i| !hit.contains(&(i - 1))).collect();
        assert_eq!(ids(&replayed), svc_ids(kept));
        let r = &replayed.recovery;
        assert_eq!(r.damage, ranges);
        assert_eq!(r.salvage.as_ref(), Some(&salvage));
        assert_eq!(r.deletions_held, Some(dir.path().join(DELETION_HOLD)));
        assert!(store.deletions_held());
        let notice = std::fs::read_to_string(store.deletion_hold()).unwrap();
        assert!(notice.contains(&format!("bytes {first}..")), "{notice}");
        block_on(store.commit(&[service("svc-11", 11)])).unwrap();
    }
    // The journal was rewritten clean; the hold outlives the restart.
    let (store, replayed) = Store::open(dir.path()).unwrap();
    assert!(replayed.recovery.damage.is_empty());
    assert_eq!(replayed.entries.len(), 11 - hit.len());
    assert!(replayed.recovery.deletions_held.is_some());
    assert!(store.deletions_held());
    // The operator's acknowledgement takes effect at once.
    std::fs::remove_file(store.deletion_hold()).unwrap();
    assert!(!store.deletions_held());
}

/// Issue #12, second finding: one flipped header byte dropped all ten
/// entries, reported as a damaged tail.
#[test]
fn one_flipped_header_byte_refuses_start_up_then_recover_keeps_the_intact_entries() {
    // The file header: every frame is intact.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL);
    let (good, _) = written_journal(dir.path(), 10);
    let mut bad = good.clone();
    bad[2] ^= 0x10;
    std::fs::write(&path, &bad).unwrap();
    let (ranges, salvage, _) = refused(dir.path());
    assert_eq!((ranges[0].start, ranges[0].end), (0, 8), "{ranges:?}");
    assert_eq!(std::fs::read(&salvage).unwrap(), bad);
    let (_store, replayed) = Store::open_with(dir.path(), DamagePolicy::Recover).unwrap();
    assert_eq!(ids(&replayed), svc_ids(1..=10));

    // The first frame's length: the next frame's marker bounds the payload,
    // whose own checksum still vouches for it, so recovery loses nothing.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL);
    let (good, spans) = written_journal(dir.path(), 10);
    let mut bad = good.clone();
    bad[spans[0].0 + 4] ^= 0x01;
    std::fs::write(&path, &bad).unwrap();
    let (ranges, _, message) = refused(dir.path());
    assert_eq!(
        (ranges[0].start, ranges[0].end),
        (spans[0].0 as u64, spans[1].0 as u64)
    );
    assert!(message.contains("bytes 8.."), "{message}");
    let (_store, replayed) = Store::open_with(dir.path(), DamagePolicy::Recover).unwrap();
    assert_eq!(ids(&replayed), svc_ids(1..=10));

    // The first frame's payload checksum: nothing vouches for that frame.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL);
    let (good, spans) = written_journal(dir.path(), 10);
    let mut bad = good.clone();
    bad[spans[0].0 + 13] ^= 0x01;
    std::fs::write(&path, &bad).unwrap();
    let (ranges, _, _) = refused(dir.path());
    assert_eq!(ranges[0].start, 8);
    let (_store, replayed) = Store::open_with(dir.path(), DamagePolicy::Recover).unwrap();
    assert_eq!(ids(&replayed), svc_ids(2..=10));
}

#[test]
fn version_1_journals_are_read_and_rewritten_as_version_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL);
    let mut bytes = frame::HEADER_V1.to_vec();
    for i in 1..=3 {
        frame::encode_v1(&service(&format!("svc-{i}"), i).encode_to_vec(), &mut bytes);
    }
    frame::encode_v1(
        &removed(Kind::Service, "svc-2", 4).encode_to_vec(),
        &mut bytes,
    );
    std::fs::write(&path, &bytes).unwrap();
    {
        let (store, replayed) = Store::open(dir.path()).unwrap();
        assert_eq!(ids(&replayed), ["svc-1", "svc-3"]);
        assert_eq!(replayed.revision, 4);
        assert!(replayed.recovery.upgraded);
        assert!(std::fs::read(&path).unwrap().starts_with(frame::HEADER));
        block_on(store.commit(&[service("svc-5", 5)])).unwrap();
    }
    let (_store, replayed) = Store::open(dir.path()).unwrap();
    assert_eq!(ids(&replayed), ["svc-1", "svc-3", "svc-5"]);
    assert_eq!(replayed.revision, 5);
    assert!(!replayed.recovery.upgraded);
}

#[test]
fn damage_in_a_version_1_journal_is_found_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL);
    let mut bytes = frame::HEADER_V1.to_vec();
    let mut starts = Vec::new();
    for i in 1..=10 {
        starts.push(bytes.len());
        frame::encode_v1(&service(&format!("svc-{i}"), i).encode_to_vec(), &mut bytes);
    }
    let mid = bytes.len() / 2;
    bytes[mid..mid + 64].fill(0);
    std::fs::write(&path, &bytes).unwrap();
    let (ranges, _, _) = refused(dir.path());
    let hit = starts.iter().rposition(|&s| s <= mid).unwrap();
    assert_eq!(ranges[0].start, starts[hit] as u64);
    let (_store, replayed) = Store::open_with(dir.path(), DamagePolicy::Recover).unwrap();
    let kept = ids(&replayed);
    assert_eq!(kept[..hit], svc_ids(1..=hit)[..]);
    assert_eq!(kept.last().map(String::as_str), Some("svc-10"));
}

mod damage {
    //! Random damage at random offsets of a journal of N entries.

    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Harm {
        Zeros { at: usize, len: usize },
        Flip { at: usize, mask: u8 },
        Truncate { at: usize },
    }

    fn harm() -> impl Strategy<Value = Harm> {
        // Offsets are fractions of the file, resolved once its size is known.
        prop_oneof![
            (0usize..10_000, 1usize..160).prop_map(|(at, len)| Harm::Zeros { at, len }),
            (0usize..10_000, 1u8..=255).prop_map(|(at, mask)| Harm::Flip { at, mask }),
            (0usize..10_000).prop_map(|at| Harm::Truncate { at }),
        ]
    }

    fn apply(bytes: &[u8], harm: &[Harm]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for h in harm {
            let len = out.len().max(1);
            match *h {
                Harm::Zeros { at, len: n } => {
                    let at = at * len / 10_000;
                    let end = (at + n).min(out.len());
                    out[at.min(end)..end].fill(0);
                }
                Harm::Flip { at, mask } => {
                    let at = at * len / 10_000;
                    if let Some(b) = out.get_mut(at) {
                        *b ^= mask;
                    }
                }
                Harm::Truncate { at } => out.truncate(at * len / 10_000),
            }
        }
        out
    }

    /// Entries (1-based services) whose frames came through unchanged.
    fn untouched(good: &[u8], bad: &[u8], spans: &[(usize, usize)]) -> Vec<usize> {
        (0..spans.len())
            .filter(|&i| bad.get(spans[i].0..spans[i].1) == Some(&good[spans[i].0..spans[i].1]))
            .map(|i| i + 1)
            .collect()
    }

    fn journal(n: usize) -> (Vec<u8>, Vec<(usize, usize)>) {
        let mut bytes = frame::HEADER.to_vec();
        for i in 1..=n {
            frame::encode(
                &service(&format!("svc-{i}"), i as u64).encode_to_vec(),
                &mut bytes,
            );
        }
        let spans = spans(&bytes);
        (bytes, spans)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn damage_is_refused_with_its_offset_or_is_a_torn_tail_and_recovery_keeps_every_intact_frame(
            n in 1usize..12,
            harm in proptest::collection::vec(harm(), 1..3),
        ) {
            let (good, spans) = journal(n);
            let bad = apply(&good, &harm);
            // The first byte that changed (a cut counts as a change there).
            let first = (0..good.len()).find(|&i| bad.get(i) != Some(&good[i]));
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(JOURNAL);
            std::fs::write(&path, &bad).unwrap();
            let intact = untouched(&good, &bad, &spans);
            let Some(first) = first else {
                let (_s, r) = Store::open(dir.path()).unwrap();
                prop_assert_eq!(ids(&r), svc_ids(1..=n));
                return Ok(());
            };
            // Entries wholly before the first changed byte.
            let before: Vec<usize> = (1..=n).filter(|&i| spans[i - 1].1 <= first).collect();
            let hit = before.len();
            match Store::open(dir.path()) {
                Ok((_s, r)) => {
                    // Only a torn tail opens: nothing intact after the damage.
                    prop_assert!(intact.iter().all(|&i| i <= hit), "{:?} {:?}", intact, r.recovery);
                    prop_assert_eq!(ids(&r), svc_ids(before.iter().copied()));
                }
                Err(StoreError::Damaged { ranges, salvage, .. }) => {
                    let frame_start = if first < frame::HEADER.len() { 0 } else { spans[hit].0 };
                    prop_assert_eq!(ranges[0].start, frame_start as u64, "{:?}", ranges);
                    prop_assert_eq!(std::fs::read(&salvage).unwrap(), bad.clone());
                    prop_assert!(
                        first < frame::HEADER.len() || intact.iter().any(|&i| i > hit),
                        "refused a torn tail: {:?}", ranges
                    );
                    let (_s, r) = Store::open_with(dir.path(), DamagePolicy::Recover).unwrap();
                    // Every intact frame, plus any whose damaged header was
                    // repaired (its payload checksum vouches for it), in order.
                    let kept = ids(&r);
                    let all = svc_ids(1..=n);
                    prop_assert!(kept.iter().all(|k| all.contains(k)), "{:?}", kept);
                    let mut sorted = kept.clone();
                    sorted.sort_by_key(|k| all.iter().position(|a| a == k));
                    prop_assert_eq!(&sorted, &kept);
                    for i in &intact {
                        prop_assert!(kept.contains(&format!("svc-{i}")), "lost intact svc-{} {:?}", i, r.recovery);
                    }
                }
                Err(e) => prop_assert!(false, "unexpected error {}", e),
            }
        }
    }
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

fn topology_node(name: &str, removed: bool, revision: u64) -> Entry {
    Entry {
        next_id: 0,
        op: Some(Op::TopologyNode(api::TopologyNode {
            name: name.into(),
            removed,
            address: "127.0.0.1:1".into(),
            revision,
            ..Default::default()
        })),
    }
}

/// A runtime node's removal is a tombstone, not a deletion: the topology
/// file may have the node, and it must stay removed after a restart (and
/// after the journal compacts).
#[test]
fn topology_tombstones_are_kept_under_their_name() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, _) = Store::open(dir.path()).unwrap();
        block_on(async {
            store
                .commit(&[topology_node("pe4", false, 1)])
                .await
                .unwrap();
            store.commit(&[policy("pol-2", 2, "a")]).await.unwrap();
            store
                .commit(&[topology_node("pe4", true, 3)])
                .await
                .unwrap();
            store
                .commit(&[topology_node("pe1", true, 4)])
                .await
                .unwrap();
        });
    }
    let (_store, replayed) = Store::open(dir.path()).unwrap();
    let shown: Vec<(String, bool)> = replayed
        .entries
        .iter()
        .filter_map(|e| match &e.op {
            Some(Op::TopologyNode(n)) => Some((n.name.clone(), n.removed)),
            _ => None,
        })
        .collect();
    assert_eq!(
        shown,
        [("pe4".to_string(), true), ("pe1".to_string(), true)]
    );
    assert_eq!(replayed.entries.len(), 3);
    assert_eq!(replayed.revision, 4);
}
