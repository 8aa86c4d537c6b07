//! Leader election on etcd: a lease kept alive by this replica, and a key
//! (`<prefix>leader`) that only one lease can hold at a time.
//!
//! Winning is one transaction — *if `leader` does not exist, put it bound to
//! our lease* — so two replicas can never both win. The key dies with the
//! lease: a leader that stops renewing (killed, cut off) loses it after the
//! TTL and etcd deletes the key, which the other replicas watch for.
//!
//! A leader must stop acting *before* anyone else can win. The lease's
//! deadline as this replica computes it — the send time of the last renewal
//! etcd acknowledged, plus the TTL etcd granted — is never later than the
//! deadline etcd applies (etcd starts its clock when the renewal arrives,
//! after we sent it), so stepping down at our deadline is stepping down
//! before the key can be deleted and taken.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use tonic::transport::Channel;

use crate::proto::etcd::{
    compare, kv_client::KvClient, lease_client::LeaseClient, request_op, response_op,
    watch_client::WatchClient, watch_request, Compare, LeaseGrantRequest, LeaseKeepAliveRequest,
    LeaseRevokeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest, WatchCreateRequest,
    WatchRequest,
};
use crate::store::etcd::EtcdConfig;

/// One etcd call's bound: an election step that cannot reach etcd this fast
/// is retried rather than waited on.
const CALL: Duration = Duration::from_secs(2);

/// Who leads, as the leader key says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leader {
    pub id: String,
    /// Where its northbound API is reached (`--advertise`).
    pub address: String,
}

impl Leader {
    fn encode(&self) -> Vec<u8> {
        format!("{}\n{}", self.id, self.address).into_bytes()
    }

    fn decode(bytes: &[u8]) -> Leader {
        let text = String::from_utf8_lossy(bytes);
        match text.split_once('\n') {
            Some((id, address)) => Leader {
                id: id.to_string(),
                address: address.to_string(),
            },
            None => Leader {
                id: text.to_string(),
                address: String::new(),
            },
        }
    }
}

/// What a campaign step found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// We hold the leader key; `revision` is the etcd revision that made it.
    Won { revision: i64 },
    /// Someone else does (at etcd revision `revision`).
    Held { leader: Leader, revision: i64 },
}

fn err(cfg: &EtcdConfig, what: &str, s: impl std::fmt::Display) -> String {
    format!("{} {what}: {s}", cfg.describe())
}

/// A campaigner for one replica.
pub struct Elector {
    cfg: EtcdConfig,
    me: Leader,
    ttl: Duration,
    kv: KvClient<Channel>,
    leases: LeaseClient<Channel>,
    watch: WatchClient<Channel>,
}

/// A lease this replica keeps alive; `lost` turns true, for good, once it
/// can no longer be sure the lease lives (see the module notes).
pub struct Lease {
    pub id: i64,
    /// The TTL etcd granted (it may raise what was asked to its minimum).
    pub ttl: Duration,
    lost: tokio::sync::watch::Receiver<bool>,
    deadline: Arc<Mutex<Instant>>,
    keeper: tokio::task::JoinHandle<()>,
}

impl Lease {
    /// Resolves once the lease is lost (immediately if it already is).
    pub async fn lost(&self) {
        let mut lost = self.lost.clone();
        let _ = lost.wait_for(|l| *l).await;
    }

    /// Resolves once the lease is lost, without borrowing it (for a task
    /// of its own).
    pub fn lost_signal(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut lost = self.lost.clone();
        async move {
            let _ = lost.wait_for(|l| *l).await;
        }
    }

    pub fn is_lost(&self) -> bool {
        *self.lost.borrow()
    }

    /// How long the lease is sure to live from now (zero once lost).
    pub fn remaining(&self) -> Duration {
        let deadline = *self.deadline.lock().unwrap_or_else(|e| e.into_inner());
        deadline.saturating_duration_since(Instant::now())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.keeper.abort();
    }
}

impl Elector {
    pub async fn connect(cfg: &EtcdConfig, me: Leader, ttl: Duration) -> Result<Elector, String> {
        let channel = crate::store::etcd::channel(cfg)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Elector {
            cfg: cfg.clone(),
            me,
            ttl,
            kv: crate::store::etcd::kv(channel.clone()),
            leases: LeaseClient::new(channel.clone()),
            watch: WatchClient::new(channel),
        })
    }

    pub fn me(&self) -> &Leader {
        &self.me
    }

    fn leader_key(&self) -> Vec<u8> {
        crate::store::etcd::leader_key(&self.cfg.prefix_bytes())
    }

    /// Grants a lease and keeps it alive at a third of its TTL.
    pub async fn grant(&self) -> Result<Lease, String> {
        let secs = self.ttl.as_secs_f64().ceil().max(1.0) as i64;
        let asked = Instant::now();
        let granted = tokio::time::timeout(
            CALL,
            self.leases
                .clone()
                .lease_grant(LeaseGrantRequest { ttl: secs, id: 0 }),
        )
        .await
        .map_err(|_| err(&self.cfg, "lease grant", "no answer"))?
        .map_err(|s| err(&self.cfg, "lease grant", s.message()))?
        .into_inner();
        if !granted.error.is_empty() || granted.id == 0 || granted.ttl <= 0 {
            return Err(err(&self.cfg, "lease grant", granted.error));
        }
        let ttl = Duration::from_secs(granted.ttl as u64);
        let deadline = Arc::new(Mutex::new(asked + ttl - margin(ttl)));
        let (lost_tx, lost) = tokio::sync::watch::channel(false);
        let keeper = tokio::spawn(keep_alive(
            self.leases.clone(),
            granted.id,
            ttl,
            deadline.clone(),
            lost_tx,
        ));
        Ok(Lease {
            id: granted.id,
            ttl,
            lost,
            deadline,
            keeper,
        })
    }

    /// Gives the lease back (a graceful stop): the leader key goes with it
    /// at once, so another replica need not wait out the TTL.
    pub async fn revoke(&self, lease: &Lease) {
        let _ = tokio::time::timeout(
            CALL,
            self.leases
                .clone()
                .lease_revoke(LeaseRevokeRequest { id: lease.id }),
        )
        .await;
    }

    /// One campaign step: takes the leader key if nobody holds it.
    pub async fn try_win(&self, lease: &Lease) -> Result<Outcome, String> {
        let key = self.leader_key();
        let txn = TxnRequest {
            compare: vec![Compare {
                result: compare::CompareResult::Equal as i32,
                target: compare::CompareTarget::Create as i32,
                key: key.clone(),
                target_union: Some(compare::TargetUnion::CreateRevision(0)),
            }],
            success: vec![RequestOp {
                request: Some(request_op::Request::RequestPut(PutRequest {
                    key: key.clone(),
                    value: self.me.encode(),
                    lease: lease.id,
                    ..Default::default()
                })),
            }],
            failure: vec![RequestOp {
                request: Some(request_op::Request::RequestRange(RangeRequest {
                    key,
                    ..Default::default()
                })),
            }],
        };
        let resp = tokio::time::timeout(CALL, self.kv.clone().txn(txn))
            .await
            .map_err(|_| err(&self.cfg, "campaign", "no answer"))?
            .map_err(|s| err(&self.cfg, "campaign", s.message()))?
            .into_inner();
        let revision = resp.header.as_ref().map_or(0, |h| h.revision);
        if resp.succeeded {
            return Ok(Outcome::Won { revision });
        }
        let held = resp.responses.first().and_then(|r| match &r.response {
            Some(response_op::Response::ResponseRange(r)) => r.kvs.first().cloned(),
            _ => None,
        });
        match held {
            Some(kv) if kv.lease == lease.id => Ok(Outcome::Won {
                revision: kv.create_revision,
            }),
            Some(kv) => Ok(Outcome::Held {
                leader: Leader::decode(&kv.value),
                revision,
            }),
            // Deleted between the compare and the read: none of ours.
            None => Ok(Outcome::Held {
                leader: Leader {
                    id: String::new(),
                    address: String::new(),
                },
                revision,
            }),
        }
    }

    /// Waits until the leader key changes after `revision` (deleted, or
    /// taken by someone), or `patience` passes.
    pub async fn wait_change(&self, revision: i64, patience: Duration) {
        let request = WatchRequest {
            request_union: Some(watch_request::RequestUnion::CreateRequest(
                WatchCreateRequest {
                    key: self.leader_key(),
                    start_revision: revision + 1,
                    ..Default::default()
                },
            )),
        };
        // The request stream stays open: etcd ends a watch whose client
        // half-closes.
        let requests = futures::stream::iter([request]).chain(futures::stream::pending());
        let wait = async {
            if let Ok(stream) = self.watch.clone().watch(requests).await {
                let mut stream = stream.into_inner();
                while let Ok(Some(resp)) = stream.message().await {
                    if !resp.events.is_empty() || resp.canceled {
                        return;
                    }
                }
            }
            // A watch that cannot be had is waited out, not retried at
            // once: the campaign would spin on the key otherwise.
            std::future::pending::<()>().await
        };
        let _ = tokio::time::timeout(patience, wait).await;
    }
}

use futures::StreamExt as _;

/// Stepping down takes a moment (the next poll of the runtime, the gate
/// flipping): it begins this much before the lease could lapse.
fn margin(ttl: Duration) -> Duration {
    (ttl / 10).min(Duration::from_millis(100))
}

/// Renews the lease every third of its TTL over one keep-alive stream
/// (reopened when it breaks), moving the deadline on each acknowledgement;
/// declares it lost when the deadline passes or etcd says it is gone.
async fn keep_alive(
    leases: LeaseClient<Channel>,
    id: i64,
    ttl: Duration,
    deadline: Arc<Mutex<Instant>>,
    lost: tokio::sync::watch::Sender<bool>,
) {
    let every = ttl / 3;
    let margin = margin(ttl);
    let current = || *deadline.lock().unwrap_or_else(|e| e.into_inner());
    'reopen: loop {
        let (tx, rx) = tokio::sync::mpsc::channel::<LeaseKeepAliveRequest>(4);
        // Queued before the call: etcd sends the stream's headers with its
        // first answer, so the call does not return until a renewal is out.
        let mut sent = Instant::now();
        if tx.try_send(LeaseKeepAliveRequest { id }).is_err() {
            break 'reopen;
        }
        let mut client = leases.clone();
        let opened = tokio::select! {
            r = client.lease_keep_alive(tokio_stream::wrappers::ReceiverStream::new(rx)) => r,
            _ = tokio::time::sleep_until(current()) => break 'reopen,
        };
        let Ok(stream) = opened else {
            tokio::select! {
                _ = tokio::time::sleep(every / 2) => continue 'reopen,
                _ = tokio::time::sleep_until(current()) => break 'reopen,
            }
        };
        let mut stream = stream.into_inner();
        loop {
            let answer = tokio::select! {
                a = stream.message() => a,
                _ = tokio::time::sleep_until(current()) => break 'reopen,
            };
            match answer {
                Ok(Some(r)) if r.ttl > 0 => {
                    let mut d = deadline.lock().unwrap_or_else(|e| e.into_inner());
                    *d = (*d).max(sent + Duration::from_secs(r.ttl as u64) - margin);
                }
                // etcd no longer knows the lease: it expired or was revoked.
                Ok(Some(_)) => break 'reopen,
                Ok(None) | Err(_) => continue 'reopen,
            }
            tokio::select! {
                _ = tokio::time::sleep_until(sent + every) => {}
                _ = tokio::time::sleep_until(current()) => break 'reopen,
            }
            sent = Instant::now();
            if tx.send(LeaseKeepAliveRequest { id }).await.is_err() {
                continue 'reopen;
            }
        }
    }
    *deadline.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    let _ = lost.send(true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::strata::store::v1::{entry::Op, Entry, Kind, Removed};

    fn me(id: &str) -> Leader {
        Leader {
            id: id.into(),
            address: format!("127.0.0.1:{}", id.len()),
        }
    }

    fn removal(id: &str) -> Entry {
        Entry {
            next_id: 1,
            op: Some(Op::Removed(Removed {
                kind: Kind::Policy as i32,
                id: id.into(),
                revision: 1,
            })),
        }
    }

    /// One key, one winner; the loser learns who leads; a leader whose
    /// lease is gone can no longer commit, and the next one wins at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_lease_wins_and_a_lapsed_leader_cannot_commit() {
        let Some(etcd) = crate::store::etcd_server::for_test("replica election").await else {
            return;
        };
        let cfg = etcd.config_with_prefix("/election/");
        let ttl = Duration::from_secs(1);
        let a = Elector::connect(&cfg, me("a"), ttl).await.unwrap();
        let b = Elector::connect(&cfg, me("bb"), ttl).await.unwrap();
        let (la, lb) = (a.grant().await.unwrap(), b.grant().await.unwrap());
        assert_eq!(la.ttl, ttl);
        assert!(matches!(a.try_win(&la).await.unwrap(), Outcome::Won { .. }));
        // Winning again with the same lease is still ours (a retried step).
        assert!(matches!(a.try_win(&la).await.unwrap(), Outcome::Won { .. }));
        match b.try_win(&lb).await.unwrap() {
            Outcome::Held { leader, .. } => assert_eq!(leader, me("a")),
            other => panic!("b won too: {other:?}"),
        }
        // Renewals keep the lease well past its TTL.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(!la.is_lost() && la.remaining() > Duration::ZERO);

        let guarded = EtcdConfig {
            leader_lease: Some(la.id),
            ..cfg.clone()
        };
        let (store, _) = crate::store::Store::open_etcd(&guarded).await.unwrap();
        store.commit(&[removal("p-1")]).await.unwrap();

        a.revoke(&la).await;
        assert!(matches!(b.try_win(&lb).await.unwrap(), Outcome::Won { .. }));
        let e = store.commit(&[removal("p-2")]).await.unwrap_err();
        assert!(e.to_string().contains("no longer leads"), "{e}");
        // And a lease nobody renews is lost on time.
        let lc = a.grant().await.unwrap();
        drop(lb);
        let started = Instant::now();
        lc.keeper.abort();
        tokio::time::timeout(Duration::from_secs(3), async {
            while lc.remaining() > Duration::ZERO {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .unwrap();
        assert!(started.elapsed() <= ttl + Duration::from_millis(100));
    }

    #[test]
    fn the_leader_value_round_trips_and_tolerates_a_bare_id() {
        let l = Leader {
            id: "r1".into(),
            address: "127.0.0.1:50051".into(),
        };
        assert_eq!(Leader::decode(&l.encode()), l);
        assert_eq!(Leader::decode(b"r2").id, "r2");
    }
}
