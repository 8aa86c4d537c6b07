//! The store on etcd: the same entries as the journal, kept as keys under a
//! prefix of an etcd v3 cluster, so several controllers can share one state.
//!
//! Layout under the prefix (default `/strata/`):
//! - `obj/<kind>/<id>`: the live entry of each object (an encoded
//!   `strata.store.v1.Entry`, exactly what the journal would append);
//! - `head`: the id counter and revision watermark (an `Entry` holding a
//!   `Removed` of kind unspecified, as the journal's compaction writes).
//!
//! Every commit is one etcd transaction: *if `head`'s mod revision is the one
//! this controller last saw, put/delete the objects and put `head`*. Every
//! write moves `head`, so of two controllers that loaded the same state, the
//! second to commit finds `head` moved and is refused: two writers can never
//! both succeed, and ids or identifiers allocated from a stale view never
//! reach the store. A refused (or failed) commit is answered as the journal's
//! refused fsync: devices are put back and the caller gets UNAVAILABLE. A
//! controller whose view is stale stays refused until it reloads.
//!
//! Start-up reads the prefix at one etcd revision (paged) and replays the
//! objects in the order they were created (their create revision), so
//! references resolve as they do in a journal replay.

use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use super::{key_of, revision_of, Key, Replayed, Stats, StoreError};
use crate::proto::etcd::{
    compare, kv_client::KvClient, request_op, Compare, DeleteRangeRequest, PutRequest,
    RangeRequest, RequestOp, TxnRequest,
};
use crate::proto::strata::store::v1::{entry::Op, Entry, Kind, Removed};

/// How long one etcd call may take before the commit is failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Keys per page when loading.
const PAGE: i64 = 512;
/// Replies can carry whole pages of entries.
const MAX_MESSAGE: usize = 64 << 20;

/// Where the etcd store lives: `--store etcd://HOST:PORT[,HOST:PORT…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdConfig {
    /// `host:port` of each member (the client balances over them).
    pub endpoints: Vec<String>,
    /// Key prefix of this controller's state (ends with `/`).
    pub prefix: String,
    /// With a CA, connections use TLS and the members' certificates must
    /// chain to it.
    pub ca: Option<PathBuf>,
    /// A replica leader's lease (`crate::replica`): every commit also
    /// requires the leader key to be held by it, so a leader whose lease has
    /// lapsed can never commit after its successor loaded the state.
    pub leader_lease: Option<i64>,
}

pub const DEFAULT_PREFIX: &str = "/strata/";

impl EtcdConfig {
    /// Parses `etcd://HOST:PORT[,HOST:PORT…]` (the scheme is required so a
    /// data directory is never taken for a cluster).
    pub fn parse(url: &str) -> Result<EtcdConfig, String> {
        let rest = url
            .strip_prefix("etcd://")
            .ok_or_else(|| format!("store {url:?}: expected etcd://HOST:PORT[,HOST:PORT...]"))?;
        let endpoints: Vec<String> = rest
            .trim_end_matches('/')
            .split(',')
            .map(|s| s.trim().to_string())
            .collect();
        for e in &endpoints {
            let ok = e
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if !ok {
                return Err(format!("store {url:?}: endpoint {e:?} is not HOST:PORT"));
            }
        }
        Ok(EtcdConfig {
            endpoints,
            prefix: DEFAULT_PREFIX.to_string(),
            ca: None,
            leader_lease: None,
        })
    }

    /// `etcd://a:1,b:2 (prefix /strata/, TLS)` for logs.
    pub fn describe(&self) -> String {
        format!(
            "etcd://{} (prefix {}{})",
            self.endpoints.join(","),
            self.prefix,
            if self.ca.is_some() { ", TLS" } else { "" }
        )
    }

    pub(crate) fn prefix_bytes(&self) -> Vec<u8> {
        let mut p = self.prefix.clone().into_bytes();
        if !p.ends_with(b"/") {
            p.push(b'/');
        }
        p
    }
}

/// The first key after every key starting with `prefix` (etcd's range end).
pub(crate) fn range_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // All 0xff: to the end of the keyspace.
    vec![0]
}

fn etcd_err(cfg: &EtcdConfig) -> impl Fn(String) -> StoreError + '_ {
    move |e| StoreError::Write(format!("{}: {e}", cfg.describe()))
}

/// A channel balanced over the members, with TLS when a CA is given.
pub async fn channel(cfg: &EtcdConfig) -> Result<Channel, StoreError> {
    let tls = match &cfg.ca {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
            Some(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))
        }
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut endpoints = Vec::new();
    for e in &cfg.endpoints {
        let mut ep = Endpoint::from_shared(format!("{scheme}://{e}"))
            .map_err(|err| etcd_err(cfg)(format!("endpoint {e}: {err}")))?
            .connect_timeout(CALL_TIMEOUT)
            .timeout(CALL_TIMEOUT);
        if let Some(tls) = &tls {
            ep = ep
                .tls_config(tls.clone())
                .map_err(|err| etcd_err(cfg)(format!("TLS for {e}: {err}")))?;
        }
        endpoints.push(ep);
    }
    Ok(Channel::balance_list(endpoints.into_iter()))
}

pub(crate) fn kv(channel: Channel) -> KvClient<Channel> {
    KvClient::new(channel)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE)
}

fn watermark(next_id: u64, revision: u64) -> Entry {
    Entry {
        next_id,
        op: Some(Op::Removed(Removed {
            kind: Kind::Unspecified as i32,
            id: String::new(),
            revision,
        })),
    }
}

fn object_key(prefix: &[u8], key: &Key) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(format!("obj/{}/{}", key.0, key.1).as_bytes());
    k
}

pub(crate) fn leader_key(prefix: &[u8]) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(b"leader");
    k
}

fn head_key(prefix: &[u8]) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(b"head");
    k
}

/// What the store last committed (or loaded): the writer's view of `head`.
#[derive(Debug, Clone, Copy, Default)]
struct Head {
    /// `head`'s mod revision (0: no state under the prefix yet).
    mod_revision: i64,
    next_id: u64,
    revision: u64,
}

/// Reads the state under the prefix at one etcd revision, and that
/// revision: what a replica follower replays (see `replica::mirror`).
pub async fn snapshot(
    kv: &mut KvClient<Channel>,
    cfg: &EtcdConfig,
) -> Result<(Replayed, i64), StoreError> {
    let (replayed, _, at) = load(kv, cfg).await?;
    Ok((replayed, at))
}

/// Reads everything under the prefix at one etcd revision.
async fn load(
    kv: &mut KvClient<Channel>,
    cfg: &EtcdConfig,
) -> Result<(Replayed, Head, i64), StoreError> {
    let prefix = cfg.prefix_bytes();
    let end = range_end(&prefix);
    let head_key = head_key(&prefix);
    let mut objects_prefix = prefix.clone();
    objects_prefix.extend_from_slice(b"obj/");
    let mut from = prefix.clone();
    let mut at = 0i64;
    let mut head = Head::default();
    let mut objects: Vec<(i64, Entry)> = Vec::new();
    loop {
        let resp = kv
            .range(RangeRequest {
                key: from.clone(),
                range_end: end.clone(),
                limit: PAGE,
                revision: at,
                ..Default::default()
            })
            .await
            .map_err(|s| etcd_err(cfg)(format!("cannot read the store: {}", s.message())))?
            .into_inner();
        if at == 0 {
            at = resp.header.as_ref().map_or(0, |h| h.revision);
        }
        for kvp in &resp.kvs {
            let decode = |what: &str| {
                Entry::decode(kvp.value.as_slice()).map_err(|e| StoreError::Decode {
                    index: objects.len(),
                    error: format!("{what} {}: {e}", String::from_utf8_lossy(&kvp.key)),
                })
            };
            if kvp.key == head_key {
                let e = decode("key")?;
                head.mod_revision = kvp.mod_revision;
                head.next_id = head.next_id.max(e.next_id);
                head.revision = head.revision.max(revision_of(&e));
            } else if kvp.key.starts_with(&objects_prefix) {
                let e = decode("object")?;
                head.next_id = head.next_id.max(e.next_id);
                head.revision = head.revision.max(revision_of(&e));
                objects.push((kvp.create_revision, e));
            }
        }
        match resp.kvs.last() {
            Some(last) if resp.more => {
                from = last.key.clone();
                from.push(0);
            }
            _ => break,
        }
    }
    objects.sort_by_key(|(created, _)| *created);
    let mut replayed = Replayed {
        next_id: head.next_id,
        revision: head.revision,
        ..Default::default()
    };
    replayed.recovery.frames = objects.len();
    replayed.entries = objects.into_iter().map(|(_, e)| e).collect();
    Ok((replayed, head, at))
}

/// Takes a term: a write to `term` under the prefix, whose revision (etcd's
/// cluster-wide, ever-growing counter) is the term.
async fn take_term(kv: &mut KvClient<Channel>, cfg: &EtcdConfig) -> Result<i64, StoreError> {
    let mut key = cfg.prefix_bytes();
    key.extend_from_slice(b"term");
    let value = format!(
        "pid {} at {} ns",
        std::process::id(),
        crate::controller::events::now_ns()
    );
    let resp = kv
        .put(PutRequest {
            key,
            value: value.into_bytes(),
            ..Default::default()
        })
        .await
        .map_err(|s| etcd_err(cfg)(format!("cannot take a term: {}", s.message())))?
        .into_inner();
    resp.header
        .map(|h| h.revision)
        .filter(|r| *r > 0)
        .ok_or_else(|| etcd_err(cfg)("the term write returned no revision".into()))
}

struct Command {
    entries: Vec<Entry>,
    done: Option<tokio::sync::oneshot::Sender<Result<(), String>>>,
}

/// The store on etcd. Commits go through one writer task, in order.
pub struct EtcdStore {
    config: EtcdConfig,
    /// The etcd revision of this controller's term (see `open`).
    term: i64,
    stats: Arc<Stats>,
    tx: Mutex<Option<tokio::sync::mpsc::UnboundedSender<Command>>>,
}

impl EtcdStore {
    /// Connects, loads the state under the prefix, and starts the writer.
    pub async fn open(config: &EtcdConfig) -> Result<(EtcdStore, Replayed), StoreError> {
        let mut client = kv(channel(config).await?);
        let (replayed, head, _) = load(&mut client, config).await?;
        let term = take_term(&mut client, config).await?;
        let stats = Arc::new(Stats::default());
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let writer = Writer {
            kv: client,
            prefix: config.prefix_bytes(),
            head,
            stats: stats.clone(),
            describe: config.describe(),
            leader_lease: config.leader_lease,
        };
        tokio::spawn(writer.run(rx));
        Ok((
            EtcdStore {
                config: config.clone(),
                term,
                stats,
                tx: Mutex::new(Some(tx)),
            },
            replayed,
        ))
    }

    pub fn config(&self) -> &EtcdConfig {
        &self.config
    }

    /// This controller's term: an etcd revision, greater than that of every
    /// controller that opened the prefix before it. Devices are fenced with
    /// it (the master-arbitration election id), so once this controller has
    /// written to a device, an older one is refused there.
    pub fn term(&self) -> i64 {
        self.term
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    fn send(
        &self,
        entries: &[Entry],
        done: Option<tokio::sync::oneshot::Sender<Result<(), String>>>,
    ) -> Result<(), StoreError> {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        tx.as_ref()
            .ok_or(StoreError::Closed)?
            .send(Command {
                entries: entries.to_vec(),
                done,
            })
            .map_err(|_| StoreError::Closed)
    }

    /// Commits `entries` in one transaction; returns once etcd has.
    pub async fn commit(&self, entries: &[Entry]) -> Result<(), StoreError> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.send(entries, Some(done))?;
        wait.await
            .map_err(|_| StoreError::Closed)?
            .map_err(StoreError::Write)
    }

    /// Queues `entries` without waiting (committed in order).
    pub fn record(&self, entries: &[Entry]) -> Result<(), StoreError> {
        self.send(entries, None)
    }

    /// Stops taking entries; the writer finishes what is queued (await a
    /// `commit(&[])` first to wait for that).
    pub fn close(&self) {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

struct Writer {
    kv: KvClient<Channel>,
    prefix: Vec<u8>,
    head: Head,
    stats: Arc<Stats>,
    describe: String,
    leader_lease: Option<i64>,
}

impl Writer {
    async fn run(mut self, mut rx: tokio::sync::mpsc::UnboundedReceiver<Command>) {
        while let Some(cmd) = rx.recv().await {
            let result = self.commit(&cmd.entries).await;
            if let Err(e) = &result {
                tracing::error!(store = %self.describe, error = %e, "etcd commit refused");
            }
            if let Some(done) = cmd.done {
                let _ = done.send(result);
            }
        }
    }

    async fn commit(&mut self, entries: &[Entry]) -> Result<(), String> {
        let mut ops = Vec::with_capacity(entries.len() + 1);
        let (mut next_id, mut revision) = (self.head.next_id, self.head.revision);
        for e in entries {
            let Some((key, put)) = key_of(e) else {
                continue;
            };
            next_id = next_id.max(e.next_id);
            revision = revision.max(revision_of(e));
            let key = object_key(&self.prefix, &key);
            ops.push(RequestOp {
                request: Some(if put {
                    request_op::Request::RequestPut(PutRequest {
                        key,
                        value: e.encode_to_vec(),
                        ..Default::default()
                    })
                } else {
                    request_op::Request::RequestDeleteRange(DeleteRangeRequest {
                        key,
                        ..Default::default()
                    })
                }),
            });
        }
        if ops.is_empty() {
            // Nothing to write (or a barrier behind queued records).
            return Ok(());
        }
        let head = head_key(&self.prefix);
        ops.push(RequestOp {
            request: Some(request_op::Request::RequestPut(PutRequest {
                key: head.clone(),
                value: watermark(next_id, revision).encode_to_vec(),
                ..Default::default()
            })),
        });
        let mut compare = vec![Compare {
            result: compare::CompareResult::Equal as i32,
            target: compare::CompareTarget::Mod as i32,
            key: head.clone(),
            target_union: Some(compare::TargetUnion::ModRevision(self.head.mod_revision)),
        }];
        let mut failure = vec![RequestOp {
            request: Some(request_op::Request::RequestRange(RangeRequest {
                key: head,
                ..Default::default()
            })),
        }];
        if let Some(lease) = self.leader_lease {
            let key = leader_key(&self.prefix);
            compare.push(Compare {
                result: compare::CompareResult::Equal as i32,
                target: compare::CompareTarget::Lease as i32,
                key: key.clone(),
                target_union: Some(compare::TargetUnion::Lease(lease)),
            });
            failure.push(RequestOp {
                request: Some(request_op::Request::RequestRange(RangeRequest {
                    key,
                    ..Default::default()
                })),
            });
        }
        let txn = TxnRequest {
            compare,
            success: ops,
            failure,
        };
        let resp = tokio::time::timeout(CALL_TIMEOUT, self.kv.txn(txn))
            .await
            .map_err(|_| format!("{}: no answer within {CALL_TIMEOUT:?}", self.describe))?
            .map_err(|s| format!("{}: {}", self.describe, s.message()))?
            .into_inner();
        if !resp.succeeded {
            if let Some(lease) = self.leader_lease {
                let holder = resp.responses.get(1).and_then(|r| match &r.response {
                    Some(crate::proto::etcd::response_op::Response::ResponseRange(r)) => {
                        Some(r.kvs.first().map_or(0, |kv| kv.lease))
                    }
                    _ => None,
                });
                if holder.is_some_and(|h| h != lease) {
                    return Err(format!(
                        "this replica no longer leads at {} (its lease lapsed and the leader key \
                         is gone or another's): its write was refused",
                        self.describe
                    ));
                }
            }
            let theirs = resp
                .responses
                .first()
                .and_then(|r| match &r.response {
                    Some(crate::proto::etcd::response_op::Response::ResponseRange(r)) => {
                        r.kvs.first().map(|kv| kv.mod_revision)
                    }
                    _ => None,
                })
                .unwrap_or(0);
            return Err(format!(
                "another writer changed the store at {} (its state is at etcd revision {theirs}, \
                 this controller last saw {}): this controller's view is stale, so its write was refused",
                self.describe, self.head.mod_revision
            ));
        }
        self.head = Head {
            mod_revision: resp.header.as_ref().map_or(0, |h| h.revision),
            next_id,
            revision,
        };
        self.stats.syncs.fetch_add(1, Relaxed);
        self.stats.entries.fetch_add(entries.len() as u64, Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_parse_or_name_the_problem() {
        let c = EtcdConfig::parse("etcd://10.0.0.1:2379,etcd-b:2379").unwrap();
        assert_eq!(c.endpoints, vec!["10.0.0.1:2379", "etcd-b:2379"]);
        assert_eq!(c.prefix, DEFAULT_PREFIX);
        let e = EtcdConfig::parse("/var/lib/strata").unwrap_err();
        assert!(e.contains("etcd://HOST:PORT"), "{e}");
        let e = EtcdConfig::parse("etcd://a:2379,b").unwrap_err();
        assert!(e.contains("\"b\" is not HOST:PORT"), "{e}");
        let e = EtcdConfig::parse("etcd://a:0").unwrap_err();
        assert!(e.contains("\"a:0\""), "{e}");
    }

    #[test]
    fn the_range_end_covers_exactly_the_prefix() {
        assert_eq!(range_end(b"/strata/"), b"/strata0".to_vec());
        assert_eq!(range_end(b"a\xff"), b"b".to_vec());
        assert_eq!(range_end(b"\xff"), vec![0]);
    }
}
