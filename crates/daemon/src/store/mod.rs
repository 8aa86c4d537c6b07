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

mod frame;

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
    pub frames: usize,
    pub valid_bytes: u64,
    /// Bytes after the valid prefix that were set aside.
    pub discarded_bytes: u64,
    /// Why those bytes were not accepted.
    pub problem: Option<String>,
    /// Where the discarded bytes were saved for inspection.
    pub saved_tail: Option<PathBuf>,
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
    }
}

fn revision_of(entry: &Entry) -> u64 {
    match &entry.op {
        Some(Op::Policy(p)) => p.policy.as_ref().map_or(0, |p| p.revision),
        Some(Op::Service(s)) => s.service.as_ref().map_or(0, |s| s.revision),
        Some(Op::Wavelength(w)) => w.wavelength.as_ref().map_or(0, |w| w.revision),
        Some(Op::Removed(r)) => r.revision,
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
}

pub struct Store {
    dir: PathBuf,
    stats: std::sync::Arc<Stats>,
    tx: Mutex<Option<mpsc::Sender<Command>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// Held (OS file lock) until `close`, so a second process cannot write.
    lock: Mutex<Option<File>>,
}

impl Store {
    /// Opens (or creates) the journal in `dir`, replays it, and starts the
    /// writer. A corrupt or torn tail is reported, saved beside the journal,
    /// and cut off; the valid prefix is kept.
    pub fn open(dir: &Path) -> Result<(Store, Replayed), StoreError> {
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
        let mut replayed = Replayed::default();
        let mut live = Live::default();
        let mut folded: HashMap<Key, Entry> = HashMap::new();
        for (index, payload) in scan.payloads.iter().enumerate() {
            let entry = Entry::decode(*payload).map_err(|e| StoreError::Decode {
                index,
                error: e.to_string(),
            })?;
            replayed.next_id = replayed.next_id.max(entry.next_id);
            replayed.revision = replayed.revision.max(revision_of(&entry));
            if let Some((key, put)) = key_of(&entry) {
                live.apply(key.clone(), put, payload);
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
        replayed.recovery = Recovery {
            frames: scan.payloads.len(),
            valid_bytes: scan.valid_len as u64,
            discarded_bytes: (bytes.len() - scan.valid_len) as u64,
            problem: scan.problem.clone(),
            saved_tail: None,
        };
        if scan.problem.is_some() {
            let saved = dir.join(format!(
                "journal.corrupt-{}",
                crate::controller::events::now_ns()
            ));
            std::fs::write(&saved, &bytes[scan.valid_len..]).map_err(io(&saved))?;
            replayed.recovery.saved_tail = Some(saved);
        }
        let valid_len = scan.valid_len;
        drop(scan);
        drop(bytes);

        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        let mut len = valid_len as u64;
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
            Store {
                dir: dir.to_path_buf(),
                stats,
                tx: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(handle)),
                lock: Mutex::new(Some(lock)),
            },
            replayed,
        ))
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

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
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
        let tmp = self.dir.join("journal.compact");
        let mut buf = frame::HEADER.to_vec();
        for payload in self.live.ordered() {
            frame::encode(payload, &mut buf);
        }
        let watermark = Entry {
            next_id: self.next_id,
            op: Some(Op::Removed(Removed {
                kind: Kind::Unspecified as i32,
                id: String::new(),
                revision: self.revision,
            })),
        };
        frame::encode(&watermark.encode_to_vec(), &mut buf);
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&buf).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        let path = self.dir.join(JOURNAL);
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        sync_dir(&self.dir)?;
        let mut file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        file.seek(SeekFrom::End(0)).map_err(io(&path))?;
        tracing::debug!(from = self.len, to = buf.len(), "journal compacted");
        self.file = file;
        self.len = buf.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
