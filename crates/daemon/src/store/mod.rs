//! The durable intent journal: every accepted northbound change is on disk
//! (fsync'd) before its OK goes out, and start-up replays it.
//!
//! One writer thread owns the file. Callers hand it entries and wait; while it
//! is inside an fsync, newer entries queue up and go to disk together in the
//! next one (group commit), so throughput grows with concurrency instead of
//! being capped at one request per fsync.
//!
//! Entries carry whole object values, so the journal compacts by rewriting the
//! live values (write a new file, fsync, rename over the old one).
//!
//! Start-up tells a torn tail from damage (see `frame`). A torn tail is the
//! last write cut by a crash: it was never acknowledged, so it is cut off and
//! start-up goes on. Damage means acknowledged entries may be gone, and a
//! controller that forgot them would reconcile their configuration off the
//! devices, so start-up stops (`StoreError::Damaged`) with a copy of the file
//! set aside, unless the operator asks to recover (`DamagePolicy::Recover`):
//! then every intact frame, before and after the damage, is kept, and a hold
//! file stops reconciliation from deleting anything until the operator has
//! checked the intents and removed it.

pub mod etcd;
pub mod etcd_server;
mod frame;
pub mod schema;

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;

use prost::Message;

use crate::proto::strata::store::v1::{entry::Op, Entry, Kind, Removed};

const JOURNAL: &str = "journal";
const LOCK: &str = "lock";
/// While this file exists in the data directory, reconciliation does not
/// delete Strata-owned configuration missing from the intents. A start-up
/// that recovered from damage writes it; the operator removes it.
pub const DELETION_HOLD: &str = "journal.recovered";
/// Copies of damaged journals are `journal.damaged-<unix ns>`.
const SALVAGE_PREFIX: &str = "journal.damaged-";
/// Compaction happens once the file is this much larger than its live values.
const COMPACT_RATIO: u64 = 4;
const COMPACT_MIN_BYTES: u64 = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("data directory {0} is in use by another Strata process")]
    Locked(PathBuf),
    #[error("journal entry {index} cannot be decoded: {error}")]
    Decode { index: usize, error: String },
    #[error("the journal writer has stopped")]
    Closed,
    #[error("write failed: {0}")]
    Write(String),
    #[error(
        "journal {} is damaged at {} ({intact} intact frames found in it): this is not a torn tail, \
         so acknowledged intents may be missing and start-up is refused rather than forget them \
         (and reconcile their configuration off the devices). The damaged journal is copied to {}. \
         To start anyway, keeping every intact frame before and after the damage and holding \
         reconciliation deletions until {} is removed, pass --recover-journal",
        journal.display(),
        describe(ranges),
        salvage.display(),
        journal.with_file_name(DELETION_HOLD).display()
    )]
    Damaged {
        journal: PathBuf,
        ranges: Vec<DamagedRange>,
        salvage: PathBuf,
        intact: usize,
    },
}

/// Bytes `start..end` of the journal that held no intact frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedRange {
    pub start: u64,
    pub end: u64,
    pub reason: String,
}

impl From<&frame::BadRegion> for DamagedRange {
    fn from(r: &frame::BadRegion) -> Self {
        DamagedRange {
            start: r.start as u64,
            end: r.end as u64,
            reason: r.reason.clone(),
        }
    }
}

/// `bytes 40..104 (checksum mismatch …), bytes …`
pub fn describe(ranges: &[DamagedRange]) -> String {
    ranges
        .iter()
        .map(|r| format!("bytes {}..{} ({})", r.start, r.end, r.reason))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `Store::open` does with a journal that is damaged (not just torn).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DamagePolicy {
    /// Refuse to open: `StoreError::Damaged`.
    #[default]
    Refuse,
    /// Keep every intact frame, rewrite the journal from them, and hold
    /// reconciliation deletions (the operator asked for this).
    Recover,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What start-up found in the journal.
#[derive(Debug, Default, Clone)]
pub struct Recovery {
    /// Intact frames replayed (after damage too, when recovering).
    pub frames: usize,
    /// Length of the valid prefix: up to the first bad byte.
    pub valid_bytes: u64,
    /// Bytes of a torn tail that were cut off.
    pub discarded_bytes: u64,
    /// Why the torn tail was not accepted.
    pub problem: Option<String>,
    /// Where the torn tail was saved for inspection.
    pub saved_tail: Option<PathBuf>,
    /// Damage stepped over by `DamagePolicy::Recover`: whatever entries
    /// these bytes held are lost.
    pub damage: Vec<DamagedRange>,
    /// Intact frames that could not be decoded, skipped while recovering.
    pub undecodable: usize,
    /// The whole damaged journal, copied before it was rewritten.
    pub salvage: Option<PathBuf>,
    /// The deletion hold file, if it exists (written now, or left by an
    /// earlier recovery the operator has not yet acknowledged).
    pub deletions_held: Option<PathBuf>,
    /// The journal was in the version-1 format and has been rewritten.
    pub upgraded: bool,
}

/// The journal replayed: live objects in the order they were first written,
/// plus the highest id counter and revision ever recorded.
#[derive(Debug, Default)]
pub struct Replayed {
    pub entries: Vec<Entry>,
    pub next_id: u64,
    pub revision: u64,
    pub recovery: Recovery,
}

type Key = (i32, String);

fn key_of(entry: &Entry) -> Option<(Key, bool)> {
    match entry.op.as_ref()? {
        Op::Policy(p) => Some(((Kind::Policy as i32, p.policy.as_ref()?.id.clone()), true)),
        Op::Service(s) => Some(((Kind::Service as i32, s.service.as_ref()?.id.clone()), true)),
        Op::Wavelength(w) => Some((
            (Kind::Wavelength as i32, w.wavelength.as_ref()?.id.clone()),
            true,
        )),
        Op::Removed(r) => Some(((r.kind, r.id.clone()), false)),
        Op::Drain(d) => Some(((Kind::Drain as i32, d.target.clone()), true)),
        // A removal is a put of a tombstone: the topology file may have it.
        Op::TopologyNode(n) => Some(((Kind::TopologyNode as i32, n.name.clone()), true)),
        Op::TopologyLink(l) => Some(((Kind::TopologyLink as i32, l.name.clone()), true)),
    }
}

fn revision_of(entry: &Entry) -> u64 {
    match &entry.op {
        Some(Op::Policy(p)) => p.policy.as_ref().map_or(0, |p| p.revision),
        Some(Op::Service(s)) => s.service.as_ref().map_or(0, |s| s.revision),
        Some(Op::Wavelength(w)) => w.wavelength.as_ref().map_or(0, |w| w.revision),
        Some(Op::Removed(r)) => r.revision,
        Some(Op::Drain(d)) => d.revision,
        Some(Op::TopologyNode(n)) => n.revision,
        Some(Op::TopologyLink(l)) => l.revision,
        None => 0,
    }
}

/// Live values by key, remembering the order keys were first written so a
/// replay recreates objects in an order where references resolve.
#[derive(Default)]
struct Live {
    seq: u64,
    by_key: HashMap<Key, (u64, Vec<u8>)>,
    bytes: u64,
}

impl Live {
    fn apply(&mut self, key: Key, put: bool, payload: &[u8]) {
        if !put {
            if let Some((_, old)) = self.by_key.remove(&key) {
                self.bytes -= old.len() as u64;
            }
            return;
        }
        let seq = match self.by_key.get(&key) {
            Some((seq, old)) => {
                self.bytes -= old.len() as u64;
                *seq
            }
            None => {
                self.seq += 1;
                self.seq
            }
        };
        self.bytes += payload.len() as u64;
        self.by_key.insert(key, (seq, payload.to_vec()));
    }

    fn ordered(&self) -> Vec<&[u8]> {
        let sorted: BTreeMap<u64, &[u8]> = self
            .by_key
            .values()
            .map(|(seq, p)| (*seq, p.as_slice()))
            .collect();
        sorted.into_values().collect()
    }
}

/// One entry on its way to disk.
struct Pending {
    key: Key,
    put: bool,
    payload: Vec<u8>,
    next_id: u64,
    revision: u64,
}

enum Command {
    Append {
        payloads: Vec<Pending>,
        done: Option<tokio::sync::oneshot::Sender<Result<(), String>>>,
    },
    Stop,
}

/// Journal activity: how many fsyncs, and how many entries they carried
/// (entries per sync is the group-commit batch size).
#[derive(Debug, Default)]
pub struct Stats {
    pub syncs: std::sync::atomic::AtomicU64,
    pub entries: std::sync::atomic::AtomicU64,
    /// Deletions reconciliation skipped because of the deletion hold.
    pub held_deletions: std::sync::atomic::AtomicU64,
}

/// Where accepted changes are made durable: the embedded journal (the
/// default) or a shared etcd cluster (see [`etcd`]). The pipeline's persist
/// step sees only this; both keep the same entries and replay them the same
/// way at start-up.
pub enum Store {
    Journal(Journal),
    Etcd(etcd::EtcdStore),
}

impl Store {
    /// The journal in `dir`, refusing a damaged one.
    pub fn open(dir: &Path) -> Result<(Store, Replayed), StoreError> {
        Journal::open(dir).map(|(j, r)| (Store::Journal(j), r))
    }

    /// The journal in `dir` (see [`Journal::open_with`]).
    pub fn open_with(dir: &Path, policy: DamagePolicy) -> Result<(Store, Replayed), StoreError> {
        Journal::open_with(dir, policy).map(|(j, r)| (Store::Journal(j), r))
    }

    /// The state under `config`'s prefix on etcd.
    pub async fn open_etcd(config: &etcd::EtcdConfig) -> Result<(Store, Replayed), StoreError> {
        etcd::EtcdStore::open(config)
            .await
            .map(|(e, r)| (Store::Etcd(e), r))
    }

    /// The journal's directory, or `etcd://… (prefix …)`, for messages.
    pub fn describe(&self) -> String {
        match self {
            Store::Journal(j) => j.dir().display().to_string(),
            Store::Etcd(e) => e.config().describe(),
        }
    }

    /// Whether reconciliation holds deletions (a journal recovered from
    /// damage; etcd is never recovered that way).
    pub fn deletions_held(&self) -> bool {
        match self {
            Store::Journal(j) => j.deletions_held(),
            Store::Etcd(_) => false,
        }
    }

    /// The journal's hold file (nothing on etcd, which never holds).
    pub fn deletion_hold(&self) -> PathBuf {
        match self {
            Store::Journal(j) => j.deletion_hold(),
            Store::Etcd(_) => PathBuf::new(),
        }
    }

    pub fn note_held_deletions(&self, n: usize) {
        self.stats()
            .held_deletions
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }

    /// Commits (fsyncs, or etcd transactions) and the entries they carried.
    pub fn stats(&self) -> &Stats {
        match self {
            Store::Journal(j) => j.stats(),
            Store::Etcd(e) => e.stats(),
        }
    }

    /// Makes `entries` durable; returns once they are. An empty commit
    /// waits for everything queued before it.
    pub async fn commit(&self, entries: &[Entry]) -> Result<(), StoreError> {
        match self {
            Store::Journal(j) => j.commit(entries).await,
            Store::Etcd(e) => e.commit(entries).await,
        }
    }

    /// Queues `entries` without waiting; they are made durable in order, no
    /// later than the next `commit`.
    pub fn record(&self, entries: &[Entry]) -> Result<(), StoreError> {
        match self {
            Store::Journal(j) => j.record(entries),
            Store::Etcd(e) => e.record(entries),
        }
    }

    pub fn close(&self) {
        match self {
            Store::Journal(j) => j.close(),
            Store::Etcd(e) => e.close(),
        }
    }
}

/// The embedded journal (one data directory, one process).
pub struct Journal {
    dir: PathBuf,
    stats: std::sync::Arc<Stats>,
    tx: Mutex<Option<mpsc::Sender<Command>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// Held (OS file lock) until `close`, so a second process cannot write.
    lock: Mutex<Option<File>>,
}

impl Journal {
    /// Opens (or creates) the journal in `dir`, replays it, and starts the
    /// writer, refusing a damaged journal (see `open_with`).
    pub fn open(dir: &Path) -> Result<(Journal, Replayed), StoreError> {
        Self::open_with(dir, DamagePolicy::Refuse)
    }

    /// Opens (or creates) the journal in `dir`, replays it, and starts the
    /// writer. A torn tail is reported, saved beside the journal, and cut
    /// off. Damage is copied aside, then refused or, under
    /// `DamagePolicy::Recover`, stepped over with the deletion hold set.
    pub fn open_with(dir: &Path, policy: DamagePolicy) -> Result<(Journal, Replayed), StoreError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        if lock.try_lock().is_err() {
            return Err(StoreError::Locked(dir.to_path_buf()));
        }
        let path = dir.join(JOURNAL);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(&path)(e)),
        };
        let scan = frame::scan(&bytes);
        let damaged = !scan.damage.is_empty();
        let mut replayed = Replayed::default();
        if damaged {
            // Before anything can rewrite the journal, whatever happens next.
            let salvage = salvage(dir, &bytes)?;
            if policy == DamagePolicy::Refuse {
                return Err(StoreError::Damaged {
                    journal: path,
                    ranges: scan.damage.iter().map(DamagedRange::from).collect(),
                    salvage,
                    intact: scan.frames.len(),
                });
            }
            replayed.recovery.salvage = Some(salvage);
        }
        // Frames after damage are only here when recovering; a torn tail
        // never has any.
        let mut live = Live::default();
        let mut folded: HashMap<Key, Entry> = HashMap::new();
        for (index, frame) in scan.frames.iter().enumerate() {
            let entry = match Entry::decode(frame.payload) {
                Ok(e) => e,
                Err(e) if damaged => {
                    tracing::warn!(offset = frame.offset, error = %e, "skipping an intact journal frame that does not decode");
                    replayed.recovery.undecodable += 1;
                    continue;
                }
                Err(e) => {
                    return Err(StoreError::Decode {
                        index,
                        error: e.to_string(),
                    })
                }
            };
            replayed.next_id = replayed.next_id.max(entry.next_id);
            replayed.revision = replayed.revision.max(revision_of(&entry));
            if let Some((key, put)) = key_of(&entry) {
                live.apply(key.clone(), put, frame.payload);
                if put {
                    folded.insert(key, entry);
                } else {
                    folded.remove(&key);
                }
            }
        }
        let mut order: Vec<(u64, Entry)> = folded
            .into_iter()
            .filter_map(|(k, e)| live.by_key.get(&k).map(|(seq, _)| (*seq, e)))
            .collect();
        order.sort_by_key(|(seq, _)| *seq);
        replayed.entries = order.into_iter().map(|(_, e)| e).collect();
        let recovery = &mut replayed.recovery;
        recovery.frames = scan.frames.len() - recovery.undecodable;
        recovery.valid_bytes = scan.valid_len as u64;
        recovery.damage = scan.damage.iter().map(DamagedRange::from).collect();
        if let Some(torn) = &scan.torn {
            recovery.discarded_bytes = (torn.end - torn.start) as u64;
            recovery.problem = Some(torn.reason.clone());
            let saved = dir.join(format!(
                "journal.corrupt-{}",
                crate::controller::events::now_ns()
            ));
            std::fs::write(&saved, &bytes[torn.start..]).map_err(io(&saved))?;
            recovery.saved_tail = Some(saved);
        }
        let hold = dir.join(DELETION_HOLD);
        if damaged {
            // Durable before the damaged journal is replaced: a crash between
            // the two must not come back up with deletions allowed.
            write_synced(&hold, hold_notice(&path, &replayed.recovery).as_bytes())?;
            sync_dir(dir)?;
        }
        if hold_exists(&hold) {
            replayed.recovery.deletions_held = Some(hold);
        }
        // A damaged file, or one in the old format, is replaced by the live
        // values; an intact version-2 file only loses its torn tail.
        let rewrite =
            damaged || (scan.version == Some(frame::Version::V1) && !scan.frames.is_empty());
        replayed.recovery.upgraded = rewrite && scan.version == Some(frame::Version::V1);
        let keep = if scan.version == Some(frame::Version::V2) {
            scan.valid_len as u64
        } else {
            0
        };
        drop(scan);
        drop(bytes);

        let (file, len) = if rewrite {
            write_compacted(dir, &live, replayed.next_id, replayed.revision)?
        } else {
            let mut file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&path)
                .map_err(io(&path))?;
            let mut len = keep;
            if len == 0 {
                file.set_len(0).map_err(io(&path))?;
                file.write_all(frame::HEADER).map_err(io(&path))?;
                len = frame::HEADER.len() as u64;
            } else {
                file.set_len(len).map_err(io(&path))?;
            }
            file.seek(SeekFrom::Start(len)).map_err(io(&path))?;
            file.sync_all().map_err(io(&path))?;
            sync_dir(dir)?;
            (file, len)
        };

        let (tx, rx) = mpsc::channel();
        let stats = std::sync::Arc::new(Stats::default());
        let writer = Writer {
            stats: stats.clone(),
            dir: dir.to_path_buf(),
            file,
            len,
            live,
            next_id: replayed.next_id,
            revision: replayed.revision,
        };
        let handle = std::thread::Builder::new()
            .name("strata-journal".into())
            .spawn(move || writer.run(rx))
            .map_err(io(dir))?;
        Ok((
            Journal {
                dir: dir.to_path_buf(),
                stats,
                tx: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(handle)),
                lock: Mutex::new(Some(lock)),
            },
            replayed,
        ))
    }

    /// Whether reconciliation must leave Strata-owned configuration that is
    /// missing from the intents on the devices: the hold file exists. Looked
    /// up each time so that removing the file acknowledges at once.
    pub fn deletions_held(&self) -> bool {
        hold_exists(&self.dir.join(DELETION_HOLD))
    }

    /// The hold file's path (whether or not it exists).
    pub fn deletion_hold(&self) -> PathBuf {
        self.dir.join(DELETION_HOLD)
    }

    /// Counts deletions reconciliation skipped under the hold.
    pub fn note_held_deletions(&self, n: usize) {
        self.stats
            .held_deletions
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    fn send(
        &self,
        entries: &[Entry],
        done: Option<tokio::sync::oneshot::Sender<Result<(), String>>>,
    ) -> Result<(), StoreError> {
        let payloads = entries
            .iter()
            .filter_map(|e| {
                key_of(e).map(|(key, put)| Pending {
                    key,
                    put,
                    payload: e.encode_to_vec(),
                    next_id: e.next_id,
                    revision: revision_of(e),
                })
            })
            .collect();
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        tx.as_ref()
            .ok_or(StoreError::Closed)?
            .send(Command::Append { payloads, done })
            .map_err(|_| StoreError::Closed)
    }

    /// Writes `entries` and returns once they are on disk.
    pub async fn commit(&self, entries: &[Entry]) -> Result<(), StoreError> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.send(entries, Some(done))?;
        wait.await
            .map_err(|_| StoreError::Closed)?
            .map_err(StoreError::Write)
    }

    /// Queues `entries` without waiting; they reach disk in order, no later
    /// than the next `commit`.
    pub fn record(&self, entries: &[Entry]) -> Result<(), StoreError> {
        self.send(entries, None)
    }

    /// Writes what is queued, syncs, and stops the writer.
    pub fn close(&self) {
        if let Some(tx) = self.tx.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(Command::Stop);
        }
        if let Some(h) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = h.join();
        }
        self.lock.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.close();
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Fails safe: a hold file that cannot be looked at (permissions, I/O
/// error) still holds; only its absence lifts the hold.
fn hold_exists(path: &Path) -> bool {
    !matches!(std::fs::metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut f = File::create(path).map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Copies a damaged journal aside, once: a start-up refused again and again
/// finds its earlier copy instead of filling the disk with new ones.
fn salvage(dir: &Path, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    if let Ok(listing) = std::fs::read_dir(dir) {
        for entry in listing.flatten() {
            let name = entry.file_name();
            let same_size = entry
                .metadata()
                .is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64);
            if name.to_string_lossy().starts_with(SALVAGE_PREFIX)
                && same_size
                && std::fs::read(entry.path()).is_ok_and(|b| b == bytes)
            {
                return Ok(entry.path());
            }
        }
    }
    let path = dir.join(format!(
        "{SALVAGE_PREFIX}{}",
        crate::controller::events::now_ns()
    ));
    write_synced(&path, bytes)?;
    sync_dir(dir)?;
    Ok(path)
}

/// What the hold file tells whoever finds it.
fn hold_notice(journal: &Path, r: &Recovery) -> String {
    format!(
        "Strata started from a damaged journal ({}) at {} ns since the epoch, because the\n\
         operator passed --recover-journal. Lost: {}. Kept: {} intact frames ({} undecodable\n\
         frames skipped). The damaged journal was copied to {}.\n\
         \n\
         While this file exists, reconciliation does not delete Strata-owned configuration\n\
         that devices hold but the intents lack (it may belong to a lost intent); it still\n\
         adds and repairs. Check the intents, recreate anything lost, then delete this file.\n",
        journal.display(),
        crate::controller::events::now_ns(),
        describe(&r.damage),
        r.frames,
        r.undecodable,
        r.salvage
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    )
}

/// Writes the live values as a fresh version-2 journal (temporary file,
/// fsync, rename over the journal) and opens it for appending.
fn write_compacted(
    dir: &Path,
    live: &Live,
    next_id: u64,
    revision: u64,
) -> Result<(File, u64), StoreError> {
    let tmp = dir.join("journal.compact");
    let mut buf = frame::HEADER.to_vec();
    for payload in live.ordered() {
        frame::encode(payload, &mut buf);
    }
    // Carries the counters even when the entries that raised them were
    // removals, which compaction drops.
    let watermark = Entry {
        next_id,
        op: Some(Op::Removed(Removed {
            kind: Kind::Unspecified as i32,
            id: String::new(),
            revision,
        })),
    };
    frame::encode(&watermark.encode_to_vec(), &mut buf);
    write_synced(&tmp, &buf)?;
    let path = dir.join(JOURNAL);
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    sync_dir(dir)?;
    let mut file = OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(io(&path))?;
    file.seek(SeekFrom::End(0)).map_err(io(&path))?;
    Ok((file, buf.len() as u64))
}

struct Writer {
    stats: std::sync::Arc<Stats>,
    dir: PathBuf,
    file: File,
    len: u64,
    live: Live,
    /// Highest id counter and revision written, kept across compaction even
    /// when the entries that carried them were removals.
    next_id: u64,
    revision: u64,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Command>) {
        let mut stop = false;
        while !stop {
            let Ok(first) = rx.recv() else { break };
            let mut batch = vec![first];
            batch.extend(rx.try_iter());
            let mut buf = Vec::new();
            let mut waiters = Vec::new();
            let mut applied = Vec::new();
            for cmd in batch {
                match cmd {
                    Command::Append { payloads, done } => {
                        for p in payloads {
                            frame::encode(&p.payload, &mut buf);
                            applied.push(p);
                        }
                        waiters.extend(done);
                    }
                    Command::Stop => stop = true,
                }
            }
            let result = self.append(&buf);
            if result.is_ok() && !buf.is_empty() {
                use std::sync::atomic::Ordering::Relaxed;
                self.stats.syncs.fetch_add(1, Relaxed);
                self.stats.entries.fetch_add(applied.len() as u64, Relaxed);
            }
            if result.is_ok() {
                for p in applied {
                    self.next_id = self.next_id.max(p.next_id);
                    self.revision = self.revision.max(p.revision);
                    self.live.apply(p.key, p.put, &p.payload);
                }
            } else if let Err(e) = &result {
                tracing::error!(error = %e, "journal write failed; the batch is refused");
            }
            for w in waiters {
                let _ = w.send(result.clone());
            }
            if result.is_ok() && self.len > COMPACT_MIN_BYTES.max(self.live.bytes * COMPACT_RATIO) {
                if let Err(e) = self.compact() {
                    tracing::warn!(error = %e, "journal compaction failed; will retry later");
                }
            }
        }
    }

    fn append(&mut self, buf: &[u8]) -> Result<(), String> {
        if buf.is_empty() {
            return Ok(());
        }
        let written = self.file.write_all(buf).and_then(|_| self.file.sync_data());
        match written {
            Ok(()) => {
                self.len += buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Cut off whatever part reached the file so the next batch
                // starts on a frame boundary.
                let _ = self.file.set_len(self.len);
                let _ = self.file.seek(SeekFrom::Start(self.len));
                Err(e.to_string())
            }
        }
    }

    fn compact(&mut self) -> Result<(), StoreError> {
        let (file, len) = write_compacted(&self.dir, &self.live, self.next_id, self.revision)?;
        tracing::debug!(from = self.len, to = len, "journal compacted");
        self.file = file;
        self.len = len;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
