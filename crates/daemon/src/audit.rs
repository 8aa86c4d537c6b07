//! The audit trail: who changed what, and who was turned away. Every call
//! that needs more than a viewer's rights, and every refused call, becomes a
//! record — written to `audit.log` in the data directory (JSON lines, one
//! fsync per batch) before the caller gets its answer, and kept in memory
//! (the most recent `RETAINED` records) for `Audit.ListAudit`.

use std::collections::VecDeque;
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

/// Records kept in memory for listing.
pub const RETAINED: usize = 10_000;
/// Bytes of the file read back at start-up (its tail), to refill memory.
const TAIL_BYTES: u64 = 8 << 20;
/// The file is rotated to `audit.log.1` when it grows past this.
const ROTATE_BYTES: u64 = 64 << 20;
/// Records waiting for the writer; callers wait (rather than records being
/// dropped) when the disk falls this far behind.
const QUEUE: usize = 4096;
/// Status messages longer than this are cut: the record says what happened,
/// it does not archive a hostile caller's payload.
const MESSAGE_CHARS: usize = 256;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub sequence: u64,
    pub timestamp_ns: i64,
    pub principal: String,
    pub role: String,
    pub method: String,
    pub object: String,
    pub code: String,
    pub message: String,
    pub peer: String,
    pub duration_us: u64,
}

/// What a caller knows of a record before it is numbered.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub principal: String,
    pub role: String,
    pub method: String,
    pub object: String,
    pub code: tonic::Code,
    pub message: String,
    pub peer: String,
    pub duration_us: u64,
}

type Write_ = (Arc<AuditRecord>, oneshot::Sender<()>);

impl Default for AuditEntry {
    fn default() -> Self {
        AuditEntry {
            principal: String::new(),
            role: String::new(),
            method: String::new(),
            object: String::new(),
            code: tonic::Code::Ok,
            message: String::new(),
            peer: String::new(),
            duration_us: 0,
        }
    }
}

pub struct AuditLog {
    ring: Mutex<Ring>,
    writer: Mutex<Option<mpsc::Sender<Write_>>>,
    path: Option<PathBuf>,
    unwritten: std::sync::atomic::AtomicU64,
}

struct Ring {
    next: u64,
    records: VecDeque<Arc<AuditRecord>>,
}

impl AuditLog {
    /// A trail kept in memory only (no data directory).
    pub fn in_memory() -> Arc<AuditLog> {
        Arc::new(AuditLog {
            ring: Mutex::new(Ring {
                next: 1,
                records: VecDeque::new(),
            }),
            writer: Mutex::new(None),
            path: None,
            unwritten: Default::default(),
        })
    }

    /// The trail in `dir/audit.log`: its recent records are read back, and
    /// a writer task appends from now on. Damaged lines (a write torn by a
    /// crash) are skipped and counted, never fatal.
    pub fn open(dir: &Path) -> anyhow::Result<(Arc<AuditLog>, usize, tokio::task::JoinHandle<()>)> {
        let path = dir.join("audit.log");
        let (records, skipped) = read_tail(&path)?;
        let next = records.back().map_or(1, |r| r.sequence + 1);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::task::spawn_blocking({
            let path = path.clone();
            move || write_loop(file, &path, rx)
        });
        let log = Arc::new(AuditLog {
            ring: Mutex::new(Ring { next, records }),
            writer: Mutex::new(Some(tx)),
            path: Some(path),
            unwritten: Default::default(),
        });
        Ok((
            log,
            skipped,
            tokio::spawn(async move {
                let _ = task.await;
            }),
        ))
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Numbers the entry, keeps it, and returns once it is on disk (at once
    /// when the trail is in memory only).
    pub async fn record(&self, e: AuditEntry) {
        let record = self.keep(e);
        let writer = self.writer();
        if let Some(writer) = writer {
            let (done, written) = oneshot::channel();
            if writer.send((record, done)).await.is_ok() {
                let _ = written.await;
            }
        }
    }

    /// As `record`, without waiting for the disk, and dropping the write
    /// (counted) when the writer is behind: for refusals, which strangers
    /// can cause at will and must not turn into a queue of fsyncs.
    pub fn record_refusal(&self, e: AuditEntry) {
        let record = self.keep(e);
        let writer = self.writer();
        if let Some(writer) = writer {
            let (done, _) = oneshot::channel();
            if writer.try_send((record, done)).is_err() {
                let n = self
                    .unwritten
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    + 1;
                if n.is_power_of_two() {
                    tracing::warn!(unwritten = n, "refused calls arrive faster than the audit log is written; their records are kept in memory only");
                }
            }
        }
    }

    fn writer(&self) -> Option<mpsc::Sender<Write_>> {
        self.writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Refusal records not written to disk because the writer was behind.
    pub fn unwritten(&self) -> u64 {
        self.unwritten.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn keep(&self, e: AuditEntry) -> Arc<AuditRecord> {
        {
            let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
            let record = Arc::new(AuditRecord {
                sequence: ring.next,
                timestamp_ns: crate::controller::events::now_ns(),
                principal: e.principal,
                role: e.role,
                method: e.method,
                object: e.object,
                code: code_name(e.code).to_string(),
                message: shorten(&e.message),
                peer: e.peer,
                duration_us: e.duration_us,
            });
            ring.next += 1;
            ring.records.push_back(record.clone());
            while ring.records.len() > RETAINED {
                ring.records.pop_front();
            }
            record
        }
    }

    /// Retained records after sequence `after`, by `principal` if given:
    /// at most `limit`, and whether more follow.
    pub fn page(
        &self,
        principal: &str,
        after: Option<u64>,
        limit: usize,
    ) -> (Vec<Arc<AuditRecord>>, bool) {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let start = after.map_or(0, |a| ring.records.partition_point(|r| r.sequence <= a));
        let mut matching = ring
            .records
            .range(start..)
            .filter(|r| principal.is_empty() || r.principal == principal);
        let out: Vec<_> = matching.by_ref().take(limit).cloned().collect();
        let more = matching.next().is_some();
        (out, more)
    }

    /// Stops the writer after what is queued is on disk.
    pub fn close(&self) {
        self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

fn write_loop(mut file: std::fs::File, path: &Path, mut rx: mpsc::Receiver<Write_>) {
    let mut written = file.metadata().map(|m| m.len()).unwrap_or(0);
    while let Some(first) = rx.blocking_recv() {
        // Everything already queued goes in the same fsync.
        let mut batch = vec![first];
        while batch.len() < 512 {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        let mut buf = Vec::new();
        for (record, _) in &batch {
            if serde_json::to_writer(&mut buf, record.as_ref()).is_ok() {
                buf.push(b'\n');
            }
        }
        let result = file.write_all(&buf).and_then(|()| file.sync_data());
        if let Err(e) = result {
            // The API must not stop because the audit disk failed, but an
            // operator must hear of it at once.
            tracing::error!(path = %path.display(), error = %e, records = batch.len(), "audit records could not be written");
        }
        written += buf.len() as u64;
        for (_, done) in batch {
            let _ = done.send(());
        }
        if written > ROTATE_BYTES {
            let old = path.with_extension("log.1");
            match std::fs::rename(path, &old).and_then(|()| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
            }) {
                Ok(f) => {
                    file = f;
                    written = 0;
                }
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "audit log rotation failed")
                }
            }
        }
    }
}

fn read_tail(path: &Path) -> anyhow::Result<(VecDeque<Arc<AuditRecord>>, usize)> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((VecDeque::new(), 0)),
        Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
    };
    let len = file.metadata()?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut reader = std::io::BufReader::new(file.take(TAIL_BYTES));
    if start > 0 {
        // Mid-line: the first line read is a fragment.
        let mut skip = Vec::new();
        reader.read_until(b'\n', &mut skip)?;
    }
    let mut records = VecDeque::new();
    let mut skipped = 0;
    for line in reader.split(b'\n') {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<AuditRecord>(&line) {
            Ok(r)
                if records
                    .back()
                    .is_none_or(|b: &Arc<AuditRecord>| b.sequence < r.sequence) =>
            {
                records.push_back(Arc::new(r));
                if records.len() > RETAINED {
                    records.pop_front();
                }
            }
            _ => skipped += 1,
        }
    }
    Ok((records, skipped))
}

fn shorten(message: &str) -> String {
    match message.char_indices().nth(MESSAGE_CHARS) {
        None => message.to_string(),
        Some((cut, _)) => format!("{}…", &message[..cut]),
    }
}

pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(who: &str) -> AuditEntry {
        AuditEntry {
            principal: who.into(),
            method: "/strata.v1.Services/CreateService".into(),
            code: tonic::Code::Ok,
            message: "x".repeat(10_000),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn records_survive_a_restart_numbered_on_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let (log, skipped, task) = AuditLog::open(dir.path()).unwrap();
        assert_eq!(skipped, 0);
        for who in ["a", "b", "a"] {
            log.record(entry(who)).await;
        }
        log.close();
        task.await.unwrap();
        // A crash mid-write leaves half a line.
        let path = dir.path().join("audit.log");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"{\"sequence\":4,\"timest").unwrap();
        drop(f);

        let (log, skipped, _task) = AuditLog::open(dir.path()).unwrap();
        assert_eq!(skipped, 1);
        let (all, more) = log.page("", None, 10);
        assert!(!more);
        assert_eq!(
            all.iter().map(|r| r.sequence).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert!(
            all[0].message.chars().count() <= MESSAGE_CHARS + 1,
            "messages are cut"
        );
        log.record(entry("c")).await;
        let (after, _) = log.page("", Some(3), 10);
        assert_eq!(after[0].sequence, 4, "numbering continues past the restart");
        let (by_a, _) = log.page("a", None, 10);
        assert_eq!(by_a.len(), 2);
        let (first, more) = log.page("", None, 1);
        assert_eq!((first.len(), more), (1, true));
    }

    #[tokio::test]
    async fn memory_keeps_the_most_recent_records_only() {
        let log = AuditLog::in_memory();
        for _ in 0..RETAINED + 5 {
            log.record(AuditEntry::default()).await;
        }
        let (all, _) = log.page("", None, RETAINED * 2);
        assert_eq!(all.len(), RETAINED);
        assert_eq!(all[0].sequence, 6);
    }
}
