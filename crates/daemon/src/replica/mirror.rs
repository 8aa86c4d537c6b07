//! A follower's hot copy of the state: it watches the store's prefix and,
//! whenever a commit lands, reads the state at one revision and replays it
//! into its controller (`Controller::reload`: the replay start-up uses, on a
//! fresh fabric swapped in under the lock), so Get/List/Watch on a follower
//! answer what the leader committed, one replay behind it (README "Replicas"
//! has the measured lag).
//!
//! Each catch-up replays the whole state rather than the changed keys: the
//! replay is the one code path that turns entries into reservations, pools
//! and indexes, and applying a change on top of a live fabric would need a
//! second, inverse one for every kind. Commits that land while a replay
//! runs are folded into the next one.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;

use crate::controller::Controller;
use crate::proto::etcd::{watch_request, WatchCreateRequest, WatchRequest};
use crate::store::etcd::{self, EtcdConfig};

/// After a broken watch or a failed read, wait this long before the next.
const RETRY: Duration = Duration::from_millis(200);

/// Keeps `controller` at what etcd holds under the prefix from `revision`
/// on, until `halted`.
pub async fn follow(
    controller: Arc<Controller>,
    cfg: EtcdConfig,
    mut revision: i64,
    mut halted: tokio::sync::watch::Receiver<bool>,
) {
    let prefix = cfg.prefix_bytes();
    let mut objects = prefix.clone();
    objects.extend_from_slice(b"obj/");
    let mut head = prefix.clone();
    head.extend_from_slice(b"head");
    let mut stale = false;
    loop {
        if *halted.borrow() {
            return;
        }
        let work = async {
            let channel = match etcd::channel(&cfg).await {
                Ok(c) => c,
                Err(e) => return Err(e.to_string()),
            };
            let mut kv = etcd::kv(channel.clone());
            if stale {
                revision = catch_up(&controller, &mut kv, &cfg).await?;
            }
            let request = WatchRequest {
                request_union: Some(watch_request::RequestUnion::CreateRequest(
                    WatchCreateRequest {
                        key: prefix.clone(),
                        range_end: etcd::range_end(&prefix),
                        start_revision: revision + 1,
                        ..Default::default()
                    },
                )),
            };
            let requests = futures::stream::iter([request]).chain(futures::stream::pending());
            let mut stream = crate::proto::etcd::watch_client::WatchClient::new(channel)
                .watch(requests)
                .await
                .map_err(|s| s.message().to_string())?
                .into_inner();
            loop {
                let resp = stream
                    .message()
                    .await
                    .map_err(|s| s.message().to_string())?
                    .ok_or("the watch ended")?;
                if resp.canceled || resp.compact_revision > 0 {
                    return Err(format!("the watch was cancelled: {}", resp.cancel_reason));
                }
                let relevant = resp
                    .events
                    .iter()
                    .filter_map(|e| e.kv.as_ref())
                    .any(|kv| kv.key.starts_with(&objects) || kv.key == head);
                // Events the last replay already read are skipped: that is
                // how commits landing during a replay fold into it.
                let seen = resp
                    .events
                    .iter()
                    .filter_map(|e| e.kv.as_ref())
                    .map(|kv| kv.mod_revision)
                    .max()
                    .unwrap_or(0);
                if relevant && seen > revision {
                    revision = catch_up(&controller, &mut kv, &cfg).await?.max(revision);
                }
            }
        };
        let outcome: Result<(), String> = tokio::select! {
            r = work => r,
            _ = halted.changed() => return,
        };
        if let Err(e) = outcome {
            tracing::warn!(store = %cfg.describe(), error = %e, "replica mirror: catching up again");
        }
        stale = true;
        tokio::select! {
            _ = tokio::time::sleep(RETRY) => {}
            _ = halted.changed() => return,
        }
    }
}

async fn catch_up(
    controller: &Controller,
    kv: &mut crate::proto::etcd::kv_client::KvClient<tonic::transport::Channel>,
    cfg: &EtcdConfig,
) -> Result<i64, String> {
    let (replayed, at) = etcd::snapshot(kv, cfg).await.map_err(|e| e.to_string())?;
    controller.reload(&replayed)?;
    Ok(at)
}
